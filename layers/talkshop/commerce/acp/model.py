"""ACP 2026-04-17 wire models, written from the spec's JSON Schema (schema.agentic_checkout.json; its
OpenAPI YAML has known defects, so the JSON Schema is the reference), limited to what we serve.

Requests forbid unknown fields, as the schema does (additionalProperties: false); objects we accept but
do not act on (capabilities, affiliate attribution, risk signals...) are kept as plain JSON objects.
One leniency, documented in docs/acp.md: a request Item may carry `quantity` (the 2026-04-17 Item has
none, so a quantity of n is otherwise sent as the same item n times; both work).
Responses are dumped without None fields, as the schema has no nullable property.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

API_VERSION = "2026-04-17"
MAX_QUANTITY = 99


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Answer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    def wire(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)


# Shared


class Address(Request):
    name: str = Field(min_length=1, max_length=200)
    line_one: str = Field(min_length=1, max_length=300)
    line_two: str | None = Field(default=None, max_length=300)
    city: str = Field(min_length=1, max_length=200)
    state: str = Field(max_length=100)
    country: str = Field(pattern=r"^[A-Za-z]{2}$")
    postal_code: str = Field(min_length=1, max_length=20)
    company: str | None = Field(default=None, max_length=200)


class FulfillmentDetails(Request):
    name: str | None = Field(default=None, max_length=200)
    phone_number: str | None = Field(default=None, max_length=40)
    email: str | None = Field(default=None, max_length=320)
    address: Address | None = None


class Buyer(Request):
    first_name: str | None = Field(default=None, max_length=200)
    last_name: str | None = Field(default=None, max_length=200)
    full_name: str | None = Field(default=None, max_length=400)
    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+$", max_length=320)
    phone_number: str | None = Field(default=None, max_length=40)
    customer_id: str | None = Field(default=None, max_length=200)
    account_type: Literal["guest", "registered", "business"] | None = None
    authentication_status: Literal["authenticated", "guest", "requires_signin"] | None = None
    company: dict[str, Any] | None = None
    loyalty: dict[str, Any] | None = None
    tax_exemption: dict[str, Any] | None = None


class SelectedFulfillmentOption(Request):
    type: Literal["shipping", "digital", "pickup", "local_delivery"]
    option_id: str = Field(min_length=1, max_length=100)
    item_ids: list[str] = Field(default_factory=list, max_length=100)


class DiscountsRequest(Request):
    codes: list[str] = Field(default_factory=list, max_length=10)


# Requests


class Item(Request):
    id: str = Field(min_length=1, max_length=128)
    name: str | None = None
    # Informational: the price is always ours, frozen when the item joins the cart.
    unit_amount: int | None = None
    quantity: int = Field(default=1, ge=1, le=MAX_QUANTITY)


class CreateSessionRequest(Request):
    buyer: Buyer | None = None
    line_items: list[Item] = Field(min_length=1, max_length=50)
    # Required from 2026-04-17 on (the protocol checks it); 2025-09-29 requests have none.
    currency: str | None = Field(default=None, pattern=r"^[A-Za-z]{3}$")
    fulfillment_details: FulfillmentDetails | None = None
    capabilities: dict[str, Any]
    fulfillment_groups: list[dict[str, Any]] | None = None
    affiliate_attribution: dict[str, Any] | None = None
    coupons: list[str] | None = Field(default=None, max_length=10)
    discounts: DiscountsRequest | None = None
    locale: str | None = Field(default=None, max_length=35)
    timezone: str | None = Field(default=None, max_length=64)
    quote_id: str | None = None
    metadata: dict[str, Any] | None = None
    order_notes: str | None = Field(default=None, max_length=5000)


class UpdateSessionRequest(Request):
    buyer: Buyer | None = None
    # At least one, as at creation: a session without items has nothing to price or pay (cancel it).
    line_items: list[Item] | None = Field(default=None, min_length=1, max_length=50)
    fulfillment_details: FulfillmentDetails | None = None
    fulfillment_groups: list[dict[str, Any]] | None = None
    selected_fulfillment_options: list[SelectedFulfillmentOption] | None = Field(default=None, max_length=10)
    coupons: list[str] | None = Field(default=None, max_length=10)
    discounts: DiscountsRequest | None = None
    order_notes: str | None = Field(default=None, max_length=5000)


class Credential(BaseModel):
    model_config = ConfigDict(extra="allow")

    type: str
    token: str = Field(min_length=1, max_length=500)


class Instrument(BaseModel):
    model_config = ConfigDict(extra="allow")

    type: str
    credential: Credential


class PaymentData(Request):
    handler_id: str | None = None
    instrument: Instrument | None = None
    billing_address: Address | None = None
    purchase_order_number: str | None = None
    payment_terms: str | None = None
    due_date: str | None = None
    approval_required: bool | None = None


class CompleteSessionRequest(Request):
    buyer: Buyer | None = None
    payment_data: PaymentData
    authentication_result: dict[str, Any] | None = None
    affiliate_attribution: dict[str, Any] | None = None
    risk_signals: dict[str, Any] | None = None
    marketing_consents: list[dict[str, Any]] | None = None
    order_notes: str | None = Field(default=None, max_length=5000)


class IntentTrace(BaseModel):
    # The reason enum is extensible by the spec's own words: unknown reasons are kept as they come.
    model_config = ConfigDict(extra="allow")

    reason_code: str = Field(min_length=1, max_length=100)
    trace_summary: str | None = Field(default=None, max_length=500)
    metadata: dict[str, Any] | None = None


class CancelSessionRequest(Request):
    intent_trace: IntentTrace | None = None


# Responses

TotalType = Literal[
    "items_base_amount", "items_discount", "subtotal", "discount", "fulfillment", "tax", "total"
]


class Total(Answer):
    type: TotalType
    display_text: str
    amount: int


class ItemRef(Answer):
    id: str


class LineItem(Answer):
    id: str
    item: ItemRef
    quantity: int
    name: str | None = None
    description: str | None = None
    images: list[str] | None = None
    unit_amount: int | None = None
    product_id: str | None = None
    category: str | None = None
    availability_status: Literal["in_stock", "low_stock", "out_of_stock"] | None = None
    available_quantity: int | None = None
    max_quantity_per_order: int | None = None
    marketplace_seller_details: dict[str, str] | None = None
    totals: list[Total]


class FulfillmentOptionShipping(Answer):
    type: Literal["shipping"] = "shipping"
    id: str
    title: str
    description: str | None = None
    carrier: str | None = None
    earliest_delivery_time: datetime | None = None
    latest_delivery_time: datetime | None = None
    totals: list[Total]


class Message(Answer):
    type: Literal["info", "warning", "error"]
    code: str | None = None
    severity: Literal["info", "low", "medium", "high", "critical"] | None = None
    resolution: Literal["recoverable", "requires_buyer_input", "requires_buyer_review"] | None = None
    param: str | None = None
    content_type: Literal["plain", "markdown"] = "plain"
    content: str


class Link(Answer):
    type: Literal["terms_of_use", "privacy_policy", "return_policy", "shipping_policy", "support"]
    title: str | None = None
    url: str


class ProtocolVersion(Answer):
    version: str = API_VERSION


class OrderLineQuantity(Answer):
    ordered: int
    current: int
    fulfilled: int = 0


class OrderLineItem(Answer):
    id: str
    title: str
    product_id: str
    quantity: OrderLineQuantity
    unit_price: int
    subtotal: int


class Order(Answer):
    type: Literal["order"] = "order"
    id: str
    checkout_session_id: str
    order_number: str | None = None
    permalink_url: str
    status: str
    line_items: list[OrderLineItem] | None = None
    totals: list[Total] | None = None


SessionState = Literal["not_ready_for_payment", "ready_for_payment", "completed", "canceled"]


class CheckoutSession(Answer):
    id: str
    protocol: ProtocolVersion = Field(default_factory=ProtocolVersion)
    capabilities: dict[str, Any]
    buyer: dict[str, Any] | None = None
    status: SessionState
    currency: str
    line_items: list[LineItem]
    fulfillment_details: dict[str, Any] | None = None
    fulfillment_options: list[FulfillmentOptionShipping]
    selected_fulfillment_options: list[SelectedFulfillmentOption] | None = None
    totals: list[Total]
    messages: list[Message]
    links: list[Link]
    created_at: datetime
    updated_at: datetime
    expires_at: datetime | None = None
    order: Order | None = None


class Error(Answer):
    """The spec's protocol-level error: 4xx/5xx answers when no session state can be returned."""

    type: Literal["invalid_request", "processing_error", "service_unavailable"]
    code: str
    message: str
    param: str | None = None
    supported_versions: list[str] | None = None
