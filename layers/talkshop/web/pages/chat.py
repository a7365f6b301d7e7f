"""Pages of the chat: the conversation, sending a message, correcting preferences, buying from a
card, and a product's details.

Without JavaScript every change is a form that posts here and is redirected (303) to the chat page,
which renders the conversation from what the chat service stored. chat.js enhances the same forms:
it starts a chat with POST /chat/new (answered as JSON when asked for, with the shopper cookie set),
streams the answer from POST /api/chat/message/stream, and then asks GET /chat?fragment=latest for
the server-rendered cards of the answer, so cards have one renderer.
"""

from __future__ import annotations

import json
import re
from typing import Any, cast

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from pydantic import TypeAdapter, ValidationError

from talkshop.advisor.chat_api import CLIENT_MESSAGE_ID_PATTERN, ChatMessageRequest, StartChatRequest
from talkshop.advisor.model import MAX_MESSAGE_CHARS, ConversationSession, Platform
from talkshop.advisor.preferences import Preferences
from talkshop.api.app import header
from talkshop.api.context import caller, carts, catalog, chat_service, chat_sessions
from talkshop.api.cookies import forget_shopper_cookie, shopper_cookie
from talkshop.auth import ANONYMOUS, Principal, PrincipalKind
from talkshop.catalog.model import Product, ProductStatus
from talkshop.commerce.carts import AddLineRequest, ChatCheckoutRequest, checkout_url
from talkshop.commerce.model import MAX_LINE_QUANTITY, Cart, CartStatus
from talkshop.errors import InvalidInput, NotFound, Unauthorized
from talkshop.ontology.model import Identifier
from talkshop.settings import get_settings
from talkshop.web import chat_view
from talkshop.web.app import form_fields, page, page_router, require_same_origin
from talkshop.web.render import SECURITY_HEADERS, redirect
from talkshop.web.store_view import STORE_CARD_ACTIONS

router = page_router()
# The helpers read only the current event, which a Router shares with the app that includes it.
_request = cast(APIGatewayRestResolver, router)

_IDENTIFIER: TypeAdapter[str] = TypeAdapter(Identifier)
BUY_NOW = "buy"
ADD_TO_CART = "add"


# Parsing


def _identifier(value: str | None, name: str) -> str | None:
    if value is None or value == "":
        return None
    try:
        return _IDENTIFIER.validate_python(value)
    except ValidationError as error:
        raise InvalidInput(f"{name} is not a valid id.", code=f"invalid_{name}") from error


def _required_identifier(value: str | None, name: str) -> str:
    identifier = _identifier(value, name)
    if identifier is None:
        raise InvalidInput(f"{name} is required.", code=f"missing_{name}")
    return identifier


def _message_text(value: str | None) -> str:
    text = (value or "").strip()
    if not text:
        raise InvalidInput("Type a message first.", code="empty_message")
    if len(text) > MAX_MESSAGE_CHARS:
        raise InvalidInput(f"A message has at most {MAX_MESSAGE_CHARS} characters.", code="message_too_long")
    return text


def _client_message_id(value: str | None) -> str | None:
    if not value:
        return None
    if not re.fullmatch(CLIENT_MESSAGE_ID_PATTERN, value):
        raise InvalidInput("clientMessageId is not a valid key.", code="invalid_client_message_id")
    return value


def _quantity(value: str | None) -> int:
    text = (value or "1").strip()
    if not text.isdigit() or not 1 <= int(text) <= MAX_LINE_QUANTITY:
        raise InvalidInput(
            f"The quantity must be a whole number from 1 to {MAX_LINE_QUANTITY}.", code="invalid_quantity"
        )
    return int(text)


def _query(name: str) -> str | None:
    return (_request.current_event.query_string_parameters or {}).get(name)


def _wants_json() -> bool:
    """chat.js asks for JSON; a browser posting a form asks for HTML."""
    return "application/json" in (header(_request, "Accept") or "")


def _json(status: int, body: dict[str, object], cookie: str | None) -> Response[str]:
    headers = {**SECURITY_HEADERS, **({"Set-Cookie": cookie} if cookie else {})}
    return Response(
        status_code=status, content_type="application/json", body=json.dumps(body), headers=headers
    )


# The shopper


def _secure_cookies() -> bool:
    return get_settings().public_url.startswith("https://")


def _shopper() -> tuple[Principal, str | None]:
    """The caller, and a Set-Cookie to send: a cookie whose token no longer works (a local runtime
    started afresh) is forgotten, and its browser is a new visitor."""
    try:
        return caller(_request), None
    except Unauthorized:
        return ANONYMOUS, forget_shopper_cookie(secure=_secure_cookies())


def _start_chat(principal: Principal, cookie: str | None) -> tuple[str, Principal, str | None]:
    """A new chat; for a new visitor also a new shopper, whose token goes into the cookie."""
    started = chat_sessions().start(StartChatRequest(platform=Platform.WEB), principal)
    if started.shopper_token is None:
        return started.id, principal, cookie
    shopper = Principal(PrincipalKind.SHOPPER, started.user_id)
    return started.id, shopper, shopper_cookie(started.shopper_token, secure=_secure_cookies())


def _cookie_headers(cookie: str | None) -> dict[str, str]:
    return {"Set-Cookie": cookie} if cookie else {}


def _chat_url(session_id: str, cart_id: str | None = None, anchor: str = "latest") -> str:
    cart = f"&cart={cart_id}" if cart_id else ""
    return f"/chat?session={session_id}{cart}#{anchor}"


# Pages


def _products(product_ids: list[str]) -> dict[str, Product]:
    """Products for display, read from the table (no search code in this function)."""
    found = catalog().get_products(product_ids) if product_ids else {}
    return {id_: product for id_, product in found.items() if product.status == ProductStatus.ACTIVE}


def _open_cart(cart_id: str | None, principal: Principal) -> Cart | None:
    if cart_id is None:
        return None
    try:
        cart = carts().get(cart_id, principal)
    except NotFound:
        return None  # a cart of another shopper, or gone: the page simply shows none
    return cart if cart.status == CartStatus.OPEN else None


def _conversation(session: ConversationSession, principal: Principal) -> dict[str, Any]:
    """What chat.html and its fragment need to show a chat."""
    products = _products(chat_view.product_ids_to_show(session))
    recommendations = [item for item, _ in chat_sessions().store.recommendations_in(session.id)]
    messages = chat_view.message_views(session, recommendations, products)
    cart = _open_cart(_identifier(_query("cart"), "cart"), principal)
    return {
        "session_id": session.id,
        "lang": session.language.value,
        "messages": messages,
        "chips": chat_view.preference_chips(session.preferences),
        "choices": chat_view.preference_choices(session.preferences),
        "budget_max": chat_view.budget_max_input(session.preferences),
        "budget_currency": chat_view.budget_currency(session.preferences),
        "actions": chat_view.chat_card_actions(session.id, cart.id if cart else None),
        "cart": cart,
    }


def _empty_chat() -> dict[str, Any]:
    return {
        "session_id": None,
        "lang": "en",
        "messages": [],
        "chips": [],
        "choices": chat_view.preference_choices(Preferences()),
        "budget_max": "",
        "budget_currency": chat_view.DEFAULT_CURRENCY,
        "actions": None,
        "cart": None,
    }


@router.get("/chat")
def chat_page() -> Response[str]:
    principal, cookie = _shopper()
    session_id = _identifier(_query("session"), "session")
    context = _empty_chat()
    if session_id is not None:
        context = _conversation(chat_sessions().get(session_id, principal), principal)
    if _query("fragment") == "latest":
        # chat.js swaps the streamed bubble for this: the answer's cards and the preferences panel.
        return page(
            "_chat_update.html", message=chat_view.last_assistant_message(context["messages"]), **context
        )
    return page(
        "chat.html",
        headers=_cookie_headers(cookie),
        section="chat",
        examples=chat_view.EXAMPLE_PROMPTS,
        client_message_id=chat_view.new_client_message_id(),
        max_message_chars=MAX_MESSAGE_CHARS,
        **context,
    )


@router.post("/chat")
def send_message() -> Response[str]:
    require_same_origin(_request)
    form = form_fields(_request)
    message = _message_text(form.get("message"))
    client_message_id = _client_message_id(form.get("clientMessageId"))
    session_id = _identifier(form.get("sessionId"), "sessionId")
    cart_id = _identifier(form.get("cartId"), "cartId")
    principal, cookie = _shopper()
    if session_id is None:
        session_id, principal, cookie = _start_chat(principal, cookie)
    request = ChatMessageRequest(session_id=session_id, message=message, client_message_id=client_message_id)
    chat_service().begin_turn(request, principal).reply()
    return redirect(_chat_url(session_id, cart_id), _cookie_headers(cookie))


@router.post("/chat/new")
def new_chat() -> Response[str]:
    """A new, empty chat: chat.js starts one before streaming the first message (JSON answer), and
    the shopper cookie is set here because the JSON API hands tokens out in bodies only."""
    require_same_origin(_request)
    principal, cookie = _shopper()
    session_id, _, cookie = _start_chat(principal, cookie)
    if _wants_json():
        return _json(201, {"sessionId": session_id}, cookie)
    return redirect(f"/chat?session={session_id}", _cookie_headers(cookie))


@router.post("/chat/preferences")
def correct_preferences() -> Response[str]:
    """Remove one preference chip (action=remove, field, value) or apply the edit form (action=edit),
    then ask the advisor to recommend again with a visible message. chat.js asks for JSON and
    streams that message itself."""
    require_same_origin(_request)
    form = form_fields(_request)
    session_id = _required_identifier(form.get("sessionId"), "sessionId")
    principal, _ = _shopper()
    session = chat_sessions().get(session_id, principal)
    action = form.get("action")
    if action == "remove":
        updated = chat_view.without_preference(
            session.preferences, form.get("field", ""), form.get("value", "")
        )
    elif action == "edit":
        updated = chat_view.edited_preferences(session.preferences, form)
    else:
        raise InvalidInput("action must be 'remove' or 'edit'.", code="invalid_action")
    if updated == session.preferences:
        message = None  # nothing changed: nothing to recommend again
    else:
        chat_sessions().correct_preferences(session_id, updated, principal)
        message = chat_view.rerank_message(session.language, _category_looked_at(session, updated))
    if _wants_json():
        return _json(200, {"sessionId": session_id, "message": message}, None)
    if message is not None:
        request = ChatMessageRequest(session_id=session_id, message=message)
        chat_service().begin_turn(request, principal).reply()
    return redirect(_chat_url(session_id))


def _category_looked_at(session: ConversationSession, preferences: Preferences) -> str | None:
    """The category the shopper asked for, else the one of the products the chat showed last."""
    if preferences.categories:
        return preferences.categories[0]
    shown = _products(session.shown_products[:1])
    return next((product.category for product in shown.values()), None)


@router.post("/chat/buy")
def buy_from_chat() -> Response[str]:
    """Buy now: a cart with the product and straight to its checkout. Add to cart: the product joins
    the cart the chat page shows (a new one when there is none open) and the shopper stays."""
    require_same_origin(_request)
    form = form_fields(_request)
    session_id = _required_identifier(form.get("sessionId"), "sessionId")
    product_id = _required_identifier(form.get("productId"), "productId")
    quantity = _quantity(form.get("quantity"))
    intent = form.get("intent", BUY_NOW)
    if intent not in (BUY_NOW, ADD_TO_CART):
        raise InvalidInput("intent must be 'buy' or 'add'.", code="invalid_intent")
    principal, _ = _shopper()
    cart = _open_cart(_identifier(form.get("cartId"), "cartId"), principal) if intent == ADD_TO_CART else None
    if cart is not None and cart.session_id == session_id:
        cart = carts().add_line(cart.id, AddLineRequest(product_id=product_id, quantity=quantity), principal)
    else:
        request = ChatCheckoutRequest(session_id=session_id, product_id=product_id, quantity=quantity)
        cart = carts().start_from_chat(request, principal)
    if intent == BUY_NOW:
        return redirect(checkout_url(cart.id))
    return redirect(_chat_url(session_id, cart.id, anchor="cart"))


@router.get("/products/<id>")
def product_page(id: str) -> Response[str]:
    product = catalog().get_product(_required_identifier(id, "productId"), ANONYMOUS)
    session_id = _identifier(_query("session"), "session")
    fragment = _query("fragment") == "1"
    from_store = _query("from") == "store"
    # Opened from the storefront: its Buy now opens a storefront cart; from a chat: the chat's cart.
    actions = STORE_CARD_ACTIONS if from_store else chat_view.chat_card_actions(session_id)
    return page(
        "product.html",
        section="" if fragment else ("store" if from_store else "chat"),
        fragment=fragment,
        details=chat_view.product_details(product),
        actions=actions,
        session_id=session_id,
    )
