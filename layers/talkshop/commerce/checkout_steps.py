"""The steps of the checkout flow (statemachines/checkout.asl.json runs them in order), each a plain
function from one `CheckoutState` document to the next.

    validate_cart → reserve_inventory → price → authorise_payment → create_order → publish_events → confirm
    on failure: void_authorisation → release_inventory → mark_failed

Every step is idempotent, because a state machine may run a Task more than once (Express workflows
are at-least-once, and retries repeat a step whose answer was lost): ids derived from the checkout
id (`rsv_…`, `ord_…`) make a repeated create find what the first one wrote; the payment provider
dedupes on keys derived from the state's idempotency key; compensations do nothing when there is
nothing (left) to undo. A step that fails raises CheckoutStepError with a code the API answers with
and whether trying again can help (`retryable`: the state machine retries those with backoff).

Writes: the reservation (stock taken with the condition that it never goes below zero) is one
transaction; the order, the reservation's conversion, the cart's closing, the discount's counted
redemption, the chat's orders and total, the customer -> order connection and the order events are
another; a failed checkout's record and its `checkout_failed` event a third.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from talkshop.advisor.model import Reaction
from talkshop.advisor.store import ConversationStore, LoadedSession
from talkshop.api.observability import logger
from talkshop.catalog.service import product_ref
from talkshop.clock import Clock, utc_now
from talkshop.commerce.carts import CartService
from talkshop.commerce.discounts import DiscountRefused, DiscountService
from talkshop.commerce.model import (
    Address,
    Cart,
    CartStatus,
    CheckoutRecord,
    CheckoutStatus,
    Failure,
    Order,
    OrderStatus,
    PaymentReference,
    Quote,
    Reservation,
    ReservationStatus,
    ReservedLine,
)
from talkshop.commerce.orders import conversation_facts
from talkshop.commerce.payments.model import (
    PaymentDeclined,
    PaymentError,
    PaymentProvider,
    PaymentUnavailable,
)
from talkshop.commerce.store import CommerceStore, Loaded, commerce_event
from talkshop.data.repository import Repository, UnitOfWork
from talkshop.errors import Conflict, TalkshopError
from talkshop.ontology.model import EventType, Identifier
from talkshop.search.service import format_price


class PaymentInstruction(BaseModel):
    """How to pay: the provider's name and the opaque token the client sent (spt_…, pm_…, vt_…)."""

    model_config = ConfigDict(extra="forbid")

    provider: str
    token_ref: str = Field(min_length=1, max_length=500)


class CheckoutState(BaseModel):
    """The one document the state machine passes from step to step (snake_case JSON)."""

    model_config = ConfigDict(extra="forbid")

    checkout_id: Identifier
    cart_id: Identifier
    user_id: Identifier
    session_id: Identifier | None = None
    discount_code: str | None = Field(default=None, description="A code the shopper typed at checkout")
    shipping_option: str
    address: Address | None = None
    payment: PaymentInstruction
    idempotency_key: str = Field(min_length=1, description="Base of the payment provider's idempotency keys")
    agent_id: str | None = Field(default=None, description="The ACP agent checking out, if one is")
    quote: Quote | None = None
    reservation_id: Identifier | None = None
    authorisation_id: str | None = None
    order_id: Identifier | None = None
    error: Failure | None = None

    @model_validator(mode="before")
    @classmethod
    def _states_error(cls, data: Any) -> Any:
        """Accept the error as a Catch with `ResultPath: $.error` leaves it ({"Error", "Cause"})."""
        if isinstance(data, dict) and isinstance(data.get("error"), Mapping) and "Error" in data["error"]:
            return {**data, "error": failure_from_states_error(data["error"]).model_dump()}
        return data


class CheckoutStepError(Exception):
    """A step's failure: a code and message for the API, and whether the same step may succeed later."""

    def __init__(self, code: str, message: str, retryable: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.retryable = retryable

    def __str__(self) -> str:
        # What Lambda reports as errorMessage, and so what a Catch finds in the Cause: code and message.
        return json.dumps({"code": self.code, "message": self.message, "retryable": self.retryable})

    @property
    def failure(self) -> Failure:
        return Failure(code=self.code, message=self.message)


def failure_from_states_error(error: Mapping[str, Any]) -> Failure:
    """A Step Functions error ({"Error": name, "Cause": text}) as the checkout's Failure. A Lambda's
    Cause is {"errorMessage": ...}; ours carry JSON with the code (see CheckoutStepError.__str__)."""
    name, cause = str(error.get("Error", "")), str(error.get("Cause", ""))
    try:
        message = json.loads(cause).get("errorMessage", cause)
        detail = json.loads(message)
        return Failure(code=str(detail["code"]), message=str(detail["message"]))
    except (ValueError, TypeError, KeyError, AttributeError):
        # Not one of our step errors: a crash or a Step Functions runtime error. Its cause may hold a stack
        # trace and file paths, which go to the log, never to the caller.
        logger.error("checkout failed unexpectedly", extra={"error": name, "cause": cause[:4000]})
        return Failure(code="checkout_error", message="The checkout failed on our side; it has been logged.")


Step = Callable[[CheckoutState], CheckoutState]

# The forward steps in the state machine's order, then the compensations in theirs.
FORWARD_STEPS = (
    "validate_cart",
    "reserve_inventory",
    "price",
    "authorise_payment",
    "create_order",
    "publish_events",
    "confirm",
)
COMPENSATIONS = ("void_authorisation", "release_inventory", "mark_failed")


def reservation_id_for(checkout_id: str) -> str:
    return "rsv_" + checkout_id.removeprefix("chk_")


def order_id_for(checkout_id: str) -> str:
    return "ord_" + checkout_id.removeprefix("chk_")


def _step_error(error: TalkshopError) -> CheckoutStepError:
    """A domain refusal met inside a step; a concurrent write is worth retrying, the rest is not."""
    return CheckoutStepError(error.code, error.message, retryable=error.code == "concurrent_update")


class CheckoutSteps:
    """The steps over their dependencies: the table, the payment provider and a clock."""

    def __init__(self, repository: Repository, payments: PaymentProvider, clock: Clock = utc_now) -> None:
        self.store = CommerceStore(repository)
        self.conversations = ConversationStore(repository, clock)
        self.discounts = DiscountService(self.store, clock)
        self.carts = CartService(self.store, self.conversations, self.discounts, clock)
        self.payments = payments
        self.clock = clock

    def table(self) -> dict[str, Step]:
        return {name: getattr(self, name) for name in (*FORWARD_STEPS, *COMPENSATIONS)}

    # Forward

    def validate_cart(self, state: CheckoutState) -> CheckoutState:
        """The cart is the shopper's, open, not empty, everything in it still for sale at the price the
        shopper saw. A changed price is not charged: the cart takes the new prices and the checkout
        stops with `price_changed`, so the shopper sees the new total before paying it."""
        current = self._open_cart(state)
        cart = current.value
        if not cart.lines:
            raise CheckoutStepError("cart_empty", "The cart is empty.")
        changes, gone = self.carts.price_changes(cart)
        if gone:
            raise CheckoutStepError("product_unavailable", f"No longer for sale: {', '.join(gone)}.")
        if changes:
            work = self.store.repository.unit_of_work()
            self.carts.stage_reprice(work, current, changes)
            self._commit(work)
            described = "; ".join(
                f"{change.name} was {format_price(change.was, change.currency)}, "
                f"now {format_price(change.now, change.currency)}"
                for change in changes
            )
            raise CheckoutStepError(
                "price_changed", f"Prices changed: {described}. Review the cart and check out again."
            )
        if state.session_id:
            session = self.conversations.get(state.session_id)
            if session is None or session.session.user_id != state.user_id:
                raise CheckoutStepError("session_not_found", f"No chat {state.session_id!r} of this shopper.")
        return state

    def reserve_inventory(self, state: CheckoutState) -> CheckoutState:
        """Take every line's units out of stock in one transaction, or none if any is short."""
        reservation_id = reservation_id_for(state.checkout_id)
        reserved = state.model_copy(update={"reservation_id": reservation_id})
        if self.store.reservations.get(reservation_id) is not None:
            return reserved
        cart = self._open_cart(state).value
        now = self.clock()
        reservation = Reservation(
            id=reservation_id,
            checkout_id=state.checkout_id,
            lines=[ReservedLine(product_id=line.product_id, quantity=line.quantity) for line in cart.lines],
            created_at=now,
        )
        work = self.store.repository.unit_of_work()
        for line in cart.lines:
            self.store.stage_take_stock(work, line.product_id, line.quantity, now, _short_of(line.name))
        self.store.reservations.stage_create(work, reservation, now)
        try:
            work.commit()
        except TalkshopError as error:
            if error.code == "reservation_exists":  # the same step, run twice at once: done by the other
                return reserved
            raise _step_error(error) from error
        return reserved

    def price(self, state: CheckoutState) -> CheckoutState:
        cart = self._open_cart(state).value
        try:
            quote = self.carts.quote(cart, state.discount_code, state.shipping_option)
        except TalkshopError as error:
            raise _step_error(error) from error
        return state.model_copy(update={"quote": quote})

    def authorise_payment(self, state: CheckoutState) -> CheckoutState:
        quote = self._quote(state)
        if state.authorisation_id or quote.total == 0:
            return state
        try:
            authorisation = self.payments.authorise(
                quote.total, quote.currency, state.payment.token_ref, f"{state.idempotency_key}:authorise"
            )
        except PaymentError as error:
            raise _payment_error(error) from error
        except TalkshopError as error:  # a token the provider cannot use at all
            raise _step_error(error) from error
        if authorisation.status != "authorised":
            raise CheckoutStepError(PaymentDeclined.code, "The payment was declined.")
        return state.model_copy(update={"authorisation_id": authorisation.id})

    def create_order(self, state: CheckoutState) -> CheckoutState:
        """The order and everything that follows from it, in one transaction (see the module doc)."""
        order_id = order_id_for(state.checkout_id)
        placed = state.model_copy(update={"order_id": order_id})
        if self.store.orders.get(order_id) is not None:
            return placed
        quote = self._quote(state)
        cart = self._open_cart(state)
        reservation = self._held_reservation(state)
        checkout = self._checkout(state)
        session = self.conversations.get(state.session_id) if state.session_id else None
        now = self.clock()
        offered = self.store.offered_code(session.session.id) if session else None
        order = Order(
            id=order_id,
            user_id=state.user_id,
            cart_id=state.cart_id,
            checkout_id=state.checkout_id,
            lines=quote.lines,
            currency=quote.currency,
            subtotal=quote.subtotal,
            discount=quote.discount,
            shipping=quote.shipping,
            tax=quote.tax,
            total=quote.total,
            discount_code=quote.discount_code,
            shipping_option=quote.shipping_option,
            address=state.address,
            # The provider that charged is this function's own: the caller's label may not know it.
            payment=PaymentReference(provider=self.payments.name, authorisation_id=state.authorisation_id),
            agent_id=state.agent_id,
            created_at=now,
            **conversation_facts(
                session.session if session else None,
                quote.lines,
                applied_code=quote.discount_code,
                offered_code=offered,
                ordered_at=now,
            ).model_dump(),
        )
        work = self.store.repository.unit_of_work()
        self.store.orders.stage_create(work, order, now)
        self.store.reservations.stage_replace(
            work,
            reservation,
            reservation.value.model_copy(update={"status": ReservationStatus.CONVERTED}),
            now,
        )
        self.store.carts.stage_replace(
            work,
            cart,
            cart.value.model_copy(
                update={"status": CartStatus.ORDERED, "order_id": order_id, "updated_at": now}
            ),
            now,
        )
        self.store.checkouts.stage_replace(
            work, checkout, checkout.value.model_copy(update={"order_id": order_id}), now
        )
        payload = _order_payload(order)
        work.record_event(
            commerce_event(
                EventType.ORDER_PLACED, self.store.orders.ref(order_id), now, order.user_id, **payload
            )
        )
        if quote.discount_code:
            self._stage_redemption(work, order, quote.discount_code)
        if session:
            self._stage_chat_order(work, session, order)
        try:
            work.commit()
        except TalkshopError as error:
            if error.code == "order_exists":
                return placed
            raise _step_error(error) from error
        return placed

    def publish_events(self, state: CheckoutState) -> CheckoutState:
        """Tell the advisor what was bought: the shopper's memory gains the products (so they are not
        offered again) and the chat's recommendations of them are marked `purchased`. (The order's
        events are already in the outbox, written with the order.)"""
        order = self._order(state)
        bought = [line.product_id for line in order.lines]
        work = self.store.repository.unit_of_work()
        memory = self.conversations.memory(order.user_id)
        if memory is not None and not set(bought) <= set(memory.purchased_products):
            purchased = list(dict.fromkeys([*memory.purchased_products, *bought]))[-50:]
            self.conversations.stage_memory(work, memory.model_copy(update={"purchased_products": purchased}))
        if order.conversation_id:
            for recommendation, stored in self.conversations.recommendations_in(order.conversation_id):
                if recommendation.product_id in bought and recommendation.reaction != Reaction.PURCHASED:
                    self.conversations.stage_reaction(work, stored, recommendation, Reaction.PURCHASED)
        self._commit(work)
        return state

    def confirm(self, state: CheckoutState) -> CheckoutState:
        """Capture the payment; the order is paid and the checkout completed."""
        loaded = self._loaded_order(state)
        order = loaded.value
        if order.status != OrderStatus.PLACED:
            return state
        if state.authorisation_id:
            try:
                self.payments.capture(state.authorisation_id, f"{state.idempotency_key}:capture")
            except PaymentError as error:
                raise _payment_error(error) from error
        now = self.clock()
        paid = order.model_copy(update={"status": OrderStatus.PAID, "paid_at": now})
        checkout = self._checkout(state)
        work = self.store.repository.unit_of_work()
        self.store.orders.stage_replace(work, loaded, paid, now)
        self.store.checkouts.stage_replace(
            work, checkout, checkout.value.model_copy(update={"status": CheckoutStatus.COMPLETED}), now
        )
        work.record_event(
            commerce_event(
                EventType.ORDER_PAID, loaded.stored.ref, now, order.user_id, **_order_payload(paid)
            )
        )
        self._commit(work)
        return state

    # Compensations

    def void_authorisation(self, state: CheckoutState) -> CheckoutState:
        if state.authorisation_id is None or state.order_id is not None:
            return state
        try:
            self.payments.void(state.authorisation_id, f"{state.idempotency_key}:void")
        except PaymentUnavailable as error:
            raise CheckoutStepError(error.code, error.message, retryable=True) from error
        except PaymentDeclined:
            pass  # nothing left to void (expired, or voided already)
        return state

    def release_inventory(self, state: CheckoutState) -> CheckoutState:
        """Put a held reservation's units back; released or converted ones are left alone, so a
        release that runs twice (or races another) puts them back once."""
        if state.reservation_id is None:
            return state
        loaded = self.store.reservations.get(state.reservation_id)
        if loaded is None or loaded.value.status != ReservationStatus.HELD:
            return state
        now = self.clock()
        work = self.store.repository.unit_of_work()
        self.store.reservations.stage_replace(
            work, loaded, loaded.value.model_copy(update={"status": ReservationStatus.RELEASED}), now
        )
        existing = self.store.repository.get_many(
            [product_ref(line.product_id) for line in loaded.value.lines]
        )
        for line in loaded.value.lines:
            if product_ref(line.product_id) in existing:  # a deleted product takes nothing back
                self.store.stage_return_stock(work, line.product_id, line.quantity, now, _concurrent)
        try:
            work.commit()
        except Conflict as error:
            again = self.store.reservations.get(state.reservation_id)
            if again is not None and again.value.status != ReservationStatus.HELD:
                return state
            raise _step_error(error) from error
        return state

    def mark_failed(self, state: CheckoutState) -> CheckoutState:
        """The checkout's record says why it failed, with its checkout_failed event; the cart is untouched."""
        failure = state.error or Failure(code="checkout_error", message="The checkout failed.")
        checkout = self._checkout(state)
        if checkout.value.status == CheckoutStatus.FAILED:
            return state
        now = self.clock()
        work = self.store.repository.unit_of_work()
        self.store.checkouts.stage_replace(
            work,
            checkout,
            checkout.value.model_copy(update={"status": CheckoutStatus.FAILED, "failure": failure}),
            now,
        )
        work.record_event(
            commerce_event(
                EventType.CHECKOUT_FAILED,
                checkout.stored.ref,
                now,
                state.user_id,
                checkout_id=state.checkout_id,
                cart_id=state.cart_id,
                session_id=state.session_id,
                code=failure.code,
                message=failure.message,
            )
        )
        self._commit(work)
        return state.model_copy(update={"error": failure})

    # Internals

    def _commit(self, work: UnitOfWork) -> None:
        try:
            work.commit()
        except TalkshopError as error:
            raise _step_error(error) from error

    def _open_cart(self, state: CheckoutState) -> Loaded[Cart]:
        loaded = self.store.carts.get(state.cart_id)
        if loaded is None or loaded.value.user_id != state.user_id:
            raise CheckoutStepError("cart_not_found", f"No cart {state.cart_id!r} of this shopper.")
        if loaded.value.status != CartStatus.OPEN:
            raise CheckoutStepError("cart_closed", f"Cart {state.cart_id!r} has been ordered already.")
        return loaded

    def _checkout(self, state: CheckoutState) -> Loaded[CheckoutRecord]:
        loaded = self.store.checkouts.get(state.checkout_id)
        if loaded is None:
            raise CheckoutStepError("checkout_not_found", f"No checkout {state.checkout_id!r}.")
        return loaded

    def _held_reservation(self, state: CheckoutState) -> Loaded[Reservation]:
        loaded = self.store.reservations.get(state.reservation_id) if state.reservation_id else None
        if loaded is None or loaded.value.status != ReservationStatus.HELD:
            raise CheckoutStepError(
                "reservation_missing", "The stock reservation is missing or was released."
            )
        return loaded

    def _loaded_order(self, state: CheckoutState) -> Loaded[Order]:
        loaded = self.store.orders.get(state.order_id) if state.order_id else None
        if loaded is None:
            raise CheckoutStepError("order_not_found", "The order of this checkout does not exist.")
        return loaded

    def _order(self, state: CheckoutState) -> Order:
        return self._loaded_order(state).value

    @staticmethod
    def _quote(state: CheckoutState) -> Quote:
        if state.quote is None:
            raise CheckoutStepError("not_priced", "The checkout has not been priced.")
        return state.quote

    def _stage_redemption(self, work: UnitOfWork, order: Order, code: str) -> None:
        discount = self.discounts.require(code)
        self.store.stage_redemption(
            work,
            discount,
            order.user_id,
            order.created_at,
            on_used_up=lambda: DiscountRefused(f"The code {code} has been used up.", code="discount_used_up"),
            on_customer_limit=lambda: DiscountRefused(
                f"You have already used the code {code}.", code="discount_limit_reached"
            ),
        )
        work.record_event(
            commerce_event(
                EventType.DISCOUNT_APPLIED,
                self.store.discounts.ref(code),
                order.created_at,
                order.user_id,
                code=code,
                order_id=order.id,
                amount=order.discount,
                currency=order.currency,
                from_chat=order.discount_applied_from_chat,
            )
        )

    def _stage_chat_order(self, work: UnitOfWork, session: LoadedSession, order: Order) -> None:
        chat = session.session
        same_currency = chat.currency in (None, order.currency)
        updated = chat.model_copy(
            update={
                "orders": [*chat.orders, order.id],
                "total_value": chat.total_value + order.total if same_currency else chat.total_value,
                "currency": chat.currency or order.currency,
                "carted_products": list(
                    dict.fromkeys([*chat.carted_products, *(line.product_id for line in order.lines)])
                ),
            }
        )
        self.conversations.stage_replace(work, session, updated)
        self.store.stage_purchase_link(work, order, order.created_at)
        work.record_event(
            commerce_event(
                EventType.ORDER_PLACED_FROM_CHAT,
                self.store.orders.ref(order.id),
                order.created_at,
                order.user_id,
                platform=chat.platform.value,
                messages_count=order.messages_count,
                conversation_duration=order.conversation_duration,
                **_order_payload(order),
            )
        )


def _order_payload(order: Order) -> dict[str, Any]:
    """What order events carry: enough for analytics and for webhooks to route by creator and agent."""
    return {
        "order_id": order.id,
        "status": order.status.value,
        "total": order.total,
        "currency": order.currency,
        "discount_code": order.discount_code,
        "order_source": order.order_source.value,
        "conversation_id": order.conversation_id,
        "agent_id": order.agent_id,
        "creator_ids": list(dict.fromkeys(line.creator_id for line in order.lines)),
        "lines": [
            {
                "product_id": line.product_id,
                "creator_id": line.creator_id,
                "quantity": line.quantity,
                "amount": line.amount,
            }
            for line in order.lines
        ],
    }


def _payment_error(error: PaymentError) -> CheckoutStepError:
    """Providers have reasons of their own (card_declined...); the checkout answers with the two kinds."""
    kind = PaymentUnavailable if isinstance(error, PaymentUnavailable) else PaymentDeclined
    return CheckoutStepError(kind.code, error.message, retryable=error.retryable)


def _short_of(name: str) -> Callable[[], TalkshopError]:
    return lambda: Conflict(f"Not enough {name} left in stock.", code="out_of_stock")


def _concurrent() -> TalkshopError:
    return Conflict(
        "A product changed while its stock was being returned; retrying.", code="concurrent_update"
    )


@lru_cache(maxsize=1)
def default_steps() -> CheckoutSteps:
    """The steps over this process's table and configured payment provider."""
    from talkshop.api import context

    return CheckoutSteps(context.repository(), context.payment_provider())


def _bound(name: str) -> Step:
    def step(state: CheckoutState) -> CheckoutState:
        result: CheckoutState = getattr(default_steps(), name)(state)
        return result

    step.__name__ = name
    return step


# The steps by the names the state machine's Tasks use.
STEPS: dict[str, Step] = {name: _bound(name) for name in (*FORWARD_STEPS, *COMPENSATIONS)}
