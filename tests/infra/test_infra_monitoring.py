"""Alarms on chat_message (errors, throttles, p95 duration near its timeout) and the stack's dashboard."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from constructs import IConstruct

from infra.constructs.monitoring import SLOW_SHARE
from infra.stack import TalkshopStack
from talkshop.api.routes import CHAT_MESSAGE

pytestmark = pytest.mark.slow

LogicalId = Callable[[IConstruct], str]
Resources = dict[str, dict[str, Any]]


def _alarm(resources: Resources, logical_id: LogicalId, alarm: IConstruct) -> dict[str, Any]:
    properties: dict[str, Any] = resources[logical_id(alarm)]["Properties"]
    return properties


def test_chat_message_alarms_watch_its_function(
    stack: TalkshopStack, resources: Resources, logical_id: LogicalId
) -> None:
    function = {"Ref": logical_id(stack.api_functions.functions[CHAT_MESSAGE.name].function)}
    alarms = stack.chat_alarms
    for alarm, metric in (
        (alarms.errors, "Errors"),
        (alarms.throttles, "Throttles"),
        (alarms.slow, "Duration"),
    ):
        properties = _alarm(resources, logical_id, alarm)
        assert properties["Namespace"] == "AWS/Lambda"
        assert properties["MetricName"] == metric
        assert properties["Dimensions"] == [{"Name": "FunctionName", "Value": function}]
        assert properties["ComparisonOperator"] == "GreaterThanThreshold"
        assert properties["TreatMissingData"] == "notBreaching"
    assert _alarm(resources, logical_id, alarms.errors)["Threshold"] == 0
    assert _alarm(resources, logical_id, alarms.throttles)["Threshold"] == 0


def test_slow_alarm_is_on_p95_close_to_the_timeout(
    stack: TalkshopStack, resources: Resources, logical_id: LogicalId
) -> None:
    slow = _alarm(resources, logical_id, stack.chat_alarms.slow)
    assert CHAT_MESSAGE.timeout_s == 29
    assert slow["ExtendedStatistic"] == "p95"
    assert slow["Threshold"] == pytest.approx(CHAT_MESSAGE.timeout_s * 1000 * SLOW_SHARE)
    assert 0.5 < SLOW_SHARE < 1
    assert slow["EvaluationPeriods"] > 1  # sustained, not one slow burst


def test_dashboard_shows_every_alarm_and_function(
    stack: TalkshopStack, resources: Resources, logical_id: LogicalId
) -> None:
    (dashboard,) = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::CloudWatch::Dashboard"]
    assert dashboard["DashboardName"] == stack.stack_name
    body = json.dumps(dashboard["DashboardBody"])
    alarms = [
        *stack.chat_alarms.alarms,
        stack.search_indexer.dead_letter_alarm,
        stack.event_publisher.dead_letter_alarm,
    ]
    for alarm in alarms:
        assert logical_id(alarm) in body
    for function in stack.all_functions:
        assert logical_id(function.function) in body, function.spec.name
