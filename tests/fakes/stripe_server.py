"""A fake Stripe API on 127.0.0.1 that the real stripe SDK talks to over HTTP (nothing is mocked).

It speaks the part of Stripe's wire format Talkshop uses: form-encoded POSTs to /v1/payment_intents
(create with confirm, capture, cancel), GET of an intent, the list of intents (`created[gte]`, `limit`,
`starting_after`, newest first) and POST /v1/payment_methods, Stripe's error
objects and status codes, and its idempotency rules: a repeated Idempotency-Key with the same parameters
replays the first response, with other parameters it is a 400 idempotency_error. Payment methods:
`pm_card_visa` is authorised, `pm_card_chargeDeclined` is declined, and a card created through
/v1/payment_methods with Stripe's decline test number 4000000000000002 is declined too. `fail_next`
scripts failures (500, 429...) answered before anything is executed or remembered, as a load balancer
would; every request is recorded for assertions.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Self
from urllib.parse import parse_qsl, urlsplit

from tests.fakes.local_http import LocalHttpServer, QuietHandler

API_KEY = "sk_test_fake_0123456789"
DECLINED_CARD_NUMBER = "4000000000000002"


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    form: dict[str, str]


@dataclass
class _Answer:
    status: int
    body: dict[str, Any]


@dataclass
class _State:
    intents: dict[str, dict[str, Any]] = field(default_factory=dict)
    declined_methods: set[str] = field(default_factory=lambda: {"pm_card_chargeDeclined"})
    known_methods: set[str] = field(default_factory=lambda: {"pm_card_visa", "pm_card_chargeDeclined"})
    replays: dict[str, tuple[str, dict[str, str], _Answer]] = field(default_factory=dict)


class FakeStripeServer:
    def __init__(self) -> None:
        self.received: list[Received] = []
        self._failures: list[_Answer] = []
        self._state = _State()
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        server = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:
                self._answer(dict(parse_qsl(urlsplit(self.path).query, keep_blank_values=True)))

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                self._answer(dict(parse_qsl(self.rfile.read(length).decode(), keep_blank_values=True)))

            def _answer(self, form: dict[str, str]) -> None:
                headers = {name.lower(): value for name, value in self.headers.items()}
                answer = server.handle(Received(self.command, self.path, headers, form))
                payload = json.dumps(answer.body).encode()
                self.send_response(answer.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self._server = LocalHttpServer(Handler)

    @property
    def url(self) -> str:
        return self._server.base_url

    def __enter__(self) -> Self:
        self._server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.stop()

    def fail_next(self, status: int, error_type: str = "api_error", times: int = 1) -> None:
        with self._lock:
            self._failures += [
                _Answer(status, _error(error_type, "fake_failure", "Scripted failure."))
            ] * times

    def intent(self, intent_id: str) -> dict[str, Any]:
        return self._state.intents[intent_id]

    @property
    def intents_created(self) -> int:
        return len(self._state.intents)

    def handle(self, request: Received) -> _Answer:
        with self._lock:
            self.received.append(request)
            if request.headers.get("authorization") != f"Bearer {API_KEY}":
                return _Answer(401, _error("invalid_request_error", "api_key_invalid", "Invalid API Key."))
            if self._failures:
                return self._failures.pop(0)
            key = request.headers.get("idempotency-key")
            if request.method == "POST" and key:
                replay = self._state.replays.get(key)
                if replay is not None:
                    route, form, answer = replay
                    if (route, form) != (request.path, request.form):
                        return _Answer(
                            400,
                            _error(
                                "idempotency_error",
                                "idempotency_key_in_use",
                                "Keys for idempotent requests can only be used with the same parameters.",
                            ),
                        )
                    return answer
            answer = self._route(request)
            if request.method == "POST" and key:
                self._state.replays[key] = (request.path, request.form, answer)
            return answer

    def _route(self, request: Received) -> _Answer:
        parts = request.path.split("?")[0].strip("/").split("/")
        if parts == ["v1", "payment_methods"] and request.method == "POST":
            return self._create_method(request.form)
        if parts == ["v1", "payment_intents"] and request.method == "POST":
            return self._create_intent(request.form)
        if parts == ["v1", "payment_intents"] and request.method == "GET":
            return self._list_intents(request.form)
        if len(parts) >= 3 and parts[:2] == ["v1", "payment_intents"]:
            intent = self._state.intents.get(parts[2])
            if intent is None:
                return _missing("payment_intent", parts[2])
            if len(parts) == 3 and request.method == "GET":
                return _Answer(200, intent)
            if len(parts) == 4 and parts[3] in ("capture", "cancel"):
                return _transition(intent, parts[3])
        return _Answer(404, _error("invalid_request_error", "resource_missing", f"No route {request.path}."))

    def _create_method(self, form: dict[str, str]) -> _Answer:
        method_id = f"pm_{next(self._ids):06d}"
        number = form.get("card[number]", "")
        self._state.known_methods.add(method_id)
        if number == DECLINED_CARD_NUMBER:
            self._state.declined_methods.add(method_id)
        card = {"brand": "visa", "last4": number[-4:]}
        return _Answer(200, {"id": method_id, "object": "payment_method", "type": "card", "card": card})

    def _create_intent(self, form: dict[str, str]) -> _Answer:
        method = form.get("payment_method", "")
        if method not in self._state.known_methods:
            return _missing("payment_method", method)
        if form.get("capture_method") != "manual" or form.get("confirm") != "true":
            return _Answer(400, _error("invalid_request_error", "parameter_invalid", "Unexpected flow."))
        if method in self._state.declined_methods:
            return _Answer(
                402,
                {
                    "error": {
                        **_error("card_error", "card_declined", "Your card was declined.")["error"],
                        "decline_code": "generic_decline",
                    }
                },
            )
        intent_id = f"pi_{next(self._ids):06d}"
        intent = {
            "id": intent_id,
            "object": "payment_intent",
            "amount": int(form["amount"]),
            "currency": form["currency"],
            "capture_method": "manual",
            "payment_method": method,
            "status": "requires_capture",
            "created": int(time.time()),
            "metadata": {
                name[len("metadata[") : -1]: value
                for name, value in form.items()
                if name.startswith("metadata[") and name.endswith("]")
            },
        }
        self._state.intents[intent_id] = intent
        return _Answer(200, intent)

    def _list_intents(self, query: dict[str, str]) -> _Answer:
        since = int(query.get("created[gte]", "0"))
        limit = int(query.get("limit", "10"))
        newest_first = [
            intent for intent in reversed(self._state.intents.values()) if intent["created"] >= since
        ]
        after = query.get("starting_after")
        if after:
            ids = [intent["id"] for intent in newest_first]
            newest_first = newest_first[ids.index(after) + 1 :] if after in ids else []
        page = newest_first[:limit]
        return _Answer(
            200,
            {
                "object": "list",
                "url": "/v1/payment_intents",
                "data": page,
                "has_more": len(newest_first) > limit,
            },
        )


def _transition(intent: dict[str, Any], action: str) -> _Answer:
    if intent["status"] != "requires_capture":
        return _Answer(
            400,
            _error(
                "invalid_request_error",
                "payment_intent_unexpected_state",
                f"This PaymentIntent could not be {action}d because it has a status of {intent['status']}.",
            ),
        )
    intent["status"] = "succeeded" if action == "capture" else "canceled"
    return _Answer(200, intent)


def _missing(kind: str, identifier: str) -> _Answer:
    return _Answer(
        404, _error("invalid_request_error", "resource_missing", f"No such {kind}: '{identifier}'")
    )


def _error(error_type: str, code: str, message: str) -> dict[str, Any]:
    return {"error": {"type": error_type, "code": code, "message": message}}
