"""The provider-neutral conversation model: messages, tool calls, stream events, and the provider port.

Every provider adapter (Anthropic, OpenAI and OpenAI-compatible servers, Gemini) turns a
:class:`ModelRequest` into its SDK's call and its SDK's stream back into :class:`StreamEvent` values, so
the advisor's tool loop never sees a vendor type.
"""

from __future__ import annotations

from collections.abc import Iterator
from enum import StrEnum
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field


class ToolSpec(BaseModel):
    """A tool the model may call: its input is a JSON schema (from a pydantic model)."""

    model_config = ConfigDict(frozen=True)

    name: str
    description: str
    input_schema: dict[str, Any]


class ToolCall(BaseModel):
    id: str
    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)


class ToolResult(BaseModel):
    call_id: str
    name: str
    content: str = Field(description="JSON text the tool answered")
    is_error: bool = False


class Message(BaseModel):
    """One message of the model conversation.

    ``user``: the shopper's text, or tool results (answers to the previous assistant message's calls).
    ``assistant``: the model's text and the tools it called.
    """

    role: Literal["user", "assistant"]
    text: str = ""
    tool_calls: list[ToolCall] = Field(default_factory=list)
    tool_results: list[ToolResult] = Field(default_factory=list)


class ModelRequest(BaseModel):
    model: str
    system: str
    messages: list[Message]
    tools: list[ToolSpec] = Field(default_factory=list)
    max_tokens: int = 1024


class TokenCount(BaseModel):
    input_tokens: int = 0
    output_tokens: int = 0


class TextChunk(BaseModel):
    kind: Literal["text"] = "text"
    text: str


class ToolCallRequested(BaseModel):
    kind: Literal["tool_call"] = "tool_call"
    call: ToolCall


class Finished(BaseModel):
    """The last event of a stream: what the call consumed."""

    kind: Literal["finished"] = "finished"
    tokens: TokenCount
    stop_reason: str | None = None
    model: str


StreamEvent = TextChunk | ToolCallRequested | Finished


class FailureKind(StrEnum):
    RATE_LIMITED = "rate_limited"  # 429: back off and retry
    OVERLOADED = "overloaded"  # 529 / 503: try the other model
    SERVER = "server"  # other 5xx, connection errors and timeouts: retry
    FATAL = "fatal"  # 4xx, bad credentials, malformed answers: no retry


class ProviderError(Exception):
    """A provider call failed; ``kind`` decides whether to retry, switch model or give up."""

    def __init__(self, kind: FailureKind, message: str, *, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.retry_after_s = retry_after_s

    @property
    def retryable(self) -> bool:
        return self.kind != FailureKind.FATAL


def failure_kind_for_status(status: int) -> FailureKind:
    if status == 429:
        return FailureKind.RATE_LIMITED
    if status in (503, 529):
        return FailureKind.OVERLOADED
    if status >= 500 or status == 408:
        return FailureKind.SERVER
    return FailureKind.FATAL


def retry_after_seconds(headers: Any) -> float | None:
    """The server's Retry-After (seconds) or retry-after-ms, when it sent one."""
    if headers is None:
        return None
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            return max(0.0, float(value) * scale)
        except ValueError:
            continue
    return None


class ChatProvider(Protocol):
    """One LLM vendor's SDK behind the neutral model. ``stream`` raises :class:`ProviderError` only."""

    @property
    def name(self) -> str: ...

    def stream(self, request: ModelRequest) -> Iterator[StreamEvent]: ...
