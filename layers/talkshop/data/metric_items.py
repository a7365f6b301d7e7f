"""Analytics' items in the single table: metric counters, and the markers that make counting idempotent.

An event is applied in one transaction: a conditional put of its "applied" marker (absent → first time)
with the ADDs of its counters, so a second delivery of the same event fails the condition and changes
nothing. Some counts are "first time" counts (a chat reaching a product, a cart started outside a chat):
each has a touch marker of its own, put conditionally in the same transaction. Key shapes live in
:mod:`talkshop.data.keys`; docs/analytics.md describes the items.

Every marker expires (DynamoDB's TTL on EXPIRY_ATTRIBUTE), so the table does not grow forever. A touch
marker is kept for a while after the *last* event that touched it, not the first: a chat that goes on
for weeks keeps its marker, pushed back at most once a day (TOUCH_REFRESH_S) so that refreshing costs
little. A marker past its expiry that TTL has not deleted yet counts as absent, as a deleted one would.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from boto3.dynamodb.conditions import Attr, ConditionBase, Key
from botocore.exceptions import ClientError

from talkshop.data import keys
from talkshop.data.repository import MAX_TRANSACTION_ITEMS, Repository, TooManyChanges
from talkshop.data.schema import EXPIRY_ATTRIBUTE
from talkshop.data.serialization import from_dynamo
from talkshop.errors import Conflict
from talkshop.ontology.model import Dimension, Event

COUNTER_PREFIX = "c_"  # counters are top-level number attributes, apart from the keys and labels
# A transaction that collides with a concurrent one on a counter item (every event of a day and platform
# adds to its "total" item: DynamoDB cancels one of two overlapping transactions with TransactionConflict)
# is tried again after a jittered, growing pause; past the last attempt the event fails, to be retried
# by its delivery (Lambda's, then the dead-letter queue), never dropped.
APPLY_ATTEMPTS = 8
BACKOFF_BASE_S = 0.02
BACKOFF_CAP_S = 1.0
_JITTER = random.SystemRandom()
# A touch marker's expiry is pushed back when an event touches it again and its expiry is more than this
# much short of the new one: at most one extra write per marker and day.
TOUCH_REFRESH_S = 24 * 3600

Counts = Mapping[str, int]


@dataclass(frozen=True, order=True)
class MetricKey:
    """Which aggregate: a UTC day and a scope ("total", "creator" or "product") on a platform."""

    day: date
    scope: str
    platform: str
    creator_id: str | None = None
    product_id: str | None = None


@dataclass(frozen=True)
class Touch:
    """A first time, counted once: `what` happened for `subject` (e.g. a chat reached a product)."""

    subject: str
    what: str


@dataclass(frozen=True)
class StoredMetric:
    key: MetricKey
    counts: dict[str, int]


class MetricStore:
    def __init__(
        self,
        repository: Repository,
        sleep: Callable[[float], None] = time.sleep,
        now: Callable[[], float] = time.time,
    ) -> None:
        self.repository = repository
        self._sleep = sleep
        self._now = now

    def apply(
        self,
        event_id: str,
        counts: Mapping[MetricKey, Counts],
        firsts: Mapping[Touch, Mapping[MetricKey, Counts]],
        forget_after: datetime,
        keep_touches: timedelta,
    ) -> bool:
        """Add an event's counts once; False when the event was applied already. Its marker expires
        (TTL) at `forget_after`, past any redelivery or archive replay of the event; its touch markers
        `keep_touches` after now (the time of counting: a rebuild's markers do not expire mid-rebuild).

        Touches already recorded are left out (read first); one recorded by a concurrent consumer
        between the read and the write cancels the transaction, which is then tried again.

        An event naming more items than a transaction holds (an order of many creators' products)
        writes its plain counts in parts first, each with a marker of its own (so a part is added once
        however often the event comes back), then its first-time counts with the event's marker.
        """
        expiry = {EXPIRY_ATTRIBUTE: int(forget_after.timestamp())}
        adds = [self._add(key, values) for key, values in sorted(counts.items()) if any(values.values())]
        firsts_items = sum(1 + len(more) for more in firsts.values())
        if 1 + len(adds) + firsts_items > MAX_TRANSACTION_ITEMS:
            if self.applied(event_id):
                return False
            size = MAX_TRANSACTION_ITEMS - 1
            for number, start in enumerate(range(0, len(adds), size)):
                part = f"{keys.METRIC_APPLIED_SORT_KEY}#PART{number}"
                self._commit(event_id, self._marker_of(event_id, part, expiry), adds[start : start + size])
            counts = {}
        for attempt in range(APPLY_ATTEMPTS):
            if attempt:
                self._sleep(_JITTER.uniform(0, min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2**attempt)))
            now = int(self._now())
            keep_until = now + int(keep_touches.total_seconds())
            new: dict[Touch, Mapping[MetricKey, Counts]] = {}
            touch_writes = []
            for touch, more in firsts.items():
                expires = self._touch_expiry(touch, now)
                if expires is None:
                    new[touch] = more
                    touch_writes.append(self._new_touch(touch, keep_until, now))
                elif expires < keep_until - TOUCH_REFRESH_S:
                    touch_writes.append(self._kept_touch(touch, keep_until))
            merged = _merged([counts, *new.values()])
            requests = [self._marker_of(event_id, keys.METRIC_APPLIED_SORT_KEY, expiry), *touch_writes]
            requests += [
                self._add(key, values) for key, values in sorted(merged.items()) if any(values.values())
            ]
            if len(requests) > MAX_TRANSACTION_ITEMS:
                raise TooManyChanges(f"Event {event_id} touches {len(requests)} metric items.")
            try:
                self.repository.transact(requests)
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                    raise
                if self.applied(event_id):
                    return False
                continue
            return True
        raise _collided(event_id)

    def _commit(self, event_id: str, marker: dict[str, Any], adds: list[dict[str, Any]]) -> None:
        """One part of a large event's counts, once (its marker present: added already)."""
        for attempt in range(APPLY_ATTEMPTS):
            if attempt:
                self._sleep(_JITTER.uniform(0, min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2**attempt)))
            try:
                self.repository.transact([marker, *adds])
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                    raise
                if self.repository.raw_item(marker["Put"]["Item"]["PK"], marker["Put"]["Item"]["SK"]):
                    return
                continue
            return
        raise _collided(event_id)

    def _marker_of(self, event_id: str, sort: str, expiry: Mapping[str, Any]) -> dict[str, Any]:
        return self._marker(keys.metric_applied_partition(event_id), sort, expiry)

    def applied(self, event_id: str) -> bool:
        return (
            self.repository.raw_item(keys.metric_applied_partition(event_id), keys.METRIC_APPLIED_SORT_KEY)
            is not None
        )

    def _touch_expiry(self, touch: Touch, now: int) -> int | None:
        """When the touch's marker expires (0: a marker written before markers expired); None when
        there is none, or it has expired and TTL has not deleted it yet."""
        item = self.repository.raw_item(keys.metric_touch_partition(touch.subject), touch.what)
        if item is None:
            return None
        expires = int(item.get(EXPIRY_ATTRIBUTE, 0))
        return None if 0 < expires <= now else expires

    def _new_touch(self, touch: Touch, keep_until: int, now: int) -> dict[str, Any]:
        """The touch's marker, put where none is or only an expired one is left."""
        marker = self._marker(
            keys.metric_touch_partition(touch.subject), touch.what, {EXPIRY_ATTRIBUTE: keep_until}
        )
        marker["Put"]["ConditionExpression"] = "attribute_not_exists(PK) OR #expires <= :now"
        marker["Put"]["ExpressionAttributeNames"] = {"#expires": EXPIRY_ATTRIBUTE}
        marker["Put"]["ExpressionAttributeValues"] = {":now": now}
        return marker

    def _kept_touch(self, touch: Touch, keep_until: int) -> dict[str, Any]:
        """The touch's marker, kept until `keep_until` (it was touched again)."""
        return {
            "Update": {
                "TableName": self.repository.table_name,
                "Key": {"PK": keys.metric_touch_partition(touch.subject), "SK": touch.what},
                "UpdateExpression": "SET #expires = :until",
                "ConditionExpression": "attribute_exists(PK)",
                "ExpressionAttributeNames": {"#expires": EXPIRY_ATTRIBUTE},
                "ExpressionAttributeValues": {":until": keep_until},
            }
        }

    def _marker(self, partition: str, sort: str, extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
        return {
            "Put": {
                "TableName": self.repository.table_name,
                "Item": {"PK": partition, "SK": sort, **(extra or {})},
                "ConditionExpression": "attribute_not_exists(PK)",
            }
        }

    def _add(self, key: MetricKey, values: Counts) -> dict[str, Any]:
        labels = {"day": key.day.isoformat(), "scope": key.scope, "platform": key.platform}
        if key.creator_id is not None:
            labels["creator_id"] = key.creator_id
        if key.product_id is not None:
            labels["product_id"] = key.product_id
        names: dict[str, str] = {}
        attribute_values: dict[str, Any] = {}
        sets = []
        for position, (label, text) in enumerate(labels.items()):
            names[f"#l{position}"] = label
            attribute_values[f":l{position}"] = text
            sets.append(f"#l{position} = :l{position}")
        adds = []
        for position, (name, value) in enumerate(sorted(values.items())):
            if value:
                names[f"#c{position}"] = COUNTER_PREFIX + name
                attribute_values[f":c{position}"] = value
                adds.append(f"#c{position} :c{position}")
        return {
            "Update": {
                "TableName": self.repository.table_name,
                "Key": {
                    "PK": keys.metric_partition(key.day.isoformat()),
                    "SK": keys.metric_sort_key(key.scope, key.platform, key.creator_id, key.product_id),
                },
                "UpdateExpression": f"SET {', '.join(sets)} ADD {', '.join(adds)}",
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": attribute_values,
            }
        }

    def metrics_on(
        self, day: date, scope: str | None = None, creator_id: str | None = None
    ) -> list[StoredMetric]:
        """One day's items (of a scope, of one creator's when given): one key query."""
        condition: ConditionBase = Key("PK").eq(keys.metric_partition(day.isoformat()))
        if scope is not None:
            condition = condition & Key("SK").begins_with(keys.metric_sort_prefix(scope, creator_id))
        return [_metric_of(item) for item in self._all({"KeyConditionExpression": condition})]

    def drop_all(self) -> int:
        """Delete every metric item and marker (a rebuild's first step): a scan, for the CLI only."""
        dropped = 0
        condition: ConditionBase = Attr("PK").begins_with(keys.METRIC_PREFIXES[0])
        for prefix in keys.METRIC_PREFIXES[1:]:
            condition = condition | Attr("PK").begins_with(prefix)
        with self.repository.table.batch_writer() as batch:
            for item in self._all(
                {"FilterExpression": condition, "ProjectionExpression": "PK, SK"}, scan=True
            ):
                batch.delete_item(Key={"PK": item["PK"], "SK": item["SK"]})
                dropped += 1
        return dropped

    def recorded_events(self) -> Iterator[Event]:
        """Every event recorded in the table, oldest first (a rebuild's replay): a scan, for the CLI."""
        items = self._all({"FilterExpression": Attr("dimension").eq(Dimension.EVENT.value)}, scan=True)
        events = [Event.model_validate(from_dynamo(item["event"])) for item in items]
        yield from sorted(events, key=lambda event: (event.occurred_at, event.id))

    def _all(self, arguments: dict[str, Any], *, scan: bool = False) -> list[dict[str, Any]]:
        table = self.repository.table
        items: list[dict[str, Any]] = []
        while True:
            response = table.scan(**arguments) if scan else table.query(**arguments)
            items += response["Items"]
            if "LastEvaluatedKey" not in response:
                return items
            arguments["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def _collided(event_id: str) -> Conflict:
    return Conflict(f"Event {event_id} kept colliding with concurrent counts.", code="concurrent_update")


def _merged(parts: list[Mapping[MetricKey, Counts]]) -> dict[MetricKey, dict[str, int]]:
    """One update per item: a transaction may name an item only once."""
    merged: dict[MetricKey, dict[str, int]] = {}
    for part in parts:
        for key, values in part.items():
            target = merged.setdefault(key, {})
            for name, value in values.items():
                target[name] = target.get(name, 0) + value
    return merged


def _metric_of(item: Mapping[str, Any]) -> StoredMetric:
    key = MetricKey(
        day=date.fromisoformat(str(item["day"])),
        scope=str(item["scope"]),
        platform=str(item["platform"]),
        creator_id=str(item["creator_id"]) if "creator_id" in item else None,
        product_id=str(item["product_id"]) if "product_id" in item else None,
    )
    counts = {
        name[len(COUNTER_PREFIX) :]: int(value)
        for name, value in item.items()
        if name.startswith(COUNTER_PREFIX)
    }
    return StoredMetric(key, counts)
