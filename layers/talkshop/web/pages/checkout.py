"""Pages of the checkout: the cart with its quote and one "Complete purchase" button, the forms that
change its quantity and discount code, and the order confirmation page.

A cart is shown to its shopper only (anyone else gets the 404 page). A refused change or purchase
shows the checkout page again with the reason, at the status the JSON API gives (402 declined, 409
out of stock or changed price, 422 refused code); the cart is as it was. "Complete purchase" runs the
same checkout as POST /api/checkout, once per idempotency key: the page renders a fresh key into the
form, so a double click or a resent form places one order and answers it again.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from pydantic import BaseModel

from talkshop.api.app import error_response, header, json_response
from talkshop.api.context import caller, carts, catalog, chat_sessions, checkout, orders
from talkshop.api.idempotency import KeyInFlight, KeyReused, run_once, valid_key
from talkshop.api.observability import logger
from talkshop.auth import Principal
from talkshop.commerce.checkout import CheckoutRequest
from talkshop.commerce.discounts import DiscountRefused
from talkshop.commerce.model import Cart
from talkshop.errors import Conflict, InvalidInput, TalkshopError
from talkshop.web.app import form_fields, page, page_router, require_same_origin, resolver_of
from talkshop.web.checkout_view import (
    checkout_href,
    checkout_view,
    order_location,
    order_view,
    parse_discount_code,
    parse_product_id,
    parse_quantity,
    payment_token,
)
from talkshop.web.render import redirect

router = page_router()

FRAGMENT_TEMPLATE = "_checkout_panel.html"


class PurchaseAnswer(BaseModel):
    """What the page's script gets for a completed purchase: where to go next."""

    location: str


def _query(app: APIGatewayRestResolver) -> dict[str, str]:
    return app.current_event.query_string_parameters or {}


def _kept_code(text: str | None) -> str | None:
    """The typed code a form carried along, to show the page again with it (a malformed one is dropped)."""
    try:
        return parse_discount_code(text)
    except InvalidInput:
        return None


def _checkout_page(
    cart: Cart,
    principal: Principal,
    *,
    typed_code: str | None,
    fragment: bool,
    error: TalkshopError | None = None,
) -> Response[str]:
    """The checkout page of a cart priced now, with `error` (at its status) when something was refused.
    A typed code that no longer applies is dropped and said so."""
    service = carts()
    try:
        priced = service.view(cart, discount_code=typed_code)
    except DiscountRefused as refused:
        priced, typed_code, error = service.view(cart), None, error or refused
    products = catalog().get_products([line.product_id for line in cart.lines])
    ordered = orders().get(cart.order_id, principal) if cart.order_id else None
    view = checkout_view(
        priced,
        products,
        typed_code=typed_code,
        idempotency_key=secrets.token_urlsafe(18),
        fragment=fragment,
        ordered_order=ordered,
        error=error,
    )
    template = FRAGMENT_TEMPLATE if fragment else "checkout.html"
    return page(template, status=error.status if error else 200, section="checkout", view=view)


@router.get("/checkout/<id>")
def show_checkout(id: str) -> Response[str]:
    app = resolver_of(router)
    principal = caller(app)
    cart = carts().get(id, principal)
    query = _query(app)
    fragment = query.get("fragment") == "1"
    try:
        typed_code = parse_discount_code(query.get("code"))
    except InvalidInput as invalid:
        return _checkout_page(cart, principal, typed_code=None, fragment=fragment, error=invalid)
    return _checkout_page(cart, principal, typed_code=typed_code, fragment=fragment)


@dataclass(frozen=True)
class _PostedForm:
    """A form posted to a cart's checkout page: its fields, by whom, and the cart as it is now."""

    app: APIGatewayRestResolver
    fields: dict[str, str]
    principal: Principal
    cart: Cart

    @property
    def fragment(self) -> bool:
        return self.fields.get("fragment") == "1"


def _posted_form(cart_id: str) -> _PostedForm:
    app = resolver_of(router)
    require_same_origin(app)
    fields = form_fields(app)
    principal = caller(app)
    return _PostedForm(app, fields, principal, carts().get(cart_id, principal))


@router.post("/checkout/<id>/discount")
def apply_discount(id: str) -> Response[str]:
    """Try a typed code: kept in the page's address when it applies, refused with the reason if not."""
    posted = _posted_form(id)
    fields, principal, cart, fragment = posted.fields, posted.principal, posted.cart, posted.fragment
    try:
        code = parse_discount_code(fields.get("code"))
        if code is not None:
            carts().view(cart, discount_code=code)  # raises DiscountRefused when it does not apply
    except InvalidInput as refused:
        return _checkout_page(cart, principal, typed_code=None, fragment=fragment, error=refused)
    return redirect(checkout_href(id, code=code, fragment=fragment))


@router.post("/checkout/<id>/quantity")
def change_quantity(id: str) -> Response[str]:
    posted = _posted_form(id)
    fields, principal, cart, fragment = posted.fields, posted.principal, posted.cart, posted.fragment
    typed_code = _kept_code(fields.get("code"))
    try:
        product_id = parse_product_id(fields.get("productId"))
        carts().set_quantity(id, product_id, parse_quantity(fields.get("quantity")), principal)
    except TalkshopError as refused:
        return _checkout_page(cart, principal, typed_code=typed_code, fragment=fragment, error=refused)
    return redirect(checkout_href(id, code=typed_code, fragment=fragment))


@router.post("/checkout/<id>")
def complete_purchase(id: str) -> Response[Any]:
    """Pay and place the order, then go where it is confirmed: the chat for a chat's cart, else the
    order page. The page's script asks for JSON (Accept) and is answered {"location"} or the error."""
    posted = _posted_form(id)
    app, fields, principal, cart = posted.app, posted.fields, posted.principal, posted.cart
    wants_json = "application/json" in (header(app, "Accept") or "")
    try:
        order_id = _place_order(app, cart, principal, fields)
    except TalkshopError as refused:
        if wants_json:
            return error_response(refused.status, refused.code, refused.message)
        return _checkout_page(
            carts().get(id, principal),  # as the refused checkout left it (a changed price is updated)
            principal,
            typed_code=_kept_code(fields.get("code")),
            fragment=posted.fragment,
            error=refused,
        )
    order = orders().get(order_id, principal)
    if order.conversation_id is not None:
        try:
            chat_sessions().confirm_order(order, principal)
        except Conflict:
            # The order stands; only its message in the chat is missing (the order page still has it).
            logger.warning("order confirmation not added to its chat", extra={"order_id": order.id})
    location = order_location(order)
    if wants_json:
        return json_response(PurchaseAnswer(location=location))
    return redirect(location)


def _place_order(
    app: APIGatewayRestResolver, cart: Cart, principal: Principal, fields: dict[str, str]
) -> str:
    """The order's id: checked out now, or the one this form's idempotency key placed before."""
    key = fields.get("idempotencyKey", "")
    if not valid_key(key):
        raise InvalidInput(
            "The form has expired; reload the page and try again.", code="invalid_idempotency_key"
        )
    request = CheckoutRequest(
        cart_id=cart.id,
        discount_code=parse_discount_code(fields.get("code")),
        payment_token=payment_token(fields.get("paymentToken") or None),
    )

    def place() -> dict[str, Any]:
        return {"orderId": checkout().checkout(request, principal).id}

    try:
        outcome = run_once(
            "web_checkout",
            f"{principal.kind}:{principal.person_id or ''}",
            key,
            request.model_dump(mode="json"),
            place,
            app.lambda_context,
        )
    except KeyReused as error:
        raise InvalidInput(
            "This form was already used for another purchase; reload the page.", code="idempotency_key_reused"
        ) from error
    except KeyInFlight as error:
        raise Conflict(
            "This purchase is still being placed; wait a moment.", code="request_in_progress"
        ) from error
    return str(outcome.answer["orderId"])


@router.get("/orders/<id>")
def show_order(id: str) -> Response[str]:
    app = resolver_of(router)
    order = orders().get(id, caller(app))
    return page("order.html", section="checkout", view=order_view(order))
