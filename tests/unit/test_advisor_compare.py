"""Comparison tables built from product data, with a pick for the shopper's profile."""

from __future__ import annotations

import pytest

from talkshop.advisor.compare import MISSING, compare, render
from talkshop.advisor.intents import Language
from talkshop.advisor.preferences import Budget, Preferences
from talkshop.search.demo_vectors import demo_products
from talkshop.search.service import format_price
from tests.unit.advisor_demo import NOW

BY_ID = {product.id: product for product in demo_products()}
BEGINNER = BY_ID["vantaro-aero-lite"]
PRO = BY_ID["vantaro-strike-pro-18k"]


def test_rows_hold_the_products_data_and_comparison_points() -> None:
    comparison = compare([BEGINNER, PRO], Preferences(), Language.EN, now=NOW)
    rows = {row.point: row.values for row in comparison.rows}
    assert comparison.product_ids == [BEGINNER.id, PRO.id]
    assert rows["Price"][BEGINNER.id].startswith(format_price(BEGINNER.price, BEGINNER.currency))
    assert rows["Price"][PRO.id].startswith(format_price(PRO.price, PRO.currency))
    assert rows["Weight"] == {BEGINNER.id: "345 g", PRO.id: "375 g"}
    assert rows["Level"] == {BEGINNER.id: "beginner", PRO.id: "pro"}
    assert rows["Rating"][BEGINNER.id] == f"4/5 ({len(BEGINNER.reviews)} reviews)"
    for point, text in BEGINNER.ai_comparison_points.items():
        if point in rows and point != "Price":
            assert rows[point][BEGINNER.id] == text
            assert rows[point][PRO.id] == PRO.ai_comparison_points.get(point, MISSING)


def test_the_pick_follows_the_shoppers_profile() -> None:
    beginner = compare([PRO, BEGINNER], Preferences(skill_level="beginner"), Language.EN, now=NOW)
    assert beginner.recommended_product_id == BEGINNER.id
    assert BEGINNER.name in beginner.recommendation
    pro = compare([BEGINNER, PRO], Preferences(skill_level="pro", goals=["power"]), Language.EN, now=NOW)
    assert pro.recommended_product_id == PRO.id


def test_the_pick_respects_hard_constraints() -> None:
    sold_out = BY_ID["kestrel-apex-900"]
    budget = Preferences(skill_level="pro", budget=Budget(max_amount=40_000, currency="EUR"))
    comparison = compare([sold_out, PRO], budget, Language.EN, now=NOW)
    assert comparison.recommended_product_id == PRO.id


def test_labels_follow_the_language_and_facts_do_not() -> None:
    comparison = compare([BEGINNER, PRO], Preferences(), Language.ES, now=NOW)
    rows = {row.point: row.values for row in comparison.rows}
    assert rows["Precio"][PRO.id] == format_price(PRO.price, PRO.currency)
    assert rows["Nivel"][BEGINNER.id] == "principiante"


def test_render_names_every_product_on_every_row() -> None:
    comparison = compare([BEGINNER, PRO], Preferences(), Language.EN, now=NOW)
    text = render(comparison, [BEGINNER, PRO])
    assert len(text.splitlines()) == len(comparison.rows)
    assert all(BEGINNER.name in line and PRO.name in line for line in text.splitlines())


def test_one_product_is_no_comparison() -> None:
    with pytest.raises(ValueError, match="at least two"):
        compare([BEGINNER], Preferences(), Language.EN)


def test_notes_about_products_outside_the_comparison_are_cut() -> None:
    dive, strike_pro = BY_ID["kestrel-dive-500"], BY_ID["vantaro-strike-pro-18k"]
    brands = sorted({product.brand for product in BY_ID.values()})
    rows = {
        row.point: row.values
        for row in compare([dive, strike_pro], Preferences(), Language.EN, brands=brands).rows
    }
    assert "vs Kestrel Apex 900" not in rows  # a "vs" point about a product not compared
    assert rows["Comfort"][dive.id] == "Anti-vibration handle: softer feel."
    text = render(compare([dive, strike_pro], Preferences(), Language.EN, brands=brands), [dive, strike_pro])
    for other in ("Vantaro Strike 12K", "Kestrel Apex 900", "Brisa Tramontana"):
        assert other not in text


def test_a_vs_point_about_a_compared_product_stays() -> None:
    dive, strike = BY_ID["kestrel-dive-500"], BY_ID["vantaro-strike-12k"]
    brands = sorted({product.brand for product in BY_ID.values()})
    rows = {
        row.point: row.values
        for row in compare([strike, dive], Preferences(), Language.EN, brands=brands).rows
    }
    assert rows["Comfort"][dive.id] == dive.ai_comparison_points["Comfort"]
