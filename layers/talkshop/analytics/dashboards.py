"""What the two dashboards show, for the pages and their JSON APIs alike: the filters a request asks
for, who may see what, the figures, and the tables the CSV export writes.

A creator sees their own products' figures only: the creator filter is theirs whatever they ask (another
creator's id is 403 `not_owner`, another creator's product too). The admin sees everything and may
narrow it to a creator. Figures come from metric items (analytics.metrics); the seller's common
questions and AI understanding scores are computed here, when asked.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from datetime import UTC, date, timedelta
from typing import Any

from pydantic import BaseModel, Field, TypeAdapter, ValidationError

from talkshop.advisor.model import Platform
from talkshop.analytics.aggregate import ABANDON_STEPS, UNKNOWN
from talkshop.analytics.learning import RankingWeights, WeightsHistory, WeightsVersion
from talkshop.analytics.metrics import figures
from talkshop.analytics.model import (
    MAX_QUERY_DAYS,
    ChatFiguresScope,
    Figures,
    MetricsQuery,
    ProductFigures,
)
from talkshop.analytics.questions import ProductQuestions, chats_to_read, common_questions
from talkshop.analytics.understanding import Understanding, understanding
from talkshop.auth import Principal, PrincipalKind
from talkshop.catalog.creators import creator_ref
from talkshop.catalog.model import Product, ProductStatus
from talkshop.catalog.service import product_from_stored, product_ref
from talkshop.data.repository import Repository, by_owner
from talkshop.errors import Forbidden, InvalidInput, Unauthorized
from talkshop.ontology.model import Identifier, ThingType
from talkshop.privacy import AnalyticsConsent

DEFAULT_DAYS = 30
#: The days a filter may name: far enough from date's limits that a range's arithmetic stays in bounds.
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2999, 12, 31)
TOP = 10
#: Platforms a filter may name: the chat platforms, and where orders without a chat come from.
PLATFORMS = (*(platform.value for platform in Platform), "storefront", "acp")
_ID = TypeAdapter(Identifier)


class Filters(BaseModel):
    """A dashboard request's filters, as the query string names them (`from`, `to`, `productId`,
    `creatorId`, `platform`)."""

    start: date
    end: date
    product_id: str | None = None
    creator_id: str | None = None
    platform: str | None = None

    def query(self) -> MetricsQuery:
        return MetricsQuery(
            start=self.start,
            end=self.end,
            creator_id=self.creator_id,
            product_id=self.product_id,
            platform=self.platform,
        )

    def parameters(self, **changes: str | None) -> dict[str, str]:
        """The query string's parameters of these filters (with some changed), empty ones left out."""
        values: dict[str, str | None] = {
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "productId": self.product_id,
            "creatorId": self.creator_id,
            "platform": self.platform,
            **changes,
        }
        return {name: value for name, value in values.items() if value}


def _day(raw: str, name: str) -> date:
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        raise InvalidInput(f"'{name}' must be a date (YYYY-MM-DD).", code="invalid_date") from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise InvalidInput(f"'{name}' must be a day from {FIRST_DAY} to {LAST_DAY}.", code="invalid_date")
    return day


def _identifier(raw: str | None, name: str) -> str | None:
    if not raw:
        return None
    try:
        return _ID.validate_python(raw)
    except ValidationError:
        raise InvalidInput(f"'{name}' is not a valid id.", code="validation_error") from None


def parse_filters(parameters: Mapping[str, str | None], today: date) -> Filters:
    """Filters from a query string; by default the last DEFAULT_DAYS days up to today."""
    end = _day(raw, "to") if (raw := parameters.get("to")) else today
    start = _day(raw, "from") if (raw := parameters.get("from")) else end - timedelta(days=DEFAULT_DAYS - 1)
    if end < start:
        raise InvalidInput("'from' is after 'to'.", code="invalid_date_range")
    if (end - start).days >= MAX_QUERY_DAYS:
        raise InvalidInput(f"A range spans at most {MAX_QUERY_DAYS} days.", code="invalid_date_range")
    platform = parameters.get("platform") or None
    if platform is not None and platform not in PLATFORMS:
        raise InvalidInput(f"'platform' is one of {', '.join(PLATFORMS)}.", code="invalid_platform")
    return Filters(
        start=start,
        end=end,
        product_id=_identifier(parameters.get("productId"), "productId"),
        creator_id=_identifier(parameters.get("creatorId"), "creatorId"),
        platform=platform,
    )


def require_staff(principal: Principal) -> None:
    if principal.kind == PrincipalKind.ANONYMOUS:
        raise Unauthorized(
            "Sign in at /login, or send 'Authorization: Bearer <key>' with a creator or admin key.",
            code="missing_credentials",
        )
    if principal.kind not in (PrincipalKind.CREATOR, PrincipalKind.ADMIN):
        raise Forbidden("The dashboards are for creators and the admin.", code="not_a_creator")


def require_admin(principal: Principal) -> None:
    require_staff(principal)
    if not principal.is_admin:
        raise Forbidden("The platform dashboard is for the admin.", code="admin_only")


def creator_products(repository: Repository, creator_id: str) -> list[Product]:
    """Every product of a creator, drafts and archived ones too (their metadata can be improved)."""
    return [product_from_stored(item) for item in repository.iterate(by_owner(creator_id, ThingType.PRODUCT))]


# The seller's dashboard


class ProductInsight(BaseModel):
    product_id: str
    name: str
    status: str
    understanding: Understanding
    questions: ProductQuestions


class CreatorDashboard(BaseModel):
    """GET /api/analytics/creator: one creator's figures and, per product, its AI understanding score
    and the questions shoppers ask about it."""

    creator_id: str
    filters: Filters
    figures: Figures
    products: list[ProductInsight] = Field(default_factory=list)
    product_names: dict[str, str] = Field(
        default_factory=dict, description="Every product of the creator (for the product filter)"
    )


def creator_scope(principal: Principal, filters: Filters) -> Filters:
    """The filters a caller may use on the seller's dashboard: a creator's own; the admin names one."""
    require_staff(principal)
    if principal.is_admin:
        if filters.creator_id is None:
            raise InvalidInput("The admin names a creator: add ?creatorId=.", code="creator_required")
        return filters
    if filters.creator_id not in (None, principal.person_id):
        raise Forbidden("A creator sees only their own figures.", code="not_owner")
    return filters.model_copy(update={"creator_id": principal.person_id})


def creator_dashboard(repository: Repository, principal: Principal, requested: Filters) -> CreatorDashboard:
    filters = creator_scope(principal, requested)
    creator_id = filters.creator_id
    assert creator_id is not None
    products = sorted(creator_products(repository, creator_id), key=lambda p: p.name.casefold())
    if filters.product_id is not None and filters.product_id not in {p.id for p in products}:
        raise Forbidden("This product is not one of this creator's.", code="not_owner")
    shown = [p for p in products if filters.product_id in (None, p.id)]
    chats = chats_to_read(
        repository, creator_id, {product.id for product in shown}, start=filters.start, end=filters.end
    )
    consent = AnalyticsConsent(repository)
    questions = common_questions(
        chats,
        [product.id for product in shown],
        start=filters.start,
        end=filters.end,
        platform=filters.platform,
        counted=consent.counted_shoppers,
    )
    known = _catalog_ids(repository, shown, creator_id)
    return CreatorDashboard(
        creator_id=creator_id,
        filters=filters,
        figures=_with_every_product(figures(repository, filters.query()), shown),
        product_names={product.id: product.name for product in products},
        products=[
            ProductInsight(
                product_id=product.id,
                name=product.name,
                status=product.status.value,
                understanding=understanding(product, known),
                questions=asked,
            )
            for product, asked in zip(shown, questions, strict=True)
        ],
    )


def _with_every_product(found: Figures, products: Sequence[Product]) -> Figures:
    """The figures with a row of zeros for each product nothing happened to in the range: a seller's
    table and CSV list all their products (with their AI understanding score), and the quiet ones are
    often those the advisor understands worst."""
    listed = {row.product_id for row in found.products}
    quiet = [
        ProductFigures(product_id=product.id, creator_id=product.creator_id)
        for product in products
        if product.id not in listed
    ]
    return found.model_copy(update={"products": [*found.products, *quiet]})


def _catalog_ids(repository: Repository, products: Sequence[Product], creator_id: str) -> set[str]:
    """The ids among these products' links that shoppers can find (one batch read): active products,
    and the creator's own in any status; plus the products' own ids. Another creator's draft or
    archived product reads as missing, as it does on the shop: the score tells nothing of it."""
    linked = sorted({pid for product in products for pid in product.linked_product_ids()})
    found = repository.get_many([product_ref(pid) for pid in linked]) if linked else {}
    linked_products = [product_from_stored(stored) for stored in found.values()]
    visible = {
        linked.id
        for linked in linked_products
        if linked.creator_id == creator_id or linked.status == ProductStatus.ACTIVE
    }
    return visible | {product.id for product in products}


# The platform's dashboard


class Period(BaseModel):
    label: str
    conversations: int
    chat_orders: int
    chat_revenue: int


class Window(BaseModel):
    """Chats and chat orders over some days, and the conversion between them."""

    start: date
    end: date
    conversations: int
    chat_orders: int
    chat_conversion: float | None


class LearningEffect(BaseModel):
    """What the current learned ranking weights did: chat conversion in the days since they were set
    (up to LEARNING_WINDOW_DAYS, today included) next to as many days before. A comparison over
    time, not an experiment: traffic and season change too (an A/B test of the weights settles it)."""

    version: int
    since: date
    before: Window
    after: Window


class AdminDashboard(BaseModel):
    """GET /api/analytics/admin: the platform's figures for the filters, the conversations of today,
    the last 7 and the last 30 days, the names of the products and creators the figures list, the
    ranking weights the learning loop chose (current and history) and their effect on conversion."""

    filters: Filters
    figures: Figures
    periods: list[Period]
    product_names: dict[str, str]
    creator_names: dict[str, str]
    ranking: WeightsHistory | None = None
    learning: LearningEffect | None = None


_PERIODS = (("Today", 1), ("Last 7 days", 7), ("Last 30 days", 30))
LEARNING_WINDOW_DAYS = 30


def admin_dashboard(
    repository: Repository, principal: Principal, filters: Filters, today: date
) -> AdminDashboard:
    require_admin(principal)
    found = figures(repository, _with_product_creator(repository, filters).query())
    ranking = RankingWeights(repository).history()
    periods = []
    for label, days in _PERIODS:
        span = filters.model_copy(update={"start": today - timedelta(days=days - 1), "end": today})
        counted = figures(repository, span.query())
        periods.append(
            Period(
                label=label,
                conversations=counted.conversations,
                chat_orders=counted.chat_orders,
                chat_revenue=counted.chat_revenue,
            )
        )
    return AdminDashboard(
        filters=filters,
        figures=found,
        periods=periods,
        # The filtered product and creator are named even with nothing in the range: the filter form
        # shows them selected (and keeps them when the dates change).
        product_names=_names(
            repository, [p.product_id for p in found.products] + _named(filters.product_id), "product"
        ),
        creator_names=_names(
            repository, [c.creator_id for c in found.creators] + _named(filters.creator_id), "creator"
        ),
        ranking=ranking,
        learning=_learning_effect(repository, filters, ranking.current, today),
    )


def _with_product_creator(repository: Repository, filters: Filters) -> Filters:
    """A product filter without a creator, with the product's creator: a product has one, and its chat
    figures are that creator's (Figures.chat_figures_scope); the form keeps the filters as asked."""
    if filters.product_id is None or filters.creator_id is not None:
        return filters
    found = repository.get_many([product_ref(filters.product_id)])
    owners = [product_from_stored(stored).creator_id for stored in found.values()]
    return filters.model_copy(update={"creator_id": owners[0]}) if owners else filters


def _window(repository: Repository, filters: Filters, start: date, end: date) -> Window:
    found = figures(repository, filters.model_copy(update={"start": start, "end": end}).query())
    return Window(
        start=start,
        end=end,
        conversations=found.conversations,
        chat_orders=found.chat_orders,
        chat_conversion=found.chat_conversion,
    )


def _learning_effect(
    repository: Repository, filters: Filters, current: WeightsVersion, today: date
) -> LearningEffect | None:
    """The current weights' effect on chat conversion (with the dashboard's other filters), when they
    were learned or rolled back to (version 0, the defaults, changed nothing)."""
    if current.version == 0 or current.created_at is None:
        return None
    since = current.created_at.astimezone(UTC).date()
    days = min((today - since).days + 1, LEARNING_WINDOW_DAYS)
    if days < 1:
        return None
    return LearningEffect(
        version=current.version,
        since=since,
        before=_window(repository, filters, since - timedelta(days=days), since - timedelta(days=1)),
        after=_window(repository, filters, since, since + timedelta(days=days - 1)),
    )


def _named(identifier: str | None) -> list[str]:
    return [] if identifier is None else [identifier]


def _names(repository: Repository, ids: Sequence[str], kind: str) -> dict[str, str]:
    refs = [product_ref(i) if kind == "product" else creator_ref(i) for i in dict.fromkeys(ids)]
    found = repository.get_many(refs) if refs else {}
    return {ref.id: str(stored.data.get("name") or ref.id) for ref, stored in found.items()}


# CSV export

CREATOR_TABLES = ("products", "daily", "chats", "questions")
ADMIN_TABLES = ("products", "creators", "platforms", "daily", "chats")


def _rate(value: float | None) -> str:
    return "" if value is None else f"{value:.4f}"


def _usd(value: float | None) -> str:
    return "" if value is None else f"{value:.6f}"


#: What makes a spreadsheet read a cell as a formula (OWASP's CSV injection list, plus a line feed).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")


def _safe(cell: Any) -> str:
    """A cell a spreadsheet shows as text: one starting like a formula, even after spaces (some
    spreadsheets trim them on import), gets a leading apostrophe."""
    text = "" if cell is None else str(cell)
    return "'" + text if text.lstrip(" ")[:1] in _FORMULA_STARTS else text


def _csv(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows([[_safe(cell) for cell in row] for row in rows])
    return out.getvalue()


def _products_rows(found: Figures, names: Mapping[str, str]) -> tuple[list[str], list[list[Any]]]:
    header = [
        "product_id",
        "name",
        "creator_id",
        "conversations",
        "mentions",
        "recommendations",
        "details_views",
        "chat_cart_adds",
        "chat_purchases",
        "traditional_purchases",
        "units_sold",
        f"revenue_{found.currency.lower()}_minor",
        "view_to_click",
        "click_to_purchase",
    ]
    rows = [
        [
            p.product_id,
            names.get(p.product_id, p.product_id),
            p.creator_id,
            p.conversations,
            p.mentions,
            p.recommendations,
            p.details_views,
            p.chat_cart_adds,
            p.chat_purchases,
            p.traditional_purchases,
            p.units_sold,
            p.revenue,
            _rate(p.view_to_click),
            _rate(p.click_to_purchase),
        ]
        for p in found.products
    ]
    return header, rows


def _daily_rows(found: Figures) -> tuple[list[str], list[list[Any]]]:
    """The days' figures; the chat ones (messages, cost, abandoned chats) where the query counts them
    (Figures.chat_figures_scope: a product's are its creator's; without its creator, zeros, not data)."""
    header = [
        "day",
        "conversations",
        "chat_orders",
        "traditional_orders",
        f"chat_revenue_{found.currency.lower()}_minor",
        f"traditional_revenue_{found.currency.lower()}_minor",
    ]
    rows: list[list[Any]] = [
        [
            d.day.isoformat(),
            d.conversations,
            d.chat_orders,
            d.traditional_orders,
            d.chat_revenue,
            d.traditional_revenue,
        ]
        for d in found.daily
    ]
    if found.chat_figures_scope != ChatFiguresScope.NONE:
        header += ["messages", "cost_usd", "abandoned"]
        for row, d in zip(rows, found.daily, strict=True):
            row += [d.messages, _usd(d.cost_usd), d.abandoned]
    return header, rows


def _chats_rows(found: Figures) -> tuple[list[str], list[list[Any]]]:
    """The chat figures of the query in one row, with whose chats they are (Figures.chat_figures_scope:
    a seller's, their products' chats) and a column per last step of abandoned chats; empty cells where
    the query does not count them, rather than zeros."""
    steps = [*ABANDON_STEPS, UNKNOWN]
    header = [
        "chat_figures_scope",
        "messages",
        "satisfaction_avg",
        "satisfaction_count",
        "input_tokens",
        "output_tokens",
        "cost_usd",
        "tokens_per_conversation",
        "cost_per_conversation_usd",
        "tokens_per_chat_order",
        "cost_per_chat_order_usd",
        "latency_p50_ms",
        "latency_p95_ms",
        "latency_samples",
        "abandoned",
        *(f"abandoned_at_{step}" for step in steps),
    ]
    if found.chat_figures_scope == ChatFiguresScope.NONE:
        return header, [[found.chat_figures_scope.value, *([""] * (len(header) - 1))]]
    row: list[Any] = [
        found.chat_figures_scope.value,
        found.messages,
        _rate(found.satisfaction_avg),
        found.satisfaction_count,
        found.input_tokens,
        found.output_tokens,
        _usd(found.cost_usd),
        _rate(found.tokens_per_conversation),
        _usd(found.cost_per_conversation_usd),
        _rate(found.tokens_per_chat_order),
        _usd(found.cost_per_chat_order_usd),
        found.latency_p50_ms,
        found.latency_p95_ms,
        found.latency_samples,
        found.abandoned,
        *(found.abandonment_last_step.get(step, 0) for step in steps),
    ]
    return header, [row]


def _table_name(requested: str | None, allowed: Sequence[str]) -> str:
    name = requested or allowed[0]
    if name not in allowed:
        raise InvalidInput(f"'table' is one of {', '.join(allowed)}.", code="invalid_table")
    return name


def creator_csv(dashboard: CreatorDashboard, table: str | None) -> tuple[str, str]:
    """(file name, CSV text) of one of the seller's tables."""
    name = _table_name(table, CREATOR_TABLES)
    if name == "products":
        names = {p.product_id: p.name for p in dashboard.products}
        header, rows = _products_rows(dashboard.figures, names)
        header.append("ai_understanding_score")
        scores = {p.product_id: p.understanding.score for p in dashboard.products}
        rows = [[*row, scores.get(row[0], "")] for row in rows]
    elif name == "daily":
        header, rows = _daily_rows(dashboard.figures)
    elif name == "chats":
        header, rows = _chats_rows(dashboard.figures)
    else:
        header = ["product_id", "name", "question", "chats"]
        rows = [
            [p.product_id, p.name, q.question, q.chats]
            for p in dashboard.products
            for q in p.questions.questions
        ]
    return _file_name(f"{dashboard.creator_id}-{name}", dashboard.filters), _csv(header, rows)


def admin_csv(dashboard: AdminDashboard, table: str | None) -> tuple[str, str]:
    name = _table_name(table, ADMIN_TABLES)
    found = dashboard.figures
    if name == "products":
        header, rows = _products_rows(found, dashboard.product_names)
    elif name == "creators":
        header = ["creator_id", "name", "conversations", "chat_orders", "traditional_orders"]
        header += [
            f"chat_revenue_{found.currency.lower()}_minor",
            f"traditional_revenue_{found.currency.lower()}_minor",
        ]
        rows = [
            [
                c.creator_id,
                dashboard.creator_names.get(c.creator_id, c.creator_id),
                c.conversations,
                c.chat_orders,
                c.traditional_orders,
                c.chat_revenue,
                c.traditional_revenue,
            ]
            for c in found.creators
        ]
    elif name == "platforms":
        header = ["platform", "conversations", "chat_orders", "traditional_orders"]
        header += [
            f"chat_revenue_{found.currency.lower()}_minor",
            f"traditional_revenue_{found.currency.lower()}_minor",
        ]
        rows = [
            [
                p.platform,
                p.conversations,
                p.chat_orders,
                p.traditional_orders,
                p.chat_revenue,
                p.traditional_revenue,
            ]
            for p in found.platforms
        ]
    elif name == "chats":
        header, rows = _chats_rows(found)
    else:
        header, rows = _daily_rows(found)
    return _file_name(f"talkshop-{name}", dashboard.filters), _csv(header, rows)


def _file_name(stem: str, filters: Filters) -> str:
    return f"{stem}-{filters.start.isoformat()}-{filters.end.isoformat()}.csv"
