"""Anthropic Claude through the anthropic SDK: Messages API with tool use, streamed (SSE)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import anthropic

from talkshop.llm.messages import (
    FailureKind,
    Finished,
    Message,
    ModelRequest,
    ProviderError,
    StreamEvent,
    TextChunk,
    TokenCount,
    ToolCall,
    ToolCallRequested,
    failure_kind_for_status,
    retry_after_seconds,
)

# Error types Anthropic sends inside a stream that has already answered 200.
_STREAM_ERROR_KINDS = {
    "overloaded_error": FailureKind.OVERLOADED,
    "rate_limit_error": FailureKind.RATE_LIMITED,
    "api_error": FailureKind.SERVER,
}


def _content(message: Message) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = [
        {
            "type": "tool_result",
            "tool_use_id": result.call_id,
            "content": result.content,
            "is_error": result.is_error,
        }
        for result in message.tool_results
    ]
    if message.text:
        blocks.append({"type": "text", "text": message.text})
    blocks.extend(
        {"type": "tool_use", "id": call.id, "name": call.name, "input": call.arguments}
        for call in message.tool_calls
    )
    return blocks


def _error(error: anthropic.APIError) -> ProviderError:
    if isinstance(error, anthropic.APIStatusError):
        body = error.body if isinstance(error.body, dict) else {}
        detail = body.get("error", {}) if isinstance(body.get("error"), dict) else {}
        kind = _STREAM_ERROR_KINDS.get(str(detail.get("type", "")))
        if kind is None:
            kind = failure_kind_for_status(error.status_code)
        return ProviderError(kind, str(error), retry_after_s=retry_after_seconds(error.response.headers))
    if isinstance(error, anthropic.APIConnectionError):
        return ProviderError(FailureKind.SERVER, str(error))
    return ProviderError(FailureKind.FATAL, str(error))


class AnthropicProvider:
    def __init__(self, *, api_key: str, base_url: str | None, timeout_s: float) -> None:
        # Retries are ours (talkshop.llm.calls): one policy for every provider, and a switch of model
        # when one is overloaded, which the SDK cannot do.
        self._client = anthropic.Anthropic(
            api_key=api_key, base_url=base_url, timeout=timeout_s, max_retries=0
        )

    @property
    def name(self) -> str:
        return "anthropic"

    def stream(self, request: ModelRequest) -> Iterator[StreamEvent]:
        tools: Any = [
            {"name": tool.name, "description": tool.description, "input_schema": tool.input_schema}
            for tool in request.tools
        ]
        messages: Any = [{"role": message.role, "content": _content(message)} for message in request.messages]
        try:
            events = self._client.messages.create(
                model=request.model,
                system=request.system,
                messages=messages,
                max_tokens=request.max_tokens,
                stream=True,
                **({"tools": tools} if tools else {}),
            )
            yield from self._read(events, request.model)
        except anthropic.APIError as error:
            raise _error(error) from error

    def _read(self, events: Any, model: str) -> Iterator[StreamEvent]:
        tokens = TokenCount()
        stop_reason: str | None = None
        tool: dict[str, Any] | None = None
        for event in events:
            if event.type == "message_start":
                usage = event.message.usage
                tokens.input_tokens = usage.input_tokens + (usage.cache_read_input_tokens or 0)
                tokens.output_tokens = usage.output_tokens
            elif event.type == "content_block_start" and event.content_block.type == "tool_use":
                tool = {"id": event.content_block.id, "name": event.content_block.name, "json": ""}
            elif event.type == "content_block_delta":
                if event.delta.type == "text_delta" and event.delta.text:
                    yield TextChunk(text=event.delta.text)
                elif event.delta.type == "input_json_delta" and tool is not None:
                    tool["json"] += event.delta.partial_json
            elif event.type == "content_block_stop" and tool is not None:
                arguments = json.loads(tool["json"]) if tool["json"].strip() else {}
                yield ToolCallRequested(call=ToolCall(id=tool["id"], name=tool["name"], arguments=arguments))
                tool = None
            elif event.type == "message_delta":
                stop_reason = event.delta.stop_reason
                tokens.output_tokens = event.usage.output_tokens
        yield Finished(tokens=tokens, stop_reason=stop_reason, model=model)
