"""Events folded into metric items (moto table): idempotency, first-time counts, figures computed by hand."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError
from pydantic import ValidationError

from talkshop.analytics.aggregate import MARKER_LIFETIME, Aggregator, consume, fold, latency_bucket
from talkshop.analytics.metrics import figures
from talkshop.analytics.model import MetricsQuery
from talkshop.analytics.rebuild import rebuild
from talkshop.data import keys
from talkshop.data.metric_items import MetricKey, MetricStore
from talkshop.data.repository import Repository
from talkshop.data.schema import EXPIRY_ATTRIBUTE
from talkshop.errors import Conflict
from talkshop.events.publisher import SCHEMA_VERSION, bus_entry
from talkshop.ontology.model import Dimension, EntityRef, Event, EventType

DAY = date(2026, 11, 24)
NEXT_DAY = date(2026, 11, 25)
_counter = iter(range(1, 10_000))


def _event(
    event_type: EventType, subject: str, payload: dict[str, Any], day: date = DAY, hour: int = 10
) -> Event:
    kind, _, identifier = subject.partition(":")
    return Event(
        id=f"ev{next(_counter):05d}",
        type=event_type,
        subject=EntityRef(dimension=Dimension.THING, type=kind, id=identifier),
        occurred_at=datetime(day.year, day.month, day.day, hour, tzinfo=UTC),
        payload={"user_id": "shopper-secret-id", **payload},
    )


def chat(event_type: EventType, session: str, payload: dict[str, Any], **where: Any) -> Event:
    return _event(event_type, f"conversation_session:{session}", {"platform": "web", **payload}, **where)


def order_payload(
    order_id: str, total: int, lines: list[tuple[str, str, int, int]], **extra: Any
) -> dict[str, Any]:
    return {
        "order_id": order_id,
        "total": total,
        "currency": "EUR",
        "creator_ids": sorted({line[1] for line in lines}),
        "lines": [
            {"product_id": product, "creator_id": creator, "quantity": quantity, "amount": amount}
            for product, creator, quantity, amount in lines
        ],
        **extra,
    }


def scenario() -> list[Event]:
    """Two web chats and one ChatGPT chat on DAY, a storefront visit and order; one chat order."""
    return [
        chat(EventType.CONVERSATION_STARTED, "chs_a", {}),
        chat(EventType.CONVERSATION_STARTED, "chs_b", {}),
        chat(EventType.CONVERSATION_STARTED, "chs_c", {"platform": "chatgpt"}),
        chat(
            EventType.MESSAGE_SENT,
            "chs_a",
            {
                "intent": "discover",
                "input_tokens": 100,
                "output_tokens": 50,
                "cost_usd": 0.0015,
                "latency_ms": 400,
                "products_shown": 3,
                "creator_ids": ["c1"],  # the turn's cards: c1's products
            },
        ),
        chat(
            EventType.MESSAGE_SENT,
            "chs_a",
            {
                "intent": "refine",
                "input_tokens": 200,
                "output_tokens": 20,
                "cost_usd": 0.002,
                "latency_ms": 1800,
                "products_shown": 0,
            },
        ),
        chat(EventType.MESSAGE_SENT, "chs_b", {"intent": "vague", "latency_ms": 6000, "products_shown": 0}),
        chat(EventType.QUESTION_ASKED, "chs_b", {"question": "What is your level?"}),
        chat(EventType.PRODUCT_RECOMMENDED, "chs_a", {"product_id": "p1", "creator_id": "c1"}),
        chat(EventType.PRODUCT_MENTIONED, "chs_a", {"product_id": "p1", "creator_id": "c1"}),
        chat(EventType.PRODUCT_MENTIONED, "chs_a", {"product_id": "p2", "creator_id": "c1"}),
        chat(EventType.PRODUCT_DETAILS_VIEWED, "chs_a", {"product_id": "p1", "creator_id": "c1"}),
        chat(EventType.PRODUCT_RECOMMENDED, "chs_b", {"product_id": "p1", "creator_id": "c1"}),
        _event(
            EventType.ADDED_TO_CART,
            "cart:crt_chat",
            {
                "cart_id": "crt_chat",
                "product_id": "p1",
                "creator_id": "c1",
                "session_id": "chs_a",
                "platform": "web",
            },
        ),
        _event(
            EventType.ORDER_PLACED,
            "order:ord_chat",
            order_payload("ord_chat", 9000, [("p1", "c1", 2, 9000)], order_source="conversational"),
        ),
        _event(
            EventType.ORDER_PLACED_FROM_CHAT,
            "order:ord_chat",
            order_payload("ord_chat", 9000, [("p1", "c1", 2, 9000)], platform="web", messages_count=4),
        ),
        chat(EventType.FEEDBACK_GIVEN, "chs_a", {"satisfaction": 5, "creator_ids": ["c1"]}),
        # A second rating: not counted.
        chat(EventType.FEEDBACK_GIVEN, "chs_a", {"satisfaction": 1, "creator_ids": ["c1"]}),
        chat(EventType.FEEDBACK_GIVEN, "chs_b", {"satisfaction": 2, "creator_ids": ["c1"]}),
        chat(EventType.CHAT_ABANDONED, "chs_c", {"last_step": "chatting"}),
        _event(
            EventType.STORE_VIEWED, "product:x", {"platform": "storefront", "search": False, "results": 12}
        ),
        _event(EventType.STORE_VIEWED, "product:x", {"platform": "storefront", "search": True, "results": 0}),
        _event(EventType.STORE_VIEWED, "product:x", {"platform": "storefront", "search": True, "results": 4}),
        _event(
            EventType.STORE_VIEWED, "product:x", {"platform": "storefront", "search": False, "results": 12}
        ),
        _event(
            EventType.ADDED_TO_CART,
            "cart:crt_store",
            {"cart_id": "crt_store", "product_id": "p3", "creator_id": "c2", "session_id": None},
        ),
        _event(
            EventType.ADDED_TO_CART,
            "cart:crt_store",
            {"cart_id": "crt_store", "product_id": "p2", "creator_id": "c1", "session_id": None},
        ),
        _event(
            EventType.ORDER_PLACED,
            "order:ord_store",
            order_payload(
                "ord_store", 5500, [("p3", "c2", 1, 3000), ("p2", "c1", 1, 2500)], order_source="traditional"
            ),
        ),
        chat(EventType.CONVERSATION_STARTED, "chs_d", {}, day=NEXT_DAY),
    ]


@pytest.fixture
def counted(repository: Repository) -> Repository:
    aggregator = Aggregator(repository)
    for event in scenario():
        aggregator.apply(event)
    return repository


def test_the_figures_of_a_day_are_the_hand_computed_ones(counted: Repository) -> None:
    result = figures(counted, MetricsQuery(start=DAY, end=DAY))

    assert result.conversations == 3
    assert result.messages == 3
    # The order_placed of the chat order is not counted again.
    assert (result.chat_orders, result.traditional_orders) == (1, 1)
    assert result.chat_conversion == pytest.approx(1 / 3)
    assert result.store_visits == 4
    assert result.traditional_conversion == pytest.approx(1 / 4)
    assert (result.traditional_carts, result.traditional_cart_conversion) == (1, 1.0)
    assert (result.chat_revenue, result.traditional_revenue) == (9000, 5500)
    assert (result.aov_chat, result.aov_traditional) == (9000, 5500)
    assert result.avg_messages_before_purchase == 4
    assert (result.satisfaction_avg, result.satisfaction_count) == ((5 + 2) / 2, 2)
    assert (result.input_tokens, result.output_tokens) == (300, 70)
    assert result.cost_usd == pytest.approx(0.0035)
    assert result.tokens_per_conversation == pytest.approx(370 / 3)
    assert result.cost_per_chat_order_usd == pytest.approx(0.0035)
    # 400 ms -> <=500, 1800 -> <=2000, 6000 -> <=8000: the median is in <=2000, the 95th in <=8000.
    assert (result.latency_p50_ms, result.latency_p95_ms, result.latency_samples) == (2000, 8000, 3)
    assert (result.abandoned, result.abandonment_last_step) == (1, {"chatting": 1})
    assert result.questions_asked == 1
    assert result.no_result_searches == 2  # the refine turn that showed nothing, the empty store search
    assert result.unanswered_questions == 1  # the vague turn
    assert [(day.day, day.conversations) for day in result.daily] == [(DAY, 3)]


def test_an_agents_order_is_traditional_but_not_a_storefront_conversion(repository: Repository) -> None:
    """An order an agent placed over ACP had no storefront visit nor cart: it is a traditional order,
    but counting it over the storefront's visits would inflate the shop's conversion."""
    aggregator = Aggregator(repository)
    for event in scenario():
        aggregator.apply(event)
    aggregator.apply(
        _event(
            EventType.ORDER_PLACED,
            "order:ord_agent",
            order_payload(
                "ord_agent", 4000, [("p3", "c2", 1, 4000)], order_source="traditional", agent_id="a1"
            ),
        )
    )
    result = figures(repository, MetricsQuery(start=DAY, end=DAY))

    assert (result.traditional_orders, result.traditional_revenue) == (2, 9500)
    assert result.traditional_conversion == pytest.approx(1 / 4)  # the storefront's one order, 4 visits
    assert result.traditional_cart_conversion == 1.0  # its one storefront cart
    c2 = figures(repository, MetricsQuery(start=DAY, end=DAY, creator_id="c2"))
    assert (c2.traditional_orders, c2.traditional_carts, c2.traditional_cart_conversion) == (2, 1, 1.0)


def test_tokens_per_order_and_which_figures_a_scoped_query_counts(counted: Repository) -> None:
    whole = figures(counted, MetricsQuery(start=DAY, end=DAY))
    assert whole.tokens_per_chat_order == 370  # 370 tokens, one chat order
    assert (whole.chat_figures_scope, whole.search_figures_counted) == ("all", True)
    assert whole.model_dump()["tokens_per_chat_order"] == 370  # in the JSON API too
    assert (
        figures(counted, MetricsQuery(start=DAY, end=DAY, platform="chatgpt")).tokens_per_chat_order is None
    )
    scopes = {
        "creator": MetricsQuery(start=DAY, end=DAY, creator_id="c1"),
        "creator's product": MetricsQuery(start=DAY, end=DAY, creator_id="c1", product_id="p1"),
        "product alone": MetricsQuery(start=DAY, end=DAY, product_id="p1"),
    }
    found = {name: figures(counted, query).model_dump() for name, query in scopes.items()}
    assert {name: data["chat_figures_scope"] for name, data in found.items()} == {
        "creator": "creator",
        "creator's product": "creator",
        "product alone": "none",
    }
    assert not any(data["search_figures_counted"] for data in found.values())


def test_a_creators_chat_figures_count_the_turns_and_chats_that_named_them(counted: Repository) -> None:
    """c1's products were on chs_a's first turn, and came up in chs_a and chs_b, both rated; chs_c
    (abandoned) never showed a product: it is nobody's."""
    mine = figures(counted, MetricsQuery(start=DAY, end=DAY, creator_id="c1"))

    assert (mine.messages, mine.input_tokens, mine.output_tokens) == (1, 100, 50)
    assert mine.cost_usd == pytest.approx(0.0015)
    assert mine.cost_per_conversation_usd == pytest.approx(0.0015 / 2)  # their 2 conversations
    assert (mine.tokens_per_conversation, mine.tokens_per_chat_order) == (75, 150)  # their 1 chat order
    assert mine.cost_per_chat_order_usd == pytest.approx(0.0015)
    assert (mine.latency_p50_ms, mine.latency_p95_ms, mine.latency_samples) == (500, 500, 1)
    assert (mine.satisfaction_avg, mine.satisfaction_count) == (3.5, 2)  # chs_a's first rating, chs_b's
    assert (mine.abandoned, mine.abandonment_last_step) == (0, {})
    # Searches that found nothing and unanswered questions show no product: nobody's.
    assert (mine.no_result_searches, mine.unanswered_questions, mine.questions_asked) == (0, 0, 0)
    assert [d.messages for d in mine.daily] == [1]
    assert mine.daily[0].cost_usd == pytest.approx(0.0015)
    other = figures(counted, MetricsQuery(start=DAY, end=DAY, creator_id="c2"))
    assert (other.messages, other.cost_usd, other.satisfaction_count, other.latency_p50_ms) == (0, 0, 0, None)


def test_a_products_chat_figures_are_its_creators(counted: Repository) -> None:
    """A turn, a rating, an abandoned chat is counted per creator, not per product: a product's query
    with its creator reads the creator's chat figures (ratios over the creator's conversations and
    orders); without its creator, none (not a misleading 0 per conversation)."""
    product = figures(counted, MetricsQuery(start=DAY, end=DAY, creator_id="c1", product_id="p2"))
    creator = figures(counted, MetricsQuery(start=DAY, end=DAY, creator_id="c1"))

    assert (product.conversations, product.chat_orders) == (1, 0)  # p2's own
    assert (product.messages, product.satisfaction_avg, product.cost_per_conversation_usd) == (
        creator.messages,
        creator.satisfaction_avg,
        creator.cost_per_conversation_usd,
    )
    assert product.cost_per_chat_order_usd == pytest.approx(0.0015)  # c1's chat order, not p2's none
    assert product.creators == []  # the product's figures list no creator rows
    assert [d.messages for d in product.daily] == [1]
    alone = figures(counted, MetricsQuery(start=DAY, end=DAY, product_id="p2"))
    assert (alone.messages, alone.satisfaction_count, alone.cost_per_conversation_usd) == (0, 0, None)
    assert [d.messages for d in alone.daily] == [0]


def test_products_count_views_clicks_purchases_and_their_rates(counted: Repository) -> None:
    products = {p.product_id: p for p in figures(counted, MetricsQuery(start=DAY, end=NEXT_DAY)).products}

    p1 = products["p1"]
    assert (p1.conversations, p1.mentions, p1.recommendations, p1.details_views) == (2, 1, 2, 1)
    assert (p1.chat_cart_adds, p1.chat_purchases, p1.units_sold, p1.revenue) == (1, 1, 2, 9000)
    assert (p1.view_to_click, p1.click_to_purchase, p1.recommendation_to_purchase) == (1.0, 1.0, 0.5)
    p2 = products["p2"]
    assert (p2.conversations, p2.mentions, p2.traditional_cart_adds, p2.traditional_purchases) == (1, 1, 1, 1)
    assert p2.view_to_click is None  # never viewed in a chat: no rate rather than a made-up 0
    assert list(products) == ["p1", "p3", "p2"]  # by revenue


def test_a_creator_sees_the_chats_orders_and_revenue_of_their_own_products(counted: Repository) -> None:
    mine = figures(counted, MetricsQuery(start=DAY, end=DAY, creator_id="c1"))

    assert mine.conversations == 2  # chs_a and chs_b reached c1's products (chs_a three times: once)
    assert (mine.chat_orders, mine.traditional_orders) == (1, 1)
    assert (mine.chat_revenue, mine.traditional_revenue) == (9000, 2500)  # their lines only
    assert mine.traditional_carts == 1
    assert {p.product_id for p in mine.products} == {"p1", "p2"}
    assert mine.store_visits == 0  # the storefront's visits are nobody's
    # Their chat order came after 4 messages: their own average, not a made-up 0.
    assert mine.avg_messages_before_purchase == 4
    assert (
        figures(counted, MetricsQuery(start=DAY, end=DAY, product_id="p1")).avg_messages_before_purchase == 4
    )
    # No chat order of theirs: not available rather than 0.
    assert (
        figures(counted, MetricsQuery(start=DAY, end=DAY, product_id="p3")).avg_messages_before_purchase
        is None
    )
    other = figures(counted, MetricsQuery(start=DAY, end=DAY, creator_id="c2"))
    assert (other.conversations, other.traditional_revenue, [p.product_id for p in other.products]) == (
        0,
        3000,
        ["p3"],
    )


def test_filters_by_product_and_platform(counted: Repository) -> None:
    one = figures(counted, MetricsQuery(start=DAY, end=DAY, product_id="p1"))
    assert (one.conversations, one.chat_orders, one.chat_revenue) == (2, 1, 9000)
    assert [p.product_id for p in one.products] == ["p1"]
    chatgpt = figures(counted, MetricsQuery(start=DAY, end=DAY, platform="chatgpt"))
    assert (chatgpt.conversations, chatgpt.chat_orders, chatgpt.abandoned) == (1, 0, 0)
    web = figures(counted, MetricsQuery(start=DAY, end=DAY, platform="web"))
    assert (web.conversations, web.chat_orders, web.store_visits) == (2, 1, 0)


def test_daily_series_cover_every_day_of_the_range(counted: Repository) -> None:
    result = figures(counted, MetricsQuery(start=DAY, end=date(2026, 11, 26)))
    assert [(d.day.day, d.conversations, d.chat_orders) for d in result.daily] == [
        (24, 3, 1),
        (25, 1, 0),
        (26, 0, 0),
    ]
    assert result.conversations == 4


def test_an_event_delivered_twice_counts_once(repository: Repository) -> None:
    aggregator = Aggregator(repository)
    started = chat(EventType.CONVERSATION_STARTED, "chs_x", {})

    assert aggregator.apply(started) is True
    assert aggregator.apply(started) is False
    assert figures(repository, MetricsQuery(start=DAY, end=DAY)).conversations == 1
    # The marker outlives any redelivery (a day) and archive replay (30 days), then TTL deletes it.
    marker = repository.raw_item(keys.metric_applied_partition(started.id), keys.METRIC_APPLIED_SORT_KEY)
    assert marker is not None
    assert marker[EXPIRY_ATTRIBUTE] == int((started.occurred_at + timedelta(days=35)).timestamp())


def _creator_counts(repository: Repository, creator_id: str) -> dict[str, int]:
    """The counters of a creator's item on DAY, on the web."""
    return next(
        (
            item.counts
            for item in MetricStore(repository).metrics_on(DAY, "creator", creator_id)
            if item.key.platform == "web"
        ),
        {},
    )


def test_a_turn_delivered_twice_counts_once_for_each_creator_it_named(repository: Repository) -> None:
    aggregator = Aggregator(repository)
    turn = chat(
        EventType.MESSAGE_SENT,
        "chs_x",
        {
            "input_tokens": 30,
            "output_tokens": 10,
            "cost_usd": 0.001,
            "latency_ms": 900,
            "creator_ids": ["c2", "c1"],
        },
    )

    assert aggregator.apply(turn) is True
    assert aggregator.apply(turn) is False  # redelivered
    for creator_id in ("c1", "c2"):
        assert _creator_counts(repository, creator_id) == {
            "messages": 1,
            "input_tokens": 30,
            "output_tokens": 10,
            "cost_microusd": 1000,
            "latency_samples": 1,
            "latency_le_1000": 1,
        }
    assert figures(repository, MetricsQuery(start=DAY, end=DAY)).messages == 1  # the platform's once too


def test_a_chats_rating_counts_once_per_creator_and_for_no_creator_it_does_not_name(
    repository: Repository,
) -> None:
    """The chat is rated twice: c1 (named by both) counts its first rating; c2, whose product came up
    only before the second, counts that one; c3, never in the chat, counts nothing."""
    aggregator = Aggregator(repository)
    aggregator.apply(chat(EventType.FEEDBACK_GIVEN, "chs_x", {"satisfaction": 4, "creator_ids": ["c1"]}))
    again = chat(EventType.FEEDBACK_GIVEN, "chs_x", {"satisfaction": 2, "creator_ids": ["c1", "c2"]})
    aggregator.apply(again)
    aggregator.apply(again)  # redelivered

    assert _creator_counts(repository, "c1") == {"satisfaction_sum": 4, "satisfaction_count": 1}
    assert _creator_counts(repository, "c2") == {"satisfaction_sum": 2, "satisfaction_count": 1}
    assert _creator_counts(repository, "c3") == {}
    whole = figures(repository, MetricsQuery(start=DAY, end=DAY))
    assert (whole.satisfaction_avg, whole.satisfaction_count) == (4, 1)  # the chat's first rating


def test_an_abandoned_chat_counts_once_per_creator_with_its_last_step(repository: Repository) -> None:
    aggregator = Aggregator(repository)
    aggregator.apply(chat(EventType.CHAT_ABANDONED, "chs_x", {"last_step": "cart", "creator_ids": ["c1"]}))
    # The shopper came back, then went quiet again: still one abandoned chat for c1.
    aggregator.apply(chat(EventType.CHAT_ABANDONED, "chs_x", {"last_step": "details", "creator_ids": ["c1"]}))

    assert _creator_counts(repository, "c1") == {"abandoned": 1, "abandoned_at_cart": 1}
    # A chat where no product came up is the platform's only.
    nobody = fold(chat(EventType.CHAT_ABANDONED, "chs_y", {"last_step": "started", "creator_ids": []}))
    assert {key.scope for slots in nobody.firsts.values() for key in slots} == {"total"}


def test_the_consumer_reads_the_published_detail_with_its_schema_version(repository: Repository) -> None:
    started = chat(EventType.CONVERSATION_STARTED, "chs_x", {})
    detail = json.loads(bus_entry(started, "bus")["Detail"])
    assert detail["schemaVersion"] == SCHEMA_VERSION == 1

    assert consume(repository, {"detail-type": "conversation_started", "detail": detail}) is True
    assert consume(repository, {"detail-type": "conversation_started", "detail": detail}) is False
    with pytest.raises(ValueError, match="detail"):
        consume(repository, {"detail-type": "conversation_started"})
    # A schema it does not know fails (retried, then dead-lettered) rather than being miscounted.
    later = chat(EventType.CONVERSATION_STARTED, "chs_y", {})
    detail = {**json.loads(bus_entry(later, "bus")["Detail"]), "schemaVersion": SCHEMA_VERSION + 1}
    with pytest.raises(ValueError, match="schema version"):
        consume(repository, {"detail-type": "conversation_started", "detail": detail})
    assert not MetricStore(repository).applied(later.id)


def test_metric_items_hold_no_shopper_ids_or_text(counted: Repository, table: Any) -> None:
    stored = json.dumps(table.scan()["Items"], default=str)
    assert "METRICS#" in stored
    assert "shopper-secret-id" not in stored
    assert "What is your level" not in stored


def test_opted_out_events_count_nothing() -> None:
    assert not fold(chat(EventType.CONVERSATION_STARTED, "chs_x", {"analytics_opt_out": True})).counts


def test_rebuild_from_the_recorded_events_gives_the_same_numbers(repository: Repository) -> None:
    work = repository.unit_of_work()
    for event in scenario():
        work.record_event(event)
    work.commit()
    aggregator = Aggregator(repository)
    for event in scenario_of(repository):
        aggregator.apply(event)
        aggregator.apply(event)  # redelivered
    query = MetricsQuery(start=DAY, end=NEXT_DAY)
    live = figures(repository, query)
    live_items = _items(repository)

    report = rebuild(repository)

    assert (report.replayed, report.counted) == (len(scenario()), len(scenario()))
    assert report.dropped >= len(live_items)
    assert figures(repository, query) == live
    assert _items(repository) == live_items


def scenario_of(repository: Repository) -> list[Event]:
    return list(MetricStore(repository).recorded_events())


def _items(repository: Repository) -> dict[MetricKey, dict[str, int]]:
    store = MetricStore(repository)
    return {item.key: item.counts for day in (DAY, NEXT_DAY) for item in store.metrics_on(day)}


def test_latency_buckets_and_query_validation() -> None:
    assert (latency_bucket(0), latency_bucket(250), latency_bucket(251), latency_bucket(99_999)) == (
        "latency_le_250",
        "latency_le_250",
        "latency_le_500",
        "latency_over",
    )
    with pytest.raises(ValidationError):
        MetricsQuery(start=NEXT_DAY, end=DAY)
    with pytest.raises(ValidationError):
        MetricsQuery(start=date(2025, 1, 1), end=date(2026, 1, 2))


def _conflict() -> ClientError:
    return ClientError(
        {
            "Error": {"Code": "TransactionCanceledException", "Message": "conflict"},
            "CancellationReasons": [{"Code": "None"}, {"Code": "TransactionConflict"}],
        },
        "TransactWriteItems",
    )


def test_a_collision_with_a_concurrent_count_is_retried_after_a_pause_and_counts_once(
    repository: Repository, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two consumers of different events adding to the same day's total item: DynamoDB cancels one
    transaction (TransactionConflict); it is tried again, after a growing jittered pause, not lost."""
    real = repository.transact
    failures = iter([_conflict(), _conflict()])

    def colliding(requests: list[dict[str, Any]]) -> None:
        failure = next(failures, None)
        if failure is not None:
            raise failure
        real(requests)

    monkeypatch.setattr(repository, "transact", colliding)
    pauses: list[float] = []
    store = MetricStore(repository, sleep=pauses.append)
    started = chat(EventType.CONVERSATION_STARTED, "chs_x", {})
    key = MetricKey(DAY, "total", "web")

    assert (
        store.apply(started.id, {key: {"conversations": 1}}, {}, started.occurred_at, MARKER_LIFETIME) is True
    )
    assert len(pauses) == 2
    assert all(pause >= 0 for pause in pauses)
    assert (
        store.apply(started.id, {key: {"conversations": 1}}, {}, started.occurred_at, MARKER_LIFETIME)
        is False
    )
    assert figures(repository, MetricsQuery(start=DAY, end=DAY)).conversations == 1


def test_a_count_that_keeps_colliding_fails_the_delivery_rather_than_dropping_it(
    repository: Repository, monkeypatch: pytest.MonkeyPatch
) -> None:
    def always(requests: list[dict[str, Any]]) -> None:
        raise _conflict()

    monkeypatch.setattr(repository, "transact", always)
    store = MetricStore(repository, sleep=lambda _: None)
    started = chat(EventType.CONVERSATION_STARTED, "chs_x", {})
    with pytest.raises(Conflict):
        store.apply(
            started.id,
            {MetricKey(DAY, "total", "web"): {"conversations": 1}},
            {},
            started.occurred_at,
            MARKER_LIFETIME,
        )
    assert not store.applied(started.id)


def test_an_order_of_more_items_than_a_transaction_holds_counts_once_even_if_cut_short(
    repository: Repository, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cart of 50 products of 50 creators names 102 metric items (total, 50 creators, 50 products and
    the marker): more than one transaction's 100. It is written in parts, each added once."""
    lines = [(f"p{n}", f"c{n}", 1, 100) for n in range(50)]
    placed = _event(
        EventType.ORDER_PLACED_FROM_CHAT,
        "order:ord_big",
        order_payload(
            "ord_big", 5000, lines, platform="web", messages_count=3, order_source="conversational"
        ),
    )
    real = repository.transact
    calls: list[int] = []

    def cut_after_the_first_part(requests: list[dict[str, Any]]) -> None:
        calls.append(len(requests))
        if len(calls) == 2:
            raise RuntimeError("the function timed out")
        real(requests)

    monkeypatch.setattr(repository, "transact", cut_after_the_first_part)
    with pytest.raises(RuntimeError):
        Aggregator(repository).apply(placed)
    monkeypatch.setattr(repository, "transact", real)

    assert Aggregator(repository).apply(placed) is True  # the redelivery finishes it
    assert Aggregator(repository).apply(placed) is False
    assert all(size <= 100 for size in calls)
    whole = figures(repository, MetricsQuery(start=DAY, end=DAY))
    assert (whole.chat_orders, whole.chat_revenue, whole.avg_messages_before_purchase) == (1, 5000, 3)
    assert [(c.chat_orders, c.chat_revenue) for c in whole.creators] == [(1, 100)] * 50
    assert sorted((p.chat_purchases, p.revenue) for p in whole.products) == [(1, 100)] * 50
