"""The commerce contracts: carts, discount codes, quotes, orders and checkouts, as stored and answered.

Money is always an integer of the currency's minor unit (cents; yen for JPY), never a float. Ids carry
a prefix saying what they name: `crt_` carts, `chk_` checkouts, `ord_` orders, `rsv_` reservations.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, Strict, StringConstraints, model_validator
from pydantic.alias_generators import to_camel

from talkshop.catalog.model import SUPPORTED_CURRENCIES
from talkshop.ontology.model import Identifier

MAX_LINE_QUANTITY = 99
MAX_CART_LINES = 50
# The largest amount anything may come to (a line, an order): far below what an int can hold, so
# sums of lines never need care, and far above any plausible basket.
MAX_AMOUNT = 10_000_000_000

# camelCase on the wire like the chat API (snake_case accepted too); stored with Python's names.
WIRE = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
Amount = Annotated[int, Field(ge=0, le=MAX_AMOUNT)]
Quantity = Annotated[int, Field(ge=1, le=MAX_LINE_QUANTITY)]
# What a request may send as a count: a JSON integer, never true, "2" or 2.5 (a 422 validation_error).
WholeNumber = Annotated[int, Strict()]
RequestedQuantity = Annotated[WholeNumber, Field(ge=1, le=MAX_LINE_QUANTITY)]


CODE_PATTERN = r"^[A-Z0-9][A-Z0-9_-]{2,31}$"


def normal_code(code: str) -> str:
    """Codes are case-insensitive for shoppers and stored upper-case: " welcome10" is "WELCOME10"."""
    return code.strip().upper()


DiscountCode = Annotated[
    str,
    StringConstraints(pattern=CODE_PATTERN),
    BeforeValidator(lambda value: normal_code(value) if isinstance(value, str) else value),
]


class CartStatus(StrEnum):
    OPEN = "open"
    ORDERED = "ordered"


class CartLine(BaseModel):
    """A product in a cart at the price it had when it was added (re-checked at checkout)."""

    model_config = WIRE

    product_id: Identifier
    creator_id: Identifier
    name: str
    quantity: Quantity
    unit_price: Amount
    currency: Currency

    @property
    def amount(self) -> int:
        return self.unit_price * self.quantity


class Cart(BaseModel):
    """The one cart every surface fills (web chat, API, MCP, ACP): lines in a single currency."""

    model_config = WIRE

    id: Identifier
    user_id: Identifier
    status: CartStatus = CartStatus.OPEN
    currency: Currency | None = Field(default=None, description="Its lines' currency (None while empty)")
    lines: list[CartLine] = Field(default_factory=list, max_length=MAX_CART_LINES)
    # The chat the cart was filled from, and the code offered in that chat (applied at checkout when it
    # still holds; a code the shopper types at checkout takes its place).
    session_id: Identifier | None = None
    discount_code: DiscountCode | None = None
    order_id: Identifier | None = None
    created_at: datetime
    updated_at: datetime
    version: int = 0

    def line(self, product_id: str) -> CartLine | None:
        return next((line for line in self.lines if line.product_id == product_id), None)


class DiscountKind(StrEnum):
    PERCENT = "percent"
    FIXED = "fixed"


class DiscountFields(BaseModel):
    """What a creator or the admin writes when creating a code (the body of POST /api/discounts)."""

    model_config = WIRE

    code: DiscountCode
    kind: DiscountKind
    value: WholeNumber = Field(
        ge=1, le=MAX_AMOUNT, description="percent: 1-100 (% off); fixed: minor units off, in `currency`"
    )
    currency: Currency | None = Field(default=None, description="Required for fixed amounts")
    description: str = Field(default="", max_length=200)
    first_time_only: bool = Field(default=False, description="Only for shoppers with no paid order yet")
    product_ids: list[Identifier] = Field(default_factory=list, max_length=100)
    creator_ids: list[Identifier] = Field(default_factory=list, max_length=20)
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    max_uses: WholeNumber | None = Field(default=None, ge=1, description="Redemptions in all")
    max_uses_per_customer: WholeNumber | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _consistent(self) -> DiscountFields:
        if self.kind == DiscountKind.PERCENT and self.value > 100:
            raise ValueError("a percent discount is at most 100")
        if self.kind == DiscountKind.FIXED and self.currency is None:
            raise ValueError("a fixed discount needs its currency")
        if self.kind == DiscountKind.PERCENT and self.currency is not None:
            raise ValueError("a percent discount has no currency")
        if self.currency is not None and self.currency not in SUPPORTED_CURRENCIES:
            raise ValueError(f"unsupported currency {self.currency!r}")
        if self.valid_from and self.valid_until and self.valid_until <= self.valid_from:
            raise ValueError("valid_until must be after valid_from")
        for moment in (self.valid_from, self.valid_until):
            if moment is not None and moment.tzinfo is None:
                raise ValueError("validity times need a timezone (e.g. 2026-12-01T00:00:00Z)")
        return self


class Discount(DiscountFields):
    """A stored code. `creator_id` is the creator who issued it (None: the marketplace admin)."""

    creator_id: Identifier | None = None
    uses: int = Field(default=0, ge=0, description="Redemptions so far (read from its counter)")
    created_at: datetime
    version: int = 0

    @property
    def scoped(self) -> bool:
        return bool(self.product_ids or self.creator_ids)

    @property
    def uses_per_customer(self) -> int | None:
        """How often one customer may redeem it: a first-order code once, whatever else it says."""
        return 1 if self.first_time_only else self.max_uses_per_customer

    def covers(self, line: CartLine) -> bool:
        """Whether a line is in the code's scope: its products or creators, or everything if unscoped."""
        if not self.scoped:
            return True
        return line.product_id in self.product_ids or line.creator_id in self.creator_ids


class DiscountList(BaseModel):
    model_config = WIRE

    items: list[Discount]
    next_cursor: str | None = None


class Address(BaseModel):
    model_config = WIRE

    name: str = Field(min_length=1, max_length=200)
    line1: str = Field(min_length=1, max_length=200)
    line2: str | None = Field(default=None, max_length=200)
    city: str = Field(min_length=1, max_length=100)
    postal_code: str = Field(min_length=1, max_length=20)
    region: str | None = Field(default=None, max_length=100)
    country: str = Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2")
    email: str | None = Field(default=None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")
    phone: str | None = Field(default=None, max_length=40)


class ShippingOption(BaseModel):
    model_config = WIRE

    id: str
    name: str
    amount: Amount = Field(description="Minor units of the order's currency")
    free_from: Amount | None = Field(default=None, description="Free when the goods come to this much")
    delivery_days: tuple[int, int]


class QuoteLine(BaseModel):
    model_config = WIRE

    product_id: str
    creator_id: str
    name: str
    quantity: int
    unit_price: int
    amount: int
    discount: int = Field(description="The part of the order's discount on this line")


class Quote(BaseModel):
    """What the shopper pays and why: goods, discount, shipping and tax, all in one currency."""

    model_config = WIRE

    currency: str
    lines: list[QuoteLine]
    subtotal: int
    discount: int
    shipping: int
    shipping_option: str
    tax: int = Field(description="Tax added on top (0: prices include VAT)")
    total: int
    discount_code: str | None = None
    saving_text: str | None = Field(
        default=None, description='"You saved €5.00", when a code saved something'
    )


class OrderStatus(StrEnum):
    PLACED = "placed"
    PAID = "paid"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"


class OrderSource(StrEnum):
    CONVERSATIONAL = "conversational"
    TRADITIONAL = "traditional"


class PaymentReference(BaseModel):
    """How the order was paid: the provider's authorisation, never card data."""

    model_config = WIRE

    provider: str
    authorisation_id: str | None = Field(default=None, description="None when nothing was due")


class ConversationFacts(BaseModel):
    """What the chat an order came from says about it (the seed's conversational order fields)."""

    model_config = WIRE

    conversation_id: Identifier | None = None
    conversation_platform: str | None = None
    conversation_duration: int | None = Field(default=None, ge=0, description="Seconds, chat start to order")
    messages_count: int | None = Field(default=None, ge=0)
    product_recommended_in_chat: bool = False
    discount_applied_from_chat: bool = False
    reviewed_product_details_in_chat: bool = False
    order_source: OrderSource = OrderSource.TRADITIONAL


class Order(ConversationFacts):
    id: Identifier
    user_id: Identifier
    cart_id: Identifier
    checkout_id: Identifier
    status: OrderStatus = OrderStatus.PLACED
    lines: list[QuoteLine]
    currency: str
    subtotal: int
    discount: int
    shipping: int
    tax: int
    total: int
    discount_code: str | None = None
    shipping_option: str
    address: Address | None = None
    payment: PaymentReference
    agent_id: str | None = Field(default=None, description="The ACP agent that placed it, if one did")
    created_at: datetime
    paid_at: datetime | None = None
    version: int = 0


class OrderList(BaseModel):
    model_config = WIRE

    items: list[Order]
    next_cursor: str | None = None


class CheckoutStatus(StrEnum):
    STARTED = "started"
    COMPLETED = "completed"
    FAILED = "failed"


class Failure(BaseModel):
    """Why a checkout failed, in the API's error terms."""

    model_config = WIRE

    code: str
    message: str


class CheckoutRecord(BaseModel):
    """One attempt to turn a cart into an order. The payment token is not kept: only the provider that
    handled it and the base of the idempotency keys its calls were made with (both recorded by the
    authorise step before it asks the provider, so that a hold whose answer was lost can be voided)."""

    model_config = WIRE

    id: Identifier
    cart_id: Identifier
    user_id: Identifier
    status: CheckoutStatus = CheckoutStatus.STARTED
    session_id: Identifier | None = None
    agent_id: str | None = Field(default=None, description="The ACP agent checking out, if one is")
    discount_code: str | None = None
    shipping_option: str
    address: Address | None = None
    payment_provider: str | None = Field(default=None, description="None until a payment is asked for")
    payment_key: str | None = Field(default=None, description="Base of the provider's idempotency keys")
    order_id: Identifier | None = None
    failure: Failure | None = None
    created_at: datetime
    version: int = 0


class ReservationStatus(StrEnum):
    HELD = "held"
    RELEASED = "released"
    CONVERTED = "converted"


class ReservedLine(BaseModel):
    product_id: Identifier
    quantity: Quantity


class Reservation(BaseModel):
    """Stock taken out of products for one checkout: released if it fails, converted into its order."""

    model_config = WIRE

    id: Identifier
    checkout_id: Identifier
    lines: list[ReservedLine]
    status: ReservationStatus = ReservationStatus.HELD
    created_at: datetime
    version: int = 0
