"""The rules engine's commerce answers over the demo catalog: discount codes offered only from data,
buying turns that ask for a checkout at the real price, and order status from the shopper's own orders.

A fake ShopCommerce stands in for the commerce services (tests/integration covers the live one).
"""

from __future__ import annotations

import re

import pytest

from talkshop.advisor.catalog import LiveCatalog
from talkshop.advisor.engine import RulesAdvisor, deal_text, quantity_in
from talkshop.advisor.intents import Intent, Language
from talkshop.advisor.model import CheckoutRequest
from talkshop.advisor.phrases import say
from talkshop.search.service import format_price
from tests.fakes.shop_commerce import CODE, ORDERS, PRODUCTS, FakeCommerce
from tests.unit.advisor_demo import NOW, Chat, demo_catalog

# Anything that looks like a code: a capitalised token with a digit in it ("WELCOME10", "SAVE5").
CODE_LIKE = re.compile(r"\b[A-Z][A-Z0-9_-]*\d[A-Z0-9_-]*\b")


@pytest.fixture(scope="module")
def catalog() -> LiveCatalog:
    return demo_catalog(list(PRODUCTS.values()))


def advisor(catalog: LiveCatalog, commerce: FakeCommerce | None) -> RulesAdvisor:
    return RulesAdvisor(catalog, clock=lambda: NOW, commerce=commerce)


def recommended_chat(catalog: LiveCatalog, commerce: FakeCommerce | None, message: str) -> Chat:
    chat = Chat(advisor(catalog, commerce))
    reply = chat.say(message)
    assert reply.shown_products, reply.text
    return chat


BEGINNER_EN = "I'm a beginner looking for a padel racket, budget €80"
BEGINNER_ES = "Soy principiante y busco una pala de pádel, presupuesto 80 €"


# Discounts ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("opening", "question", "language"),
    [
        (BEGINNER_EN, "any discount codes?", Language.EN),
        (BEGINNER_ES, "¿hay algún descuento?", Language.ES),
    ],
)
def test_a_discount_question_offers_the_eligible_code_with_its_saving_from_data(
    catalog: LiveCatalog, opening: str, question: str, language: Language
) -> None:
    commerce = FakeCommerce(first_order_only=False)  # not mentioned while recommending
    chat = recommended_chat(catalog, commerce, opening)
    first = PRODUCTS[chat.session.shown_products[0]]
    reply = chat.say(question)
    assert reply.intent is Intent.DISCOUNT
    assert reply.language is language
    assert reply.offered_discount_code == CODE
    assert commerce.offers_asked[-1] == [first.id]
    saving = format_price(first.price * 10 // 100, first.currency)
    assert CODE in reply.text
    assert saving in reply.text
    assert first.name in reply.text
    assert set(CODE_LIKE.findall(reply.text)) - set(CODE_LIKE.findall(first.name)) == {CODE}


def test_with_no_eligible_code_the_advisor_says_so_and_offers_nothing(catalog: LiveCatalog) -> None:
    chat = recommended_chat(catalog, FakeCommerce(percent=None), BEGINNER_EN)
    first = PRODUCTS[chat.session.shown_products[0]]
    reply = chat.say("do you have a promo code?")
    assert reply.intent is Intent.DISCOUNT
    assert reply.offered_discount_code is None
    assert reply.text == say("discount_none", Language.EN, name=first.name)
    assert not set(CODE_LIKE.findall(reply.text)) - set(CODE_LIKE.findall(first.name))


def test_without_commerce_the_advisor_promises_no_code(catalog: LiveCatalog) -> None:
    chat = recommended_chat(catalog, None, BEGINNER_EN)
    reply = chat.say("any discount codes?")
    assert reply.offered_discount_code is None
    assert reply.text == say("discount", Language.EN)


def test_a_first_time_buyer_hears_of_a_first_order_code_once_per_chat(catalog: LiveCatalog) -> None:
    commerce = FakeCommerce()
    chat = Chat(advisor(catalog, commerce))
    first_reply = chat.say(BEGINNER_EN)
    top = PRODUCTS[first_reply.recommendations[0].product_id]
    assert first_reply.offered_discount_code == CODE
    assert first_reply.text.count(CODE) == 1
    offer = commerce.offer_for("x", [top.id])
    assert offer is not None
    assert deal_text(offer, Language.EN) in first_reply.text
    assert format_price(top.price * 10 // 100, top.currency) in first_reply.text
    again = chat.say("show me other rackets, something for control")
    assert again.recommendations
    assert again.offered_discount_code is None
    assert CODE not in again.text


def test_a_code_for_everyone_is_not_pitched_while_recommending(catalog: LiveCatalog) -> None:
    reply = Chat(advisor(catalog, FakeCommerce(first_order_only=False))).say(BEGINNER_EN)
    assert reply.recommendations
    assert reply.offered_discount_code is None
    assert CODE not in reply.text


# Buying -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("opening", "message", "language", "quantity"),
    [
        (BEGINNER_EN, "I'll take it", Language.EN, 1),
        (BEGINNER_EN, "buy 2 of those", Language.EN, 2),
        (BEGINNER_ES, "me la llevo", Language.ES, 1),
    ],
)
def test_a_buying_message_confirms_the_real_price_and_asks_for_the_checkout(
    catalog: LiveCatalog, opening: str, message: str, language: Language, quantity: int
) -> None:
    chat = recommended_chat(catalog, FakeCommerce(percent=None), opening)
    first = PRODUCTS[chat.session.shown_products[0]]
    reply = chat.say(message)
    assert reply.intent is Intent.BUY
    assert reply.language is language
    assert reply.checkout_request == CheckoutRequest(product_id=first.id, quantity=quantity)
    assert first.name in reply.text
    assert format_price(first.price, first.currency) in reply.text
    assert reply.mentioned_products == [first.id]


def test_add_the_second_one_to_my_cart_buys_the_second_card(catalog: LiveCatalog) -> None:
    chat = recommended_chat(catalog, FakeCommerce(percent=None), BEGINNER_EN)
    second = chat.session.shown_products[1]
    reply = chat.say("add the second one to my cart")
    assert reply.checkout_request == CheckoutRequest(product_id=second, quantity=1)


def test_buying_more_than_the_stock_asks_instead_of_starting_a_checkout(catalog: LiveCatalog) -> None:
    chat = recommended_chat(catalog, FakeCommerce(percent=None), BEGINNER_EN)
    first = PRODUCTS[chat.session.shown_products[0]]
    reply = chat.say(f"buy {first.stock + 1} of those")
    assert reply.checkout_request is None
    assert reply.question is not None
    assert str(first.stock) in reply.text


def test_buying_after_a_code_was_offered_says_the_checkout_applies_it(catalog: LiveCatalog) -> None:
    chat = Chat(advisor(catalog, FakeCommerce()))
    chat.say(BEGINNER_EN)  # offers the first-order code
    reply = chat.say("I'll take it")
    assert reply.checkout_request is not None
    assert CODE in reply.text
    assert reply.offered_discount_code is None  # already offered: the chat's checkout has it


def test_without_commerce_a_buying_message_starts_no_checkout(catalog: LiveCatalog) -> None:
    chat = recommended_chat(catalog, None, BEGINNER_EN)
    reply = chat.say("I'll take it")
    assert reply.intent is Intent.BUY
    assert reply.checkout_request is None


@pytest.mark.parametrize(
    ("message", "quantity"),
    [
        ("buy 2 of those", 2),
        ("I'll take two", 2),
        ("me llevo dos", 2),
        ("je prends trois", 3),
        ("3x please", 3),
        ("I'll take it", 1),
        ("add the Feather 330 to my cart", 1),
        ("I'll take the second one", 1),
    ],
)
def test_quantity_in_a_buying_message(message: str, quantity: int) -> None:
    assert quantity_in(message) == quantity


# Order status -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("message", "language", "paid"),
    [("where is my order?", Language.EN, "paid"), ("¿dónde está mi pedido?", Language.ES, "pagado")],
)
def test_order_status_tells_the_latest_orders_from_data(
    catalog: LiveCatalog, message: str, language: Language, paid: str
) -> None:
    reply = Chat(advisor(catalog, FakeCommerce(orders=ORDERS))).say(message)
    assert reply.intent is Intent.ORDER_STATUS
    assert reply.language is language
    latest, older = reply.text.index("ord_2"), reply.text.index("ord_1")
    assert latest < older
    for fact in ("€129.90", "2026-02-20", "Vantaro Aero Lite", "Tour Balls", paid, "€45.00", "2026-01-05"):
        assert fact in reply.text
    assert set(re.findall(r"ord_\w+", reply.text)) == {"ord_1", "ord_2"}


def test_with_no_order_the_advisor_says_it_cannot_find_one(catalog: LiveCatalog) -> None:
    reply = Chat(advisor(catalog, FakeCommerce())).say("where is my order?")
    assert reply.text == say("order_none", Language.EN)
    assert "ord_" not in reply.text
    assert reply.checkout_request is None
