"""The dashboards as the pages show them: headline tiles, charts and tables, from the figures.

Numbers are formatted here (money in the figures' currency, rates as percentages, "—" where a rate
has nothing to divide), so the templates only lay them out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from urllib.parse import urlencode

from talkshop.analytics.aggregate import LATENCY_BOUNDS_MS
from talkshop.analytics.dashboards import (
    ADMIN_TABLES,
    CREATOR_TABLES,
    PLATFORMS,
    TOP,
    AdminDashboard,
    CreatorDashboard,
    Filters,
    LearningEffect,
    Window,
)
from talkshop.analytics.learning import WeightsHistory, WeightsVersion
from talkshop.analytics.model import (
    ChatFiguresScope,
    CreatorFigures,
    Figures,
    PlatformFigures,
    ProductFigures,
)
from talkshop.search.service import format_price
from talkshop.web.charts import Chart, Formatter, Series, bar_chart, line_chart, plain_number

CREATOR_PATH = "/dashboard/conversational-metrics"
ADMIN_PATH = "/admin/conversational-commerce"
CREATOR_API = "/api/analytics/creator"
ADMIN_API = "/api/analytics/admin"
NONE = "—"
PLATFORM_LABELS = {
    "web": "Web chat",
    "chatgpt": "ChatGPT",
    "claude": "Claude",
    "gemini": "Gemini",
    "mcp": "MCP",
    "api": "API",
    "storefront": "Storefront",
    "acp": "Agents (ACP)",
}
#: The last steps of abandoned chats (talkshop.analytics.aggregate.ABANDON_STEPS), in words.
_ABANDONMENT_STEPS = {
    "started": "Right after starting",
    "chatting": "While chatting",
    "recommended": "After a recommendation",
    "details": "Reading a product's details",
    "cart": "With a cart",
    "unknown": "Unknown step",
}
#: Whose chats a scoped dashboard's chat figures count (Figures.chat_figures_scope), in words.
CREATOR_CHATS_NOTE = (
    "Satisfaction, API cost and tokens, reply times and abandoned chats count the chats where {whose} "
    "products came up (a reply counts when it showed or named one of them)."
)
PRODUCT_CHATS_NOTE = (
    " With a product chosen they are still those of all {whose} products: a chat is rated, costed and "
    "abandoned as a whole, not per product."
)
SEARCHES_NOTE = (
    " Searches without results and unanswered questions show no product: they are counted for all chats only."
)
NO_CHATS_NOTE = (
    "Satisfaction, API cost and tokens, reply times and abandoned chats are counted per creator: choose the "
    "product's creator too to see theirs."
)


@dataclass(frozen=True)
class Tile:
    label: str
    value: str
    detail: str = ""


@dataclass(frozen=True)
class Download:
    label: str
    href: str


@dataclass(frozen=True)
class Option:
    value: str
    label: str
    selected: bool


@dataclass(frozen=True)
class ProductRow:
    product_id: str
    name: str
    creator: str
    cells: list[str]


def percent(value: float | None) -> str:
    return NONE if value is None else f"{value * 100:.1f}%"


def number(value: float | None) -> str:
    return NONE if value is None else plain_number(round(value, 2))


def usd(value: float | None) -> str:
    return NONE if value is None else f"${value:,.4f}" if 0 < value < 0.01 else f"${value:,.2f}"


def minor_units(amount: float) -> int:
    """An amount (an average can fall between two minor units) rounded half up, as money is."""
    return int(Decimal(str(amount)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def money(found: Figures, amount: float | None) -> str:
    return NONE if amount is None else format_price(minor_units(amount), found.currency)


def milliseconds(bound: int | None) -> str:
    """A latency percentile as the histogram bucket that holds it (the figure is the bucket's upper
    bound): "1,000 to 2,000 ms"; the last bound also stands for the replies over it, so "over 13,000 ms"."""
    if bound is None:
        return NONE
    if bound not in LATENCY_BOUNDS_MS:
        return f"≤ {bound:,} ms"
    index = LATENCY_BOUNDS_MS.index(bound)
    if index == len(LATENCY_BOUNDS_MS) - 1:
        return f"over {LATENCY_BOUNDS_MS[index - 1]:,} ms"
    return f"{LATENCY_BOUNDS_MS[index - 1] if index else 0:,} to {bound:,} ms"


def _money_axis(found: Figures) -> Formatter:
    return lambda value: format_price(minor_units(value), found.currency)


def platform_options(selected: str | None) -> list[Option]:
    return [Option("", "All platforms", selected is None)] + [
        Option(value, PLATFORM_LABELS.get(value, value), value == selected) for value in PLATFORMS
    ]


def named_options(everything: str, names: dict[str, str], selected: str | None) -> list[Option]:
    """A filter's options: `everything` (no filter), then the named ids by name; the selected id is
    always one of them, so the form shows the filter the figures have (and keeps it on the next
    submit) even when nothing of it is in the range."""
    named = {**({selected: selected} if selected is not None else {}), **names}
    return [Option("", everything, selected is None)] + [
        Option(value, label, value == selected)
        for value, label in sorted(named.items(), key=lambda item: (item[1].casefold(), item[0]))
    ]


def downloads(path: str, filters: Filters, tables: Sequence[str]) -> list[Download]:
    return [
        Download(
            f"{table.capitalize()} (CSV)",
            f"{path}?{urlencode({**filters.parameters(), 'format': 'csv', 'table': table})}",
        )
        for table in tables
    ]


def _days(found: Figures) -> list[str]:
    return [day.day.isoformat() for day in found.daily]


def trend_charts(found: Figures) -> list[Chart]:
    """Conversations and orders per day, and revenue chat vs traditional per day."""
    days = _days(found)
    return [
        line_chart(
            "Conversations and orders per day",
            days,
            [
                Series("Conversations", [d.conversations for d in found.daily]),
                Series("Chat orders", [d.chat_orders for d in found.daily]),
                Series("Traditional orders", [d.traditional_orders for d in found.daily]),
            ],
        ),
        line_chart(
            "Revenue per day, chat vs traditional",
            days,
            [
                Series("Chat", [d.chat_revenue for d in found.daily]),
                Series("Traditional", [d.traditional_revenue for d in found.daily]),
            ],
            _money_axis(found),
        ),
    ]


def _top(products: Sequence[ProductFigures]) -> list[ProductFigures]:
    return sorted(products, key=lambda p: (-p.revenue, -p.chat_purchases, -p.recommendations, p.product_id))[
        :TOP
    ]


def product_rows(
    found: Figures, names: dict[str, str], creators: dict[str, str] | None = None
) -> list[ProductRow]:
    return [
        ProductRow(
            p.product_id,
            names.get(p.product_id, p.product_id),
            (creators or {}).get(p.creator_id, p.creator_id),
            [
                plain_number(p.conversations),
                plain_number(p.mentions),
                plain_number(p.recommendations),
                plain_number(p.details_views),
                plain_number(p.chat_cart_adds),
                plain_number(p.chat_purchases),
                plain_number(p.traditional_purchases),
                percent(p.view_to_click),
                percent(p.click_to_purchase),
                money(found, p.revenue),
            ],
        )
        for p in sorted(found.products, key=lambda p: (-p.revenue, p.product_id))
    ]


PRODUCT_COLUMNS = (
    "Conversations",
    "Mentions",
    "Recommendations",
    "Detail views",
    "Cart adds (chat)",
    "Purchases (chat)",
    "Purchases (shop)",
    "View → cart",
    "Cart → purchase",
    "Revenue",
)


def headline(found: Figures) -> list[Tile]:
    return [
        Tile("Conversations", plain_number(found.conversations)),
        Tile(
            "Conversion chat → purchase",
            percent(found.chat_conversion),
            # Store visits are not a creator's or a product's: scoped, the shop's funnel starts at the cart.
            f"Shop (visit → purchase): {percent(found.traditional_conversion)}"
            if found.query.creator_id is None and found.query.product_id is None
            else f"Shop (cart → purchase): {percent(found.traditional_cart_conversion)}",
        ),
        Tile(
            "Average order, chat",
            money(found, found.aov_chat),
            f"Shop: {money(found, found.aov_traditional)}",
        ),
        Tile(
            "Revenue from chats",
            money(found, found.chat_revenue),
            f"Shop: {money(found, found.traditional_revenue)}",
        ),
        Tile(
            "Chat orders",
            plain_number(found.chat_orders),
            f"Shop orders: {plain_number(found.traditional_orders)}",
        ),
        Tile("Messages before a purchase", number(found.avg_messages_before_purchase)),
    ]


def chat_note(found: Figures, whose: str) -> str:
    """Whose chats the cost, satisfaction, reply time and abandonment tiles count, when not every chat's
    (empty then); `whose` names the creator ("your", "this creator's")."""
    if found.chat_figures_scope == ChatFiguresScope.ALL:
        return ""
    if found.chat_figures_scope == ChatFiguresScope.NONE:
        return NO_CHATS_NOTE
    note = CREATOR_CHATS_NOTE.format(whose=whose)
    if found.query.product_id is not None:
        note += PRODUCT_CHATS_NOTE.format(whose=whose)
    return note + SEARCHES_NOTE


@dataclass(frozen=True)
class DashboardPage:
    """What both dashboards show: headline tiles, the chat figures' tiles (cost and satisfaction, reply
    times and abandonment; none where the query does not count them), charts, the products' table, the
    CSV links, the product and platform filters' options, and, when the figures are scoped to a
    creator or product, the note saying whose chats the chat figures count."""

    tiles: list[Tile]
    cost: list[Tile]
    health: list[Tile]
    charts: list[Chart]
    columns: Sequence[str]
    rows: list[ProductRow]
    downloads: list[Download]
    platforms: list[Option]
    product_options: list[Option]
    chat_note: str


def creator_page(dashboard: CreatorDashboard) -> DashboardPage:
    found = dashboard.figures
    names = {p.product_id: p.name for p in dashboard.products}
    top = _top([p for p in found.products if p.recommendations or p.chat_purchases])
    charts = trend_charts(found)
    charts.append(
        bar_chart(
            "Recommendations and purchases by product",
            [names.get(p.product_id, p.product_id) for p in top],
            [
                Series("Recommended", [p.recommendations for p in top]),
                Series("Bought from a chat", [p.chat_purchases for p in top]),
            ],
            label_header="Product",
        )
    )
    scored = sorted(dashboard.products, key=lambda p: (p.understanding.score, p.name))
    charts.append(
        bar_chart(
            "AI understanding score by product",
            [p.name for p in scored],
            [Series("Score (of 100)", [p.understanding.score for p in scored])],
            label_header="Product",
            empty_text="No products to score yet.",
        )
    )
    charts += _chat_charts(found)
    filters = dashboard.filters
    return DashboardPage(
        tiles=headline(found),
        cost=_cost_tiles(found),
        health=_health_tiles(found),
        charts=charts,
        columns=PRODUCT_COLUMNS,
        rows=product_rows(found, names),
        downloads=downloads(CREATOR_API, filters, CREATOR_TABLES),
        product_options=named_options("All my products", dashboard.product_names, filters.product_id),
        platforms=platform_options(filters.platform),
        chat_note=chat_note(found, "your"),
    )


@dataclass(frozen=True)
class Row:
    """A row of the creators' or platforms' table: its name (linked when `href`) and figures."""

    name: str
    href: str | None
    cells: list[str]


#: The columns of the creators' and platforms' tables.
FIGURE_COLUMNS = ("Conversations", "Chat orders", "Shop orders", "Chat revenue", "Shop revenue")


def _figure_cells(found: Figures, row: CreatorFigures | PlatformFigures) -> list[str]:
    return [
        plain_number(row.conversations),
        plain_number(row.chat_orders),
        plain_number(row.traditional_orders),
        money(found, row.chat_revenue),
        money(found, row.traditional_revenue),
    ]


def creator_href(creator_id: str, filters: Filters) -> str:
    """The seller's dashboard of a creator (for the admin), over the same days."""
    return f"{CREATOR_PATH}?{urlencode({'creatorId': creator_id, **filters.parameters(creatorId=None)})}"


@dataclass(frozen=True)
class AdminPage(DashboardPage):
    periods: list[Tile]
    figure_columns: Sequence[str]
    creators: list[Row]
    creators_empty: str  # what the creators' table says when it has no row
    platform_rows: list[Row]
    creator_options: list[Option]
    weights_columns: Sequence[str]
    weights_rows: list[Row]
    learning: list[Tile]  # chat conversion since the current learned weights, and before them


def admin_page(dashboard: AdminDashboard) -> AdminPage:
    found = dashboard.figures
    top = _top(found.products)
    creators = sorted(found.creators, key=lambda c: (-c.chat_revenue, c.creator_id))
    charts = trend_charts(found)
    charts.append(
        bar_chart(
            "Top products by revenue",
            [dashboard.product_names.get(p.product_id, p.product_id) for p in top],
            [Series("Revenue", [p.revenue for p in top])],
            _money_axis(found),
            label_header="Product",
        )
    )
    charts.append(
        bar_chart(
            "Top creators by chat revenue, chat vs traditional",
            [dashboard.creator_names.get(c.creator_id, c.creator_id) for c in creators[:TOP]],
            [
                Series("Chat", [c.chat_revenue for c in creators[:TOP]]),
                Series("Traditional", [c.traditional_revenue for c in creators[:TOP]]),
            ],
            _money_axis(found),
            label_header="Creator",
        )
    )
    charts += _chat_charts(found)
    weights_rows: list[Row] = []
    if dashboard.ranking is not None:
        charts.append(_weights_chart(dashboard.ranking))
        weights_rows = [_weights_row(version) for version in dashboard.ranking.history]
    return AdminPage(
        weights_columns=WEIGHTS_COLUMNS,
        weights_rows=weights_rows,
        learning=_learning_tiles(dashboard.learning),
        periods=[
            Tile(
                f"Conversations {p.label.lower()}",
                plain_number(p.conversations),
                f"{plain_number(p.chat_orders)} chat orders",
            )
            for p in dashboard.periods
        ],
        tiles=headline(found),
        cost=_cost_tiles(found),
        health=_health_tiles(found),
        chat_note=chat_note(found, "this creator's"),
        charts=charts,
        columns=PRODUCT_COLUMNS,
        rows=product_rows(found, dashboard.product_names, dashboard.creator_names),
        figure_columns=FIGURE_COLUMNS,
        creators=[
            Row(
                dashboard.creator_names.get(c.creator_id, c.creator_id),
                creator_href(c.creator_id, dashboard.filters),
                _figure_cells(found, c),
            )
            for c in creators
        ],
        # A product's figures are read from its own counters, which have no creator rows.
        creators_empty="The product filter shows its creator's figures in the products table."
        if dashboard.filters.product_id is not None
        else "No creator sold or was talked about in this period.",
        platform_rows=[
            Row(PLATFORM_LABELS.get(p.platform, p.platform), None, _figure_cells(found, p))
            for p in sorted(found.platforms, key=lambda p: (-p.conversations, p.platform))
        ],
        product_options=named_options("All products", dashboard.product_names, dashboard.filters.product_id),
        creator_options=named_options("All creators", dashboard.creator_names, dashboard.filters.creator_id),
        downloads=downloads(ADMIN_API, dashboard.filters, ADMIN_TABLES),
        platforms=platform_options(dashboard.filters.platform),
    )


def _chat_charts(found: Figures) -> list[Chart]:
    """The charts of the chat figures, where the query counts them: API cost per day, abandoned chats
    by last step."""
    if found.chat_figures_scope == ChatFiguresScope.NONE:
        return []
    steps = sorted(found.abandonment_last_step.items(), key=lambda item: (-item[1], item[0]))
    return [
        line_chart(
            "API cost per day (USD)", _days(found), [Series("Cost", [d.cost_usd for d in found.daily])], usd
        ),
        bar_chart(
            "Abandoned chats by last step",
            [_step_words(step) for step, _ in steps],
            [Series("Chats", [count for _, count in steps])],
            label_header="Last step",
        ),
    ]


def _cost_tiles(found: Figures) -> list[Tile]:
    if found.chat_figures_scope == ChatFiguresScope.NONE:
        return []
    return [
        Tile(
            "API cost",
            usd(found.cost_usd),
            f"{plain_number(found.input_tokens + found.output_tokens)} tokens",
        ),
        Tile(
            "Cost per conversation",
            usd(found.cost_per_conversation_usd),
            f"{number(found.tokens_per_conversation)} tokens",
        ),
        Tile(
            "Cost per chat order",
            usd(found.cost_per_chat_order_usd),
            f"{number(found.tokens_per_chat_order)} tokens",
        ),
        Tile(
            "Satisfaction",
            NONE if found.satisfaction_avg is None else f"{found.satisfaction_avg:.1f} / 5",
            f"{plain_number(found.satisfaction_count)} ratings",
        ),
    ]


def _health_tiles(found: Figures) -> list[Tile]:
    if found.chat_figures_scope == ChatFiguresScope.NONE:
        return []
    tiles = [
        Tile("Reply time p50", milliseconds(found.latency_p50_ms)),
        Tile(
            "Reply time p95",
            milliseconds(found.latency_p95_ms),
            f"{plain_number(found.latency_samples)} replies",
        ),
        Tile("Abandoned chats", plain_number(found.abandoned), _most_common_step(found)),
    ]
    if found.search_figures_counted:
        tiles += [
            Tile("Searches with no result", plain_number(found.no_result_searches)),
            Tile("Unanswered questions", plain_number(found.unanswered_questions)),
        ]
    return tiles


def _most_common_step(found: Figures) -> str:
    """Where abandoned chats were left most often (ties by step name), or nothing without any."""
    if not found.abandonment_last_step:
        return ""
    step, _ = min(found.abandonment_last_step.items(), key=lambda item: (-item[1], item[0]))
    return f"Most often: {_step_words(step).lower()}"


def _step_words(step: str) -> str:
    return _ABANDONMENT_STEPS.get(step, step.replace("_", " ").capitalize())


WEIGHTS_COLUMNS = ("Why", "Since", "Purchased", "Dismissed")
_WEIGHT_REASONS = {"default": "Defaults", "learned": "Learned from outcomes", "rollback": "Rolled back"}


def _learning_tiles(effect: LearningEffect | None) -> list[Tile]:
    if effect is None:
        return []

    def tile(label: str, window: Window) -> Tile:
        return Tile(
            label,
            percent(window.chat_conversion),
            f"{plain_number(window.chat_orders)} chat orders of {plain_number(window.conversations)} chats, "
            f"{window.start.isoformat()} to {window.end.isoformat()}",
        )

    return [
        tile(f"Chat conversion with version {effect.version}", effect.after),
        tile("As many days before", effect.before),
    ]


def _weights_chart(ranking: WeightsHistory) -> Chart:
    """The learning loop's effect: each ranking weight now, next to its default."""
    defaults = ranking.history[-1].weights
    names = sorted(defaults)
    return bar_chart(
        f"Ranking weights (version {ranking.current.version}) vs defaults",
        [name.replace("_", " ").capitalize() for name in names],
        [
            Series("Default", [defaults[name] for name in names]),
            Series("Current", [ranking.current.weights.get(name, 0.0) for name in names]),
        ],
        lambda value: f"{value:.3f}",
        label_header="Weight",
    )


def _weights_row(version: WeightsVersion) -> Row:
    outcomes = version.outcomes
    return Row(
        f"Version {version.version}",
        None,
        [
            _WEIGHT_REASONS.get(version.reason, version.reason)
            + (f" (to version {version.rolled_back_to})" if version.rolled_back_to is not None else ""),
            version.created_at.strftime("%Y-%m-%d %H:%M UTC") if version.created_at else NONE,
            plain_number(outcomes.purchased) if outcomes else NONE,
            plain_number(outcomes.dismissed) if outcomes else NONE,
        ],
    )
