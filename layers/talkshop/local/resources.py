"""Creates, inside moto, the AWS resources the CDK app provisions, from the same definitions."""

from __future__ import annotations

from typing import TYPE_CHECKING

from talkshop.data.schema import INDEXES, PARTITION_KEY, SORT_KEY, key_attribute_names

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient


def create_table(client: DynamoDBClient, table_name: str, *, stream: bool = True) -> None:
    """The table as provisioned on AWS. Tests that read no stream leave it off: moto keeps every
    stream record in memory and copies them on each transaction."""
    client.create_table(
        TableName=table_name,
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[
            {"AttributeName": PARTITION_KEY, "KeyType": "HASH"},
            {"AttributeName": SORT_KEY, "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": name, "AttributeType": "S"} for name in key_attribute_names()
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": index.name,
                "KeySchema": [
                    {"AttributeName": index.partition_key, "KeyType": "HASH"},
                    {"AttributeName": index.sort_key, "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
            for index in INDEXES
        ],
        StreamSpecification={"StreamEnabled": stream, "StreamViewType": "NEW_AND_OLD_IMAGES"}
        if stream
        else {"StreamEnabled": False},
    )


def create_idempotency_table(client: DynamoDBClient, table_name: str) -> None:
    """The table Powertools idempotency keeps Idempotency-Key records in (its default key `id`)."""
    client.create_table(
        TableName=table_name,
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
    )
