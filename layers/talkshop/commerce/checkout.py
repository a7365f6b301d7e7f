"""Starting a checkout and answering with its outcome: the record of the attempt, the state machine
run (behind the CheckoutRunner port), and the order or the refusal the API gives.

POST /api/checkout is a request/response of well under a second, so the state machine is an Express
workflow started synchronously (StartSyncExecution); `StepFunctionsCheckoutRunner` is that call.
Tests run the same steps in the same order through a runner of their own.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from typing import Any, Protocol

from pydantic import BaseModel, Field

from talkshop.advisor.store import ConversationStore
from talkshop.auth import Principal, PrincipalKind
from talkshop.clock import Clock, utc_now
from talkshop.commerce.checkout_steps import CheckoutState, PaymentInstruction, failure_from_states_error
from talkshop.commerce.discounts import DiscountRefused
from talkshop.commerce.model import (
    WIRE,
    Address,
    CheckoutRecord,
    CheckoutStatus,
    DiscountCode,
    Failure,
    Order,
)
from talkshop.commerce.payments.model import PaymentDeclined, PaymentUnavailable
from talkshop.commerce.pricing import DEFAULT_SHIPPING, shipping_option
from talkshop.commerce.store import CommerceStore, commerce_event
from talkshop.errors import Conflict, NotFound, TalkshopError
from talkshop.ontology.model import EventType, Identifier


class CheckoutRunner(Protocol):
    """Runs the checkout flow on a state to its end: the final state (its `error` set on failure)."""

    def start(self, state: CheckoutState) -> CheckoutState: ...


class StepFunctionsCheckoutRunner:
    """The checkout state machine, started synchronously; the execution is named after the checkout."""

    def __init__(self, state_machine_arn: str, client: Any = None) -> None:
        self.state_machine_arn = state_machine_arn
        self.client = client

    def start(self, state: CheckoutState) -> CheckoutState:
        import boto3

        client = self.client or boto3.client("stepfunctions")
        response = client.start_sync_execution(
            stateMachineArn=self.state_machine_arn, name=state.checkout_id, input=state.model_dump_json()
        )
        if response.get("status") == "SUCCEEDED":
            return CheckoutState.model_validate(json.loads(response["output"]))
        failure = failure_from_states_error(
            {"Error": response.get("error", ""), "Cause": response.get("cause", "")}
        )
        return state.model_copy(update={"error": failure})


class CheckoutRequest(BaseModel):
    """The body of POST /api/checkout."""

    model_config = WIRE

    cart_id: Identifier
    session_id: Identifier | None = Field(
        default=None, description="The chat the order comes from (default: the cart's)"
    )
    discount_code: DiscountCode | None = Field(
        default=None, description="A code typed at checkout (one per order)"
    )
    shipping_option: str = DEFAULT_SHIPPING
    address: Address | None = None
    payment_token: str = Field(
        min_length=1,
        max_length=500,
        description="An opaque payment token: spt_…, pm_… (Stripe) or vt_… (ACP)",
    )


@dataclass(frozen=True)
class CheckoutCommand:
    """One checkout attempt, whoever asks for it (the API, the ACP adapter)."""

    cart_id: str
    user_id: str
    shipping_option: str
    payment_token: str
    address: Address | None = None
    discount_code: str | None = None
    session_id: str | None = None
    agent_id: str | None = None


class CheckoutFailed(TalkshopError):
    """A failure the flow has no more specific answer for."""

    status = 500
    code = "checkout_error"


# How the API answers a failed checkout, by the failure's code (discount codes: see DiscountRefused).
_REFUSALS: dict[str, type[TalkshopError]] = {
    "out_of_stock": Conflict,
    "price_changed": Conflict,
    "product_unavailable": Conflict,
    "cart_closed": Conflict,
    "cart_empty": Conflict,
    "concurrent_update": Conflict,
    "cart_changed": Conflict,
    "checkout_abandoned": Conflict,
    "reservation_missing": Conflict,
    "idempotency_key_reused": Conflict,
    "cart_not_found": NotFound,
    "session_not_found": NotFound,
    PaymentDeclined.code: PaymentDeclined,
    PaymentUnavailable.code: PaymentUnavailable,
}


def refusal(failure: Failure) -> TalkshopError:
    if failure.code.startswith("discount_"):
        return DiscountRefused(failure.message, code=failure.code)
    return _REFUSALS.get(failure.code, CheckoutFailed)(failure.message, code=failure.code)


class CheckoutService:
    def __init__(
        self,
        store: CommerceStore,
        conversations: ConversationStore,
        runner: CheckoutRunner,
        clock: Clock = utc_now,
    ) -> None:
        self.store = store
        self.conversations = conversations
        self.runner = runner
        self.clock = clock

    def checkout(self, request: CheckoutRequest, principal: Principal) -> Order:
        """Check a cart out for its shopper (their token, or the admin): the order (paid, or `placed`
        while its capture is retried), or the refusal."""
        loaded = self.store.carts.get(request.cart_id)
        owner = loaded.value.user_id if loaded else None
        if owner is None or not (
            principal.is_admin or (principal.kind == PrincipalKind.SHOPPER and principal.person_id == owner)
        ):
            raise NotFound(f"No cart {request.cart_id!r}.", code="cart_not_found")
        assert loaded is not None
        record = self.run(
            CheckoutCommand(
                cart_id=request.cart_id,
                user_id=owner,
                shipping_option=request.shipping_option,
                payment_token=request.payment_token,
                address=request.address,
                discount_code=request.discount_code,
                session_id=request.session_id or loaded.value.session_id,
            )
        )
        if record.failure is not None or record.order_id is None:
            raise refusal(
                record.failure or Failure(code="checkout_error", message="The checkout did not finish.")
            )
        order = self.store.orders.get(record.order_id)
        assert order is not None, "a completed checkout has its order"
        return order.value

    def run(self, command: CheckoutCommand) -> CheckoutRecord:
        """Record the attempt (with its checkout_started event), run the flow, answer the record as it
        ended: completed with its order, or failed with why."""
        shipping_option(command.shipping_option)  # an unknown option is the caller's mistake: 422 now
        if command.session_id:
            session = self.conversations.get(command.session_id)
            if session is None or session.session.user_id != command.user_id:
                raise NotFound(f"No chat {command.session_id!r}.", code="session_not_found")
        checkout_id = "chk_" + secrets.token_hex(10)
        # One checkout is one payment: the provider's keys derive from the checkout's id.
        state = start_checkout(self.store, command, checkout_id, checkout_id, self.clock)
        return finish_checkout(self.store, state, self.runner.start(state))


# What the flow's first state takes from the record as it is written.
_RECORDED_IN_STATE = {"cart_id", "user_id", "session_id", "discount_code", "shipping_option", "address"}


def start_checkout(
    store: CommerceStore,
    command: CheckoutCommand,
    checkout_id: str,
    idempotency_key: str,
    clock: Clock = utc_now,
) -> CheckoutState:
    """Record a checkout attempt (with its checkout_started event) and answer the flow's first state.
    A record of that id written already (a retried attempt) is kept as it is."""
    now = clock()
    record = CheckoutRecord(
        id=checkout_id,
        cart_id=command.cart_id,
        user_id=command.user_id,
        session_id=command.session_id,
        agent_id=command.agent_id,
        discount_code=command.discount_code,
        shipping_option=command.shipping_option,
        address=command.address,
        created_at=now,
    )
    work = store.repository.unit_of_work()
    store.checkouts.stage_create(work, record, now)
    work.record_event(
        commerce_event(
            EventType.CHECKOUT_STARTED,
            store.checkouts.ref(record.id),
            now,
            command.user_id,
            checkout_id=record.id,
            cart_id=command.cart_id,
            session_id=command.session_id,
            agent_id=command.agent_id,
        )
    )
    try:
        work.commit()
    except TalkshopError as error:
        if error.code != "checkout_exists":  # a concurrent retry wrote it: run the same one
            raise
    return CheckoutState(
        checkout_id=checkout_id,
        **record.model_dump(include=_RECORDED_IN_STATE),
        payment=PaymentInstruction(token_ref=command.payment_token),
        idempotency_key=idempotency_key,
        agent_id=command.agent_id,
    )


def finish_checkout(store: CommerceStore, state: CheckoutState, final: CheckoutState) -> CheckoutRecord:
    """The record as the flow left it. A flow that stopped without recording its end (it could not
    reach mark_failed, or the execution itself failed) is answered as failed while the record is still
    `started`; a completed record stands whatever the execution said (its order exists)."""
    stored = store.checkouts.get(state.checkout_id)
    if stored is None:
        raise CheckoutFailed("The checkout's record is missing.", code="checkout_not_found")
    ended = stored.value
    if ended.status == CheckoutStatus.STARTED and ended.order_id is None:
        failure = final.error or Failure(code="checkout_error", message="The checkout did not finish.")
        return ended.model_copy(update={"status": CheckoutStatus.FAILED, "failure": failure})
    return ended
