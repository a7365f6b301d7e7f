"""A performance fix for moto's DynamoDB transactions, applied by the local runtime and the tests.

moto 5 backs up every table a TransactWriteItems touches by deep-copying the whole table (once per
*operation* of the transaction), writes the operations one by one, and on a failure puts the copy
back. The copy costs time in proportion to the table: with the demo catalog loaded it made each
checkout step that writes cost 50-150 ms, growing with every order. The patch keeps moto's behaviour
and replaces the whole-table backup with an undo log of what the transaction can change: a copy of
each item it names (as it was) and the length of each table's stream. A failed transaction puts
those items back (or removes the ones it created) and drops the stream records it appended, which
leaves the table and its stream exactly as moto's own rollback did.
"""

from __future__ import annotations

import copy
import functools
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import moto.dynamodb.models as dynamodb_models
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import Table

_PATCHED = "__talkshop_undo_log__"


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


def install() -> None:
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
