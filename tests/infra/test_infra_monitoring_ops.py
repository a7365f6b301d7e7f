"""The ops alarms: chat latency over 5 s, the API's 5xx rate, the day's LLM spend over its budget, every
dead-letter queue's depth, and the encrypted SNS topic every alarm of the stack notifies."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from constructs import IConstruct

from infra.constructs.monitoring import (
    CHAT_COST_METRIC,
    CHAT_LATENCY_MS,
    DEFAULT_LLM_DAILY_BUDGET_USD,
    ERROR_RATE_PERCENT,
    llm_daily_budget,
)
from infra.stack import TalkshopStack
from talkshop.api.observability import METRICS_NAMESPACE
from talkshop.api.routes import CHAT_MESSAGE

pytestmark = pytest.mark.slow

LogicalId = Callable[[IConstruct], str]
Resources = dict[str, dict[str, Any]]


def _of_type(resources: Resources, kind: str) -> dict[str, dict[str, Any]]:
    return {name: r.get("Properties", {}) for name, r in resources.items() if r["Type"] == kind}


def test_chat_latency_alarm_is_on_the_p95_of_chat_message_above_5_s(
    stack: TalkshopStack, resources: Resources, logical_id: LogicalId
) -> None:
    latency = resources[logical_id(stack.ops_alarms.chat_latency)]["Properties"]
    function = {"Ref": logical_id(stack.api_functions.functions[CHAT_MESSAGE.name].function)}
    assert (latency["Namespace"], latency["MetricName"]) == ("AWS/Lambda", "Duration")
    assert latency["Dimensions"] == [{"Name": "FunctionName", "Value": function}]
    assert latency["ExtendedStatistic"] == "p95"
    assert latency["Threshold"] == CHAT_LATENCY_MS == 5000
    assert latency["ComparisonOperator"] == "GreaterThanThreshold"
    assert 1 < latency["DatapointsToAlarm"] <= latency["EvaluationPeriods"]


def test_error_rate_alarm_divides_the_apis_5xx_by_its_requests(
    stack: TalkshopStack, resources: Resources, logical_id: LogicalId
) -> None:
    alarm = resources[logical_id(stack.ops_alarms.error_rate)]["Properties"]
    assert alarm["Threshold"] == ERROR_RATE_PERCENT
    queries = {query["Id"]: query for query in alarm["Metrics"]}
    assert (
        "100 * errors / requests"
        in queries[next(i for i in queries if "Expression" in queries[i])]["Expression"]
    )
    # The API is named after the stack, so another stack's API never counts here.
    assert resources[logical_id(stack.api.rest_api)]["Properties"]["Name"] == stack.stack_name
    for query_id, metric_name in (("errors", "5XXError"), ("requests", "Count")):
        metric = queries[query_id]["MetricStat"]["Metric"]
        assert (metric["Namespace"], metric["MetricName"]) == ("AWS/ApiGateway", metric_name)
        assert metric["Dimensions"] == [{"Name": "ApiName", "Value": stack.stack_name}]
        assert queries[query_id]["ReturnData"] is False


def test_llm_spend_alarm_sums_the_chat_cost_over_a_day_against_the_budget(
    stack: TalkshopStack, resources: Resources, logical_id: LogicalId
) -> None:
    alarm = resources[logical_id(stack.ops_alarms.llm_spend)]["Properties"]
    assert (alarm["Namespace"], alarm["MetricName"]) == (METRICS_NAMESPACE, CHAT_COST_METRIC)
    assert alarm["Dimensions"] == [{"Name": "service", "Value": "talkshop"}]
    assert alarm["Statistic"] == "Sum"
    assert alarm["Period"] == 24 * 3600
    assert alarm["Threshold"] == DEFAULT_LLM_DAILY_BUDGET_USD  # no llmDailyBudgetUsd in the test context


def test_every_dead_letter_queue_has_a_depth_alarm(resources: Resources) -> None:
    queues = _of_type(resources, "AWS::SQS::Queue")
    assert len(queues) >= 3
    watched = {
        alarm["Dimensions"][0]["Value"]["Fn::GetAtt"][0]
        for alarm in _of_type(resources, "AWS::CloudWatch::Alarm").values()
        if alarm.get("MetricName") == "ApproximateNumberOfMessagesVisible"
    }
    assert watched == set(queues)


def test_every_alarm_notifies_the_encrypted_ops_topic(
    stack: TalkshopStack, resources: Resources, logical_id: LogicalId
) -> None:
    topic = {"Ref": logical_id(stack.ops_alarms.topic)}
    alarms = _of_type(resources, "AWS::CloudWatch::Alarm")
    assert len(alarms) >= 10
    for name, alarm in alarms.items():
        assert alarm.get("AlarmActions") == [topic], name
        assert alarm.get("OKActions") == [topic], name
    properties = resources[logical_id(stack.ops_alarms.topic)]["Properties"]
    key = resources[properties["KmsMasterKeyId"]["Fn::GetAtt"][0]]["Properties"]
    assert key["EnableKeyRotation"] is True
    statements = key["KeyPolicy"]["Statement"]
    assert any(s.get("Principal") == {"Service": "cloudwatch.amazonaws.com"} for s in statements)
    assert _of_type(resources, "AWS::SNS::Subscription") == {}  # no alarmEmail in the test context


def test_the_dashboard_shows_the_ops_alarms(
    stack: TalkshopStack, resources: Resources, logical_id: LogicalId
) -> None:
    (dashboard,) = _of_type(resources, "AWS::CloudWatch::Dashboard").values()
    body = json.dumps(dashboard["DashboardBody"])
    for alarm in stack.ops_alarms.alarms:
        assert logical_id(alarm) in body
    assert CHAT_COST_METRIC in body


def test_the_budget_and_email_come_from_the_context() -> None:
    from infra.app import create_app

    _, stack = create_app(
        {
            "aws:cdk:bundling-stacks": [],
            "@aws-cdk/core:failSynthOnValidationErrors": False,
            "llmDailyBudgetUsd": "12.5",
            "alarmEmail": "ops@example.com",
        }
    )
    from aws_cdk.assertions import Match, Template

    template = Template.from_stack(stack)
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm", {"MetricName": CHAT_COST_METRIC, "Threshold": 12.5}
    )
    template.has_resource_properties(
        "AWS::SNS::Subscription",
        {"Protocol": "email", "Endpoint": "ops@example.com", "TopicArn": Match.any_value()},
    )


@pytest.mark.parametrize("value", ["nothing", "0", "-3"])
def test_a_budget_that_is_not_a_positive_number_is_refused(value: str) -> None:
    with pytest.raises(ValueError, match="llmDailyBudgetUsd"):
        llm_daily_budget(value)


def test_the_budget_defaults_and_parses() -> None:
    assert llm_daily_budget(None) == DEFAULT_LLM_DAILY_BUDGET_USD
    assert llm_daily_budget(7) == 7.0
    assert llm_daily_budget("2.5") == 2.5
