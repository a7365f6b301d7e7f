"""Dashboard figures from metric items only: one key query per day of the range, never an event scan.

Definitions (docs/analytics.md has the full list): chat conversion = chat orders / conversations;
traditional conversion = storefront orders / store visits (storefront page views; orders an agent
placed over ACP had no visit); AOV = revenue / orders in the query's currency; rates are None when
nothing divides them. The chat figures (messages, LLM usage, reply times, satisfaction, abandonment)
are read from the headline's items, but a product's from its creator's items: turns, ratings and
abandoned chats are counted per creator (Figures.chat_figures_scope).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date

from talkshop.analytics.aggregate import LATENCY_BOUNDS_MS, LATENCY_OVER, latency_bucket
from talkshop.analytics.model import (
    AGENT_PLATFORM,
    STOREFRONT_PLATFORM,
    CreatorFigures,
    DayFigures,
    Figures,
    MetricScope,
    MetricsQuery,
    PlatformFigures,
    ProductFigures,
)
from talkshop.data.metric_items import MetricStore, StoredMetric
from talkshop.data.repository import Repository

TRADITIONAL_PLATFORMS = frozenset({STOREFRONT_PLATFORM, AGENT_PLATFORM})
MICRO = 1_000_000

Sums = dict[str, int]


def figures(repository: Repository, query: MetricsQuery) -> Figures:
    """The figures of a query, from the metric items of its days."""
    items = _selected(MetricStore(repository), query)
    headline_scope = _headline_scope(query)
    headline = [item for item in items if item.key.scope == headline_scope]
    chats = _chat_items(query, items, headline)
    overall = _sum(_canonical(item, query.currency) for item in headline)
    storefront = _sum(
        _canonical(item, query.currency) for item in headline if item.key.platform == STOREFRONT_PLATFORM
    )
    chat = _sum(_canonical(item, query.currency) for item in chats)
    result = _headline_figures(query, overall, chat, storefront.get("traditional_orders", 0))
    daily, chat_daily = _by_day(headline, query.currency), _by_day(chats, query.currency)
    result.daily = [
        _day(day, _sum(daily.get(day, [])), _sum(chat_daily.get(day, []))) for day in query.days()
    ]
    by_platform: dict[str, list[Sums]] = defaultdict(list)
    for item in headline:
        by_platform[item.key.platform].append(_canonical(item, query.currency))
    result.platforms = [
        PlatformFigures(platform=platform, **_money_and_orders(_sum(sums)))
        for platform, sums in sorted(by_platform.items())
    ]
    # A product's query reads the product's figures: its creator's items are read for the chat figures only.
    result.creators = [] if query.product_id is not None else _creators(items, query.currency)
    result.products = _products(items, query.currency)
    return result


def _headline_scope(query: MetricsQuery) -> MetricScope:
    if query.product_id is not None:
        return MetricScope.PRODUCT
    if query.creator_id is not None:
        return MetricScope.CREATOR
    return MetricScope.TOTAL


def _chat_items(
    query: MetricsQuery, items: list[StoredMetric], headline: list[StoredMetric]
) -> list[StoredMetric]:
    """The items the chat figures are read from (Figures.chat_figures_scope): the headline's, but a
    product's are its creator's (none without the creator filter)."""
    if query.product_id is None:
        return headline
    if query.creator_id is None:
        return []
    return [item for item in items if item.key.scope == MetricScope.CREATOR.value]


def _by_day(items: Iterable[StoredMetric], currency: str) -> dict[date, list[Sums]]:
    found: dict[date, list[Sums]] = defaultdict(list)
    for item in items:
        found[item.key.day].append(_canonical(item, currency))
    return found


def _selected(store: MetricStore, query: MetricsQuery) -> list[StoredMetric]:
    items: list[StoredMetric] = []
    for day in query.days():
        if query.creator_id is None and query.product_id is None:
            items += store.metrics_on(day)
            continue
        if query.creator_id is not None:
            items += store.metrics_on(day, MetricScope.CREATOR.value, query.creator_id)
        items += store.metrics_on(day, MetricScope.PRODUCT.value, query.creator_id)
    return [
        item
        for item in items
        if (query.platform is None or item.key.platform == query.platform)
        and (query.product_id is None or item.key.product_id in (None, query.product_id))
    ]


def _canonical(item: StoredMetric, currency: str) -> Sums:
    """An item's counts under the headline names, whatever its scope: a product's purchases are its
    orders, its revenue is chat or traditional revenue by the platform it was bought on."""
    counts = item.counts
    if item.key.scope != MetricScope.PRODUCT.value:
        sums = dict(counts)
        for kind in ("chat", "traditional"):
            sums[f"{kind}_revenue"] = counts.get(f"{kind}_revenue_{currency}", 0)
            sums[f"{kind}_orders_in_currency"] = counts.get(f"{kind}_orders_{currency}", 0)
        return sums
    traditional = item.key.platform in TRADITIONAL_PLATFORMS
    revenue = counts.get(f"revenue_{currency}", 0)
    return {
        "conversations": counts.get("conversations", 0),
        "chat_orders": counts.get("chat_purchases", 0),
        "traditional_orders": counts.get("traditional_purchases", 0),
        # A product's items keep no per-currency order count: its AOV takes every order as in currency.
        "chat_orders_in_currency": 0 if traditional else counts.get("chat_purchases", 0),
        "traditional_orders_in_currency": counts.get("traditional_purchases", 0) if traditional else 0,
        "chat_revenue": 0 if traditional else revenue,
        "traditional_revenue": revenue if traditional else 0,
        "traditional_carts": counts.get("traditional_cart_adds", 0),
        "messages_before_purchase": counts.get("messages_before_purchase", 0),
    }


def _sum(parts: Iterable[Mapping[str, int]]) -> Sums:
    total: Sums = defaultdict(int)
    for part in parts:
        for name, value in part.items():
            total[name] += value
    return total


def _ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None


def _money_and_orders(sums: Mapping[str, int]) -> dict[str, int]:
    return {
        "conversations": sums.get("conversations", 0),
        "chat_orders": sums.get("chat_orders", 0),
        "traditional_orders": sums.get("traditional_orders", 0),
        "chat_revenue": sums.get("chat_revenue", 0),
        "traditional_revenue": sums.get("traditional_revenue", 0),
    }


def _headline_figures(
    query: MetricsQuery, sums: Mapping[str, int], chat: Mapping[str, int], storefront_orders: int
) -> Figures:
    """The headline figures of the summed counters, the chat figures of the chat items' (`chat`: the
    same for all but a product's query; their ratios divide by that scope's conversations and chat
    orders); the traditional funnel's rates count the orders placed on the storefront only, the one
    whose visits and carts are counted."""
    conversations = sums.get("conversations", 0)
    chat_orders = sums.get("chat_orders", 0)
    cost_usd = chat.get("cost_microusd", 0) / MICRO
    tokens = chat.get("input_tokens", 0) + chat.get("output_tokens", 0)
    p50, p95 = _latency_percentiles(chat)
    return Figures(
        query=query,
        currency=query.currency,
        **_money_and_orders(sums),
        messages=chat.get("messages", 0),
        store_visits=sums.get("store_visits", 0),
        traditional_carts=sums.get("traditional_carts", 0),
        chat_conversion=_ratio(chat_orders, conversations),
        traditional_conversion=_ratio(storefront_orders, sums.get("store_visits", 0)),
        traditional_cart_conversion=_ratio(storefront_orders, sums.get("traditional_carts", 0)),
        aov_chat=_ratio(sums.get("chat_revenue", 0), sums.get("chat_orders_in_currency", 0)),
        aov_traditional=_ratio(
            sums.get("traditional_revenue", 0), sums.get("traditional_orders_in_currency", 0)
        ),
        avg_messages_before_purchase=_ratio(sums.get("messages_before_purchase", 0), chat_orders),
        satisfaction_avg=_ratio(chat.get("satisfaction_sum", 0), chat.get("satisfaction_count", 0)),
        satisfaction_count=chat.get("satisfaction_count", 0),
        input_tokens=chat.get("input_tokens", 0),
        output_tokens=chat.get("output_tokens", 0),
        cost_usd=cost_usd,
        tokens_per_conversation=_ratio(tokens, chat.get("conversations", 0)),
        cost_per_conversation_usd=_ratio(cost_usd, chat.get("conversations", 0)),
        cost_per_chat_order_usd=_ratio(cost_usd, chat.get("chat_orders", 0)),
        tokens_per_chat_order=_ratio(tokens, chat.get("chat_orders", 0)),
        latency_p50_ms=p50,
        latency_p95_ms=p95,
        latency_samples=chat.get("latency_samples", 0),
        abandoned=chat.get("abandoned", 0),
        abandonment_last_step={
            name.removeprefix("abandoned_at_"): value
            for name, value in sorted(chat.items())
            if name.startswith("abandoned_at_") and value
        },
        questions_asked=sums.get("questions_asked", 0),
        no_result_searches=sums.get("no_result_searches", 0),
        unanswered_questions=sums.get("unanswered", 0),
    )


def _latency_percentiles(sums: Mapping[str, int]) -> tuple[int | None, int | None]:
    """The upper bounds of the histogram buckets holding the 50th and 95th percentiles (a turn over
    the last bound reads as that bound: "at least")."""
    samples = sums.get("latency_samples", 0)
    if not samples:
        return None, None
    found: list[int | None] = []
    for share in (0.5, 0.95):
        needed, seen, value = share * samples, 0, None
        for bound in LATENCY_BOUNDS_MS:
            seen += sums.get(latency_bucket(bound), 0)
            if seen >= needed:
                value = bound
                break
        found.append(
            value if value is not None else (LATENCY_BOUNDS_MS[-1] if sums.get(LATENCY_OVER) else None)
        )
    return found[0], found[1]


def _day(day: date, sums: Mapping[str, int], chat: Mapping[str, int]) -> DayFigures:
    return DayFigures(
        day=day,
        **_money_and_orders(sums),
        messages=chat.get("messages", 0),
        cost_usd=chat.get("cost_microusd", 0) / MICRO,
        abandoned=chat.get("abandoned", 0),
    )


def _creators(items: list[StoredMetric], currency: str) -> list[CreatorFigures]:
    grouped: dict[str, list[Sums]] = defaultdict(list)
    for item in items:
        if item.key.scope == MetricScope.CREATOR.value and item.key.creator_id is not None:
            grouped[item.key.creator_id].append(_canonical(item, currency))
    return [
        CreatorFigures(creator_id=creator_id, **_money_and_orders(_sum(sums)))
        for creator_id, sums in sorted(grouped.items())
    ]


def _products(items: list[StoredMetric], currency: str) -> list[ProductFigures]:
    grouped: dict[tuple[str, str], Sums] = {}
    revenue: dict[tuple[str, str], int] = defaultdict(int)
    for item in items:
        key = item.key
        if key.scope != MetricScope.PRODUCT.value or key.product_id is None:
            continue
        ids = (key.product_id, key.creator_id or "")
        grouped[ids] = _sum([grouped.get(ids, {}), item.counts])
        revenue[ids] += item.counts.get(f"revenue_{currency}", 0)
    found = []
    for (product_id, creator_id), sums in grouped.items():
        views, adds, purchases = (
            sums.get("details_views", 0),
            sums.get("chat_cart_adds", 0),
            sums.get("chat_purchases", 0),
        )
        found.append(
            ProductFigures(
                product_id=product_id,
                creator_id=creator_id,
                conversations=sums.get("conversations", 0),
                mentions=sums.get("mentions", 0),
                recommendations=sums.get("recommendations", 0),
                details_views=views,
                chat_cart_adds=adds,
                traditional_cart_adds=sums.get("traditional_cart_adds", 0),
                chat_purchases=purchases,
                traditional_purchases=sums.get("traditional_purchases", 0),
                units_sold=sums.get("units_sold", 0),
                revenue=revenue[(product_id, creator_id)],
                view_to_click=_ratio(adds, views),
                click_to_purchase=_ratio(purchases, adds),
                recommendation_to_purchase=_ratio(purchases, sums.get("recommendations", 0)),
            )
        )
    # Best sellers first, then the most discussed.
    return sorted(
        found,
        key=lambda p: (-p.revenue, -p.chat_purchases - p.traditional_purchases, -p.mentions, p.product_id),
    )
