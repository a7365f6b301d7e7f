"""The pure parts of hybrid search: fusion, filter precedence, prices and explanations."""

from __future__ import annotations

import pytest

from talkshop.search.model import ScoredId, SearchFilters
from talkshop.search.service import (
    RRF_K,
    describe_filters,
    format_price,
    merge_filters,
    reciprocal_rank_fusion,
    score_blend,
)


def test_reciprocal_rank_fusion_rewards_agreement() -> None:
    keyword = [ScoredId("a", 12.0), ScoredId("b", 3.0)]
    semantic = [ScoredId("b", 0.9), ScoredId("c", 0.8)]
    fused = reciprocal_rank_fusion(keyword, semantic)
    assert fused["b"] == pytest.approx(1 / (RRF_K + 2) + 1 / (RRF_K + 1))
    assert fused["a"] == pytest.approx(1 / (RRF_K + 1))
    assert max(fused, key=fused.__getitem__) == "b"


def test_score_blend_scales_bm25_and_weights_the_legs() -> None:
    fused = score_blend(
        [ScoredId("a", 10.0), ScoredId("b", 5.0)], [ScoredId("b", 0.8), ScoredId("c", -0.2)], 0.3
    )
    assert fused["a"] == pytest.approx(0.3)
    assert fused["b"] == pytest.approx(0.3 * 0.5 + 0.7 * 0.8)
    assert fused["c"] == 0.0  # negative similarity counts as none
    assert score_blend([], [ScoredId("x", 0.5)]) == {"x": pytest.approx(0.35)}


def test_filters_sent_by_the_caller_win_over_those_read_from_the_text() -> None:
    understood = SearchFilters(max_price=8000, in_stock=True)
    merged = merge_filters(SearchFilters(max_price=12000, category="padel-rackets"), understood)
    assert merged == SearchFilters(max_price=12000, in_stock=True, category="padel-rackets")
    assert merge_filters(SearchFilters(), understood) == understood


@pytest.mark.parametrize(
    ("amount", "currency", "shown"),
    [(8000, "EUR", "€80.00"), (599, "USD", "$5.99"), (8995, "JPY", "8995 JPY"), (1050, "CHF", "10.50 CHF")],
)
def test_prices_are_shown_in_their_currencys_units(amount: int, currency: str, shown: str) -> None:
    assert format_price(amount, currency) == shown


def test_filters_are_described_for_the_shopper() -> None:
    filters = SearchFilters(min_price=5000, max_price=8000, in_stock=True, min_rating=4.5, brand="Vantaro")
    assert describe_filters(filters, "EUR") == [
        "price €50.00 to €80.00",
        "in stock",
        "rated 4.5+",
        "brand Vantaro",
    ]
    assert describe_filters(SearchFilters(min_price=100), "EUR") == ["price from €1.00"]
    assert describe_filters(SearchFilters(), "EUR") == []
