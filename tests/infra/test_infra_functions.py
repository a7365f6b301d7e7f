"""One Lambda per FunctionSpec, configured from it, each with a least-privilege role.

The API functions (FUNCTIONS), the search indexer, the event publisher, the chat sweeper and the state
machines' step functions are all TalkshopFunctions; the stream, schedule and state machine wiring is tested
in test_infra_indexer.py / test_infra_events.py / test_infra_commerce.py.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from aws_cdk import App, Stack
from aws_cdk.assertions import Template
from constructs import IConstruct

from infra.constructs.functions import (
    READ_ACTIONS,
    WRITE_ACTIONS,
    FunctionSettings,
    TalkshopFunction,
)
from infra.constructs.llm import LLM_SECRET_VARIABLE
from infra.constructs.runtime import ARCHITECTURE, HANDLER, RUNTIME
from infra.constructs.search import SEARCH_READ_ACTIONS
from infra.stack import TalkshopStack
from talkshop.api.routes import (
    ANALYTICS_CONSUMER,
    CHAT_SWEEPER,
    EVENT_PUBLISHER,
    FUNCTIONS,
    SEARCH,
    SEARCH_INDEXER,
    FunctionSpec,
    TableAccess,
)
from talkshop.api.state_machines import STATE_MACHINES
from talkshop.commerce.payments.providers import PAYMENTS_VARIABLE, STRIPE_SECRET_VARIABLE
from talkshop.settings import (
    ADMIN_KEY_SECRET_VARIABLE,
    EVENT_BUS_NAME_VARIABLE,
    IDEMPOTENCY_TABLE_VARIABLE,
    OPENSEARCH_ENDPOINT_VARIABLE,
    OPENSEARCH_INDEX_VARIABLE,
    OPENSEARCH_REPLICAS_VARIABLE,
    PUBLIC_URL_VARIABLE,
    SEARCH_BACKEND_VARIABLE,
    TABLE_NAME_VARIABLE,
)

pytestmark = pytest.mark.slow

LogicalId = Callable[[IConstruct], str]
Resources = dict[str, dict[str, Any]]
#: The functions the state machines invoke (not behind the API), each once.
STEP_SPECS = tuple({f.name: f for machine in STATE_MACHINES for f in machine.functions}.values())
ALL_SPECS = (*FUNCTIONS, SEARCH_INDEXER, EVENT_PUBLISHER, CHAT_SWEEPER, ANALYTICS_CONSUMER, *STEP_SPECS)
SPECS = pytest.mark.parametrize("spec", ALL_SPECS, ids=lambda spec: spec.name)
#: Functions whose role holds only what their spec asks for (no stream, schedule or bus wiring).
PLAIN_SPECS = pytest.mark.parametrize("spec", [*FUNCTIONS, *STEP_SPECS], ids=lambda spec: spec.name)


def _function(stack: TalkshopStack, spec: FunctionSpec) -> TalkshopFunction:
    outside_the_api = {
        SEARCH_INDEXER.name: stack.search_indexer.function,
        EVENT_PUBLISHER.name: stack.event_publisher.function,
        CHAT_SWEEPER.name: stack.chat_sweeper.function,
        ANALYTICS_CONSUMER.name: stack.analytics.function,
        **stack.workflows.functions,
    }
    return outside_the_api.get(spec.name) or stack.api_functions.functions[spec.name]


def _started_machines(stack: TalkshopStack, spec: FunctionSpec) -> list[Any]:
    """The workflows ``spec``'s function may start (see infra.constructs.workflows.STARTERS)."""
    from infra.constructs.workflows import STARTERS

    return [stack.workflows.machines[name] for name, starters in STARTERS.items() if spec in starters]


def _layers(stack: TalkshopStack, spec: FunctionSpec) -> list[IConstruct]:
    return [
        stack.layer.layer,
        *([stack.search_layer.layer] if spec.uses_search else []),
        *([stack.llm_layer.layer] if spec.uses_llm else []),
        *([stack.payments_layer.layer] if spec.uses_payments else []),
    ]


def _statements(resources: Resources, role_logical_id: str) -> list[dict[str, Any]]:
    """Every statement of every AWS::IAM::Policy attached to the role."""
    statements: list[dict[str, Any]] = []
    for resource in resources.values():
        if (
            resource["Type"] == "AWS::IAM::Policy"
            and {"Ref": role_logical_id} in resource["Properties"]["Roles"]
        ):
            statements += resource["Properties"]["PolicyDocument"]["Statement"]
    return statements


def _actions(statements: list[dict[str, Any]]) -> set[str]:
    actions: set[str] = set()
    for statement in statements:
        action = statement["Action"]
        actions.update([action] if isinstance(action, str) else action)
    return actions


def test_one_function_per_spec(template: Template) -> None:
    """The API's functions plus those outside it; no other (custom resource) functions but CDK's
    BucketDeployment, which copies the web client's static files to S3 on deploys."""
    functions = {
        logical: function
        for logical, function in template.find_resources("AWS::Lambda::Function").items()
        if not logical.startswith("CustomCDKBucketDeployment")
    }
    assert len(functions) == len(ALL_SPECS)
    assert sorted(f["Properties"]["Description"] for f in functions.values()) == sorted(
        spec.description for spec in ALL_SPECS
    )
    assert SEARCH.uses_search
    assert SEARCH in FUNCTIONS


@SPECS
def test_function_is_configured_from_its_spec(
    stack: TalkshopStack, resources: Resources, logical_id: LogicalId, spec: FunctionSpec
) -> None:
    function = _function(stack, spec)
    properties = resources[logical_id(function.function)]["Properties"]
    assert properties["Handler"] == HANDLER == "handler.lambda_handler"
    assert properties["Runtime"] == RUNTIME.name
    assert properties["Architectures"] == [ARCHITECTURE.name]
    assert properties["MemorySize"] == spec.memory_mb
    assert properties["Timeout"] == spec.timeout_s
    assert properties["Description"] == spec.description
    assert properties["TracingConfig"] == {"Mode": "Active"}
    assert properties["Layers"] == [{"Ref": logical_id(layer)} for layer in _layers(stack, spec)]
    assert properties["LoggingConfig"] == {"LogGroup": {"Ref": logical_id(function.log_group)}}
    assert properties["Role"] == {"Fn::GetAtt": [logical_id(function.role), "Arn"]}


@SPECS
def test_function_environment(
    stack: TalkshopStack, resources: Resources, logical_id: LogicalId, spec: FunctionSpec
) -> None:
    function = _function(stack, spec).function
    variables = resources[logical_id(function)]["Properties"]["Environment"]["Variables"]
    expected: dict[str, Any] = {
        TABLE_NAME_VARIABLE: {"Ref": logical_id(stack.storage.table)},
        "POWERTOOLS_SERVICE_NAME": spec.name,
        "POWERTOOLS_METRICS_NAMESPACE": "Talkshop",
        "POWERTOOLS_LOG_LEVEL": "INFO",
        "TALKSHOP_CORS_ORIGINS": "*",
        PAYMENTS_VARIABLE: "test",  # every function knows the provider's name; chargers get its key
    }
    if spec.needs_admin_key:
        expected[ADMIN_KEY_SECRET_VARIABLE] = {"Ref": logical_id(stack.admin_key.secret)}
    if spec.uses_search:
        expected |= {
            SEARCH_BACKEND_VARIABLE: "opensearch",
            OPENSEARCH_ENDPOINT_VARIABLE: {"Fn::GetAtt": [logical_id(stack.search.domain), "DomainEndpoint"]},
            OPENSEARCH_INDEX_VARIABLE: "products",
            OPENSEARCH_REPLICAS_VARIABLE: "0",  # the dev profile's single node
            "OPENBLAS_NUM_THREADS": "1",  # query embeddings without OpenBLAS's thread pool
        }
    if spec.uses_llm:
        expected[LLM_SECRET_VARIABLE] = {"Ref": logical_id(stack.llm_secret.secret)}
    if spec.uses_payments:
        expected[STRIPE_SECRET_VARIABLE] = {"Ref": logical_id(stack.payments_secret.secret)}
    if spec.uses_idempotency:
        expected[IDEMPOTENCY_TABLE_VARIABLE] = {"Ref": logical_id(stack.idempotency.table)}
    if spec in FUNCTIONS:
        expected[PUBLIC_URL_VARIABLE] = {  # the web client's CloudFront address
            "Fn::Join": ["", ["https://", {"Fn::GetAtt": [logical_id(stack.web.distribution), "DomainName"]}]]
        }
    for machine in _started_machines(stack, spec):
        expected[machine.spec.arn_variable] = {"Ref": logical_id(machine.state_machine)}
    if spec == EVENT_PUBLISHER:
        expected[EVENT_BUS_NAME_VARIABLE] = {"Ref": logical_id(stack.event_bus.bus)}
    assert variables == expected


@SPECS
def test_function_log_group_has_retention(
    stack: TalkshopStack, resources: Resources, logical_id: LogicalId, spec: FunctionSpec
) -> None:
    log_group = resources[logical_id(_function(stack, spec).log_group)]
    assert log_group["Properties"]["RetentionInDays"] == 30


@SPECS
def test_role_has_no_managed_policies(
    stack: TalkshopStack, resources: Resources, logical_id: LogicalId, spec: FunctionSpec
) -> None:
    properties = resources[logical_id(_function(stack, spec).role)]["Properties"]
    assert "ManagedPolicyArns" not in properties
    assert "Policies" not in properties
    assert properties["AssumeRolePolicyDocument"]["Statement"] == [
        {"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}}
    ]


@PLAIN_SPECS
def test_role_is_least_privilege(
    stack: TalkshopStack, resources: Resources, logical_id: LogicalId, spec: FunctionSpec
) -> None:
    function = _function(stack, spec)
    started = _started_machines(stack, spec)
    by_service: dict[str, list[dict[str, Any]]] = {}
    for statement in _statements(resources, logical_id(function.role)):
        assert statement["Effect"] == "Allow"
        services = {action.split(":")[0] for action in _actions([statement])}
        assert len(services) == 1, statement
        by_service.setdefault(services.pop(), []).append(statement)

    assert set(by_service) == {"logs", "dynamodb", "xray"} | (
        {"secretsmanager"} if spec.needs_admin_key or spec.uses_llm or spec.uses_payments else set()
    ) | ({"es"} if spec.uses_search else set()) | ({"states"} if started else set())
    (logs,) = by_service["logs"]
    assert logs["Resource"] == {"Fn::GetAtt": [logical_id(function.log_group), "Arn"]}
    assert _actions([logs]) == {"logs:CreateLogStream", "logs:PutLogEvents"}

    table, *idempotency = by_service["dynamodb"]
    # The idempotency table's grant is tested in test_infra_commerce.py.
    assert len(idempotency) == (1 if spec.uses_idempotency else 0)
    table_arn = {"Fn::GetAtt": [logical_id(stack.storage.table), "Arn"]}
    assert table["Resource"] == [table_arn, {"Fn::Join": ["", [table_arn, "/index/*"]]}]
    writes = set(WRITE_ACTIONS) if spec.table_access is TableAccess.READ_WRITE else set()
    assert _actions([table]) == set(READ_ACTIONS) | writes

    assert _actions(by_service["xray"]) == {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}
    secrets: list[IConstruct] = [stack.admin_key.secret] if spec.needs_admin_key else []
    secrets += [stack.llm_secret.secret] if spec.uses_llm else []
    secrets += [stack.payments_secret.secret] if spec.uses_payments else []
    readable = by_service.get("secretsmanager", [])
    assert [s["Resource"] for s in readable] == [{"Ref": logical_id(secret)} for secret in secrets]
    for statement in readable:
        assert _actions([statement]) == {"secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"}
    if spec.uses_search:
        (search,) = by_service["es"]
        domain_arn = {"Fn::GetAtt": [logical_id(stack.search.domain), "Arn"]}
        assert search["Resource"] == [domain_arn, {"Fn::Join": ["", [domain_arn, "/*"]]}]
        # An API function only reads: no PUT or DELETE on the domain.
        assert _actions([search]) == set(SEARCH_READ_ACTIONS)
    # Starting a state machine is the one Step Functions action, on that machine only.
    assert sorted(str(s["Resource"]) for s in by_service.get("states", [])) == sorted(
        str({"Ref": logical_id(machine.state_machine)}) for machine in started
    )


@pytest.mark.parametrize(
    "spec", [s for s in FUNCTIONS if s.table_access is TableAccess.READ], ids=lambda spec: spec.name
)
def test_read_functions_cannot_write(
    stack: TalkshopStack, resources: Resources, logical_id: LogicalId, spec: FunctionSpec
) -> None:
    role = stack.api_functions.functions[spec.name].role
    dynamodb_actions = {
        a for a in _actions(_statements(resources, logical_id(role))) if a.startswith("dynamodb:")
    }
    assert dynamodb_actions == set(READ_ACTIONS)
    assert not dynamodb_actions & set(WRITE_ACTIONS)


def _bare_settings(stack: Stack, log_level: str) -> FunctionSettings:
    """What a function needs from the stack, built in a bare one."""
    from aws_cdk import aws_dynamodb as dynamodb
    from aws_cdk import aws_lambda as lambda_
    from aws_cdk import aws_secretsmanager as secretsmanager

    return FunctionSettings(
        table=dynamodb.Table(
            stack, "Table", partition_key=dynamodb.Attribute(name="PK", type=dynamodb.AttributeType.STRING)
        ),
        layer=lambda_.LayerVersion.from_layer_version_arn(
            stack, "Layer", "arn:aws:lambda:eu-west-1:123456789012:layer:talkshop:1"
        ),
        admin_key=secretsmanager.Secret(stack, "Secret"),
        log_level=log_level,
        cors_allow_origins=["*"],
    )


def test_function_without_admin_key_gets_neither_secret_nor_variable() -> None:
    """No spec lacks the admin key today; build one in a bare stack to cover that branch."""
    stack = Stack(App(context={"aws:cdk:bundling-stacks": []}), "Bare")
    spec = FunctionSpec(
        name=FUNCTIONS[0].name, description="reader", table_access=TableAccess.READ, needs_admin_key=False
    )
    TalkshopFunction(stack, "Reader", spec=spec, shared=_bare_settings(stack, log_level="DEBUG"))
    template = Template.from_stack(stack)
    (function,) = template.find_resources("AWS::Lambda::Function").values()
    variables = function["Properties"]["Environment"]["Variables"]
    assert ADMIN_KEY_SECRET_VARIABLE not in variables
    assert variables["POWERTOOLS_LOG_LEVEL"] == "DEBUG"
    (policy,) = template.find_resources("AWS::IAM::Policy").values()
    assert len(policy["Properties"]["Roles"]) == 1
    actions = _actions(policy["Properties"]["PolicyDocument"]["Statement"])
    assert actions
    assert not {action for action in actions if action.startswith("secretsmanager:")}
    assert not actions & set(WRITE_ACTIONS)


def test_search_function_needs_the_search_wiring() -> None:
    stack = Stack(App(context={"aws:cdk:bundling-stacks": []}), "Bare")
    with pytest.raises(ValueError, match="uses search"):
        TalkshopFunction(stack, "Search", spec=SEARCH, shared=_bare_settings(stack, log_level="INFO"))
