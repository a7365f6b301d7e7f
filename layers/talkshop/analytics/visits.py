"""Storefront visits: the traditional funnel's entry, recorded as store_viewed events.

The storefront has no chat to count, so each view of the store page (browsing, or a search and how
many products it found) is an event; analytics counts them as store visits, the denominator of the
traditional conversion. Views are anonymous: no shopper, no query text.
"""

from __future__ import annotations

import uuid

from talkshop.analytics.model import STOREFRONT_PLATFORM
from talkshop.clock import Clock, utc_now
from talkshop.data.repository import Repository
from talkshop.ontology.model import Dimension, EntityRef, Event, EventType

# The marketplace stands for the storefront: store views are about the shop, not about anyone.
STOREFRONT = EntityRef(dimension=Dimension.GROUP, type="marketplace", id="talkshop")


def record_store_view(
    repository: Repository, *, searched: bool, results: int, category: str | None, clock: Clock = utc_now
) -> None:
    event = Event(
        id=uuid.uuid4().hex,
        type=EventType.STORE_VIEWED,
        subject=STOREFRONT,
        occurred_at=clock(),
        payload={
            "platform": STOREFRONT_PLATFORM,
            "search": searched,
            "results": results,
            "category": category,
        },
    )
    work = repository.unit_of_work()
    work.record_event(event)
    work.commit()
