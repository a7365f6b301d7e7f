"""The advisor's contracts: the conversation as stored, what an engine is given for one turn and what it
answers, and the catalog port every engine (rules or an LLM's tools) reads product facts through.

Engines never put a price, stock figure or product fact into a card: they name product ids, and the
chat service turns ids into cards from data. Free text an engine writes is checked against the same
data before a shopper sees it (see talkshop.advisor.grounding).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field

from talkshop.advisor.intents import Intent, Language
from talkshop.advisor.preferences import Contradiction, Preferences
from talkshop.catalog.model import Product
from talkshop.ontology.model import Identifier
from talkshop.search.model import SearchFilters
from talkshop.search.service import FoundProduct

# A session holds at most this many messages (user and assistant together); the item must stay far
# below DynamoDB's 400 KB. A shopper who reaches it is asked to start a new chat, and memory carries over.
MAX_SESSION_MESSAGES = 120
MAX_MESSAGE_CHARS = 2000
IDLE_MINUTES_BEFORE_ABANDONED = 30
# The most units of one product a chat's checkout asks for (a cart line's limit).
MAX_CHECKOUT_QUANTITY = 99


class Platform(StrEnum):
    WEB = "web"
    CHATGPT = "chatgpt"
    CLAUDE = "claude"
    GEMINI = "gemini"
    MCP = "mcp"
    API = "api"


class SessionStatus(StrEnum):
    ACTIVE = "active"
    COMPLETED = "completed"
    ABANDONED = "abandoned"


class Role(StrEnum):
    USER = "user"
    ASSISTANT = "assistant"


class RecommendationType(StrEnum):
    PRIMARY = "primary"
    ALTERNATIVE = "alternative"
    UPGRADE = "upgrade"
    RELATED = "related"


class Reaction(StrEnum):
    INTERESTED = "interested"
    DISMISSED = "dismissed"
    PURCHASED = "purchased"


class ComparisonRow(BaseModel):
    point: str
    values: dict[str, str] = Field(description="Product id -> what the data says on this point")


class Comparison(BaseModel):
    product_ids: list[str]
    rows: list[ComparisonRow]
    recommended_product_id: str | None = None
    recommendation: str = Field(description="Which suits this shopper's profile, and why")


class ChatMessage(BaseModel):
    """One message of a chat. What an assistant message records beyond its text is what replaying
    its turn needs (a retried message with the same client id gets this turn's answer again)."""

    model_config = ConfigDict(extra="forbid")

    role: Role
    content: str = Field(max_length=8000)
    timestamp: datetime
    mentioned_products: list[str] = Field(default_factory=list)
    mentioned_creators: list[str] = Field(default_factory=list)
    intent: Intent | None = None
    # User messages: the client's idempotency key of the turn, if it sent one.
    client_message_id: str | None = None
    # Assistant messages: card ids in display order, the turn's ai_recommendation ids, and the parts of
    # the answer that are not in its text.
    shown_products: list[str] = Field(default_factory=list)
    recommendation_ids: list[str] = Field(default_factory=list)
    comparison: Comparison | None = None
    question: str | None = None
    engine: str | None = None
    # Assistant messages: the cart the turn started a checkout with, and the discount code it offered.
    checkout_cart_id: str | None = None
    offered_code: str | None = None
    # Assistant messages: the order this message confirms (one confirmation per order; the chat page
    # anchors it as #order-<id>).
    order_id: str | None = None


class Usage(BaseModel):
    """What a turn (or a whole conversation) cost in model tokens; zero for the rules engine."""

    model_config = ConfigDict(extra="forbid")

    input_tokens: int = 0
    output_tokens: int = 0
    cached: bool = False
    cost_usd: float = 0.0
    model: str | None = None

    def plus(self, other: Usage) -> Usage:
        return Usage(
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            cost_usd=round(self.cost_usd + other.cost_usd, 6),
            model=other.model or self.model,
        )


class ConversationSession(BaseModel):
    """The conversation_session thing: one chat, its history and what the advisor learnt in it."""

    model_config = ConfigDict(extra="forbid")

    id: Identifier
    user_id: Identifier
    platform: Platform = Platform.WEB
    status: SessionStatus = SessionStatus.ACTIVE
    language: Language = Language.EN
    messages: list[ChatMessage] = Field(default_factory=list)
    preferences: Preferences = Field(default_factory=Preferences)
    needs: list[str] = Field(default_factory=list)
    # Ordered product ids of the cards shown last: "the second one" points into this list.
    shown_products: list[str] = Field(default_factory=list)
    suggested_products: list[str] = Field(default_factory=list, description="Every product recommended")
    viewed_products: list[str] = Field(default_factory=list)
    carted_products: list[str] = Field(default_factory=list)
    orders: list[str] = Field(default_factory=list)
    total_value: int = Field(default=0, ge=0, description="Minor units of `currency`, orders placed")
    currency: str | None = None
    creators_mentioned: list[str] = Field(default_factory=list)
    satisfaction: int | None = Field(default=None, ge=1, le=5)
    feedback: str | None = Field(default=None, max_length=2000)
    usage: Usage = Field(default_factory=Usage)
    started_at: datetime
    last_activity_at: datetime
    ended_at: datetime | None = None
    message_count: int = 0
    # Experiment id -> arm, from the first turn that recommended under it (its exposure).
    experiment_arms: dict[str, str] = Field(default_factory=dict)
    version: int = 0


class RecommendedProduct(BaseModel):
    """One product an engine recommends in a turn (becomes an ai_recommendation thing)."""

    model_config = ConfigDict(extra="forbid")

    product_id: str
    type: RecommendationType = RecommendationType.PRIMARY
    reasons: list[str] = Field(min_length=1, description="Reasoning steps, each citing product data")
    confidence: float = Field(ge=0, le=1)
    features: dict[str, float] = Field(default_factory=dict, description="Its ranking features")


class ShopperMemory(BaseModel):
    """What Talkshop remembers of a known shopper across chats (knowledge about the person)."""

    model_config = ConfigDict(extra="forbid")

    user_id: str
    preferences: Preferences = Field(default_factory=Preferences)
    purchased_products: list[str] = Field(default_factory=list)
    recommended_products: list[str] = Field(default_factory=list)
    dismissed_products: list[str] = Field(default_factory=list)
    sessions: int = Field(default=0, ge=0, description="Chats started, the current one included")
    last_session_at: datetime | None = None


class TurnContext(BaseModel):
    """Everything an engine sees for one shopper message."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    session: ConversationSession
    message: str = Field(max_length=MAX_MESSAGE_CHARS)
    memory: ShopperMemory | None = None
    # The ranking weights of this chat (learned, or its experiment arm's); None: ranking.WEIGHTS.
    ranking_weights: dict[str, float] | None = None

    def known_preferences(self) -> Preferences:
        """What is known before this message: the chat's preferences, or on the first message of a chat
        that has none, what the shopper's memory holds."""
        preferences = self.session.preferences
        first_message = not any(message.role == Role.USER for message in self.session.messages)
        if first_message and self.memory is not None and preferences == Preferences():
            return self.memory.preferences
        return preferences


class AdvisorReply(BaseModel):
    """An engine's answer to one message. Cards are built from `shown_products` by the chat service."""

    model_config = ConfigDict(extra="forbid")

    text: str
    language: Language
    intent: Intent
    preferences: Preferences
    needs: list[str] = Field(default_factory=list)
    contradictions: list[Contradiction] = Field(default_factory=list)
    recommendations: list[RecommendedProduct] = Field(default_factory=list)
    shown_products: list[str] = Field(default_factory=list, description="Card ids in display order")
    mentioned_products: list[str] = Field(default_factory=list)
    viewed_products: list[str] = Field(default_factory=list, description="Products whose details were given")
    comparison: Comparison | None = None
    question: str | None = Field(default=None, description="A clarifying question the reply asks")
    engine: str = "rules"
    usage: Usage = Field(default_factory=Usage)
    checkout_request: CheckoutRequest | None = Field(
        default=None, description="Start the chat's checkout with this product (a BUY turn)"
    )
    offered_discount_code: str | None = Field(
        default=None, description="A code the reply offers; the chat's checkout applies it"
    )


class CheckoutRequest(BaseModel):
    """An engine's request to start the chat's checkout with a product; the chat service performs it."""

    model_config = ConfigDict(extra="forbid")

    product_id: str
    quantity: int = Field(default=1, ge=1, le=MAX_CHECKOUT_QUANTITY)


class CodeOffer(BaseModel):
    """A discount code that applies for this shopper to the products in question, and what it saves.

    Structured rather than worded, so each engine says it in the shopper's language from these facts.
    """

    model_config = ConfigDict(extra="forbid")

    code: str
    percent: int | None = Field(default=None, description="Percentage off, for a percentage code")
    amount_off: int | None = Field(default=None, description="Minor units off, for a fixed-amount code")
    first_order_only: bool = False
    saving: int = Field(ge=0, description="Minor units saved on the products in question")
    currency: str
    product_ids: list[str] = Field(description="The products the saving was computed on, one of each")


class OrderSummary(BaseModel):
    """One of the shopper's orders as an engine may tell it: all from the stored order."""

    model_config = ConfigDict(extra="forbid")

    id: str
    status: str
    total: int
    currency: str
    created_at: datetime
    product_names: list[str]


class CodeRefused(Exception):
    """A code that does not apply for this shopper and these products; the message says which rule."""


class TextDelta(BaseModel):
    """A piece of the reply's text, streamed before the reply is complete."""

    text: str


ReplyEvent = TextDelta | AdvisorReply


class Advisor(Protocol):
    """An engine: the rules engine or an LLM one. Yields text deltas, then exactly one AdvisorReply."""

    def respond(self, turn: TurnContext) -> Iterator[ReplyEvent]: ...


class ShopCatalog(Protocol):
    """Product facts for engines: search cards (from the index) and full products (from the table).

    Only active products are ever returned; an unknown or inactive id is simply absent.
    """

    def search(
        self, query: str, *, filters: SearchFilters, needs: Sequence[str] = (), limit: int = 20
    ) -> list[FoundProduct]: ...

    def products(self, product_ids: Sequence[str]) -> dict[str, Product]: ...

    def brands(self) -> list[str]: ...


class ShopCommerce(Protocol):
    """What engines may read of commerce: codes a shopper could use and the shopper's own orders.

    Read-only: an engine asks for a checkout or offers a code through its AdvisorReply, and the chat
    service writes. Every answer is computed from stored data with the checkout's own rules.
    """

    def offer_for(self, user_id: str, product_ids: Sequence[str]) -> CodeOffer | None:
        """The code that saves this shopper most on one of each product, or None."""
        ...

    def check_code(self, user_id: str, code: str, product_ids: Sequence[str]) -> CodeOffer:
        """What ``code`` saves this shopper on one of each product; CodeRefused when it does not apply."""
        ...

    def recent_orders(self, user_id: str, limit: int) -> list[OrderSummary]:
        """The shopper's latest orders, newest first."""
        ...


def final_reply(events: Iterator[ReplyEvent]) -> AdvisorReply:
    """Drain an engine's events and return its reply (for callers that do not stream)."""
    reply: AdvisorReply | None = None
    for event in events:
        if isinstance(event, AdvisorReply):
            reply = event
    if reply is None:
        raise RuntimeError("the engine ended without a reply")
    return reply
