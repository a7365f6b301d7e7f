"""OpenAI chat completions with tools, streamed; also any OpenAI-compatible server (Ollama, vLLM)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import openai

from talkshop.llm.messages import (
    FailureKind,
    Finished,
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


def _messages(request: ModelRequest) -> list[dict[str, Any]]:
    converted: list[dict[str, Any]] = [{"role": "system", "content": request.system}]
    for message in request.messages:
        converted.extend(
            {"role": "tool", "tool_call_id": result.call_id, "content": result.content}
            for result in message.tool_results
        )
        if message.role == "assistant":
            entry: dict[str, Any] = {"role": "assistant", "content": message.text or None}
            if message.tool_calls:
                entry["tool_calls"] = [
                    {
                        "id": call.id,
                        "type": "function",
                        "function": {"name": call.name, "arguments": json.dumps(call.arguments)},
                    }
                    for call in message.tool_calls
                ]
            converted.append(entry)
        elif message.text:
            converted.append({"role": "user", "content": message.text})
    return converted


def _error(error: openai.APIError) -> ProviderError:
    if isinstance(error, openai.APIStatusError):
        return ProviderError(
            failure_kind_for_status(error.status_code),
            str(error),
            retry_after_s=retry_after_seconds(error.response.headers),
        )
    if isinstance(error, openai.APIConnectionError):
        return ProviderError(FailureKind.SERVER, str(error))
    return ProviderError(FailureKind.FATAL, str(error))


class OpenAIProvider:
    """``compatible`` servers get the widely supported ``max_tokens``; OpenAI's own the newer name."""

    def __init__(
        self, *, api_key: str, base_url: str | None, timeout_s: float, compatible: bool = False
    ) -> None:
        # Retries are ours (talkshop.llm.calls), as for every provider.
        self._client = openai.OpenAI(api_key=api_key, base_url=base_url, timeout=timeout_s, max_retries=0)
        self._compatible = compatible

    @property
    def name(self) -> str:
        return "openai_compatible" if self._compatible else "openai"

    def stream(self, request: ModelRequest) -> Iterator[StreamEvent]:
        tools: Any = [
            {
                "type": "function",
                "function": {
                    "name": tool.name,
                    "description": tool.description,
                    "parameters": tool.input_schema,
                },
            }
            for tool in request.tools
        ]
        messages: Any = _messages(request)
        try:
            chunks = self._client.chat.completions.create(
                model=request.model,
                messages=messages,
                stream=True,
                stream_options={"include_usage": True},
                tools=tools or openai.omit,
                max_tokens=request.max_tokens if self._compatible else openai.omit,
                max_completion_tokens=openai.omit if self._compatible else request.max_tokens,
            )
            yield from self._read(chunks, request.model)
        except openai.APIError as error:
            raise _error(error) from error

    def _read(self, chunks: Any, model: str) -> Iterator[StreamEvent]:
        tokens = TokenCount()
        stop_reason: str | None = None
        calls: dict[int, dict[str, str]] = {}
        for chunk in chunks:
            if chunk.usage is not None:
                tokens = TokenCount(
                    input_tokens=chunk.usage.prompt_tokens, output_tokens=chunk.usage.completion_tokens
                )
            for choice in chunk.choices:
                delta = choice.delta
                if delta.content:
                    yield TextChunk(text=delta.content)
                for part in delta.tool_calls or []:
                    call = calls.setdefault(part.index, {"id": "", "name": "", "arguments": ""})
                    call["id"] = part.id or call["id"]
                    if part.function is not None:
                        call["name"] += part.function.name or ""
                        call["arguments"] += part.function.arguments or ""
                if choice.finish_reason:
                    stop_reason = choice.finish_reason
        for index in sorted(calls):
            call = calls[index]
            arguments = json.loads(call["arguments"]) if call["arguments"].strip() else {}
            yield ToolCallRequested(
                call=ToolCall(id=call["id"] or f"call-{index}", name=call["name"], arguments=arguments)
            )
        yield Finished(tokens=tokens, stop_reason=stop_reason, model=model)
