"""Carts: the one cart every surface fills, its lines at the price they were added at, its quote, and
the cart a chat starts a checkout with.

Who may do what: a shopper token reaches its own carts, the admin every cart; to anyone else a cart
does not exist. A cart without a shopper token creates a new shopper, whose token is answered once
(as starting a chat does). Only open carts change; a cart becomes `ordered` with its order.

Each change is one unit of work with its `added_to_cart` event and, for a cart filled from a chat,
the chat's `carted_products`.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import BaseModel, Field

from talkshop.advisor.model import ConversationSession
from talkshop.advisor.store import ConversationStore, LoadedSession
from talkshop.auth import Principal, PrincipalKind, generate_shopper_token
from talkshop.catalog.model import Product, ProductStatus
from talkshop.catalog.service import product_from_stored, product_ref
from talkshop.clock import Clock, utc_now
from talkshop.commerce.discounts import DiscountRefused, DiscountService
from talkshop.commerce.model import (
    MAX_CART_LINES,
    MAX_LINE_QUANTITY,
    WIRE,
    Cart,
    CartLine,
    CartStatus,
    Quote,
    RequestedQuantity,
)
from talkshop.commerce.pricing import DEFAULT_SHIPPING, quote, shipping_option
from talkshop.commerce.store import CommerceStore, Loaded, commerce_event
from talkshop.data.repository import UnitOfWork
from talkshop.errors import Conflict, Forbidden, InvalidInput, NotFound
from talkshop.ontology.model import EventType, Identifier


class CreateCartRequest(BaseModel):
    model_config = WIRE

    user_id: Identifier | None = Field(default=None, description="Admin only: the shopper the cart is for")


class AddLineRequest(BaseModel):
    model_config = WIRE

    product_id: Identifier
    quantity: RequestedQuantity = 1


class SetQuantityRequest(BaseModel):
    model_config = WIRE

    quantity: RequestedQuantity


class ChatCheckoutRequest(BaseModel):
    model_config = WIRE

    session_id: Identifier
    product_id: Identifier
    quantity: RequestedQuantity = 1


class ChatCheckoutStarted(BaseModel):
    model_config = WIRE

    checkout_url: str = Field(description="The checkout page of the cart (relative URL)")
    cart_id: str


class CartView(Cart):
    """A cart as answered: its lines, what it would cost now and, once, a new shopper's token."""

    quote: Quote | None = Field(default=None, description="Null for an empty cart")
    shopper_token: str | None = Field(default=None, description="Only when the cart created a shopper")


@dataclass(frozen=True)
class PriceChange:
    product_id: str
    name: str
    was: int
    now: int
    currency: str


def checkout_url(cart_id: str) -> str:
    return f"/checkout/{cart_id}"


def _not_found(cart_id: str) -> NotFound:
    return NotFound(f"No cart {cart_id!r}.", code="cart_not_found")


def _product_not_found(product_id: str) -> NotFound:
    return NotFound(f"No product {product_id!r} is for sale.", code="product_not_found")


def _line_of(product: Product, quantity: int) -> CartLine:
    return CartLine(
        product_id=product.id,
        creator_id=product.creator_id,
        name=product.name,
        quantity=quantity,
        unit_price=product.price,
        currency=product.currency,
    )


class CartService:
    def __init__(
        self,
        store: CommerceStore,
        conversations: ConversationStore,
        discounts: DiscountService,
        clock: Clock = utc_now,
    ) -> None:
        self.store = store
        self.conversations = conversations
        self.discounts = discounts
        self.clock = clock

    # Reading

    def get(self, cart_id: str, principal: Principal) -> Cart:
        return self._load(cart_id, principal).value

    def view(
        self,
        cart: Cart,
        *,
        discount_code: str | None = None,
        shipping: str = DEFAULT_SHIPPING,
        shopper_token: str | None = None,
    ) -> CartView:
        """The cart with its quote: with `discount_code` (a code being tried) or else the one it carries."""
        priced = self.quote(cart, discount_code, shipping) if cart.lines else None
        return CartView(**cart.model_dump(), quote=priced, shopper_token=shopper_token)

    def quote(self, cart: Cart, typed_code: str | None, shipping: str) -> Quote:
        """What the cart costs now. A code the shopper typed must apply (else DiscountRefused); the code
        a chat offered is applied only while it still does."""
        option = shipping_option(shipping)
        code = typed_code or cart.discount_code
        if code is None:
            return quote(cart.lines, shipping=option)
        try:
            discount, amount = self.discounts.apply(code, cart.lines, cart.user_id)
        except DiscountRefused:
            if typed_code:
                raise
            return quote(cart.lines, shipping=option)
        return quote(
            cart.lines,
            shipping=option,
            discount=amount,
            discounted_lines=[discount.covers(line) for line in cart.lines],
            discount_code=discount.code,
        )

    # Changing

    def create(self, request: CreateCartRequest, principal: Principal) -> CartView:
        work = self.store.repository.unit_of_work()
        token: str | None = None
        if principal.is_admin:
            if request.user_id is None:
                raise InvalidInput("Say which shopper the cart is for (userId).", code="user_required")
            if not self.conversations.shopper_exists(request.user_id):
                raise NotFound(f"No shopper {request.user_id!r}.", code="shopper_not_found")
            user_id = request.user_id
        elif principal.kind == PrincipalKind.SHOPPER and principal.person_id:
            if request.user_id not in (None, principal.person_id):
                raise Forbidden("A shopper token opens carts for its own shopper.", code="not_owner")
            user_id = principal.person_id
        elif principal.kind == PrincipalKind.ANONYMOUS:
            user_id, token = "usr_" + secrets.token_hex(8), generate_shopper_token()
            self.conversations.stage_new_shopper(work, user_id, token)
        else:
            raise Forbidden("Carts are for shoppers: send a shopper token, or none.", code="not_a_shopper")
        now = self.clock()
        cart = Cart(id="crt_" + secrets.token_hex(10), user_id=user_id, created_at=now, updated_at=now)
        self.store.carts.stage_create(work, cart, now)
        work.commit()
        return self.view(cart, shopper_token=token)

    def add_line(self, cart_id: str, request: AddLineRequest, principal: Principal) -> Cart:
        current = self._load_open(cart_id, principal)
        product = self._for_sale(request.product_id)
        existing = current.value.line(product.id)
        quantity = request.quantity + (existing.quantity if existing else 0)
        return self._save_line(current, product, quantity)

    def set_quantity(self, cart_id: str, product_id: str, quantity: int, principal: Principal) -> Cart:
        current = self._load_open(cart_id, principal)
        if current.value.line(product_id) is None:
            raise NotFound(f"The cart has no {product_id!r}.", code="line_not_found")
        return self._save_line(current, self._for_sale(product_id), quantity)

    def remove_line(self, cart_id: str, product_id: str, principal: Principal) -> Cart:
        current = self._load_open(cart_id, principal)
        cart = current.value
        if cart.line(product_id) is None:
            raise NotFound(f"The cart has no {product_id!r}.", code="line_not_found")
        now = self.clock()
        lines = [line for line in cart.lines if line.product_id != product_id]
        changed = cart.model_copy(
            update={"lines": lines, "currency": cart.currency if lines else None, "updated_at": now}
        )
        work = self.store.repository.unit_of_work()
        self.store.carts.stage_replace(work, current, changed, now)
        work.commit()
        return changed

    def start_from_chat(self, request: ChatCheckoutRequest, principal: Principal) -> Cart:
        """A new cart for the chat's shopper with the product, carrying the code the chat offered."""
        loaded = self.conversations.get(request.session_id)
        if loaded is None or not principal.may_shop_as(loaded.session.user_id):
            raise NotFound(f"No chat {request.session_id!r}.", code="session_not_found")
        cart = self.chat_cart(loaded.session, request.product_id, request.quantity)
        work = self.store.repository.unit_of_work()
        self.stage_chat_cart(work, cart, loaded)
        work.commit()
        return cart

    def chat_cart(
        self,
        session: ConversationSession,
        product_id: str,
        quantity: int,
        offered_code: str | None = None,
    ) -> Cart:
        """The chat's new cart (not yet stored): the product at today's price and the code the chat
        offered; `offered_code` is one offered by the chat turn being recorded, not stored yet."""
        product = self._for_sale(product_id)
        self._require_stock(product, quantity)
        now = self.clock()
        return Cart(
            id="crt_" + secrets.token_hex(10),
            user_id=session.user_id,
            currency=product.currency,
            lines=[_line_of(product, quantity)],
            session_id=session.id,
            discount_code=offered_code or self.store.offered_code(session.id),
            created_at=now,
            updated_at=now,
        )

    def stage_chat_cart(
        self, work: UnitOfWork, cart: Cart, session: LoadedSession, *, chat_records_carted: bool = False
    ) -> None:
        """The chat's cart created, with its added_to_cart event (on the chat's platform) and the product
        among the chat's carted ones, unless the caller replaces the chat itself (`chat_records_carted`:
        a chat turn, which cannot write the same chat twice in one transaction)."""
        self.store.carts.stage_create(work, cart, cart.created_at)
        self._stage_carted(
            work, cart, cart.lines[0], cart.lines[0].quantity, session, update_chat=not chat_records_carted
        )

    # Checkout support

    def price_changes(self, cart: Cart) -> tuple[list[PriceChange], list[str]]:
        """Lines whose product now costs something else, and products no longer for sale."""
        products = self._products([line.product_id for line in cart.lines])
        changes: list[PriceChange] = []
        gone: list[str] = []
        for line in cart.lines:
            product = products.get(line.product_id)
            if product is None or product.status != ProductStatus.ACTIVE or product.currency != line.currency:
                gone.append(line.product_id)
            elif product.price != line.unit_price:
                changes.append(
                    PriceChange(line.product_id, line.name, line.unit_price, product.price, line.currency)
                )
        return changes, gone

    def stage_reprice(self, work: UnitOfWork, current: Loaded[Cart], changes: Sequence[PriceChange]) -> None:
        """The cart's lines at today's prices (after the shopper was told of the change)."""
        new_prices = {change.product_id: change.now for change in changes}
        cart = current.value
        now = self.clock()
        lines = [
            line.model_copy(update={"unit_price": new_prices.get(line.product_id, line.unit_price)})
            for line in cart.lines
        ]
        self.store.carts.stage_replace(
            work, current, cart.model_copy(update={"lines": lines, "updated_at": now}), now
        )

    # Internals

    def _load(self, cart_id: str, principal: Principal) -> Loaded[Cart]:
        loaded = self.store.carts.get(cart_id)
        if loaded is None or not principal.may_shop_as(loaded.value.user_id):
            raise _not_found(cart_id)
        return loaded

    def _load_open(self, cart_id: str, principal: Principal) -> Loaded[Cart]:
        loaded = self._load(cart_id, principal)
        if loaded.value.status != CartStatus.OPEN:
            raise Conflict(f"Cart {cart_id!r} has been ordered; start a new cart.", code="cart_closed")
        return loaded

    def _products(self, product_ids: Sequence[str]) -> dict[str, Product]:
        found = self.store.repository.get_many([product_ref(product_id) for product_id in product_ids])
        return {ref.id: product_from_stored(stored) for ref, stored in found.items()}

    def _for_sale(self, product_id: str) -> Product:
        product = self._products([product_id]).get(product_id)
        if product is None or product.status != ProductStatus.ACTIVE:
            raise _product_not_found(product_id)
        return product

    @staticmethod
    def _require_stock(product: Product, quantity: int) -> None:
        """An early answer for the shopper; the reservation at checkout is what never oversells."""
        if product.stock < quantity:
            raise Conflict(
                f"Only {product.stock} of {product.name} left.",
                code="out_of_stock",
                details={"productId": product.id, "available": product.stock},
            )

    def _save_line(self, current: Loaded[Cart], product: Product, quantity: int) -> Cart:
        cart = current.value
        if quantity > MAX_LINE_QUANTITY:
            raise InvalidInput(
                f"At most {MAX_LINE_QUANTITY} of one product per cart.", code="quantity_too_large"
            )
        others = [line for line in cart.lines if line.product_id != product.id]
        if others and others[0].currency != product.currency:
            raise Conflict(
                f"This cart is in {cart.currency}; {product.name} is priced in {product.currency}.",
                code="currency_mismatch",
            )
        self._require_stock(product, quantity)
        before = cart.line(product.id)
        line = _line_of(product, quantity)  # the price is frozen again at today's price
        lines = [line if existing.product_id == product.id else existing for existing in cart.lines]
        if before is None:
            if len(lines) >= MAX_CART_LINES:
                raise InvalidInput(f"A cart holds at most {MAX_CART_LINES} products.", code="cart_full")
            lines.append(line)
        now = self.clock()
        changed = cart.model_copy(update={"lines": lines, "currency": product.currency, "updated_at": now})
        work = self.store.repository.unit_of_work()
        self.store.carts.stage_replace(work, current, changed, now)
        added = quantity - (before.quantity if before else 0)
        if added > 0:  # fewer of a product is not an add to cart
            session = self.conversations.get(cart.session_id) if cart.session_id else None
            self._stage_carted(work, changed, line, added, session)
        work.commit()
        return changed

    def _stage_carted(
        self,
        work: UnitOfWork,
        cart: Cart,
        line: CartLine,
        added: int,
        session: LoadedSession | None,
        *,
        update_chat: bool = True,
    ) -> None:
        """The added_to_cart event (`quantity`: the units added; `line_quantity`: the line's now) and,
        for a chat's cart, the product among the chat's carted ones (with `update_chat`)."""
        now = self.clock()
        work.record_event(
            commerce_event(
                EventType.ADDED_TO_CART,
                self.store.carts.ref(cart.id),
                now,
                cart.user_id,
                cart_id=cart.id,
                product_id=line.product_id,
                creator_id=line.creator_id,
                quantity=added,
                line_quantity=line.quantity,
                unit_price=line.unit_price,
                currency=line.currency,
                session_id=cart.session_id,
                # A chat's cart adds count on the chat's platform in analytics.
                platform=session.session.platform.value if session is not None else None,
            )
        )
        if update_chat and session is not None and line.product_id not in session.session.carted_products:
            carted = [*session.session.carted_products, line.product_id]
            self.conversations.stage_replace(
                work, session, session.session.model_copy(update={"carted_products": carted})
            )
