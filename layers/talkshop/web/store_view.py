"""What the storefront shows: category chips, product cards and the links between pages of them.

Two ways in: browsing the catalog (a category, page by page) and searching in the shopper's own
words (the chat's hybrid search, so both surfaces find the same products). Cards are the chat's (the shared
product_card macro over the catalog's data), with a Buy now that opens a storefront cart.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlencode

from talkshop.catalog.model import Product, ProductStatus
from talkshop.web.chat_view import CardActions, CardView, product_card

STORE_PATH = "/store"
STORE_DETAILS_QUERY = "?from=store"
# A storefront card's Buy now opens a storefront cart; its details page (with ?from=store) offers the same.
STORE_CARD_ACTIONS = CardActions(buy_url="/store/buy", details_query=STORE_DETAILS_QUERY)
PAGE_SIZE = 12
SEARCH_LIMIT = 24
MAX_QUERY_CHARACTERS = 200


@dataclass(frozen=True)
class CategoryChip:
    label: str
    href: str
    current: bool


@dataclass(frozen=True)
class StoreView:
    query: str
    category: str | None
    chips: list[CategoryChip]
    cards: list[CardView]
    # Searching: how the words were understood ("3 products for 'racket', price up to €80.00").
    explanation: str | None = None
    next_href: str | None = None
    first_href: str | None = None

    @property
    def heading(self) -> str:
        if self.query:
            return f"Results for “{self.query}”"
        return category_label(self.category) if self.category else "All products"


def category_label(slug: str) -> str:
    """padel-rackets reads as "Padel rackets"."""
    return slug.replace("-", " ").capitalize()


def store_href(*, query: str = "", category: str | None = None, cursor: str | None = None) -> str:
    parameters = {
        name: value for name, value in (("q", query), ("category", category), ("cursor", cursor)) if value
    }
    return f"{STORE_PATH}?{urlencode(parameters)}" if parameters else STORE_PATH


def categories_of(products: Iterable[Product]) -> list[str]:
    """The categories that have something for sale, in alphabetical order."""
    return sorted({product.category for product in products if product.status == ProductStatus.ACTIVE})


def category_chips(categories: Sequence[str], current: str | None, query: str) -> list[CategoryChip]:
    """ "All" and one chip per category; a search keeps its words when the category changes."""
    chips = [CategoryChip("All", store_href(query=query), current is None)]
    chips += [
        CategoryChip(category_label(slug), store_href(query=query, category=slug), slug == current)
        for slug in categories
    ]
    return chips


def browse_view(
    products: Sequence[Product],
    categories: Sequence[str],
    *,
    category: str | None,
    cursor: str | None,
    next_cursor: str | None,
) -> StoreView:
    """A page of the catalog, with links to the next page and back to the first."""
    return StoreView(
        query="",
        category=category,
        chips=category_chips(categories, category, ""),
        cards=[product_card(product) for product in products],
        next_href=store_href(category=category, cursor=next_cursor) if next_cursor else None,
        first_href=store_href(category=category) if cursor else None,
    )


def search_view(
    query: str,
    ranked_ids: Sequence[str],
    products: dict[str, Product],
    categories: Sequence[str],
    *,
    category: str | None,
    explanation: str,
) -> StoreView:
    """Search results in the search's order (a product no longer for sale since it was indexed has no
    card)."""
    return StoreView(
        query=query,
        category=category,
        chips=category_chips(categories, category, query),
        cards=[
            product_card(products[product_id])
            for product_id in ranked_ids
            if product_id in products and products[product_id].status == ProductStatus.ACTIVE
        ],
        explanation=explanation,
    )
