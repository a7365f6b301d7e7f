"""A performance fix for moto's DynamoDB transactions, applied by the local runtime and the tests.

moto 5 backs up a table before a TransactWriteItems by deep-copying it once per *operation* of the
transaction rather than once per table, so a 100-item transaction copies the whole table 100 times
and the cost grows with table size squared. The patch makes those copies of the same table within
one call share a single copy; moto's rollback behaviour is otherwise untouched.
"""

from __future__ import annotations

import copy
import functools
from types import SimpleNamespace
from typing import Any

import moto.dynamodb.models as dynamodb_models

_PATCHED = "__talkshop_single_backup__"


def install() -> None:
    backend = dynamodb_models.DynamoDBBackend
    original = backend.transact_write_items
    if getattr(original, _PATCHED, False):
        return

    @functools.wraps(original)
    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        copies: dict[int, Any] = {}

        def deepcopy_once(value: Any, memo: dict[int, Any] | None = None) -> Any:
            if id(value) not in copies:
                copies[id(value)] = copy.deepcopy(value, memo)
            return copies[id(value)]

        dynamodb_models.copy = SimpleNamespace(deepcopy=deepcopy_once)  # type: ignore[attr-defined,assignment]
        try:
            original(self, transact_items)
        finally:
            dynamodb_models.copy = copy  # type: ignore[attr-defined]

    setattr(transact_write_items, _PATCHED, True)
    backend.transact_write_items = transact_write_items  # type: ignore[method-assign]
