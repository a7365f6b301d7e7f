"""Analytics' markers expire (DynamoDB TTL on the table's expiry attribute), so the table does not grow
forever: an applied marker 35 days after its event, a touch marker 35 days after the last event that
touched it (past EventBridge's day of retries and the archive's 30 days of replay)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from talkshop.analytics.aggregate import MARKER_LIFETIME, Aggregator
from talkshop.analytics.metrics import figures
from talkshop.analytics.model import MetricsQuery
from talkshop.data import keys
from talkshop.data.metric_items import TOUCH_REFRESH_S, MetricKey, MetricStore, Touch
from talkshop.data.repository import Repository
from talkshop.data.schema import EXPIRY_ATTRIBUTE
from talkshop.ontology.model import Dimension, EntityRef, Event, EventType

DAY = datetime(2026, 11, 24, 10, tzinfo=UTC)
LIFETIME_S = int(MARKER_LIFETIME.total_seconds())
TOUCH = Touch("chat:chs_a", "product:p1")
PRODUCT = MetricKey(DAY.date(), "product", "web", creator_id="c1", product_id="p1")


class Clock:
    def __init__(self) -> None:
        self.now = DAY.timestamp()

    def __call__(self) -> float:
        return self.now


def mention(event_id: str, at: datetime = DAY) -> Event:
    return Event(
        id=event_id,
        type=EventType.PRODUCT_MENTIONED,
        subject=EntityRef(dimension=Dimension.THING, type="conversation_session", id="chs_a"),
        occurred_at=at,
        payload={"user_id": "u1", "platform": "web", "product_id": "p1", "creator_id": "c1"},
    )


def touch_expiry(repository: Repository, touch: Touch = TOUCH) -> int:
    item = repository.raw_item(keys.metric_touch_partition(touch.subject), touch.what)
    assert item is not None
    return int(item[EXPIRY_ATTRIBUTE])


def apply(store: MetricStore, event_id: str) -> bool:
    return store.apply(
        event_id,
        {},
        {TOUCH: {PRODUCT: {"conversations": 1}}},
        DAY + MARKER_LIFETIME,
        MARKER_LIFETIME,
    )


def conversations(repository: Repository) -> int:
    found = figures(repository, MetricsQuery(start=DAY.date(), end=DAY.date()))
    return next(product.conversations for product in found.products if product.product_id == "p1")


def test_the_markers_a_counted_event_writes_carry_their_expiry(repository: Repository) -> None:
    before = int(time.time())
    Aggregator(repository).apply(mention("ev1"))
    after = int(time.time())

    applied = repository.raw_item(keys.metric_applied_partition("ev1"), keys.METRIC_APPLIED_SORT_KEY)
    assert applied is not None
    assert int(applied[EXPIRY_ATTRIBUTE]) == int(DAY.timestamp()) + LIFETIME_S
    for what in ("product:p1", "creator:c1"):
        # Counted from the time of counting: a rebuild's markers do not expire while it runs.
        assert (
            before + LIFETIME_S <= touch_expiry(repository, Touch("chat:chs_a", what)) <= after + LIFETIME_S
        )


def test_a_touch_marker_is_kept_after_the_last_event_that_touched_it(repository: Repository) -> None:
    clock = Clock()
    store = MetricStore(repository, sleep=lambda _: None, now=clock)
    assert apply(store, "ev1")
    first = touch_expiry(repository)
    assert first == int(clock.now) + LIFETIME_S

    clock.now += TOUCH_REFRESH_S / 2  # touched again within a day: not written again
    assert apply(store, "ev2")
    assert touch_expiry(repository) == first

    clock.now += 20 * 24 * 3600  # three weeks on, the chat comes back to the product
    assert apply(store, "ev3")
    assert touch_expiry(repository) == int(clock.now) + LIFETIME_S
    assert conversations(repository) == 1  # counted once, however often it came up


def test_an_expired_touch_marker_not_yet_deleted_counts_as_absent(repository: Repository) -> None:
    """TTL deletes an item some time after its expiry: until then the marker must read as gone, or the
    count would depend on when DynamoDB got round to deleting it."""
    clock = Clock()
    store = MetricStore(repository, sleep=lambda _: None, now=clock)
    assert apply(store, "ev1")
    clock.now += LIFETIME_S + 1  # the chat was quiet for longer than a marker is kept

    assert apply(store, "ev2")
    assert conversations(repository) == 2
    assert touch_expiry(repository) == int(clock.now) + LIFETIME_S


def test_a_marker_written_before_markers_expired_gets_an_expiry_when_touched(
    repository: Repository,
) -> None:
    repository.table.put_item(Item={"PK": keys.metric_touch_partition(TOUCH.subject), "SK": TOUCH.what})
    clock = Clock()
    assert apply(MetricStore(repository, sleep=lambda _: None, now=clock), "ev1")
    assert touch_expiry(repository) == int(clock.now) + LIFETIME_S


def test_the_touch_lifetime_covers_the_archive_replay_window() -> None:
    """A touch marker refreshed at most once a day still outlives a day of retries plus the archive's
    30 days (docs/analytics.md, Rebuild and replay)."""
    assert MARKER_LIFETIME - timedelta(seconds=TOUCH_REFRESH_S) >= timedelta(days=31)
