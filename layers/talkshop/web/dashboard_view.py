"""The dashboards as the pages show them: headline tiles, charts and tables, from the figures.

Numbers are formatted here (money in the figures' currency, rates as percentages, "—" where a rate
has nothing to divide), so the templates only lay them out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlencode

from talkshop.analytics.dashboards import (
    ADMIN_TABLES,
    CREATOR_TABLES,
    PLATFORMS,
    TOP,
    AdminDashboard,
    CreatorDashboard,
    Filters,
)
from talkshop.analytics.learning import WeightsHistory, WeightsVersion
from talkshop.analytics.model import CreatorFigures, Figures, PlatformFigures, ProductFigures
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
_ABANDONMENT_STEPS = {
    "browsing": "Browsing",
    "recommended": "After a recommendation",
    "carted": "With a cart",
    "checkout": "At checkout",
}


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


def money(found: Figures, amount: float | None) -> str:
    return NONE if amount is None else format_price(round(amount), found.currency)


def _money_axis(found: Figures) -> Formatter:
    return lambda value: format_price(round(value), found.currency)


def platform_options(selected: str | None) -> list[Option]:
    return [Option("", "All platforms", selected is None)] + [
        Option(value, PLATFORM_LABELS.get(value, value), value == selected) for value in PLATFORMS
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
            f"Shop (visit → purchase): {percent(found.traditional_conversion)}",
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


@dataclass(frozen=True)
class DashboardPage:
    """What both dashboards show: headline tiles, charts, the products' table, the CSV links and the
    platform filter's options."""

    tiles: list[Tile]
    charts: list[Chart]
    columns: Sequence[str]
    rows: list[ProductRow]
    downloads: list[Download]
    platforms: list[Option]


@dataclass(frozen=True)
class CreatorPage(DashboardPage):
    product_options: list[Option]


def creator_page(dashboard: CreatorDashboard) -> CreatorPage:
    found = dashboard.figures
    names = {p.product_id: p.name for p in dashboard.products}
    top = _top(found.products)
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
        )
    )
    filters = dashboard.filters
    return CreatorPage(
        tiles=headline(found),
        charts=charts,
        columns=PRODUCT_COLUMNS,
        rows=product_rows(found, names),
        downloads=downloads(CREATOR_API, filters, CREATOR_TABLES),
        product_options=[Option("", "All my products", filters.product_id is None)]
        + [
            Option(product_id, name, product_id == filters.product_id)
            for product_id, name in dashboard.product_names.items()
        ],
        platforms=platform_options(filters.platform),
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
    cost: list[Tile]
    health: list[Tile]
    figure_columns: Sequence[str]
    creators: list[Row]
    platform_rows: list[Row]
    creator_options: list[Option]
    weights_columns: Sequence[str]
    weights_rows: list[Row]


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
            "Top creators by revenue, chat vs traditional",
            [dashboard.creator_names.get(c.creator_id, c.creator_id) for c in creators[:TOP]],
            [
                Series("Chat", [c.chat_revenue for c in creators[:TOP]]),
                Series("Traditional", [c.traditional_revenue for c in creators[:TOP]]),
            ],
            _money_axis(found),
            label_header="Creator",
        )
    )
    charts.append(
        line_chart(
            "API cost per day (USD)", _days(found), [Series("Cost", [d.cost_usd for d in found.daily])], usd
        )
    )
    steps = sorted(found.abandonment_last_step.items(), key=lambda item: (-item[1], item[0]))
    charts.append(
        bar_chart(
            "Abandoned chats by last step",
            [_ABANDONMENT_STEPS.get(step, step.replace("_", " ").capitalize()) for step, _ in steps],
            [Series("Chats", [count for _, count in steps])],
            label_header="Last step",
        )
    )
    weights_rows: list[Row] = []
    if dashboard.ranking is not None:
        charts.append(_weights_chart(dashboard.ranking))
        weights_rows = [_weights_row(version) for version in dashboard.ranking.history]
    return AdminPage(
        weights_columns=WEIGHTS_COLUMNS,
        weights_rows=weights_rows,
        periods=[
            Tile(
                f"Conversations {p.label.lower()}",
                plain_number(p.conversations),
                f"{plain_number(p.chat_orders)} chat orders",
            )
            for p in dashboard.periods
        ],
        tiles=headline(found),
        cost=[
            Tile(
                "API cost",
                usd(found.cost_usd),
                f"{plain_number(found.input_tokens + found.output_tokens)} tokens",
            ),
            Tile("Cost per conversation", usd(found.cost_per_conversation_usd)),
            Tile("Cost per chat order", usd(found.cost_per_chat_order_usd)),
            Tile(
                "Satisfaction",
                NONE if found.satisfaction_avg is None else f"{found.satisfaction_avg:.1f} / 5",
                f"{plain_number(found.satisfaction_count)} ratings",
            ),
        ],
        health=[
            Tile("Reply time p50", NONE if found.latency_p50_ms is None else f"{found.latency_p50_ms:,} ms"),
            Tile("Reply time p95", NONE if found.latency_p95_ms is None else f"{found.latency_p95_ms:,} ms"),
            Tile("Abandoned chats", plain_number(found.abandoned)),
            Tile("Searches with no result", plain_number(found.no_result_searches)),
            Tile("Unanswered questions", plain_number(found.unanswered_questions)),
        ],
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
        platform_rows=[
            Row(PLATFORM_LABELS.get(p.platform, p.platform), None, _figure_cells(found, p))
            for p in sorted(found.platforms, key=lambda p: (-p.conversations, p.platform))
        ],
        creator_options=[Option("", "All creators", dashboard.filters.creator_id is None)]
        + [
            Option(creator_id, name, creator_id == dashboard.filters.creator_id)
            for creator_id, name in sorted(
                dashboard.creator_names.items(), key=lambda item: item[1].casefold()
            )
        ],
        downloads=downloads(ADMIN_API, dashboard.filters, ADMIN_TABLES),
        platforms=platform_options(dashboard.filters.platform),
    )


WEIGHTS_COLUMNS = ("Why", "Since", "Purchased", "Dismissed")
_WEIGHT_REASONS = {"default": "Defaults", "learned": "Learned from outcomes", "rollback": "Rolled back"}


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
