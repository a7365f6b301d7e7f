"""What every function fed by the table's stream shares: bounded retries, a dead-letter queue, its alarm.

The search indexer and the event publisher both read the table's DynamoDB stream through a Lambda event
source mapping with an event filter. Each reports the records it could not process
(ReportBatchItemFailures); Lambda bisects the failing batch and retries a bounded number of times; a batch
that still fails is described in a message to an SQS dead-letter queue, watched by an alarm.

A DynamoDB stream serves at most two concurrent readers per shard without throttling: these two. A third
consumer should read through one of them (or EventBridge Pipes / Kinesis Data Streams), not the stream.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from aws_cdk import Duration
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from constructs import Construct

from infra.constructs.dead_letters import dead_letter_queue
from infra.constructs.functions import (
    XRAY_WILDCARD_REASON,
    FunctionSettings,
    SearchWiring,
    TalkshopFunction,
)
from talkshop.api.routes import FunctionSpec

#: Why a stream consumer's role has ``Resource::*`` statements (X-Ray, like every function, and ListStreams).
STREAM_WILDCARD_REASON = (
    f"{XRAY_WILDCARD_REASON} dynamodb:ListStreams, which Lambda's stream event source needs, supports no "
    "resource-level permissions either; the record-reading actions (DescribeStream, GetRecords, "
    "GetShardIterator) are on this table's stream only."
)


@dataclass(frozen=True)
class StreamSettings:
    """The event source mapping's knobs."""

    batch_size: int = 100
    max_batching_window: Duration = Duration.seconds(5)  # noqa: RUF009 - immutable jsii value
    retry_attempts: int = 5
    # Well inside the stream's 24-hour retention: the records a dead-letter message points to can still
    # be read from the stream for at least 18 hours after it is sent.
    max_record_age: Duration = Duration.hours(6)  # noqa: RUF009 - immutable jsii value


class StreamConsumer(Construct):
    """A TalkshopFunction fed by the table's stream (only records matching ``filter_pattern``):
    ``function``, ``event_source``, ``dead_letter_queue`` and ``dead_letter_alarm``.

    The queue has SQS-managed encryption, TLS only and 14 days' retention; the alarm fires on its first
    message. Subclasses name their spec, filter and alarm text, and add what only they need.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        spec: FunctionSpec,
        shared: FunctionSettings,
        stream: StreamSettings,
        filter_pattern: Mapping[str, object],
        alarm_description: str,
        search: SearchWiring | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.function = TalkshopFunction(
            self, "Function", spec=spec, shared=shared, search=search, wildcard_reason=STREAM_WILDCARD_REASON
        )
        self.dead_letter_queue, self.dead_letter_alarm = dead_letter_queue(
            self,
            holds="a stream event source mapping (its on-failure destination, which SQS3 does not "
            "recognise as a DLQ)",
            alarm_description=alarm_description,
        )
        self.event_source = event_sources.DynamoEventSource(
            shared.table,
            starting_position=lambda_.StartingPosition.TRIM_HORIZON,
            batch_size=stream.batch_size,
            max_batching_window=stream.max_batching_window,
            bisect_batch_on_error=True,
            retry_attempts=stream.retry_attempts,
            max_record_age=stream.max_record_age,
            report_batch_item_failures=True,
            on_failure=event_sources.SqsDlq(self.dead_letter_queue),
            filters=[lambda_.FilterCriteria.filter(dict(filter_pattern))],
        )
        self.function.function.add_event_source(self.event_source)
