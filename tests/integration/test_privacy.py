"""A shopper's own data on moto: GET /api/me/export, DELETE /api/me and the analytics opt-out
(PUT /api/me/analytics), who may call them, what an erasure keeps (anonymised orders) and that one
cut short is finished by asking again."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from talkshop.advisor.store import ConversationStore, customer_ref, session_ref
from talkshop.analytics.aggregate import Aggregator
from talkshop.analytics.metrics import figures
from talkshop.analytics.model import MetricsQuery
from talkshop.analytics.rebuild import rebuild
from talkshop.auth import Principal, PrincipalKind
from talkshop.commerce.model import Address, CheckoutRecord
from talkshop.commerce.webhooks import (
    SUBSCRIBABLE_EVENTS,
    EndpointRequest,
    WebhookService,
    deliveries_for,
    redacted_body,
)
from talkshop.data import keys
from talkshop.data.repository import Repository, UnitOfWork
from talkshop.data.schema import BY_FACET
from talkshop.ontology.model import Dimension, EntityRef, Event, EventType
from talkshop.privacy import TOMBSTONE_PREFIX, AnalyticsConsent, ShopperData
from tests.chat_history_fakes import Shop, Shopper, shop_products
from tests.conftest import ADMIN_KEY, table_snapshot
from tests.integration.http import assert_error, call

SELLER = "padelnest"  # the creator of the shop's products (cafe-grip)
ADDRESS = Address(name="Ana Pérez", line1="Calle Mayor 1", city="Madrid", postal_code="28013", country="ES")


@pytest.fixture
def shop(repository: Repository) -> Shop:
    return Shop(repository, shop_products(repository))


def naming(table: Any, *needles: str) -> list[dict[str, Any]]:
    """Every item of the table that contains one of the strings anywhere (keys, data, events)."""
    return [
        item
        for item in table_snapshot(table)
        if any(needle in json.dumps(item, default=str) for needle in needles)
    ]


def user_of(shopper: Shopper) -> str:
    assert shopper.principal.person_id is not None
    return shopper.principal.person_id


def event(user_id: str | None, **payload: Any) -> Event:
    return Event(
        id="e1",
        type=EventType.MESSAGE_SENT,
        subject=EntityRef(dimension=Dimension.THING, type="conversation_session", id="chs_1"),
        occurred_at=datetime(2026, 5, 1, tzinfo=UTC),
        payload={**({"user_id": user_id} if user_id else {}), **payload},
    )


def test_the_export_holds_the_shoppers_chats_orders_carts_memory_and_events(shop: Shop) -> None:
    ana, chat = shop.new_shopper()
    shop.send(ana, chat, "aero-lite fjord-round")
    order_id = shop.buy(ana, chat, "cafe-grip", ADDRESS)
    other_chat = shop.new_chat(ana)
    bob, bobs_chat = shop.new_shopper()

    exported = call("GET", "/api/me/export", ana.token)

    assert exported.status == 200, exported.body
    assert exported.headers["Cache-Control"] == "no-store"
    assert "attachment" in exported.headers["Content-Disposition"]
    data = exported.json()
    assert data["shopper"]["id"] == user_of(ana)
    assert data["analyticsEnabled"] is True
    assert {c["id"] for c in data["chats"]} == {chat, other_chat}
    (bought_in,) = [c for c in data["chats"] if c["id"] == chat]
    assert [m["content"] for m in bought_in["messages"] if m["role"] == "user"] == [
        "aero-lite fjord-round",
        "buy cafe-grip",
    ]
    assert [o["id"] for o in data["orders"]] == [order_id]
    assert data["orders"][0]["address"]["city"] == "Madrid"
    assert len(data["carts"]) == 1
    assert len(data["checkouts"]) == 1
    assert {r["product_id"] for r in data["recommendations"]} >= {"aero-lite", "fjord-round"}
    assert data["memory"]["sessions"] == 2
    types = {e["type"] for e in data["events"]}
    assert {"conversation_started", "message_sent", "added_to_cart", "order_placed"} <= types
    assert bobs_chat not in exported.body.decode()
    assert user_of(bob) not in exported.body.decode()
    # The web client's cookie reaches the same data.
    assert call("GET", "/api/me/export", headers=ana.cookie).json()["shopper"]["id"] == user_of(ana)


def test_the_export_holds_the_discount_code_events_and_uses_that_name_the_shopper(
    shop: Shop, table: Any
) -> None:
    """A `discount_applied` event is filed under the code, among every shopper's uses of it."""
    ana, chat = shop.new_shopper()
    order_id = shop.buy(ana, chat, "cafe-grip", ADDRESS)
    bob, bobs_chat = shop.new_shopper()
    shop.buy(bob, bobs_chat, "cafe-grip", ADDRESS)

    exported = call("GET", "/api/me/export", ana.token)

    data = exported.json()
    exported_events = {e["id"] for e in data["events"]}
    events_naming_her = {item["event"]["id"] for item in naming(table, user_of(ana)) if "event" in item}
    assert events_naming_her <= exported_events
    (applied,) = [e for e in data["events"] if e["type"] == "discount_applied"]
    assert (applied["payload"]["order_id"], applied["payload"]["code"]) == (order_id, "SPRING5")
    assert data["discountUses"] == {"SPRING5": 1}
    assert user_of(bob) not in exported.body.decode()


def test_only_a_shoppers_own_token_reaches_their_data(shop: Shop, table: Any) -> None:
    shop.new_shopper()
    before = table_snapshot(table)
    for method, path in (("GET", "/api/me/export"), ("DELETE", "/api/me"), ("GET", "/api/me/analytics")):
        assert_error(call(method, path), 401, "missing_credentials")
        assert_error(call(method, path, ADMIN_KEY), 403, "not_a_shopper")
        assert_error(call(method, path, "tsh_not-a-token"), 401, "invalid_credentials")
    assert_error(call("PUT", "/api/me/analytics", ADMIN_KEY, {"enabled": False}), 403, "not_a_shopper")
    assert table_snapshot(table) == before


def test_a_shopper_opts_out_of_analytics_and_back_in(shop: Shop, repository: Repository) -> None:
    ana, _ = shop.new_shopper()
    bob, _ = shop.new_shopper()
    assert call("GET", "/api/me/analytics", ana.token).json() == {"enabled": True}

    answer = call("PUT", "/api/me/analytics", ana.token, {"enabled": False})

    assert answer.status == 200, answer.body
    assert answer.json() == {"enabled": False}
    assert call("GET", "/api/me/analytics", ana.token).json() == {"enabled": False}
    stored = repository.get(customer_ref(user_of(ana)))
    assert stored is not None
    assert stored.data["analytics_opt_out"] is True
    consent = AnalyticsConsent(repository)
    ana_event, bob_event, catalog_event = event(user_of(ana)), event(user_of(bob)), event(None)
    assert consent.counted([ana_event, bob_event, catalog_event]) == [bob_event, catalog_event]
    assert not AnalyticsConsent(repository).allows(ana_event)
    assert not consent.allows(event(user_of(bob), analytics_opt_out=True))  # flagged by its producer
    assert consent.counted_shoppers([user_of(ana), user_of(bob), "usr_unknown"]) == {
        user_of(bob),
        "usr_unknown",
    }

    version = stored.version
    assert call("PUT", "/api/me/analytics", ana.token, {"enabled": False}).status == 200
    unchanged = repository.get(customer_ref(user_of(ana)))
    assert unchanged is not None
    assert unchanged.version == version
    assert call("PUT", "/api/me/analytics", ana.token, {"enabled": True}).json() == {"enabled": True}
    assert AnalyticsConsent(repository).allows(ana_event)


@pytest.mark.parametrize("body", [{"enabled": "perhaps"}, {}, {"enabled": False, "extra": 1}])
def test_a_malformed_choice_is_refused(shop: Shop, body: dict[str, Any]) -> None:
    ana, _ = shop.new_shopper()
    assert call("PUT", "/api/me/analytics", ana.token, body).status == 422
    assert call("GET", "/api/me/analytics", ana.token).json() == {"enabled": True}


def test_erasure_removes_the_shopper_and_keeps_their_orders_anonymised(
    shop: Shop, repository: Repository, table: Any
) -> None:
    ana, chat = shop.new_shopper()
    shop.send(ana, chat, "aero-lite fjord-round")
    order_id = shop.buy(ana, chat, "cafe-grip", ADDRESS)
    shop.new_chat(ana)
    bob, bobs_chat = shop.new_shopper()
    shop.send(bob, bobs_chat, "aero-lite")
    bobs_items = naming(table, user_of(bob))
    ana_id = user_of(ana)
    assert naming(table, ana_id)

    erased = call("DELETE", "/api/me", ana.token)

    assert erased.status == 204, erased.body
    assert "Max-Age=0" in erased.headers["Set-Cookie"]
    assert naming(table, ana_id, "Calle Mayor") == []
    # The chat is gone; only the kept order (and its events) still says which chat sold it.
    assert {item["PK"] for item in naming(table, chat)} == {
        f"THING#order#{order_id}",
        f"EVENTS#THING#order#{order_id}",
    }
    assert_error(call("GET", "/api/me/export", ana.token), 401, "invalid_credentials")
    assert_error(call("DELETE", "/api/me", ana.token), 401, "invalid_credentials")
    order = call("GET", f"/api/orders/{order_id}", ADMIN_KEY).json()
    assert order["userId"].startswith(TOMBSTONE_PREFIX)
    assert order["address"] is None
    assert order["total"] > 0
    assert order["lines"][0]["productId"] == "cafe-grip"
    order_events = repository.all_events_of(EntityRef(dimension=Dimension.THING, type="order", id=order_id))
    assert {e.type for e in order_events} >= {EventType.ORDER_PLACED}
    assert {e.payload["user_id"] for e in order_events} == {order["userId"]}
    assert naming(table, user_of(bob)) == bobs_items  # another shopper's data is untouched


def test_an_erasure_cut_short_is_finished_by_asking_again(
    shop: Shop, table: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    ana, chat = shop.new_shopper()
    shop.buy(ana, chat, "cafe-grip", ADDRESS)
    anonymise = ShopperData._anonymise_orders

    def crash(self: ShopperData, *args: Any) -> None:
        raise RuntimeError("the function timed out")

    monkeypatch.setattr(ShopperData, "_anonymise_orders", crash)
    assert call("DELETE", "/api/me", ana.token).status == 500
    assert call("GET", "/api/me/export", ana.token).json()["chats"] == []  # chats already gone

    monkeypatch.setattr(ShopperData, "_anonymise_orders", anonymise)
    assert call("DELETE", "/api/me", ana.token).status == 204
    assert naming(table, user_of(ana), "Calle Mayor") == []


def test_an_erasure_cut_short_after_the_orders_still_reaches_the_discount_codes_they_used(
    shop: Shop, repository: Repository, table: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    ana, chat = shop.new_shopper()
    order_id = shop.buy(ana, chat, "cafe-grip", ADDRESS)
    order = call("GET", f"/api/orders/{order_id}", ADMIN_KEY).json()
    assert order["discountCode"] == "SPRING5"  # the discount_applied event names the shopper
    erase_counter = UnitOfWork.erase_counter
    crashes = iter([RuntimeError("the function timed out")])

    def crash_once(self: UnitOfWork, *args: Any, **kwargs: Any) -> None:
        failure = next(crashes, None)
        if failure is not None:
            raise failure
        erase_counter(self, *args, **kwargs)

    monkeypatch.setattr(UnitOfWork, "erase_counter", crash_once)
    assert call("DELETE", "/api/me", ana.token).status == 500
    assert call("DELETE", "/api/me", ana.token).status == 204
    assert naming(table, user_of(ana), "Calle Mayor") == []


@pytest.mark.parametrize(
    ("owner", "step"),
    [
        (ShopperData, "_anonymise_orders"),  # halfway through
        (Repository, "api_keys_of"),  # the last read before the last transaction
    ],
)
def test_a_chat_started_during_the_erasure_makes_it_fail_until_sent_again(
    shop: Shop, table: Any, monkeypatch: pytest.MonkeyPatch, owner: type, step: str
) -> None:
    """Another tab of Ana's chats while her erasure runs (her token still works): the erasure must not
    answer 204 and leave that chat behind; her token keeps working, and asking again erases it."""
    ana, chat = shop.new_shopper()
    shop.buy(ana, chat, "cafe-grip", ADDRESS)
    original = getattr(owner, step)
    chats_started_meanwhile = iter([True])

    def chatting_meanwhile(*args: Any) -> Any:
        if next(chats_started_meanwhile, False):
            shop.send(ana, shop.new_chat(ana), "my name is Ana Perez, is aero-lite good for me?")
        return original(*args)

    monkeypatch.setattr(owner, step, chatting_meanwhile)
    assert_error(call("DELETE", "/api/me", ana.token), 409, "concurrent_update")
    assert call("GET", "/api/me/export", ana.token).status == 200  # the token works: she can ask again

    assert call("DELETE", "/api/me", ana.token).status == 204
    assert naming(table, user_of(ana), "Ana Perez", "Calle Mayor") == []


def test_an_erasure_looks_for_chats_again_before_its_last_step(
    shop: Shop, table: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A chat started just before the erasure may be missing from the index that lists a shopper's
    chats (it lags the table): the erasure lists them again at the end."""
    ana, chat = shop.new_shopper()
    shop.send(ana, chat, "my name is Ana Perez")
    sessions_of = ConversationStore.sessions_of
    lagging = iter([True])

    def index_lagging_once(self: ConversationStore, user_id: str, **page: Any) -> Any:
        listed = sessions_of(self, user_id, **page)
        return replace(listed, sessions=[]) if next(lagging, False) else listed

    monkeypatch.setattr(ConversationStore, "sessions_of", index_lagging_once)
    assert call("DELETE", "/api/me", ana.token).status == 204
    assert naming(table, user_of(ana), "Ana Perez") == []


def test_an_erasure_waits_for_a_running_checkout(shop: Shop, repository: Repository, table: Any) -> None:
    ana, _ = shop.new_shopper()
    work = repository.unit_of_work()
    running = CheckoutRecord(
        id="chk_running",
        cart_id="crt_1",
        user_id=user_of(ana),
        shipping_option="standard",
        created_at=datetime(2026, 5, 1, tzinfo=UTC),
    )
    shop.steps.store.checkouts.stage_create(work, running, running.created_at)
    work.commit()
    before = table_snapshot(table)

    assert_error(call("DELETE", "/api/me", ana.token), 409, "checkout_in_progress")
    assert table_snapshot(table) == before


def test_the_history_page_offers_the_download_and_the_erasure(shop: Shop, table: Any) -> None:
    ana, chat = shop.new_shopper()
    shop.send(ana, chat, "aero-lite")
    form = {"Content-Type": "application/x-www-form-urlencoded", **ana.cookie}

    history = call("GET", "/history", headers=ana.cookie).body.decode()
    assert 'href="/api/me/export"' in history
    assert 'href="/history/erase"' in history
    confirmation = call("GET", "/history/erase", headers=ana.cookie)
    assert confirmation.status == 200
    assert 'action="/history/erase"' in confirmation.body.decode()
    cross_site = call("POST", "/history/erase", raw=b"", headers={**form, "Origin": "https://evil.example"})
    assert cross_site.status == 403
    assert naming(table, user_of(ana))

    erased = call("POST", "/history/erase", raw=b"", headers=form)

    assert erased.status == 303
    assert erased.headers["Location"] == "/history?erased=1"
    assert "Max-Age=0" in erased.headers["Set-Cookie"]
    assert naming(table, user_of(ana), chat) == []
    assert "All your data was deleted" in call("GET", "/history", query="erased=1").body.decode()


def test_the_analytics_consumer_counts_nothing_of_a_shopper_who_opted_out(
    shop: Shop, repository: Repository, table: Any
) -> None:
    ana, ana_chat = shop.new_shopper()
    _, bob_chat = shop.new_shopper()
    assert call("PUT", "/api/me/analytics", ana.token, {"enabled": False}).status == 200
    aggregator = Aggregator(repository)

    def metric_items() -> list[dict[str, Any]]:
        return [item for item in table_snapshot(table) if str(item["PK"]).startswith("METRICS#")]

    (ana_started,) = repository.all_events_of(session_ref(ana_chat))
    assert aggregator.apply(ana_started)
    assert metric_items() == []
    assert not aggregator.apply(ana_started)  # marked applied: a redelivery counts nothing either

    (bob_started,) = repository.all_events_of(session_ref(bob_chat))
    assert aggregator.apply(bob_started)
    assert metric_items() != []


def test_the_orders_of_a_shopper_who_opted_out_stay_out_of_analytics_after_the_erasure(
    shop: Shop, repository: Repository
) -> None:
    """The erasure leaves no person record to hold the choice: the anonymised events carry it."""
    ana, chat = shop.new_shopper()
    assert call("PUT", "/api/me/analytics", ana.token, {"enabled": False}).status == 200
    order_id = shop.buy(ana, chat, "cafe-grip", ADDRESS)
    bob, bobs_chat = shop.new_shopper()
    shop.buy(bob, bobs_chat, "cafe-grip", ADDRESS)
    today = datetime.now(UTC).date()

    assert call("DELETE", "/api/me", ana.token).status == 204
    rebuild(repository)

    rebuilt = figures(repository, MetricsQuery(start=today, end=today))
    assert (rebuilt.chat_orders, rebuilt.traditional_orders) == (1, 0)  # Bob's only
    kept = repository.all_events_of(EntityRef(dimension=Dimension.THING, type="order", id=order_id))
    assert kept
    assert all(e.payload["analytics_opt_out"] is True for e in kept)


def register_seller_endpoint(repository: Repository) -> None:
    """An endpoint of the shop's seller subscribed to every order event (deliveries are planned, not sent)."""
    webhooks = WebhookService(
        repository, lambda delivery_ids: None, resolve=lambda host, port: ["93.184.216.34"]
    )
    webhooks.register(
        EndpointRequest(url="https://hooks.example.com/talkshop", event_types=sorted(SUBSCRIBABLE_EVENTS)),
        Principal(PrincipalKind.CREATOR, SELLER),
    )


def test_erasure_redacts_our_stored_webhook_deliveries_which_the_export_lists(
    shop: Shop, repository: Repository, table: Any
) -> None:
    """Our stored copy of each webhook that carried the shopper's order events names them until the
    erasure: the export lists these copies (and who received them), the erasure rewrites them with the
    order's tombstone, also a copy stored before deliveries were listed by their event."""
    ana, chat = shop.new_shopper()
    register_seller_endpoint(repository)
    order_id = shop.buy(ana, chat, "cafe-grip", ADDRESS)
    order_ref = EntityRef(dimension=Dimension.THING, type="order", id=order_id)
    delivered = {
        d for event in repository.all_events_of(order_ref) for d in deliveries_for(event, repository)
    }
    assert len(delivered) >= 2  # order_placed and order_placed_from_chat
    legacy = sorted(delivered)[0]
    legacy_ref = EntityRef(dimension=Dimension.THING, type="webhook_delivery", id=legacy)
    table.update_item(
        Key={"PK": keys.entity_key(legacy_ref), "SK": keys.ENTITY_SORT_KEY},
        UpdateExpression=f"REMOVE {BY_FACET.partition_key}, {BY_FACET.sort_key}",
    )
    ana_id = user_of(ana)

    copies = call("GET", "/api/me/export", ana.token).json()["webhookDeliveries"]
    assert {copy["id"] for copy in copies} == delivered
    assert {(copy["recipient_kind"], copy["recipient_id"]) for copy in copies} == {("creator", SELLER)}
    assert all(json.loads(copy["body"])["data"]["user_id"] == ana_id for copy in copies)

    assert call("DELETE", "/api/me", ana.token).status == 204

    assert naming(table, ana_id, "Calle Mayor") == []
    tombstone = call("GET", f"/api/orders/{order_id}", ADMIN_KEY).json()["userId"]
    stored = repository.get_many(
        [EntityRef(dimension=Dimension.THING, type="webhook_delivery", id=d) for d in delivered]
    )
    assert len(stored) == len(delivered)
    assert {json.loads(item.data["body"])["data"]["user_id"] for item in stored.values()} == {tombstone}


def test_a_redacted_body_replaces_the_shoppers_id_everywhere_and_drops_their_address() -> None:
    body = json.dumps(
        {
            "id": "e1",
            "data": {"user_id": "usr_ana", "address": {"city": "Madrid"}, "lines": [{"by": "usr_ana"}]},
        },
        separators=(",", ":"),
    )
    assert json.loads(redacted_body(body, "usr_ana", "erased_1")) == {
        "id": "e1",
        "data": {"user_id": "erased_1", "lines": [{"by": "erased_1"}]},
    }
    acp = '{"type":"order_create","data":{"id":"ord_1", "status":"confirmed"}}'
    assert redacted_body(acp, "usr_ana", "erased_1") == acp  # names no shopper: left as sent


def test_a_webhook_planned_after_the_erasure_sends_the_anonymised_event(
    shop: Shop, repository: Repository, table: Any
) -> None:
    """EventBridge hands an order event to the webhook state machine seconds after the order (or
    retries for a day): an erasure in between must not let it store the shopper's id again."""
    ana, chat = shop.new_shopper()
    register_seller_endpoint(repository)
    order_id = shop.buy(ana, chat, "cafe-grip", ADDRESS)
    published = repository.all_events_of(EntityRef(dimension=Dimension.THING, type="order", id=order_id))
    assert call("DELETE", "/api/me", ana.token).status == 204

    planned = [delivery for event in published for delivery in deliveries_for(event, repository)]

    assert planned
    assert naming(table, user_of(ana)) == []
