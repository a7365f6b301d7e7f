"""The history page's view model: what a row says a chat led to, how search reads a query, and the
export's file name."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from talkshop.advisor.model import ChatMessage, ConversationSession, Role
from talkshop.commerce.model import Order, OrderStatus, PaymentReference, QuoteLine
from talkshop.errors import InvalidInput
from talkshop.web.history_view import (
    export_filename,
    matches,
    product_names,
    search_terms,
    spent,
)
from tests.chat_fakes import demo_products

NOW = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)


def order(
    order_id: str, total: int, *, currency: str = "EUR", status: OrderStatus = OrderStatus.PAID
) -> Order:
    return Order(
        id=order_id,
        user_id="ana",
        cart_id="crt_1",
        checkout_id="chk_1",
        status=status,
        lines=[
            QuoteLine(
                product_id="gone-racket",
                creator_id="padelnest",
                name="Gone Racket",
                quantity=1,
                unit_price=total,
                amount=total,
                discount=0,
            )
        ],
        currency=currency,
        subtotal=total,
        discount=0,
        shipping=0,
        tax=0,
        total=total,
        shipping_option="standard",
        payment=PaymentReference(provider="test"),
        created_at=NOW,
    )


def chat(*messages: str, **fields: object) -> ConversationSession:
    return ConversationSession.model_validate(
        {
            "id": "chs_1",
            "user_id": "ana",
            "started_at": NOW,
            "last_activity_at": NOW,
            "messages": [
                ChatMessage(role=Role.USER if index % 2 == 0 else Role.ASSISTANT, content=text, timestamp=NOW)
                for index, text in enumerate(messages)
            ],
            **fields,
        }
    )


def test_what_was_spent_counts_orders_that_were_not_cancelled_or_refunded_per_currency() -> None:
    orders = [
        order("o1", 5000),
        order("o2", 1995, status=OrderStatus.PLACED),
        order("o3", 9999, status=OrderStatus.CANCELLED),
        order("o4", 9999, status=OrderStatus.REFUNDED),
        order("o5", 1000, currency="USD"),
    ]
    assert spent(orders) == ["€69.95", "$10.00"]
    assert spent([]) == []


def test_products_are_named_from_the_catalog_or_what_was_bought() -> None:
    products = {product.id: product for product in demo_products()[:2]}
    first, second = products
    session = chat(suggested_products=[second, "left-the-catalog"], carted_products=[first])
    assert product_names(session, products, [order("o1", 100)]) == [
        products[second].name,
        products[first].name,
        "Gone Racket",  # bought, and no longer in the catalog: named by its order line
    ]


def test_search_ignores_case_and_accents_and_needs_every_word() -> None:
    assert search_terms("  Café  RACKET café ") == ["cafe", "racket"]
    session = chat("A racket for the CAFÉ league", "Try the Nordpala.")
    assert matches(session, search_terms("cafe racket"), [])
    assert matches(session, search_terms("nordpala"), [])
    assert matches(session, search_terms("fjord"), ["Fjord Round"])
    assert not matches(session, search_terms("racket tennis"), [])


def test_a_search_is_bounded() -> None:
    with pytest.raises(InvalidInput) as too_long:
        search_terms("a" * 201)
    assert too_long.value.code == "query_too_long"
    with pytest.raises(InvalidInput) as too_many:
        search_terms(" ".join(f"w{n}" for n in range(11)))
    assert too_many.value.code == "too_many_terms"


def test_the_export_file_name_is_safe() -> None:
    assert export_filename(chat(id="chs_1:a.b")) == "chat-2026-11-24-chs_1ab.pdf"
