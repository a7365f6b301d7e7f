"""Two performance fixes for moto's DynamoDB, applied by the local runtime and the tests.

Transactions: moto 5 backs up every table a TransactWriteItems touches by deep-copying the whole
table (once per *operation* of the transaction), writes the operations one by one, and on a failure
puts the copy back. The copy costs time in proportion to the table: with the demo catalog loaded it
made each checkout step that writes cost 50-150 ms, growing with every order. The patch keeps moto's
behaviour and replaces the whole-table backup with an undo log of what the transaction can change: a
copy of each item it names (as it was) and the length of each table's stream. A failed transaction
puts those items back (or removes the ones it created) and drops the stream records it appended,
which leaves the table and its stream exactly as moto's own rollback did.

Item answers: moto writes every answer by walking the operation's botocore output shape member by
member (`moto.core.serialize`, about 27 µs a member), so an answer carrying products (hundreds of
attribute values each) took tens of milliseconds, and `talkshop simulate` spent 60% of its run
there. The answers of the item operations (and of the stream's GetRecords, which the local runtime
reads after every write) are already in DynamoDB's wire form once moto has expanded its types, so the
patch writes them as JSON directly, as the shape walk would: binary values base64-encoded, times as
epoch seconds, absent members (and the few of moto's own the shape lacks) left out. Anything else
(errors, table descriptions, other services, a value of an unexpected type) still goes through
moto's serializer.

Queries: moto answers every Query by sorting *all* the table's items, comparing keys as DynamoType
objects (a Decimal or str conversion per comparison), then keeping the partition asked for. Each
query cost time in proportion to the whole table, so a local run slowed down as its events and
metric items piled up. The patch keeps the order moto sorts in but compares the keys' plain values,
each converted once; a base-table query sorts only the partition it asks for (moto would keep
exactly those items), and an index query gets, unsorted, only the items whose index hash key is the
one it asks for (moto keeps no others, and sorts what it keeps by the index's keys itself).
"""

from __future__ import annotations

import base64
import copy
import functools
import inspect
import json
import threading
from dataclasses import dataclass, field
from datetime import datetime
from types import SimpleNamespace
from typing import Any

import moto.dynamodb.models as dynamodb_models
from moto.core.common_types import TYPE_RESPONSE
from moto.core.responses import ActionContext, ActionResult
from moto.core.serialize import TimestampSerializer
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import Table

_PATCHED = "__talkshop_patched__"


def _deepcopy_except_tables(value: Any, memo: dict[int, Any] | None = None) -> Any:
    """moto's `copy.deepcopy` during a transaction: tables are not copied (the undo log stands in for
    the backup); anything else is, such as the old image an update keeps for the stream."""
    return value if isinstance(value, Table) else copy.deepcopy(value, memo)


_COPY_EXCEPT_TABLES = SimpleNamespace(deepcopy=_deepcopy_except_tables)


@dataclass
class _UndoLog:
    # (table, hash key, range key or None, the item as it was or None when absent)
    items: list[tuple[Table, DynamoType, DynamoType | None, Item | None]] = field(default_factory=list)
    stream_lengths: list[tuple[Table, int]] = field(default_factory=list)

    @classmethod
    def of(cls, backend: Any, transact_items: list[dict[str, Any]]) -> _UndoLog:
        log = cls()
        tables: dict[str, Table] = {}
        for entry in transact_items:
            for op_type, op in entry.items():
                table = backend.tables.get(op.get("TableName"))
                if table is None:
                    continue  # moto refuses the transaction before writing anything
                tables[table.name] = table
                key = op["Item"] if op_type == "Put" else op.get("Key", {})
                if table.hash_key_attr not in key:
                    continue
                hash_key = DynamoType(key[table.hash_key_attr])
                range_key = DynamoType(key[table.range_key_attr]) if table.range_key_attr in key else None
                try:
                    current = table.get_item(hash_key, range_key)
                except Exception:  # noqa: S112 - a malformed key: moto refuses it before writing anything
                    continue
                log.items.append((table, hash_key, range_key, copy.deepcopy(current)))
        for table in tables.values():
            if table.stream_shard is not None:
                log.stream_lengths.append((table, len(table.stream_shard.items)))
        return log

    def undo(self) -> None:
        for table, hash_key, range_key, before in reversed(self.items):
            if range_key is None:
                if before is None:
                    table.items.pop(hash_key, None)
                else:
                    table.items[hash_key] = before  # type: ignore[assignment]
            elif before is None:
                table.items[hash_key].pop(range_key, None)
            else:
                table.items[hash_key][range_key] = before
        for table, length in self.stream_lengths:
            del table.stream_shard.items[length:]  # type: ignore[union-attr]


# The operations whose answers are items, stream records and counts: nothing in them needs the output
# shape to be written, by service.
_ITEM_OPERATIONS = {
    "dynamodb": frozenset(
        {
            "GetItem",
            "PutItem",
            "UpdateItem",
            "DeleteItem",
            "Query",
            "Scan",
            "BatchGetItem",
            "TransactGetItems",
        }
    ),
    "dynamodbstreams": frozenset({"GetRecords"}),
}


class _NotPlainJson(TypeError):
    """A value the direct writer does not know how to write: moto's serializer takes the answer."""


def _wire_form(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _wire_form(member) for key, member in value.items() if member is not None}
    if isinstance(value, list):
        return [_wire_form(member) for member in value]
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if value is None or isinstance(value, str | int | float):  # bool is an int
        return value
    if isinstance(value, datetime):  # JSON protocols write times as epoch seconds, to the millisecond
        return TimestampSerializer._timestamp_unixtimestamp(value)
    raise _NotPlainJson(type(value).__name__)


def item_answer_as_json(result: object, context: ActionContext) -> TYPE_RESPONSE | None:
    """An item operation's answer written straight to JSON; None when it is not one (or holds a value
    this writer does not handle), for moto's serializer to write."""
    operation = context.operation_model
    shape = operation.output_shape
    item_operations = _ITEM_OPERATIONS.get(context.service_model.service_name, frozenset())
    if operation.name not in item_operations or shape is None or not isinstance(result, dict):
        return None
    try:
        body = json.dumps(
            _wire_form({key: result[key] for key in result if key in shape.members}), separators=(",", ":")
        )
    except _NotPlainJson:
        return None
    json_version = operation.service_model.metadata.get("jsonVersion", "1.0")
    status = int(operation.http.get("responseCode", 200))
    return status, {"Content-Type": f"application/x-amz-json-{json_version}"}, body


def _install_item_answers_as_json() -> None:
    original = ActionResult.execute_result
    if getattr(original, _PATCHED, False):
        return

    @functools.wraps(original)
    def execute_result(self: ActionResult, context: ActionContext) -> TYPE_RESPONSE:
        return item_answer_as_json(self.result, context) or original(self, context)

    setattr(execute_result, _PATCHED, True)
    ActionResult.execute_result = execute_result  # type: ignore[method-assign]


def _key_order(item: Item) -> Any:
    """moto's order of items (hash key, then range key), on plain values: DynamoType compares them so."""
    return (
        (item.hash_key.cast_value, item.range_key.cast_value) if item.range_key else item.hash_key.cast_value
    )


# What a query on this thread asks for: `partition` (table, hash key) for a base-table query, `index_keys`
# (table, [(attribute, value)]) for an index query's hash key conditions.
_querying = threading.local()


def _every_item(table: Table) -> list[Item]:
    if table.range_key_attr:
        return [item for hash_set in table.items.values() for item in hash_set.values()]
    return list(table.items.values())  # type: ignore[arg-type]


def _has(item: Item, name: str, value: DynamoType) -> bool:
    found = item.attrs.get(name)
    if found is None or found.type != value.type:
        return False
    # Strings compare as they are (index keys here are strings); other types as DynamoType compares them.
    return bool(found.value == value.value) if value.type == "S" else found == value


def _install_partition_queries() -> None:
    original_query = Table.query
    if getattr(original_query, _PATCHED, False):
        return
    signature = inspect.signature(original_query)

    @functools.wraps(original_query)
    def query(self: Table, *args: Any, **kwargs: Any) -> Any:
        asked = signature.bind(self, *args, **kwargs).arguments
        on_index = asked.get("index_name") is not None
        base_table = not on_index and asked["hash_key"] is not None
        _querying.partition = (self, asked["hash_key"]) if base_table else None
        _querying.index_keys = (self, list(asked.get("hash_key_conditions") or [])) if on_index else None
        try:
            return original_query(self, *args, **kwargs)
        finally:
            _querying.partition = _querying.index_keys = None

    def all_items(self: Table) -> list[Item]:
        partition = getattr(_querying, "partition", None)
        if partition is not None and partition[0] is self:
            # A base-table query keeps the items whose hash key is the one asked for: these.
            found = self.items.get(partition[1])
            if found is None:
                return []
            return sorted(found.values(), key=_key_order) if self.range_key_attr else [found]
        index_keys = getattr(_querying, "index_keys", None)
        if index_keys is not None and index_keys[0] is self:
            # An index query keeps the items with its hash key values and sorts them itself.
            conditions = index_keys[1]
            return [
                item for item in _every_item(self) if all(_has(item, *condition) for condition in conditions)
            ]
        return sorted(_every_item(self), key=_key_order)

    setattr(query, _PATCHED, True)
    Table.query = query  # type: ignore[method-assign]
    Table.all_items = all_items  # type: ignore[method-assign]


def install() -> None:
    _install_item_answers_as_json()
    _install_partition_queries()
    _install_transaction_undo_log()


def _install_transaction_undo_log() -> None:
    backend = dynamodb_models.DynamoDBBackend
    original = backend.transact_write_items
    if getattr(original, _PATCHED, False):
        return

    @functools.wraps(original)
    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        log = _UndoLog.of(self, transact_items)
        # moto's own backup becomes the table itself, so its rollback swaps in the same object.
        dynamodb_models.copy = _COPY_EXCEPT_TABLES  # type: ignore[attr-defined,assignment]
        try:
            original(self, transact_items)
        except BaseException:
            log.undo()
            raise
        finally:
            dynamodb_models.copy = copy  # type: ignore[attr-defined]

    setattr(transact_write_items, _PATCHED, True)
    backend.transact_write_items = transact_write_items  # type: ignore[method-assign]
