"""The local runtime's search index: BM25 with fuzziness, cosine k-NN, filters, updates, persistence."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from talkshop.search.local_index import LocalSearchIndex, analyse
from talkshop.search.model import SearchDocument, SearchFilters


def document(product_id: str, **fields: Any) -> SearchDocument:
    values: dict[str, Any] = {
        "id": product_id,
        "name": product_id.replace("-", " "),
        "brand": "Vantaro",
        "category": "padel-rackets",
        "creator_id": "padelnest",
        "price": 5000,
        "currency": "EUR",
        "stock": 3,
        "rating": 4.0,
        "tags": [],
        "description": "",
        "ai_text": "",
        "embedding_text": product_id,
        "text_hash": f"hash-{product_id}",
    }
    values.update(fields)
    return SearchDocument.model_validate(values)


def unit(*components: float) -> np.ndarray:
    vector = np.array(components, dtype=np.float32)
    return vector / np.linalg.norm(vector)


@pytest.fixture
def index() -> LocalSearchIndex:
    built = LocalSearchIndex(dimension=3)
    built.upsert(
        [
            document("control-pro", description="A round racket for control and precision", rating=4.6),
            document(
                "power-max", name="Power Max", description="Diamond shape, hard core, pure power", price=18000
            ),
            document(
                "beginner-lite", ai_text="beginner friendly forgiving large sweet spot", price=4500, stock=0
            ),
            document(
                "tour-balls",
                name="Tour Balls",
                category="padel-balls",
                brand="Nordpala",
                price=599,
                tags=["pressurised"],
                rating=None,
            ),
        ],
        np.stack([unit(1, 0, 0), unit(0, 1, 0), unit(1, 1, 0), unit(0, 0, 1)]),
    )
    return built


def ids(hits: list[Any]) -> list[str]:
    return [hit.id for hit in hits]


def test_analyse_folds_drops_stop_words_and_plurals() -> None:
    assert analyse("The Rackets for Beginners, señor!") == ["racket", "beginner", "senor"]
    assert analyse("grass glass") == ["grass", "glass"]


def test_keyword_search_ranks_by_bm25_with_field_weights(index: LocalSearchIndex) -> None:
    hits = index.keyword_search("power racket", SearchFilters(), 10)
    assert ids(hits)[0] == "power-max"  # "power" in the name (weight 3) and description
    assert set(ids(hits)) == {"power-max", "control-pro", "beginner-lite"}  # all are rackets (category)
    assert hits[0].score > hits[1].score > 0


def test_keyword_search_tolerates_typos_like_fuzziness_auto(index: LocalSearchIndex) -> None:
    assert ids(index.keyword_search("beginer", SearchFilters(), 10)) == ["beginner-lite"]
    assert ids(index.keyword_search("precission", SearchFilters(), 10)) == ["control-pro"]
    assert index.keyword_search("xq", SearchFilters(), 10) == []  # too short for any edit


def test_vector_search_is_cosine_nearest_first(index: LocalSearchIndex) -> None:
    hits = index.vector_search(unit(1, 0.1, 0), SearchFilters(), 2)
    assert ids(hits) == ["control-pro", "beginner-lite"]
    assert hits[0].score == pytest.approx(float(unit(1, 0.1, 0) @ unit(1, 0, 0)), abs=1e-6)


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (SearchFilters(max_price=5000), {"control-pro", "beginner-lite", "tour-balls"}),
        (SearchFilters(min_price=5000, max_price=20000), {"control-pro", "power-max"}),
        (SearchFilters(in_stock=True), {"control-pro", "power-max", "tour-balls"}),
        (SearchFilters(in_stock=False), {"beginner-lite"}),
        (SearchFilters(min_rating=4.5), {"control-pro"}),
        (SearchFilters(category="padel-balls"), {"tour-balls"}),
        (SearchFilters(brand="nordpala"), {"tour-balls"}),
        (SearchFilters(creator_id="someone-else"), set()),
        (SearchFilters(tags=["Pressurised"]), {"tour-balls"}),
    ],
)
def test_both_searches_apply_every_filter(
    index: LocalSearchIndex, filters: SearchFilters, expected: set[str]
) -> None:
    assert set(ids(index.vector_search(unit(1, 1, 1), filters, 10))) == expected


def test_unrated_products_never_pass_a_rating_filter(index: LocalSearchIndex) -> None:
    assert "tour-balls" not in ids(index.vector_search(unit(0, 0, 1), SearchFilters(min_rating=0), 10))


def test_replacing_and_deleting_documents(index: LocalSearchIndex) -> None:
    index.upsert([document("power-max", name="Spin Master", description="spin")], np.stack([unit(0, 0, 1)]))
    assert index.keyword_search("power", SearchFilters(), 10) == []
    assert ids(index.keyword_search("spin", SearchFilters(), 10)) == ["power-max"]
    assert ids(index.vector_search(unit(0, 0, 1), SearchFilters(), 1)) in (["power-max"], ["tour-balls"])
    index.delete(["power-max", "not-there"])
    assert index.count() == 3
    assert index.keyword_search("spin", SearchFilters(), 10) == []
    assert "power-max" not in ids(index.vector_search(unit(0, 1, 0), SearchFilters(), 10))


def test_cached_vectors_only_for_unchanged_texts(index: LocalSearchIndex) -> None:
    cached = index.cached_vectors({"control-pro": "hash-control-pro", "power-max": "changed", "ghost": "x"})
    assert list(cached) == ["control-pro"]
    assert np.allclose(cached["control-pro"], unit(1, 0, 0))


def test_save_and_load_round_trip(index: LocalSearchIndex, tmp_path: Path) -> None:
    index.delete(["tour-balls"])
    index.save(tmp_path)
    loaded = LocalSearchIndex.load(tmp_path, dimension=3)
    assert loaded.count() == 3
    assert ids(loaded.keyword_search("power", SearchFilters(), 10)) == ids(
        index.keyword_search("power", SearchFilters(), 10)
    )
    assert ids(loaded.vector_search(unit(1, 1, 0), SearchFilters(), 3)) == ids(
        index.vector_search(unit(1, 1, 0), SearchFilters(), 3)
    )


def test_a_missing_or_broken_save_loads_empty(tmp_path: Path) -> None:
    assert LocalSearchIndex.load(tmp_path / "nothing", dimension=3).count() == 0
    (tmp_path / "documents.json").write_text("{not json")
    (tmp_path / "vectors.npy").write_bytes(b"garbage")
    assert LocalSearchIndex.load(tmp_path, dimension=3).count() == 0


def test_top_k_and_ties_are_deterministic() -> None:
    index = LocalSearchIndex(dimension=3)
    documents = [document(f"same-{number}", description="identical words") for number in range(30)]
    index.upsert(documents, np.stack([unit(1, 0, 0)] * 30))
    first = ids(index.keyword_search("identical", SearchFilters(), 5))
    assert first == ids(index.keyword_search("identical", SearchFilters(), 5))
    assert first == sorted(first)
    assert len(first) == 5
