"""`talkshop simulate` through the local runtime, and the dashboards' figures against an independent
recompute from the raw event items (issue 7's "Done when").

One simulated run (chat shoppers on four platforms, storefront shoppers, orders, declined payments,
feedback, abandoned chats) is shared by the module's checks; the determinism check makes two small
runs of its own on fresh data dirs.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from talkshop.analytics.model import STOREFRONT_PLATFORM, Figures, MetricsQuery
from talkshop.analytics.simulate import Outcome, plan, simulate_in_process
from talkshop.api import context
from talkshop.cli import main
from talkshop.local.invoke import invoke
from talkshop.local.runtime import LocalAws
from talkshop.ontology.model import Event, EventType
from talkshop.settings import get_settings
from tests.analytics_recompute import Recompute, comparable, raw_events
from tests.integration.test_checkout_local_runtime import LOCAL_AWS_VARIABLES

# The done-when's run is `TALKSHOP_SIMULATE_CONVERSATIONS=1000` (`make simulate-check`, about 15 minutes);
# CI runs 40 conversations.
CONVERSATIONS = int(os.environ.get("TALKSHOP_SIMULATE_CONVERSATIONS", "40"))
SEED = 7


@contextmanager
def local_runtime(data_dir: Path) -> Iterator[LocalAws]:
    """A LocalAws on the data dir, the environment it writes put back afterwards."""
    with pytest.MonkeyPatch.context() as patch:
        for name in LOCAL_AWS_VARIABLES:
            patch.setenv(name, "")
        patch.setenv("POWERTOOLS_LOG_LEVEL", "ERROR")
        patch.setenv("POWERTOOLS_METRICS_NAMESPACE", "TalkshopTest")
        get_settings.cache_clear()
        try:
            with LocalAws(data_dir) as aws:
                yield aws
        finally:
            context.reset()
            get_settings.cache_clear()


@dataclass
class Run:
    outcome: Outcome
    events: list[Event]
    queries: dict[str, MetricsQuery]
    dashboard: dict[str, dict[str, Any]]  # query name → the dashboards' figures, as comparable data
    recomputed: dict[str, dict[str, Any]]  # query name → the independent recompute's


def _busiest(events: list[Event], key: str) -> str:
    """The creator or product with the most order lines in the run (so its filtered query has sales)."""
    counted = Counter(
        str(line[key])
        for event in events
        if event.type in (EventType.ORDER_PLACED_FROM_CHAT, EventType.ORDER_PLACED)
        for line in event.payload.get("lines") or []
    )
    return counted.most_common(1)[0][0]


def _creator_of(events: list[Event], product_id: str) -> str:
    return next(
        str(line["creator_id"])
        for event in events
        for line in event.payload.get("lines") or []
        if line.get("product_id") == product_id
    )


def _shown(aws: LocalAws, dashboard: str, fields: dict[str, Any], outcome: Outcome) -> dict[str, Any]:
    """The figures a dashboard's JSON API answers the admin for the run's days and these filters (what the
    pages draw): /api/analytics/admin, or /api/analytics/creator for a creator's own dashboard."""
    parameters = {
        "from": outcome.first_day.isoformat(),
        "to": outcome.last_day.isoformat(),
        **{_API_FILTERS[name]: value for name, value in fields.items()},
    }
    with aws.lock:
        answer = invoke(
            "GET",
            f"/api/analytics/{dashboard}",
            query_string=urlencode(parameters),
            headers={"Authorization": f"Bearer {aws.admin_key}"},
        )
    assert answer.status == 200, answer.body
    return comparable(Figures.model_validate(json.loads(answer.body)["figures"]))


_API_FILTERS = {"creator_id": "creatorId", "product_id": "productId", "platform": "platform"}


def simulated(data_dir: Path, conversations: int, seed: int) -> Run:
    """A run on a fresh data dir, and the figures of several queries over its days from both sides: the
    dashboards' (their JSON APIs, reading metric items) and the recompute's (raw event items)."""
    with local_runtime(data_dir) as aws:
        outcome = simulate_in_process(aws, conversations, seed)
        events = raw_events(context.repository().table)
        creator, product = _busiest(events, "creator_id"), _busiest(events, "product_id")
        # name → (which dashboard, its filters)
        shown: dict[str, tuple[str, dict[str, Any]]] = {
            "whole range": ("admin", {}),
            "one creator": ("creator", {"creator_id": creator}),
            # A product's figures come with its creator's (the dashboards add it): its chat figures are
            # the creator's.
            "one product": ("admin", {"product_id": product, "creator_id": _creator_of(events, product)}),
            "one platform": ("admin", {"platform": "chatgpt"}),
            "storefront": ("admin", {"platform": STOREFRONT_PLATFORM}),
            "creator on web": ("creator", {"creator_id": creator, "platform": "web"}),
        }
        queries = {
            name: MetricsQuery(start=outcome.first_day, end=outcome.last_day, **fields)
            for name, (_, fields) in shown.items()
        }
        recompute = Recompute(events)
        dashboard = {name: _shown(aws, page, fields, outcome) for name, (page, fields) in shown.items()}
        recomputed = {name: comparable(recompute.figures(query)) for name, query in queries.items()}
    return Run(outcome, events, queries, dashboard, recomputed)


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    return simulated(tmp_path_factory.mktemp("simulate") / "data", CONVERSATIONS, SEED)


def test_the_run_drives_every_kind_of_shopper_through_the_handlers(run: Run) -> None:
    outcome = run.outcome
    assert outcome.conversations == CONVERSATIONS
    assert outcome.store_visits == plan(CONVERSATIONS, 0.3).count(True) > 0
    assert len(outcome.platforms) >= 3
    assert len(outcome.languages) >= 3
    assert outcome.chat_orders > 0
    assert outcome.store_orders > 0
    assert outcome.feedback > 0
    assert outcome.abandoned_chats == outcome.left_without_feedback > 0
    # The API refused nothing but what shoppers can cause: a declined card, stock running out.
    assert set(outcome.refused) <= {"payment_declined", "out_of_stock"}
    kinds = Counter(event.type for event in run.events)
    for kind in (
        EventType.CONVERSATION_STARTED,
        EventType.MESSAGE_SENT,
        EventType.PRODUCT_RECOMMENDED,
        EventType.PRODUCT_DETAILS_VIEWED,
        EventType.ADDED_TO_CART,
        EventType.ORDER_PLACED_FROM_CHAT,
        EventType.ORDER_PLACED,
        EventType.FEEDBACK_GIVEN,
        EventType.CHAT_ABANDONED,
        EventType.STORE_VIEWED,
    ):
        assert kinds[kind] > 0, kind


@pytest.mark.parametrize(
    "name",
    ["whole range", "one creator", "one product", "one platform", "storefront", "creator on web"],
)
def test_the_dashboards_figures_equal_the_recompute_from_the_raw_events(run: Run, name: str) -> None:
    assert run.dashboard[name] == run.recomputed[name]


def test_a_creators_chat_figures_are_their_chats_not_zeros_nor_everyones(run: Run) -> None:
    """The recompute's equality above holds for figures that say something: the busiest creator's
    turns, ratings and reply times are counted, and are fewer than the whole platform's."""
    mine, everyone = run.dashboard["one creator"], run.dashboard["whole range"]
    for name in ("messages", "satisfaction_count", "latency_samples"):
        assert 0 < mine[name] < everyone[name], name
    assert 0 < mine["abandoned"] <= everyone["abandoned"]
    assert mine["cost_per_conversation_usd"] is not None
    assert run.dashboard["one product"]["messages"] == mine["messages"]


def test_the_figures_match_what_the_shoppers_were_answered(run: Run) -> None:
    """A third account of the run: the simulator's own count of the API's answers."""
    whole = run.dashboard["whole range"]
    outcome = run.outcome
    assert whole["conversations"] == outcome.conversations
    assert whole["messages"] == outcome.chat_messages
    assert whole["chat_orders"] == outcome.chat_orders
    assert whole["chat_revenue"] == outcome.chat_revenue
    assert whole["traditional_orders"] == outcome.store_orders
    assert whole["traditional_revenue"] == outcome.store_revenue
    assert whole["satisfaction_count"] == outcome.feedback
    assert whole["abandoned"] == outcome.abandoned_chats
    assert whole["store_visits"] == outcome.store_visits
    assert {
        row["platform"]: row["conversations"] for row in whole["platforms"] if row["conversations"]
    } == dict(outcome.platforms)
    scoped = run.dashboard["one creator"]
    assert (
        0
        < scoped["chat_revenue"] + scoped["traditional_revenue"]
        <= outcome.chat_revenue + outcome.store_revenue
    )


def test_the_same_seed_gives_the_same_run_and_figures(tmp_path: Path) -> None:
    first = simulated(tmp_path / "first", 6, 11)
    second = simulated(tmp_path / "second", 6, 11)
    other = simulated(tmp_path / "other", 6, 12)

    assert second.outcome.steps == first.outcome.steps
    assert second.outcome.digest == first.outcome.digest
    assert other.outcome.digest != first.outcome.digest
    same_days = (
        first.outcome.first_day == second.outcome.first_day
        and first.outcome.last_day == second.outcome.last_day
    )
    if same_days:  # figures carry their query's dates; a run across midnight UTC compares steps only
        assert untimed(second.dashboard) == untimed(first.dashboard)


def untimed(dashboard: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Figures without the reply latencies, the one figure the wall clock decides."""
    return {
        name: {
            field: value for field, value in data.items() if field not in ("latency_p50_ms", "latency_p95_ms")
        }
        for name, data in dashboard.items()
    }


def test_plan_spreads_the_storefront_shoppers_through_the_run() -> None:
    shoppers = plan(7, 0.3)
    assert shoppers.count(False) == 7
    assert shoppers.count(True) == 3  # 3 of 10 shoppers
    assert not any(shoppers[index] and shoppers[index + 1] for index in range(len(shoppers) - 1))
    assert plan(5, 0) == [False] * 5
    with pytest.raises(ValueError, match="traditional_share"):
        plan(5, 0.95)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--conversations", "0"], "--conversations must be between 1"),
        (["--conversations", "5", "--traditional-share", "1"], "--traditional-share must be between 0"),
    ],
)
def test_simulate_refuses_bad_options_before_starting_anything(
    arguments: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["simulate", *arguments, "--data-dir", str(tmp_path / "data")]) == 2
    assert f"error (validation_error): {message}" in capsys.readouterr().err
    assert not (tmp_path / "data").exists()
