"""Orders: what a checkout creates, what the chat it came from says about it, and who may read it.

An order from a chat carries the seed's conversational fields, derived from the chat at the moment
of the order (how long the chat had run, how many messages, whether the advisor recommended or
detailed a product that was bought, whether the chat's offered code was used), and is linked to its
shopper by a `purchased_via_chat` connection. A plain checkout gives a `traditional` order, so the
two can be compared. An order is visible to its shopper and the admin; to anyone else it does not exist.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from talkshop.advisor.model import ConversationSession
from talkshop.auth import Principal, PrincipalKind
from talkshop.clock import Clock, utc_now
from talkshop.commerce.model import ConversationFacts, Order, OrderList, OrderSource, QuoteLine
from talkshop.commerce.store import CommerceStore
from talkshop.errors import Forbidden, InvalidInput, NotFound


def conversation_facts(
    session: ConversationSession | None,
    lines: Sequence[QuoteLine],
    *,
    applied_code: str | None,
    offered_code: str | None,
    ordered_at: datetime,
) -> ConversationFacts:
    """The order's conversational fields; a traditional order when there is no chat. The code came
    from the chat when the chat offered it: the offer it holds now (`offered_code`) or one of its turns'."""
    if session is None:
        return ConversationFacts()
    bought = {line.product_id for line in lines}
    offered = {offered_code, *(message.offered_code for message in session.messages)} - {None}
    return ConversationFacts(
        conversation_id=session.id,
        conversation_platform=session.platform,
        conversation_duration=max(0, int((ordered_at - session.started_at).total_seconds())),
        messages_count=session.message_count,
        product_recommended_in_chat=bool(bought & set(session.suggested_products)),
        discount_applied_from_chat=applied_code in offered,
        reviewed_product_details_in_chat=bool(bought & set(session.viewed_products)),
        order_source=OrderSource.CONVERSATIONAL,
    )


def _not_found(order_id: str) -> NotFound:
    return NotFound(f"No order {order_id!r}.", code="order_not_found")


class OrderService:
    def __init__(self, store: CommerceStore, clock: Clock = utc_now) -> None:
        self.store = store
        self.clock = clock

    def get(self, order_id: str, principal: Principal) -> Order:
        loaded = self.store.orders.get(order_id)
        if loaded is None or not principal.may_shop_as(loaded.value.user_id):
            raise _not_found(order_id)
        return loaded.value

    def list_orders(
        self, user_id: str | None, principal: Principal, *, limit: int, cursor: str | None
    ) -> OrderList:
        """A shopper's orders, newest first: the token's own, or any shopper's for the admin."""
        principal.require_signed_in()
        if principal.kind == PrincipalKind.SHOPPER:
            if user_id not in (None, principal.person_id):
                raise Forbidden("A shopper token lists its own orders.", code="not_owner")
            user_id = principal.person_id
        elif not principal.is_admin:
            raise Forbidden("Orders are listed for their shopper and the admin.", code="not_a_shopper")
        if user_id is None:
            raise InvalidInput("Say whose orders to list (?user=).", code="user_required")
        items, next_cursor = self.store.orders_of(user_id, limit=limit, cursor=cursor)
        return OrderList(items=items, next_cursor=next_cursor)
