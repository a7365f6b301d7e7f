"""The event publisher: the table's stream -> ``functions/event_publisher`` -> the EventBridge bus.

Built from ``talkshop.api.routes.EVENT_PUBLISHER`` as a ``infra.constructs.streams.StreamConsumer``
(bounded retries, dead-letter queue, alarm); it reads only
inserted event items (a filter built from ``talkshop.data.keys``): events are written once and never
changed, so a modification or removal is nothing to publish. The role may put events on the bus only.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra.constructs.events import EventBus
from infra.constructs.functions import FunctionSettings
from infra.constructs.streams import StreamConsumer, StreamSettings
from talkshop.api.routes import EVENT_PUBLISHER
from talkshop.data import keys
from talkshop.ontology.model import Dimension, EntityRef
from talkshop.settings import EVENT_BUS_NAME_VARIABLE

#: Events should reach the bus within about a second; a batch is at most 10 PutEvents calls.
PUBLISHER_STREAM = StreamSettings(batch_size=100, max_batching_window=Duration.seconds(1))
INSERT = "INSERT"


def event_key_prefix() -> str:
    """``EVENTS#``: how the partition key of every recorded event starts (``keys.events_partition``)."""
    subject = EntityRef(dimension=Dimension.PERSON, type="shopper", id="s1")
    partition = keys.events_partition(subject)
    subject_key = keys.entity_key(subject)
    if not partition.endswith(subject_key):
        raise ValueError(f"unexpected events partition layout: {partition!r}")
    return partition.removesuffix(subject_key)


def event_filter() -> dict[str, object]:
    """Event filter: only inserted event items; entities, edges, knowledge and API keys never invoke it."""
    return {
        "eventName": lambda_.FilterRule.is_equal(INSERT),
        "dynamodb": {"Keys": {"PK": {"S": lambda_.FilterRule.begins_with(event_key_prefix())}}},
    }


class EventPublisher(StreamConsumer):
    """The publisher function with its stream wiring (see ``StreamConsumer``), allowed onto ``event_bus``."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        shared: FunctionSettings,
        event_bus: EventBus,
        stream: StreamSettings = PUBLISHER_STREAM,
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            spec=EVENT_PUBLISHER,
            shared=shared,
            stream=stream,
            filter_pattern=event_filter(),
            alarm_description=(
                "Event publishing gave up on a batch of recorded events: see the message in the event "
                "publisher's dead-letter queue and re-publish those events (docs/infrastructure.md)."
            ),
        )
        self.function.function.add_environment(EVENT_BUS_NAME_VARIABLE, event_bus.bus.event_bus_name)
        event_bus.grant_put_events(self.function.role)
