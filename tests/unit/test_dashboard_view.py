"""talkshop.web.dashboard_view: what the dashboards' pages show of the figures, and what they must not
show (zeros standing for figures a scoped query does not count)."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any

from talkshop.analytics.aggregate import ABANDON_STEPS, UNKNOWN
from talkshop.analytics.dashboards import AdminDashboard, CreatorDashboard, Filters, admin_csv, creator_csv
from talkshop.analytics.model import DayFigures, Figures
from talkshop.web.dashboard_view import admin_page, creator_page, milliseconds, money

DAY = date(2026, 11, 24)


def figures(filters: Filters, **counts: Any) -> Figures:
    return Figures(
        query=filters.query(),
        currency="EUR",
        daily=[DayFigures(day=DAY, conversations=2, messages=9, cost_usd=0.25, abandoned=1)],
        **counts,
    )


def admin(filters: Filters, creator_names: dict[str, str] | None = None, **counts: Any) -> AdminDashboard:
    return AdminDashboard(
        filters=filters,
        figures=figures(filters, **counts),
        periods=[],
        product_names={},
        creator_names=creator_names or {},
    )


def chart_titles(charts: list[Any]) -> list[str]:
    return [chart.title for chart in charts]


def test_abandoned_chats_are_labelled_by_the_steps_the_aggregation_counts() -> None:
    page = admin_page(
        admin(
            Filters(start=DAY, end=DAY),
            abandoned=4,
            abandonment_last_step={"started": 2, "cart": 1, "details": 1},
        )
    )
    chart = next(chart for chart in page.charts if chart.title == "Abandoned chats by last step")
    assert [category.full_text for category in chart.categories] == [
        "Right after starting",
        "With a cart",  # ties by step name
        "Reading a product's details",
    ]


def test_every_step_the_aggregation_counts_has_words() -> None:
    every = dict.fromkeys((*ABANDON_STEPS, UNKNOWN), 1)
    page = admin_page(admin(Filters(start=DAY, end=DAY), abandoned=len(every), abandonment_last_step=every))
    chart = next(chart for chart in page.charts if chart.title == "Abandoned chats by last step")
    labels = [category.full_text for category in chart.categories]
    assert len(labels) == len(every)
    assert not {step.capitalize() for step in every} & set(labels)  # none fell back to its bare name


def test_cost_tiles_give_tokens_per_conversation_and_per_chat_order() -> None:
    page = admin_page(
        admin(
            Filters(start=DAY, end=DAY),
            conversations=4,
            chat_orders=2,
            input_tokens=900,
            output_tokens=100,
            cost_usd=0.5,
            tokens_per_conversation=250,
            cost_per_conversation_usd=0.125,
            cost_per_chat_order_usd=0.25,
            tokens_per_chat_order=500,
            latency_p50_ms=2000,
        )
    )
    tiles = {tile.label: (tile.value, tile.detail) for tile in page.cost + page.health}
    assert tiles["Cost per conversation"] == ("$0.12", "250 tokens")
    assert tiles["Cost per chat order"] == ("$0.25", "500 tokens")
    assert tiles["Reply time p50"][0] == "1,000 to 2,000 ms"  # its histogram bucket
    assert page.chat_note == ""


def test_a_creator_filter_shows_the_creators_chat_figures_and_says_whose_they_are() -> None:
    """API cost, satisfaction, reply times and abandonment are counted per creator: filtered to one,
    the platform's page shows theirs; searches without results and unanswered questions name no
    product, so they are left out rather than shown as 0."""
    page = admin_page(
        admin(Filters(start=DAY, end=DAY, creator_id="nest"), {"nest": "Padel Nest"}, satisfaction_avg=4.5)
    )
    tiles = {tile.label: tile.value for tile in page.cost + page.health}
    assert tiles["Satisfaction"] == "4.5 / 5"
    assert "Reply time p50" in tiles
    assert "Searches with no result" not in tiles
    assert "Unanswered questions" not in tiles
    assert "this creator's products came up" in page.chat_note
    assert "all chats only" in page.chat_note
    assert "API cost per day (USD)" in chart_titles(page.charts)
    assert "Abandoned chats by last step" in chart_titles(page.charts)
    unscoped = admin_page(admin(Filters(start=DAY, end=DAY)))
    assert "Searches with no result" in {tile.label for tile in unscoped.health}


def test_a_product_filter_says_its_chat_figures_are_its_creators_or_shows_none() -> None:
    with_creator = admin_page(admin(Filters(start=DAY, end=DAY, creator_id="nest", product_id="aero")))
    assert with_creator.cost
    assert "still those of all this creator's products" in with_creator.chat_note
    # A product whose creator is not known (no such product): its chat figures are not counted.
    alone = admin_page(admin(Filters(start=DAY, end=DAY, product_id="ghost")))
    assert (alone.cost, alone.health) == ([], [])
    assert "choose the product's creator" in alone.chat_note
    assert "API cost per day (USD)" not in chart_titles(alone.charts)


def test_the_filter_form_keeps_a_creator_or_product_with_nothing_in_the_range() -> None:
    page = admin_page(
        admin(Filters(start=DAY, end=DAY, creator_id="quiet", product_id="ghost"), {"loud": "Loud Shop"})
    )
    assert [(o.value, o.selected) for o in page.creator_options] == [
        ("", False),
        ("loud", False),
        ("quiet", True),
    ]
    assert [(o.value, o.selected) for o in page.product_options] == [("", False), ("ghost", True)]


def test_a_sellers_shop_conversion_starts_at_the_cart() -> None:
    """Store visits are the shop's, not a creator's: the seller compares chats with their cart →
    purchase rate."""
    filters = Filters(start=DAY, end=DAY, creator_id="nest")
    dashboard = CreatorDashboard(
        creator_id="nest",
        filters=filters,
        figures=figures(filters, chat_conversion=0.5, traditional_carts=4, traditional_cart_conversion=0.25),
    )
    page = creator_page(dashboard)
    conversion = next(tile for tile in page.tiles if tile.label == "Conversion chat → purchase")
    assert (conversion.value, conversion.detail) == ("50.0%", "Shop (cart → purchase): 25.0%")
    scores = next(chart for chart in page.charts if chart.title == "AI understanding score by product")
    assert (scores.empty, scores.empty_text) == (True, "No products to score yet.")  # not "this period"


def test_a_seller_sees_satisfaction_cost_reply_times_and_abandonment_of_their_chats() -> None:
    filters = Filters(start=DAY, end=DAY, creator_id="nest")
    found = figures(
        filters,
        satisfaction_avg=4.0,
        satisfaction_count=3,
        cost_usd=0.5,
        cost_per_conversation_usd=0.25,
        tokens_per_conversation=120,
        cost_per_chat_order_usd=0.5,
        tokens_per_chat_order=240,
        latency_p95_ms=3000,
        latency_samples=7,
        abandoned=3,
        abandonment_last_step={"cart": 2, "started": 1},
    )
    page = creator_page(CreatorDashboard(creator_id="nest", filters=filters, figures=found))

    tiles = {tile.label: (tile.value, tile.detail) for tile in page.cost + page.health}
    assert tiles["Satisfaction"] == ("4.0 / 5", "3 ratings")
    assert tiles["Cost per conversation"] == ("$0.25", "120 tokens")
    assert tiles["Cost per chat order"] == ("$0.50", "240 tokens")
    assert tiles["Reply time p95"] == ("2,000 to 3,000 ms", "7 replies")
    assert tiles["Abandoned chats"] == ("3", "Most often: with a cart")
    assert "Searches with no result" not in tiles
    assert "your products came up" in page.chat_note
    assert {"API cost per day (USD)", "Abandoned chats by last step"} <= set(chart_titles(page.charts))


def test_daily_csv_has_the_chat_figures_where_the_query_counts_them() -> None:
    scoped = Filters(start=DAY, end=DAY, creator_id="nest")
    _, text = creator_csv(
        CreatorDashboard(creator_id="nest", filters=scoped, figures=figures(scoped)), "daily"
    )
    header, row = list(csv.reader(io.StringIO(text)))
    assert header[-3:] == ["messages", "cost_usd", "abandoned"]  # the creator's chats'
    assert row[:2] == ["2026-11-24", "2"]
    alone = Filters(start=DAY, end=DAY, product_id="ghost")  # no creator: not counted, not zeros
    _, text = admin_csv(admin(alone), "daily")
    header, row = list(csv.reader(io.StringIO(text)))
    assert header == [
        "day",
        "conversations",
        "chat_orders",
        "traditional_orders",
        "chat_revenue_eur_minor",
        "traditional_revenue_eur_minor",
    ]
    assert row[:2] == ["2026-11-24", "2"]
    _, text = admin_csv(admin(Filters(start=DAY, end=DAY)), "daily")
    header, row = list(csv.reader(io.StringIO(text)))
    assert header[-3:] == ["messages", "cost_usd", "abandoned"]
    assert row[-3:] == ["9", "0.250000", "1"]


def test_the_chats_csv_has_a_sellers_satisfaction_cost_reply_times_and_abandonment() -> None:
    scoped = Filters(start=DAY, end=DAY, creator_id="nest")
    found = figures(
        scoped,
        messages=6,
        satisfaction_avg=4.5,
        satisfaction_count=2,
        cost_usd=0.012,
        cost_per_conversation_usd=0.006,
        tokens_per_chat_order=300,
        latency_p95_ms=2000,
        abandoned=3,
        abandonment_last_step={"cart": 2, "started": 1},
    )
    name, text = creator_csv(CreatorDashboard(creator_id="nest", filters=scoped, figures=found), "chats")
    assert name == "nest-chats-2026-11-24-2026-11-24.csv"
    header, row = list(csv.reader(io.StringIO(text)))
    cells = dict(zip(header, row, strict=True))
    assert cells["chat_figures_scope"] == "creator"
    assert (cells["messages"], cells["satisfaction_avg"], cells["satisfaction_count"]) == ("6", "4.5000", "2")
    assert (cells["cost_usd"], cells["cost_per_conversation_usd"]) == ("0.012000", "0.006000")
    assert (cells["tokens_per_chat_order"], cells["cost_per_chat_order_usd"]) == ("300.0000", "")
    assert (cells["latency_p50_ms"], cells["latency_p95_ms"]) == ("", "2000")
    assert (cells["abandoned"], cells["abandoned_at_cart"], cells["abandoned_at_details"]) == ("3", "2", "0")
    # Not counted (a product without its creator): empty cells, not zeros.
    _, text = admin_csv(admin(Filters(start=DAY, end=DAY, product_id="ghost")), "chats")
    _, row = list(csv.reader(io.StringIO(text)))
    assert row == ["none", *([""] * (len(row) - 1))]


def test_reply_times_read_as_the_buckets_that_hold_them() -> None:
    """A percentile is the upper bound of its bucket; the last bound also holds every slower reply."""
    assert [milliseconds(bound) for bound in (None, 250, 5000, 21000)] == [
        "—",
        "0 to 250 ms",
        "3,000 to 5,000 ms",
        "over 13,000 ms",
    ]


def test_money_rounds_half_up() -> None:
    found = figures(Filters(start=DAY, end=DAY))
    assert money(found, 1234.5) == "€12.35"  # an average order of two orders, €12.34 and €12.35
    assert money(found, 1236.5) == "€12.37"
    assert money(found, None) == "—"
