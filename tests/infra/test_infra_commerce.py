"""Commerce on AWS: the state machines from their ASL files, who may start them, the webhook trigger on the
bus, the idempotency table, the payment provider's layer and secret, and their alarms."""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from aws_cdk import App, Stack
from aws_cdk.assertions import Template
from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer
from constructs import IConstruct

from infra import bundling
from infra.constructs.idempotency import EXPIRY_ATTRIBUTE, IDEMPOTENCY_ACTIONS, KEY_ATTRIBUTE
from infra.constructs.layer import LocalPipBundler
from infra.constructs.payments import PLACEHOLDER_KEY, PaymentsSecret, payment_provider
from infra.constructs.payments_layer import PAYMENTS_LAYER_PRUNE
from infra.constructs.runtime import ARCHITECTURE, RUNTIME
from infra.constructs.workflows import STARTERS, VENDED_LOGS_PREFIX
from infra.paths import PYPROJECT
from infra.stack import TalkshopStack
from talkshop.api.routes import ACP, ADMIN, CHAT_SESSIONS, COMMERCE, WEB, WEBHOOKS
from talkshop.api.state_machines import (
    CHECKOUT,
    STATE_MACHINES,
    WEBHOOK_DELIVERY,
    WorkflowType,
    render_definition,
    substitution_variable,
)
from talkshop.commerce.payments.providers import PAYMENTS_VARIABLE, STRIPE_SECRET_VARIABLE
from talkshop.commerce.webhooks import STATE_MACHINE_VARIABLE as WEBHOOK_STATE_MACHINE_VARIABLE
from talkshop.settings import (
    CHECKOUT_STATE_MACHINE_VARIABLE,
    IDEMPOTENCY_TABLE_VARIABLE,
    PUBLIC_URL_VARIABLE,
    SHOP_NAME_VARIABLE,
)

pytestmark = pytest.mark.slow

LogicalId = Callable[[IConstruct], str]
Resources = dict[str, dict[str, Any]]
EXISTING_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:stripe-key-AbCdEf"
TEST_CONTEXT = {"aws:cdk:bundling-stacks": [], "@aws-cdk/core:failSynthOnValidationErrors": False}


def _of_type(resources: Resources, kind: str) -> dict[str, dict[str, Any]]:
    return {logical: r["Properties"] for logical, r in resources.items() if r["Type"] == kind}


def _actions(statement: dict[str, Any]) -> set[str]:
    action = statement["Action"]
    return {action} if isinstance(action, str) else set(action)


def _grants(resources: Resources) -> list[tuple[list[Any], dict[str, Any]]]:
    """(roles, statement) for every statement of every IAM policy of the stack."""
    return [
        (policy["Roles"], statement)
        for policy in _of_type(resources, "AWS::IAM::Policy").values()
        for statement in policy["PolicyDocument"]["Statement"]
    ]


def _variables(resources: Resources, logical_id: LogicalId, function: Any) -> dict[str, Any]:
    variables: dict[str, Any] = resources[logical_id(function.function)]["Properties"]["Environment"][
        "Variables"
    ]
    return variables


# --- State machines -----------------------------------------------------------------------------------


def test_both_workflows_are_deployed_with_the_type_their_spec_gives() -> None:
    assert CHECKOUT.workflow_type is WorkflowType.EXPRESS  # StartSyncExecution: only Express has it
    assert WEBHOOK_DELIVERY.workflow_type is WorkflowType.STANDARD  # retries outlast Express's 5 minutes
    assert {spec.name for spec in STATE_MACHINES} == {CHECKOUT.name, WEBHOOK_DELIVERY.name}


@pytest.mark.parametrize("spec", STATE_MACHINES, ids=lambda spec: spec.name)
def test_state_machine_is_its_asl_file_with_the_step_functions_substituted(
    stack: TalkshopStack, resources: Resources, logical_id: LogicalId, spec: Any
) -> None:
    workflow = stack.workflows.machines[spec.name]
    properties = resources[logical_id(workflow.state_machine)]["Properties"]
    assert properties["StateMachineType"] == spec.workflow_type.value
    asl = spec.definition_path.read_text()
    assert properties["DefinitionString"] == asl  # the very file the local runtime runs
    arns = {
        f.name: {"Fn::GetAtt": [logical_id(stack.workflows.functions[f.name].function), "Arn"]}
        for f in spec.functions
    }
    assert properties["DefinitionSubstitutions"] == {
        substitution_variable(f): arns[f.name] for f in spec.functions
    }
    # Every placeholder of the file has a value, and each Task then invokes one of the machine's functions.
    assert set(re.findall(r"\$\{(\w+)\}", asl)) == set(properties["DefinitionSubstitutions"])
    names = {f.name: f"arn:aws:lambda:eu-west-1:123456789012:function:{f.name}" for f in spec.functions}
    rendered = json.loads(
        render_definition(asl, {substitution_variable(f): names[f.name] for f in spec.functions})
    )
    invoked = set(re.findall(r'"FunctionName": "([^"]+)"', json.dumps(rendered)))
    assert invoked
    assert invoked <= set(names.values())


@pytest.mark.parametrize("spec", STATE_MACHINES, ids=lambda spec: spec.name)
def test_state_machine_logs_every_event_without_data_and_is_traced(
    stack: TalkshopStack, resources: Resources, logical_id: LogicalId, spec: Any
) -> None:
    workflow = stack.workflows.machines[spec.name]
    properties = resources[logical_id(workflow.state_machine)]["Properties"]
    assert properties["LoggingConfiguration"] == {
        "Destinations": [
            {
                "CloudWatchLogsLogGroup": {
                    "LogGroupArn": {"Fn::GetAtt": [logical_id(workflow.log_group), "Arn"]}
                }
            }
        ],
        "IncludeExecutionData": False,  # states carry payment tokens and addresses
        "Level": "ALL",
    }
    assert properties["TracingConfiguration"] == {"Enabled": True}
    log_group = resources[logical_id(workflow.log_group)]["Properties"]
    assert log_group["LogGroupName"] == f"{VENDED_LOGS_PREFIX}{stack.stack_name}-{spec.name}"
    assert log_group["RetentionInDays"] == 30


@pytest.mark.parametrize("spec", STATE_MACHINES, ids=lambda spec: spec.name)
def test_state_machine_may_invoke_only_its_step_functions(
    stack: TalkshopStack, resources: Resources, logical_id: LogicalId, spec: Any
) -> None:
    workflow = stack.workflows.machines[spec.name]
    role = resources[logical_id(workflow.role)]["Properties"]
    assert role["AssumeRolePolicyDocument"]["Statement"] == [
        {"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": "states.amazonaws.com"}}
    ]
    assert "ManagedPolicyArns" not in role
    statements = [s for roles, s in _grants(resources) if {"Ref": logical_id(workflow.role)} in roles]
    scoped = [s for s in statements if s["Resource"] != "*"]
    assert [(_actions(s), s["Resource"]) for s in scoped] == [
        (
            {"lambda:InvokeFunction"},
            {"Fn::GetAtt": [logical_id(stack.workflows.functions[f.name].function), "Arn"]},
        )
        for f in spec.functions
    ]
    # Only log delivery and X-Ray, which have no resource-level permissions, are on "*".
    unscoped = set().union(*(_actions(s) for s in statements if s["Resource"] == "*"))
    assert {action.split(":")[0] for action in unscoped} == {"logs", "xray"}
    assert not any(a.startswith("logs:PutLogEvents") or a == "lambda:InvokeFunction" for a in unscoped)


def test_who_may_start_which_state_machine(
    stack: TalkshopStack, resources: Resources, logical_id: LogicalId
) -> None:
    assert {CHECKOUT.name: (COMMERCE, ACP, WEB), WEBHOOK_DELIVERY.name: (WEBHOOKS,)} == STARTERS
    checkout = {"Ref": logical_id(stack.workflows.machines[CHECKOUT.name].state_machine)}
    webhooks = {"Ref": logical_id(stack.workflows.machines[WEBHOOK_DELIVERY.name].state_machine)}
    rule_role = stack.webhook_trigger.rule  # the rule's target role, found below by its resource
    starts = sorted(
        (str(roles), tuple(sorted(_actions(s))), json.dumps(s["Resource"]))
        for roles, s in _grants(resources)
        if any(action.startswith("states:") for action in _actions(s))
    )
    functions = stack.api_functions.functions

    def role(name: str) -> str:
        return str([{"Ref": logical_id(functions[name].role)}])

    (target,) = resources[logical_id(rule_role)]["Properties"]["Targets"]
    events_role = str([{"Ref": target["RoleArn"]["Fn::GetAtt"][0]}])
    assert starts == sorted(
        [
            (role(COMMERCE.name), ("states:StartSyncExecution",), json.dumps(checkout)),
            (role(ACP.name), ("states:StartSyncExecution",), json.dumps(checkout)),
            (role(WEB.name), ("states:StartSyncExecution",), json.dumps(checkout)),
            (role(WEBHOOKS.name), ("states:StartExecution",), json.dumps(webhooks)),
            (events_role, ("states:StartExecution",), json.dumps(webhooks)),
        ]
    )
    for name in (COMMERCE.name, ACP.name, WEB.name):
        assert _variables(resources, logical_id, functions[name])[CHECKOUT_STATE_MACHINE_VARIABLE] == checkout
    assert (
        _variables(resources, logical_id, functions[WEBHOOKS.name])[WEBHOOK_STATE_MACHINE_VARIABLE]
        == webhooks
    )
    assert WEBHOOK_DELIVERY.arn_variable == WEBHOOK_STATE_MACHINE_VARIABLE
    assert CHECKOUT.arn_variable == CHECKOUT_STATE_MACHINE_VARIABLE


# --- Webhook trigger ------------------------------------------------------------------------------------


def test_order_events_on_the_bus_start_a_webhook_delivery(
    stack: TalkshopStack, resources: Resources, logical_id: LogicalId
) -> None:
    rule = resources[logical_id(stack.webhook_trigger.rule)]["Properties"]
    assert rule["EventBusName"] == {"Ref": logical_id(stack.event_bus.bus)}
    assert rule["EventPattern"] == {
        "source": ["talkshop"],
        "detail-type": ["checkout_failed", "order_paid", "order_placed", "order_placed_from_chat"],
    }
    (target,) = rule["Targets"]
    machine = stack.workflows.machines[WEBHOOK_DELIVERY.name].state_machine
    assert target["Arn"] == {"Ref": logical_id(machine)}
    assert "Input" not in target
    assert "InputPath" not in target
    queue = stack.webhook_trigger.dead_letter_queue
    assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": [logical_id(queue), "Arn"]}}
    assert target["RetryPolicy"] == {"MaximumEventAgeInSeconds": 86400, "MaximumRetryAttempts": 185}


def test_the_trigger_dead_letter_queue_is_encrypted_writable_by_the_rule_and_alarmed(
    stack: TalkshopStack, resources: Resources, logical_id: LogicalId
) -> None:
    queue = stack.webhook_trigger.dead_letter_queue
    assert resources[logical_id(queue)]["Properties"]["SqsManagedSseEnabled"] is True
    (policy,) = [
        p
        for p in _of_type(resources, "AWS::SQS::QueuePolicy").values()
        if {"Ref": logical_id(queue)} in p["Queues"]
    ]
    (send,) = [s for s in policy["PolicyDocument"]["Statement"] if s["Effect"] == "Allow"]
    assert send["Principal"] == {"Service": "events.amazonaws.com"}
    assert send["Condition"]["ArnEquals"]["aws:SourceArn"] == {
        "Fn::GetAtt": [logical_id(stack.webhook_trigger.rule), "Arn"]
    }
    alarm = resources[logical_id(stack.webhook_trigger.dead_letter_alarm)]["Properties"]
    assert alarm["MetricName"] == "ApproximateNumberOfMessagesVisible"
    assert alarm["Dimensions"][0]["Value"] == {"Fn::GetAtt": [logical_id(queue), "QueueName"]}
    assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (0, "GreaterThanThreshold")


# --- Idempotency table -----------------------------------------------------------------------------------


def test_idempotency_table_has_the_powertools_layout(
    stack: TalkshopStack, resources: Resources, logical_id: LogicalId
) -> None:
    defaults = inspect.signature(DynamoDBPersistenceLayer.__init__).parameters
    assert (
        defaults["key_attr"].default,
        defaults["expiry_attr"].default,
    ) == (KEY_ATTRIBUTE, EXPIRY_ATTRIBUTE)
    table = resources[logical_id(stack.idempotency.table)]
    properties = table["Properties"]
    assert properties["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
    assert properties["AttributeDefinitions"] == [{"AttributeName": "id", "AttributeType": "S"}]
    assert properties["TimeToLiveSpecification"] == {"AttributeName": "expiration", "Enabled": True}
    assert properties["BillingMode"] == "PAY_PER_REQUEST"
    assert properties["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert table["DeletionPolicy"] == "Delete"  # a day's replay protection, not data


def test_only_functions_keeping_idempotency_records_may_use_the_table(
    stack: TalkshopStack, resources: Resources, logical_id: LogicalId
) -> None:
    table_arn = {"Fn::GetAtt": [logical_id(stack.idempotency.table), "Arn"]}
    users = {
        str(roles): s
        for roles, s in _grants(resources)
        if table_arn in (s["Resource"], *(s["Resource"] if isinstance(s["Resource"], list) else []))
    }
    keepers = [f for f in stack.all_functions if f.spec.uses_idempotency]
    # Every function with a state-changing POST (ACP's checkout sessions included).
    assert {f.spec.name for f in keepers} == {
        COMMERCE.name,
        CHAT_SESSIONS.name,
        ADMIN.name,
        WEBHOOKS.name,
        ACP.name,
        WEB.name,  # the pages' form posts
    }
    assert set(users) == {str([{"Ref": logical_id(f.role)}]) for f in keepers}
    for statement in users.values():
        assert statement["Resource"] == table_arn  # the table itself: it has no index
        assert _actions(statement) == set(IDEMPOTENCY_ACTIONS)
    # What Powertools' persistence layer calls; no Query, Scan or batch writes.
    assert set(IDEMPOTENCY_ACTIONS) == {
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
    }
    for function in stack.all_functions:
        variables = _variables(resources, logical_id, function)
        assert (IDEMPOTENCY_TABLE_VARIABLE in variables) == function.spec.uses_idempotency, function.spec.name
        if function.spec.uses_idempotency:
            assert variables[IDEMPOTENCY_TABLE_VARIABLE] == {"Ref": logical_id(stack.idempotency.table)}


# --- Payments ---------------------------------------------------------------------------------------------


def test_payments_layer_holds_the_payments_extra_pruned_of_the_talkshop_layer(
    stack: TalkshopStack, resources: Resources, logical_id: LogicalId
) -> None:
    properties = resources[logical_id(stack.payments_layer.layer)]["Properties"]
    assert properties["CompatibleRuntimes"] == [RUNTIME.name]
    assert properties["CompatibleArchitectures"] == [ARCHITECTURE.name]
    (command,) = LocalPipBundler(stack.payments_layer.installs, None).commands("/out", ["pip"])
    requested = {bundling.requirement_name(r) for r in command[command.index("--target") + 2 :]}
    assert requested == {"stripe"}
    assert stack.payments_layer.prune == PAYMENTS_LAYER_PRUNE
    assert {"pydantic", "typing-extensions", "botocore", "urllib3"} <= PAYMENTS_LAYER_PRUNE


def test_payments_layer_installs_the_payments_extra() -> None:
    (install,) = bundling.payments_layer_installs(PYPROJECT)
    assert not install.no_deps
    assert {bundling.requirement_name(r) for r in install.requirements} == {"stripe"}


def test_only_the_charging_functions_read_the_payments_secret(
    stack: TalkshopStack, resources: Resources, logical_id: LogicalId
) -> None:
    secret = {"Ref": logical_id(stack.payments_secret.secret)}
    assert (
        resources[logical_id(stack.payments_secret.secret)]["Properties"]["SecretString"] == PLACEHOLDER_KEY
    )
    readers = [(roles, s) for roles, s in _grants(resources) if s["Resource"] == secret]
    chargers = [f for f in stack.all_functions if f.spec.uses_payments]
    # The checkout's steps charge; the sweeper voids and captures what died checkouts left behind.
    assert sorted(f.spec.name for f in chargers) == ["chat_sweeper", "checkout_steps"]
    assert sorted(str(roles) for roles, _ in readers) == sorted(
        str([{"Ref": logical_id(f.role)}]) for f in chargers
    )
    assert _actions(readers[0][1]) == {"secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"}
    for function in stack.all_functions:
        variables = _variables(resources, logical_id, function)
        assert variables[PAYMENTS_VARIABLE] == "test", function.spec.name  # the name is no secret
        if function.spec.uses_payments:
            assert variables[STRIPE_SECRET_VARIABLE] == secret
        else:
            assert STRIPE_SECRET_VARIABLE not in variables, function.spec.name


def test_context_picks_stripe_and_an_existing_secret() -> None:
    from infra.app import create_app

    _, stack = create_app({**TEST_CONTEXT, "payments": "stripe", "paymentsSecretArn": EXISTING_ARN})
    resources = Template.from_stack(stack).to_json()["Resources"]
    assert not [
        r
        for r in resources.values()
        if r["Type"] == "AWS::SecretsManager::Secret"
        and r["Properties"].get("SecretString") == PLACEHOLDER_KEY
    ]
    chargers = [f for f in stack.all_functions if f.spec.uses_payments]
    for charger in chargers:
        logical = stack.resolve(stack.get_logical_id(charger.function.node.default_child))  # type: ignore[arg-type]
        variables = resources[logical]["Properties"]["Environment"]["Variables"]
        assert variables[PAYMENTS_VARIABLE] == "stripe"
        assert variables[STRIPE_SECRET_VARIABLE] == EXISTING_ARN
    readers = [s for _, s in _grants(resources) if s["Resource"] == EXISTING_ARN]
    assert len(readers) == len(chargers)


def test_links_use_the_public_url_and_shop_name_from_context() -> None:
    from infra.app import create_app

    _, stack = create_app({**TEST_CONTEXT, "publicUrl": "https://shop.example/", "shopName": "Example"})
    resources = Template.from_stack(stack).to_json()["Resources"]
    for function in stack.api_functions.functions.values():
        logical = stack.resolve(stack.get_logical_id(function.function.node.default_child))  # type: ignore[arg-type]
        variables = resources[logical]["Properties"]["Environment"]["Variables"]
        assert variables[PUBLIC_URL_VARIABLE] == "https://shop.example"
        assert variables[SHOP_NAME_VARIABLE] == "Example"


def test_payment_provider_context_is_validated() -> None:
    assert payment_provider(None) == payment_provider("") == "test"
    assert payment_provider("stripe") == "stripe"
    with pytest.raises(ValueError, match="must be one of test, stripe"):
        payment_provider("paypal")
    with pytest.raises(ValueError, match="complete ARN"):
        PaymentsSecret(
            Stack(App(), "Bare"), "Secret", existing_arn="arn:aws:secretsmanager:eu-west-1:1:secret:x"
        )


# --- Alarms -----------------------------------------------------------------------------------------------


def test_checkout_alarms_on_the_share_of_failures_and_any_timeout(
    stack: TalkshopStack, resources: Resources, logical_id: LogicalId
) -> None:
    machine = {"Ref": logical_id(stack.workflows.machines[CHECKOUT.name].state_machine)}
    failed = resources[logical_id(stack.checkout_alarms.failed)]["Properties"]
    metrics = {m["Id"]: m for m in failed["Metrics"]}
    assert metrics["started"]["MetricStat"]["Metric"]["MetricName"] == "ExecutionsStarted"
    assert metrics["failed"]["MetricStat"]["Metric"]["MetricName"] == "ExecutionsFailed"
    assert metrics["failed"]["MetricStat"]["Metric"]["Dimensions"] == [
        {"Name": "StateMachineArn", "Value": machine}
    ]
    (expression,) = [m for m in failed["Metrics"] if "Expression" in m]
    assert expression["Expression"] == "IF(started >= 5, 100 * failed / started, 0)"
    assert (failed["Threshold"], failed["EvaluationPeriods"]) == (50, 2)
    timed_out = resources[logical_id(stack.checkout_alarms.timed_out)]["Properties"]
    assert (timed_out["MetricName"], timed_out["Threshold"]) == ("ExecutionsTimedOut", 0)
    assert timed_out["Dimensions"] == [{"Name": "StateMachineArn", "Value": machine}]


def test_webhook_delivery_alarms_on_any_failed_execution(
    stack: TalkshopStack, resources: Resources, logical_id: LogicalId
) -> None:
    machine = {"Ref": logical_id(stack.workflows.machines[WEBHOOK_DELIVERY.name].state_machine)}
    failed = resources[logical_id(stack.webhook_delivery_alarms.failed)]["Properties"]
    assert (failed["MetricName"], failed["Threshold"], failed["ComparisonOperator"]) == (
        "ExecutionsFailed",
        0,
        "GreaterThanThreshold",
    )
    assert failed["Dimensions"] == [{"Name": "StateMachineArn", "Value": machine}]


def test_dashboard_shows_the_commerce_alarms_and_workflows(
    stack: TalkshopStack, resources: Resources, logical_id: LogicalId
) -> None:
    (dashboard,) = _of_type(resources, "AWS::CloudWatch::Dashboard").values()
    body = json.dumps(dashboard["DashboardBody"])
    for alarm in (
        *stack.checkout_alarms.alarms,
        *stack.webhook_delivery_alarms.alarms,
        stack.webhook_trigger.dead_letter_alarm,
    ):
        assert logical_id(alarm) in body
    for workflow in stack.workflows.machines.values():
        assert logical_id(workflow.state_machine) in body


def test_outputs_name_the_commerce_resources(template: Template) -> None:
    outputs = template.to_json()["Outputs"]
    assert {
        "CheckoutStateMachineArn",
        "WebhookStateMachineArn",
        "WebhookDeadLetterQueueUrl",
        "IdempotencyTableName",
        "PaymentsSecretArn",
    } <= set(outputs)
