"""What the chat history page shows, how it searches, and the PDF a chat is exported as.

Plain functions over a shopper's chats, the catalog's products and the chats' orders. A chat keeps
product ids and order ids, not names or totals: names come from the catalog (or, for what was bought,
from the order's lines) and what was spent from the orders themselves.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode

from talkshop.advisor.chat_api import SessionSummary
from talkshop.advisor.model import ConversationSession, Platform, Role
from talkshop.catalog.model import Product
from talkshop.commerce.model import Order, OrderStatus
from talkshop.errors import InvalidInput
from talkshop.search.service import format_price
from talkshop.web.pdf import PdfDocument

HISTORY_PATH = "/history"
PAGE_SIZE = 10
# Searching reads the shopper's newest chats only (their own partition, never the whole table) and
# matches in memory: chats are few per shopper, and their text is not indexed anywhere.
MAX_SEARCHED_CHATS = 200
MAX_SEARCH_RESULTS = 50
MAX_QUERY_CHARACTERS = 200
MAX_SEARCH_TERMS = 10
# Orders that were not paid for in the end count for nothing spent.
_NOT_SPENT = frozenset({OrderStatus.CANCELLED, OrderStatus.REFUNDED})

PLATFORM_LABELS = {
    Platform.WEB: "Web chat",
    Platform.CHATGPT: "ChatGPT",
    Platform.CLAUDE: "Claude",
    Platform.GEMINI: "Gemini",
    Platform.MCP: "MCP client",
    Platform.API: "API",
}


@dataclass(frozen=True)
class HistoryRow:
    id: str
    started_at: datetime
    date: str
    platform: str
    products: list[str]
    spent: list[str]  # one total per currency; empty when nothing was bought
    message_count: int
    preview: str

    @property
    def open_href(self) -> str:
        return f"/chat?{urlencode({'session': self.id})}"

    @property
    def export_href(self) -> str:
        return f"{HISTORY_PATH}/{self.id}/export.pdf"

    @property
    def delete_action(self) -> str:
        return f"{HISTORY_PATH}/{self.id}/delete"


def display_date(moment: datetime) -> str:
    return moment.strftime("%d %b %Y, %H:%M UTC")


def product_ids_of(session: ConversationSession) -> list[str]:
    """Every product a chat showed, recommended or carted, in order, once each."""
    shown = [product_id for message in session.messages for product_id in message.shown_products]
    return list(dict.fromkeys([*session.suggested_products, *session.carted_products, *shown]))


def product_names(
    session: ConversationSession, products: Mapping[str, Product], orders: Sequence[Order]
) -> list[str]:
    """The names of the products recommended, carted or bought in a chat. A product that left the
    catalog is named by its order line when it was bought, and left out otherwise."""
    names = {product_id: product.name for product_id, product in products.items()}
    for order in orders:
        names.update({line.product_id: line.name for line in order.lines})
    bought = [line.product_id for order in orders for line in order.lines]
    wanted = dict.fromkeys([*session.suggested_products, *session.carted_products, *bought])
    return [names[product_id] for product_id in wanted if product_id in names]


def spent(orders: Iterable[Order]) -> list[str]:
    """What the orders cost in all, per currency (a chat's orders are normally in one)."""
    totals: dict[str, int] = {}
    for order in orders:
        if order.status not in _NOT_SPENT:
            totals[order.currency] = totals.get(order.currency, 0) + order.total
    return [format_price(amount, currency) for currency, amount in sorted(totals.items())]


def orders_of(session: ConversationSession, orders: Mapping[str, Order]) -> list[Order]:
    return [orders[order_id] for order_id in session.orders if order_id in orders]


def history_row(
    session: ConversationSession, products: Mapping[str, Product], orders: Mapping[str, Order]
) -> HistoryRow:
    placed = orders_of(session, orders)
    return HistoryRow(
        id=session.id,
        started_at=session.started_at,
        date=display_date(session.started_at),
        platform=PLATFORM_LABELS[session.platform],
        products=product_names(session, products, placed),
        spent=spent(placed),
        message_count=session.message_count,
        preview=SessionSummary.of(session).preview,
    )


# Search


def folded(text: str) -> str:
    """Text as search compares it: case and accents ignored ("Café" finds "cafe")."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(character for character in decomposed if not unicodedata.combining(character))


def search_terms(query: str) -> list[str]:
    """The words of a search, folded; a chat matches when it contains all of them."""
    if len(query) > MAX_QUERY_CHARACTERS:
        raise InvalidInput(f"Search for at most {MAX_QUERY_CHARACTERS} characters.", code="query_too_long")
    terms = list(dict.fromkeys(re.findall(r"\w+", folded(query))))
    if len(terms) > MAX_SEARCH_TERMS:
        raise InvalidInput(f"Search for at most {MAX_SEARCH_TERMS} words.", code="too_many_terms")
    return terms


def matches(session: ConversationSession, terms: Sequence[str], names: Sequence[str]) -> bool:
    """Whether every term appears in the chat's messages (the preview is its first one) or in the
    names of its products."""
    haystack = folded("\n".join([*(message.content for message in session.messages), *names]))
    return all(term in haystack for term in terms)


# The PDF export

ROLE_LABELS = {Role.USER: "You", Role.ASSISTANT: "Product Advisor"}


def export_filename(session: ConversationSession) -> str:
    """A name safe in any file system and in a Content-Disposition header."""
    safe_id = re.sub(r"[^A-Za-z0-9_-]", "", session.id)
    return f"chat-{session.started_at:%Y-%m-%d}-{safe_id}.pdf"


def export_pdf(
    session: ConversationSession,
    products: Mapping[str, Product],
    orders: Mapping[str, Order],
    shop_name: str,
) -> bytes:
    """The chat as a PDF: title, date and platform, every message with who wrote it and the products
    it showed (with today's catalog price), then the orders placed from it."""
    title = f"{shop_name} chat of {display_date(session.started_at)}"
    document = PdfDocument(title)
    document.text(title, size=18, bold=True)
    document.text(
        f"Platform: {PLATFORM_LABELS[session.platform]} · {session.message_count} messages · "
        f"last active {display_date(session.last_activity_at)}",
        size=10,
        grey=True,
        space_before=4,
    )
    for message in session.messages:
        document.text(
            f"{ROLE_LABELS[message.role]} · {display_date(message.timestamp)}",
            size=10,
            bold=True,
            space_before=14,
        )
        document.text(message.content, space_before=2)
        shown = [products[product_id] for product_id in message.shown_products if product_id in products]
        for product in shown:
            document.text(
                f"• {product.name} ({product.brand}): {format_price(product.price, product.currency)}",
                indent=14,
                space_before=2,
            )
    placed = orders_of(session, orders)
    if placed:
        document.text("Orders", size=14, bold=True, space_before=20)
    for order in placed:
        document.text(
            f"Order #{order.id} · {display_date(order.created_at)} · {order.status.value}",
            bold=True,
            space_before=8,
        )
        for line in order.lines:
            document.text(
                f"{line.quantity} × {line.name}: {format_price(line.amount, order.currency)}",  # noqa: RUF001
                indent=14,
            )
        if order.discount:
            document.text(f"Discount: -{format_price(order.discount, order.currency)}", indent=14)
        document.text(f"Total: {format_price(order.total, order.currency)}", indent=14, bold=True)
    return document.to_bytes()
