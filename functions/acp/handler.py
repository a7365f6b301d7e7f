"""The Agentic Commerce Protocol for external agents (/acp/checkout_sessions...) and the product feeds
(/api/feed/...). Thin: the protocol lives in talkshop.commerce.acp (see docs/acp.md)."""

import os
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

from talkshop.api.app import create_app, error_responses, header, lambda_entrypoint
from talkshop.api.context import catalog, repository
from talkshop.commerce.acp.checkout import (
    CHECKOUT_STATE_MACHINE_VARIABLE,
    CoreCheckout,
    FlowRunner,
    state_machine_flow,
)
from talkshop.commerce.acp.idempotency import IdempotencyStore
from talkshop.commerce.acp.model import Error
from talkshop.commerce.acp.protocol import AcpAnswer, AcpApi, AcpRequest, Operation
from talkshop.commerce.acp.sessions import CheckoutSessions
from talkshop.commerce.feed import MEDIA_TYPES, FeedExporter, FeedFormat, Shop
from talkshop.settings import get_settings

app = create_app()

# Unconstrained: an unknown id is the protocol's 404, in its error format.
SessionId = Annotated[str, Path()]
_ACP_DESCRIPTION = (
    "ACP 2026-04-17 (2025-09-29 accepted). Headers: Authorization: Bearer <agent key>, API-Version, "
    "Idempotency-Key (POST), Request-Id (optional). Bodies and answers are the spec's; see docs/acp.md."
)


def acp_errors(*statuses: int) -> dict[int, OpenAPIResponse]:
    """ACP answers refusals in the spec's Error object, not in the API's ErrorBody."""
    return {
        status: {"description": "The spec's Error object", "content": {"application/json": {"model": Error}}}
        for status in statuses
    }


SESSION_ERRORS = acp_errors(400, 401, 403, 404, 409, 422)


def shop() -> Shop:
    settings = get_settings()
    return Shop(name=settings.shop_name, public_url=settings.public_url)


def checkout_flow() -> FlowRunner:
    """The checkout state machine, run synchronously (its ARN comes from the deployment)."""
    return state_machine_flow(os.environ[CHECKOUT_STATE_MACHINE_VARIABLE])


def acp_api() -> AcpApi:
    checkout = CoreCheckout(repository(), checkout_flow())
    sessions = CheckoutSessions(repository(), catalog(), checkout, shop())
    return AcpApi(repository(), get_settings(), sessions, IdempotencyStore(repository()))


def _handle(operation: Operation, session_id: str | None = None) -> Response[Any]:
    event = app.current_event
    body = event.decoded_body or ""
    answer: AcpAnswer = acp_api().handle(
        AcpRequest(
            operation=operation,
            session_id=session_id,
            authorization=header(app, "Authorization"),
            api_version=header(app, "API-Version"),
            idempotency_key=header(app, "Idempotency-Key"),
            request_id=header(app, "Request-Id"),
            body=body.encode() if isinstance(body, str) else body,
        )
    )
    return Response(
        status_code=answer.status,
        content_type=content_types.APPLICATION_JSON,
        body=answer.body,
        headers=answer.headers,
    )


@app.post(
    "/acp/checkout_sessions",
    summary="ACP: create a checkout session",
    tags=["acp"],
    description=_ACP_DESCRIPTION,
    responses=SESSION_ERRORS,
)
def create_session() -> Response[Any]:
    return _handle(Operation.CREATE)


@app.post(
    "/acp/checkout_sessions/<id>",
    summary="ACP: update a checkout session",
    tags=["acp"],
    description=_ACP_DESCRIPTION,
    responses=SESSION_ERRORS,
)
def update_session(id: SessionId) -> Response[Any]:
    return _handle(Operation.UPDATE, id)


@app.get(
    "/acp/checkout_sessions/<id>",
    summary="ACP: read a checkout session",
    tags=["acp"],
    description=_ACP_DESCRIPTION,
    responses=SESSION_ERRORS,
)
def get_session(id: SessionId) -> Response[Any]:
    return _handle(Operation.GET, id)


@app.post(
    "/acp/checkout_sessions/<id>/complete",
    summary="ACP: complete a checkout session (pay)",
    tags=["acp"],
    description=_ACP_DESCRIPTION,
    responses=SESSION_ERRORS,
)
def complete_session(id: SessionId) -> Response[Any]:
    return _handle(Operation.COMPLETE, id)


@app.post(
    "/acp/checkout_sessions/<id>/cancel",
    summary="ACP: cancel a checkout session",
    tags=["acp"],
    description=_ACP_DESCRIPTION,
    responses={**SESSION_ERRORS, **acp_errors(405)},
)
def cancel_session(id: SessionId) -> Response[Any]:
    return _handle(Operation.CANCEL, id)


def _feed(feed_format: FeedFormat) -> Response[str]:
    return Response(
        status_code=200,
        content_type=f"{MEDIA_TYPES[feed_format]}; charset=utf-8",
        body=FeedExporter(catalog(), shop()).export(feed_format),
    )


@app.get(
    "/api/feed/products.jsonl",
    summary="ACP product feed (one Product a line)",
    tags=["feeds"],
    responses={200: {"description": "The feed"}, **error_responses(422)},
)
def acp_feed() -> Response[str]:
    return _feed(FeedFormat.ACP)


@app.get(
    "/api/feed/openai.csv",
    summary="OpenAI flat product feed (CSV)",
    tags=["feeds"],
    responses={200: {"description": "The feed"}, **error_responses(422)},
)
def openai_feed() -> Response[str]:
    return _feed(FeedFormat.OPENAI)


lambda_handler = lambda_entrypoint(app)
