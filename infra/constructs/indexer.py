"""The search indexer: the table's stream -> ``functions/search_indexer`` -> the OpenSearch index.

The function is built from ``talkshop.api.routes.SEARCH_INDEXER`` by ``TalkshopFunction`` (same log
group, role, layers and variables as any ``uses_search`` function, plus PUT/DELETE on the domain). Its
event source mapping reads the stream from TRIM_HORIZON, only product entity items (a filter built from
``talkshop.data.keys``), in batches; the handler reports the records it could not index
(ReportBatchItemFailures), Lambda bisects and retries a bounded number of times, and a batch that still
fails is described in a message to an SQS dead-letter queue, watched by an alarm.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import Acknowledgment, Duration, Validations
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.constructs.functions import XRAY_WILDCARD_REASON, SearchWiring, TalkshopFunction
from talkshop.api.routes import SEARCH_INDEXER
from talkshop.data import keys
from talkshop.ontology.model import Dimension, EntityRef, ThingType


@dataclass(frozen=True)
class StreamSettings:
    """The event source mapping's knobs."""

    batch_size: int = 100
    max_batching_window: Duration = Duration.seconds(5)  # noqa: RUF009 - immutable jsii value
    retry_attempts: int = 5
    # Well inside the stream's 24-hour retention: the records a dead-letter message points to can still
    # be read from the stream for at least 18 hours after it is sent.
    max_record_age: Duration = Duration.hours(6)  # noqa: RUF009 - immutable jsii value


def product_key_prefix() -> str:
    """``THING#product#``: how every product entity's partition key starts (``keys.entity_key``)."""
    sample = "p1"
    key = keys.entity_key(EntityRef(dimension=Dimension.THING, type=ThingType.PRODUCT, id=sample))
    if not key.endswith(sample):
        raise ValueError(f"unexpected entity key layout: {key!r}")
    return key.removesuffix(sample)


def product_filter() -> dict[str, object]:
    """Event filter: only changes of product entity items (what ``SearchIndexer.apply`` looks at).

    Edges, events, knowledge, API keys and other entities never invoke the 2 GB indexer; the handler
    would skip them anyway. Inserts, modifications and removals all carry ``Keys``.
    """
    return {
        "dynamodb": {
            "Keys": {
                "PK": {"S": lambda_.FilterRule.begins_with(product_key_prefix())},
                "SK": {"S": lambda_.FilterRule.is_equal(keys.ENTITY_SORT_KEY)},
            }
        }
    }


class SearchIndexer(Construct):
    """``function`` (a TalkshopFunction), ``dead_letter_queue``, ``dead_letter_alarm``, ``event_source``."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        table: dynamodb.ITable,
        layer: lambda_.ILayerVersion,
        admin_key: secretsmanager.ISecret,
        search: SearchWiring,
        log_level: str = "INFO",
        cors_allow_origins: Sequence[str] = ("*",),
        stream: StreamSettings = StreamSettings(),
    ) -> None:
        super().__init__(scope, construct_id)
        self.function = TalkshopFunction(
            self,
            "Function",
            spec=SEARCH_INDEXER,
            table=table,
            layer=layer,
            admin_key=admin_key,
            log_level=log_level,
            cors_allow_origins=cors_allow_origins,
            search=search,
            wildcard_reason=(
                f"{XRAY_WILDCARD_REASON} dynamodb:ListStreams, which Lambda's stream event source "
                "needs, supports no resource-level permissions either; the record-reading actions "
                "(DescribeStream, GetRecords, GetShardIterator) are on this table's stream only."
            ),
        )
        self.dead_letter_queue = sqs.Queue(
            self,
            "DeadLetterQueue",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(14),
        )
        Validations.of(self.dead_letter_queue).acknowledge(
            Acknowledgment(
                id="AwsSolutions-SQS3",
                reason=(
                    "This queue is itself the dead-letter destination (on-failure destination of the "
                    "indexer's stream event source mapping, which SQS3 does not recognise as a DLQ); "
                    "nothing consumes it automatically, so it needs no DLQ of its own."
                ),
            )
        )
        self.event_source = event_sources.DynamoEventSource(
            table,
            starting_position=lambda_.StartingPosition.TRIM_HORIZON,
            batch_size=stream.batch_size,
            max_batching_window=stream.max_batching_window,
            bisect_batch_on_error=True,
            retry_attempts=stream.retry_attempts,
            max_record_age=stream.max_record_age,
            report_batch_item_failures=True,
            on_failure=event_sources.SqsDlq(self.dead_letter_queue),
            filters=[lambda_.FilterCriteria.filter(product_filter())],
        )
        self.function.function.add_event_source(self.event_source)
        self.dead_letter_alarm = cloudwatch.Alarm(
            self,
            "DeadLetterAlarm",
            alarm_description=(
                "Search indexing gave up on a batch of table changes: see the message in the search "
                "indexer's dead-letter queue and re-index those products (docs/infrastructure.md)."
            ),
            metric=self.dead_letter_queue.metric_approximate_number_of_messages_visible(
                period=Duration.minutes(5), statistic=cloudwatch.Stats.MAXIMUM
            ),
            threshold=0,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
