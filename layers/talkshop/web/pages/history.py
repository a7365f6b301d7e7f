"""Pages of the history area: the shopper's past chats (newest first, paged, searchable), each to
open, export as a PDF or delete for good.

The shopper is the one of the cookie; without one there is no history yet. Deleting asks first: the
row's form posts without `confirm`, which answers a confirmation page (the no-JavaScript path); the
page's script asks in a dialog instead and posts with `confirm=yes`.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlencode

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from pydantic import TypeAdapter, ValidationError

from talkshop.advisor.model import ConversationSession
from talkshop.api.context import caller, catalog, chat_sessions, orders, repository
from talkshop.api.cookies import forget_shopper_cookie
from talkshop.auth import Principal, PrincipalKind
from talkshop.commerce.model import Order
from talkshop.errors import NotFound
from talkshop.ontology.model import Identifier
from talkshop.privacy import ShopperData
from talkshop.settings import get_settings
from talkshop.web.app import form_fields, page, page_router, require_same_origin
from talkshop.web.history_view import (
    HISTORY_PATH,
    MAX_SEARCH_RESULTS,
    MAX_SEARCHED_CHATS,
    PAGE_SIZE,
    export_filename,
    export_pdf,
    history_row,
    matches,
    product_ids_of,
    search_terms,
)
from talkshop.web.render import SECURITY_HEADERS, redirect

router = page_router()
_CHAT_ID = TypeAdapter(Identifier)
_LISTING_BATCH = 100  # chats read per query while searching
ERASE_PATH = f"{HISTORY_PATH}/erase"
# What the history page says after a redirect (?deleted=1, ?erased=1).
_NOTICES = {
    "deleted": "The chat was deleted.",
    "erased": "All your data was deleted. Orders you placed are kept, without your name or address.",
}


def _app() -> APIGatewayRestResolver:
    resolver = router.api_resolver
    assert isinstance(resolver, APIGatewayRestResolver), "the router is included in the web app"
    return resolver


def _chat_id(raw: str) -> str:
    """The id from the path; one that cannot be a chat's names no chat (404, as for another's)."""
    try:
        return _CHAT_ID.validate_python(raw)
    except ValidationError:
        raise NotFound("There is no such chat.", code="session_not_found") from None


def _orders(sessions: Iterable[ConversationSession], principal: Principal) -> dict[str, Order]:
    """The orders placed from these chats that the caller may read."""
    found: dict[str, Order] = {}
    for order_id in dict.fromkeys(order_id for session in sessions for order_id in session.orders):
        try:
            found[order_id] = orders().get(order_id, principal)
        except NotFound:
            continue  # an order that is gone leaves the chat's total without it
    return found


def _newest_chats(principal: Principal) -> tuple[list[ConversationSession], bool]:
    """The shopper's newest chats, at most MAX_SEARCHED_CHATS, and whether there are older ones."""
    sessions: list[ConversationSession] = []
    cursor: str | None = None
    while len(sessions) < MAX_SEARCHED_CHATS:
        batch = min(_LISTING_BATCH, MAX_SEARCHED_CHATS - len(sessions))
        chats = chat_sessions().sessions_page(None, principal, limit=batch, cursor=cursor)
        sessions += chats.sessions
        cursor = chats.next_cursor
        if cursor is None:
            return sessions, False
    return sessions, True


def _search(principal: Principal, query: str) -> tuple[list[ConversationSession], bool]:
    terms = search_terms(query)
    sessions, more = _newest_chats(principal)
    products = catalog().get_products([p for session in sessions for p in product_ids_of(session)])
    found = [
        session
        for session in sessions
        if matches(session, terms, [products[p].name for p in product_ids_of(session) if p in products])
    ]
    return found[:MAX_SEARCH_RESULTS], more


@router.get(HISTORY_PATH)
def history() -> Response[str]:
    app = _app()
    event = app.current_event
    query = (event.get_query_string_value("q") or "").strip()
    notice = next(
        (text for flag, text in _NOTICES.items() if event.get_query_string_value(flag) == "1"), None
    )
    principal = caller(app)
    if principal.kind == PrincipalKind.ANONYMOUS:
        return page("history.html", section="history", shopper=False, query=query, rows=[], notice=notice)
    next_href = None
    searched_only_newest = False
    if query:
        sessions, searched_only_newest = _search(principal, query)
    else:
        chats = chat_sessions().sessions_page(
            None, principal, limit=PAGE_SIZE, cursor=event.get_query_string_value("cursor")
        )
        sessions = chats.sessions
        if chats.next_cursor:
            next_href = f"{HISTORY_PATH}?{urlencode({'cursor': chats.next_cursor})}"
    products = catalog().get_products([p for session in sessions for p in product_ids_of(session)])
    placed = _orders(sessions, principal)
    return page(
        "history.html",
        section="history",
        shopper=True,
        query=query,
        rows=[history_row(session, products, placed) for session in sessions],
        notice=notice,
        next_href=next_href,
        searched_only_newest=searched_only_newest,
        max_searched=MAX_SEARCHED_CHATS,
    )


@router.get(f"{HISTORY_PATH}/<id>/export.pdf")
def export(id: str) -> Response[bytes]:
    principal = caller(_app())
    session = chat_sessions().get(_chat_id(id), principal)
    products = catalog().get_products(product_ids_of(session))
    body = export_pdf(session, products, _orders([session], principal), get_settings().shop_name)
    return Response(
        status_code=200,
        content_type="application/pdf",
        body=body,
        headers={
            **SECURITY_HEADERS,
            "Content-Disposition": f'attachment; filename="{export_filename(session)}"',
        },
    )


@router.post(f"{HISTORY_PATH}/<id>/delete")
def delete(id: str) -> Response[str]:
    app = _app()
    require_same_origin(app)
    principal = caller(app)
    chat_id = _chat_id(id)
    if form_fields(app).get("confirm") != "yes":
        session = chat_sessions().get(chat_id, principal)
        products = catalog().get_products(product_ids_of(session))
        row = history_row(session, products, _orders([session], principal))
        return page("history_delete.html", section="history", row=row)
    chat_sessions().delete(chat_id, principal)
    return redirect(f"{HISTORY_PATH}?deleted=1")


@router.get(ERASE_PATH)
def erase_confirmation() -> Response[str]:
    """Asks before erasing everything (GET /api/me/export is offered first)."""
    return page("history_erase.html", section="history")


@router.post(ERASE_PATH)
def erase_everything() -> Response[str]:
    """Erases the cookie's shopper as DELETE /api/me does, and forgets the cookie."""
    app = _app()
    require_same_origin(app)
    ShopperData(repository()).erase(caller(app))
    secure = get_settings().public_url.startswith("https://")
    return redirect(f"{HISTORY_PATH}?erased=1", headers={"Set-Cookie": forget_shopper_cookie(secure=secure)})
