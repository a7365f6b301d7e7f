"""Google Gemini through the google-genai SDK: generateContent streamed, with function calling."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from google import genai
from google.genai import errors, types

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
)


def _content(message: Message) -> types.Content:
    parts: list[types.Part] = [
        types.Part(
            function_response=types.FunctionResponse(
                id=result.call_id, name=result.name, response={"result": json.loads(result.content)}
            )
        )
        for result in message.tool_results
    ]
    if message.text:
        parts.append(types.Part(text=message.text))
    parts.extend(
        types.Part(function_call=types.FunctionCall(id=call.id, name=call.name, args=call.arguments))
        for call in message.tool_calls
    )
    return types.Content(role="model" if message.role == "assistant" else "user", parts=parts)


class GeminiProvider:
    def __init__(self, *, api_key: str, base_url: str | None, timeout_s: float) -> None:
        # attempts=1: retries are ours (talkshop.llm.calls), as for every provider.
        options = types.HttpOptions(
            base_url=base_url,
            timeout=int(timeout_s * 1000),
            retry_options=types.HttpRetryOptions(attempts=1),
        )
        self._client = genai.Client(api_key=api_key, http_options=options)

    @property
    def name(self) -> str:
        return "gemini"

    def stream(self, request: ModelRequest) -> Iterator[StreamEvent]:
        declarations = [
            types.FunctionDeclaration(
                name=tool.name, description=tool.description, parameters_json_schema=tool.input_schema
            )
            for tool in request.tools
        ]
        config = types.GenerateContentConfig(
            system_instruction=request.system,
            max_output_tokens=request.max_tokens,
            tools=[types.Tool(function_declarations=declarations)] if declarations else None,
            automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True),
        )
        try:
            chunks = self._client.models.generate_content_stream(
                model=request.model,
                contents=[_content(message) for message in request.messages],
                config=config,
            )
            yield from self._read(chunks, request.model)
        except errors.APIError as error:
            raise ProviderError(failure_kind_for_status(error.code), str(error)) from error
        except OSError as error:  # connection refused or reset, timeouts
            raise ProviderError(FailureKind.SERVER, str(error)) from error

    def _read(self, chunks: Iterator[types.GenerateContentResponse], model: str) -> Iterator[StreamEvent]:
        tokens = TokenCount()
        stop_reason: str | None = None
        calls = 0
        for chunk in chunks:
            if chunk.usage_metadata is not None:
                tokens = TokenCount(
                    input_tokens=chunk.usage_metadata.prompt_token_count or 0,
                    output_tokens=chunk.usage_metadata.candidates_token_count or 0,
                )
            for candidate in chunk.candidates or []:
                if candidate.finish_reason is not None:
                    stop_reason = str(candidate.finish_reason.value)
                for part in candidate.content.parts or [] if candidate.content else []:
                    if part.text and not part.thought:
                        yield TextChunk(text=part.text)
                    if part.function_call is not None and part.function_call.name:
                        calls += 1
                        # The Gemini API may leave the id out; the tool loop needs one to pair results.
                        call_id = part.function_call.id or f"{part.function_call.name}-{calls}"
                        arguments: dict[str, Any] = dict(part.function_call.args or {})
                        yield ToolCallRequested(
                            call=ToolCall(id=call_id, name=part.function_call.name, arguments=arguments)
                        )
        yield Finished(tokens=tokens, stop_reason=stop_reason, model=model)
