"""Events: the bus and its archive, the stream-fed event publisher, and the scheduled chat sweeper."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from constructs import IConstruct

from infra.constructs.events import event_bus_name_for
from infra.constructs.functions import READ_ACTIONS, WRITE_ACTIONS
from infra.constructs.publisher import event_key_prefix
from infra.stack import TalkshopStack
from talkshop.api.routes import CHAT_SWEEPER, EVENT_PUBLISHER, TableAccess
from talkshop.data import keys
from talkshop.ontology.model import Dimension, EntityRef, ThingType
from talkshop.settings import EVENT_BUS_NAME_VARIABLE

pytestmark = pytest.mark.slow

LogicalId = Callable[[IConstruct], str]
Resources = dict[str, dict[str, Any]]
Matches = Callable[[Any, Any], bool]


def _of_type(resources: Resources, kind: str) -> list[dict[str, Any]]:
    return [r["Properties"] for r in resources.values() if r["Type"] == kind]


def _statements(resources: Resources, role_logical_id: str) -> list[dict[str, Any]]:
    return [
        statement
        for policy in _of_type(resources, "AWS::IAM::Policy")
        if {"Ref": role_logical_id} in policy["Roles"]
        for statement in policy["PolicyDocument"]["Statement"]
    ]


def _actions(statement: dict[str, Any]) -> set[str]:
    action = statement["Action"]
    return {action} if isinstance(action, str) else set(action)


@pytest.fixture(scope="module")
def mapping(stack: TalkshopStack, resources: Resources, logical_id: LogicalId) -> dict[str, Any]:
    function = {"Ref": logical_id(stack.event_publisher.function.function)}
    (found,) = [
        m for m in _of_type(resources, "AWS::Lambda::EventSourceMapping") if m["FunctionName"] == function
    ]
    return found


def test_bus_is_named_by_the_stack_and_archived_for_a_month(
    stack: TalkshopStack, resources: Resources, logical_id: LogicalId
) -> None:
    (bus,) = _of_type(resources, "AWS::Events::EventBus")
    assert bus["Name"] == event_bus_name_for(stack.stack_name) == "Talkshop-events"
    (archive,) = _of_type(resources, "AWS::Events::Archive")
    assert archive["SourceArn"] == {"Fn::GetAtt": [logical_id(stack.event_bus.bus), "Arn"]}
    assert archive["RetentionDays"] == 30
    assert archive["EventPattern"] == {"account": [{"Ref": "AWS::AccountId"}]}


def test_the_table_stream_feeds_the_publisher_with_bounded_retries_and_a_dead_letter_queue(
    stack: TalkshopStack, mapping: dict[str, Any], logical_id: LogicalId
) -> None:
    assert mapping["EventSourceArn"] == {"Fn::GetAtt": [logical_id(stack.storage.table), "StreamArn"]}
    assert mapping["StartingPosition"] == "TRIM_HORIZON"
    assert mapping["BisectBatchOnFunctionError"] is True
    assert mapping["MaximumRetryAttempts"] == 5
    assert 0 < mapping["MaximumRecordAgeInSeconds"] < 24 * 3600
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["MaximumBatchingWindowInSeconds"] <= 1  # events reach the bus within seconds
    assert mapping["DestinationConfig"] == {
        "OnFailure": {
            "Destination": {"Fn::GetAtt": [logical_id(stack.event_publisher.dead_letter_queue), "Arn"]}
        }
    }


def _stream_record(event_name: str, pk: str, sk: str) -> dict[str, Any]:
    return {"eventName": event_name, "dynamodb": {"Keys": {"PK": {"S": pk}, "SK": {"S": sk}}}}


def test_filter_lets_through_only_inserted_events(mapping: dict[str, Any], filter_matches: Matches) -> None:
    (rendered,) = mapping["FilterCriteria"]["Filters"]
    pattern = json.loads(rendered["Pattern"])
    assert pattern == {"eventName": ["INSERT"], "dynamodb": {"Keys": {"PK": {"S": [{"prefix": "EVENTS#"}]}}}}
    session = EntityRef(dimension=Dimension.THING, type="conversation_session", id="c1")
    product = EntityRef(dimension=Dimension.THING, type=ThingType.PRODUCT, id="p1")
    event_pk = keys.events_partition(session)
    assert event_pk.startswith(event_key_prefix())
    assert filter_matches(pattern, _stream_record("INSERT", event_pk, "2026-01-01T00:00:00Z#e1"))
    assert filter_matches(pattern, _stream_record("INSERT", keys.events_partition(product), "t#e2"))
    assert not filter_matches(pattern, _stream_record("MODIFY", event_pk, "t#e1"))
    assert not filter_matches(pattern, _stream_record("REMOVE", event_pk, "t#e1"))  # TTL expiry
    assert not filter_matches(
        pattern, _stream_record("INSERT", keys.entity_key(session), keys.ENTITY_SORT_KEY)
    )
    assert not filter_matches(
        pattern, _stream_record("INSERT", keys.entity_key(product), keys.ENTITY_SORT_KEY)
    )


def test_publisher_dead_letters_raise_an_alarm(
    stack: TalkshopStack, resources: Resources, logical_id: LogicalId
) -> None:
    queue = resources[logical_id(stack.event_publisher.dead_letter_queue)]["Properties"]
    assert queue["SqsManagedSseEnabled"] is True
    alarm = resources[logical_id(stack.event_publisher.dead_letter_alarm)]["Properties"]
    assert alarm["MetricName"] == "ApproximateNumberOfMessagesVisible"
    assert alarm["Dimensions"] == [
        {
            "Name": "QueueName",
            "Value": {"Fn::GetAtt": [logical_id(stack.event_publisher.dead_letter_queue), "QueueName"]},
        }
    ]
    assert alarm["Threshold"] == 0
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"


def test_publisher_may_put_events_on_the_bus_only(
    stack: TalkshopStack, resources: Resources, logical_id: LogicalId
) -> None:
    publisher = stack.event_publisher.function
    variables = resources[logical_id(publisher.function)]["Properties"]["Environment"]["Variables"]
    assert variables[EVENT_BUS_NAME_VARIABLE] == {"Ref": logical_id(stack.event_bus.bus)}
    by_actions = {frozenset(_actions(s)): s for s in _statements(resources, logical_id(publisher.role))}
    put = by_actions[frozenset({"events:PutEvents"})]
    assert put["Effect"] == "Allow"
    assert put["Resource"] == {"Fn::GetAtt": [logical_id(stack.event_bus.bus), "Arn"]}
    assert EVENT_PUBLISHER.table_access is TableAccess.READ
    assert frozenset(READ_ACTIONS) in by_actions
    assert not any(set(WRITE_ACTIONS) & actions for actions in by_actions)
    # No other role may put events on the bus.
    putters = [
        policy["Roles"]
        for policy in _of_type(resources, "AWS::IAM::Policy")
        for statement in policy["PolicyDocument"]["Statement"]
        if "events:PutEvents" in _actions(statement)
    ]
    assert putters == [[{"Ref": logical_id(publisher.role)}]]


def test_sweeper_runs_every_five_minutes(
    stack: TalkshopStack, resources: Resources, logical_id: LogicalId
) -> None:
    rule = resources[logical_id(stack.chat_sweeper.schedule)]["Properties"]
    assert rule["ScheduleExpression"] == "rate(5 minutes)"
    assert rule["State"] == "ENABLED"
    (target,) = rule["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": [logical_id(stack.chat_sweeper.function.function), "Arn"]}
    assert target["RetryPolicy"]["MaximumRetryAttempts"] == 2
    (permission,) = [
        p
        for p in _of_type(resources, "AWS::Lambda::Permission")
        if p["FunctionName"] == {"Fn::GetAtt": [logical_id(stack.chat_sweeper.function.function), "Arn"]}
    ]
    assert permission["Principal"] == "events.amazonaws.com"
    assert permission["SourceArn"] == {"Fn::GetAtt": [logical_id(stack.chat_sweeper.schedule), "Arn"]}


def test_sweeper_reads_and_writes_the_table(
    stack: TalkshopStack, resources: Resources, logical_id: LogicalId
) -> None:
    assert CHAT_SWEEPER.table_access is TableAccess.READ_WRITE
    statements = _statements(resources, logical_id(stack.chat_sweeper.function.role))
    (table,) = [s for s in statements if any(a.startswith("dynamodb:") for a in _actions(s))]
    assert _actions(table) == set(READ_ACTIONS) | set(WRITE_ACTIONS)
