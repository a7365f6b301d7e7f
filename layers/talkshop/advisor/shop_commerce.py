"""The advisor's read-only view of commerce (the ShopCommerce port) over the commerce services.

Offers and code checks run the checkout's own discount rules (window, limits, first order, currency,
scope), so a code an engine offers is one the checkout applies. Orders are read as their shopper:
the chat's owner, whom the chat service has already authenticated.
"""

from __future__ import annotations

from collections.abc import Sequence

from talkshop.advisor.model import CodeOffer, CodeRefused, OrderSummary
from talkshop.auth import Principal, PrincipalKind
from talkshop.commerce.discounts import DiscountRefused, DiscountService, covered_products
from talkshop.commerce.model import Discount, DiscountKind, Order
from talkshop.commerce.orders import OrderService


def code_offer(discount: Discount, saving: int, currency: str, product_ids: Sequence[str]) -> CodeOffer:
    """The advisor's view of a code; `product_ids` are the products it covers among those asked about."""
    percent = discount.kind == DiscountKind.PERCENT
    return CodeOffer(
        code=discount.code,
        percent=discount.value if percent else None,
        amount_off=None if percent else discount.value,
        first_order_only=discount.first_time_only,
        saving=saving,
        currency=currency,
        product_ids=list(product_ids),
    )


def order_summary(order: Order) -> OrderSummary:
    return OrderSummary(
        id=order.id,
        status=order.status,
        total=order.total,
        currency=order.currency,
        created_at=order.created_at,
        product_names=[line.name for line in order.lines],
    )


class LiveCommerce:
    def __init__(self, discounts: DiscountService, orders: OrderService) -> None:
        self._discounts = discounts
        self._orders = orders

    def offer_for(self, user_id: str, product_ids: Sequence[str]) -> CodeOffer | None:
        offer = self._discounts.offer_for(user_id, product_ids)
        if offer is None:
            return None
        return code_offer(offer.discount, offer.saving, offer.currency, offer.product_ids)

    def check_code(self, user_id: str, code: str, product_ids: Sequence[str]) -> CodeOffer:
        lines = self._discounts.lines_of(product_ids)
        if not lines:
            raise CodeRefused("There is no product to check the code against.")
        try:
            discount, saving = self._discounts.apply(code, lines, user_id)
        except DiscountRefused as refused:
            raise CodeRefused(refused.message) from refused
        return code_offer(discount, saving, lines[0].currency, covered_products(discount, lines))

    def recent_orders(self, user_id: str, limit: int) -> list[OrderSummary]:
        shopper = Principal(PrincipalKind.SHOPPER, user_id)
        listed = self._orders.list_orders(user_id, shopper, limit=limit, cursor=None)
        return [order_summary(order) for order in listed.items]
