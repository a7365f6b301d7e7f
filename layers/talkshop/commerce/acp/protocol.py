"""The ACP request protocol around the checkout-session operations: who is calling (agent keys only),
which API version (API-Version), Idempotency-Key on every POST, the request body checked against the
version's schema, and every refusal as the spec's Error object (`{type, code, message, param?}`).

Idempotency-Key is the API's one mechanism (talkshop.api.idempotency: Powertools idempotency in its own
table), which already has ACP's semantics: a key is scoped to the agent and the endpoint (operation and
session), the same body (as canonical JSON) replays the first answer, another body is refused, a retry
while the first runs is refused as in flight. Only the answers are ACP's own: the spec's codes and
statuses (400 idempotency_key_required, 422 idempotency_conflict, 409 idempotency_in_flight with
Retry-After), `Idempotent-Replayed: true` on a replay, and which answers are kept: refusals are, like
successes; a 5xx or a 409 (retry later) is not, so the agent's retry with the key runs again.

Kept apart from the Lambda handler so that it runs and is tested without HTTP: the handler turns the
event into an AcpRequest and the AcpAnswer back into a response.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from talkshop.api.idempotency import KeyInFlight, KeyReused, Unrecorded, run_once, valid_key
from talkshop.api.observability import logger
from talkshop.auth import authenticate
from talkshop.commerce.acp import legacy
from talkshop.commerce.acp.agents import require_agent
from talkshop.commerce.acp.model import (
    API_VERSION,
    CancelSessionRequest,
    CompleteSessionRequest,
    CreateSessionRequest,
    Error,
    UpdateSessionRequest,
)
from talkshop.commerce.acp.sessions import CheckoutSessions, SessionAnswer
from talkshop.data.repository import Repository
from talkshop.errors import TalkshopError
from talkshop.settings import Settings

RequestModel = TypeVar("RequestModel", bound=BaseModel)
# Newest first, as the spec orders them in version errors.
SUPPORTED_VERSIONS = (API_VERSION, legacy.API_VERSION)


class Operation(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    GET = "get"
    COMPLETE = "complete"
    CANCEL = "cancel"


# The spec's answers to a key in use (status, code and message as in its examples).
_KEY_REFUSALS: dict[type[Exception], tuple[int, str, str]] = {
    KeyReused: (
        422,
        "idempotency_conflict",
        "Idempotency-Key has already been used with a different request body",
    ),
    KeyInFlight: (
        409,
        "idempotency_in_flight",
        "A request with this Idempotency-Key is currently being processed",
    ),
}

_REQUEST_MODELS: dict[Operation, type[BaseModel]] = {
    Operation.CREATE: CreateSessionRequest,
    Operation.UPDATE: UpdateSessionRequest,
    Operation.COMPLETE: CompleteSessionRequest,
    Operation.CANCEL: CancelSessionRequest,
}


@dataclass(frozen=True)
class AcpRequest:
    operation: Operation
    session_id: str | None = None
    authorization: str | None = None
    api_version: str | None = None
    idempotency_key: str | None = None
    request_id: str | None = None
    body: bytes = b""


@dataclass(frozen=True)
class AcpAnswer:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)

    def with_headers(self, headers: dict[str, str]) -> AcpAnswer:
        """The answer with the request's echoed headers; a 409 (retry later) says when, as the spec asks."""
        retry = {"Retry-After": "1"} if self.status == 409 else {}
        return AcpAnswer(self.status, self.body, {**self.headers, **headers, **retry})


class AcpRefusal(TalkshopError):
    """A refusal with the spec's error fields beyond code and message."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        param: str | None = None,
        supported_versions: list[str] | None = None,
    ) -> None:
        super().__init__(message, code=code)
        self.status = status
        self.param = param
        self.supported_versions = supported_versions


class AcpApi:
    def __init__(
        self,
        repository: Repository,
        settings: Settings,
        sessions: CheckoutSessions,
        lambda_context: Any = None,
    ) -> None:
        self.repository = repository
        self.settings = settings
        self.sessions = sessions
        self.lambda_context = lambda_context

    def handle(self, request: AcpRequest) -> AcpAnswer:
        echo = {name: value for name, value in (("Request-Id", request.request_id),) if value}
        try:
            agent_id = require_agent(authenticate(request.authorization, self.repository, self.settings))
            version = negotiate_version(request.api_version)
            echo["API-Version"] = version
            if request.operation == Operation.GET:
                return self._attempt(request, agent_id, version, None).with_headers(echo)
            key = require_key(request.idempotency_key)
            echo["Idempotency-Key"] = key
            document = read_json(request.body)
            parsed = parse_body(request.operation, version, document)
            outcome = run_once(
                f"acp:{request.operation}:{request.session_id or ''}",
                f"agent:{agent_id}",
                key,
                document,
                lambda: self._recorded(request, agent_id, version, parsed),
                self.lambda_context,
            )
        except (KeyReused, KeyInFlight) as used:
            return refusal_answer(AcpRefusal(*_KEY_REFUSALS[type(used)]), echo)
        except TalkshopError as error:
            return refusal_answer(error, echo)
        answer = AcpAnswer(int(outcome.answer["status"]), outcome.answer["body"])
        return answer.with_headers({**echo, **({"Idempotent-Replayed": "true"} if outcome.replayed else {})})

    def _attempt(
        self, request: AcpRequest, agent_id: str, version: str, parsed: BaseModel | None
    ) -> AcpAnswer:
        """The operation's answer, or its refusal, in the version's shapes."""
        try:
            answer = self._run(request, agent_id, version, parsed)
        except TalkshopError as error:
            return refusal_answer(error, {})
        body = answer.session.wire()
        if version == legacy.API_VERSION:
            body = legacy.session_out(body)
        return AcpAnswer(answer.status, body)

    def _recorded(
        self, request: AcpRequest, agent_id: str, version: str, parsed: BaseModel | None
    ) -> dict[str, Any]:
        """The attempt's answer as its key records it; a failure on our side or a retry-later refusal is
        not recorded (Unrecorded), so the agent's retry with the same key runs the operation again."""
        answer = self._attempt(request, agent_id, version, parsed)
        recorded = {"status": answer.status, "body": answer.body}
        if answer.status >= 500 or answer.status == 409:
            raise Unrecorded(recorded)
        return recorded

    def _run(
        self, request: AcpRequest, agent_id: str, version: str, parsed: BaseModel | None
    ) -> SessionAnswer:
        operations: dict[Operation, Callable[[], SessionAnswer]] = {
            Operation.CREATE: lambda: self.sessions.create(agent_id, _as(parsed, CreateSessionRequest)),
            Operation.UPDATE: lambda: self.sessions.update(
                agent_id, _session_id(request), _as(parsed, UpdateSessionRequest)
            ),
            Operation.GET: lambda: self.sessions.get(agent_id, _session_id(request)),
            Operation.COMPLETE: lambda: self.sessions.complete(
                agent_id, _session_id(request), _as(parsed, CompleteSessionRequest)
            ),
            Operation.CANCEL: lambda: self.sessions.cancel(
                agent_id, _session_id(request), _as(parsed, CancelSessionRequest)
            ),
        }
        return operations[request.operation]()


def require_key(key: str | None) -> str:
    if not key or not key.strip():
        raise AcpRefusal(400, "idempotency_key_required", "Idempotency-Key header is required")
    if not valid_key(key):
        raise AcpRefusal(
            400, "invalid_idempotency_key", "Idempotency-Key must be at most 255 printable characters"
        )
    return key


def negotiate_version(requested: str | None) -> str:
    if not requested:
        raise AcpRefusal(
            400,
            "api_version_required",
            "The API-Version header is required.",
            supported_versions=list(SUPPORTED_VERSIONS),
        )
    version = requested.strip()
    if version not in SUPPORTED_VERSIONS:
        raise AcpRefusal(
            400,
            "unsupported_api_version",
            f"API-Version {version!r} is not supported.",
            supported_versions=list(SUPPORTED_VERSIONS),
        )
    return version


def read_json(body: bytes) -> dict[str, Any]:
    """The request body as a JSON object (an empty body is an empty object)."""
    try:
        document = json.loads(body) if body.strip() else {}
    except ValueError:
        raise AcpRefusal(400, "invalid_json", "The request body is not valid JSON.") from None
    if not isinstance(document, dict):
        raise AcpRefusal(400, "invalid_request", "The request body must be a JSON object.", param="$")
    return document


def parse_body(operation: Operation, version: str, document: dict[str, Any]) -> BaseModel:
    """The request as the operation's 2026-04-17 model (a 2025-09-29 body mapped onto it first)."""
    if version == legacy.API_VERSION:
        document = legacy.request_in(operation, document)
    elif operation == Operation.CREATE and "currency" not in document:
        raise AcpRefusal(400, "missing_field", "$.currency: Field required", param="$.currency")
    try:
        return _REQUEST_MODELS[operation].model_validate(document)
    except ValidationError as error:
        first = error.errors()[0]
        code = "missing_field" if first["type"] == "missing" else "invalid_field"
        path = json_path(first["loc"])
        raise AcpRefusal(400, code, f"{path}: {first['msg']}", param=path) from None


def json_path(location: tuple[int | str, ...]) -> str:
    """An RFC 9535 JSONPath to a field, as the spec's `param` wants it: $.line_items[0].id."""
    path = "$"
    for part in location:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def refusal_answer(error: TalkshopError, headers: dict[str, str]) -> AcpAnswer:
    if error.status >= 500:
        logger.warning("acp request failed", extra={"code": error.code})
    kind = (
        "service_unavailable"
        if error.status == 503
        else ("processing_error" if error.status >= 500 else "invalid_request")
    )
    details = error.details if isinstance(error.details, dict) else {}
    status = error.status
    # Our 422 (invalid input) and 409 (state conflicts) mean other things in ACP: there 422 and 409 are
    # the idempotency refusals (AcpRefusal), so the rest answers as the spec's generic invalid request;
    # but a lost race on the session (concurrent_update) is a 409: retry.
    if status in (409, 422) and not isinstance(error, AcpRefusal) and error.code != "concurrent_update":
        status = 400
    refusal = Error(
        type=kind,
        code=error.code,
        message=error.message,
        param=getattr(error, "param", None) or details.get("param"),
        supported_versions=getattr(error, "supported_versions", None),
    )
    return AcpAnswer(status, refusal.wire()).with_headers(headers)


def _session_id(request: AcpRequest) -> str:
    if not request.session_id:
        raise AcpRefusal(404, "checkout_session_not_found", "No checkout session id in the path.")
    return request.session_id


def _as(parsed: BaseModel | None, model: type[RequestModel]) -> RequestModel:
    if not isinstance(parsed, model):
        raise TypeError(f"expected a parsed {model.__name__}")
    return parsed
