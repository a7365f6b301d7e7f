"""Admin operations: issue an agent key (shown once) and revoke it. Admin bearer only."""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.metrics import MetricUnit

from talkshop.api.app import create_app, error_responses, json_response, lambda_entrypoint, location_of
from talkshop.api.context import caller, repository
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
    issued = AgentService(repository()).issue(request, caller(app))
    metrics.add_metric(name="AgentKeysIssued", unit=MetricUnit.Count, value=1)
    return json_response(issued, status=201, headers={"Location": location_of(app, issued.id)})


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
