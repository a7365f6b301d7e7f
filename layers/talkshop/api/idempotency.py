"""Idempotency-Key on state-changing requests, with Powertools idempotency on DynamoDB: the one
mechanism of the whole API, ACP's checkout sessions included.

A request that carries `Idempotency-Key` runs once per (operation, caller, key): a retry gets the
first answer again (status, body and headers) without running anything. The same key with a
different body is refused; a retry while the first is still running is told so. Each API answers
those two refusals in its own error format: the REST API as 422 `idempotency_key_reused` and 409
`request_in_progress` (`once_per_key`), ACP as its spec's 422 `idempotency_conflict` and 409
`idempotency_in_flight` (talkshop.commerce.acp.protocol, over `run_once`). A request that fails
records nothing, so it may be retried with the same key; so does an answer the caller marks
`Unrecorded` (ACP's 5xx and retry-later answers). Records live in their own table
(TALKSHOP_IDEMPOTENCY_TABLE, expiring after 24 hours), so the ontology table holds only the ontology;
a record left in progress by a crashed invocation is free again once that invocation's time is up.

Secrets shown once (a new shopper's token, an agent's key) are not recorded: the fields the handler names
in `shown_once` are null in a replay. Keeping them would put them at rest in clear for a day, and every
anonymous caller shares one scope, so a reused key would hand one stranger's token to another. A client
that lost the first answer learns the ids from the replay and asks again with a new key.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)
from pydantic import BaseModel

from talkshop.api.app import header
from talkshop.auth import Principal
from talkshop.errors import Conflict, InvalidInput
from talkshop.settings import get_settings

IDEMPOTENCY_KEY_HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
RECORD_LIFETIME_S = 24 * 60 * 60

_CONFIG = IdempotencyConfig(
    event_key_jmespath="[operation, caller, key]",
    # Hashed as canonical JSON (sorted keys): key order and spacing do not make another request.
    payload_validation_jmespath="body",
    expires_after_seconds=RECORD_LIFETIME_S,
)


class KeyReused(Exception):
    """The key was used before with another request body."""


class KeyInFlight(Exception):
    """The first request with this key is still running."""


class Unrecorded(Exception):
    """Raised by a `run_once` handler to answer without recording the answer: the key stays free, so a
    retry with it runs the operation again."""

    def __init__(self, answer: dict[str, Any]) -> None:
        super().__init__("answer not recorded")
        self.answer = answer


@dataclass(frozen=True)
class Outcome:
    answer: dict[str, Any]
    replayed: bool


def valid_key(key: str) -> bool:
    """What every API accepts as an Idempotency-Key: 1 to 255 printable characters."""
    return 0 < len(key) <= MAX_KEY_LENGTH and key.isprintable()


@lru_cache(maxsize=1)
def _persistence() -> DynamoDBPersistenceLayer:
    return DynamoDBPersistenceLayer(table_name=get_settings().idempotency_table)


@lru_cache(maxsize=1)
def _once() -> Callable[..., dict[str, Any]]:
    def run(request: dict[str, Any], handle: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        return handle()

    decorated: Callable[..., dict[str, Any]] = idempotent_function(
        run, data_keyword_argument="request", persistence_store=_persistence(), config=_CONFIG
    )
    return decorated


def run_once(
    operation: str,
    caller: str,
    key: str,
    body: Any,
    handle: Callable[[], dict[str, Any]],
    lambda_context: Any = None,
) -> Outcome:
    """`handle()`'s answer (JSON data), run once per (operation, caller, key); a retry with the same body
    gets the recorded answer. Raises KeyReused for the same key with another body and KeyInFlight while
    the first request runs. `lambda_context` bounds how long a crashed request holds the key."""
    if lambda_context is not None:
        _CONFIG.register_lambda_context(lambda_context)
    request = {"operation": operation, "caller": caller, "key": key, "body": body}
    first: list[dict[str, Any]] = []

    def run_first() -> dict[str, Any]:
        answer = handle()
        first.append(answer)
        return answer

    try:
        answer = _once()(request=request, handle=run_first)
    except Unrecorded as unrecorded:
        return Outcome(unrecorded.answer, replayed=False)
    except IdempotencyValidationError as error:
        raise KeyReused(str(error)) from error
    except IdempotencyAlreadyInProgressError as error:
        raise KeyInFlight(str(error)) from error
    return Outcome(answer, replayed=not first)


def _recorded(response: Response[Any], shown_once: tuple[str, ...]) -> dict[str, Any]:
    """What is recorded of an answer: status, headers and the JSON body as data, less the secrets shown
    once (the resolver checks the replayed body against the route's response model, as it does the
    first one)."""
    body = response.body
    data = json.loads(body) if isinstance(body, str | bytes) else body
    if isinstance(data, dict):
        data = data | {name: None for name in shown_once if name in data}
    return {
        "status": response.status_code,
        "body": data,
        "headers": {name: value for name, value in response.headers.items() if isinstance(value, str)},
    }


def once_per_key(
    app: APIGatewayRestResolver,
    operation: str,
    caller: Principal,
    body: BaseModel | None,
    handle: Callable[[], Response[Any]],
    shown_once: tuple[str, ...] = (),
) -> Response[Any]:
    """Answer `handle()`, or the answer recorded for this Idempotency-Key when the request is a retry
    (with the body fields named in `shown_once` null: see the module's note on secrets)."""
    key = header(app, IDEMPOTENCY_KEY_HEADER)
    if key is None:
        return handle()
    if not valid_key(key):
        raise InvalidInput(
            f"{IDEMPOTENCY_KEY_HEADER} must be at most {MAX_KEY_LENGTH} printable characters.",
            code="invalid_idempotency_key",
        )
    # The first answer goes back whole, secrets included; only what is recorded for replays is redacted.
    first: list[Response[Any]] = []

    def run_first() -> dict[str, Any]:
        response = handle()
        first.append(response)
        return _recorded(response, shown_once)

    try:
        outcome = run_once(
            operation,
            f"{caller.kind}:{caller.person_id or ''}",
            key,
            body.model_dump(mode="json") if body is not None else None,
            run_first,
            app.lambda_context,
        )
    except KeyReused as error:
        raise InvalidInput(
            f"This {IDEMPOTENCY_KEY_HEADER} was used with a different request; use a new key.",
            code="idempotency_key_reused",
        ) from error
    except KeyInFlight as error:
        raise Conflict(
            f"A request with this {IDEMPOTENCY_KEY_HEADER} is still being handled; retry shortly.",
            code="request_in_progress",
        ) from error
    if first:
        return first[0]
    answer = outcome.answer
    return Response(
        status_code=int(answer["status"]),
        content_type=content_types.APPLICATION_JSON,
        body=answer["body"],
        headers=answer["headers"],
    )


def reset() -> None:
    """Forget the persistence layer (the environment it was made from has changed)."""
    _persistence.cache_clear()
    _once.cache_clear()
