"""A shopper's rights over their data (GDPR): opt out of analytics, export it all, erase it all.

- **Opt-out** is `analytics_opt_out` on the shopper's person record. The analytics consumer asks
  :class:`AnalyticsConsent` whether an event may be counted: not when its payload says
  `"analytics_opt_out": true`, nor when the shopper it names (`payload.user_id`) has opted out. The
  choice is read when the event is folded, so a rebuild leaves out every event of a shopper who is
  opted out at that time, also those from before the choice.
- **Export** gathers what the table holds about the shopper: the person record, their memory, every
  chat with its messages (and the experiment arms it was in), their recommendations, carts, checkouts
  and orders, the events about all of these and those of the discount codes they used that name them,
  how many times they used each code, and our stored copies of the webhooks that carried those events
  to creators and agents (with the recipient: who received their data).
- **Erasure** removes the memory and every other item about the person, the chats (the same erasure as
  deleting one chat: its messages, experiment arms and exposure events go with it), recommendations,
  carts, checkouts with their events, then the person and their tokens, so the token stops working
  last: an erasure cut short is finished by asking again, and so is one refused (409) because the
  shopper chatted meanwhile. Orders are kept for accounting but anonymised: the shopper's id is
  replaced by a random tombstone id (one per request) and the address dropped, in the orders, in the
  events about them and about the discount codes they used (their per-shopper use counters go), and in
  our stored webhook deliveries of their order and checkout events (redacted, not deleted: a creator's
  delivery log and redelivery stay, and send the anonymised body; what a receiver already got is
  its own copy, outside our reach). The events kept of a shopper who had opted out of analytics carry
  `"analytics_opt_out": true`, so they stay out of analytics with no person record left to say so.
  Analytics aggregates and experiment counters hold counts per day, product, creator, platform or
  arm, never a shopper's id, so they need no change.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from talkshop.advisor.chat_api import SessionView
from talkshop.advisor.model import ConversationSession, ShopperMemory
from talkshop.advisor.service import ChatSessions
from talkshop.advisor.store import (
    SHOPPER_MEMORY,
    AiRecommendation,
    ConversationStore,
    customer_ref,
    session_ref,
)
from talkshop.auth import Principal, PrincipalKind
from talkshop.clock import Clock, utc_now
from talkshop.commerce.model import Cart, CheckoutRecord, CheckoutStatus, Order
from talkshop.commerce.store import CommerceStore, Loaded, ThingStore, customer_uses_counter
from talkshop.commerce.webhooks import DeliveryCopy, delivery_copies, redact_deliveries
from talkshop.data.repository import IndexEntries, Repository, StoredEntity, UnitOfWork, by_user
from talkshop.errors import Conflict, Forbidden, NotFound, Unauthorized
from talkshop.ontology.model import EntityRef, Event, Person, ThingType

# An event whose payload carries this key set to true is never counted, whoever it names (the key the
# analytics fold also honours; the same name as the person record's field).
OPT_OUT_FLAG = "analytics_opt_out"
# Orders of an erased shopper name this instead of them: random, so nothing leads back to the person.
TOMBSTONE_PREFIX = "erased_"
_CAMEL = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class AnalyticsChoice(BaseModel):
    """The body and answer of PUT /api/me/analytics."""

    model_config = _CAMEL

    enabled: bool = Field(description="false: leave my events out of analytics; true: count them again")


class ShopperExport(BaseModel):
    """GET /api/me/export: everything Talkshop holds about the calling shopper."""

    model_config = _CAMEL

    exported_at: datetime
    shopper: Person
    analytics_enabled: bool
    memory: ShopperMemory | None
    chats: list[SessionView]
    recommendations: list[AiRecommendation]
    carts: list[Cart]
    checkouts: list[CheckoutRecord]
    orders: list[Order]
    events: list[Event] = Field(
        description="About the shopper and their chats, carts, checkouts and orders, and those of the "
        "discount codes they used that name them"
    )
    discount_uses: dict[str, int] = Field(
        description="How many times they used each discount code (what a code's limit per shopper counts)"
    )
    webhook_deliveries: list[DeliveryCopy] = Field(
        description="Our stored copies of the webhooks that sent their order and checkout events"
    )


def _not_a_shopper() -> Forbidden:
    return Forbidden("Only a shopper's own token reaches their data.", code="not_a_shopper")


def shopper_of(principal: Principal) -> str:
    """The shopper the caller is; 401 without credentials, 403 for any other kind of key."""
    if principal.kind == PrincipalKind.ANONYMOUS:
        raise Unauthorized(
            "Send 'Authorization: Bearer <shopper token>' (or the shop's cookie).", code="missing_credentials"
        )
    if principal.kind != PrincipalKind.SHOPPER or principal.person_id is None:
        raise _not_a_shopper()
    return principal.person_id


def _person_changed(user_id: str) -> Conflict:
    return Conflict(
        f"Shopper {user_id!r} changed while this request was handled; retry it.", code="concurrent_update"
    )


def _opted_out(stored: StoredEntity | None) -> bool:
    return bool(stored and stored.data.get("analytics_opt_out"))


def _codes_used(orders: Iterable[Order]) -> list[str]:
    """The discount codes these orders used, each once: their events and counters name the shopper."""
    return sorted({order.discount_code for order in orders if order.discount_code})


@dataclass(frozen=True)
class _Anonymisation:
    """How one erasure request rewrites what it keeps of the shopper."""

    user_id: str
    tombstone: str
    opted_out: bool  # of analytics, when the erasure began

    def event(self, event: Event) -> Event:
        payload: dict[str, Any] = {**event.payload, "user_id": self.tombstone}
        payload.pop("address", None)
        if self.opted_out:
            # No person record is left for AnalyticsConsent to read the choice from: the event says it.
            payload[OPT_OUT_FLAG] = True
        return event.model_copy(update={"payload": payload, "actor": customer_ref(self.tombstone)})


class AnalyticsConsent:
    """Whether an event may be counted in analytics. One instance per batch of events: each shopper's
    choice is read once (the shopper record is the source of truth, so a choice takes effect at once)."""

    def __init__(self, repository: Repository) -> None:
        self.repository = repository
        self._opted_out: dict[str, bool] = {}

    def allows(self, event: Event) -> bool:
        if event.payload.get(OPT_OUT_FLAG) is True:
            return False
        user_id = event.payload.get("user_id")
        if not isinstance(user_id, str):
            return True  # not about a shopper: catalog events, a creator's changes
        return user_id in self.counted_shoppers([user_id])

    def counted_shoppers(self, user_ids: Iterable[str]) -> set[str]:
        """Those of these shoppers whose data may be counted (read in one batch): the dashboards'
        common questions leave out the chats of shoppers who opted out."""
        wanted = set(user_ids)
        self._learn(wanted)
        return {user_id for user_id in wanted if not self._opted_out[user_id]}

    def counted(self, events: Sequence[Event]) -> list[Event]:
        """The events that may be counted, the shoppers' choices read in one batch."""
        self._learn(user_id for event in events if isinstance(user_id := event.payload.get("user_id"), str))
        return [event for event in events if self.allows(event)]

    def _learn(self, user_ids: Iterable[str]) -> None:
        refs = [customer_ref(user_id) for user_id in set(user_ids) - self._opted_out.keys()]
        found = self.repository.get_many(refs) if refs else {}
        for ref in refs:
            self._opted_out[ref.id] = _opted_out(found.get(ref))


class ShopperData:
    """The GDPR use cases of one shop: a shopper's analytics choice, export and erasure."""

    def __init__(self, repository: Repository, clock: Clock = utc_now) -> None:
        self.repository = repository
        self.clock = clock
        self.chats = ChatSessions(ConversationStore(repository, clock), clock)
        self.commerce = CommerceStore(repository)

    # Analytics opt-out

    def analytics_choice(self, principal: Principal) -> AnalyticsChoice:
        return AnalyticsChoice(enabled=not _opted_out(self._person(shopper_of(principal))))

    def choose_analytics(self, principal: Principal, choice: AnalyticsChoice) -> AnalyticsChoice:
        """Record the choice on the person, at the version read (idempotent: the same choice again
        writes nothing)."""
        user_id = shopper_of(principal)
        stored = self._person(user_id)
        person = Person.model_validate(stored.data)
        if person.analytics_opt_out != (not choice.enabled):
            changed = person.model_copy(update={"analytics_opt_out": not choice.enabled})
            work = self.repository.unit_of_work()
            work.replace(
                stored,
                changed.model_dump(mode="json"),
                IndexEntries(),
                self.clock(),
                on_conflict=lambda: _person_changed(user_id),
            )
            work.commit()
        return choice

    # Export

    def export(self, principal: Principal) -> ShopperExport:
        user_id = shopper_of(principal)
        stored = self._person(user_id)
        chats = list(self._sessions(user_id))
        carts = [cart.value for cart in self._things(self.commerce.carts, user_id)]
        checkouts = [checkout.value for checkout in self._things(self.commerce.checkouts, user_id)]
        orders = [order.value for order in self._things(self.commerce.orders, user_id)]
        codes = _codes_used(orders)
        subjects: list[EntityRef] = [
            customer_ref(user_id),
            *(session_ref(chat.id) for chat in chats),
            *(self.commerce.carts.ref(cart.id) for cart in carts),
            *(self.commerce.checkouts.ref(checkout.id) for checkout in checkouts),
            *(self.commerce.orders.ref(order.id) for order in orders),
        ]
        events = [event for subject in subjects for event in self.repository.all_events_of(subject)]
        # A code's events are every shopper's uses of it: only those naming this one are theirs.
        events += [
            event
            for code in codes
            for event in self._events_naming(self.commerce.discounts.ref(code), user_id)
        ]
        return ShopperExport(
            exported_at=self.clock(),
            shopper=Person.model_validate(stored.data),
            analytics_enabled=not _opted_out(stored),
            memory=self.chats.store.memory(user_id),
            chats=[SessionView.model_validate(chat.model_dump()) for chat in chats],
            recommendations=[
                AiRecommendation.model_validate({**item.data, "id": item.ref.id, "version": item.version})
                for item in self.repository.iterate(by_user(user_id, ThingType.AI_RECOMMENDATION))
            ],
            carts=carts,
            checkouts=checkouts,
            orders=orders,
            events=events,
            discount_uses={code: self.commerce.customer_uses(code, user_id) for code in codes},
            webhook_deliveries=delivery_copies(self.repository, events),
        )

    # Erasure

    def erase(self, principal: Principal) -> None:
        """Erase the calling shopper (see the module's docstring); their token works until the end, so
        a request cut short is completed by sending it again. Refused (409) while a checkout runs, and
        when the shopper started a chat or sent a message during the erasure (see `_erase_person`)."""
        user_id = shopper_of(principal)
        opted_out = _opted_out(self._person(user_id))
        checkouts = list(self._things(self.commerce.checkouts, user_id))
        if any(checkout.value.status == CheckoutStatus.STARTED for checkout in checkouts):
            raise Conflict(
                "A checkout of yours is still running; try again in a minute.", code="checkout_in_progress"
            )
        # The person's own items (memory, edges) first: the last step relies on the memory being gone
        # before the chats are listed.
        self._erase_footprint(self.repository.unit_of_work(), customer_ref(user_id))
        self._erase_chats(user_id, principal)
        for recommendation in self.repository.iterate(by_user(user_id, ThingType.AI_RECOMMENDATION)):
            self._erase_thing(recommendation.ref)  # of a chat already gone (its index lags)
        for cart in list(self._things(self.commerce.carts, user_id)):
            self._erase_thing(cart.stored.ref)
        anonymisation = _Anonymisation(user_id, TOMBSTONE_PREFIX + secrets.token_hex(8), opted_out)
        for checkout in checkouts:
            # Their deliveries first: they are found through the checkout's events, erased with it.
            self._redact_deliveries(checkout.stored.ref, anonymisation)
            self._erase_thing(checkout.stored.ref)
        self._anonymise_orders(anonymisation)
        self._erase_person(user_id, principal)

    def _erase_chats(self, user_id: str, principal: Principal) -> None:
        for chat in list(self._sessions(user_id)):
            try:
                self.chats.delete(chat.id, principal)
            except NotFound:
                continue  # erased meanwhile (or before: the index lists a deleted chat for a moment)

    def _redact_deliveries(self, subject: EntityRef, anonymisation: _Anonymisation) -> None:
        for event in self.repository.all_events_of(subject):
            redact_deliveries(
                self.repository, event, anonymisation.user_id, anonymisation.tombstone, self.clock
            )

    def _erase_thing(self, ref: EntityRef) -> None:
        work = self.repository.unit_of_work()
        work.erase_entity(ref)
        self._erase_footprint(work, ref)

    def _erase_footprint(self, work: UnitOfWork, ref: EntityRef) -> None:
        """Commit `work` with the erasure of every item about the entity (see Repository.footprint)."""
        for item in self.repository.footprint(ref):
            work.erase(item)
        for unit in work.split():
            unit.commit()

    def _anonymise_orders(self, anonymisation: _Anonymisation) -> None:
        user_id = anonymisation.user_id
        orders = list(self._things(self.commerce.orders, user_id))
        # The codes first: they are found through the orders still under the shopper's id, so an
        # erasure cut short after the orders were anonymised would never come back to them.
        for code in _codes_used(order.value for order in orders):
            work = self.repository.unit_of_work()
            self._stage_anonymised_events(work, self.commerce.discounts.ref(code), anonymisation)
            # Their uses of the code: a count under their id, which nothing would name any more.
            work.erase_counter(self.commerce.discounts.ref(code), customer_uses_counter(user_id))
            for unit in work.split():
                unit.commit()
        for order in orders:
            # The deliveries before the order: it is found under the shopper's id until anonymised.
            self._redact_deliveries(self.commerce.orders.ref(order.value.id), anonymisation)
            work = self.repository.unit_of_work()
            anonymous = order.value.model_copy(update={"user_id": anonymisation.tombstone, "address": None})
            self.commerce.orders.stage_replace(work, order, anonymous, self.clock())
            self._stage_anonymised_events(work, self.commerce.orders.ref(order.value.id), anonymisation)
            work.commit()

    def _stage_anonymised_events(
        self, work: UnitOfWork, subject: EntityRef, anonymisation: _Anonymisation
    ) -> None:
        for event in self._events_naming(subject, anonymisation.user_id):
            work.rewrite_event(anonymisation.event(event))

    def _events_naming(self, subject: EntityRef, user_id: str) -> list[Event]:
        return [
            event
            for event in self.repository.all_events_of(subject)
            if event.payload.get("user_id") == user_id
        ]

    def _erase_person(self, user_id: str, principal: Principal) -> None:
        """The person at the version read with every token they hold, in one last transaction that
        fails (409 `concurrent_update`, the token still working) if the shopper chatted meanwhile.

        Starting a chat and every message turn write the shopper's memory in the transaction that
        records them, and the erasure deleted the memory before it listed the chats. So the last
        transaction requires the memory to be still absent: a chat started or a message sent at any
        moment since, however close to the end, makes it fail atomically, and sending the request
        again erases that chat too. The chats are listed once more before it, for one started just
        before the erasure that the first listing missed (the index that lists them lags the table)."""
        self._erase_chats(user_id, principal)
        ref = customer_ref(user_id)
        stored = self._person(user_id)
        work = self.repository.unit_of_work()
        work.expect_no_knowledge(ref, SHOPPER_MEMORY, on_found=lambda: _person_changed(user_id))
        work.delete(stored, on_conflict=lambda: _person_changed(user_id))
        for digest in self.repository.api_keys_of(ref):
            if self.repository.api_key_holder(digest) == ref:
                work.revoke_api_key(digest)
        work.commit()

    # Reads

    def _person(self, user_id: str) -> StoredEntity:
        stored = self.repository.get(customer_ref(user_id))
        if stored is None:
            raise NotFound(f"No shopper {user_id!r}.", code="shopper_not_found")
        return stored

    def _sessions(self, user_id: str) -> Iterator[ConversationSession]:
        cursor: str | None = None
        while True:
            page = self.chats.store.sessions_of(user_id, limit=100, cursor=cursor)
            yield from page.sessions
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    def _things(self, things: ThingStore[Any], user_id: str) -> Iterator[Loaded[Any]]:
        for stored in self.repository.iterate(by_user(user_id, things.thing_type)):
            yield Loaded(things.from_stored(stored), stored)
