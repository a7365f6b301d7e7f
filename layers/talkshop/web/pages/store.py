"""Pages of the storefront: browsing and searching the catalog without the chat, and buying from it (a
storefront cart, then the same checkout page as the chat's), so chat and plain shopping compare."""

from __future__ import annotations

import re
import time
from functools import lru_cache

from aws_lambda_powertools.event_handler import Response

from talkshop.analytics.visits import record_store_view
from talkshop.api.context import caller, carts, catalog, repository, search_service
from talkshop.api.cookies import shopper_cookie
from talkshop.auth import ANONYMOUS, Principal, PrincipalKind
from talkshop.catalog.service import CatalogService, ProductQuery
from talkshop.commerce.carts import AddLineRequest, CreateCartRequest
from talkshop.errors import InvalidInput
from talkshop.search.model import SearchFilters
from talkshop.search.service import SearchRequest
from talkshop.settings import get_settings
from talkshop.web.app import form_fields, page, page_router, require_same_origin, resolver_of
from talkshop.web.checkout_view import checkout_href, parse_product_id, parse_quantity
from talkshop.web.render import redirect
from talkshop.web.store_view import (
    MAX_QUERY_CHARACTERS,
    PAGE_SIZE,
    SEARCH_LIMIT,
    STORE_CARD_ACTIONS,
    StoreView,
    browse_view,
    categories_of,
    search_view,
)

router = page_router()

_CATEGORY = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
# How long a warm function keeps the list of categories before reading the catalog again.
CATEGORIES_REFRESH_S = 300


@lru_cache(maxsize=2)
def _categories(source: CatalogService, _period: int) -> list[str]:
    """The chips' categories, read once per period for each catalog (a new period is a new cache key)."""
    return categories_of(source.all_products())


def store_categories() -> list[str]:
    return _categories(catalog(), int(time.monotonic() // CATEGORIES_REFRESH_S))


@router.get("/store")
def store() -> Response[str]:
    parameters = resolver_of(router).current_event.query_string_parameters or {}
    query = " ".join((parameters.get("q") or "").split())[:MAX_QUERY_CHARACTERS]
    category = parameters.get("category") or None
    if category is not None and not _CATEGORY.match(category):
        raise InvalidInput("That is not a category of this shop.", code="invalid_category")
    cursor = parameters.get("cursor") or None
    view = _search(query, category) if query else _browse(category, cursor)
    if cursor is None:  # a visit (or a search) of the store, not its next page: the traditional funnel
        record_store_view(repository(), searched=bool(query), results=len(view.cards), category=category)
    return page("store.html", section="store", view=view, actions=STORE_CARD_ACTIONS)


def _browse(category: str | None, cursor: str | None) -> StoreView:
    listed = catalog().list_products(
        ProductQuery(category=category, limit=PAGE_SIZE, cursor=cursor), ANONYMOUS
    )
    return browse_view(
        listed.items, store_categories(), category=category, cursor=cursor, next_cursor=listed.next_cursor
    )


def _search(query: str, category: str | None) -> StoreView:
    found = search_service().search(
        SearchRequest(query=query, filters=SearchFilters(category=category), limit=SEARCH_LIMIT)
    )
    ranked = [product.id for product in found.products]
    return search_view(
        query,
        ranked,
        catalog().get_products(ranked),
        store_categories(),
        category=category,
        explanation=found.explanation,
    )


@router.post("/store/buy")
def buy() -> Response[str]:
    """Buy now from the storefront: a new cart with the product, then its checkout page. A visitor
    without a shopper cookie becomes a shopper here (the cart creates one) and gets the cookie."""
    app = resolver_of(router)
    require_same_origin(app)
    fields = form_fields(app)
    product_id = parse_product_id(fields.get("productId"))
    line = AddLineRequest(product_id=product_id, quantity=parse_quantity(fields.get("quantity", "1")))
    service = carts()
    principal = caller(app)
    # Checked before anything is created: an unknown product makes no cart and no shopper.
    catalog().get_product(product_id, ANONYMOUS)
    cart = service.create(CreateCartRequest(), principal)
    owner = principal if cart.shopper_token is None else Principal(PrincipalKind.SHOPPER, cart.user_id)
    service.add_line(cart.id, line, owner)
    headers: dict[str, str] = {}
    if cart.shopper_token is not None:
        secure = get_settings().public_url.startswith("https://")
        headers["Set-Cookie"] = shopper_cookie(cart.shopper_token, secure=secure)
    return redirect(checkout_href(cart.id), headers)
