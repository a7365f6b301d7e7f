"""The outbox relay: events recorded in the table (with the change they describe) go to EventBridge.

The table's stream carries every new event item; each becomes one EventBridge entry with Source
"talkshop", DetailType the event type and Detail the event as JSON (its `id` lets consumers drop the
duplicates that at-least-once delivery allows). The same code runs in the Lambda that reads the stream
on AWS and in the local runtime after every request, against a local bus.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from boto3.dynamodb.types import TypeDeserializer
from botocore.exceptions import BotoCoreError, ClientError

from talkshop.data.serialization import from_dynamo
from talkshop.ontology.model import Dimension, Event

EVENT_SOURCE = "talkshop"
SCHEMA_VERSION = 1  # of every published Detail: bump when a payload changes incompatibly
MAX_ENTRIES_PER_CALL = 10  # PutEvents' limit
_deserializer = TypeDeserializer()


class EventBus(Protocol):
    """The part of boto3's EventBridge client the publisher uses."""

    def put_events(self, *, Entries: list[dict[str, Any]]) -> Mapping[str, Any]: ...


@dataclass(frozen=True)
class RecordedEvent:
    """An event as its stream record carries it; the sequence number identifies the record."""

    sequence_number: str
    event: Event


@dataclass
class PublishReport:
    published: int = 0
    # Sequence numbers of the stream records whose events EventBridge did not take.
    failed: list[str] = field(default_factory=list)


def event_detail(event: Event) -> dict[str, Any]:
    """The Detail of the event's bus entry: the event as JSON, with the schema version of its payload
    (docs/analytics.md documents each type's payload per version)."""
    return {"schemaVersion": SCHEMA_VERSION, **event.model_dump(mode="json")}


def event_of_detail(detail: Mapping[str, Any]) -> Event:
    """The event a published Detail carries (its envelope fields set aside)."""
    return Event.model_validate({name: value for name, value in detail.items() if name != "schemaVersion"})


def recorded_events(records: Sequence[Mapping[str, Any]]) -> list[RecordedEvent]:
    """The new event items among DynamoDB stream records, in stream order. Events are append-only,
    so only inserts count; entities, edges, knowledge and keys are skipped."""
    found = []
    for record in records:
        image = record["dynamodb"].get("NewImage")
        if record.get("eventName") != "INSERT" or not image:
            continue
        dimension = image.get("dimension", {}).get("S")
        if dimension != Dimension.EVENT.value or "event" not in image:
            continue
        event = Event.model_validate(from_dynamo(_deserializer.deserialize(image["event"])))
        found.append(RecordedEvent(str(record["dynamodb"]["SequenceNumber"]), event))
    return found


def bus_entry(event: Event, bus_name: str) -> dict[str, Any]:
    return {
        "Source": EVENT_SOURCE,
        "DetailType": event.type.value,
        # Versioned, so consumers can tell payload shapes apart (docs/analytics.md, per event type).
        "Detail": json.dumps(event_detail(event)),
        "EventBusName": bus_name,
        "Time": event.occurred_at,
    }


class EventPublisher:
    def __init__(self, bus: EventBus, bus_name: str) -> None:
        self.bus = bus
        self.bus_name = bus_name

    def publish(self, records: Sequence[Mapping[str, Any]]) -> PublishReport:
        """Put the records' events on the bus, ten per call; report the records that failed."""
        report = PublishReport()
        pending = recorded_events(records)
        for start in range(0, len(pending), MAX_ENTRIES_PER_CALL):
            batch = pending[start : start + MAX_ENTRIES_PER_CALL]
            try:
                response = self.bus.put_events(
                    Entries=[bus_entry(item.event, self.bus_name) for item in batch]
                )
            except (BotoCoreError, ClientError):
                report.failed += [item.sequence_number for item in batch]
                continue
            results = list(response.get("Entries", []))
            for position, item in enumerate(batch):
                # An entry EventBridge did not answer for counts as failed: retried, never lost.
                if position >= len(results) or results[position].get("ErrorCode"):
                    report.failed.append(item.sequence_number)
                else:
                    report.published += 1
        return report
