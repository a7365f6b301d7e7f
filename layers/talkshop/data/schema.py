"""The single table's physical schema: key attributes and global secondary indexes.

Used by the CDK app to provision the table and by the local runtime to create it in moto, so both
always have the same indexes. docs/data-model.md explains each index and the access patterns.
"""

from __future__ import annotations

from dataclasses import dataclass

PARTITION_KEY = "PK"
SORT_KEY = "SK"
# Epoch seconds after which DynamoDB's TTL deletes an item (signed-in web sessions); items without it stay.
EXPIRY_ATTRIBUTE = "expires_epoch"


@dataclass(frozen=True)
class IndexSpec:
    name: str
    partition_key: str
    sort_key: str
    purpose: str


BY_TYPE = IndexSpec(
    "GSI1", "GSI1PK", "GSI1SK", "entities by type (day-bucketed for high-volume types); events by day"
)
BY_OWNER = IndexSpec(
    "GSI2", "GSI2PK", "GSI2SK", "things by owning creator or group, e.g. products by creator"
)
BY_USER = IndexSpec("GSI3", "GSI3PK", "GSI3SK", "things by shopper, e.g. conversations and orders by user")
BY_STATUS = IndexSpec("GSI4", "GSI4PK", "GSI4SK", "things by lifecycle status, e.g. active conversations")
BY_FACET = IndexSpec(
    "GSI5", "GSI5PK", "GSI5SK", "things by a categorical facet: product category, conversation platform"
)
INVERSE = IndexSpec(
    "GSI6",
    "GSI6PK",
    "GSI6SK",
    "connections read from their target end, e.g. conversations that mentioned a product",
)

INDEXES: tuple[IndexSpec, ...] = (BY_TYPE, BY_OWNER, BY_USER, BY_STATUS, BY_FACET, INVERSE)


def key_attribute_names() -> list[str]:
    """Every attribute used in a key of the table or of an index (all strings)."""
    names = [PARTITION_KEY, SORT_KEY]
    for index in INDEXES:
        names += [index.partition_key, index.sort_key]
    return names
