"""What the model sees of the conversation: the last turns verbatim, older ones as a short summary.

Beyond ``keep_turns`` shopper messages, history is replaced by one line per fact (preferences are
already in the system prompt): how many messages were left out and which products they showed. This
keeps the input tokens of a long chat flat instead of growing with every turn.
"""

from __future__ import annotations

from collections.abc import Mapping

from talkshop.advisor.model import ChatMessage, ConversationSession, Role
from talkshop.llm.messages import Message


def split_history(
    session: ConversationSession, keep_turns: int
) -> tuple[list[ChatMessage], list[ChatMessage]]:
    """(older, recent): recent starts at the ``keep_turns``-th last shopper message."""
    user_positions = [index for index, message in enumerate(session.messages) if message.role == Role.USER]
    if len(user_positions) <= keep_turns:
        return [], list(session.messages)
    cut = user_positions[-keep_turns]
    return session.messages[:cut], session.messages[cut:]


def summary(older: list[ChatMessage], names: Mapping[str, str]) -> str | None:
    if not older:
        return None
    shown = list(dict.fromkeys(pid for message in older for pid in message.mentioned_products))
    products = ", ".join(f"{names.get(pid, pid)} (id {pid})" for pid in shown) or "none"
    return f"{len(older)} earlier messages are summarised here. Products discussed then: {products}."


def model_messages(recent: list[ChatMessage], current: str) -> list[Message]:
    """Recent history then the current message, starting with the shopper and alternating roles."""
    messages: list[Message] = []
    for entry in [*recent, None]:
        role = "user" if entry is None or entry.role == Role.USER else "assistant"
        text = current if entry is None else entry.content
        if not messages and role == "assistant":
            continue
        if messages and messages[-1].role == role:
            messages[-1] = Message(role=role, text=f"{messages[-1].text}\n\n{text}")
        else:
            messages.append(Message(role=role, text=text))
    return messages
