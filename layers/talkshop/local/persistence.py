"""Keeps the local runtime's moto DynamoDB table on disk, so data survives a restart.

The table's own stream (the same NEW_AND_OLD_IMAGES stream that feeds indexers on AWS) is the write-
ahead log: after every change the runtime appends the new stream records to a journal file and
fsyncs it before answering. A start restores the last snapshot, replays the journal, then writes a
fresh snapshot and empties the journal. Every write path is covered, whoever made it (a handler, a
state machine's DynamoDB task, the importer), because they all land in the stream.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_dynamodbstreams.client import DynamoDBStreamsClient

_BATCH = 25


class TableJournal:
    def __init__(
        self, directory: Path, table_name: str, dynamodb: DynamoDBClient, streams: DynamoDBStreamsClient
    ) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.snapshot_path = directory / f"{table_name}.snapshot.json"
        self.journal_path = directory / f"{table_name}.journal.jsonl"
        self.table_name = table_name
        self.dynamodb = dynamodb
        self.streams = streams

    def restore(self) -> int:
        """Load the snapshot and journal into the (empty) table; returns the number of items."""
        items: dict[str, dict[str, Any]] = {}
        if self.snapshot_path.exists():
            for item in json.loads(self.snapshot_path.read_text()):
                items[_identity(item)] = item
        if self.journal_path.exists():
            for line in self.journal_path.read_text().splitlines():
                if not line.strip():
                    continue
                try:
                    entry = json.loads(line)
                except json.JSONDecodeError:
                    break  # a torn last line from a crash: everything before it is intact
                if "put" in entry:
                    items[_identity(entry["put"])] = entry["put"]
                else:
                    items.pop(_identity(entry["delete"]), None)
        values = list(items.values())
        for start in range(0, len(values), _BATCH):
            pending: Any = {
                self.table_name: [{"PutRequest": {"Item": item}} for item in values[start : start + _BATCH]]
            }
            while pending:
                pending = self.dynamodb.batch_write_item(RequestItems=pending).get("UnprocessedItems")
        self._release_consumed_records()  # the restore's own writes are already on disk
        self.compact()
        return len(values)

    def _oldest_record(self) -> str:
        """An iterator at the oldest record the table's stream holds now.

        Asked for afresh on every capture: when moto rolls a cancelled transaction back it swaps the
        table (stream included) for a copy, so an iterator kept from before would read a stream the
        table no longer writes to. Records are released once journaled, so "oldest" is "unsaved".
        """
        description = self.dynamodb.describe_table(TableName=self.table_name)["Table"]
        stream_arn = description["LatestStreamArn"]
        shard = self.streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"][0]
        return self.streams.get_shard_iterator(
            StreamArn=stream_arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]

    def capture(self) -> list[dict[str, Any]]:
        """Append the changes made since the last capture to the journal, durably; returns their
        stream records, for whatever else follows the stream (the search indexer)."""
        iterator: str | None = self._oldest_record()
        entries: list[str] = []
        captured: list[dict[str, Any]] = []
        while iterator:
            response = self.streams.get_records(ShardIterator=iterator, Limit=1000)
            records = response["Records"]
            for record in records:
                change = record["dynamodb"]
                if record["eventName"] == "REMOVE":
                    entries.append(json.dumps({"delete": change["Keys"]}))
                else:
                    entries.append(json.dumps({"put": change["NewImage"]}))
            captured += records  # type: ignore[arg-type]
            iterator = response.get("NextShardIterator") if records else None
        if entries:
            with self.journal_path.open("a", encoding="utf-8") as journal:
                journal.write("\n".join(entries) + "\n")
                journal.flush()
                os.fsync(journal.fileno())
            self._release_consumed_records()
        return captured

    def _release_consumed_records(self) -> None:
        """Drop stream records already journaled from moto's memory.

        moto keeps every stream record forever and deep-copies them on each transaction, which would
        make every write slower than the last. Sequence numbers stay valid: the shard's start moves
        by exactly the number of records dropped. (moto internals, so only for the local runtime.)
        """
        shard = self._moto_table().stream_shard
        if shard is not None:
            shard.starting_sequence_number += len(shard.items)
            shard.items = []

    def _moto_table(self) -> Any:
        from moto.core import DEFAULT_ACCOUNT_ID  # type: ignore[attr-defined]
        from moto.dynamodb.models import dynamodb_backends

        return dynamodb_backends[DEFAULT_ACCOUNT_ID][self.dynamodb.meta.region_name].get_table(
            self.table_name
        )

    def compact(self) -> None:
        """Replace snapshot + journal by one snapshot of the table as it is now.

        The items are read from moto's table in the form the journal writes them (its stream records'
        images): paging a Scan through moto costs time in proportion to the table for every page (each
        sorts the table and looks for where the last one ended), minutes for a data dir that
        `talkshop simulate --conversations 1000` filled."""
        self.capture()
        items = [item.to_json()["Attributes"] for item in self._moto_table().all_items()]
        temporary = self.snapshot_path.with_suffix(".tmp")
        with temporary.open("w", encoding="utf-8") as snapshot:
            json.dump(items, snapshot)
            snapshot.flush()
            os.fsync(snapshot.fileno())
        os.replace(temporary, self.snapshot_path)
        self.journal_path.write_text("")


def _identity(item: dict[str, Any]) -> str:
    return json.dumps([item["PK"], item["SK"]], sort_keys=True)
