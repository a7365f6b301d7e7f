"""Webhook endpoints of creators and agents: register (the signing secret is shown once), list, delete,
list an endpoint's deliveries and redeliver one. Each caller sees only their own endpoints.

Registering and redelivering honour Idempotency-Key: a retry gets the first answer and changes nothing.
The signing secret is in the first answer only: a replayed registration has `secret: null` (the secret is
not copied into the idempotency records), so a client that lost the first answer deletes the endpoint and
registers it again. No other answer ever carries it (docs/operator-guide.md, "Webhook signing secrets")."""

import os
from collections.abc import Sequence
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.metrics import MetricUnit

from talkshop.api.app import create_app, error_responses, json_response, lambda_entrypoint, location_of
from talkshop.api.context import caller, repository
from talkshop.api.idempotency import once_per_key
from talkshop.api.observability import metrics
from talkshop.commerce.webhooks import (
    STATE_MACHINE_VARIABLE,
    DeliveryList,
    DeliveryView,
    EndpointList,
    EndpointRequest,
    RegisteredEndpoint,
    WebhookService,
    state_machine_starter,
)
from talkshop.errors import TalkshopError
from talkshop.ontology.model import Identifier

app = create_app()
ResourceId = Annotated[Identifier, Path()]


class WebhooksNotConfigured(TalkshopError):
    status = 503
    code = "webhooks_not_configured"


def _start_deliveries(delivery_ids: Sequence[str]) -> None:
    arn = os.environ.get(STATE_MACHINE_VARIABLE)
    if not arn:
        raise WebhooksNotConfigured(f"{STATE_MACHINE_VARIABLE} is not set: deliveries cannot be started.")
    state_machine_starter(arn)(delivery_ids)


def service() -> WebhookService:
    return WebhookService(repository(), _start_deliveries)


@app.post(
    "/api/webhooks",
    summary="Register a webhook endpoint",
    description="Creators receive the events of orders holding their products, agents those of the orders "
    "they placed. The answer carries the signing secret, shown only this once.",
    tags=["webhooks"],
    responses={201: {"description": "Registered"}, **error_responses(400, 401, 403, 409, 415, 422)},
)
def register_endpoint(request: EndpointRequest) -> Response[RegisteredEndpoint]:
    principal = caller(app)

    def handle() -> Response[RegisteredEndpoint]:
        registered = service().register(request, principal)
        metrics.add_metric(name="WebhookEndpointsRegistered", unit=MetricUnit.Count, value=1)
        return json_response(registered, status=201, headers={"Location": location_of(app, registered.id)})

    return once_per_key(app, "register_webhook", principal, request, handle, shown_once=("secret",))


@app.get(
    "/api/webhooks",
    summary="List the caller's webhook endpoints",
    tags=["webhooks"],
    responses={200: {"description": "The endpoints"}, **error_responses(401, 403, 422)},
)
def list_endpoints() -> Response[EndpointList]:
    return json_response(service().list_endpoints(caller(app)))


@app.delete(
    "/api/webhooks/<id>",
    summary="Delete a webhook endpoint",
    tags=["webhooks"],
    responses={204: {"description": "Deleted"}, **error_responses(401, 404, 409, 422)},
)
def delete_endpoint(id: ResourceId) -> Response[None]:
    service().delete(id, caller(app))
    return Response(status_code=204)


@app.get(
    "/api/webhooks/<id>/deliveries",
    summary="List an endpoint's deliveries, newest first",
    tags=["webhooks"],
    responses={200: {"description": "A page of deliveries"}, **error_responses(400, 401, 404, 422)},
)
def list_deliveries(
    id: ResourceId,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=2000)] = None,
) -> Response[DeliveryList]:
    return json_response(service().deliveries(id, caller(app), limit=limit, cursor=cursor))


@app.post(
    "/api/webhooks/deliveries/<id>/redeliver",
    summary="Send a delivery again",
    description="Delivered and dead-lettered deliveries alike go back through the delivery state machine.",
    tags=["webhooks"],
    responses={
        202: {"description": "Redelivery started"},
        503: {"description": "The delivery state machine is not configured"},
        **error_responses(401, 404, 409, 422),
    },
)
def redeliver(id: ResourceId) -> Response[DeliveryView]:
    if not os.environ.get(STATE_MACHINE_VARIABLE):
        # Checked before the delivery is reset, so a refused redelivery changes nothing.
        raise WebhooksNotConfigured(f"{STATE_MACHINE_VARIABLE} is not set: deliveries cannot be started.")
    principal = caller(app)

    def handle() -> Response[DeliveryView]:
        started = service().redeliver(id, principal)
        metrics.add_metric(name="WebhookRedeliveries", unit=MetricUnit.Count, value=1)
        return json_response(started, status=202)

    return once_per_key(app, f"redeliver:{id}", principal, None, handle)


lambda_handler = lambda_entrypoint(app)
