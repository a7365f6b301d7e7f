"""The ontology repository: every read and write of the single table goes through here.

Callers speak in entities (EntityRef, data dicts, versions) and access patterns (by type, by owner,
by facet...); the key shapes stay in :mod:`talkshop.data.keys`. Writes are grouped in a
:class:`UnitOfWork` committed as one DynamoDB transaction, so an operation happens whole or not at
all. Entities are created only if absent and changed only at the version that was read, so a
concurrent change is detected, never overwritten; edges and knowledge are idempotent puts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.conditions import Attr, ConditionBase, Key
from boto3.dynamodb.types import TypeDeserializer
from botocore.exceptions import ClientError

from talkshop.clock import iso, parse_iso
from talkshop.data import keys
from talkshop.data.pagination import InvalidCursor, decode_cursor, encode_cursor
from talkshop.data.schema import (
    BY_FACET,
    BY_OWNER,
    BY_STATUS,
    BY_TYPE,
    BY_USER,
    EXPIRY_ATTRIBUTE,
    INVERSE,
    IndexSpec,
)
from talkshop.data.serialization import from_dynamo, to_dynamo
from talkshop.errors import Conflict, TalkshopError
from talkshop.ontology.model import Connection, ConnectionType, Dimension, EntityRef, Event, Knowledge

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

MAX_TRANSACTION_ITEMS = 100
_deserializer = TypeDeserializer()


class TooManyChanges(TalkshopError):
    status = 413
    code = "too_many_changes"


class ItemTooLarge(TalkshopError):
    status = 413
    code = "item_too_large"


@dataclass(frozen=True)
class IndexEntries:
    """Where an entity is listed besides its type: the secondary access patterns it takes part in."""

    owner_id: str | None = None
    user_id: str | None = None
    status: str | None = None
    facet: tuple[str, str] | None = None
    search_text: str | None = None


@dataclass(frozen=True)
class WebSession:
    """A signed-in session as stored: its holder, the digest of the key it came from, its end."""

    holder: EntityRef
    key_hash: str
    expires_at: datetime


@dataclass(frozen=True)
class StoredEntity:
    ref: EntityRef
    data: dict[str, Any]
    version: int
    created_at: datetime
    updated_at: datetime
    # The item as stored, so that a compensating write can put it back exactly.
    item: dict[str, Any] = field(repr=False, compare=False, default_factory=dict)


@dataclass(frozen=True)
class ListQuery:
    """One access pattern: a partition of an index, newest or oldest first; with `created`, only the
    entities created from its first time up to (not including) its second, read by key (an index's sort
    key starts with the creation time), not filtered."""

    index: IndexSpec
    partition: str
    newest_first: bool = False
    created: tuple[datetime, datetime] | None = None

    @property
    def identity(self) -> str:
        window = "" if self.created is None else "|" + "|".join(iso(moment) for moment in self.created)
        return f"{self.index.name}|{self.partition}|{self.newest_first}{window}"

    def key_condition(self) -> ConditionBase:
        condition: ConditionBase = Key(self.index.partition_key).eq(self.partition)
        if self.created is not None:
            start, before = self.created
            # Sort keys are "<iso time>#<id>": one at `before` itself sorts after the bare time.
            condition = condition & Key(self.index.sort_key).between(iso(start), iso(before))
        return condition


def created_between(query: ListQuery, start: datetime, before: datetime) -> ListQuery:
    """The entities of a listing created in [start, before)."""
    return replace(query, created=(start, before))


@dataclass(frozen=True)
class Page:
    items: list[StoredEntity]
    next_cursor: str | None


def data_field(name: str) -> Attr:
    """A filterable field of an entity's data, for `Repository.page` filters."""
    return Attr(f"data.{name}")


def text_contains_all(terms: Sequence[str]) -> ConditionBase | None:
    """Every term appears in the entity's normalised search text (see IndexEntries.search_text)."""
    condition: ConditionBase | None = None
    for term in terms:
        clause = Attr("search_text").contains(term)
        condition = clause if condition is None else condition & clause
    return condition


def by_type(dimension: Dimension, entity_type: str) -> ListQuery:
    if entity_type in keys.DAY_BUCKETED_TYPES:
        raise ValueError(f"{entity_type} is listed per day: use by_type_on_day")
    return ListQuery(BY_TYPE, keys.whole_type_partition(dimension, entity_type))


def by_type_on_day(dimension: Dimension, entity_type: str, day: datetime) -> ListQuery:
    return ListQuery(BY_TYPE, keys.type_partition(dimension, entity_type, day), newest_first=True)


def by_owner(owner_id: str, entity_type: str) -> ListQuery:
    return ListQuery(BY_OWNER, keys.owner_partition(owner_id, entity_type))


def by_user(user_id: str, entity_type: str) -> ListQuery:
    return ListQuery(BY_USER, keys.user_partition(user_id, entity_type), newest_first=True)


def by_status(entity_type: str, status: str) -> ListQuery:
    return ListQuery(BY_STATUS, keys.status_partition(entity_type, status))


def by_facet(entity_type: str, facet: str, value: str) -> ListQuery:
    return ListQuery(BY_FACET, keys.facet_partition(entity_type, facet, value))


@dataclass
class _Operation:
    request: dict[str, Any]
    on_condition_failure: Callable[[], TalkshopError] | None
    # The write that undoes this one, used when a later transaction of the same batch fails; empty for
    # a check, which writes nothing.
    inverse: dict[str, Any]


@dataclass
class UnitOfWork:
    """Writes that commit together in one transaction; each knows the write that would undo it."""

    repository: Repository
    operations: list[_Operation] = field(default_factory=list)
    # Keys this unit deletes whatever they hold: staging one again adds nothing (a transaction may
    # name an item only once, and an erase can reach one item by two paths, e.g. an edge).
    _erased: set[tuple[str, str]] = field(default_factory=set)

    def _add(
        self,
        kind: str,
        body: dict[str, Any],
        on_failure: Callable[[], TalkshopError] | None,
        inverse: dict[str, Any],
    ) -> None:
        if kind == "Delete" and "ConditionExpression" not in body:
            key = (str(body["Key"]["PK"]), str(body["Key"]["SK"]))
            if key in self._erased:
                return
            self._erased.add(key)
        table = self.repository.table_name
        body["TableName"] = table
        for inverse_body in inverse.values():
            inverse_body["TableName"] = table
        self.operations.append(_Operation({kind: body}, on_failure, inverse))

    def _put_new(self, item: dict[str, Any], on_failure: Callable[[], TalkshopError] | None) -> None:
        self._add(
            "Put",
            {"Item": _serialize(item), "ConditionExpression": "attribute_not_exists(PK)"},
            on_failure,
            {"Delete": {"Key": {"PK": item["PK"], "SK": item["SK"]}}},
        )

    def create(
        self,
        ref: EntityRef,
        data: dict[str, Any],
        index: IndexEntries,
        now: datetime,
        on_exists: Callable[[], TalkshopError],
    ) -> None:
        self._put_new(_entity_item(ref, data, index, version=1, created_at=now, updated_at=now), on_exists)

    def replace(
        self,
        current: StoredEntity,
        data: dict[str, Any],
        index: IndexEntries,
        now: datetime,
        on_conflict: Callable[[], TalkshopError],
    ) -> None:
        item = _entity_item(
            current.ref, data, index, current.version + 1, created_at=current.created_at, updated_at=now
        )
        self._add(
            "Put",
            {"Item": _serialize(item), **_expect_version(current.version)},
            on_conflict,
            {"Put": {"Item": current.item}},
        )

    def delete(self, current: StoredEntity, on_conflict: Callable[[], TalkshopError]) -> None:
        self._add(
            "Delete",
            {
                "Key": {"PK": keys.entity_key(current.ref), "SK": keys.ENTITY_SORT_KEY},
                **_expect_version(current.version),
            },
            on_conflict,
            {"Put": {"Item": current.item}},
        )

    def erase_entity(self, ref: EntityRef) -> None:
        """Delete an entity's item whatever its version: for a thing that goes with a deleted owner."""
        key = {"PK": keys.entity_key(ref), "SK": keys.ENTITY_SORT_KEY}
        self._add("Delete", {"Key": key}, None, self._undo_of_write_to(key))

    def erase(self, item: dict[str, Any]) -> None:
        """Delete one item of an entity's footprint (see Repository.footprint), as it was read."""
        key = {"PK": item["PK"], "SK": item["SK"]}
        self._add("Delete", {"Key": key}, None, {"Put": {"Item": item}})

    def adjust_number(
        self,
        ref: EntityRef,
        field_name: str,
        delta: int,
        now: datetime,
        *,
        never_below: int | None = None,
        on_refused: Callable[[], TalkshopError],
    ) -> None:
        """Add `delta` to a number of an entity's data where it is stored, without reading it first.

        Refused (`on_refused`) when the entity is absent or the result would fall below `never_below`,
        so concurrent decrements can never overdraw it (stock). The version moves on too: a replace
        made from an earlier read is refused rather than writing the old number back.
        """
        condition = "attribute_exists(PK)"
        values: dict[str, Any] = {":delta": delta, ":one": 1, ":now": iso(now)}
        if never_below is not None:
            condition += " AND #data.#field >= :floor"
            values[":floor"] = never_below - delta
        key = {"PK": keys.entity_key(ref), "SK": keys.ENTITY_SORT_KEY}
        names = {"#data": "data", "#field": field_name, "#version": "version", "#updated": "updated_at"}
        update = "SET #data.#field = #data.#field + :delta, #version = #version + :one, #updated = :now"
        inverse_values = {**values, ":delta": -delta}
        inverse_values.pop(":floor", None)
        self._add(
            "Update",
            {
                "Key": key,
                "UpdateExpression": update,
                "ConditionExpression": condition,
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": values,
            },
            on_refused,
            {
                "Update": {
                    "Key": dict(key),
                    "UpdateExpression": update,
                    "ExpressionAttributeNames": names,
                    "ExpressionAttributeValues": inverse_values,
                }
            },
        )

    def increment_counter(
        self,
        subject: EntityRef,
        name: str,
        now: datetime,
        *,
        at_most: int | None = None,
        on_refused: Callable[[], TalkshopError],
        by: int = 1,
    ) -> None:
        """Count one more (or `by` more) of something about an entity (a discount's uses), atomically.

        With `at_most`, refused (`on_refused`) when the count has already reached it: the limit holds
        under any concurrency because the check and the increment are one conditional write.
        """
        if at_most is not None and (at_most < 1 or by != 1):
            raise on_refused()
        key = {"PK": keys.entity_key(subject), "SK": keys.counter_sort_key(name)}
        names = {"#count": "count", "#updated": "updated_at"}
        body: dict[str, Any] = {
            "Key": key,
            "UpdateExpression": "SET #count = if_not_exists(#count, :zero) + :one, #updated = :now",
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": {":zero": 0, ":one": by, ":now": iso(now)},
        }
        if at_most is not None:
            body["ConditionExpression"] = "attribute_not_exists(#count) OR #count < :limit"
            body["ExpressionAttributeValues"][":limit"] = at_most
        inverse = {
            "Update": {
                "Key": dict(key),
                "UpdateExpression": "SET #count = #count - :one",
                "ExpressionAttributeNames": {"#count": "count"},
                "ExpressionAttributeValues": {":one": by},
            }
        }
        self._add("Update", body, on_refused, inverse)

    def erase_counter(self, subject: EntityRef, name: str) -> None:
        """Delete a counter about an entity (one that names an erased person)."""
        key = {"PK": keys.entity_key(subject), "SK": keys.counter_sort_key(name)}
        self._add("Delete", {"Key": key}, None, self._undo_of_write_to(key))

    def connect(self, connection: Connection, now: datetime) -> None:
        """Idempotent: connecting twice leaves one edge."""
        self._put_restorably(_connection_item(connection, now))

    def disconnect(self, connection: Connection) -> None:
        key = {
            "PK": keys.entity_key(connection.source),
            "SK": keys.connection_sort_key(connection.type, connection.target),
        }
        self._add("Delete", {"Key": key}, None, self._undo_of_write_to(key))

    def record_event(self, event: Event) -> None:
        """Events are append-only: the same event (time and id) is never written twice."""
        self._put_new(_event_item(event), None)

    def rewrite_event(self, event: Event) -> None:
        """Replace what a recorded event says (same subject, time and id), for an erasure that must
        anonymise a fact it keeps. The outbox publishes inserts only, so it is not published again."""
        item = _event_item(event)
        key = {"PK": item["PK"], "SK": item["SK"]}
        self._add(
            "Put",
            {"Item": _serialize(item), "ConditionExpression": "attribute_exists(PK)"},
            None,
            self._undo_of_write_to(key),
        )

    def expect_no_knowledge(
        self, subject: EntityRef, kind: str, on_found: Callable[[], TalkshopError]
    ) -> None:
        """Fail the transaction (`on_found`) if the subject holds this knowledge when it commits; writes
        nothing. For a change that must not go through once someone wrote it since it was erased."""
        key = {"PK": keys.entity_key(subject), "SK": keys.knowledge_sort_key(kind)}
        self._add(
            "ConditionCheck", {"Key": key, "ConditionExpression": "attribute_not_exists(PK)"}, on_found, {}
        )

    def put_knowledge(self, knowledge: Knowledge, now: datetime) -> None:
        item: dict[str, Any] = {
            "PK": keys.entity_key(knowledge.subject),
            "SK": keys.knowledge_sort_key(knowledge.kind),
            "dimension": Dimension.KNOWLEDGE.value,
            "content": knowledge.content,
            "updated_at": iso(now),
        }
        self._put_restorably(item)

    def _put_restorably(self, item: dict[str, Any]) -> None:
        """An unconditional put whose undo restores the item as it was before (or removes it)."""
        key = {"PK": item["PK"], "SK": item["SK"]}
        self._add("Put", {"Item": _serialize(item)}, None, self._undo_of_write_to(key))

    def _undo_of_write_to(self, key: dict[str, str]) -> dict[str, Any]:
        """Put back what the key holds now, or delete whatever is written there if it holds nothing."""
        previous = self.repository.raw_item(key["PK"], key["SK"])
        return {"Put": {"Item": previous}} if previous else {"Delete": {"Key": dict(key)}}

    def register_api_key(
        self, key_hash: str, holder: EntityRef, now: datetime, on_exists: Callable[[], TalkshopError]
    ) -> None:
        item = {
            "PK": keys.api_key_partition(key_hash),
            "SK": keys.API_KEY_SORT_KEY,
            # Listed under its holder, so that all of a creator's keys can be found and revoked.
            BY_OWNER.partition_key: keys.owner_partition(holder.id, keys.API_KEY_TYPE),
            BY_OWNER.sort_key: f"{iso(now)}#{key_hash}",
            "holder": holder.model_dump(mode="json"),
            "key_hash": key_hash,
            "created_at": iso(now),
        }
        self._put_new(item, on_exists)

    def revoke_api_key(self, key_hash: str) -> None:
        key = {"PK": keys.api_key_partition(key_hash), "SK": keys.API_KEY_SORT_KEY}
        self._add("Delete", {"Key": key}, None, self._undo_of_write_to(key))

    def open_web_session(
        self, session_hash: str, holder: EntityRef, key_hash: str, now: datetime, expires_at: datetime
    ) -> None:
        """A signed-in session: who it is (`holder`), the digest of the key it was opened with (a
        session ends with its key) and when it ends (TTL deletes the item some time after)."""
        item = {
            "PK": keys.web_session_partition(session_hash),
            "SK": keys.WEB_SESSION_SORT_KEY,
            "holder": holder.model_dump(mode="json"),
            "key_hash": key_hash,
            "created_at": iso(now),
            "expires_at": iso(expires_at),
            EXPIRY_ATTRIBUTE: int(expires_at.timestamp()),
        }
        self._put_new(item, None)

    def close_web_session(self, session_hash: str) -> None:
        key = {"PK": keys.web_session_partition(session_hash), "SK": keys.WEB_SESSION_SORT_KEY}
        self._add("Delete", {"Key": key}, None, self._undo_of_write_to(key))

    def commit(self) -> None:
        if not self.operations:
            return
        if len(self.operations) > MAX_TRANSACTION_ITEMS:
            raise TooManyChanges(
                f"One change may touch at most {MAX_TRANSACTION_ITEMS} items; this one touches "
                f"{len(self.operations)}."
            )
        try:
            self.repository.transact([op.request for op in self.operations])
        except ClientError as error:
            raise self._explain(error) from error

    def split(self) -> list[UnitOfWork]:
        """This unit's writes in order, cut into units of one transaction each: for a change too
        large for one transaction whose first one alone must be atomic (an erasure decided by
        deleting its subject first); each is committed on its own."""
        return [
            UnitOfWork(self.repository, self.operations[start : start + MAX_TRANSACTION_ITEMS])
            for start in range(0, len(self.operations), MAX_TRANSACTION_ITEMS)
        ] or [self]

    def undo(self) -> None:
        """Apply the inverse of every operation of this (committed) unit, newest first."""
        inverses = [op.inverse for op in reversed(self.operations) if op.inverse]
        for start in range(0, len(inverses), MAX_TRANSACTION_ITEMS):
            self.repository.transact(inverses[start : start + MAX_TRANSACTION_ITEMS])

    def _explain(self, error: ClientError) -> Exception:
        """Turn DynamoDB's refusal into the caller's domain error, when it is one."""
        details = error.response.get("Error", {})
        if details.get("Code") == "ValidationException" and "size" in details.get("Message", "").lower():
            return ItemTooLarge("The item exceeds DynamoDB's 400 KB limit; shorten its texts or lists.")
        if details.get("Code") != "TransactionCanceledException":
            return error
        reasons = error.response.get("CancellationReasons", [])
        for operation, reason in zip(self.operations, reasons, strict=False):
            if reason.get("Code") == "ConditionalCheckFailed" and operation.on_condition_failure:
                return operation.on_condition_failure()
        if any(reason.get("Code") == "TransactionConflict" for reason in reasons):
            return Conflict(
                "Another change to the same items was in progress; retry the request.",
                code="concurrent_update",
            )
        return error


class Repository:
    def __init__(self, table: Table) -> None:
        self.table = table
        self.table_name = table.name

    def unit_of_work(self) -> UnitOfWork:
        return UnitOfWork(self)

    def transact(self, requests: list[dict[str, Any]]) -> None:
        self.table.meta.client.transact_write_items(TransactItems=requests)  # type: ignore[arg-type]

    def commit_all(self, units: Sequence[UnitOfWork]) -> None:
        """Commit several units in order; if one fails, undo those already committed, then raise.

        DynamoDB transactions hold at most 100 items; this is how a larger change (an import) stays
        all-or-nothing from the reader's point of view once it has finished, successfully or not.
        """
        committed: list[UnitOfWork] = []
        try:
            for unit in units:
                unit.commit()
                committed.append(unit)
        except Exception:
            for unit in reversed(committed):
                unit.undo()
            raise

    def raw_item(self, partition: str, sort: str) -> dict[str, Any] | None:
        response = self.table.get_item(Key={"PK": partition, "SK": sort}, ConsistentRead=True)
        return response.get("Item")

    def counter(self, subject: EntityRef, name: str) -> int:
        """The value of a counter about an entity (0 when nothing was counted yet); a consistent read."""
        item = self.raw_item(keys.entity_key(subject), keys.counter_sort_key(name))
        return int(item["count"]) if item else 0

    def get(self, ref: EntityRef) -> StoredEntity | None:
        response = self.table.get_item(
            Key={"PK": keys.entity_key(ref), "SK": keys.ENTITY_SORT_KEY}, ConsistentRead=True
        )
        item = response.get("Item")
        return _entity_from_item(item) if item else None

    def get_many(self, refs: Sequence[EntityRef]) -> dict[EntityRef, StoredEntity]:
        found: dict[EntityRef, StoredEntity] = {}
        unique = list(dict.fromkeys(refs))
        for start in range(0, len(unique), 100):
            request: dict[str, Any] = {
                self.table_name: {
                    "Keys": [
                        {"PK": keys.entity_key(ref), "SK": keys.ENTITY_SORT_KEY}
                        for ref in unique[start : start + 100]
                    ]
                }
            }
            while request:
                response = self.table.meta.client.batch_get_item(RequestItems=request)
                for item in response["Responses"].get(self.table_name, []):
                    entity = _entity_from_item(item)
                    found[entity.ref] = entity
                request = response.get("UnprocessedKeys") or {}
        return found

    def page(
        self,
        query: ListQuery,
        *,
        limit: int,
        cursor: str | None = None,
        filters: ConditionBase | None = None,
        identity_extra: str = "",
    ) -> Page:
        """One page of a listing. Filters run server-side; pages are filled across query calls."""
        identity = query.identity + "|" + identity_extra
        arguments: dict[str, Any] = {
            "IndexName": query.index.name,
            "KeyConditionExpression": query.key_condition(),
            "ScanIndexForward": not query.newest_first,
        }
        if filters is not None:
            arguments["FilterExpression"] = filters
        start = decode_cursor(cursor, identity) if cursor else None
        position_keys = {"PK", "SK", query.index.partition_key, query.index.sort_key}
        if start is not None and (
            set(start) != position_keys or start[query.index.partition_key] != query.partition
        ):
            raise InvalidCursor("The cursor is not one this API issued.")
        items: list[dict[str, Any]] = []
        exhausted = False
        while len(items) < limit:
            if start:
                arguments["ExclusiveStartKey"] = start
            arguments["Limit"] = max(limit - len(items), 25) if filters is not None else limit - len(items)
            response = self._query(arguments)
            items.extend(response["Items"])
            start = response.get("LastEvaluatedKey")
            if not start:
                exhausted = True
                break
        page_items = items[:limit]
        more = not exhausted or len(items) > limit
        next_cursor = None
        if more and page_items:
            last = page_items[-1]
            position = {
                name: last[name] for name in ("PK", "SK", query.index.partition_key, query.index.sort_key)
            }
            next_cursor = encode_cursor(position, identity)
        return Page([_entity_from_item(item) for item in page_items], next_cursor)

    def iterate(self, query: ListQuery, filters: ConditionBase | None = None) -> Iterator[StoredEntity]:
        cursor = None
        while True:
            page = self.page(query, limit=100, cursor=cursor, filters=filters)
            yield from page.items
            if not page.next_cursor:
                return
            cursor = page.next_cursor

    def _query(self, arguments: dict[str, Any]) -> dict[str, Any]:
        try:
            return self.table.query(**arguments)  # type: ignore[return-value]
        except ClientError as error:
            if (
                error.response.get("Error", {}).get("Code") == "ValidationException"
                and "ExclusiveStartKey" in arguments
            ):
                raise InvalidCursor("The cursor is not one this API issued.") from error
            raise

    def connected(self, source: EntityRef, connection_type: ConnectionType) -> list[EntityRef]:
        """Targets of the source's outgoing edges of one type."""
        return self._edges("PK", keys.entity_key(source), keys.connection_prefix(connection_type), index=None)

    def connected_to(self, target: EntityRef, connection_type: ConnectionType) -> list[EntityRef]:
        """Sources of the edges of one type that point at the target."""
        return self._edges(
            INVERSE.partition_key,
            keys.entity_key(target),
            keys.connection_prefix(connection_type),
            index=INVERSE,
        )

    def _edges(
        self, partition_name: str, partition: str, prefix: str, index: IndexSpec | None
    ) -> list[EntityRef]:
        sort_name = index.sort_key if index else "SK"
        arguments: dict[str, Any] = {
            "KeyConditionExpression": Key(partition_name).eq(partition) & Key(sort_name).begins_with(prefix)
        }
        if index:
            arguments["IndexName"] = index.name
        refs: list[EntityRef] = []
        while True:
            response = self.table.query(**arguments)
            for item in response["Items"]:
                refs.append(keys.parse_entity_key(str(item[sort_name])[len(prefix) :]))
            if "LastEvaluatedKey" not in response:
                return refs
            arguments["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def footprint(self, ref: EntityRef) -> list[dict[str, Any]]:
        """Every item stored about an entity besides its own item, as stored: what shares its
        partition (knowledge, counters, its outgoing edges), the edges pointing at it and the events
        about it. Three key queries, no scan; the base table's are consistent reads, the edges'
        index is only eventually consistent."""
        owned = self._all_items(
            {"KeyConditionExpression": Key("PK").eq(keys.entity_key(ref)), "ConsistentRead": True}
        )
        events = self._all_items(
            {"KeyConditionExpression": Key("PK").eq(keys.events_partition(ref)), "ConsistentRead": True}
        )
        edges_in = self._all_items(
            {
                "IndexName": INVERSE.name,
                "KeyConditionExpression": Key(INVERSE.partition_key).eq(keys.entity_key(ref))
                & Key(INVERSE.sort_key).begins_with(keys.CONNECTION_PREFIX),
            }
        )
        return [item for item in owned if item["SK"] != keys.ENTITY_SORT_KEY] + events + edges_in

    def _all_items(self, arguments: dict[str, Any]) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        while True:
            response = self.table.query(**arguments)
            items += response["Items"]
            if "LastEvaluatedKey" not in response:
                return items
            arguments["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def events_of(self, subject: EntityRef, limit: int = 100) -> list[Event]:
        response = self.table.query(
            KeyConditionExpression=Key("PK").eq(keys.events_partition(subject)), Limit=limit
        )
        return [Event.model_validate(from_dynamo(item["event"])) for item in response["Items"]]

    def all_events_of(self, subject: EntityRef) -> list[Event]:
        """Every event about an entity, oldest first (all pages; consistent reads)."""
        items = self._all_items(
            {"KeyConditionExpression": Key("PK").eq(keys.events_partition(subject)), "ConsistentRead": True}
        )
        return [Event.model_validate(from_dynamo(item["event"])) for item in items]

    def recorded_event(self, event: Event) -> Event | None:
        """The event as the table holds it now (an erasure may have rewritten it since it was
        published); None when it is not recorded, or no longer (its subject was erased). A consistent read."""
        key = _event_item(event)
        item = self.raw_item(key["PK"], key["SK"])
        return Event.model_validate(from_dynamo(item["event"])) if item else None

    def events_on_day(self, day: datetime, limit: int = 1000) -> list[Event]:
        response = self.table.query(
            IndexName=BY_TYPE.name,
            KeyConditionExpression=Key(BY_TYPE.partition_key).eq(keys.event_day_partition(day)),
            Limit=limit,
        )
        return [Event.model_validate(from_dynamo(item["event"])) for item in response["Items"]]

    def knowledge(self, subject: EntityRef, kind: str) -> dict[str, Any] | None:
        # Consistent: knowledge read to be changed and written back (a shopper's memory) must be the latest.
        response = self.table.get_item(
            Key={"PK": keys.entity_key(subject), "SK": keys.knowledge_sort_key(kind)}, ConsistentRead=True
        )
        item = response.get("Item")
        return from_dynamo(item["content"]) if item else None

    def api_keys_of(self, holder: EntityRef) -> list[str]:
        """The digests of every key the holder has."""
        arguments: dict[str, Any] = {
            "IndexName": BY_OWNER.name,
            "KeyConditionExpression": Key(BY_OWNER.partition_key).eq(
                keys.owner_partition(holder.id, keys.API_KEY_TYPE)
            ),
        }
        digests: list[str] = []
        while True:
            response = self.table.query(**arguments)
            digests += [str(item["key_hash"]) for item in response["Items"]]
            if "LastEvaluatedKey" not in response:
                return digests
            arguments["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def api_key_holder(self, key_hash: str) -> EntityRef | None:
        # Consistent: a key works from the moment it is issued and stops the moment it is revoked.
        response = self.table.get_item(
            Key={"PK": keys.api_key_partition(key_hash), "SK": keys.API_KEY_SORT_KEY}, ConsistentRead=True
        )
        item = response.get("Item")
        return EntityRef.model_validate(item["holder"]) if item else None

    def web_session(self, session_hash: str) -> WebSession | None:
        # Consistent: a session works from the moment it is opened and stops the moment it is closed.
        response = self.table.get_item(
            Key={"PK": keys.web_session_partition(session_hash), "SK": keys.WEB_SESSION_SORT_KEY},
            ConsistentRead=True,
        )
        item = response.get("Item")
        if item is None:
            return None
        return WebSession(
            holder=EntityRef.model_validate(item["holder"]),
            key_hash=str(item["key_hash"]),
            expires_at=parse_iso(str(item["expires_at"])),
        )


def _entity_item(
    ref: EntityRef,
    data: dict[str, Any],
    index: IndexEntries,
    version: int,
    created_at: datetime,
    updated_at: datetime,
) -> dict[str, Any]:
    sort = keys.time_sort_key(created_at, ref.id)
    item: dict[str, Any] = {
        "PK": keys.entity_key(ref),
        "SK": keys.ENTITY_SORT_KEY,
        BY_TYPE.partition_key: keys.type_partition(ref.dimension, ref.type, created_at),
        BY_TYPE.sort_key: sort,
        "dimension": ref.dimension.value,
        "entity_type": ref.type,
        "id": ref.id,
        "version": version,
        "created_at": iso(created_at),
        "updated_at": iso(updated_at),
        "data": data,
    }
    if index.owner_id:
        item[BY_OWNER.partition_key] = keys.owner_partition(index.owner_id, ref.type)
        item[BY_OWNER.sort_key] = sort
    if index.user_id:
        item[BY_USER.partition_key] = keys.user_partition(index.user_id, ref.type)
        item[BY_USER.sort_key] = sort
    if index.status:
        item[BY_STATUS.partition_key] = keys.status_partition(ref.type, index.status)
        item[BY_STATUS.sort_key] = sort
    if index.facet:
        item[BY_FACET.partition_key] = keys.facet_partition(ref.type, *index.facet)
        item[BY_FACET.sort_key] = sort
    if index.search_text:
        item["search_text"] = index.search_text
    return item


def _event_item(event: Event) -> dict[str, Any]:
    stamp = f"{iso(event.occurred_at)}#{event.id}"
    return {
        "PK": keys.events_partition(event.subject),
        "SK": stamp,
        BY_TYPE.partition_key: keys.event_day_partition(event.occurred_at),
        BY_TYPE.sort_key: stamp,
        "dimension": Dimension.EVENT.value,
        "event": event.model_dump(mode="json"),
    }


def _expect_version(version: int) -> dict[str, Any]:
    """The condition of an optimistic write: the item is still at the version that was read."""
    return {"ConditionExpression": "version = :expected", "ExpressionAttributeValues": {":expected": version}}


def _connection_item(connection: Connection, now: datetime) -> dict[str, Any]:
    return {
        "PK": keys.entity_key(connection.source),
        "SK": keys.connection_sort_key(connection.type, connection.target),
        INVERSE.partition_key: keys.entity_key(connection.target),
        INVERSE.sort_key: keys.connection_sort_key(connection.type, connection.source),
        "dimension": Dimension.CONNECTION.value,
        "connection_type": connection.type.value,
        "attributes": connection.attributes,
        "created_at": iso(now),
    }


def _serialize(value: dict[str, Any]) -> dict[str, Any]:
    # The resource's client marshals Python values itself; DynamoDB only needs floats as Decimals.
    result: dict[str, Any] = to_dynamo(value)
    return result


def _entity_from_item(item: dict[str, Any]) -> StoredEntity:
    return StoredEntity(
        ref=EntityRef(
            dimension=Dimension(item["dimension"]), type=str(item["entity_type"]), id=str(item["id"])
        ),
        data=from_dynamo(item["data"]),
        version=int(item["version"]),
        created_at=parse_iso(str(item["created_at"])),
        updated_at=parse_iso(str(item["updated_at"])),
        item=item,
    )


@dataclass(frozen=True)
class EntityChange:
    """One entity's change as the table's stream reports it: its new state, or None once removed."""

    ref: EntityRef
    entity: StoredEntity | None


def entity_changes(records: Sequence[Mapping[str, Any]]) -> list[EntityChange]:
    """The entity changes among DynamoDB stream records (Lambda's event shape or GetRecords').

    Edges, events, knowledge and API keys are skipped: only entity items (SK "#ENTITY") count. A
    record's images are in DynamoDB's typed JSON; several changes of one entity keep only the last.
    """
    latest: dict[EntityRef, EntityChange] = {}
    for record in records:
        change = record["dynamodb"]
        key = {name: _deserializer.deserialize(value) for name, value in change["Keys"].items()}
        if key.get("SK") != keys.ENTITY_SORT_KEY:
            continue
        ref = keys.parse_entity_key(str(key["PK"]))
        image = change.get("NewImage")
        if record["eventName"] == "REMOVE" or not image:
            latest[ref] = EntityChange(ref, None)
        else:
            item = {name: _deserializer.deserialize(value) for name, value in image.items()}
            latest[ref] = EntityChange(ref, _entity_from_item(item))
    return list(latest.values())
