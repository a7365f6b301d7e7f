"""talkshop.analytics.understanding: the AI understanding score of a product and its suggestions.

(tests/unit/test_understanding.py is the search's query understanding.)"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from importlib.resources import files
from typing import Any

from talkshop.analytics.understanding import understanding
from talkshop.catalog.model import Product

NOW = datetime(2026, 11, 24, tzinfo=UTC)
DESCRIPTION = (
    "A light round racket with a soft EVA core: easy power, a big sweet spot and little vibration, "
    "made for players in their first two years."
)


def product(**fields: Any) -> Product:
    base: dict[str, Any] = {
        "id": "aero-lite",
        "name": "Aero Lite",
        "brand": "Vantaro",
        "category": "padel-rackets",
        "creator_id": "padelnest",
        "price": 8995,
        "currency": "EUR",
        "version": 1,
        "created_at": NOW,
        "updated_at": NOW,
    }
    return Product(**{**base, **fields})


COMPLETE: dict[str, Any] = {
    "ai_description": DESCRIPTION,
    "ai_use_cases": ["first racket for club players", "weekly social doubles", "coaching sessions"],
    "ai_target_audience": ["beginners", "players with tennis elbow"],
    "ai_best_for": ["comfort and low vibration", "easy manoeuvrability at the net"],
    "ai_avoid_when": ["you want maximum smash power"],
    "ai_keywords": ["beginner", "light", "round", "comfort", "control"],
    "ai_comparison_points": {"power": "moderate", "control": "high", "weight": "light"},
    "ai_similar_products": ["fjord-round"],
}


def texts(found: Any) -> list[str]:
    return [s.text for s in found.suggestions]


def test_complete_metadata_scores_100_with_nothing_to_suggest() -> None:
    found = understanding(product(**COMPLETE), known_ids={"aero-lite", "fjord-round"})
    assert (found.score, found.grade, found.suggestions) == (100, "good", [])
    assert sum(found.points.values()) == 100


def test_empty_metadata_scores_0_and_says_what_to_write_for_each_field() -> None:
    found = understanding(product())
    assert (found.score, found.grade) == (0, "poor")
    assert "ai_avoid_when is empty: say who should not buy it" in texts(found)
    assert {s.field for s in found.suggestions} == {
        "ai_description",
        "ai_use_cases",
        "ai_target_audience",
        "ai_best_for",
        "ai_avoid_when",
        "ai_keywords",
        "ai_comparison_points",
        "ai_similar_products",
    }


def test_a_partly_filled_list_asks_for_the_missing_number_and_earns_in_proportion() -> None:
    found = understanding(product(**{**COMPLETE, "ai_use_cases": ["weekly social doubles"]}))
    assert "Add 2 more use cases" in texts(found)
    assert found.points["ai_use_cases"] == 5  # one of three: a third of 15
    one_short = understanding(product(**{**COMPLETE, "ai_keywords": ["a", "b", "c", "d"]}))
    assert "Add 1 more keyword" in texts(one_short)


def test_duplicates_count_once_and_single_words_count_half() -> None:
    duplicated = understanding(
        product(**{**COMPLETE, "ai_use_cases": ["Weekly doubles", "weekly doubles", "coaching sessions"]})
    )
    assert "Add 1 more use case" in texts(duplicated)
    assert "ai_use_cases repeats itself: remove 1 duplicate(s)" in texts(duplicated)
    vague = understanding(
        product(**{**COMPLETE, "ai_best_for": ["comfort", "easy manoeuvrability at the net"]})
    )
    assert vague.points["ai_best_for"] == 8  # 10, less half of one entry's 5
    assert any(text.startswith("ai_best_for: 1 best-for point of a single word") for text in texts(vague))


def test_audiences_may_be_one_word() -> None:
    found = understanding(product(**{**COMPLETE, "ai_target_audience": ["beginners", "juniors"]}))
    assert found.points["ai_target_audience"] == 10


def test_a_short_or_copied_description_is_pointed_out() -> None:
    short = understanding(product(**{**COMPLETE, "ai_description": "A light racket."}))
    assert short.points["ai_description"] == 2
    assert texts(short)[0].startswith("ai_description is short (15 characters)")
    copied = understanding(product(**{**COMPLETE, "description": DESCRIPTION.upper()}))
    assert copied.points["ai_description"] == 10
    assert "repeats the shop description" in texts(copied)[0]


def test_links_to_products_that_do_not_exist_lose_points() -> None:
    found = understanding(product(**COMPLETE), known_ids={"aero-lite"})
    assert found.points["links"] == 5
    assert "Linked products not in the catalog: fjord-round; fix or remove them" in texts(found)


def test_the_demo_catalog_is_well_understood() -> None:
    data = json.loads((files("talkshop") / "demo" / "catalog.json").read_text(encoding="utf-8"))
    ids = {item["id"] for item in data}
    scores = [understanding(product(**item), ids).score for item in data]
    assert min(scores) >= 80


def test_a_single_word_costs_nothing_when_enough_phrases_are_there_and_a_repeat_counts_once() -> None:
    """Three whole phrases fill the three use cases wanted: a fourth of one word is advice, not a loss;
    a one-word entry written twice is one vague entry, not two."""
    extra = understanding(product(**{**COMPLETE, "ai_use_cases": [*COMPLETE["ai_use_cases"], "padel"]}))
    assert extra.points["ai_use_cases"] == 15
    assert any(text.startswith("ai_use_cases: 1 use case of a single word") for text in texts(extra))
    repeated = understanding(
        product(**{**COMPLETE, "ai_best_for": ["comfort", "Comfort", "easy manoeuvrability at the net"]})
    )
    assert repeated.points["ai_best_for"] == 8  # as with "comfort" once: 10, less half of one entry's 5
    assert "ai_best_for repeats itself: remove 1 duplicate(s)" in texts(repeated)
