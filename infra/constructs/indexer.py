"""The search indexer: the table's stream -> ``functions/search_indexer`` -> the OpenSearch index.

The function is built from ``talkshop.api.routes.SEARCH_INDEXER`` by ``TalkshopFunction`` (same log
group, role, layers and variables as any ``uses_search`` function, plus PUT/DELETE on the domain). It
is a ``infra.constructs.streams.StreamConsumer`` (bounded retries, dead-letter queue, alarm) reading only
product entity items (a filter built from ``talkshop.data.keys``).
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra.constructs.functions import FunctionSettings, SearchWiring
from infra.constructs.streams import StreamConsumer, StreamSettings
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


class SearchIndexer(StreamConsumer):
    """The indexer function with its stream wiring (see ``StreamConsumer``) and the domain's write access."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        shared: FunctionSettings,
        search: SearchWiring,
        stream: StreamSettings = INDEXER_STREAM,
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            spec=SEARCH_INDEXER,
            shared=shared,
            search=search,
            stream=stream,
            filter_pattern=product_filter(),
            alarm_description=(
                "Search indexing gave up on a batch of table changes: see the message in the search "
                "indexer's dead-letter queue and re-index those products (docs/infrastructure.md)."
            ),
        )
