"""Admin operations: issue an agent key (shown once) and revoke it; onboard a creator (seller), issue
their API keys (shown once) and revoke them, as `talkshop creator add|key|revoke` does while no server
holds the data; run A/B experiments of the recommendation ranking and read their reports; read, learn
and roll back the ranking weights (talkshop.analytics.experiments and .learning). Admin bearer only.

Issuing a key honours Idempotency-Key: a retry gets the first answer (the same agent, the same creator)
with the key and the webhook secret null, so no second agent or key is made and no key is kept in the
idempotency table."""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.metrics import MetricUnit

from talkshop.analytics.experiments import (
    Experiment,
    ExperimentList,
    ExperimentReport,
    ExperimentRequest,
    Experiments,
)
from talkshop.analytics.learning import (
    LearnRequest,
    RankingWeights,
    RollbackRequest,
    WeightsHistory,
    WeightsVersion,
)
from talkshop.api.app import create_app, error_responses, json_response, lambda_entrypoint, location_of
from talkshop.api.context import caller, catalog, repository
from talkshop.api.idempotency import once_per_key
from talkshop.api.observability import metrics
from talkshop.auth import Principal
from talkshop.catalog.creators import CreatorId, CreatorRequest, IssuedCreatorKey, RevokedCreatorKeys
from talkshop.commerce.acp.agents import AgentKeyRequest, AgentService, IssuedAgentKey
from talkshop.errors import Forbidden
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


def _admin() -> Principal:
    principal = caller(app)
    principal.require_signed_in()
    if not principal.is_admin:
        raise Forbidden("Only the admin may do this: send the admin key.", code="admin_only")
    return principal


@app.post(
    "/api/admin/creators",
    summary="Create a creator (seller) and their business, with their first API key (shown once)",
    tags=["admin"],
    responses={
        201: {"description": "The creator and their key"},
        **error_responses(400, 401, 403, 409, 415, 422),
    },
)
def create_creator(request: CreatorRequest) -> Response[IssuedCreatorKey]:
    principal = _admin()

    def handle() -> Response[IssuedCreatorKey]:
        issued = IssuedCreatorKey.of(catalog().creators.add(request.name, request.id))
        metrics.add_metric(name="CreatorKeysIssued", unit=MetricUnit.Count, value=1)
        return json_response(issued, status=201)

    return once_per_key(app, "create_creator", principal, request, handle, shown_once=("apiKey",))


@app.post(
    "/api/admin/creators/<id>/keys",
    summary="Issue another API key to a creator (shown once); their other keys keep working",
    tags=["admin"],
    responses={201: {"description": "The creator and the new key"}, **error_responses(401, 403, 404, 422)},
)
def issue_creator_key(id: Annotated[CreatorId, Path()]) -> Response[IssuedCreatorKey]:
    principal = _admin()

    def handle() -> Response[IssuedCreatorKey]:
        issued = IssuedCreatorKey.of(catalog().creators.issue_key(id))
        metrics.add_metric(name="CreatorKeysIssued", unit=MetricUnit.Count, value=1)
        return json_response(issued, status=201)

    # The creator is in the path, not the body: the operation names them, so that one key reused for
    # another creator is not answered with the first creator's replay.
    return once_per_key(app, f"issue_creator_key:{id}", principal, None, handle, shown_once=("apiKey",))


@app.delete(
    "/api/admin/creators/<id>/keys",
    summary="Revoke every API key of a creator; they stop working at once",
    tags=["admin"],
    responses={200: {"description": "How many keys were revoked"}, **error_responses(401, 403, 404, 422)},
)
def revoke_creator_keys(id: Annotated[CreatorId, Path()]) -> Response[RevokedCreatorKeys]:
    _admin()
    revoked = catalog().creators.revoke_keys(id)
    return json_response(RevokedCreatorKeys(id=id, revoked=revoked))


@app.post(
    "/api/admin/experiments",
    summary="Start an A/B experiment of ranking strategies (one runs at a time)",
    tags=["admin"],
    responses={201: {"description": "The running experiment"}, **error_responses(401, 403, 409, 415, 422)},
)
def start_experiment(request: ExperimentRequest) -> Response[Experiment]:
    _admin()
    experiment = Experiments(repository()).start(request)
    return json_response(experiment, status=201, headers={"Location": location_of(app, experiment.id)})


@app.get(
    "/api/admin/experiments",
    summary="Experiments, newest first",
    tags=["admin"],
    responses={200: {"description": "A page of experiments"}, **error_responses(400, 401, 403, 422)},
)
def list_experiments(
    limit: Annotated[int, Query(ge=1, le=100)] = 20, cursor: Annotated[str | None, Query()] = None
) -> Response[ExperimentList]:
    _admin()
    return json_response(Experiments(repository()).list(limit=limit, cursor=cursor))


@app.get(
    "/api/admin/experiments/<id>",
    summary="One experiment",
    tags=["admin"],
    responses={200: {"description": "The experiment"}, **error_responses(401, 403, 404, 422)},
)
def get_experiment(id: Annotated[Identifier, Path()]) -> Response[Experiment]:
    _admin()
    return json_response(Experiments(repository()).get(id))


@app.post(
    "/api/admin/experiments/<id>/stop",
    summary="Stop an experiment: chats rank with the learned weights again; its report stays",
    tags=["admin"],
    responses={200: {"description": "The stopped experiment"}, **error_responses(401, 403, 404, 409, 422)},
)
def stop_experiment(id: Annotated[Identifier, Path()]) -> Response[Experiment]:
    _admin()
    return json_response(Experiments(repository()).stop(id))


@app.get(
    "/api/admin/experiments/<id>/report",
    summary="Exposures, conversions and conversion rate per arm, with 95 % intervals",
    tags=["admin"],
    responses={200: {"description": "The report"}, **error_responses(401, 403, 404, 422)},
)
def experiment_report(id: Annotated[Identifier, Path()]) -> Response[ExperimentReport]:
    _admin()
    return json_response(Experiments(repository()).report(id))


@app.get(
    "/api/admin/ranking-weights",
    summary="The current ranking weights and their history, with the outcomes that led to each",
    tags=["admin"],
    responses={200: {"description": "Current weights and history"}, **error_responses(401, 403, 422)},
)
def ranking_weights() -> Response[WeightsHistory]:
    _admin()
    return json_response(RankingWeights(repository()).history())


@app.post(
    "/api/admin/ranking-weights/learn",
    summary="Learn new ranking weights from purchased and dismissed recommendations (bounded)",
    tags=["admin"],
    responses={201: {"description": "The new version"}, **error_responses(401, 403, 409, 415, 422)},
)
def learn_ranking_weights(request: LearnRequest) -> Response[WeightsVersion]:
    _admin()
    return json_response(RankingWeights(repository()).learn(request), status=201)


@app.post(
    "/api/admin/ranking-weights/rollback",
    summary="Make an earlier version's weights current again (as a new version)",
    tags=["admin"],
    responses={201: {"description": "The new version"}, **error_responses(400, 401, 403, 404, 415, 422)},
)
def rollback_ranking_weights(request: RollbackRequest) -> Response[WeightsVersion]:
    _admin()
    return json_response(RankingWeights(repository()).rollback(request), status=201)


lambda_handler = lambda_entrypoint(app)
