"""Carts, checkout, orders and discount codes.

Carts and orders are visible to their shopper's token and the admin only; discount codes are issued and
listed by creators (their own) and the admin. Every POST honours Idempotency-Key: a retry gets the
first answer and changes nothing (a checkout charges once).
"""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.metrics import MetricUnit

from talkshop.api.app import create_app, error_responses, json_response, lambda_entrypoint, location_of
from talkshop.api.context import caller, carts, checkout, discounts, orders
from talkshop.api.idempotency import once_per_key
from talkshop.api.observability import metrics
from talkshop.commerce.carts import (
    AddLineRequest,
    CartView,
    ChatCheckoutRequest,
    ChatCheckoutStarted,
    CreateCartRequest,
    SetQuantityRequest,
    checkout_url,
)
from talkshop.commerce.checkout import CheckoutRequest
from talkshop.commerce.model import Discount, DiscountCode, DiscountFields, DiscountList, Order, OrderList
from talkshop.commerce.pricing import DEFAULT_SHIPPING
from talkshop.ontology.model import Identifier

app = create_app()

CartId = Annotated[Identifier, Path()]
ProductId = Annotated[Identifier, Path()]
_CART_CHANGED: dict[int, OpenAPIResponse] = {
    200: {"description": "The cart"},
    **error_responses(400, 401, 403, 404, 409, 415, 422),
}


@app.post(
    "/api/carts",
    summary="Open a cart",
    description="With a shopper token: a cart for that shopper. With the admin key: for userId (an existing "
    "shopper). With no credentials: a cart for a new shopper, whose token is in the answer once "
    "(shopperToken).",
    tags=["commerce"],
    responses={201: {"description": "The new cart"}, **error_responses(400, 401, 403, 404, 409, 415, 422)},
)
def open_cart(request: CreateCartRequest) -> Response[CartView]:
    principal = caller(app)

    def handle() -> Response[CartView]:
        cart = carts().create(request, principal)
        return json_response(cart, status=201, headers={"Location": location_of(app, cart.id)})

    return once_per_key(app, "open_cart", principal, request, handle, shown_once=("shopperToken",))


@app.get(
    "/api/carts/<id>",
    summary="Read a cart with its quote",
    description="The quote uses the code the cart carries (offered in its chat) or discountCode to try one.",
    tags=["commerce"],
    responses={200: {"description": "The cart"}, **error_responses(401, 404, 422)},
)
def read_cart(
    id: CartId,
    discountCode: Annotated[DiscountCode | None, Query()] = None,
    shipping: Annotated[str, Query(max_length=32)] = DEFAULT_SHIPPING,
) -> Response[CartView]:
    service = carts()
    return json_response(
        service.view(service.get(id, caller(app)), discount_code=discountCode, shipping=shipping)
    )


@app.post(
    "/api/carts/<id>/lines",
    summary="Add a product to a cart (at today's price)",
    tags=["commerce"],
    responses=_CART_CHANGED,
)
def add_line(id: CartId, request: AddLineRequest) -> Response[CartView]:
    principal = caller(app)

    def handle() -> Response[CartView]:
        cart = carts().add_line(id, request, principal)
        metrics.add_metric(name="AddedToCart", unit=MetricUnit.Count, value=1)
        return json_response(carts().view(cart))

    return once_per_key(app, f"add_line:{id}", principal, request, handle)


@app.put(
    "/api/carts/<id>/lines/<productId>",
    summary="Set a product's quantity in a cart",
    tags=["commerce"],
    responses=_CART_CHANGED,
)
def set_quantity(id: CartId, productId: ProductId, request: SetQuantityRequest) -> Response[CartView]:
    cart = carts().set_quantity(id, productId, request.quantity, caller(app))
    return json_response(carts().view(cart))


@app.delete(
    "/api/carts/<id>/lines/<productId>",
    summary="Remove a product from a cart",
    tags=["commerce"],
    responses={200: {"description": "The cart"}, **error_responses(401, 404, 409, 422)},
)
def remove_line(id: CartId, productId: ProductId) -> Response[CartView]:
    cart = carts().remove_line(id, productId, caller(app))
    return json_response(carts().view(cart))


@app.post(
    "/api/checkout",
    summary="Check a cart out: reserve, price, pay and place the order",
    description="Runs the checkout state machine. A changed price, missing stock, a refused code or a "
    "declined payment leave the cart as it was (a changed price updates it to today's prices).",
    tags=["commerce"],
    responses={
        201: {"description": "The paid order"},
        **error_responses(400, 401, 402, 404, 409, 415, 422, 503),
    },
)
def check_out(request: CheckoutRequest) -> Response[Order]:
    principal = caller(app)

    def handle() -> Response[Order]:
        order = checkout().checkout(request, principal)
        metrics.add_metric(name="OrdersPlaced", unit=MetricUnit.Count, value=1)
        return json_response(order, status=201, headers={"Location": f"/api/orders/{order.id}"})

    return once_per_key(app, "checkout", principal, request, handle)


@app.post(
    "/api/chat/checkout",
    summary="Start checking out a product from a chat",
    description="A cart for the chat's shopper with the product (and the code the chat offered), and the "
    "URL of its checkout page.",
    tags=["commerce"],
    responses={
        201: {"description": "The cart and its checkout page"},
        **error_responses(400, 401, 404, 409, 415, 422),
    },
)
def chat_checkout(request: ChatCheckoutRequest) -> Response[ChatCheckoutStarted]:
    principal = caller(app)

    def handle() -> Response[ChatCheckoutStarted]:
        cart = carts().start_from_chat(request, principal)
        metrics.add_metric(name="ChatCheckoutsStarted", unit=MetricUnit.Count, value=1)
        started = ChatCheckoutStarted(checkout_url=checkout_url(cart.id), cart_id=cart.id)
        return json_response(started, status=201, headers={"Location": f"/api/carts/{cart.id}"})

    return once_per_key(app, "chat_checkout", principal, request, handle)


@app.get(
    "/api/orders/<id>",
    summary="Read an order",
    tags=["commerce"],
    responses={200: {"description": "The order"}, **error_responses(401, 404, 422)},
)
def read_order(id: Annotated[Identifier, Path()]) -> Response[Order]:
    return json_response(orders().get(id, caller(app)))


@app.get(
    "/api/orders",
    summary="List a shopper's orders, newest first",
    tags=["commerce"],
    responses={200: {"description": "A page of orders"}, **error_responses(400, 401, 403, 422)},
)
def list_orders(
    user: Annotated[Identifier | None, Query(description="Default: the shopper of the token")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=2000)] = None,
) -> Response[OrderList]:
    return json_response(orders().list_orders(user, caller(app), limit=limit, cursor=cursor))


@app.post(
    "/api/discounts",
    summary="Issue a discount code",
    description="A creator's code covers only their own products (all of them unless productIds narrows it); "
    "the admin's may cover anything.",
    tags=["commerce"],
    responses={201: {"description": "The code"}, **error_responses(400, 401, 403, 409, 415, 422)},
)
def create_discount(request: DiscountFields) -> Response[Discount]:
    principal = caller(app)

    def handle() -> Response[Discount]:
        discount = discounts().create(request, principal)
        return json_response(discount, status=201)

    return once_per_key(app, "create_discount", principal, request, handle)


@app.get(
    "/api/discounts",
    summary="List discount codes with their uses",
    tags=["commerce"],
    responses={200: {"description": "A page of codes"}, **error_responses(400, 401, 403, 422)},
)
def list_discounts(
    creator: Annotated[Identifier | None, Query(description="Admin: one creator's codes")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    cursor: Annotated[str | None, Query(max_length=2000)] = None,
) -> Response[DiscountList]:
    return json_response(
        discounts().list_discounts(caller(app), creator_id=creator, limit=limit, cursor=cursor)
    )


lambda_handler = lambda_entrypoint(app)
