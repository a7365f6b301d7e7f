"""The in-process search index of the local runtime: BM25 + cosine k-NN + filters, like OpenSearch.

It answers the same two questions as the OpenSearch adapter, with the same semantics: keyword search
is BM25 over weighted text fields with AUTO fuzziness (a query word that matches nothing matches the
index words within 1 edit if it has 3-5 characters, 2 edits if longer), and vector search is exact
cosine similarity. Both return only documents that pass every filter.

Rows are stable: a document keeps its row for life, a deleted one is only marked dead, so the numpy
arrays (vectors, prices, stock, ratings) never move and filters are vectorised masks.
"""

from __future__ import annotations

import json
import math
import os
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from talkshop.search.model import ScoredId, SearchDocument, SearchFilters
from talkshop.text import words

F32 = npt.NDArray[np.float32]

# Field weights of the combined BM25 document, the same boosts the OpenSearch query uses.
FIELD_WEIGHTS = {"name": 3.0, "brand": 2.0, "category": 2.0, "ai_text": 1.5, "description": 1.0}
K1 = 1.2
B = 0.75
# English stop words that carry no meaning in a product query (kept short: "for", "with" are noise,
# "not" is not, it is simply left to the ranking).
STOP_WORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "for",
        "from",
        "has",
        "have",
        "i",
        "in",
        "is",
        "it",
        "its",
        "me",
        "my",
        "of",
        "on",
        "or",
        "our",
        "so",
        "that",
        "the",
        "this",
        "to",
        "was",
        "we",
        "with",
        "you",
        "your",
    ]
)


def analyse(text: str) -> list[str]:
    """Lowercased, accent-folded words without stop words, plural 's' removed (rackets -> racket)."""
    tokens = []
    for word in words(text):
        if word in STOP_WORDS:
            continue
        if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
            word = word[:-1]
        tokens.append(word)
    return tokens


def _allowed_edits(term: str) -> int:
    """OpenSearch's fuzziness AUTO: exact up to 2 characters, 1 edit up to 5, then 2."""
    if len(term) <= 2:
        return 0
    return 1 if len(term) <= 5 else 2


class LocalSearchIndex:
    """A :class:`talkshop.search.model.SearchIndex` held in memory and saved to one folder."""

    def __init__(self, dimension: int = 384) -> None:
        self.dimension = dimension
        self._lock = threading.RLock()
        self._documents: list[SearchDocument | None] = []
        self._rows: dict[str, int] = {}
        self._vectors: F32 = np.zeros((0, dimension), dtype=np.float32)
        self._alive = np.zeros(0, dtype=bool)
        self._price = np.zeros(0, dtype=np.int64)
        self._stock = np.zeros(0, dtype=np.int64)
        self._rating: npt.NDArray[np.float64] = np.zeros(0, dtype=np.float64)
        self._term_frequencies: list[dict[str, float]] = []
        self._lengths = np.zeros(0, dtype=np.float64)
        self._postings: dict[str, dict[int, float]] = {}
        self._compiled: dict[str, tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]] = {}
        # Fuzzy matches of words the index does not know: a scan of the whole vocabulary each, so
        # they are remembered until the next write changes the vocabulary.
        self._fuzzy: dict[str, list[str]] = {}

    # --- writes -------------------------------------------------------------------------------

    def upsert(self, documents: Sequence[SearchDocument], vectors: F32) -> None:
        if len(documents) != len(vectors):
            raise ValueError("one vector per document")
        with self._lock:
            for document, vector in zip(documents, vectors, strict=True):
                row = self._rows.get(document.id)
                if row is None:
                    row = self._append_row()
                    self._rows[document.id] = row
                else:
                    self._forget_terms(row)
                self._documents[row] = document
                self._vectors[row] = vector
                self._alive[row] = True
                self._price[row] = document.price
                self._stock[row] = document.stock
                self._rating[row] = math.nan if document.rating is None else float(document.rating)
                self._remember_terms(row, document)
            self._compiled.clear()
            self._fuzzy.clear()

    def delete(self, ids: Sequence[str]) -> None:
        with self._lock:
            for document_id in ids:
                row = self._rows.pop(document_id, None)
                if row is None:
                    continue
                self._forget_terms(row)
                self._documents[row] = None
                self._alive[row] = False
            self._compiled.clear()
            self._fuzzy.clear()

    def _append_row(self) -> int:
        row = len(self._documents)
        if row == len(self._alive):
            capacity = max(64, 2 * row)
            self._vectors = _grow(self._vectors, capacity)
            self._alive = _grow(self._alive, capacity)
            self._price = _grow(self._price, capacity)
            self._stock = _grow(self._stock, capacity)
            self._rating = _grow(self._rating, capacity)
            self._lengths = _grow(self._lengths, capacity)
        self._documents.append(None)
        self._term_frequencies.append({})
        return row

    def _remember_terms(self, row: int, document: SearchDocument) -> None:
        weighted: dict[str, float] = {}
        for field, text in document.keyword_fields.items():
            for term in analyse(text):
                weighted[term] = weighted.get(term, 0.0) + FIELD_WEIGHTS[field]
        self._term_frequencies[row] = weighted
        self._lengths[row] = sum(weighted.values())
        for term, frequency in weighted.items():
            self._postings.setdefault(term, {})[row] = frequency

    def _forget_terms(self, row: int) -> None:
        for term in self._term_frequencies[row]:
            postings = self._postings.get(term)
            if postings is not None:
                postings.pop(row, None)
                if not postings:
                    del self._postings[term]
        self._term_frequencies[row] = {}
        self._lengths[row] = 0.0

    # --- reads --------------------------------------------------------------------------------

    def count(self) -> int:
        return len(self._rows)

    def ids(self) -> list[str]:
        return list(self._rows)

    def brands(self) -> list[str]:
        with self._lock:
            return sorted({document.brand for document in self._documents if document is not None})

    def documents(self, ids: Sequence[str]) -> dict[str, SearchDocument]:
        with self._lock:
            rows = {document_id: self._rows.get(document_id) for document_id in ids}
            return {
                document_id: document
                for document_id, row in rows.items()
                if row is not None and (document := self._documents[row]) is not None
            }

    def cached_vectors(self, text_hashes: Mapping[str, str]) -> dict[str, F32]:
        cached: dict[str, F32] = {}
        with self._lock:
            for document_id, text_hash in text_hashes.items():
                row = self._rows.get(document_id)
                document = self._documents[row] if row is not None else None
                if row is not None and document is not None and document.text_hash == text_hash:
                    cached[document_id] = self._vectors[row].copy()
        return cached

    def keyword_search(self, text: str, filters: SearchFilters, k: int) -> list[ScoredId]:
        with self._lock:
            size = len(self._documents)
            scores = np.zeros(size, dtype=np.float64)
            alive = int(self._alive[:size].sum())
            if alive == 0:
                return []
            average_length = float(self._lengths[:size][self._alive[:size]].mean()) or 1.0
            for term in set(analyse(text)):
                for rows, frequencies in self._postings_of(term):
                    idf = math.log(1 + (alive - len(rows) + 0.5) / (len(rows) + 0.5))
                    norm = K1 * (1 - B + B * self._lengths[rows] / average_length)
                    np.add.at(scores, rows, idf * frequencies * (K1 + 1) / (frequencies + norm))
            mask = self._filter_mask(filters) & (scores > 0)
            return self._top(scores, mask, k)

    def vector_search(self, vector: F32, filters: SearchFilters, k: int) -> list[ScoredId]:
        with self._lock:
            size = len(self._documents)
            if size == 0:
                return []
            scores = (self._vectors[:size] @ vector.astype(np.float32)).astype(np.float64)
            return self._top(scores, self._filter_mask(filters), k)

    def _postings_of(self, term: str) -> list[tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]]:
        """The postings of a term, or of its fuzzy matches when the index does not know it."""
        if term in self._postings:
            return [self._compiled_postings(term)]
        matches = self._fuzzy.get(term)
        if matches is None:
            edits = _allowed_edits(term)
            found = (
                process.extract(
                    term, list(self._postings), scorer=Levenshtein.distance, score_cutoff=edits, limit=5
                )
                if edits
                else []
            )
            matches = self._fuzzy[term] = [match for match, _, _ in found]
        return [self._compiled_postings(match) for match in matches]

    def _compiled_postings(self, term: str) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
        compiled = self._compiled.get(term)
        if compiled is None:
            postings = self._postings[term]
            compiled = (
                np.fromiter(postings.keys(), dtype=np.int64, count=len(postings)),
                np.fromiter(postings.values(), dtype=np.float64, count=len(postings)),
            )
            self._compiled[term] = compiled
        return compiled

    def _filter_mask(self, filters: SearchFilters) -> npt.NDArray[np.bool_]:
        size = len(self._documents)
        mask = self._alive[:size].copy()
        if filters.min_price is not None:
            mask &= self._price[:size] >= filters.min_price
        if filters.max_price is not None:
            mask &= self._price[:size] <= filters.max_price
        if filters.in_stock:
            mask &= self._stock[:size] > 0
        elif filters.in_stock is False:
            mask &= self._stock[:size] == 0
        if filters.min_rating is not None:
            with np.errstate(invalid="ignore"):
                mask &= self._rating[:size] >= filters.min_rating  # NaN (unrated) never passes
        for row in np.flatnonzero(mask) if _needs_document_checks(filters) else ():
            document = self._documents[row]
            if document is None or not _passes_document_checks(document, filters):
                mask[row] = False
        return mask

    def _top(self, scores: npt.NDArray[np.float64], mask: npt.NDArray[np.bool_], k: int) -> list[ScoredId]:
        candidates = np.flatnonzero(mask)
        if len(candidates) == 0 or k <= 0:
            return []
        if len(candidates) > k:
            best = np.argpartition(-scores[candidates], k - 1)[:k]
            candidates = candidates[best]
        ordered = candidates[np.lexsort((candidates, -scores[candidates]))]
        results = []
        for row in ordered:
            document = self._documents[row]
            assert document is not None
            results.append(ScoredId(document.id, float(scores[row])))
        return results

    # --- persistence --------------------------------------------------------------------------

    def save(self, folder: Path) -> None:
        """Write the index to a folder atomically (a crash leaves the previous copy)."""
        with self._lock:
            folder.mkdir(parents=True, exist_ok=True)
            ids = list(self._rows)
            rows = [self._rows[document_id] for document_id in ids]
            documents = [self._documents[row] for row in rows]
            payload = [document.model_dump(mode="json") for document in documents if document is not None]
            vectors = self._vectors[rows] if rows else np.zeros((0, self.dimension), dtype=np.float32)
        _write_atomically(folder / "documents.json", json.dumps(payload).encode())
        temporary = folder / "vectors.tmp.npy"
        with temporary.open("wb") as handle:
            np.save(handle, vectors)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, folder / "vectors.npy")

    @classmethod
    def load(cls, folder: Path, dimension: int = 384) -> LocalSearchIndex:
        """The saved index, or an empty one when none was saved or the copy is unreadable."""
        index = cls(dimension)
        try:
            payload: list[dict[str, Any]] = json.loads((folder / "documents.json").read_text())
            vectors = np.load(folder / "vectors.npy")
        except (OSError, ValueError):
            return index
        if len(payload) == len(vectors) and (len(vectors) == 0 or vectors.shape[1] == dimension):
            index.upsert([SearchDocument.model_validate(item) for item in payload], vectors)
        return index


def _needs_document_checks(filters: SearchFilters) -> bool:
    return bool(filters.category or filters.brand or filters.creator_id or filters.tags)


def _passes_document_checks(document: SearchDocument, filters: SearchFilters) -> bool:
    if filters.category and document.category != filters.category:
        return False
    if filters.brand and document.brand.casefold() != filters.brand.casefold():
        return False
    if filters.creator_id and document.creator_id != filters.creator_id:
        return False
    return all(tag.casefold() in document.tags for tag in filters.tags)


def _grow(array: npt.NDArray[Any], capacity: int) -> npt.NDArray[Any]:
    grown = np.zeros((capacity, *array.shape[1:]), dtype=array.dtype)
    grown[: len(array)] = array
    return grown


def _write_atomically(path: Path, content: bytes) -> None:
    temporary = path.with_suffix(path.suffix + ".tmp")
    with temporary.open("wb") as handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


_shared: dict[Path, LocalSearchIndex] = {}
_shared_lock = threading.Lock()


def shared_index(folder: Path, dimension: int = 384) -> LocalSearchIndex:
    """The one index of this process for a folder: the runtime indexes into it, handlers search it.

    A saved index of another dimension (the embedding provider changed) loads empty and is rebuilt
    by the runtime's reconciliation at start."""
    key = folder.resolve()
    with _shared_lock:
        if key not in _shared or _shared[key].dimension != dimension:
            _shared[key] = LocalSearchIndex.load(key, dimension)
        return _shared[key]
