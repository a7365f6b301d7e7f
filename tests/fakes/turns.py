"""Helpers to drive an advisor turn by turn in tests: sessions, a fixed fallback engine, event capture."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

from talkshop.advisor.intents import Intent, Language
from talkshop.advisor.model import (
    Advisor,
    AdvisorReply,
    ChatMessage,
    ConversationSession,
    ReplyEvent,
    Role,
    TextDelta,
    TurnContext,
)

MOMENT = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def new_session(**fields: object) -> ConversationSession:
    return ConversationSession.model_validate(
        {"id": "chat-1", "user_id": "shopper-1", "started_at": MOMENT, "last_activity_at": MOMENT, **fields}
    )


class FixedFallback:
    """Stands in for the rules engine: one fixed answer, and it counts its turns."""

    TEXT = "Here is what the rules engine suggests."

    def __init__(self) -> None:
        self.turns = 0

    def respond(self, turn: TurnContext) -> Iterator[ReplyEvent]:
        self.turns += 1
        yield TextDelta(text=self.TEXT)
        yield AdvisorReply(
            text=self.TEXT, language=Language.EN, intent=Intent.DISCOVER, preferences=turn.session.preferences
        )


def run_turn(advisor: Advisor, session: ConversationSession, message: str) -> tuple[list[str], AdvisorReply]:
    deltas: list[str] = []
    reply: AdvisorReply | None = None
    for event in advisor.respond(TurnContext(session=session, message=message)):
        if isinstance(event, TextDelta):
            deltas.append(event.text)
        else:
            assert reply is None, "exactly one reply"
            reply = event
    assert reply is not None
    return deltas, reply


def after(session: ConversationSession, message: str, reply: AdvisorReply) -> ConversationSession:
    """The session as the chat service would store it after this turn."""
    messages = [
        *session.messages,
        ChatMessage(role=Role.USER, content=message, timestamp=MOMENT),
        ChatMessage(
            role=Role.ASSISTANT,
            content=reply.text,
            timestamp=MOMENT,
            mentioned_products=reply.mentioned_products,
        ),
    ]
    return session.model_copy(
        update={
            "messages": messages,
            "preferences": reply.preferences,
            "shown_products": reply.shown_products or session.shown_products,
            "usage": session.usage.plus(reply.usage),
        }
    )
