"""The outbox relay: events recorded with a chat turn reach an EventBridge bus (moto), and a rule
delivers them to an SQS queue; records EventBridge refuses are reported for retry."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

import boto3
import pytest
from moto import mock_aws

from functions.event_publisher.handler import lambda_handler
from talkshop.advisor.chat_api import ChatMessageRequest, StartChatRequest
from talkshop.advisor.service import ChatService
from talkshop.advisor.store import ConversationStore
from talkshop.api import context
from talkshop.auth import ANONYMOUS, Principal, PrincipalKind
from talkshop.data.repository import Repository
from talkshop.events.publisher import EVENT_SOURCE, EventPublisher, recorded_events
from talkshop.local import moto_tuning
from talkshop.local.apigateway import LocalLambdaContext
from talkshop.local.resources import create_table
from tests.chat_fakes import EchoAdvisor, FixedCatalog, demo_products
from tests.conftest import TABLE_NAME

BUS = "talkshop-test-bus"


@pytest.fixture
def streamed_table(aws_environment: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Repository]:
    monkeypatch.setenv("TALKSHOP_EVENT_BUS_NAME", BUS)
    context.reset()
    moto_tuning.install()
    with mock_aws():
        create_table(boto3.client("dynamodb"), TABLE_NAME, stream=True)
        yield Repository(boto3.resource("dynamodb").Table(TABLE_NAME))


@pytest.fixture
def queue_url(streamed_table: Repository) -> str:
    events = boto3.client("events")
    sqs = boto3.client("sqs")
    events.create_event_bus(Name=BUS)
    url = sqs.create_queue(QueueName="talkshop-events")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(
        Name="all-talkshop", EventBusName=BUS, EventPattern=json.dumps({"source": [EVENT_SOURCE]})
    )
    events.put_targets(Rule="all-talkshop", EventBusName=BUS, Targets=[{"Id": "queue", "Arn": arn}])
    return str(url)


def stream_records() -> list[dict[str, Any]]:
    table = boto3.client("dynamodb").describe_table(TableName=TABLE_NAME)["Table"]
    streams = boto3.client(
        "dynamodbstreams", endpoint_url="https://streams.dynamodb.eu-west-1.amazonaws.com/"
    )
    shard = streams.describe_stream(StreamArn=table["LatestStreamArn"])["StreamDescription"]["Shards"][0]
    iterator = streams.get_shard_iterator(
        StreamArn=table["LatestStreamArn"], ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    records: list[dict[str, Any]] = streams.get_records(ShardIterator=iterator, Limit=1000)["Records"]  # type: ignore[assignment]
    return records


def a_chat_turn(repository: Repository) -> str:
    chats = ChatService(ConversationStore(repository), FixedCatalog(demo_products()), EchoAdvisor())
    started = chats.start(StartChatRequest(user_id="ana"), ANONYMOUS)
    request = ChatMessageRequest(session_id=started.id, message="vantaro-aero-lite nordpala-fjord-round")
    chats.reply(request, Principal(PrincipalKind.SHOPPER, "ana"))
    return started.id


def received(queue_url: str) -> list[dict[str, Any]]:
    sqs = boto3.client("sqs")
    messages: list[dict[str, Any]] = []
    while True:
        batch = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
        if not batch:
            return messages
        messages += [json.loads(message["Body"]) for message in batch]


def test_recorded_events_are_published_to_the_bus_and_delivered(
    streamed_table: Repository, queue_url: str
) -> None:
    session_id = a_chat_turn(streamed_table)
    records = stream_records()
    expected = recorded_events(records)
    # conversation_started, message_sent, 2 mentioned, 2 recommended, 1 details viewed.
    assert len(expected) == 7

    answer = lambda_handler({"Records": records}, LocalLambdaContext("event_publisher", 60, 512))
    assert answer == {"batchItemFailures": []}

    delivered = received(queue_url)
    assert sorted(message["detail"]["id"] for message in delivered) == sorted(
        item.event.id for item in expected
    )
    started = next(message for message in delivered if message["detail-type"] == "conversation_started")
    assert started["source"] == "talkshop"
    assert started["detail"]["subject"]["id"] == session_id
    assert started["detail"]["payload"]["user_id"] == "ana"
    assert {message["detail-type"] for message in delivered} == {
        "conversation_started",
        "message_sent",
        "product_mentioned",
        "product_recommended",
        "product_details_viewed",
    }


class FlakyBus:
    """Refuses every second entry, and a whole call when told to."""

    def __init__(self, fail_calls: bool = False) -> None:
        self.fail_calls = fail_calls
        self.calls: list[list[dict[str, Any]]] = []

    def put_events(self, *, Entries: list[dict[str, Any]]) -> Mapping[str, Any]:
        self.calls.append(Entries)
        if self.fail_calls:
            from botocore.exceptions import EndpointConnectionError

            raise EndpointConnectionError(endpoint_url="https://events")
        return {
            "Entries": [
                {"ErrorCode": "InternalFailure"} if position % 2 else {"EventId": str(position)}
                for position in range(len(Entries))
            ]
        }


def test_refused_entries_and_failed_calls_are_reported_by_sequence_number(streamed_table: Repository) -> None:
    a_chat_turn(streamed_table)
    records = stream_records()
    events = recorded_events(records)

    bus = FlakyBus()
    report = EventPublisher(bus, BUS).publish(records)
    assert [len(call) for call in bus.calls] == [7]
    assert all(entry["EventBusName"] == BUS and entry["Source"] == "talkshop" for entry in bus.calls[0])
    assert report.published == 4
    assert report.failed == [item.sequence_number for item in events[1::2]]

    twice = FlakyBus()
    EventPublisher(twice, BUS).publish([*records, *records])
    assert [len(call) for call in twice.calls] == [10, 4]  # PutEvents takes at most ten entries

    down = EventPublisher(FlakyBus(fail_calls=True), BUS).publish(records)
    assert down.published == 0
    assert down.failed == [item.sequence_number for item in events]


def test_only_new_event_items_are_published(streamed_table: Repository) -> None:
    a_chat_turn(streamed_table)
    records = stream_records()
    published = recorded_events(records)
    # Entities, edges, knowledge and keys are in the stream too, and are not events.
    assert 0 < len(published) < len(records)
    assert {item.event.type for item in published} == {
        "conversation_started",
        "message_sent",
        "product_mentioned",
        "product_recommended",
        "product_details_viewed",
    }
    removed = [{**record, "eventName": "REMOVE"} for record in records]
    assert recorded_events(removed) == []
