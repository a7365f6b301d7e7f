"""The local runtime's table journal on moto: what capture() writes, restore() puts back."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from talkshop.local import moto_tuning
from talkshop.local.persistence import TableJournal
from talkshop.local.resources import create_table

REGION = "eu-west-1"
TABLE = "journal-test"


@pytest.fixture(autouse=True)
def _credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    moto_tuning.install()


class Account:
    """One mocked account: a fresh streamed table and a journal on `directory`."""

    def __init__(self, directory: Path) -> None:
        self.client: Any = boto3.client("dynamodb")
        create_table(self.client, TABLE, stream=True)
        # moto routes DynamoDB Streams only by a URL ending in "/" (see talkshop.local.runtime).
        streams = boto3.client(
            "dynamodbstreams", endpoint_url=f"https://streams.dynamodb.{REGION}.amazonaws.com/"
        )
        self.journal = TableJournal(directory, TABLE, self.client, streams)

    def items(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for page in self.client.get_paginator("scan").paginate(TableName=TABLE):
            found.extend(page["Items"])
        return sorted(found, key=lambda item: (item["PK"]["S"], item["SK"]["S"]))

    def put(self, pk: str, sk: str = "#ENTITY", **attributes: Any) -> None:
        item = {"PK": {"S": pk}, "SK": {"S": sk}, **attributes}
        self.client.put_item(TableName=TABLE, Item=item)


@pytest.fixture
def directory(tmp_path: Path) -> Path:
    return tmp_path / "dynamodb"


def restored_items(directory: Path) -> tuple[int, list[dict[str, Any]]]:
    """Start a second, empty mocked account and restore the data dir into it."""
    with mock_aws():
        account = Account(directory)
        count = account.journal.restore()
        return count, account.items()


def journal_lines(directory: Path) -> list[str]:
    return (directory / f"{TABLE}.journal.jsonl").read_text().splitlines()


def snapshot_items(directory: Path) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = json.loads((directory / f"{TABLE}.snapshot.json").read_text())
    return sorted(items, key=lambda item: (item["PK"]["S"], item["SK"]["S"]))


def make_changes(account: Account) -> None:
    """Puts, an update, a delete, an overwrite and a transaction."""
    account.put("A", name={"S": "first"}, price={"N": "8995"}, rating={"N": "4.5"})
    account.put("B", name={"S": "to be deleted"})
    account.put("C", tags={"L": [{"S": "x"}, {"N": "1"}]}, attributes={"M": {"w": {"N": "345"}}})
    account.client.update_item(
        TableName=TABLE,
        Key={"PK": {"S": "A"}, "SK": {"S": "#ENTITY"}},
        UpdateExpression="SET #name = :name, version = :version",
        ExpressionAttributeNames={"#name": "name"},
        ExpressionAttributeValues={":name": {"S": "updated"}, ":version": {"N": "2"}},
    )
    account.client.delete_item(TableName=TABLE, Key={"PK": {"S": "B"}, "SK": {"S": "#ENTITY"}})
    account.put("C", replaced={"BOOL": True})
    account.client.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": TABLE, "Item": {"PK": {"S": "D"}, "SK": {"S": "#ENTITY"}}}},
            {
                "Put": {
                    "TableName": TABLE,
                    "Item": {
                        "PK": {"S": "D"},
                        "SK": {"S": "CONN#x"},
                        "GSI6PK": {"S": "E"},
                        "GSI6SK": {"S": "F"},
                    },
                }
            },
        ]
    )


@contextmanager
def running(directory: Path) -> Iterator[Account]:
    """A start of the local runtime: a fresh mocked account restored from `directory`.

    Each start is its own mock_aws context, ended before the next one begins: nested contexts would
    share moto's state and prove nothing about what the files hold.
    """
    with mock_aws():
        account = Account(directory)
        account.journal.restore()
        yield account


def test_captured_changes_are_restored_into_a_fresh_table(directory: Path) -> None:
    with running(directory) as account:
        make_changes(account)
        assert len(account.journal.capture()) == 8
        expected = account.items()
    assert [item["PK"]["S"] for item in expected] == ["A", "C", "D", "D"]
    assert expected[0]["name"] == {"S": "updated"}
    assert expected[0]["price"] == {"N": "8995"}  # an update keeps the rest of the item
    assert expected[1] == {"PK": {"S": "C"}, "SK": {"S": "#ENTITY"}, "replaced": {"BOOL": True}}

    count, restored = restored_items(directory)
    assert count == 4
    assert restored == expected


def test_every_capture_appends_only_new_changes(directory: Path) -> None:
    with running(directory) as account:
        account.put("A", n={"N": "1"})
        assert len(account.journal.capture()) == 1
        assert len(account.journal.capture()) == 0  # nothing new
        account.put("B", n={"N": "2"})
        account.client.delete_item(TableName=TABLE, Key={"PK": {"S": "A"}, "SK": {"S": "#ENTITY"}})
        assert len(account.journal.capture()) == 2
        expected = account.items()
    lines = [json.loads(line) for line in journal_lines(directory)]
    assert [next(iter(entry)) for entry in lines] == ["put", "put", "delete"]
    assert lines[2]["delete"] == {"PK": {"S": "A"}, "SK": {"S": "#ENTITY"}}

    _, restored = restored_items(directory)
    assert restored == expected
    assert [item["PK"]["S"] for item in restored] == ["B"]


def cancelled_transaction(account: Account) -> None:
    """A transaction whose second put collides: DynamoDB writes none of it."""
    with pytest.raises(ClientError) as cancelled:
        account.client.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": TABLE, "Item": {"PK": {"S": "phantom"}, "SK": {"S": "#ENTITY"}}}},
                {
                    "Put": {
                        "TableName": TABLE,
                        "Item": {"PK": {"S": "taken"}, "SK": {"S": "#ENTITY"}, "lost": {"S": "x"}},
                        "ConditionExpression": "attribute_not_exists(PK)",
                    }
                },
            ]
        )
    assert cancelled.value.response["Error"]["Code"] == "TransactionCanceledException"


def test_a_cancelled_transaction_does_not_derail_the_journal(directory: Path) -> None:
    with running(directory) as account:
        account.put("taken")
        assert len(account.journal.capture()) == 1
        cancelled_transaction(account)
        account.put("later")
        account.journal.capture()
        expected = account.items()
        assert [item["PK"]["S"] for item in expected] == ["later", "taken"]
        # What a crash (no compaction at stop) would leave on disk:
        journaled = [json.loads(line) for line in journal_lines(directory)]
        assert [entry["put"]["PK"]["S"] for entry in journaled] == ["taken", "later"]
    # Leaving the context without compact() is the kill -9 case: only snapshot + journal remain.
    _, restored = restored_items(directory)
    assert restored == expected


def test_a_torn_last_line_is_ignored(directory: Path) -> None:
    with running(directory) as account:
        account.put("A", n={"N": "1"})
        account.put("B", n={"N": "2"})
        account.journal.capture()
        expected = account.items()
    # A crash in the middle of an append: the last line stops half-way, with no newline.
    with (directory / f"{TABLE}.journal.jsonl").open("a") as journal:
        journal.write('{"put": {"PK": {"S": "C"}, "SK": {"S": "#EN')

    count, restored = restored_items(directory)
    assert count == 2
    assert restored == expected
    # The restore compacted: the torn line is gone and the next start sees the same data.
    assert journal_lines(directory) == []
    assert restored_items(directory) == (2, expected)


def test_compact_leaves_an_empty_journal_and_a_snapshot_of_the_table(directory: Path) -> None:
    with running(directory) as account:
        make_changes(account)
        account.journal.capture()
        assert len(journal_lines(directory)) == 8
        account.put("E", late={"S": "not captured yet"})  # compact captures it first

        account.journal.compact()
        assert journal_lines(directory) == []
        assert snapshot_items(directory) == account.items()
        assert not (directory / f"{TABLE}.snapshot.tmp").exists()

        # Changes after a compaction go to the journal again, on top of the snapshot.
        account.put("F")
        account.journal.capture()
        assert len(journal_lines(directory)) == 1
        expected = account.items()
    count, restored = restored_items(directory)
    assert count == 6
    assert restored == expected


def test_an_empty_data_dir_restores_nothing_and_leaves_an_empty_snapshot(directory: Path) -> None:
    with mock_aws():
        account = Account(directory)
        assert account.journal.restore() == 0
    assert snapshot_items(directory) == []
    assert journal_lines(directory) == []
