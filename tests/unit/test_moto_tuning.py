"""The moto patches. Transactions: a failed TransactWriteItems leaves the table and its stream as they
were (moto's own rollback did so by copying the whole table; the patch keeps an undo log instead). Item
answers: written straight to JSON, they read back exactly as moto's own serializer writes them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.core.responses import ActionContext, ActionResult
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


# One attribute of every DynamoDB type, nested ones included.
EVERY_TYPE: dict[str, dict[str, Any]] = {
    "x_text": {"S": "Padel racket — léger ✓"},
    "x_number": {"N": "12.50"},
    "x_binary": {"B": b"\x00\x01binary\xff"},
    "x_texts": {"SS": ["a", "b"]},
    "x_numbers": {"NS": ["1", "2.5"]},
    "x_binaries": {"BS": [b"\x01", b"\x02"]},
    "x_flag": {"BOOL": False},
    "x_nothing": {"NULL": True},
    "x_list": {"L": [{"S": "x"}, {"N": "1"}, {"M": {"deep": {"B": b"\x03"}}}]},
    "x_map": {"M": {"inner": {"L": [{"BOOL": True}]}, "empty": {"S": ""}}},
}


def key(pk: str, sk: str = "x") -> dict[str, Any]:
    return {"PK": {"S": pk}, "SK": {"S": sk}}


@pytest.fixture
def compared_with_moto(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every item answer the patch writes is also written by moto's own serializer, and the two must carry
    the same status, content type and JSON. Collects the names of the operations compared."""
    compared: list[str] = []
    write_directly = moto_tuning.item_answer_as_json
    moto_writes = ActionResult.execute_result.__wrapped__  # type: ignore[attr-defined]

    def compare(result: object, context: ActionContext) -> Any:
        answer = write_directly(result, context)
        if answer is not None:
            status, headers, body = moto_writes(ActionResult(result), context)
            assert (answer[0], answer[1]["Content-Type"]) == (status, headers["Content-Type"])
            assert json.loads(answer[2]) == json.loads(body)
            compared.append(context.operation_model.name)
        return answer

    monkeypatch.setattr(moto_tuning, "item_answer_as_json", compare)
    return compared


def test_item_answers_read_back_as_written_and_as_moto_writes_them(
    client: Any, compared_with_moto: list[str]
) -> None:
    client.put_item(TableName=TABLE, Item={**key("a"), **EVERY_TYPE})
    for sk in ("1", "2", "3"):
        client.put_item(TableName=TABLE, Item={**key("page", sk), "n": {"N": sk}})
    everything_of_a = {**key("a"), **EVERY_TYPE}

    assert client.get_item(TableName=TABLE, Key=key("a"))["Item"] == everything_of_a
    assert client.get_item(TableName=TABLE, Key=key("absent")).get("Item") is None
    projected = client.get_item(
        TableName=TABLE,
        Key=key("a"),
        ProjectionExpression="#m.inner, x_binary",
        ExpressionAttributeNames={"#m": "x_map"},
    )["Item"]
    assert projected == {
        "x_binary": EVERY_TYPE["x_binary"],
        "x_map": {"M": {"inner": EVERY_TYPE["x_map"]["M"]["inner"]}},
    }
    first = client.query(
        TableName=TABLE,
        KeyConditionExpression="PK = :pk",
        ExpressionAttributeValues={":pk": {"S": "page"}},
        Limit=2,
        ReturnConsumedCapacity="TOTAL",
    )
    assert [item["n"]["N"] for item in first["Items"]] == ["1", "2"]
    assert first["LastEvaluatedKey"] == key("page", "2")
    assert first["ConsumedCapacity"]["TableName"] == TABLE
    rest = client.query(
        TableName=TABLE,
        KeyConditionExpression="PK = :pk",
        ExpressionAttributeValues={":pk": {"S": "page"}},
        ExclusiveStartKey=first["LastEvaluatedKey"],
    )
    assert [item["n"]["N"] for item in rest["Items"]] == ["3"]
    assert "LastEvaluatedKey" not in rest
    assert client.scan(TableName=TABLE, Select="COUNT")["Count"] == 4
    batch = client.batch_get_item(RequestItems={TABLE: {"Keys": [key("a"), key("page", "1")]}})
    assert sorted(item["PK"]["S"] for item in batch["Responses"][TABLE]) == ["a", "page"]
    transact = client.transact_get_items(TransactItems=[{"Get": {"TableName": TABLE, "Key": key("a")}}])
    assert transact["Responses"][0]["Item"] == everything_of_a
    updated = client.update_item(
        TableName=TABLE,
        Key=key("a"),
        UpdateExpression="SET x_number = x_number + :one",
        ExpressionAttributeValues={":one": {"N": "1"}},
        ReturnValues="ALL_NEW",
    )["Attributes"]
    assert updated == {**everything_of_a, "x_number": {"N": "13.50"}}
    replaced = client.put_item(TableName=TABLE, Item=key("a"), ReturnValues="ALL_OLD")["Attributes"]
    assert replaced["x_binaries"] == EVERY_TYPE["x_binaries"]
    assert client.delete_item(TableName=TABLE, Key=key("a"), ReturnValues="ALL_OLD")["Attributes"] == key("a")
    region = client.meta.region_name  # moto routes Streams calls by a URL ending in "/" (see LocalAws)
    streams = boto3.client(
        "dynamodbstreams", endpoint_url=f"https://streams.dynamodb.{region}.amazonaws.com/"
    )
    stream_arn = client.describe_table(TableName=TABLE)["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(
        StreamArn=stream_arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
    )
    records = streams.get_records(ShardIterator=iterator["ShardIterator"])["Records"]
    assert [record["eventName"] for record in records][-3:] == ["MODIFY", "MODIFY", "REMOVE"]
    assert records[0]["dynamodb"]["NewImage"] == everything_of_a
    assert records[0]["dynamodb"]["ApproximateCreationDateTime"].tzinfo is not None

    assert set(compared_with_moto) == {
        "PutItem",
        "GetItem",
        "Query",
        "Scan",
        "BatchGetItem",
        "TransactGetItems",
        "UpdateItem",
        "DeleteItem",
        "GetRecords",
    }


def test_errors_and_table_descriptions_are_still_written_by_moto(
    client: Any, compared_with_moto: list[str]
) -> None:
    with pytest.raises(ClientError) as refused:
        client.get_item(TableName="no-such-table", Key=key("a"))
    assert refused.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert client.describe_table(TableName=TABLE)["Table"]["TableName"] == TABLE
    assert compared_with_moto == []


@pytest.fixture
def numbered(client: Any) -> Any:
    """A table with a numeric sort key and an index, items in three partitions (sort keys whose text
    order differs from their numeric order), and a table with no sort key."""
    client.create_table(
        TableName="numbered",
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "P", "KeyType": "HASH"}, {"AttributeName": "N", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "P", "AttributeType": "S"},
            {"AttributeName": "N", "AttributeType": "N"},
            {"AttributeName": "G", "AttributeType": "S"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by-g",
                "KeySchema": [
                    {"AttributeName": "G", "KeyType": "HASH"},
                    {"AttributeName": "N", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    )
    for partition in ("a", "b", "c"):
        for number in (10, 1, 100, 9, 2):
            item = {"P": {"S": partition}, "N": {"N": str(number)}}
            if partition != "c":
                item["G"] = {"S": "indexed"}
            client.put_item(TableName="numbered", Item=item)
    client.create_table(
        TableName="hash-only",
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "P", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "P", "AttributeType": "S"}],
    )
    for partition in ("x", "y"):
        client.put_item(TableName="hash-only", Item={"P": {"S": partition}})
    return client


def _query(client: Any, **parameters: Any) -> list[tuple[str, int]]:
    items = client.query(TableName="numbered", **parameters)["Items"]
    return [(item["P"]["S"], int(item["N"]["N"])) for item in items]


def test_a_query_answers_its_partition_in_numeric_order_with_paging_and_conditions(numbered: Any) -> None:
    b = {"KeyConditionExpression": "P = :p", "ExpressionAttributeValues": {":p": {"S": "b"}}}
    assert _query(numbered, **b) == [("b", 1), ("b", 2), ("b", 9), ("b", 10), ("b", 100)]

    pages: list[list[int]] = []
    start: dict[str, Any] = {}
    while True:
        answer = numbered.query(TableName="numbered", ScanIndexForward=False, Limit=2, **b, **start)
        pages.append([int(item["N"]["N"]) for item in answer["Items"]])
        if "LastEvaluatedKey" not in answer:
            break
        start = {"ExclusiveStartKey": answer["LastEvaluatedKey"]}
    assert pages == [[100, 10], [9, 2], [1]]

    between = {
        "KeyConditionExpression": "P = :p AND N BETWEEN :low AND :high",
        "ExpressionAttributeValues": {":p": {"S": "a"}, ":low": {"N": "2"}, ":high": {"N": "10"}},
    }
    assert _query(numbered, **between) == [("a", 2), ("a", 9), ("a", 10)]
    nowhere = {"KeyConditionExpression": "P = :p", "ExpressionAttributeValues": {":p": {"S": "none"}}}
    assert _query(numbered, **nowhere) == []
    one = numbered.query(
        TableName="hash-only", KeyConditionExpression="P = :p", ExpressionAttributeValues={":p": {"S": "y"}}
    )["Items"]
    assert one == [{"P": {"S": "y"}}]


def test_index_queries_and_scans_still_see_every_partition(numbered: Any) -> None:
    numbered.query(
        TableName="numbered", KeyConditionExpression="P = :p", ExpressionAttributeValues={":p": {"S": "a"}}
    )
    indexed = _query(
        numbered,
        IndexName="by-g",
        KeyConditionExpression="G = :g AND N < :n",
        ExpressionAttributeValues={":g": {"S": "indexed"}, ":n": {"N": "10"}},
    )
    assert indexed == [("a", 1), ("b", 1), ("a", 2), ("b", 2), ("a", 9), ("b", 9)]
    assert numbered.scan(TableName="numbered", Select="COUNT")["Count"] == 15
