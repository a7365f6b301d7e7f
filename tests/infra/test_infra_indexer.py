"""The search indexer: fed by the table's stream, bounded retries, a dead-letter queue and its alarm."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from constructs import IConstruct

from infra.constructs.functions import READ_ACTIONS
from infra.constructs.indexer import product_key_prefix
from infra.constructs.search import SEARCH_WRITE_ACTIONS
from infra.stack import TalkshopStack
from talkshop.data import keys
from talkshop.ontology.model import Dimension, EntityRef, ThingType

pytestmark = pytest.mark.slow

LogicalId = Callable[[IConstruct], str]
Resources = dict[str, dict[str, Any]]


@pytest.fixture(scope="module")
def mapping(stack: TalkshopStack, resources: Resources, logical_id: LogicalId) -> dict[str, Any]:
    """The indexer's event source mapping (the event publisher has the other one on the stream)."""
    function = {"Ref": logical_id(stack.search_indexer.function.function)}
    (found,) = [
        r["Properties"]
        for r in resources.values()
        if r["Type"] == "AWS::Lambda::EventSourceMapping" and r["Properties"]["FunctionName"] == function
    ]
    properties: dict[str, Any] = found
    return properties


def _statements(resources: Resources, role_logical_id: str) -> list[dict[str, Any]]:
    return [
        statement
        for resource in resources.values()
        if resource["Type"] == "AWS::IAM::Policy"
        and {"Ref": role_logical_id} in resource["Properties"]["Roles"]
        for statement in resource["Properties"]["PolicyDocument"]["Statement"]
    ]


def _actions(statement: dict[str, Any]) -> set[str]:
    action = statement["Action"]
    return {action} if isinstance(action, str) else set(action)


def test_stream_feeds_the_indexer(
    stack: TalkshopStack, mapping: dict[str, Any], logical_id: LogicalId
) -> None:
    assert mapping["EventSourceArn"] == {"Fn::GetAtt": [logical_id(stack.storage.table), "StreamArn"]}
    assert mapping["FunctionName"] == {"Ref": logical_id(stack.search_indexer.function.function)}
    assert mapping["StartingPosition"] == "TRIM_HORIZON"
    assert mapping["BatchSize"] == 100
    assert 0 < mapping["MaximumBatchingWindowInSeconds"] <= 10
    assert mapping["BisectBatchOnFunctionError"] is True
    assert mapping["MaximumRetryAttempts"] == 5
    # Below the stream's 24 h retention, so a dead-lettered batch can still be re-read.
    assert 0 < mapping["MaximumRecordAgeInSeconds"] < 24 * 3600
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["DestinationConfig"] == {
        "OnFailure": {
            "Destination": {"Fn::GetAtt": [logical_id(stack.search_indexer.dead_letter_queue), "Arn"]}
        }
    }


def _record(pk: str, sk: str) -> dict[str, Any]:
    return {"eventName": "REMOVE", "dynamodb": {"Keys": {"PK": {"S": pk}, "SK": {"S": sk}}}}


def test_filter_lets_through_only_product_entities(
    mapping: dict[str, Any], filter_matches: Callable[[Any, Any], bool]
) -> None:
    (rendered,) = mapping["FilterCriteria"]["Filters"]
    pattern = json.loads(rendered["Pattern"])
    assert pattern == {
        "dynamodb": {
            "Keys": {"PK": {"S": [{"prefix": product_key_prefix()}]}, "SK": {"S": [keys.ENTITY_SORT_KEY]}}
        }
    }
    product = keys.entity_key(EntityRef(dimension=Dimension.THING, type=ThingType.PRODUCT, id="abc"))
    cart = keys.entity_key(EntityRef(dimension=Dimension.THING, type=ThingType.CART, id="abc"))
    person = keys.entity_key(EntityRef(dimension=Dimension.PERSON, type="creator", id="abc"))
    assert product.startswith(product_key_prefix())
    assert filter_matches(pattern, _record(product, keys.ENTITY_SORT_KEY))
    assert not filter_matches(pattern, _record(product, keys.API_KEY_SORT_KEY))
    assert not filter_matches(pattern, _record(cart, keys.ENTITY_SORT_KEY))
    assert not filter_matches(pattern, _record(person, keys.ENTITY_SORT_KEY))


def test_dead_letter_queue_is_encrypted_tls_only_and_kept_14_days(
    stack: TalkshopStack, resources: Resources, logical_id: LogicalId
) -> None:
    queue_id = logical_id(stack.search_indexer.dead_letter_queue)
    properties = resources[queue_id]["Properties"]
    assert properties["SqsManagedSseEnabled"] is True
    assert properties["MessageRetentionPeriod"] == 14 * 24 * 3600
    (policy,) = [
        r["Properties"]
        for r in resources.values()
        if r["Type"] == "AWS::SQS::QueuePolicy" and {"Ref": queue_id} in r["Properties"]["Queues"]
    ]
    (deny,) = policy["PolicyDocument"]["Statement"]
    assert deny["Effect"] == "Deny"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_alarm_on_any_dead_lettered_batch(
    stack: TalkshopStack, resources: Resources, logical_id: LogicalId
) -> None:
    alarm = resources[logical_id(stack.search_indexer.dead_letter_alarm)]["Properties"]
    assert alarm["Namespace"] == "AWS/SQS"
    assert alarm["MetricName"] == "ApproximateNumberOfMessagesVisible"
    assert alarm["Dimensions"] == [
        {
            "Name": "QueueName",
            "Value": {"Fn::GetAtt": [logical_id(stack.search_indexer.dead_letter_queue), "QueueName"]},
        }
    ]
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
    assert alarm["Threshold"] == 0
    assert alarm["EvaluationPeriods"] == 1
    assert alarm["TreatMissingData"] == "notBreaching"


def test_indexer_role_is_least_privilege(
    stack: TalkshopStack, resources: Resources, logical_id: LogicalId
) -> None:
    indexer = stack.search_indexer.function
    table = logical_id(stack.storage.table)
    by_actions = {frozenset(_actions(s)): s for s in _statements(resources, logical_id(indexer.role))}
    assert all(s["Effect"] == "Allow" for s in by_actions.values())
    stream_read = frozenset({"dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"})
    assert by_actions[stream_read]["Resource"] == {"Fn::GetAtt": [table, "StreamArn"]}
    assert by_actions[frozenset({"dynamodb:ListStreams"})]["Resource"] == "*"
    send = frozenset({"sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"})
    assert by_actions[send]["Resource"] == {
        "Fn::GetAtt": [logical_id(stack.search_indexer.dead_letter_queue), "Arn"]
    }
    assert frozenset(SEARCH_WRITE_ACTIONS) in by_actions
    assert frozenset(READ_ACTIONS) in by_actions  # SEARCH_INDEXER reads the table, never writes
    assert set(by_actions) == {
        stream_read,
        frozenset({"dynamodb:ListStreams"}),
        send,
        frozenset(SEARCH_WRITE_ACTIONS),
        frozenset(READ_ACTIONS),
        frozenset({"logs:CreateLogStream", "logs:PutLogEvents"}),
        frozenset({"xray:PutTraceSegments", "xray:PutTelemetryRecords"}),
    }
