"""Fake Anthropic, OpenAI and Gemini servers on 127.0.0.1 that speak each provider's wire format.

A test scripts what the "model" answers, one entry per request: :class:`Say` (streamed text chunks, tool
calls and token usage) or :class:`Fail` (an HTTP error in the provider's error shape). Each server
checks the API key, records every request body it got, and answers 400 with the reason when a request
is malformed, so a test fails with that reason. The real SDKs talk to them over HTTP; nothing is mocked
and nothing leaves the machine.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any, Self

from tests.fakes.local_http import LocalHttpServer, QuietHandler

API_KEY = "test-llm-key"


@dataclass
class Say:
    text: list[str] = field(default_factory=list)
    tool_calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    input_tokens: int = 1000
    output_tokens: int = 100


@dataclass
class Fail:
    status: int
    kind: str = "error"
    headers: dict[str, str] = field(default_factory=dict)


Script = Say | Fail


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]

    @property
    def model(self) -> str:
        return str(self.body.get("model") or self.path.split("/models/")[-1].split(":")[0])


class FakeLlmServer:
    """One provider's fake; subclasses render a :class:`Say` in their wire format."""

    def __init__(self) -> None:
        self.script: list[Script] = []
        self.received: list[Received] = []
        self._lock = threading.Lock()
        server = self

        class Handler(QuietHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                body = json.loads(self.rfile.read(length) or b"{}")
                headers = {name.lower(): value for name, value in self.headers.items()}
                server.handle(self, Received(self.path, headers, body))

        self._server = LocalHttpServer(Handler)

    @property
    def port(self) -> int:
        return self._server.port

    def start(self) -> Self:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    # --- what subclasses define --------------------------------------------------------------

    def authorised(self, request: Received) -> bool:
        raise NotImplementedError

    def problem(self, request: Received) -> str | None:
        """Why a request is malformed, or None."""
        raise NotImplementedError

    def error_body(self, failure: Fail) -> dict[str, Any]:
        raise NotImplementedError

    def events(self, say: Say, request: Received) -> Iterator[str]:
        """SSE frames (already formatted, each ending with a blank line)."""
        raise NotImplementedError

    # --- serving -----------------------------------------------------------------------------

    def handle(self, handler: BaseHTTPRequestHandler, request: Received) -> None:
        if not self.authorised(request):
            self._json(handler, 401, self.error_body(Fail(401, "authentication_error")))
            return
        problem = self.problem(request)
        if problem:
            self._json(handler, 400, {"error": {"message": problem, "type": "invalid_request_error"}})
            return
        with self._lock:
            self.received.append(request)
            step = self.script.pop(0) if self.script else Fail(500, "api_error")
        if isinstance(step, Fail):
            self._json(handler, step.status, self.error_body(step), step.headers)
            return
        handler.send_response(200)
        handler.send_header("content-type", "text/event-stream")
        handler.send_header("cache-control", "no-cache")
        handler.end_headers()
        for frame in self.events(step, request):
            handler.wfile.write(frame.encode())
            handler.wfile.flush()
        handler.close_connection = True

    @staticmethod
    def _json(
        handler: BaseHTTPRequestHandler,
        status: int,
        body: dict[str, Any],
        headers: dict[str, str] | None = None,
    ) -> None:
        data = json.dumps(body).encode()
        handler.send_response(status)
        handler.send_header("content-type", "application/json")
        handler.send_header("content-length", str(len(data)))
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(data)


def _sse(data: dict[str, Any] | str, event: str | None = None) -> str:
    payload = data if isinstance(data, str) else json.dumps(data)
    return (f"event: {event}\n" if event else "") + f"data: {payload}\n\n"


def _split(text: str, parts: int = 3) -> list[str]:
    size = max(1, len(text) // parts)
    return [text[index : index + size] for index in range(0, len(text), size)]


class FakeAnthropic(FakeLlmServer):
    """POST /v1/messages with stream=true: message_start, content blocks (text_delta, input_json_delta for
    tool_use), message_delta with usage, message_stop."""

    def authorised(self, request: Received) -> bool:
        # Older SDKs send x-api-key; newer ones the key as a bearer token. Both need anthropic-version.
        sent = request.headers.get("x-api-key") or request.headers.get("authorization", "").removeprefix(
            "Bearer "
        )
        return sent == API_KEY and "anthropic-version" in request.headers

    def problem(self, request: Received) -> str | None:
        body = request.body
        if request.path != "/v1/messages":
            return f"unexpected path {request.path}"
        if not body.get("stream") or not body.get("max_tokens") or not body.get("model"):
            return "model, max_tokens and stream=true are required"
        messages = body.get("messages", [])
        if not messages or messages[0]["role"] != "user":
            return "messages must start with a user message"
        for first, second in itertools.pairwise(messages):
            if first["role"] == second["role"]:
                return "roles must alternate"
        for tool in body.get("tools", []):
            if set(tool) != {"name", "description", "input_schema"}:
                return f"bad tool {tool}"
        return None

    def error_body(self, failure: Fail) -> dict[str, Any]:
        return {"type": "error", "error": {"type": failure.kind, "message": failure.kind}}

    def events(self, say: Say, request: Received) -> Iterator[str]:
        message: dict[str, Any] = {
            "id": "msg_fake",
            "type": "message",
            "role": "assistant",
            "model": request.model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": say.input_tokens, "output_tokens": 1},
        }
        yield _sse({"type": "message_start", "message": message}, "message_start")
        index = 0
        if say.text:
            block = {
                "type": "content_block_start",
                "index": index,
                "content_block": {"type": "text", "text": ""},
            }
            yield _sse(block, "content_block_start")
            for chunk in say.text:
                delta = {
                    "type": "content_block_delta",
                    "index": index,
                    "delta": {"type": "text_delta", "text": chunk},
                }
                yield _sse(delta, "content_block_delta")
            yield _sse({"type": "content_block_stop", "index": index}, "content_block_stop")
            index += 1
        for number, (name, arguments) in enumerate(say.tool_calls):
            tool = {"type": "tool_use", "id": f"toolu_{index}_{number}", "name": name, "input": {}}
            yield _sse(
                {"type": "content_block_start", "index": index, "content_block": tool}, "content_block_start"
            )
            for piece in _split(json.dumps(arguments)):
                delta = {"type": "input_json_delta", "partial_json": piece}
                yield _sse(
                    {"type": "content_block_delta", "index": index, "delta": delta}, "content_block_delta"
                )
            yield _sse({"type": "content_block_stop", "index": index}, "content_block_stop")
            index += 1
        stop = "tool_use" if say.tool_calls else "end_turn"
        delta = {"stop_reason": stop, "stop_sequence": None}
        yield _sse(
            {"type": "message_delta", "delta": delta, "usage": {"output_tokens": say.output_tokens}},
            "message_delta",
        )
        yield _sse({"type": "message_stop"}, "message_stop")


class FakeOpenAI(FakeLlmServer):
    """POST /v1/chat/completions with stream=true: chunks with content and tool_calls deltas, a usage
    chunk (stream_options.include_usage), then [DONE]."""

    def __init__(self, api_key: str = API_KEY) -> None:
        super().__init__()
        self.api_key = api_key

    def authorised(self, request: Received) -> bool:
        return request.headers.get("authorization") == f"Bearer {self.api_key}"

    def problem(self, request: Received) -> str | None:
        body = request.body
        if request.path != "/v1/chat/completions":
            return f"unexpected path {request.path}"
        if not body.get("stream") or not body.get("stream_options", {}).get("include_usage"):
            return "stream and stream_options.include_usage are required"
        messages = body.get("messages", [])
        if not messages or messages[0]["role"] != "system":
            return "the first message must be the system prompt"
        asked = {call["id"] for m in messages for call in m.get("tool_calls", [])}
        answered = {m["tool_call_id"] for m in messages if m["role"] == "tool"}
        if answered - asked:
            return "a tool message answers no tool call"
        return None

    def error_body(self, failure: Fail) -> dict[str, Any]:
        return {"error": {"message": failure.kind, "type": failure.kind, "code": None}}

    def events(self, say: Say, request: Received) -> Iterator[str]:
        def chunk(delta: dict[str, Any], finish: str | None = None) -> str:
            choice = {"index": 0, "delta": delta, "finish_reason": finish}
            return _sse(
                {
                    "id": "c1",
                    "object": "chat.completion.chunk",
                    "created": 0,
                    "model": request.model,
                    "choices": [choice],
                }
            )

        yield chunk({"role": "assistant", "content": ""})
        for text in say.text:
            yield chunk({"content": text})
        for index, (name, arguments) in enumerate(say.tool_calls):
            start = {
                "index": index,
                "id": f"call_{index}",
                "type": "function",
                "function": {"name": name, "arguments": ""},
            }
            yield chunk({"tool_calls": [start]})
            for piece in _split(json.dumps(arguments)):
                yield chunk({"tool_calls": [{"index": index, "function": {"arguments": piece}}]})
        yield chunk({}, "tool_calls" if say.tool_calls else "stop")
        usage = {
            "prompt_tokens": say.input_tokens,
            "completion_tokens": say.output_tokens,
            "total_tokens": say.input_tokens + say.output_tokens,
        }
        yield _sse(
            {
                "id": "c1",
                "object": "chat.completion.chunk",
                "created": 0,
                "model": request.model,
                "choices": [],
                "usage": usage,
            }
        )
        yield _sse("[DONE]")


class FakeGemini(FakeLlmServer):
    """POST /v1[beta]/models/{model}:streamGenerateContent?alt=sse: candidates with text and functionCall
    parts; the last chunk has finishReason and usageMetadata."""

    def authorised(self, request: Received) -> bool:
        return request.headers.get("x-goog-api-key") == API_KEY

    def problem(self, request: Received) -> str | None:
        # The API version in the path depends on the SDK release (v1beta, v1).
        if not re.match(r"^/v1(beta)?/models/[^/:]+:streamGenerateContent\?alt=sse$", request.path):
            return f"unexpected path {request.path}"
        contents = request.body.get("contents", [])
        if not contents or contents[0]["role"] != "user":
            return "contents must start with the user"
        if "systemInstruction" not in request.body:
            return "the system instruction is missing"
        return None

    def error_body(self, failure: Fail) -> dict[str, Any]:
        status = {429: "RESOURCE_EXHAUSTED", 503: "UNAVAILABLE", 401: "UNAUTHENTICATED"}.get(
            failure.status, "INTERNAL"
        )
        return {"error": {"code": failure.status, "message": failure.kind, "status": status}}

    def events(self, say: Say, request: Received) -> Iterator[str]:
        def chunk(parts: list[dict[str, Any]], last: bool = False) -> str:
            candidate: dict[str, Any] = {"content": {"role": "model", "parts": parts}, "index": 0}
            body: dict[str, Any] = {"candidates": [candidate], "modelVersion": request.model}
            if last:
                candidate["finishReason"] = "STOP"
                body["usageMetadata"] = {
                    "promptTokenCount": say.input_tokens,
                    "candidatesTokenCount": say.output_tokens,
                    "totalTokenCount": say.input_tokens + say.output_tokens,
                }
            return _sse(body)

        for text in say.text:
            yield chunk([{"text": text}])
        calls = [{"functionCall": {"name": name, "args": arguments}} for name, arguments in say.tool_calls]
        yield chunk(calls, last=True)
