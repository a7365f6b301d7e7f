"""The local seam: moto's ASL interpreter runs a state machine whose Lambda Tasks call our handlers in
this process, with Lambda's error contract, so Retry and Catch behave as on AWS."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto.core.models import DEFAULT_ACCOUNT_ID

from talkshop.api.routes import FunctionSpec, TableAccess
from talkshop.api.state_machines import STATE_MACHINES, UnresolvedPlaceholder, render_definition
from talkshop.local import lambdas, stepfunctions
from talkshop.local.apigateway import LambdaHandler

DEMO_STEPS = FunctionSpec(
    name="demo_steps", description="Steps of the test machine", table_access=TableAccess.READ
)
REGION = "eu-west-1"


class TryAgain(Exception):
    """The error name the test machine retries."""


class Refused(Exception):
    """The error name the test machine catches."""


def task(step: str, **fields: Any) -> dict[str, Any]:
    return {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {
            "FunctionName": "${DemoStepsFunctionArn}",
            "Payload": {"step": step, "value.$": "$.value"},
        },
        "ResultSelector": {"value.$": "$.Payload.value"},
        **fields,
    }


DEFINITION = {
    "StartAt": "Double",
    "States": {
        "Double": task("double", Next="Flaky"),
        "Flaky": task(
            "flaky",
            Retry=[
                {
                    "ErrorEquals": ["TryAgain"],
                    "IntervalSeconds": 1,
                    "MaxAttempts": 2,
                    "JitterStrategy": "FULL",
                }
            ],
            Next="Check",
        ),
        "Check": task(
            "check",
            Catch=[{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Failed"}],
            End=True,
        ),
        "Failed": {"Type": "Fail", "ErrorPath": "$.error.Error", "CausePath": "$.error.Cause"},
    },
}


ONE_STEP = {"StartAt": "Double", "States": {"Double": task("double", End=True)}}


def wait_for(sfn: Any, execution_arn: str) -> str:
    """The status of a (Standard, background) execution once it has ended."""
    for _ in range(500):
        status: str = sfn.describe_execution(executionArn=execution_arn)["status"]
        if status != "RUNNING":
            return status
        threading.Event().wait(0.02)
    raise AssertionError("the execution did not end")


class DemoSteps:
    """The handler of DEMO_STEPS: records its calls; `flaky` fails `flaky_failures` times first."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.flaky_failures = 0
        self.context: Any = None

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        self.calls.append(event["step"])
        self.context = context
        value = event["value"]
        if event["step"] == "flaky" and self.calls.count("flaky") <= self.flaky_failures:
            raise TryAgain("not yet")
        if event["step"] == "check" and value > 100:
            raise Refused(f"{value} is too large")
        return {"value": value * 2 if event["step"] == "double" else value}


@pytest.fixture
def sfn(table: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """moto with execution on and StartSyncExecution added (the same calls LocalAws makes)."""
    from moto.core.config import default_user_config

    monkeypatch.setitem(default_user_config, "stepfunctions", {"execute_state_machine": True})
    monkeypatch.setenv(stepfunctions.HOST_PREFIX_VARIABLE, "true")
    stepfunctions.install()
    yield boto3.client("stepfunctions")
    lambdas.uninstall()
    stepfunctions.install()


@pytest.fixture
def demo_steps() -> DemoSteps:
    return DemoSteps()


def create_machine(
    sfn: Any,
    handler: LambdaHandler,
    workflow: str = "EXPRESS",
    definition: Any = None,
    guard: Callable[[], AbstractContextManager[Any]] = nullcontext,
) -> str:
    lambdas.install([DEMO_STEPS], guard, resolve=lambda function: handler)
    rendered = render_definition(
        json.dumps(definition or DEFINITION),
        {"DemoStepsFunctionArn": lambdas.local_function_arn(DEMO_STEPS, REGION, DEFAULT_ACCOUNT_ID)},
    )
    created = sfn.create_state_machine(
        name=f"demo-{workflow.lower()}",
        definition=rendered,
        roleArn=stepfunctions.LOCAL_ROLE_ARN,
        type=workflow,
    )
    arn: str = created["stateMachineArn"]
    return arn


def run(sfn: Any, arn: str, value: int) -> dict[str, Any]:
    response: dict[str, Any] = sfn.start_sync_execution(
        stateMachineArn=arn, input=json.dumps({"value": value})
    )
    return response


def test_a_task_runs_the_handler_in_process(sfn: Any, demo_steps: DemoSteps) -> None:
    response = run(sfn, create_machine(sfn, demo_steps), 7)

    assert response["status"] == "SUCCEEDED"
    assert json.loads(response["output"]) == {"value": 14}
    assert demo_steps.calls == ["double", "flaky", "check"]
    assert demo_steps.context.function_name == "demo_steps"
    assert demo_steps.context.get_remaining_time_in_millis() > 0


def test_an_error_reaches_the_catch_with_its_class_name_and_lambdas_cause(
    sfn: Any, demo_steps: DemoSteps
) -> None:
    response = run(sfn, create_machine(sfn, demo_steps), 60)

    assert response["status"] == "FAILED"
    assert response["error"] == "Refused"
    cause = json.loads(response["cause"])
    assert cause["errorType"] == "Refused"
    assert cause["errorMessage"] == "120 is too large"
    assert cause["stackTrace"]
    assert demo_steps.calls == ["double", "flaky", "check"]


def test_a_retryable_error_is_retried_until_the_step_succeeds(sfn: Any, demo_steps: DemoSteps) -> None:
    demo_steps.flaky_failures = 1

    response = run(sfn, create_machine(sfn, demo_steps), 3)

    assert response["status"] == "SUCCEEDED"
    assert demo_steps.calls == ["double", "flaky", "flaky", "check"]


def test_retries_are_bounded(sfn: Any, demo_steps: DemoSteps) -> None:
    demo_steps.flaky_failures = 5

    response = run(sfn, create_machine(sfn, demo_steps), 3)

    assert response["status"] == "FAILED"
    assert response["error"] == "TryAgain"
    assert demo_steps.calls == ["double", "flaky", "flaky", "flaky"]  # the first try and MaxAttempts 2


def test_an_unknown_function_fails_the_task_as_lambda_would(sfn: Any, demo_steps: DemoSteps) -> None:
    definition = {
        "StartAt": "Call",
        "States": {
            "Call": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {
                    "FunctionName": "arn:aws:lambda:eu-west-1:123456789012:function:nope",
                    "Payload": {},
                },
                "End": True,
            }
        },
    }
    response = run(sfn, create_machine(sfn, demo_steps, definition=definition), 1)

    assert response["status"] == "FAILED"
    assert response["error"] == "Lambda.ResourceNotFoundException"
    assert demo_steps.calls == []


def test_sync_execution_is_refused_for_a_standard_workflow(sfn: Any, demo_steps: DemoSteps) -> None:
    arn = create_machine(sfn, demo_steps, workflow="STANDARD")

    with pytest.raises(ClientError) as refused:
        run(sfn, arn, 1)
    assert refused.value.response["Error"]["Code"] == "StateMachineTypeNotSupported"


def test_a_sync_execution_started_under_the_runtime_lock_runs_its_steps(sfn: Any) -> None:
    """The request holds the lock while it waits; moto runs each step on another thread."""
    lock = lambdas.InvocationLock()
    stepfunctions.install(caller_waits=lock.lent)
    demo_steps = DemoSteps()
    arn = create_machine(sfn, demo_steps, guard=lock.step)

    with lock:
        response = run(sfn, arn, 7)

    assert response["status"] == "SUCCEEDED"
    assert demo_steps.calls == ["double", "flaky", "check"]


def test_a_standard_executions_step_waits_for_the_request_in_flight(sfn: Any) -> None:
    lock = lambdas.InvocationLock()
    order: list[str] = []

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        order.append("step")
        return {"value": event["value"]}

    arn = create_machine(sfn, handler, workflow="STANDARD", definition=ONE_STEP, guard=lock.step)
    with lock:
        execution = sfn.start_execution(stateMachineArn=arn, input=json.dumps({"value": 1}))
        order.append("request done")
    assert wait_for(sfn, execution["executionArn"]) == "SUCCEEDED"
    assert order == ["request done", "step"]


@pytest.mark.parametrize(
    ("reference", "name"),
    [
        ("checkout_steps", "checkout_steps"),
        ("checkout_steps:live", "checkout_steps"),
        ("123456789012:function:checkout_steps", "checkout_steps"),
        ("arn:aws:lambda:eu-west-1:123456789012:function:checkout_steps", "checkout_steps"),
        ("arn:aws:lambda:eu-west-1:123456789012:function:checkout_steps:$LATEST", "checkout_steps"),
    ],
)
def test_function_names_are_read_from_every_reference_form(reference: str, name: str) -> None:
    assert lambdas.function_name(reference) == name


def test_a_placeholder_without_a_value_is_refused() -> None:
    with pytest.raises(UnresolvedPlaceholder):
        render_definition('{"Resource": "${MissingFunctionArn}"}', {})


@pytest.mark.parametrize("spec", STATE_MACHINES, ids=lambda spec: spec.name)
def test_every_state_machine_file_renders_with_its_functions(spec: Any) -> None:
    definition = spec.definition({function.name: f"arn:{function.name}" for function in spec.functions})

    assert "${" not in definition
    assert json.loads(definition)["States"]


def test_the_webhook_variable_is_the_one_the_webhooks_read() -> None:
    from talkshop.api.state_machines import WEBHOOK_DELIVERY
    from talkshop.commerce import webhooks

    assert WEBHOOK_DELIVERY.arn_variable == webhooks.STATE_MACHINE_VARIABLE


def test_each_definition_is_parsed_once_and_its_program_serves_every_execution(
    sfn: Any, demo_steps: DemoSteps
) -> None:
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

    parse = AmazonStateLanguageParser.parse
    parse.cache_clear()  # type: ignore[attr-defined]
    machine = create_machine(sfn, demo_steps)
    for value in range(3):
        response = run(sfn, machine, value)
        assert json.loads(response["output"]) == {"value": 2 * value}  # each execution its own state
    # Parsed once when the machine is created (moto validates it); the three executions reuse that.
    assert parse.cache_info().misses == 1  # type: ignore[attr-defined]
    assert parse.cache_info().hits == 3  # type: ignore[attr-defined]
