"""The search indexer: the table's stream -> ``functions/search_indexer`` -> the OpenSearch index.

The function is built from ``talkshop.api.routes.SEARCH_INDEXER`` by ``TalkshopFunction`` (same log
group, role, layers and variables as any ``uses_search`` function, plus PUT/DELETE on the domain). It
reads the stream through ``infra.constructs.streams.subscribe_to_stream`` (bounded retries, dead-letter
queue, alarm), only product entity items (a filter built from ``talkshop.data.keys``).
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from infra.constructs.functions import SearchWiring, TalkshopFunction
from infra.constructs.streams import STREAM_WILDCARD_REASON, StreamSettings, subscribe_to_stream
from talkshop.api.routes import SEARCH_INDEXER
from talkshop.data import keys
from talkshop.ontology.model import Dimension, EntityRef, ThingType

#: One embedding batch per invocation; a product edit is searchable within seconds.
INDEXER_STREAM = StreamSettings(batch_size=100, max_batching_window=Duration.seconds(5))


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
        stream: StreamSettings = INDEXER_STREAM,
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
            wildcard_reason=STREAM_WILDCARD_REASON,
        )
        subscription = subscribe_to_stream(
            self,
            function=self.function.function,
            table=table,
            settings=stream,
            filter_pattern=product_filter(),
            alarm_description=(
                "Search indexing gave up on a batch of table changes: see the message in the search "
                "indexer's dead-letter queue and re-index those products (docs/infrastructure.md)."
            ),
        )
        self.event_source = subscription.event_source
        self.dead_letter_queue = subscription.dead_letter_queue
        self.dead_letter_alarm = subscription.dead_letter_alarm
