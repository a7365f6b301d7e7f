"""The commerce core on moto: carts, the checkout steps run in the state machine's order (in-process),
stock reservation under races, discount limits under concurrency, compensation after failures."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pytest

from talkshop.advisor.model import ShopperMemory
from talkshop.advisor.store import ConversationStore, customer_ref, session_ref
from talkshop.auth import ADMIN, Principal, PrincipalKind
from talkshop.catalog.model import ProductInput
from talkshop.catalog.service import CatalogService
from talkshop.commerce.carts import AddLineRequest, CartService, ChatCheckoutRequest, CreateCartRequest
from talkshop.commerce.checkout import CheckoutCommand, CheckoutRequest, CheckoutService
from talkshop.commerce.checkout_steps import FORWARD_STEPS, CheckoutState, CheckoutSteps, PaymentInstruction
from talkshop.commerce.discounts import DiscountRefused, DiscountService
from talkshop.commerce.model import CartStatus, CheckoutStatus, DiscountFields, OrderSource, OrderStatus
from talkshop.commerce.payments import PaymentDeclined, provider_from_settings
from talkshop.commerce.store import CommerceStore
from talkshop.data.repository import Repository
from talkshop.errors import Conflict, Forbidden
from talkshop.ontology.model import ConnectionType, EventType
from tests.commerce_fakes import (
    InProcessCheckoutRunner,
    add_product,
    atomic_moto,
    crashing,
    new_chat,
    new_shopper,
    stock_of,
)
from tests.conftest import table_snapshot


@dataclass
class Shop:
    repository: Repository
    store: CommerceStore
    steps: CheckoutSteps
    carts: CartService
    discounts: DiscountService
    runner: InProcessCheckoutRunner
    checkout: CheckoutService

    def shopper(self, user_id: str) -> Principal:
        new_shopper(self.repository, user_id)
        return Principal(PrincipalKind.SHOPPER, user_id)

    def cart_with(self, principal: Principal, *lines: tuple[str, int]) -> str:
        cart = self.carts.create(CreateCartRequest(), principal)
        for product_id, quantity in lines:
            self.carts.add_line(cart.id, AddLineRequest(product_id=product_id, quantity=quantity), principal)
        return cart.id

    def run(self, cart_id: str, user_id: str, token: str = "spt_test_ok", **fields: Any) -> Any:  # noqa: S107
        return self.checkout.run(
            CheckoutCommand(
                cart_id=cart_id, user_id=user_id, shipping_option="standard", payment_token=token, **fields
            )
        )


@pytest.fixture
def shop(repository: Repository) -> Shop:
    steps = CheckoutSteps(repository, provider_from_settings(repository))
    store = steps.store
    runner = InProcessCheckoutRunner(steps.table())
    return Shop(
        repository=repository,
        store=store,
        steps=steps,
        carts=steps.carts,
        discounts=steps.discounts,
        runner=runner,
        checkout=CheckoutService(store, ConversationStore(repository), runner),
    )


def event_types(repository: Repository, ref: Any) -> list[str]:
    return [event.type.value for event in repository.events_of(ref)]


def test_a_traditional_checkout_places_a_paid_order(shop: Shop) -> None:
    add_product(shop.repository, "aero", price=3000, stock=5)
    add_product(shop.repository, "grip", price=500, stock=50)
    ana = shop.shopper("ana")
    cart_id = shop.cart_with(ana, ("aero", 1), ("grip", 3))

    record = shop.run(cart_id, "ana")

    assert record.status == CheckoutStatus.COMPLETED, record.failure
    order = shop.store.orders.get(record.order_id).value  # type: ignore[union-attr]
    assert order.status == OrderStatus.PAID
    assert order.paid_at is not None
    assert (order.subtotal, order.discount, order.shipping, order.total) == (4500, 0, 495, 4995)
    assert order.order_source == OrderSource.TRADITIONAL
    assert order.conversation_id is None
    assert order.payment.provider == "test"
    assert order.payment.authorisation_id
    assert (stock_of(shop.repository, "aero"), stock_of(shop.repository, "grip")) == (4, 47)
    cart = shop.store.carts.get(cart_id).value  # type: ignore[union-attr]
    assert cart.status == CartStatus.ORDERED
    assert cart.order_id == order.id
    assert event_types(shop.repository, shop.store.orders.ref(order.id)) == ["order_placed", "order_paid"]
    assert event_types(shop.repository, shop.store.checkouts.ref(record.id)) == ["checkout_started"]
    assert shop.store.purchased_via_chat("ana") == []
    assert shop.runner.ran == list(FORWARD_STEPS)
    with pytest.raises(Conflict) as closed:
        shop.carts.add_line(cart_id, AddLineRequest(product_id="grip"), ana)
    assert closed.value.code == "cart_closed"


def test_a_chat_checkout_carries_the_offer_and_the_conversation(shop: Shop) -> None:
    add_product(shop.repository, "aero", price=6000, stock=5)
    ana = shop.shopper("ana")
    new_chat(
        shop.repository, "ana", "chs_ana", suggested=["aero"], viewed=["aero"], minutes_ago=12, messages=9
    )
    shop.discounts.create(
        DiscountFields.model_validate(
            {"code": "WELCOME10", "kind": "percent", "value": 10, "firstTimeOnly": True}
        ),
        ADMIN,
    )
    conversations = ConversationStore(shop.repository)
    work = shop.repository.unit_of_work()
    shop.store.stage_offer(work, "chs_ana", "WELCOME10", shop.steps.clock())
    conversations.stage_memory(work, ShopperMemory(user_id="ana"))
    work.commit()

    cart = shop.carts.start_from_chat(ChatCheckoutRequest(session_id="chs_ana", product_id="aero"), ana)
    assert cart.discount_code == "WELCOME10"
    assert cart.session_id == "chs_ana"
    preview = shop.carts.view(cart).quote
    assert preview is not None
    assert preview.discount == 600
    assert preview.saving_text == "You saved €6.00"

    record = shop.run(cart.id, "ana", session_id="chs_ana")

    assert record.status == CheckoutStatus.COMPLETED, record.failure
    order = shop.store.orders.get(record.order_id).value  # type: ignore[union-attr]
    assert order.order_source == OrderSource.CONVERSATIONAL
    assert (order.conversation_id, order.conversation_platform, order.messages_count) == ("chs_ana", "web", 9)
    assert 12 * 60 <= (order.conversation_duration or 0) < 13 * 60
    assert order.product_recommended_in_chat
    assert order.reviewed_product_details_in_chat
    assert order.discount_applied_from_chat
    assert order.discount_code == "WELCOME10"
    assert (order.discount, order.total) == (600, 5400)
    session = conversations.get("chs_ana").session  # type: ignore[union-attr]
    assert session.orders == [order.id]
    assert session.total_value == 5400
    assert session.currency == "EUR"
    assert session.carted_products == ["aero"]
    assert shop.store.purchased_via_chat("ana") == [order.id]
    assert shop.repository.connected_to(
        shop.store.orders.ref(order.id), ConnectionType.PURCHASED_VIA_CHAT
    ) == [customer_ref("ana")]
    # Recorded together (one transaction, one timestamp), then the payment's.
    placed_events = event_types(shop.repository, shop.store.orders.ref(order.id))
    assert sorted(placed_events[:2]) == ["order_placed", "order_placed_from_chat"]
    assert placed_events[2:] == ["order_paid"]
    assert event_types(shop.repository, shop.store.discounts.ref("WELCOME10")) == ["discount_applied"]
    assert event_types(shop.repository, shop.store.carts.ref(cart.id)) == ["added_to_cart"]
    assert shop.store.discount("WELCOME10").uses == 1  # type: ignore[union-attr]
    assert conversations.memory("ana").purchased_products == ["aero"]  # type: ignore[union-attr]
    # A paid order: the first-time code no longer applies, and is no longer offered.
    assert shop.discounts.offer_for("ana", ["aero"]) is None
    with pytest.raises(DiscountRefused) as refused:
        shop.discounts.apply("WELCOME10", cart.lines, "ana")
    assert refused.value.code == "discount_first_order_only"
    assert session_ref("chs_ana") == shop.steps.conversations.get("chs_ana").stored.ref  # type: ignore[union-attr]


def _unchanged_after(shop: Shop, cart_id: str, outcome: Any) -> None:
    cart = shop.store.carts.get(cart_id).value  # type: ignore[union-attr]
    assert cart.status == CartStatus.OPEN
    assert cart.order_id is None
    assert outcome.status == CheckoutStatus.FAILED
    assert shop.store.orders.get("ord_" + outcome.id.removeprefix("chk_")) is None


def test_a_declined_payment_leaves_stock_and_cart_as_they_were(shop: Shop) -> None:
    add_product(shop.repository, "aero", stock=3)
    cart_id = shop.cart_with(shop.shopper("ana"), ("aero", 2))
    before = shop.store.carts.get(cart_id).value  # type: ignore[union-attr]

    record = shop.run(cart_id, "ana", token="spt_test_decline")

    assert record.failure is not None
    assert record.failure.code == "payment_declined"
    _unchanged_after(shop, cart_id, record)
    assert shop.store.carts.get(cart_id).value == before  # type: ignore[union-attr]
    assert stock_of(shop.repository, "aero") == 3
    reservation = shop.store.reservations.get("rsv_" + record.id.removeprefix("chk_")).value  # type: ignore[union-attr]
    assert reservation.status == "released"
    assert event_types(shop.repository, shop.store.checkouts.ref(record.id)) == [
        "checkout_started",
        "checkout_failed",
    ]
    # The cart stays usable: paying with another token works.
    assert shop.run(cart_id, "ana").status == CheckoutStatus.COMPLETED
    assert stock_of(shop.repository, "aero") == 1


def test_a_failed_checkout_names_the_creators_and_agent_whose_webhooks_hear_of_it(shop: Shop) -> None:
    add_product(shop.repository, "aero", creator_id="padelnest")
    add_product(shop.repository, "grip", creator_id="courtcraft")
    cart_id = shop.cart_with(shop.shopper("ana"), ("aero", 1), ("grip", 2))

    record = shop.run(cart_id, "ana", token="spt_test_decline", agent_id="chatgpt")

    [failed] = [
        event
        for event in shop.repository.events_of(shop.store.checkouts.ref(record.id))
        if event.type == EventType.CHECKOUT_FAILED
    ]
    assert failed.payload["creator_ids"] == ["courtcraft", "padelnest"]
    assert failed.payload["agent_id"] == "chatgpt"


@pytest.mark.parametrize("after", ["reserve_inventory", "authorise_payment"])
def test_a_crash_after_reservation_is_compensated(shop: Shop, after: str) -> None:
    add_product(shop.repository, "aero", stock=3)
    cart_id = shop.cart_with(shop.shopper("ana"), ("aero", 2))
    shop.checkout.runner = InProcessCheckoutRunner(crashing(shop.steps.table(), after=after))

    record = shop.run(cart_id, "ana")

    assert record.failure is not None
    assert record.failure.code == "checkout_error"
    _unchanged_after(shop, cart_id, record)
    assert stock_of(shop.repository, "aero") == 3


def test_a_transient_payment_failure_is_retried(shop: Shop) -> None:
    add_product(shop.repository, "aero", stock=3)
    cart_id = shop.cart_with(shop.shopper("ana"), ("aero", 1))
    record = shop.run(cart_id, "ana", token="spt_test_transient")
    assert record.status == CheckoutStatus.COMPLETED
    assert shop.runner.ran.count("authorise_payment") == 2


def test_a_changed_price_is_reported_not_charged(shop: Shop) -> None:
    add_product(shop.repository, "aero", price=3000, stock=3)
    cart_id = shop.cart_with(shop.shopper("ana"), ("aero", 1))
    catalog = CatalogService(shop.repository)
    product = catalog.get_product("aero", ADMIN)
    catalog.replace_product(
        "aero",
        ProductInput(**product.model_dump(include=set(ProductInput.model_fields)) | {"price": 3500}),
        ADMIN,
        None,
    )

    record = shop.run(cart_id, "ana")

    assert record.failure is not None
    assert record.failure.code == "price_changed"
    assert "€30.00" in record.failure.message
    assert "€35.00" in record.failure.message
    assert stock_of(shop.repository, "aero") == 3
    assert shop.store.carts.get(cart_id).value.lines[0].unit_price == 3500  # type: ignore[union-attr]
    again = shop.run(cart_id, "ana")
    assert shop.store.orders.get(again.order_id).value.subtotal == 3500  # type: ignore[union-attr]


def test_stock_runs_out_for_the_second_buyer(shop: Shop) -> None:
    add_product(shop.repository, "aero", stock=1)
    first = shop.cart_with(shop.shopper("ana"), ("aero", 1))
    second = shop.cart_with(shop.shopper("bob"), ("aero", 1))
    assert shop.run(first, "ana").status == CheckoutStatus.COMPLETED
    refused = shop.run(second, "bob")
    assert refused.failure is not None
    assert refused.failure.code == "out_of_stock"
    assert stock_of(shop.repository, "aero") == 0


def test_the_last_units_go_to_exactly_as_many_buyers_under_a_race(shop: Shop) -> None:
    add_product(shop.repository, "aero", stock=5)
    buyers = [f"buyer{index}" for index in range(20)]
    carts = {buyer: shop.cart_with(shop.shopper(buyer), ("aero", 1)) for buyer in buyers}

    with atomic_moto(), ThreadPoolExecutor(max_workers=20) as pool:
        records = list(pool.map(lambda buyer: shop.run(carts[buyer], buyer), buyers))

    outcomes = Counter(record.status for record in records)
    assert outcomes == {CheckoutStatus.COMPLETED: 5, CheckoutStatus.FAILED: 15}
    assert {record.failure.code for record in records if record.failure} == {"out_of_stock"}
    assert stock_of(shop.repository, "aero") == 0


def test_a_reservation_is_released_once_however_often_release_runs(shop: Shop) -> None:
    add_product(shop.repository, "aero", stock=5)
    cart_id = shop.cart_with(shop.shopper("ana"), ("aero", 2))
    record = shop.checkout.run(
        CheckoutCommand(
            cart_id=cart_id, user_id="ana", shipping_option="standard", payment_token="spt_test_decline"
        )
    )
    state = CheckoutState(
        checkout_id="chk_manual",
        cart_id=cart_id,
        user_id="ana",
        shipping_option="standard",
        payment=PaymentInstruction(token_ref="spt_test_ok"),
        idempotency_key="chk_manual",
    )
    reserved = shop.steps.reserve_inventory(state)
    assert shop.steps.reserve_inventory(state) == reserved  # a repeated step reserves once
    assert stock_of(shop.repository, "aero") == 3

    with atomic_moto(), ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda _: shop.steps.release_inventory(reserved), range(8)))
    shop.steps.release_inventory(reserved)

    assert stock_of(shop.repository, "aero") == 5
    assert record.status == CheckoutStatus.FAILED


def test_discount_limits_hold_under_concurrency(shop: Shop) -> None:
    add_product(shop.repository, "aero", stock=100)
    shop.discounts.create(
        DiscountFields.model_validate(
            {"code": "FIRST3", "kind": "fixed", "value": 500, "currency": "EUR", "maxUses": 3}
        ),
        ADMIN,
    )
    buyers = [f"buyer{index}" for index in range(10)]
    carts = {buyer: shop.cart_with(shop.shopper(buyer), ("aero", 1)) for buyer in buyers}

    with atomic_moto(), ThreadPoolExecutor(max_workers=10) as pool:
        records = list(pool.map(lambda buyer: shop.run(carts[buyer], buyer, discount_code="FIRST3"), buyers))

    completed = [record for record in records if record.status == CheckoutStatus.COMPLETED]
    assert len(completed) == 3
    assert {record.failure.code for record in records if record.failure} == {"discount_used_up"}
    assert shop.store.discount("FIRST3").uses == 3  # type: ignore[union-attr]
    assert stock_of(shop.repository, "aero") == 97


def test_a_customer_limit_and_one_code_per_order(shop: Shop) -> None:
    add_product(shop.repository, "aero", stock=10)
    shop.discounts.create(
        DiscountFields.model_validate(
            {"code": "ONCE", "kind": "percent", "value": 20, "maxUsesPerCustomer": 1}
        ),
        ADMIN,
    )
    ana = shop.shopper("ana")
    assert (
        shop.run(shop.cart_with(ana, ("aero", 1)), "ana", discount_code="ONCE").status
        == CheckoutStatus.COMPLETED
    )
    second = shop.run(shop.cart_with(ana, ("aero", 1)), "ana", discount_code="ONCE")
    assert second.failure is not None
    assert second.failure.code == "discount_limit_reached"
    assert "discount_code" in CheckoutRequest.model_fields  # one code field: one code per order


def test_creators_issue_codes_for_their_own_products_only(shop: Shop) -> None:
    add_product(shop.repository, "aero", creator_id="padelnest")
    add_product(shop.repository, "fjord", creator_id="courtcraft")
    padelnest = Principal(PrincipalKind.CREATOR, "padelnest")
    own = shop.discounts.create(DiscountFields(code="NEST15", kind="percent", value=15), padelnest)
    assert own.creator_ids == ["padelnest"]
    assert own.creator_id == "padelnest"
    for fields in (
        {"code": "STEAL", "kind": "percent", "value": 15, "productIds": ["fjord"]},
        {"code": "STEAL", "kind": "percent", "value": 15, "creatorIds": ["courtcraft"]},
    ):
        with pytest.raises(Forbidden):
            shop.discounts.create(DiscountFields.model_validate(fields), padelnest)
    with pytest.raises(Forbidden):
        shop.discounts.create(
            DiscountFields(code="MINE", kind="percent", value=5), Principal(PrincipalKind.SHOPPER, "ana")
        )
    with pytest.raises(Conflict):
        shop.discounts.create(DiscountFields(code="nest15", kind="percent", value=5), ADMIN)
    listed = shop.discounts.list_discounts(padelnest, creator_id=None, limit=10, cursor=None)
    assert [item.code for item in listed.items] == ["NEST15"]
    assert len(shop.discounts.list_discounts(ADMIN, creator_id=None, limit=10, cursor=None).items) == 1


def test_the_advisor_is_offered_the_best_applicable_code(shop: Shop) -> None:
    add_product(shop.repository, "aero", price=8000, creator_id="padelnest")
    add_product(shop.repository, "fjord", price=4000, creator_id="courtcraft")
    assert shop.discounts.offer_for("ana", ["aero"]) is None
    nest = Principal(PrincipalKind.CREATOR, "padelnest")
    shop.discounts.create(DiscountFields(code="NEST5", kind="percent", value=5), nest)
    shop.discounts.create(
        DiscountFields(code="NEWBIE", kind="percent", value=10, first_time_only=True), ADMIN
    )
    shop.discounts.create(
        DiscountFields(code="CRAFT50", kind="percent", value=50),
        Principal(PrincipalKind.CREATOR, "courtcraft"),
    )

    offer = shop.discounts.offer_for("ana", ["aero"])
    assert offer is not None
    assert (offer.discount.code, offer.saving, offer.summary) == (
        "NEWBIE",
        800,
        "10% off for first-time buyers",
    )
    both = shop.discounts.offer_for("ana", ["aero", "fjord"])
    assert both is not None
    assert both.discount.code == "CRAFT50"
    assert both.saving == 2000
    assert both.product_ids == ["fjord"]  # courtcraft's code covers courtcraft's racket only


def test_a_refused_cart_change_writes_nothing(shop: Shop, table: Any) -> None:
    add_product(shop.repository, "aero", stock=2)
    add_product(shop.repository, "dollar", currency="USD")
    ana = shop.shopper("ana")
    cart_id = shop.cart_with(ana, ("aero", 1))
    before = table_snapshot(table)
    for product_id, quantity, code in (("aero", 5, "out_of_stock"), ("dollar", 1, "currency_mismatch")):
        with pytest.raises(Conflict) as refused:
            shop.carts.add_line(cart_id, AddLineRequest(product_id=product_id, quantity=quantity), ana)
        assert refused.value.code == code
    assert table_snapshot(table) == before
    with pytest.raises(PaymentDeclined):
        shop.checkout.checkout(CheckoutRequest(cart_id=cart_id, payment_token="spt_test_decline"), ana)


def test_a_first_order_code_is_used_once_by_racing_checkouts_of_one_shopper(shop: Shop) -> None:
    add_product(shop.repository, "aero", stock=20)
    shop.discounts.create(
        DiscountFields(code="WELCOME10", kind="percent", value=10, first_time_only=True), ADMIN
    )
    ana = shop.shopper("ana")
    carts = [shop.cart_with(ana, ("aero", 1)) for _ in range(2)]
    # Both checkouts have priced (ana has no paid order yet, so the code applies to both) before
    # either writes its order: only the conditional count at the order's write can refuse the second.
    both_priced = threading.Barrier(2, timeout=10)
    steps = dict(shop.steps.table())
    create_order = steps["create_order"]

    def create_order_after_both_priced(state: CheckoutState) -> CheckoutState:
        both_priced.wait()
        return create_order(state)

    shop.checkout.runner = InProcessCheckoutRunner(steps | {"create_order": create_order_after_both_priced})

    with atomic_moto(), ThreadPoolExecutor(max_workers=2) as pool:
        records = list(pool.map(lambda cart_id: shop.run(cart_id, "ana", discount_code="WELCOME10"), carts))

    assert Counter(record.status for record in records) == {
        CheckoutStatus.COMPLETED: 1,
        CheckoutStatus.FAILED: 1,
    }
    assert [record.failure.code for record in records if record.failure] == ["discount_limit_reached"]
    assert shop.store.discount("WELCOME10").uses == 1  # type: ignore[union-attr]
    assert stock_of(shop.repository, "aero") == 19


def test_a_failed_checkout_uses_up_nothing_of_its_code(shop: Shop) -> None:
    add_product(shop.repository, "aero", stock=5)
    shop.discounts.create(
        DiscountFields(code="ONE", kind="percent", value=10, max_uses=1, max_uses_per_customer=1), ADMIN
    )
    cart_id = shop.cart_with(shop.shopper("ana"), ("aero", 1))
    declined = shop.run(cart_id, "ana", token="spt_test_decline", discount_code="ONE")
    assert declined.failure is not None
    assert declined.failure.code == "payment_declined"
    assert shop.store.discount("ONE").uses == 0  # type: ignore[union-attr]
    assert shop.store.customer_uses("ONE", "ana") == 0
    again = shop.run(cart_id, "ana", discount_code="one")
    assert again.status == CheckoutStatus.COMPLETED, again.failure
    assert shop.store.discount("ONE").uses == 1  # type: ignore[union-attr]


def test_racing_cart_edits_lose_no_line(shop: Shop) -> None:
    names = [f"item{index}" for index in range(8)]
    for name in names:
        add_product(shop.repository, name, price=1000, stock=10)
    ana = shop.shopper("ana")
    cart_id = shop.cart_with(ana)
    created = shop.store.carts.get(cart_id).value.version  # type: ignore[union-attr]

    def add(product_id: str) -> str | None:
        """The product if the line was added, else the refusal's code."""
        try:
            shop.carts.add_line(cart_id, AddLineRequest(product_id=product_id), ana)
        except Conflict as refused:
            return refused.code
        return product_id

    with atomic_moto(), ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(add, names))

    added = [outcome for outcome in outcomes if outcome in names]
    assert added
    assert set(outcomes) - set(added) <= {"concurrent_update"}
    cart = shop.store.carts.get(cart_id).value  # type: ignore[union-attr]
    # Every edit that was answered as done is in the cart; every refused one is not.
    assert sorted(line.product_id for line in cart.lines) == sorted(added)
    assert cart.version == created + len(added)


def test_a_code_is_found_in_any_case_and_text_no_code_can_be_is_not_found(shop: Shop) -> None:
    add_product(shop.repository, "aero", price=2000)
    shop.discounts.create(DiscountFields(code="SPRING-5", kind="percent", value=5), ADMIN)
    lines = shop.discounts.lines_of(["aero"])
    assert shop.discounts.apply(" spring-5 ", lines, "ana")[1] == 100
    assert shop.discounts.require("Spring-5").code == "SPRING-5"
    for text in ("10% OFF", "", "x" * 300, "spring 5"):
        with pytest.raises(DiscountRefused) as refused:
            shop.discounts.apply(text, lines, "ana")
        assert refused.value.code == "discount_not_found"


def test_added_to_cart_counts_the_units_added_and_only_when_some_are(shop: Shop) -> None:
    add_product(shop.repository, "aero", stock=10)
    ana = shop.shopper("ana")
    cart_id = shop.cart_with(ana, ("aero", 3))
    shop.carts.set_quantity(cart_id, "aero", 1, ana)
    shop.carts.add_line(cart_id, AddLineRequest(product_id="aero", quantity=2), ana)
    shop.carts.set_quantity(cart_id, "aero", 5, ana)
    shop.carts.remove_line(cart_id, "aero", ana)

    events = shop.repository.events_of(shop.store.carts.ref(cart_id))
    assert [
        (event.type.value, event.payload["quantity"], event.payload["line_quantity"]) for event in events
    ] == [
        ("added_to_cart", 3, 3),
        ("added_to_cart", 2, 3),
        ("added_to_cart", 2, 5),
    ]
