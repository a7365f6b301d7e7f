"""Rebuild the analytics from scratch: drop every metric item and marker, then count every recorded
event again, oldest first. Counting is a pure function of the events (analytics.aggregate.fold), so
the rebuilt numbers equal the live ones; a rebuild also applies a changed definition to the past.

The table keeps every event (the outbox), so the replay reads them there: a scan, for the operator's
CLI only (`talkshop analytics rebuild`), never on a request path. On AWS the bus archive can replay the
same events to the consumer instead (docs/analytics.md).
"""

from __future__ import annotations

from dataclasses import dataclass

from talkshop.analytics.aggregate import Aggregator
from talkshop.data.metric_items import MetricStore
from talkshop.data.repository import Repository


@dataclass(frozen=True)
class RebuildReport:
    dropped: int  # metric items and markers deleted
    replayed: int  # recorded events read
    counted: int  # of which counted (events of the same id recorded twice count once)

    def summary(self) -> str:
        return (
            f"dropped {self.dropped} analytics items, replayed {self.replayed} events "
            f"({self.counted} counted)"
        )


def rebuild(repository: Repository) -> RebuildReport:
    dropped = MetricStore(repository).drop_all()
    aggregator = Aggregator(repository)
    replayed = counted = 0
    for event in MetricStore(repository).recorded_events():
        replayed += 1
        counted += aggregator.apply(event)
    return RebuildReport(dropped, replayed, counted)
