"""The checkout through the real statemachines/checkout.asl.json: moto's interpreter runs it (started
with StartSyncExecution by StepFunctionsCheckoutRunner) and its Lambda Tasks run the checkout_steps
handler in this process, through the local seam, as the local runtime does."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from typing import Any

import boto3
import pytest
from moto.core.config import default_user_config
from moto.core.models import DEFAULT_ACCOUNT_ID

from talkshop.advisor.store import ConversationStore
from talkshop.api import context
from talkshop.api.state_machines import CHECKOUT
from talkshop.auth import Principal, PrincipalKind
from talkshop.commerce.carts import AddLineRequest, CreateCartRequest
from talkshop.commerce.checkout import (
    CheckoutCommand,
    CheckoutRequest,
    CheckoutService,
    StepFunctionsCheckoutRunner,
    refusal,
)
from talkshop.commerce.checkout_steps import STEPS, CheckoutState, authorise_key, reservation_id_for
from talkshop.commerce.model import (
    CartStatus,
    CheckoutRecord,
    CheckoutStatus,
    Order,
    OrderStatus,
    ReservationStatus,
)
from talkshop.commerce.payments.testing import (
    TOKEN_DECLINE,
    TOKEN_OK,
    TOKEN_TRANSIENT,
    TestPaymentProvider,
    _payment_ref,
)
from talkshop.commerce.pricing import DEFAULT_SHIPPING
from talkshop.data.repository import Repository
from talkshop.errors import TalkshopError
from talkshop.local import lambdas, stepfunctions
from talkshop.settings import get_settings
from tests.commerce_fakes import add_product, atomic_moto, metrics_one_call_at_a_time, new_shopper, stock_of


@pytest.fixture
def checkout_machine(table: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The checkout state machine in moto, as LocalAws creates it; its ARN in the runner's variable."""
    monkeypatch.setitem(default_user_config, "stepfunctions", {"execute_state_machine": True})
    monkeypatch.setenv(stepfunctions.HOST_PREFIX_VARIABLE, "true")
    lock = lambdas.InvocationLock()
    stepfunctions.install(caller_waits=lock.lent)
    arns = stepfunctions.start_state_machines(
        boto3.client("stepfunctions"), [CHECKOUT], lock.step, "eu-west-1", DEFAULT_ACCOUNT_ID
    )
    monkeypatch.setenv(CHECKOUT.arn_variable, arns[CHECKOUT.name])
    get_settings.cache_clear()
    context.reset()
    yield arns[CHECKOUT.name]
    lambdas.uninstall()
    stepfunctions.install()
    get_settings.cache_clear()


def shopper(user_id: str) -> Principal:
    return Principal(PrincipalKind.SHOPPER, user_id)


def cart_with(repository: Repository, user_id: str, product_id: str, quantity: int = 1) -> str:
    new_shopper(repository, user_id)
    cart = context.carts().create(CreateCartRequest(), shopper(user_id))
    context.carts().add_line(
        cart.id, AddLineRequest(product_id=product_id, quantity=quantity), shopper(user_id)
    )
    return cart.id


def checkout(
    cart_id: str, user_id: str, token: str = TOKEN_OK, service: CheckoutService | None = None
) -> Order:
    """POST /api/checkout's use case: the paid order, or the refusal the API answers with."""
    request = CheckoutRequest(cart_id=cart_id, payment_token=token)
    return (service or context.checkout()).checkout(request, shopper(user_id))


def failed_attempt(cart_id: str, user_id: str, token: str = TOKEN_OK) -> CheckoutRecord:
    """A checkout expected to fail, answered as its record (which says how it ended)."""
    record = context.checkout().run(
        CheckoutCommand(
            cart_id=cart_id, user_id=user_id, shipping_option=DEFAULT_SHIPPING, payment_token=token
        )
    )
    assert record.status == CheckoutStatus.FAILED
    assert record.order_id is None
    return record


def test_a_checkout_creates_the_paid_order_takes_the_stock_and_closes_the_cart(
    repository: Repository, checkout_machine: str
) -> None:
    add_product(repository, "pro-racket", price=8000, stock=3)
    cart_id = cart_with(repository, "usr_ana", "pro-racket", quantity=2)

    order = checkout(cart_id, "usr_ana")

    assert order.status == OrderStatus.PAID
    assert order.total > 0
    assert order.payment.authorisation_id
    assert stock_of(repository, "pro-racket") == 1
    cart = context.carts().get(cart_id, shopper("usr_ana"))
    assert cart.status == CartStatus.ORDERED
    record = context.commerce_store().checkouts.get(order.checkout_id)
    assert record is not None
    assert record.value.status == CheckoutStatus.COMPLETED


def test_a_declined_payment_leaves_stock_and_cart_as_they_were(
    repository: Repository, checkout_machine: str
) -> None:
    add_product(repository, "pro-racket", stock=3)
    cart_id = cart_with(repository, "usr_ana", "pro-racket", quantity=2)
    cart_before = context.carts().get(cart_id, shopper("usr_ana"))

    record = failed_attempt(cart_id, "usr_ana", TOKEN_DECLINE)

    assert record.failure is not None
    assert record.failure.code == "payment_declined"
    assert refusal(record.failure).status == 402  # the caller's clear error
    assert stock_of(repository, "pro-racket") == 3
    cart_after = context.carts().get(cart_id, shopper("usr_ana"))
    assert cart_after.status == CartStatus.OPEN
    assert cart_after.lines == cart_before.lines
    # The cart stays usable: the same cart checks out with another card.
    assert checkout(cart_id, "usr_ana").status == OrderStatus.PAID
    assert stock_of(repository, "pro-racket") == 1


def test_a_crash_after_the_reservation_releases_the_stock(
    repository: Repository, checkout_machine: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_product(repository, "pro-racket", stock=3)
    cart_id = cart_with(repository, "usr_ana", "pro-racket", quantity=2)
    taken: list[int] = []

    def crash(state: CheckoutState) -> CheckoutState:
        taken.append(stock_of(repository, "pro-racket"))
        raise RuntimeError("the function died")

    monkeypatch.setitem(STEPS, "authorise_payment", crash)

    record = failed_attempt(cart_id, "usr_ana")

    assert taken == [1]  # the reservation had taken the units when the step crashed...
    assert stock_of(repository, "pro-racket") == 3  # ...and the compensation put them back
    assert record.failure is not None
    assert record.failure.code == "checkout_error"
    reservation = context.commerce_store().reservations.get(reservation_id_for(record.id))
    assert reservation is not None
    assert reservation.value.status == ReservationStatus.RELEASED
    assert context.carts().get(cart_id, shopper("usr_ana")).status == CartStatus.OPEN


def test_a_hold_made_by_an_authorise_step_that_died_before_answering_is_voided(
    repository: Repository, checkout_machine: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_product(repository, "pro-racket", stock=3)
    cart_id = cart_with(repository, "usr_ana", "pro-racket")
    authorise = STEPS["authorise_payment"]

    def authorise_then_die(state: CheckoutState) -> CheckoutState:
        authorise(state)  # the provider held the funds...
        raise RuntimeError("Task timed out")  # ...and the answer never reached the state machine

    monkeypatch.setitem(STEPS, "authorise_payment", authorise_then_die)

    record = failed_attempt(cart_id, "usr_ana")

    held = TestPaymentProvider(repository).payment(_payment_ref(authorise_key(record.id)).id)
    assert held is not None
    assert held.state == "voided"
    assert stock_of(repository, "pro-racket") == 3


def test_a_transient_payment_failure_is_retried_and_charges_once(
    repository: Repository, checkout_machine: str
) -> None:
    add_product(repository, "pro-racket", stock=3)
    cart_id = cart_with(repository, "usr_ana", "pro-racket")

    order = checkout(cart_id, "usr_ana", TOKEN_TRANSIENT)

    assert order.status == OrderStatus.PAID
    assert stock_of(repository, "pro-racket") == 2


# Powertools' metrics are one set per process: concurrent in-process invocations flush each other's.
@pytest.mark.filterwarnings("ignore:No application metrics to publish")
def test_fifty_buyers_racing_for_the_last_five_units_get_exactly_five_orders(
    repository: Repository, checkout_machine: str
) -> None:
    """Fifty checkouts at once, each a state machine execution on its own thread whose Lambda steps run
    concurrently too (no invocation lock, unlike the local server, which would serialise them), with
    DynamoDB's per-request atomicity (atomic_moto): the race between reading the stock and the
    reservation's conditional write is real."""
    add_product(repository, "last-units", stock=5)
    buyers = [f"usr_buyer{number:02d}" for number in range(50)]
    carts = {buyer: cart_with(repository, buyer, "last-units") for buyer in buyers}
    stepfunctions.install(caller_waits=nullcontext)
    lambdas.install(stepfunctions.step_functions([CHECKOUT]).values(), nullcontext)
    service = CheckoutService(
        context.commerce_store(),
        ConversationStore(repository),
        StepFunctionsCheckoutRunner(checkout_machine, boto3.client("stepfunctions")),
    )

    def buy(buyer: str) -> Order | str:
        try:
            return checkout(carts[buyer], buyer, service=service)
        except TalkshopError as error:
            return error.code

    with atomic_moto(), metrics_one_call_at_a_time(), ThreadPoolExecutor(max_workers=50) as pool:
        outcomes = dict(zip(buyers, pool.map(buy, buyers), strict=True))

    winners = {buyer for buyer, outcome in outcomes.items() if isinstance(outcome, Order)}
    assert len(winners) == 5
    assert {outcome for outcome in outcomes.values() if not isinstance(outcome, Order)} == {"out_of_stock"}
    assert stock_of(repository, "last-units") == 0
    for buyer in buyers:
        expected = CartStatus.ORDERED if buyer in winners else CartStatus.OPEN
        assert context.carts().get(carts[buyer], shopper(buyer)).status == expected
