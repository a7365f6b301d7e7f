"""The moto transaction patch: a failed TransactWriteItems leaves the table and its stream as they were
(moto's own rollback did so by copying the whole table; the patch keeps an undo log instead)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.dynamodb.models import dynamodb_backends

from talkshop.local import moto_tuning
from talkshop.local.resources import create_table

TABLE = "tuning-test"


@pytest.fixture
def client(aws_environment: None) -> Iterator[Any]:
    moto_tuning.install()
    with mock_aws():
        dynamodb = boto3.client("dynamodb")
        create_table(dynamodb, TABLE, stream=True)
        yield dynamodb


def put(pk: str, **attributes: Any) -> dict[str, Any]:
    return {"Put": {"TableName": TABLE, "Item": {"PK": {"S": pk}, "SK": {"S": "x"}, **attributes}}}


def everything(client: Any) -> list[dict[str, Any]]:
    return sorted(client.scan(TableName=TABLE)["Items"], key=lambda item: item["PK"]["S"])


def stream() -> list[Any]:
    shard = dynamodb_backends[DEFAULT_ACCOUNT_ID]["eu-west-1"].get_table(TABLE).stream_shard
    assert shard is not None
    return shard.items


def test_a_failed_transaction_undoes_its_earlier_writes_and_their_stream_records(client: Any) -> None:
    client.transact_write_items(
        TransactItems=[put("kept", stock={"N": "5"}), put("updated", stock={"N": "1"})]
    )
    before, records = everything(client), len(stream())

    with pytest.raises(ClientError) as refused:
        client.transact_write_items(
            TransactItems=[
                put("created"),
                {
                    "Update": {
                        "TableName": TABLE,
                        "Key": {"PK": {"S": "updated"}, "SK": {"S": "x"}},
                        "UpdateExpression": "SET stock = stock - :one",
                        "ExpressionAttributeValues": {":one": {"N": "1"}},
                    }
                },
                {"Delete": {"TableName": TABLE, "Key": {"PK": {"S": "kept"}, "SK": {"S": "x"}}}},
                {
                    "ConditionCheck": {
                        "TableName": TABLE,
                        "Key": {"PK": {"S": "guard"}, "SK": {"S": "x"}},
                        "ConditionExpression": "stock > :many",
                        "ExpressionAttributeValues": {":many": {"N": "10"}},
                    }
                },
            ]
        )

    assert refused.value.response["Error"]["Code"] == "TransactionCanceledException"
    assert everything(client) == before
    assert len(stream()) == records


def test_a_successful_transaction_keeps_the_old_image_of_an_update(client: Any) -> None:
    client.transact_write_items(TransactItems=[put("item", stock={"N": "5"})])
    client.transact_write_items(
        TransactItems=[
            {
                "Update": {
                    "TableName": TABLE,
                    "Key": {"PK": {"S": "item"}, "SK": {"S": "x"}},
                    "UpdateExpression": "SET stock = stock - :one",
                    "ConditionExpression": "stock >= :one",
                    "ExpressionAttributeValues": {":one": {"N": "1"}},
                }
            }
        ]
    )

    update = stream()[-1].to_json()["dynamodb"]
    assert update["OldImage"]["stock"] == {"N": "5"}
    assert update["NewImage"]["stock"] == {"N": "4"}
