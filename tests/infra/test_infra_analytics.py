"""Analytics: every talkshop event on the bus goes to the analytics consumer; its dead letters are watched."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from constructs import IConstruct

from infra.constructs.functions import READ_ACTIONS, WRITE_ACTIONS
from infra.stack import TalkshopStack
from talkshop.api.routes import ANALYTICS_CONSUMER, TableAccess

pytestmark = pytest.mark.slow

LogicalId = Callable[[IConstruct], str]
Resources = dict[str, dict[str, Any]]


def _arn(logical: str) -> dict[str, Any]:
    return {"Fn::GetAtt": [logical, "Arn"]}


def test_every_talkshop_event_on_the_bus_invokes_the_consumer(
    stack: TalkshopStack, resources: Resources, logical_id: LogicalId
) -> None:
    rule = resources[logical_id(stack.analytics.rule)]["Properties"]
    assert rule["EventBusName"] == {"Ref": logical_id(stack.event_bus.bus)}
    assert rule["EventPattern"] == {"source": ["talkshop"]}  # every type, no detail-type filter
    (target,) = rule["Targets"]
    function = logical_id(stack.analytics.function.function)
    assert target["Arn"] == _arn(function)
    assert target["DeadLetterConfig"] == {"Arn": _arn(logical_id(stack.analytics.dead_letter_queue))}
    assert target["RetryPolicy"] == {"MaximumRetryAttempts": 185, "MaximumEventAgeInSeconds": 86400}
    permissions = [
        r["Properties"]
        for r in resources.values()
        if r["Type"] == "AWS::Lambda::Permission" and r["Properties"]["FunctionName"] == _arn(function)
    ]
    assert [(p["Principal"], p["SourceArn"]) for p in permissions] == [
        ("events.amazonaws.com", _arn(logical_id(stack.analytics.rule)))
    ]


def test_dead_letters_raise_an_alarm_shown_on_the_dashboard(
    stack: TalkshopStack, resources: Resources, logical_id: LogicalId
) -> None:
    queue = logical_id(stack.analytics.dead_letter_queue)
    assert resources[queue]["Properties"]["SqsManagedSseEnabled"] is True
    alarm = resources[logical_id(stack.analytics.dead_letter_alarm)]["Properties"]
    assert alarm["MetricName"] == "ApproximateNumberOfMessagesVisible"
    assert alarm["Dimensions"] == [{"Name": "QueueName", "Value": {"Fn::GetAtt": [queue, "QueueName"]}}]
    assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (0, "GreaterThanThreshold")
    assert stack.analytics.function in stack.all_functions


def test_the_consumer_reads_and_writes_the_table_and_nothing_on_the_bus(
    stack: TalkshopStack, resources: Resources, logical_id: LogicalId
) -> None:
    assert ANALYTICS_CONSUMER.table_access is TableAccess.READ_WRITE
    role = {"Ref": logical_id(stack.analytics.function.role)}
    statements = [
        statement
        for r in resources.values()
        if r["Type"] == "AWS::IAM::Policy" and role in r["Properties"]["Roles"]
        for statement in r["Properties"]["PolicyDocument"]["Statement"]
    ]
    actions = {
        a for s in statements for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    }
    assert set(READ_ACTIONS) | set(WRITE_ACTIONS) <= actions
    assert "events:PutEvents" not in actions


def test_a_failed_count_goes_to_the_dead_letter_queue_after_lambdas_retries(
    stack: TalkshopStack, resources: Resources, logical_id: LogicalId
) -> None:
    """EventBridge invokes the consumer asynchronously: the rule's DLQ only takes events Lambda refused,
    so the function's own failures (after Lambda's retries) must go to the queue too, not vanish."""
    function = logical_id(stack.analytics.function.function)
    (config,) = [
        r["Properties"]
        for r in resources.values()
        if r["Type"] == "AWS::Lambda::EventInvokeConfig"
        and r["Properties"]["FunctionName"] == {"Ref": function}
    ]
    assert config["MaximumRetryAttempts"] == 2
    assert config["DestinationConfig"]["OnFailure"]["Destination"] == _arn(
        logical_id(stack.analytics.dead_letter_queue)
    )
