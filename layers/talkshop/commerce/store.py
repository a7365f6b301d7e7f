"""Where commerce lives in the single table: carts, orders, discounts, checkouts and reservations.

Every thing is written through the Repository's units of work (created only if absent, replaced only at
the version read). Two kinds of write are not read-modify-write, because they must hold under any
concurrency without retries: stock moves in place with the condition that it never goes below zero,
and a discount's redemptions are counters whose limit is part of the write's condition.

Index entries:
- cart: by shopper (BY_USER) and status; order: by shopper, by status and by source (the `source`
  facet: conversational / traditional); checkout: by shopper and status; reservation: by status (held
  reservations are what a sweep of abandoned checkouts would read); discount: by issuer (BY_OWNER:
  the creator, or `talkshop` for the marketplace's own codes).
- counters in a discount's partition: `uses`, and `uses_by:<user id>` per customer.
- the code a chat offered: `discount_offer` knowledge on the conversation_session.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from talkshop.advisor.store import customer_ref, session_ref
from talkshop.catalog.service import product_ref
from talkshop.commerce.model import (
    Cart,
    CheckoutRecord,
    Discount,
    Order,
    OrderStatus,
    Reservation,
)
from talkshop.data.repository import (
    IndexEntries,
    ListQuery,
    Repository,
    StoredEntity,
    UnitOfWork,
    by_owner,
    by_type,
    by_user,
    data_field,
)
from talkshop.errors import Conflict, TalkshopError
from talkshop.ontology.model import (
    Connection,
    ConnectionType,
    Dimension,
    EntityRef,
    Event,
    EventType,
    Knowledge,
    ThingType,
)

# The issuer under which the marketplace's own (admin) codes are listed: the marketplace group's id.
MARKETPLACE = "talkshop"
DISCOUNT_OFFER = "discount_offer"
ORDER_SOURCE_FACET = "source"
GLOBAL_USES = "uses"

Model = TypeVar("Model", bound=BaseModel)


@dataclass(frozen=True)
class Loaded(Generic[Model]):
    """A thing as read, with the stored item a replace is conditioned on."""

    value: Model
    stored: StoredEntity


def thing_ref(thing_type: ThingType, thing_id: str) -> EntityRef:
    return EntityRef(dimension=Dimension.THING, type=thing_type, id=thing_id)


def _changed(kind: str, thing_id: str) -> Conflict:
    return Conflict(
        f"The {kind} {thing_id!r} changed while this request was being handled; read it again and retry.",
        code="concurrent_update",
    )


class ThingStore(Generic[Model]):
    """One thing type: its model, where it is listed, and its reads and staged writes."""

    def __init__(
        self,
        repository: Repository,
        thing_type: ThingType,
        model: type[Model],
        index: Callable[[Model], IndexEntries],
        *,
        id_field: str = "id",
        derived: frozenset[str] = frozenset(),
    ) -> None:
        self.repository = repository
        self.thing_type = thing_type
        self.model = model
        self.index = index
        # The field naming the thing (kept in its key, not its data), and fields read from elsewhere.
        self.id_field = id_field
        self.not_stored = {"version", "id", *derived} if id_field == "id" else {"version", *derived}

    def ref(self, thing_id: str) -> EntityRef:
        return thing_ref(self.thing_type, thing_id)

    def get(self, thing_id: str) -> Loaded[Model] | None:
        stored = self.repository.get(self.ref(thing_id))
        return Loaded(self.from_stored(stored), stored) if stored else None

    def from_stored(self, stored: StoredEntity) -> Model:
        return self.model.model_validate(
            {**stored.data, self.id_field: stored.ref.id, "version": stored.version}
        )

    def stage_create(
        self,
        work: UnitOfWork,
        value: Model,
        now: datetime,
        on_exists: Callable[[], TalkshopError] | None = None,
    ) -> None:
        thing_id = str(getattr(value, self.id_field))

        def exists() -> TalkshopError:
            return Conflict(
                f"The {self.thing_type} {thing_id!r} already exists.", code=f"{self.thing_type}_exists"
            )

        work.create(self.ref(thing_id), self._data(value), self.index(value), now, on_exists or exists)

    def stage_replace(self, work: UnitOfWork, current: Loaded[Model], value: Model, now: datetime) -> None:
        work.replace(
            current.stored,
            self._data(value),
            self.index(value),
            now,
            on_conflict=lambda: _changed(str(self.thing_type), current.stored.ref.id),
        )

    def page(
        self, query: ListQuery, *, limit: int, cursor: str | None, filters: Any = None
    ) -> tuple[list[Model], str | None]:
        page = self.repository.page(query, limit=limit, cursor=cursor, filters=filters)
        return [self.from_stored(item) for item in page.items], page.next_cursor

    def _data(self, value: BaseModel) -> dict[str, Any]:
        return value.model_dump(mode="json", exclude=self.not_stored)


def _cart_index(cart: Cart) -> IndexEntries:
    return IndexEntries(user_id=cart.user_id, status=cart.status)


def _order_index(order: Order) -> IndexEntries:
    return IndexEntries(
        user_id=order.user_id, status=order.status, facet=(ORDER_SOURCE_FACET, order.order_source)
    )


def _checkout_index(checkout: CheckoutRecord) -> IndexEntries:
    return IndexEntries(user_id=checkout.user_id, status=checkout.status)


def _reservation_index(reservation: Reservation) -> IndexEntries:
    return IndexEntries(status=reservation.status)


def _discount_index(discount: Discount) -> IndexEntries:
    return IndexEntries(owner_id=discount.creator_id or MARKETPLACE)


def customer_uses_counter(user_id: str) -> str:
    return f"uses_by:{user_id}"


def commerce_event(
    event_type: EventType, subject: EntityRef, occurred_at: datetime, user_id: str, **payload: Any
) -> Event:
    return Event(
        id=uuid.uuid4().hex,
        type=event_type,
        subject=subject,
        occurred_at=occurred_at,
        actor=customer_ref(user_id),
        payload={"user_id": user_id, **payload},
    )


class CommerceStore:
    def __init__(self, repository: Repository) -> None:
        self.repository = repository
        self.carts = ThingStore(repository, ThingType.CART, Cart, _cart_index)
        self.orders = ThingStore(repository, ThingType.ORDER, Order, _order_index)
        self.checkouts = ThingStore(repository, ThingType.CHECKOUT, CheckoutRecord, _checkout_index)
        self.reservations = ThingStore(repository, ThingType.RESERVATION, Reservation, _reservation_index)
        self.discounts = ThingStore(
            repository,
            ThingType.DISCOUNT,
            Discount,
            _discount_index,
            id_field="code",
            derived=frozenset({"uses"}),
        )

    # Stock

    @staticmethod
    def stage_take_stock(
        work: UnitOfWork, product_id: str, quantity: int, now: datetime, on_short: Callable[[], TalkshopError]
    ) -> None:
        """Take units out of a product's stock; the transaction is refused if fewer are left."""
        work.adjust_number(
            product_ref(product_id), "stock", -quantity, now, never_below=0, on_refused=on_short
        )

    @staticmethod
    def stage_return_stock(
        work: UnitOfWork, product_id: str, quantity: int, now: datetime, on_gone: Callable[[], TalkshopError]
    ) -> None:
        work.adjust_number(product_ref(product_id), "stock", quantity, now, on_refused=on_gone)

    # Orders

    def orders_of(self, user_id: str, *, limit: int, cursor: str | None) -> tuple[list[Order], str | None]:
        return self.orders.page(by_user(user_id, ThingType.ORDER), limit=limit, cursor=cursor)

    def has_paid_order(self, user_id: str) -> bool:
        orders, _ = self.orders.page(
            by_user(user_id, ThingType.ORDER),
            limit=1,
            cursor=None,
            filters=data_field("status").is_in([OrderStatus.PAID.value, OrderStatus.REFUNDED.value]),
        )
        return bool(orders)

    @staticmethod
    def stage_purchase_link(work: UnitOfWork, order: Order, now: datetime) -> None:
        """customer -> order, for orders that came from a chat (readable from either end)."""
        work.connect(
            Connection(
                source=customer_ref(order.user_id),
                type=ConnectionType.PURCHASED_VIA_CHAT,
                target=thing_ref(ThingType.ORDER, order.id),
                attributes={"conversation_id": order.conversation_id},
            ),
            now,
        )

    def purchased_via_chat(self, user_id: str) -> list[str]:
        return [
            ref.id
            for ref in self.repository.connected(customer_ref(user_id), ConnectionType.PURCHASED_VIA_CHAT)
        ]

    # Discounts

    def discount(self, code: str) -> Discount | None:
        """A code with its redemptions so far."""
        loaded = self.discounts.get(code)
        if loaded is None:
            return None
        return loaded.value.model_copy(
            update={"uses": self.repository.counter(loaded.stored.ref, GLOBAL_USES)}
        )

    def discounts_issued_by(self, issuer: str) -> Iterator[Discount]:
        for stored in self.repository.iterate(by_owner(issuer, ThingType.DISCOUNT)):
            yield self._with_uses(stored)

    def discounts_page(
        self, issuer: str | None, *, limit: int, cursor: str | None
    ) -> tuple[list[Discount], str | None]:
        query = (
            by_owner(issuer, ThingType.DISCOUNT) if issuer else by_type(Dimension.THING, ThingType.DISCOUNT)
        )
        page = self.repository.page(query, limit=limit, cursor=cursor)
        return [self._with_uses(stored) for stored in page.items], page.next_cursor

    def _with_uses(self, stored: StoredEntity) -> Discount:
        discount = self.discounts.from_stored(stored)
        return discount.model_copy(update={"uses": self.repository.counter(stored.ref, GLOBAL_USES)})

    def customer_uses(self, code: str, user_id: str) -> int:
        return self.repository.counter(self.discounts.ref(code), customer_uses_counter(user_id))

    def stage_redemption(
        self,
        work: UnitOfWork,
        discount: Discount,
        user_id: str,
        now: datetime,
        on_used_up: Callable[[], TalkshopError],
        on_customer_limit: Callable[[], TalkshopError],
    ) -> None:
        """One more use of the code, in all and by this customer: refused past either limit.

        A first-order code counts against a limit of one per customer: "no paid order yet" is read
        before the order, so two checkouts racing with the code would otherwise both pass it."""
        ref = self.discounts.ref(discount.code)
        work.increment_counter(ref, GLOBAL_USES, now, at_most=discount.max_uses, on_refused=on_used_up)
        work.increment_counter(
            ref,
            customer_uses_counter(user_id),
            now,
            at_most=discount.uses_per_customer,
            on_refused=on_customer_limit,
        )

    def offered_code(self, session_id: str) -> str | None:
        content = self.repository.knowledge(session_ref(session_id), DISCOUNT_OFFER)
        return str(content["code"]) if content else None

    @staticmethod
    def stage_offer(work: UnitOfWork, session_id: str, code: str, now: datetime) -> None:
        work.put_knowledge(
            Knowledge(subject=session_ref(session_id), kind=DISCOUNT_OFFER, content={"code": code}), now
        )
