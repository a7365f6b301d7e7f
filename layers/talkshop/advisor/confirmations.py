"""The words of an order confirmation, written from the order's own data (never an engine's prose), so
the number, the items and the amounts a shopper reads are exactly what was charged."""

from __future__ import annotations

from talkshop.commerce.model import Order
from talkshop.search.service import format_price

ORDER_NUMBER_PREFIX = "ORD-"
# Enough of the order id for a shopper to quote it; links and look-ups use the whole id.
_ORDER_NUMBER_DIGITS = 8


def order_number(order_id: str) -> str:
    """How an order is named to people: ord_3f9a0c12b7… is ORD-3F9A0C12."""
    return ORDER_NUMBER_PREFIX + order_id.removeprefix("ord_")[:_ORDER_NUMBER_DIGITS].upper()


def order_confirmation_text(order: Order) -> str:
    """The headline ("Order placed! #ORD-… — you saved €5.00"), each item, the shipping and the total."""
    headline = f"Order placed! #{order_number(order.id)}"
    if order.discount:
        headline += f" — you saved {format_price(order.discount, order.currency)}"
    items = [
        f"{line.quantity} × {line.name}: {format_price(line.amount, order.currency)}"  # noqa: RUF001
        for line in order.lines
    ]
    shipping = format_price(order.shipping, order.currency) if order.shipping else "free"
    return "\n".join(
        [headline, *items, f"Shipping: {shipping}", f"Total: {format_price(order.total, order.currency)}"]
    )
