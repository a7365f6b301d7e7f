"""What analytics speaks in: the metric item (an aggregate the consumer keeps), the query a dashboard
asks and the figures it gets back.

Metric items hold counts only: ids of days, platforms, creators and products, never message text or
anything about a shopper (see docs/analytics.md for every counter and how each figure is derived).
"""

from __future__ import annotations

from datetime import date, timedelta
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, computed_field, model_validator

from talkshop.ontology.model import Identifier

MAX_QUERY_DAYS = 366
DEFAULT_CURRENCY = "EUR"
# The platform of orders and carts that did not come from a chat: the web storefront, or an external
# agent buying through the Agentic Commerce Protocol without a chat of ours.
STOREFRONT_PLATFORM = "storefront"
AGENT_PLATFORM = "acp"


class ChatFiguresScope(StrEnum):
    """Whose chats a query's chat figures count (Figures.chat_figures_scope)."""

    ALL = "all"  # every chat (of the platform filter)
    CREATOR = "creator"  # the chats and turns where the filtered creator's products came up
    NONE = "none"  # a product filter without its creator: not counted, the figures read 0


class MetricScope(StrEnum):
    TOTAL = "total"  # per day x platform
    CREATOR = "creator"  # per day x creator x platform
    PRODUCT = "product"  # per day x product x creator x platform


class MetricItem(BaseModel):
    """One aggregate: the counters of one scope on one UTC day. `counts` maps a counter name (see
    analytics.aggregate) to its value; money in minor units, cost in micro-dollars, all integers."""

    model_config = ConfigDict(frozen=True)

    day: date
    scope: MetricScope
    platform: str
    creator_id: str | None = None
    product_id: str | None = None
    counts: dict[str, int] = Field(default_factory=dict)


class MetricsQuery(BaseModel):
    """Which figures: a UTC date range (both ends included) and optional filters."""

    model_config = ConfigDict(extra="forbid")

    start: date
    end: date
    creator_id: Identifier | None = None
    product_id: Identifier | None = None
    platform: Identifier | None = None
    # Revenue and order values are summed in one currency; orders in others are counted, not summed.
    currency: str = Field(default=DEFAULT_CURRENCY, pattern=r"^[A-Z]{3}$")

    @model_validator(mode="after")
    def _sensible_range(self) -> MetricsQuery:
        if self.end < self.start:
            raise ValueError("end is before start")
        if (self.end - self.start).days >= MAX_QUERY_DAYS:
            raise ValueError(f"a query spans at most {MAX_QUERY_DAYS} days")
        return self

    def days(self) -> list[date]:
        return [self.start + timedelta(days=offset) for offset in range((self.end - self.start).days + 1)]


class ProductFigures(BaseModel):
    product_id: str
    creator_id: str
    conversations: int = 0  # chats in which the product came up (mentioned, recommended or viewed)
    mentions: int = 0
    recommendations: int = 0
    details_views: int = 0
    chat_cart_adds: int = 0
    traditional_cart_adds: int = 0
    chat_purchases: int = 0  # chat orders with the product
    traditional_purchases: int = 0
    units_sold: int = 0
    revenue: int = 0  # minor units, the query's currency
    view_to_click: float | None = None  # chat cart adds / details views
    click_to_purchase: float | None = None  # chat purchases / chat cart adds
    recommendation_to_purchase: float | None = None  # chat purchases / recommendations


class Breakdown(BaseModel):
    """The order figures of one slice (a creator, a platform, a day)."""

    conversations: int = 0
    chat_orders: int = 0
    traditional_orders: int = 0
    chat_revenue: int = 0
    traditional_revenue: int = 0


class CreatorFigures(Breakdown):
    """Conversations: chats in which one of the creator's products came up; orders: those with at least
    one of their products; revenue: their lines only."""

    creator_id: str


class PlatformFigures(Breakdown):
    platform: str


class DayFigures(Breakdown):
    day: date
    messages: int = 0
    cost_usd: float = 0.0
    abandoned: int = 0


class Figures(BaseModel):
    """Everything a dashboard shows for one query, computed from metric items only.

    Rates are None when their denominator is zero (nothing to divide), never a made-up 0.
    Scoped to a creator or a product, conversation figures count the chats where their products came
    up, orders those that bought them and revenue only their lines. The chat figures (messages, LLM
    usage and its cost per conversation and order, reply times, satisfaction, abandonment) count the
    chats and turns of `chat_figures_scope`: scoped to a creator, those where their products came up;
    a product's are its creator's (a turn, a rating, an abandoned chat is counted per creator, not per
    product). Searches without results, unanswered and clarifying questions name no product: they are
    counted for the unscoped query only (`search_figures_counted`).
    """

    query: MetricsQuery
    currency: str
    conversations: int = 0
    messages: int = 0  # shopper messages answered
    chat_orders: int = 0
    traditional_orders: int = 0
    # The traditional funnel's entry: storefront visits (store page views and storefront searches)
    # and carts started outside a chat; traditional conversion is storefront orders over visits (an
    # order an agent placed over ACP had no visit nor cart: it counts in traditional_orders only).
    store_visits: int = 0
    traditional_carts: int = 0
    chat_conversion: float | None = None  # chat orders / conversations
    traditional_conversion: float | None = None  # storefront orders / store visits
    traditional_cart_conversion: float | None = None  # storefront orders / carts started outside chat
    chat_revenue: int = 0  # minor units of `currency`: conversational revenue
    traditional_revenue: int = 0
    aov_chat: float | None = None
    aov_traditional: float | None = None
    avg_messages_before_purchase: float | None = None
    satisfaction_avg: float | None = None  # 1-5, over the chats that were rated
    satisfaction_count: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    tokens_per_conversation: float | None = None
    cost_per_conversation_usd: float | None = None
    cost_per_chat_order_usd: float | None = None
    tokens_per_chat_order: float | None = None  # LLM tokens (input and output) per chat order
    latency_p50_ms: int | None = None  # upper bound of the histogram bucket holding the median
    latency_p95_ms: int | None = None
    latency_samples: int = 0
    abandoned: int = 0
    abandonment_last_step: dict[str, int] = Field(default_factory=dict)
    questions_asked: int = 0  # clarifying questions the advisor asked
    no_result_searches: int = 0
    unanswered_questions: int = 0
    products: list[ProductFigures] = Field(default_factory=list)
    creators: list[CreatorFigures] = Field(default_factory=list)
    platforms: list[PlatformFigures] = Field(default_factory=list)
    daily: list[DayFigures] = Field(default_factory=list)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def chat_figures_scope(self) -> ChatFiguresScope:
        """Whose chats the chat figures count: messages, tokens and cost (and their ratios per
        conversation and chat order), reply times, satisfaction, abandonment and its last step, and the
        days' messages, cost and abandoned chats. "all": every chat; "creator": the turns that showed or
        named the creator's products and the chats where they came up, with a product filter too (then
        the ratios divide by the creator's conversations and chat orders, not the product's); "none": a
        product filter without its creator, where they read 0 and a dashboard must not show them."""
        if self.query.creator_id is not None:
            return ChatFiguresScope.CREATOR
        if self.query.product_id is not None:
            return ChatFiguresScope.NONE
        return ChatFiguresScope.ALL

    @computed_field  # type: ignore[prop-decorator]
    @property
    def search_figures_counted(self) -> bool:
        """Whether searches without results, unanswered and clarifying questions are counted: for the
        unscoped query only (a turn that found nothing shows no creator's product)."""
        return self.query.creator_id is None and self.query.product_id is None
