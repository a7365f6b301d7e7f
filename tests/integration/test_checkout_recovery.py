"""The checkout when its steps die at the worst moments: a hold made by an authorise step that crashed
before answering, failures after the order exists, dead executions left to the sweep, a duplicate
execution after success, a cart changed mid-checkout; and the record naming the provider that charged."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest

from talkshop.advisor.store import ConversationStore
from talkshop.auth import Principal, PrincipalKind
from talkshop.clock import Clock, utc_now
from talkshop.commerce.carts import AddLineRequest, CreateCartRequest
from talkshop.commerce.checkout import CheckoutCommand, CheckoutRequest, CheckoutService, refusal
from talkshop.commerce.checkout_steps import (
    BEFORE_ORDER,
    CheckoutState,
    CheckoutStepError,
    CheckoutSteps,
    Step,
    authorise_key,
    order_id_for,
    reservation_id_for,
)
from talkshop.commerce.model import CheckoutRecord, CheckoutStatus, Failure, OrderStatus, ReservationStatus
from talkshop.commerce.payments import PaymentUnavailable, provider_from_settings
from talkshop.commerce.payments.delegated import DelegatedPayments
from talkshop.commerce.payments.model import PaymentProvider
from talkshop.commerce.payments.stripe import StripeProvider
from talkshop.commerce.payments.testing import TestPaymentProvider, _payment_ref
from talkshop.data.repository import Repository
from tests.commerce_fakes import InProcessCheckoutRunner, add_product, new_shopper, stock_of
from tests.conftest import FakeClock
from tests.fakes.stripe_server import API_KEY, FakeStripeServer
from tests.unit.test_payments_delegated import delegate_request


@dataclass
class Shop:
    repository: Repository
    steps: CheckoutSteps
    runner: InProcessCheckoutRunner
    service: CheckoutService

    def cart(self, user_id: str = "ana", product_id: str = "aero", quantity: int = 2) -> str:
        new_shopper(self.repository, user_id)
        principal = Principal(PrincipalKind.SHOPPER, user_id)
        cart = self.steps.carts.create(CreateCartRequest(), principal)
        self.steps.carts.add_line(
            cart.id, AddLineRequest(product_id=product_id, quantity=quantity), principal
        )
        return cart.id

    def run(self, cart_id: str, token: str = "spt_test_ok", user_id: str = "ana") -> CheckoutRecord:  # noqa: S107
        return self.service.run(
            CheckoutCommand(cart_id=cart_id, user_id=user_id, shipping_option="standard", payment_token=token)
        )

    def with_steps(self, **replaced: Step) -> None:
        self.runner = InProcessCheckoutRunner({**self.steps.table(), **replaced})
        self.service.runner = self.runner

    def later(self, minutes: int = 20) -> CheckoutSteps:
        """The same steps with a clock `minutes` ahead: what the sweep sees once a checkout is stale."""
        return CheckoutSteps(
            self.repository, self.steps.payments, lambda: utc_now() + timedelta(minutes=minutes)
        )


def shop_over(repository: Repository, payments: PaymentProvider, clock: Clock = utc_now) -> Shop:
    steps = CheckoutSteps(repository, payments, clock)
    runner = InProcessCheckoutRunner(steps.table())
    service = CheckoutService(steps.store, ConversationStore(repository), runner, clock)
    add_product(repository, "aero", price=3000, stock=5)
    return Shop(repository, steps, runner, service)


@pytest.fixture
def shop(repository: Repository) -> Shop:
    return shop_over(repository, provider_from_settings(repository))


@pytest.fixture
def stripe() -> Iterator[FakeStripeServer]:
    with FakeStripeServer() as running:
        yield running


def hold_state(repository: Repository, authorisation_id: str | None) -> str | None:
    """What the test provider holds for an authorisation: authorised, captured, voided..."""
    held = TestPaymentProvider(repository).payment(authorisation_id or "")
    return held.state if held else None


def then_crash(step: Step) -> Step:
    """The step, done, and then the function dying before its answer reaches the state machine."""

    def crashed(state: CheckoutState) -> CheckoutState:
        step(state)
        raise RuntimeError("the function timed out")

    return crashed


def always_failing(code: str, retryable: bool = True) -> Step:
    def failing(state: CheckoutState) -> CheckoutState:
        raise CheckoutStepError(code, "It keeps failing.", retryable=retryable)

    return failing


def test_a_hold_made_by_an_authorise_step_that_died_is_voided(shop: Shop) -> None:
    shop.with_steps(authorise_payment=then_crash(shop.steps.authorise_payment))
    cart_id = shop.cart()

    record = shop.run(cart_id)

    assert record.status == CheckoutStatus.FAILED
    payments = TestPaymentProvider(shop.repository)
    held = payments.payment(_payment_ref(authorise_key(record.id)).id)
    assert held is not None
    assert held.state == "voided"
    assert stock_of(shop.repository, "aero") == 5
    assert shop.steps.store.orders.get(order_id_for(record.id)) is None


def test_a_hold_on_a_delegated_token_whose_authorise_step_died_is_voided(shop: Shop) -> None:
    clock = FakeClock()
    clock.now = utc_now()
    payments = shop.steps.payments
    assert isinstance(payments, DelegatedPayments)
    token = payments.delegate(delegate_request(clock, max_amount=100_000), "delegation-1").id
    shop.with_steps(authorise_payment=then_crash(shop.steps.authorise_payment))

    record = shop.run(shop.cart(), token=token)

    held = TestPaymentProvider(shop.repository).payment(_payment_ref(authorise_key(record.id)).id)
    assert held is not None
    assert held.state == "voided"


def test_a_stripe_hold_whose_authorise_step_died_is_cancelled_and_the_record_names_stripe(
    repository: Repository, stripe: FakeStripeServer
) -> None:
    shop = shop_over(repository, StripeProvider(API_KEY, api_base=stripe.url))
    shop.with_steps(authorise_payment=then_crash(shop.steps.authorise_payment))

    record = shop.run(shop.cart(), token="pm_card_visa")

    [intent] = stripe._state.intents.values()
    assert intent["metadata"] == {"talkshop_authorise_key": authorise_key(record.id)}
    assert intent["status"] == "canceled"
    assert record.status == CheckoutStatus.FAILED
    assert record.payment_provider == "stripe"
    assert stock_of(repository, "aero") == 5


def test_a_stripe_checkout_records_the_provider_that_charged(
    repository: Repository, stripe: FakeStripeServer
) -> None:
    shop = shop_over(repository, StripeProvider(API_KEY, api_base=stripe.url))

    record = shop.run(shop.cart(), token="pm_card_visa")

    assert record.status == CheckoutStatus.COMPLETED
    assert record.payment_provider == "stripe"
    assert record.payment_key == record.id
    [intent] = stripe._state.intents.values()
    assert intent["status"] == "succeeded"


def test_a_capture_that_keeps_failing_leaves_the_order_placed_and_the_sweep_pays_it(shop: Shop) -> None:
    shop.with_steps(confirm=always_failing(PaymentUnavailable.code))
    cart_id = shop.cart()

    order = shop.service.checkout(
        CheckoutRequest(cart_id=cart_id, payment_token="spt_test_ok"), Principal(PrincipalKind.SHOPPER, "ana")
    )

    # The order is the point of no return: nothing is undone, the shopper gets the order.
    assert order.status == OrderStatus.PLACED
    record = shop.steps.store.checkouts.get(order.checkout_id).value  # type: ignore[union-attr]
    assert record.status == CheckoutStatus.COMPLETED
    assert record.failure is None
    assert stock_of(shop.repository, "aero") == 3
    held = TestPaymentProvider(shop.repository).payment(order.payment.authorisation_id or "")
    assert held is not None
    assert held.state == "authorised"
    assert shop.runner.ran.count("void_authorisation") == 0

    assert shop.steps.sweep_stale().paid == []  # not stale yet: its execution may still be running
    report = shop.later().sweep_stale()

    assert report.paid == [order.id]
    paid = shop.steps.store.orders.get(order.id).value  # type: ignore[union-attr]
    assert paid.status == OrderStatus.PAID
    assert hold_state(shop.repository, order.payment.authorisation_id) == "captured"
    assert shop.later().sweep_stale().paid == []  # idempotent


def test_a_failing_publish_step_does_not_undo_the_order(shop: Shop) -> None:
    shop.with_steps(publish_events=always_failing("concurrent_update"))

    record = shop.run(shop.cart())

    assert record.status == CheckoutStatus.COMPLETED
    order = shop.steps.store.orders.get(record.order_id or "").value  # type: ignore[union-attr]
    assert order.status == OrderStatus.PAID
    assert stock_of(shop.repository, "aero") == 3


def test_a_crash_after_the_order_committed_answers_the_order(shop: Shop) -> None:
    shop.with_steps(create_order=then_crash(shop.steps.create_order))

    record = shop.run(shop.cart())

    # The compensations ran but found the order: nothing undone, and the caller is told of the order.
    assert "void_authorisation" in shop.runner.ran
    assert record.status == CheckoutStatus.COMPLETED
    order = shop.steps.store.orders.get(record.order_id or "").value  # type: ignore[union-attr]
    assert order.status == OrderStatus.PLACED
    assert hold_state(shop.repository, order.payment.authorisation_id) == "authorised"
    assert stock_of(shop.repository, "aero") == 3
    assert shop.later().sweep_stale().paid == [order.id]


def test_a_duplicate_execution_after_success_changes_nothing(shop: Shop) -> None:
    captured: list[CheckoutState] = []
    shop.with_steps(confirm=lambda state: captured.append(state) or shop.steps.confirm(state))  # type: ignore[func-returns-value]
    record = shop.run(shop.cart())
    assert record.status == CheckoutStatus.COMPLETED
    first = captured[0].model_copy(update={"authorisation_id": None, "order_id": None, "quote": None})

    again = shop.runner.start(first)  # Express is at-least-once: the whole flow may run again

    assert again.error is not None
    assert again.error.code == "cart_closed"
    stored = shop.steps.store.checkouts.get(record.id).value  # type: ignore[union-attr]
    assert stored.status == CheckoutStatus.COMPLETED
    order = shop.steps.store.orders.get(stored.order_id).value  # type: ignore[arg-type, union-attr]
    assert order.status == OrderStatus.PAID
    assert hold_state(shop.repository, order.payment.authorisation_id) == "captured"
    assert stock_of(shop.repository, "aero") == 3


def test_a_cart_changed_during_the_checkout_is_not_ordered(shop: Shop) -> None:
    add_product(shop.repository, "grip", price=500, stock=5)
    cart_id = shop.cart()

    def price_then_edit(state: CheckoutState) -> CheckoutState:
        priced = shop.steps.price(state)
        shop.steps.carts.add_line(
            cart_id, AddLineRequest(product_id="grip", quantity=1), Principal(PrincipalKind.SHOPPER, "ana")
        )
        return priced

    shop.with_steps(price=price_then_edit)

    record = shop.run(cart_id)

    assert record.failure == Failure(
        code="cart_changed", message="The cart changed during the checkout; check out again."
    )
    assert refusal(record.failure).status == 409
    assert (stock_of(shop.repository, "aero"), stock_of(shop.repository, "grip")) == (5, 5)


def dead_execution(shop: Shop, cart_id: str, last: str) -> CheckoutState:
    """A checkout whose execution died after `last` with nothing compensated (an Express execution
    killed at its time limit): its record, and what the steps up to `last` wrote."""
    states: list[CheckoutState] = []

    class Dies:
        def start(self, state: CheckoutState) -> CheckoutState:
            for name in BEFORE_ORDER[: BEFORE_ORDER.index(last) + 1]:
                state = shop.steps.table()[name](state)
            states.append(state)
            return state

    shop.service.runner = Dies()
    shop.run(cart_id)
    return states[0]


@pytest.mark.parametrize("last", ["reserve_inventory", "authorise_payment"])
def test_the_sweep_rolls_back_a_dead_execution_once_it_is_stale(shop: Shop, last: str) -> None:
    state = dead_execution(shop, shop.cart(), last)
    assert stock_of(shop.repository, "aero") == 3

    assert shop.steps.sweep_stale().abandoned == []  # younger than any live execution can be
    assert stock_of(shop.repository, "aero") == 3

    report = shop.later().sweep_stale()

    assert report.abandoned == [state.checkout_id]
    assert report.released == [reservation_id_for(state.checkout_id)]
    assert stock_of(shop.repository, "aero") == 5
    record = shop.steps.store.checkouts.get(state.checkout_id).value  # type: ignore[union-attr]
    assert record.status == CheckoutStatus.FAILED
    assert record.failure is not None
    assert record.failure.code == "checkout_abandoned"
    if state.authorisation_id:
        held = TestPaymentProvider(shop.repository).payment(state.authorisation_id)
        assert held is not None
        assert held.state == "voided"
    # Idempotent: a second sweep finds nothing to do, and the stock is returned once.
    again = shop.later().sweep_stale()
    assert (again.abandoned, again.released, again.paid) == ([], [], [])
    assert stock_of(shop.repository, "aero") == 5


def test_the_sweep_releases_a_reservation_its_failed_compensation_left_held(shop: Shop) -> None:
    shop.with_steps(
        authorise_payment=always_failing("payment_declined", retryable=False),
        release_inventory=always_failing("concurrent_update"),
    )
    record = shop.run(shop.cart())
    assert record.status == CheckoutStatus.FAILED
    assert stock_of(shop.repository, "aero") == 3

    report = shop.later().sweep_stale()

    assert report.released == [reservation_id_for(record.id)]
    assert report.abandoned == []  # its failure is already recorded, and stands
    assert stock_of(shop.repository, "aero") == 5


def test_the_sweep_never_releases_a_reservation_whose_order_exists(shop: Shop) -> None:
    record = shop.run(shop.cart())
    checkout_id = record.id

    report = shop.later().sweep_stale()

    assert (report.abandoned, report.released, report.paid) == ([], [], [])
    reservation = shop.steps.store.reservations.get(reservation_id_for(checkout_id)).value  # type: ignore[union-attr]
    assert reservation.status == ReservationStatus.CONVERTED
    assert shop.steps._release(reservation_id_for(checkout_id)) is False
    assert stock_of(shop.repository, "aero") == 3


def test_a_sweep_configured_for_another_provider_releases_stock_but_leaves_the_hold(
    shop: Shop, repository: Repository
) -> None:
    state = dead_execution(shop, shop.cart(), "authorise_payment")

    elsewhere = DelegatedPayments(repository, TestPaymentProvider(repository), "talkshop")
    elsewhere.name = "stripe"  # a sweeper whose configured provider is not the one that held the funds

    report = CheckoutSteps(repository, elsewhere, lambda: utc_now() + timedelta(minutes=20)).sweep_stale()

    assert report.abandoned == [state.checkout_id]
    assert stock_of(repository, "aero") == 5
    held = TestPaymentProvider(repository).payment(state.authorisation_id or "")
    assert held is not None
    assert held.state == "authorised"  # not this sweeper's provider: left to lapse there


def test_the_scheduled_sweeper_finishes_dead_checkouts(repository: Repository) -> None:
    from functions.chat_sweeper import handler as sweeper
    from talkshop.local.apigateway import LocalLambdaContext

    an_hour_ago = shop_over(
        repository, provider_from_settings(repository), lambda: utc_now() - timedelta(hours=1)
    )
    state = dead_execution(an_hour_ago, an_hour_ago.cart(), "authorise_payment")

    swept = sweeper.lambda_handler({}, LocalLambdaContext("chat_sweeper", 120, 512))

    assert swept["checkoutsAbandoned"] == 1
    assert stock_of(repository, "aero") == 5
    assert hold_state(repository, state.authorisation_id) == "voided"
    assert sweeper.lambda_handler({}, LocalLambdaContext("chat_sweeper", 120, 512))["checkoutsAbandoned"] == 0
