"""What the checkout page and the order confirmation page show, from the cart, its quote and the order.

The amounts are the quote's (the same pricing the checkout charges) and the order's (what was
charged); nothing here computes a price. Where the order is shown after it is placed depends on
where it came from: in its chat for a chat's cart, on the order page for a storefront cart.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlencode

from pydantic import TypeAdapter, ValidationError

from talkshop.advisor.confirmations import order_number
from talkshop.catalog.model import Product
from talkshop.commerce.carts import CartView
from talkshop.commerce.model import (
    MAX_LINE_QUANTITY,
    CartStatus,
    DiscountCode,
    Order,
    OrderSource,
    OrderStatus,
    Quote,
    QuoteLine,
)
from talkshop.commerce.payments.providers import PAYMENTS_VARIABLE, TEST_PAYMENTS
from talkshop.commerce.payments.testing import TOKEN_OK
from talkshop.commerce.pricing import shipping_option
from talkshop.errors import InvalidInput, TalkshopError
from talkshop.ontology.model import Identifier
from talkshop.search.service import format_price
from talkshop.web.store_view import STORE_PATH

PLACEHOLDER_IMAGE = "/static/icon.svg"


def payment_provider_name() -> str:
    """The configured payment provider's name, read from the setting alone: the page only needs to know
    whether payments are the built-in test ones, not the provider's keys or SDK."""
    return os.environ.get(PAYMENTS_VARIABLE, "").strip().lower() or TEST_PAYMENTS


def test_payments() -> bool:
    """Whether checkouts charge through the built-in test provider (the local runtime's default)."""
    return payment_provider_name() == TEST_PAYMENTS


def payment_token(posted: str | None) -> str:
    """What the page pays with: the test provider's accepting token, or a test token a test posted
    (paymentToken, e.g. spt_test_decline). Only the test provider takes a token from the form."""
    if not test_payments():
        raise InvalidInput(
            "Card payments need the payment provider's own form, which this shop does not have yet.",
            code="payment_form_required",
        )
    return posted or TOKEN_OK


_PRODUCT_ID: TypeAdapter[str] = TypeAdapter(Identifier)


def parse_product_id(text: str | None) -> str:
    try:
        return _PRODUCT_ID.validate_python(text or "")
    except ValidationError:
        raise InvalidInput("Choose a product.", code="invalid_product_id") from None


def parse_quantity(text: str | None) -> int:
    try:
        quantity = int(text or "")
    except ValueError:
        quantity = 0
    if not 1 <= quantity <= MAX_LINE_QUANTITY:
        raise InvalidInput(f"Choose a quantity from 1 to {MAX_LINE_QUANTITY}.", code="invalid_quantity")
    return quantity


_DISCOUNT_CODE: TypeAdapter[str] = TypeAdapter(DiscountCode)


def parse_discount_code(text: str | None) -> str | None:
    """A typed code as codes are stored (upper case), None when nothing was typed."""
    if not text or not text.strip():
        return None
    try:
        return _DISCOUNT_CODE.validate_python(text)
    except ValidationError:
        raise InvalidInput(
            "A discount code is 3 to 32 letters, digits, - or _.", code="invalid_discount_code"
        ) from None


def checkout_href(cart_id: str, *, code: str | None = None, fragment: bool = False) -> str:
    """The checkout page, keeping the code the shopper typed and whether it is shown in the chat's dialog."""
    parameters = {
        name: value for name, value in (("code", code), ("fragment", "1" if fragment else None)) if value
    }
    path = f"/checkout/{cart_id}"
    return f"{path}?{urlencode(parameters)}" if parameters else path


def order_location(order: Order) -> str:
    """Where a placed order is shown: in its chat (at its confirmation message) or on its own page."""
    if order.order_source == OrderSource.CONVERSATIONAL and order.conversation_id:
        return f"/chat?{urlencode({'session': order.conversation_id})}#order-{order.id}"
    return f"/orders/{order.id}"


@dataclass(frozen=True)
class PageError:
    code: str
    message: str

    @classmethod
    def of(cls, error: TalkshopError) -> PageError:
        return cls(error.code, error.message)


@dataclass(frozen=True)
class LineView:
    product_id: str
    name: str
    href: str
    image: str
    image_alt: str
    quantity: int
    unit_price: int
    amount: int
    discount: int


@dataclass(frozen=True)
class CheckoutView:
    cart_id: str
    currency: str
    lines: list[LineView]
    quote: Quote | None
    # The chat the cart was filled from: the order is confirmed there.
    session_id: str | None
    # A code the shopper typed that applies (kept in the page's links until the purchase).
    typed_code: str | None
    shipping_label: str
    test_payments: bool
    idempotency_key: str
    fragment: bool
    ordered_href: str | None = None
    error: PageError | None = None

    @property
    def saving(self) -> str | None:
        """ "You save €5.00" when a code takes something off."""
        if self.quote is None or not self.quote.discount:
            return None
        return f"You save {format_price(self.quote.discount, self.currency)}"

    @property
    def can_purchase(self) -> bool:
        return self.quote is not None and self.ordered_href is None and self.test_payments

    @property
    def back_href(self) -> str:
        return f"/chat?{urlencode({'session': self.session_id})}" if self.session_id else STORE_PATH

    def href(self, *, code: str | None = None) -> str:
        return checkout_href(self.cart_id, code=code, fragment=self.fragment)


def _line_view(line: QuoteLine, product: Product | None) -> LineView:
    image = product.images[0] if product and product.images else None
    return LineView(
        product_id=line.product_id,
        name=line.name,
        href=f"/products/{line.product_id}",
        image=image.url if image else PLACEHOLDER_IMAGE,
        image_alt=image.alt if image else "",
        quantity=line.quantity,
        unit_price=line.unit_price,
        amount=line.amount,
        discount=line.discount,
    )


def shipping_label(quote: Quote) -> str:
    option = shipping_option(quote.shipping_option)
    low, high = option.delivery_days
    return f"{option.name} delivery, {low}–{high} days"  # noqa: RUF001 - a range of days


def checkout_view(
    cart: CartView,
    products: Mapping[str, Product],
    *,
    typed_code: str | None,
    idempotency_key: str,
    fragment: bool,
    ordered_order: Order | None = None,
    error: TalkshopError | None = None,
) -> CheckoutView:
    """The page of a cart as priced now; an ordered cart points to its order instead of selling again."""
    quote = cart.quote
    lines = [_line_view(line, products.get(line.product_id)) for line in quote.lines] if quote else []
    ordered_href = None
    if cart.status == CartStatus.ORDERED and cart.order_id:
        ordered_href = order_location(ordered_order) if ordered_order else f"/orders/{cart.order_id}"
    return CheckoutView(
        cart_id=cart.id,
        currency=cart.currency or (quote.currency if quote else ""),
        lines=lines,
        quote=quote,
        session_id=cart.session_id,
        typed_code=typed_code,
        shipping_label=shipping_label(quote) if quote else "",
        test_payments=test_payments(),
        idempotency_key=idempotency_key,
        fragment=fragment,
        ordered_href=ordered_href,
        error=PageError.of(error) if error else None,
    )


_STATUS_LABELS = {
    OrderStatus.PLACED: "Placed (payment pending)",
    OrderStatus.PAID: "Paid",
    OrderStatus.CANCELLED: "Cancelled",
    OrderStatus.REFUNDED: "Refunded",
}


@dataclass(frozen=True)
class OrderView:
    order: Order
    number: str
    status: str
    source: str
    saving: str | None
    back_href: str
    back_label: str


def order_view(order: Order) -> OrderView:
    from_chat = order.order_source == OrderSource.CONVERSATIONAL and order.conversation_id
    return OrderView(
        order=order,
        number=order_number(order.id),
        status=_STATUS_LABELS[order.status],
        source="From a chat with the advisor" if from_chat else "From the shop",
        saving=f"You saved {format_price(order.discount, order.currency)}" if order.discount else None,
        back_href=f"/chat?{urlencode({'session': order.conversation_id})}" if from_chat else STORE_PATH,
        back_label="Back to the chat" if from_chat else "Continue shopping",
    )
