"""The Agentic Commerce Protocol for external agents (/acp/checkout_sessions...) and the product feeds
(/api/feed/...). Thin: the protocol lives in talkshop.commerce.acp (see docs/acp.md).

Every checkout-session route is the same: the request's headers and raw body go to AcpApi, its answer
comes back as it is. So the five are registered from one table (SESSION_ROUTES) through one function,
and the two feeds from FEED_ROUTES likewise."""

import os
from dataclasses import dataclass
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
from talkshop.commerce.acp.model import Error
from talkshop.commerce.acp.protocol import AcpApi, AcpRequest, Operation
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
    return AcpApi(repository(), get_settings(), sessions, app.lambda_context)


def answer_acp(operation: Operation, session_id: str | None = None) -> Response[Any]:
    """The one path of every checkout-session route: the request to AcpApi, its answer back."""
    body = app.current_event.decoded_body or ""
    answer = acp_api().handle(
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


SESSIONS = "/acp/checkout_sessions"
SESSION = f"{SESSIONS}/<id>"


@dataclass(frozen=True)
class SessionRoute:
    operation: Operation
    method: str
    rule: str
    summary: str
    extra_errors: tuple[int, ...] = ()

    @property
    def operation_id(self) -> str:
        """The spec's operationId (createCheckoutSession...), which the OpenAPI document keeps."""
        return f"{self.operation}CheckoutSession"


SESSION_ROUTES = (
    SessionRoute(Operation.CREATE, "POST", SESSIONS, "create a checkout session"),
    SessionRoute(Operation.UPDATE, "POST", SESSION, "update a checkout session"),
    SessionRoute(Operation.GET, "GET", SESSION, "read a checkout session"),
    SessionRoute(Operation.COMPLETE, "POST", f"{SESSION}/complete", "complete a checkout session (pay)"),
    # 405: the session is already completed or canceled.
    SessionRoute(Operation.CANCEL, "POST", f"{SESSION}/cancel", "cancel a checkout session", (405,)),
)


def _register_session_route(route: SessionRoute) -> None:
    def on_collection() -> Response[Any]:
        return answer_acp(route.operation)

    def on_session(id: SessionId) -> Response[Any]:
        return answer_acp(route.operation, id)

    app.route(
        route.rule,
        route.method,
        summary=f"ACP: {route.summary}",
        description=_ACP_DESCRIPTION,
        tags=["acp"],
        responses={**SESSION_ERRORS, **acp_errors(*route.extra_errors)},
        operation_id=route.operation_id,
    )(on_session if "<id>" in route.rule else on_collection)


for _route in SESSION_ROUTES:
    _register_session_route(_route)


FEED_ROUTES = {
    FeedFormat.ACP: ("/api/feed/products.jsonl", "ACP product feed (one Product a line)", "acpFeed"),
    FeedFormat.OPENAI: ("/api/feed/openai.csv", "OpenAI flat product feed (CSV)", "openaiFeed"),
}


def answer_feed(feed_format: FeedFormat) -> Response[str]:
    return Response(
        status_code=200,
        content_type=f"{MEDIA_TYPES[feed_format]}; charset=utf-8",
        body=FeedExporter(catalog(), shop()).export(feed_format),
    )


def _register_feed_route(feed_format: FeedFormat) -> None:
    rule, summary, operation_id = FEED_ROUTES[feed_format]

    def feed() -> Response[str]:
        return answer_feed(feed_format)

    app.get(
        rule,
        summary=summary,
        tags=["feeds"],
        responses={200: {"description": "The feed"}, **error_responses(422)},
        operation_id=operation_id,
    )(feed)


for _format in FEED_ROUTES:
    _register_feed_route(_format)


lambda_handler = lambda_entrypoint(app)
