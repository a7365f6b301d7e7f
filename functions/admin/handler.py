"""Admin operations: issue an agent key (shown once) and revoke it. Admin bearer only.

Issuing honours Idempotency-Key: a retry gets the first answer (the same agent) with the key and the
webhook secret null, so no second agent is made and no key is kept in the idempotency table."""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.metrics import MetricUnit

from talkshop.api.app import create_app, error_responses, json_response, lambda_entrypoint, location_of
from talkshop.api.context import caller, repository
from talkshop.api.idempotency import once_per_key
from talkshop.api.observability import metrics
from talkshop.commerce.acp.agents import AgentKeyRequest, AgentService, IssuedAgentKey
from talkshop.ontology.model import Identifier

app = create_app()


@app.post(
    "/api/admin/agent-keys",
    summary="Issue a key to an AI agent (shown once)",
    tags=["admin"],
    responses={201: {"description": "The agent and its key"}, **error_responses(400, 401, 403, 415, 422)},
)
def issue_agent_key(request: AgentKeyRequest) -> Response[IssuedAgentKey]:
    principal = caller(app)

    def handle() -> Response[IssuedAgentKey]:
        issued = AgentService(repository()).issue(request, principal)
        metrics.add_metric(name="AgentKeysIssued", unit=MetricUnit.Count, value=1)
        return json_response(issued, status=201, headers={"Location": location_of(app, issued.id)})

    return once_per_key(
        app, "issue_agent_key", principal, request, handle, shown_once=("apiKey", "webhookSecret")
    )


@app.delete(
    "/api/admin/agent-keys/<id>",
    summary="Revoke an agent's key; it stops working at once",
    tags=["admin"],
    responses={204: {"description": "Revoked"}, **error_responses(401, 403, 404, 422)},
)
def revoke_agent_key(id: Annotated[Identifier, Path()]) -> Response[None]:
    AgentService(repository()).revoke(id, caller(app))
    return Response(status_code=204)


lambda_handler = lambda_entrypoint(app)
