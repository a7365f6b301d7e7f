"""The chat API's bodies, in camelCase on the wire (snake_case names are accepted too).

The stored models (talkshop.advisor.model) keep Python's snake_case; the views here are those models
with camelCase aliases, so the two cannot drift apart field by field.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from pydantic.alias_generators import to_camel

from talkshop.advisor.intents import Intent, Language
from talkshop.advisor.model import (
    MAX_MESSAGE_CHARS,
    ChatMessage,
    Comparison,
    ConversationSession,
    Platform,
    Reaction,
    RecommendationType,
    SessionStatus,
    Usage,
)
from talkshop.advisor.preferences import Budget, Contradiction, Preferences
from talkshop.commerce.carts import ChatCheckoutStarted
from talkshop.errors import InvalidInput
from talkshop.ontology.model import Identifier

CAMEL = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")
MAX_REACTIONS = 50

MessageText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_MESSAGE_CHARS)
]
# A client's idempotency key for one message: a UUID, a ULID or any short token of its own.
CLIENT_MESSAGE_ID_PATTERN = r"^[A-Za-z0-9._:~-]{1,100}$"
IDEMPOTENCY_KEY_HEADER = "Idempotency-Key"
ClientMessageId = Annotated[str, StringConstraints(pattern=CLIENT_MESSAGE_ID_PATTERN)]


class BudgetView(Budget):
    model_config = CAMEL


class PreferencesView(Preferences):
    """Preferences on the wire; also the body of PUT /api/chat/session/{id}/preferences."""

    model_config = CAMEL

    budget: BudgetView | None = None

    def to_preferences(self) -> Preferences:
        return Preferences.model_validate(self.model_dump())

    @classmethod
    def of(cls, preferences: Preferences) -> PreferencesView:
        return cls.model_validate(preferences.model_dump())


class ComparisonView(Comparison):
    model_config = CAMEL


class MessageView(ChatMessage):
    model_config = CAMEL

    comparison: ComparisonView | None = None


class UsageView(Usage):
    model_config = CAMEL


class SessionView(ConversationSession):
    """A chat with its full history (GET /api/chat/session/{id})."""

    model_config = CAMEL

    # Narrowed to the camelCase view; the stored model's list is invariant, hence the ignore.
    messages: list[MessageView] = Field(default_factory=list)  # type: ignore[assignment]
    preferences: PreferencesView = Field(default_factory=PreferencesView)
    usage: UsageView = Field(default_factory=UsageView)

    @classmethod
    def of(cls, session: ConversationSession) -> SessionView:
        return cls.model_validate(session.model_dump())


class StartChatRequest(BaseModel):
    model_config = CAMEL

    platform: Platform = Platform.WEB
    user_id: Identifier | None = Field(
        default=None, description="The shopper; the admin names any, a shopper token names only its own"
    )
    language: Language | None = Field(default=None, description="Default: detected from the first message")


class StartedChat(SessionView):
    shopper_token: str | None = Field(
        default=None,
        description="Only when the chat created a new shopper: their token, shown once. Send it as "
        "'Authorization: Bearer <token>' on every later call.",
    )


class SessionSummary(BaseModel):
    """One line of a shopper's chat list."""

    model_config = CAMEL

    id: str
    user_id: str
    platform: Platform
    status: SessionStatus
    language: Language
    message_count: int
    started_at: datetime
    last_activity_at: datetime
    ended_at: datetime | None
    satisfaction: int | None
    preview: str = Field(description="The start of the shopper's first message")

    @classmethod
    def of(cls, session: ConversationSession) -> SessionSummary:
        first = next((message.content for message in session.messages if message.role == "user"), "")
        return cls(
            **session.model_dump(
                include={
                    "id",
                    "user_id",
                    "platform",
                    "status",
                    "language",
                    "message_count",
                    "started_at",
                    "last_activity_at",
                    "ended_at",
                    "satisfaction",
                }
            ),
            preview=first[:120],
        )


class SessionList(BaseModel):
    model_config = CAMEL

    items: list[SessionSummary]
    next_cursor: str | None = None


class ChatMessageRequest(BaseModel):
    model_config = CAMEL

    session_id: Identifier
    message: MessageText
    user_id: Identifier | None = Field(default=None, description="If given, must be the chat's shopper")
    client_message_id: ClientMessageId | None = Field(
        default=None,
        description="Makes a retry safe: the same id on the same chat answers the recorded turn again "
        "instead of a second turn. The Idempotency-Key header is the same thing.",
    )

    def with_idempotency_key(self, header: str | None) -> ChatMessageRequest:
        """The request with the Idempotency-Key header's value as its client message id: one of the
        two, or both when they agree."""
        if header is None:
            return self
        if not re.fullmatch(CLIENT_MESSAGE_ID_PATTERN, header):
            raise InvalidInput(
                f"{IDEMPOTENCY_KEY_HEADER} must be 1 to 100 letters, digits or ._:~- characters.",
                code="invalid_idempotency_key",
            )
        if self.client_message_id not in (None, header):
            raise InvalidInput(
                f"clientMessageId and the {IDEMPOTENCY_KEY_HEADER} header differ: send one of them.",
                code="idempotency_key_mismatch",
            )
        return self.model_copy(update={"client_message_id": header})


class ProductCard(BaseModel):
    """A product as shown in a chat, built from the catalog's data (never from an engine's words)."""

    model_config = CAMEL

    id: str
    name: str
    brand: str
    category: str
    creator_id: str
    price: int = Field(description="Minor units of `currency`")
    currency: str
    price_display: str
    stock: int
    in_stock: bool
    rating: float | None
    image: str | None


class RecommendationView(BaseModel):
    model_config = CAMEL

    id: str
    product_id: str
    type: RecommendationType
    reasons: list[str]
    confidence: float


class InternalState(BaseModel):
    """What the advisor understood, for the client to show or let the shopper correct."""

    model_config = CAMEL

    intent: Intent
    language: Language
    needs: list[str]
    preferences: PreferencesView
    contradictions: list[Contradiction]
    engine: str


class ChatReply(BaseModel):
    model_config = CAMEL

    session_id: str
    response: str
    suggested_products: list[ProductCard]
    recommendations: list[RecommendationView]
    comparison: ComparisonView | None = None
    question: str | None = None
    internal_state: InternalState
    usage: UsageView
    checkout: ChatCheckoutStarted | None = Field(
        default=None, description="The cart a buying message started and its checkout page"
    )


class ReactionInput(BaseModel):
    model_config = CAMEL

    product_id: Identifier
    reaction: Reaction


class FeedbackRequest(BaseModel):
    model_config = CAMEL

    satisfaction: int = Field(ge=1, le=5)
    feedback: str | None = Field(default=None, max_length=2000)
    reactions: list[ReactionInput] = Field(default_factory=list, max_length=MAX_REACTIONS)
