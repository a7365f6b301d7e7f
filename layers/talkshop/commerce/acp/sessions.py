"""ACP checkout sessions mapped onto the commerce core.

A session is a thing of its own (`acp_checkout_session`, id `cs_…`) that points at one cart of the
commerce core, owned by the agent's customer (see agents.py). The session keeps what only ACP has
(buyer, fulfillment details, the chosen option, its status); the cart keeps the lines with the prices
frozen when they were added. Every answer is rendered afresh from both, with the live stock of each
product: amounts come from the same pricing the checkout charges (commerce.pricing), fulfillment
options are the shop's shipping options at what they would cost this cart.

Completing a session runs the one checkout flow every surface uses (validate, reserve stock, price,
authorise, create the order...) through the `Checkout` seam. The order carries the agent's id, so its
events reach the agent's webhook endpoints (commerce.webhooks).
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict

from talkshop.advisor.store import ConversationStore
from talkshop.catalog.model import Product, ProductStatus
from talkshop.catalog.service import CatalogService
from talkshop.clock import Clock, utc_now
from talkshop.commerce.acp import model as acp
from talkshop.commerce.carts import CartService
from talkshop.commerce.discounts import DiscountRefused, DiscountService
from talkshop.commerce.feed import LIMITED_STOCK_THRESHOLD, Policy, Shop
from talkshop.commerce.model import Address, Cart, CartLine, CheckoutRecord, CheckoutStatus, Order, Quote
from talkshop.commerce.pricing import DEFAULT_SHIPPING, SHIPPING_OPTIONS
from talkshop.commerce.store import CommerceStore, Loaded
from talkshop.data.repository import IndexEntries, Repository, StoredEntity
from talkshop.errors import Conflict, InvalidInput, NotFound, TalkshopError
from talkshop.ontology.model import Dimension, EntityRef, ThingType
from talkshop.search.service import format_price

# A line "low in stock" below this many units (as the feed announces it): the agent is warned.
LOW_STOCK = LIMITED_STOCK_THRESHOLD
# Tries to record a completed checkout's order on a session that keeps changing meanwhile.
_COMPLETION_WRITES = 3


class SessionStatus(StrEnum):
    OPEN = "open"
    COMPLETED = "completed"
    CANCELED = "canceled"


class RequestedItem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    product_id: str
    quantity: int


class AcpSession(BaseModel):
    """What ACP adds to a cart, as stored."""

    model_config = ConfigDict(extra="forbid")

    id: str
    agent_id: str
    cart_id: str
    currency: str
    status: SessionStatus = SessionStatus.OPEN
    buyer: dict[str, Any] | None = None
    fulfillment_details: dict[str, Any] | None = None
    shipping_option: str = DEFAULT_SHIPPING
    discount_codes: list[str] = []
    order_id: str | None = None
    last_failure: dict[str, str] | None = None
    order_notes: str | None = None
    metadata: dict[str, Any] | None = None
    affiliate_attribution: dict[str, Any] | None = None
    cancel_reason: dict[str, Any] | None = None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class SessionAnswer:
    status: int
    session: acp.CheckoutSession


@dataclass(frozen=True)
class CheckoutRequest:
    """What completing a session asks of the commerce core's checkout."""

    cart_id: str
    user_id: str
    shipping_option: str
    address: Address | None
    discount_code: str | None
    payment_token: str
    idempotency_key: str


class Checkout(Protocol):
    """The checkout flow of the commerce core (the checkout state machine): one attempt, idempotent per
    key, answering the checkout record (completed with its order, or failed with why)."""

    def __call__(self, request: CheckoutRequest) -> CheckoutRecord: ...


def session_ref(session_id: str) -> EntityRef:
    return EntityRef(dimension=Dimension.THING, type=ThingType.ACP_CHECKOUT_SESSION, id=session_id)


def new_session_id() -> str:
    return "cs_" + secrets.token_hex(12)


def _not_found(session_id: str) -> NotFound:
    return NotFound(f"No checkout session {session_id!r}.", code="checkout_session_not_found")


def _changed(session_id: str) -> Conflict:
    return Conflict(
        f"Checkout session {session_id!r} changed while this request ran; read it again and retry.",
        code="concurrent_update",
    )


class CheckoutSessions:
    def __init__(
        self,
        repository: Repository,
        catalog: CatalogService,
        checkout: Checkout,
        shop: Shop,
        clock: Clock = utc_now,
    ) -> None:
        self.repository = repository
        self.catalog = catalog
        self.store = CommerceStore(repository)
        # The carts' pricing is the checkout's: the quote an agent sees is the amount charged.
        self.carts = CartService(
            self.store, ConversationStore(repository, clock), DiscountService(self.store, clock)
        )
        self.checkout = checkout
        self.shop = shop
        self.clock = clock

    # Operations

    def create(self, agent_id: str, request: acp.CreateSessionRequest) -> SessionAnswer:
        now = self.clock()
        products = self._products(request.line_items)
        # A 2025-09-29 request names no currency: the session takes its first item's.
        currency = (request.currency or products[request.line_items[0].id].currency).upper()
        lines = self._cart_lines(request.line_items, products, currency, None)
        session = AcpSession(
            id=new_session_id(),
            agent_id=agent_id,
            cart_id="crt_" + secrets.token_hex(10),
            currency=currency,
            buyer=_dump(request.buyer),
            fulfillment_details=_dump(request.fulfillment_details),
            discount_codes=_codes(request.coupons, request.discounts),
            order_notes=request.order_notes,
            metadata=request.metadata,
            affiliate_attribution=request.affiliate_attribution,
            created_at=now,
            updated_at=now,
        )
        cart = Cart(
            id=session.cart_id,
            user_id=agent_id,
            lines=lines,
            currency=currency,
            created_at=now,
            updated_at=now,
        )
        work = self.repository.unit_of_work()
        self.store.carts.stage_create(work, cart, now)
        work.create(
            session_ref(session.id), _data(session), _index(session), now, lambda: _changed(session.id)
        )
        work.commit()
        return SessionAnswer(201, self._render(session, cart))

    def update(self, agent_id: str, session_id: str, request: acp.UpdateSessionRequest) -> SessionAnswer:
        stored, session = self._open_session(agent_id, session_id)
        cart = self._cart(session)
        now = self.clock()
        # What the last completion attempt ran into is history once the session changes.
        changes: dict[str, Any] = {"updated_at": now, "last_failure": None}
        if request.buyer is not None:
            changes["buyer"] = _dump(request.buyer)
        if request.fulfillment_details is not None:
            changes["fulfillment_details"] = _dump(request.fulfillment_details)
        if request.selected_fulfillment_options:
            changes["shipping_option"] = _shipping_option(request.selected_fulfillment_options)
        if request.coupons is not None or request.discounts is not None:
            changes["discount_codes"] = _codes(request.coupons, request.discounts)
        if request.order_notes is not None:
            changes["order_notes"] = request.order_notes
        updated = session.model_copy(update=changes)
        work = self.repository.unit_of_work()
        if request.line_items is not None:
            products = self._products(request.line_items)
            lines = self._cart_lines(request.line_items, products, session.currency, cart.value)
            new_cart = cart.value.model_copy(update={"lines": lines, "updated_at": now})
            self.store.carts.stage_replace(work, cart, new_cart, now)
            cart = Loaded(new_cart, cart.stored)
        work.replace(stored, _data(updated), _index(updated), now, lambda: _changed(session_id))
        work.commit()
        return SessionAnswer(200, self._render(updated, cart.value))

    def get(self, agent_id: str, session_id: str) -> SessionAnswer:
        _, session = self._session(agent_id, session_id)
        return SessionAnswer(200, self._render(session, self._cart(session).value))

    def complete(self, agent_id: str, session_id: str, request: acp.CompleteSessionRequest) -> SessionAnswer:
        stored, session = self._open_session(agent_id, session_id)
        if request.buyer is not None:
            session = session.model_copy(update={"buyer": _dump(request.buyer)})
        cart = self._cart(session).value
        view = self._render(session, cart)
        if view.status != "ready_for_payment":
            blocking = "; ".join(message.content for message in view.messages if message.type == "error")
            raise InvalidInput(
                f"The checkout session is not ready for payment: {blocking or 'it is incomplete'}.",
                code="checkout_session_not_ready",
            )
        token = _payment_token(request.payment_data)
        code = self._applicable_code(session, cart, [])
        record = self.checkout(
            CheckoutRequest(
                cart_id=cart.id,
                user_id=agent_id,
                shipping_option=session.shipping_option,
                address=_address(session),
                discount_code=code,
                payment_token=token,
                # One attempt per state of the session: a retry of a crashed attempt is the same one.
                idempotency_key=f"acp-{session.id}-{stored.version}",
            )
        )
        if record.status == CheckoutStatus.COMPLETED and record.order_id:
            completion: dict[str, Any] = {"status": SessionStatus.COMPLETED, "order_id": record.order_id}
            if request.buyer is not None:
                completion["buyer"] = session.buyer
            completed = self._record_order(agent_id, stored, session, completion)
            return SessionAnswer(200, self._render(completed, self._cart(completed).value))
        failure = record.failure
        now = self.clock()
        failed = session.model_copy(
            update={
                "last_failure": {
                    "code": failure.code if failure else "checkout_failed",
                    "message": failure.message if failure else "The checkout failed.",
                },
                "updated_at": now,
            }
        )
        work = self.repository.unit_of_work()
        work.replace(stored, _data(failed), _index(failed), now, lambda: _changed(session_id))
        work.commit()
        return SessionAnswer(200, self._render(failed, self._cart(failed).value))

    def _record_order(
        self, agent_id: str, stored: StoredEntity, session: AcpSession, completion: dict[str, Any]
    ) -> AcpSession:
        """The session completed with its order. The order exists, so this write must land: a change that
        raced in while the checkout ran (an update, a cancel) is read again and the completion applied on
        top of it, rather than answering 409 for a session whose buyer has paid."""
        session_id = session.id
        for _ in range(_COMPLETION_WRITES):
            now = self.clock()
            completed = session.model_copy(update={**completion, "updated_at": now})
            work = self.repository.unit_of_work()
            work.replace(stored, _data(completed), _index(completed), now, lambda: _changed(session_id))
            try:
                work.commit()
            except TalkshopError as error:
                if error.code != "concurrent_update":
                    raise
                stored, session = self._session(agent_id, session_id)
                continue
            return completed
        raise _changed(session_id)

    def cancel(self, agent_id: str, session_id: str, request: acp.CancelSessionRequest) -> SessionAnswer:
        stored, session = self._session(agent_id, session_id)
        if session.status != SessionStatus.OPEN:
            raise NotCancelable(
                f"The checkout session is already {session.status.value}.",
                code="checkout_session_not_cancelable",
            )
        now = self.clock()
        reason = (
            request.intent_trace.model_dump(mode="json", exclude_none=True) if request.intent_trace else None
        )
        canceled = session.model_copy(
            update={"status": SessionStatus.CANCELED, "cancel_reason": reason, "updated_at": now}
        )
        work = self.repository.unit_of_work()
        work.replace(stored, _data(canceled), _index(canceled), now, lambda: _changed(session_id))
        work.commit()
        return SessionAnswer(200, self._render(canceled, self._cart(canceled).value))

    # Reading

    def _session(self, agent_id: str, session_id: str) -> tuple[StoredEntity, AcpSession]:
        stored = self.repository.get(session_ref(session_id))
        if stored is None:
            raise _not_found(session_id)
        session = AcpSession.model_validate(stored.data)
        # Another agent's session does not exist for this one.
        if session.agent_id != agent_id:
            raise _not_found(session_id)
        return stored, session

    def _open_session(self, agent_id: str, session_id: str) -> tuple[StoredEntity, AcpSession]:
        stored, session = self._session(agent_id, session_id)
        if session.status != SessionStatus.OPEN:
            raise Conflict(
                f"The checkout session is {session.status.value}; it can no longer change.",
                code="checkout_session_closed",
            )
        return stored, session

    def _cart(self, session: AcpSession) -> Loaded[Cart]:
        cart = self.store.carts.get(session.cart_id)
        if cart is None:
            raise _not_found(session.id)
        return cart

    def _order(self, order_id: str) -> Order | None:
        loaded = self.store.orders.get(order_id)
        return loaded.value if loaded else None

    def _products(self, items: Sequence[acp.Item]) -> dict[str, Product]:
        products = self.catalog.get_products([item.id for item in items])
        for index, item in enumerate(items):
            product = products.get(item.id)
            if product is None or product.status != ProductStatus.ACTIVE:
                raise InvalidInput(
                    f"The item ID {item.id!r} does not exist.",
                    code="invalid_item_id",
                    details={"param": f"$.line_items[{index}].id"},
                )
        return products

    def _cart_lines(
        self, items: Sequence[acp.Item], products: dict[str, Product], currency: str, cart: Cart | None
    ) -> list[CartLine]:
        """The cart's lines for the items (an id listed twice adds up), prices frozen at first add."""
        quantities: dict[str, int] = {}
        first_index: dict[str, int] = {}  # where the request first names the item, for `param`
        for index, item in enumerate(items):
            quantities[item.id] = quantities.get(item.id, 0) + item.quantity
            first_index.setdefault(item.id, index)
        lines = []
        for product_id, quantity in quantities.items():
            index = first_index[product_id]
            product = products[product_id]
            if product.currency != currency:
                raise InvalidInput(
                    f"{product.name} is sold in {product.currency}, not {currency}.",
                    code="currency_mismatch",
                    details={"param": f"$.line_items[{index}].id"},
                )
            if quantity > acp.MAX_QUANTITY:
                raise InvalidInput(
                    f"At most {acp.MAX_QUANTITY} of one item per order.",
                    code="quantity_exceeded",
                    details={"param": f"$.line_items[{index}]"},
                )
            kept = cart.line(product_id) if cart else None
            lines.append(
                CartLine(
                    product_id=product.id,
                    creator_id=product.creator_id,
                    name=product.name,
                    quantity=quantity,
                    unit_price=kept.unit_price if kept else product.price,
                    currency=product.currency,
                )
            )
        return lines

    # Rendering

    def _render(self, session: AcpSession, cart: Cart) -> acp.CheckoutSession:
        products = self.catalog.get_products([line.product_id for line in cart.lines])
        messages: list[acp.Message] = []
        code = self._applicable_code(session, cart, messages)
        priced = self.carts.quote(cart, code, session.shipping_option)
        line_items = []
        for index, (line, priced_line) in enumerate(zip(cart.lines, priced.lines, strict=True)):
            product = products.get(line.product_id)
            stock = product.stock if product and product.status == ProductStatus.ACTIVE else 0
            line_items.append(self._line_item(line, priced_line.discount, product, stock))
            messages.extend(_stock_messages(index, line, stock))
        if session.status == SessionStatus.OPEN and _address(session) is None:
            messages.append(
                acp.Message(
                    type="error",
                    code="missing",
                    param="$.fulfillment_details.address",
                    resolution="requires_buyer_input",
                    content="A shipping address is needed before payment.",
                )
            )
        if session.status == SessionStatus.OPEN and session.last_failure:
            messages.append(_failure_message(session.last_failure))
        return acp.CheckoutSession(
            id=session.id,
            capabilities=self._capabilities(),
            buyer=session.buyer,
            status=_status(session, messages),
            currency=session.currency.lower(),
            line_items=line_items,
            fulfillment_details=session.fulfillment_details,
            fulfillment_options=self._fulfillment_options(cart, code),
            selected_fulfillment_options=[
                acp.SelectedFulfillmentOption(
                    type="shipping",
                    option_id=session.shipping_option,
                    item_ids=[_line_item_id(line.product_id) for line in cart.lines],
                )
            ],
            totals=_totals(priced),
            messages=messages,
            links=self._links(),
            created_at=session.created_at,
            updated_at=session.updated_at,
            order=self._order_view(session),
        )

    def _applicable_code(self, session: AcpSession, cart: Cart, messages: list[acp.Message]) -> str | None:
        """The first submitted code that applies (one code per order); refused ones become warnings."""
        for code in session.discount_codes:
            try:
                self.carts.quote(cart, code, session.shipping_option)
            except (DiscountRefused, NotFound) as refused:
                messages.append(
                    acp.Message(
                        type="warning",
                        code="discount_code_expired"
                        if refused.code == "discount_expired"
                        else "discount_code_invalid",
                        param="$.discounts.codes",
                        content=refused.message,
                    )
                )
                continue
            return code
        return None

    def _line_item(self, line: CartLine, discount: int, product: Product | None, stock: int) -> acp.LineItem:
        return acp.LineItem(
            id=_line_item_id(line.product_id),
            item=acp.ItemRef(id=line.product_id),
            quantity=line.quantity,
            name=line.name,
            description=(product.description or None) if product else None,
            images=[self.shop.absolute(image.url) for image in product.images] if product else None,
            unit_amount=line.unit_price,
            product_id=line.product_id,
            category=product.category if product else None,
            availability_status=line_availability(stock),
            available_quantity=stock,
            max_quantity_per_order=acp.MAX_QUANTITY,
            totals=_line_totals(line.amount, discount),
        )

    def _fulfillment_options(self, cart: Cart, code: str | None) -> list[acp.FulfillmentOptionShipping]:
        now = self.clock()
        options = []
        for option in SHIPPING_OPTIONS.values():
            cost = self.carts.quote(cart, code, option.id).shipping
            earliest, latest = option.delivery_days
            options.append(
                acp.FulfillmentOptionShipping(
                    id=option.id,
                    title=option.name,
                    description=f"Arrives in {earliest}-{latest} days"
                    + (f"; free from {_money(option.free_from, cart)}" if option.free_from else ""),
                    earliest_delivery_time=now + timedelta(days=earliest),
                    latest_delivery_time=now + timedelta(days=latest),
                    totals=[acp.Total(type="total", display_text=option.name, amount=cost)],
                )
            )
        return options

    def _capabilities(self) -> dict[str, Any]:
        """The payment handler we accept: tokens delegated to us (vt_…), or the test provider's spt_test_…."""
        return {
            "payment": {
                "handlers": [
                    {
                        "id": "card_tokenized",
                        "name": "dev.acp.tokenized.card",
                        "display_name": "Card",
                        "version": "2026-01-22",
                        "spec": "https://acp.dev/handlers/tokenized.card",
                        "requires_delegate_payment": True,
                        "requires_pci_compliance": False,
                        "psp": "talkshop",
                        "config_schema": "https://acp.dev/schemas/handlers/tokenized.card/config.json",
                        "instrument_schemas": [
                            "https://acp.dev/schemas/handlers/tokenized.card/instrument.json"
                        ],
                        "config": {"merchant_id": self.shop.name},
                    }
                ]
            }
        }

    def _links(self) -> list[acp.Link]:
        return [
            acp.Link(type="terms_of_use", url=self.shop.policy_url(Policy.TERMS)),
            acp.Link(type="privacy_policy", url=self.shop.policy_url(Policy.PRIVACY)),
            acp.Link(type="return_policy", url=self.shop.policy_url(Policy.RETURNS)),
        ]

    def _order_view(self, session: AcpSession) -> acp.Order | None:
        if not session.order_id:
            return None
        order = self._order(session.order_id)
        return order_view(order, session.id, self.shop) if order else None


class NotCancelable(TalkshopError):
    status = 405
    code = "checkout_session_not_cancelable"


def order_view(order: Order, session_id: str, shop: Shop) -> acp.Order:
    """Our order as ACP's Order object (in session answers and in order webhooks)."""
    return acp.Order(
        id=order.id,
        checkout_session_id=session_id,
        order_number=order.id,
        permalink_url=f"{shop.public_url}/api/orders/{order.id}",
        status="confirmed" if order.status in ("placed", "paid") else str(order.status),
        line_items=[
            acp.OrderLineItem(
                id=_line_item_id(line.product_id),
                title=line.name,
                product_id=line.product_id,
                quantity=acp.OrderLineQuantity(ordered=line.quantity, current=line.quantity),
                unit_price=line.unit_price,
                subtotal=line.amount - line.discount,
            )
            for line in order.lines
        ],
        totals=_amount_totals(order.subtotal, order.discount, order.shipping, order.tax, order.total),
    )


def _line_item_id(product_id: str) -> str:
    return f"li_{product_id}"


def line_availability(stock: int) -> str:
    if stock <= 0:
        return "out_of_stock"
    return "low_stock" if stock < LOW_STOCK else "in_stock"


def _stock_messages(index: int, line: CartLine, stock: int) -> list[acp.Message]:
    param = f"$.line_items[{index}]"
    if stock <= 0:
        return [
            acp.Message(
                type="error",
                code="out_of_stock",
                param=param,
                resolution="requires_buyer_input",
                content=f"{line.name} is out of stock; remove it or choose another item.",
            )
        ]
    if stock < line.quantity:
        return [
            acp.Message(
                type="error",
                code="quantity_exceeded",
                param=f"{param}.quantity",
                resolution="requires_buyer_input",
                content=f"Only {stock} of {line.name} left; lower the quantity.",
            )
        ]
    if stock < LOW_STOCK:
        return [acp.Message(type="warning", code="low_stock", param=param, content=f"Only {stock} left.")]
    return []


def _failure_message(failure: dict[str, str]) -> acp.Message:
    """Why the last completion failed: `recoverable`, as completing again (another payment token, the
    cart as it is now) may succeed. Only the live state of the session blocks payment: a stock or cart
    problem that is still there has its own message."""
    # Everything past pricing is the payment's refusal (declined, allowance exceeded...).
    kind, acp_code = _CART_FAILURES.get(failure["code"], ("error", "payment_declined"))
    return acp.Message(type=kind, code=acp_code, resolution="recoverable", content=failure["message"])


# Failures of the checkout's steps before the payment, as ACP message kinds and codes.
_CART_FAILURES: dict[str, tuple[Literal["error", "warning"], str]] = {
    "out_of_stock": ("error", "out_of_stock"),
    "price_changed": ("warning", "price_change"),
    "product_unavailable": ("error", "invalid"),
    "cart_empty": ("error", "invalid"),
    "cart_closed": ("error", "invalid"),
    "concurrent_update": ("error", "conflict"),
}


def _status(session: AcpSession, messages: Sequence[acp.Message]) -> acp.SessionState:
    if session.status == SessionStatus.COMPLETED:
        return "completed"
    if session.status == SessionStatus.CANCELED:
        return "canceled"
    blocked = any(message.type == "error" and message.resolution != "recoverable" for message in messages)
    return "not_ready_for_payment" if blocked else "ready_for_payment"


def _line_totals(amount: int, discount: int) -> list[acp.Total]:
    return [
        acp.Total(type="items_base_amount", display_text="Base amount", amount=amount),
        acp.Total(type="discount", display_text="Discount", amount=discount),
        acp.Total(type="subtotal", display_text="Subtotal", amount=amount - discount),
        acp.Total(type="tax", display_text="Tax", amount=0),
        acp.Total(type="total", display_text="Total", amount=amount - discount),
    ]


def _totals(priced: Quote) -> list[acp.Total]:
    return _amount_totals(priced.subtotal, priced.discount, priced.shipping, priced.tax, priced.total)


def _amount_totals(subtotal: int, discount: int, shipping: int, tax: int, total: int) -> list[acp.Total]:
    totals = [acp.Total(type="items_base_amount", display_text="Item(s) total", amount=subtotal)]
    if discount:
        totals.append(acp.Total(type="discount", display_text="Discount", amount=discount))
    totals += [
        acp.Total(type="subtotal", display_text="Subtotal", amount=subtotal - discount),
        acp.Total(type="fulfillment", display_text="Shipping", amount=shipping),
        acp.Total(type="tax", display_text="Tax (included in prices)" if tax == 0 else "Tax", amount=tax),
        acp.Total(type="total", display_text="Total", amount=total),
    ]
    return totals


def _money(amount: int, cart: Cart) -> str:
    return format_price(amount, cart.currency or "EUR")


def _codes(coupons: Sequence[str] | None, discounts: acp.DiscountsRequest | None) -> list[str]:
    """Submitted codes, the current `discounts.codes` first, then the deprecated `coupons`."""
    codes = [*(discounts.codes if discounts else []), *(coupons or [])]
    return list(dict.fromkeys(code.strip().upper() for code in codes if code.strip()))


def _address(session: AcpSession) -> Address | None:
    details = session.fulfillment_details or {}
    address = details.get("address")
    if not address:
        return None
    email = details.get("email") or (session.buyer or {}).get("email")
    return Address(
        name=address["name"],
        line1=address["line_one"],
        line2=address.get("line_two") or None,
        city=address["city"],
        postal_code=address["postal_code"],
        region=address.get("state") or None,
        country=address["country"].upper(),
        email=email,
        phone=details.get("phone_number"),
    )


def _payment_token(payment: acp.PaymentData) -> str:
    if payment.instrument is None:
        raise InvalidInput(
            "Only tokenized card payments are accepted (payment_data.instrument).",
            code="unsupported_payment_method",
            details={"param": "$.payment_data.instrument"},
        )
    return payment.instrument.credential.token


def _shipping_option(selected: Sequence[acp.SelectedFulfillmentOption]) -> str:
    """The shipping option chosen: we offer shipping only, one option for the whole cart."""
    choice = selected[0]
    if choice.type != "shipping":
        raise InvalidInput(
            f"Only shipping is offered, not {choice.type}.",
            code="invalid_fulfillment_option",
            details={"param": "$.selected_fulfillment_options[0].type"},
        )
    if choice.option_id not in SHIPPING_OPTIONS:
        raise InvalidInput(
            f"Unknown fulfillment option {choice.option_id!r}.",
            code="invalid_fulfillment_option",
            details={"param": "$.selected_fulfillment_options[0].option_id"},
        )
    return choice.option_id


def _dump(model: BaseModel | None) -> dict[str, Any] | None:
    return model.model_dump(mode="json", exclude_none=True) if model else None


def _data(session: AcpSession) -> dict[str, Any]:
    return session.model_dump(mode="json")


def _index(session: AcpSession) -> IndexEntries:
    # Listed under the agent, so that an agent's sessions (and abandoned ones) can be found.
    return IndexEntries(owner_id=session.agent_id, status=session.status)
