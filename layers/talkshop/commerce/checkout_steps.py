"""The steps of the checkout flow (statemachines/checkout.asl.json runs them in order), each a plain
function from one `CheckoutState` document to the next.

    validate_cart → reserve_inventory → price → authorise_payment → create_order → publish_events → confirm
    on a failure up to create_order: void_authorisation → release_inventory → mark_failed

Every step is idempotent, because a state machine may run a Task more than once (Express workflows
are at-least-once, and retries repeat a step whose answer was lost): ids derived from the checkout
id (`rsv_…`, `ord_…`) make a repeated create find what the first one wrote; the payment provider
dedupes on keys derived from the state's idempotency key; compensations find what to undo from the
checkout's id (the reservation's id, the provider and key the authorise step recorded before calling
the provider), and do nothing when there is nothing (left) to undo or once the order exists. The order
is the point of no return: publish_events and confirm are never compensated, and `sweep_stale` finishes
what dead executions leave (rolled back before the order, forward after it). A step that fails raises
CheckoutStepError with a code the API answers with and whether trying again can help (`retryable`: the
state machine retries those with backoff).

Writes: the reservation (stock taken with the condition that it never goes below zero) is one
transaction; the order, the reservation's conversion, the cart's closing, the checkout's completion, the
discount's counted redemption, the chat's orders and total, the customer -> order connection and the order
events are another; a failed checkout's record and its `checkout_failed` event a third.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from talkshop.advisor.model import Reaction
from talkshop.advisor.store import ConversationStore, LoadedSession
from talkshop.analytics.experiments import stage_chat_order, stage_reactions
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
from talkshop.commerce.store import CommerceStore, Loaded, ThingStore, commerce_event
from talkshop.data.repository import Repository, UnitOfWork, by_status
from talkshop.errors import Conflict, TalkshopError
from talkshop.ontology.model import EventType, Identifier
from talkshop.search.service import format_price


class PaymentInstruction(BaseModel):
    """How to pay: the opaque token the client sent (spt_…, pm_…, vt_…). Which provider charges it is
    the checkout_steps function's configuration, not the caller's: the record names it once it has
    (see authorise_payment). Unknown fields are ignored (states of the previous release named one)."""

    model_config = ConfigDict(extra="ignore")

    # Kept out of reprs, so that an exception or a log line that shows the state does not show it.
    token_ref: str = Field(min_length=1, max_length=500, repr=False)


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


# The Error of an execution that ended in the flow's own `Failed` state: the failure's code (the Cause is
# its message). Lambda and Step Functions name theirs otherwise (CheckoutStepError, States.Timeout...).
_FAILURE_CODE = re.compile(r"^[a-z][a-z0-9_]*$")


def failure_from_states_error(error: Mapping[str, Any]) -> Failure:
    """A Step Functions error ({"Error": name, "Cause": text}) as the checkout's Failure: the flow's own
    `Failed` state gives the code and message; a Lambda's Cause is {"errorMessage": ...}, ours carrying
    JSON with the code (see CheckoutStepError.__str__)."""
    name, cause = str(error.get("Error", "")), str(error.get("Cause", ""))
    if _FAILURE_CODE.match(name):
        return Failure(code=name, message=cause)
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
# The order is the point of no return: a failure up to its creation is compensated; the steps after it
# are retried and never compensated (a failure leaves the order placed, for the sweep to capture).
BEFORE_ORDER = FORWARD_STEPS[: FORWARD_STEPS.index("create_order") + 1]
AFTER_ORDER = FORWARD_STEPS[len(BEFORE_ORDER) :]


# Longer than any execution can hold a reservation (an Express execution lasts at most five minutes).
STALE_AFTER = timedelta(minutes=15)
ABANDONED = Failure(
    code="checkout_abandoned", message="The checkout did not finish in time; nothing was charged."
)


@dataclass
class SweepReport:
    """What a sweep of stale checkouts did: reservations released, checkouts failed, orders paid."""

    released: list[str] = field(default_factory=list)
    abandoned: list[str] = field(default_factory=list)
    paid: list[str] = field(default_factory=list)


def authorise_key(idempotency_key: str) -> str:
    """The provider's idempotency key for the checkout's one authorisation."""
    return f"{idempotency_key}:authorise"


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
        """Hold the total on the shopper's payment method. Before asking the provider, the checkout's
        record names the provider and the key the hold is asked under: if this step dies after the
        provider held the funds but before its answer reaches the state, the compensation (or the
        sweep) still finds and voids that hold by the key."""
        quote = self._quote(state)
        if state.authorisation_id or quote.total == 0:
            return state
        self._record_payment_attempt(state)
        try:
            authorisation = self.payments.authorise(
                quote.total, quote.currency, state.payment.token_ref, authorise_key(state.idempotency_key)
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
        _same_goods(cart.value, reservation.value, quote)
        checkout = self._checkout(state)
        if checkout.value.status != CheckoutStatus.STARTED:  # the sweep gave it up meanwhile
            raise CheckoutStepError("checkout_abandoned", "The checkout took too long and was abandoned.")
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
        # The order is the point of no return: from here the checkout has completed, whatever happens to
        # the steps after it (they are retried, and the sweep finishes what they leave; see confirm).
        self.store.checkouts.stage_replace(
            work,
            checkout,
            checkout.value.model_copy(update={"order_id": order_id, "status": CheckoutStatus.COMPLETED}),
            now,
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
            marked: dict[str, Reaction] = {}
            for recommendation, stored in self.conversations.recommendations_in(order.conversation_id):
                if recommendation.product_id in bought and recommendation.reaction != Reaction.PURCHASED:
                    self.conversations.stage_reaction(work, stored, recommendation, Reaction.PURCHASED)
                    marked[recommendation.id] = Reaction.PURCHASED
            chat = self.conversations.get(order.conversation_id) if marked else None
            if chat is not None:  # the purchases count for the chat's experiment arms too
                stage_reactions(work, chat.session, marked, self.clock())
        self._commit(work)
        return state

    def confirm(self, state: CheckoutState) -> CheckoutState:
        """Capture the payment; the order is paid."""
        self._capture(self._loaded_order(state), state.idempotency_key)
        return state

    # Compensations: each undoes only what is there to undo, and nothing once the order exists.

    def void_authorisation(self, state: CheckoutState) -> CheckoutState:
        """Release the hold on the shopper's funds: the authorisation the state names, or, when the
        authorise step died before naming it, whatever the provider held under the step's key."""
        checkout = self.store.checkouts.get(state.checkout_id)
        self._void(state.checkout_id, state.authorisation_id, checkout.value if checkout else None)
        return state

    def release_inventory(self, state: CheckoutState) -> CheckoutState:
        """Put a held reservation's units back; released or converted ones are left alone, so a
        release that runs twice (or races another) puts them back once. The reservation's id derives
        from the checkout's, so one reserved by a step that died before answering is found too."""
        self._release(reservation_id_for(state.checkout_id))
        return state

    def mark_failed(self, state: CheckoutState) -> CheckoutState:
        """The checkout's record says why it failed, with its checkout_failed event; the cart is untouched.
        A checkout that completed (its order exists) or failed already is left as it is."""
        failure = state.error or Failure(code="checkout_error", message="The checkout failed.")
        self._mark_failed(self._checkout(state), failure)
        return state.model_copy(update={"error": failure})

    # Recovery of checkouts whose execution died

    def sweep_stale(self, older_than: timedelta = STALE_AFTER) -> SweepReport:
        """Finish what dead executions left (an Express execution killed at its 5-minute limit, a step
        that timed out past its retries, a compensation that failed): every checkout still `started`,
        every held reservation and every `placed` order older than `older_than` (longer than a live
        execution can last). A checkout without its order is rolled back like a failed one (hold
        voided, reservation released, marked failed as `checkout_abandoned`); an order is rolled
        forward (captured, paid). Idempotent, and safe against a live execution: every write is
        conditioned on the version read, and a reservation is never released once its order exists."""
        cutoff = self.clock() - older_than
        report = SweepReport()
        for checkout in self._older(self.store.checkouts, CheckoutStatus.STARTED, cutoff):
            self._recover(checkout.value, report)
        for reservation in self._older(self.store.reservations, ReservationStatus.HELD, cutoff):
            record = self.store.checkouts.get(reservation.value.checkout_id)
            if record is not None:
                self._recover(record.value, report)
            elif self._release(reservation.value.id):  # no record: nothing else to undo
                report.released.append(reservation.value.id)
        for order in self._older(self.store.orders, OrderStatus.PLACED, cutoff):
            self._recover_order(order, report)
        return report

    def _recover(self, record: CheckoutRecord, report: SweepReport) -> None:
        order = self.store.orders.get(order_id_for(record.id))
        if order is not None:
            self._recover_order(order, report)
            return
        try:
            if record.payment_provider in (None, self.payments.name):
                self._void(record.id, None, record)
            else:  # swept where another provider is configured: the hold lapses at its provider
                logger.warning("sweep left a hold to lapse", extra={"checkout_id": record.id})
        except CheckoutStepError as error:  # the provider is down: the next sweep tries again
            logger.warning(
                "sweep could not void a hold", extra={"checkout_id": record.id, "code": error.code}
            )
            return
        if self._release(reservation_id_for(record.id)):
            report.released.append(reservation_id_for(record.id))
        checkout = self.store.checkouts.get(record.id)
        if checkout is not None and self._mark_failed(checkout, ABANDONED):
            report.abandoned.append(record.id)

    def _recover_order(self, order: Loaded[Order], report: SweepReport) -> None:
        if order.value.payment.authorisation_id and order.value.payment.provider != self.payments.name:
            logger.warning("sweep cannot capture with this provider", extra={"order_id": order.value.id})
            return
        checkout = self.store.checkouts.get(order.value.checkout_id)
        key_base = (
            checkout.value.payment_key if checkout and checkout.value.payment_key else order.value.checkout_id
        )
        try:
            if self._capture(order, key_base):
                report.paid.append(order.value.id)
        except CheckoutStepError as error:  # logged by _capture when it cannot succeed; retried next time
            logger.warning("sweep could not capture", extra={"order_id": order.value.id, "code": error.code})

    # Internals

    def _older(self, things: ThingStore[Any], status: str, cutoff: datetime) -> Iterator[Loaded[Any]]:
        """Things of a status created before `cutoff`, oldest first (the status index is kept in creation
        order, so the listing stops at the first younger one)."""
        for stored in self.store.repository.iterate(by_status(things.thing_type, status)):
            if stored.created_at >= cutoff:
                return
            yield Loaded(things.from_stored(stored), stored)

    def _record_payment_attempt(self, state: CheckoutState) -> None:
        checkout = self._checkout(state)
        named = {"payment_provider": self.payments.name, "payment_key": state.idempotency_key}
        if {field: getattr(checkout.value, field) for field in named} != named:
            work = self.store.repository.unit_of_work()
            now = self.clock()
            self.store.checkouts.stage_replace(work, checkout, checkout.value.model_copy(update=named), now)
            self._commit(work)

    def _capture(self, loaded: Loaded[Order], key_base: str) -> bool:
        """Capture a placed order's payment and mark it paid; False when it is not placed (any more)."""
        order = loaded.value
        if order.status != OrderStatus.PLACED:
            return False
        if order.payment.authorisation_id:
            try:
                self.payments.capture(order.payment.authorisation_id, f"{key_base}:capture")
            except PaymentError as error:
                if not error.retryable:
                    # Held funds that cannot be taken for an order that exists: someone has to look.
                    logger.error("capture refused for a placed order", extra={"order_id": order.id})
                raise _payment_error(error) from error
        now = self.clock()
        paid = order.model_copy(update={"status": OrderStatus.PAID, "paid_at": now})
        work = self.store.repository.unit_of_work()
        self.store.orders.stage_replace(work, loaded, paid, now)
        work.record_event(
            commerce_event(
                EventType.ORDER_PAID, loaded.stored.ref, now, order.user_id, **_order_payload(paid)
            )
        )
        try:
            work.commit()
        except TalkshopError as error:
            again = self.store.orders.get(order.id)
            if again is not None and again.value.status != OrderStatus.PLACED:
                return False  # paid by another run meanwhile
            raise _step_error(error) from error
        return True

    def _void(self, checkout_id: str, authorisation_id: str | None, record: CheckoutRecord | None) -> None:
        if self.store.orders.get(order_id_for(checkout_id)) is not None:
            return  # the order's authorisation is captured, never voided
        key_base = record.payment_key if record else None
        try:
            if authorisation_id:
                self.payments.void(authorisation_id, f"{key_base or checkout_id}:void")
            elif record is not None and key_base is not None:
                self.payments.void_attempt(authorise_key(key_base), f"{key_base}:void", record.created_at)
        except PaymentUnavailable as error:
            raise CheckoutStepError(error.code, error.message, retryable=True) from error
        except PaymentDeclined:
            pass  # nothing left to void (expired, or voided already)

    def _release(self, reservation_id: str) -> bool:
        """Return a held reservation's units; False when none was held (or its order exists)."""
        loaded = self.store.reservations.get(reservation_id)
        if loaded is None or loaded.value.status != ReservationStatus.HELD:
            return False
        if self.store.orders.get(order_id_for(loaded.value.checkout_id)) is not None:
            return False  # cannot be (the order converts it in its transaction); never release it anyway
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
            again = self.store.reservations.get(reservation_id)
            if again is not None and again.value.status != ReservationStatus.HELD:
                return False
            raise _step_error(error) from error
        return True

    def _mark_failed(self, checkout: Loaded[CheckoutRecord], failure: Failure) -> bool:
        record = checkout.value
        if record.status != CheckoutStatus.STARTED or record.order_id is not None:
            return False
        now = self.clock()
        work = self.store.repository.unit_of_work()
        failed = record.model_copy(update={"status": CheckoutStatus.FAILED, "failure": failure})
        self.store.checkouts.stage_replace(work, checkout, failed, now)
        cart = self.store.carts.get(record.cart_id)
        work.record_event(
            commerce_event(
                EventType.CHECKOUT_FAILED,
                checkout.stored.ref,
                now,
                record.user_id,
                checkout_id=record.id,
                cart_id=record.cart_id,
                session_id=record.session_id,
                code=failure.code,
                message=failure.message,
                # Whose webhooks hear of it: the creators of the cart's products, and the agent if any.
                creator_ids=sorted({line.creator_id for line in cart.value.lines}) if cart else [],
                agent_id=record.agent_id,
            )
        )
        try:
            work.commit()
        except TalkshopError as error:
            again = self.store.checkouts.get(record.id)
            if again is not None and again.value.status != CheckoutStatus.STARTED:
                return False  # completed or failed meanwhile: that outcome stands
            raise _step_error(error) from error
        return True

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
        loaded = self.store.reservations.get(reservation_id_for(state.checkout_id))
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
        stage_chat_order(work, chat, order.created_at)  # the order counts for the chat's experiment arms
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


def _same_goods(cart: Cart, reservation: Reservation, quote: Quote) -> None:
    """The order is made of what was reserved and priced: a cart changed since (a line added in another
    tab) would order units never taken out of stock, or at prices never quoted."""
    in_cart = sorted((line.product_id, line.quantity, line.unit_price) for line in cart.lines)
    quoted = sorted((line.product_id, line.quantity, line.unit_price) for line in quote.lines)
    reserved = sorted((line.product_id, line.quantity) for line in reservation.lines)
    if quoted != in_cart or reserved != [(product, quantity) for product, quantity, _ in in_cart]:
        raise CheckoutStepError("cart_changed", "The cart changed during the checkout; check out again.")


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
