"""The rules engine on follow-ups: categories asked for, "cheaper", products named from the whole catalog,
product data that names other products, when to ask, and replies in the shopper's language."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from talkshop.advisor.catalog import LiveCatalog
from talkshop.advisor.engine import RulesAdvisor
from talkshop.advisor.grounding import Money, find_grounding_errors
from talkshop.advisor.intents import Intent, Language, detect_language
from talkshop.advisor.model import AdvisorReply, RecommendationType
from talkshop.advisor.ranking import MIN_RATING
from talkshop.catalog.model import Product
from tests.unit.advisor_demo import NOW, Chat, demo_catalog, products_by_id

PRODUCTS = products_by_id()
NAMES = {product.id: product.name for product in PRODUCTS.values()}
BRANDS = sorted({product.brand for product in PRODUCTS.values()})


@pytest.fixture(scope="module")
def catalog() -> LiveCatalog:
    return demo_catalog(list(PRODUCTS.values()))


@pytest.fixture
def advisor(catalog: LiveCatalog) -> RulesAdvisor:
    return RulesAdvisor(catalog, clock=lambda: NOW)


def main_cards(reply: AdvisorReply) -> list[Product]:
    return [
        PRODUCTS[item.product_id]
        for item in reply.recommendations
        if item.type in (RecommendationType.PRIMARY, RecommendationType.ALTERNATIVE)
    ]


def assert_grounded(reply: AdvisorReply, on_screen_before: Sequence[str] = ()) -> None:
    """Every product the text names is one the reply lists, and every price is one of theirs (or the
    shopper's budget)."""
    spoken = {
        *reply.shown_products,
        *reply.mentioned_products,
        *reply.viewed_products,
        *(item.product_id for item in reply.recommendations),
        *(reply.comparison.product_ids if reply.comparison else []),
        *on_screen_before,
    }
    products = {product_id: PRODUCTS[product_id] for product_id in spoken}
    budget = reply.preferences.budget
    allowed = [Money(budget.max_amount, budget.currency)] if budget and budget.max_amount else []
    assert find_grounding_errors(reply.text, products, NAMES, allowed=allowed, brands=BRANDS) == []


@pytest.mark.parametrize(
    ("messages", "category"),
    [
        (["sorry. I need grips for my racket"], "grips-overgrips"),
        (["I need a bag for my rackets"], "padel-bags"),
        (["I need a bag for my rackets", "in blue"], "padel-bags"),
    ],
)
def test_the_category_wanted_is_the_object_of_the_need(
    advisor: RulesAdvisor, messages: list[str], category: str
) -> None:
    chat = Chat(advisor)
    for message in messages:
        reply = chat.say(message)
    cards = main_cards(reply)
    assert cards
    assert {product.category for product in cards} == {category}


def test_cheaper_caps_below_the_cheapest_main_card_and_keeps_its_category(advisor: RulesAdvisor) -> None:
    chat = Chat(advisor)
    first = chat.say("I'm an intermediate player looking for a racket")
    main = main_cards(first)
    assert any(item.type is RecommendationType.RELATED for item in first.recommendations)  # the overgrip
    cheaper = chat.say("cheaper")
    cards = main_cards(cheaper)
    assert cards
    assert all(product.category == "padel-rackets" for product in cards)
    assert max(product.price for product in cards) < min(product.price for product in main)
    assert_grounded(cheaper, first.shown_products)
    others = chat.say("show me others")
    assert main_cards(others)
    assert not {product.id for product in main_cards(others)} & set(cheaper.shown_products)


def test_nothing_cheaper_names_the_cheapest_option_only_with_its_id(advisor: RulesAdvisor) -> None:
    reply = Chat(advisor).say("an advanced racket under €20")
    assert reply.recommendations == []
    assert_grounded(reply)


@pytest.mark.parametrize(
    ("message", "intent", "products"),
    [
        (
            "compare the Vantaro Strike 12K and the Kestrel Dive 500",
            Intent.COMPARE,
            ["vantaro-strike-12k", "kestrel-dive-500"],
        ),
        (
            "Nordpala Polar Control vs Brisa Mistral",
            Intent.COMPARE,
            ["nordpala-polar-control", "brisa-mistral"],
        ),
        (
            "which is better, the Vantaro Grip Clay or the Brisa Cushion Clay?",
            Intent.COMPARE,
            ["vantaro-grip-clay", "brisa-cushion-clay"],
        ),
        ("How much is the Vantaro Strike 12K?", Intent.PRODUCT_DETAILS, ["vantaro-strike-12k"]),
        ("do you have the Kestrel Apex 900?", Intent.PRODUCT_DETAILS, ["kestrel-apex-900"]),
    ],
)
def test_products_never_shown_are_found_by_name(
    advisor: RulesAdvisor, message: str, intent: Intent, products: list[str]
) -> None:
    reply = Chat(advisor).say(message)
    assert reply.intent is intent
    if intent is Intent.COMPARE:
        assert reply.comparison is not None
        assert reply.comparison.product_ids == products
    else:
        assert reply.viewed_products == products
    assert reply.preferences.brands_liked == []  # naming a product is no liking of its brand
    assert_grounded(reply)


def test_something_similar_to_a_sold_out_product_gets_others_of_its_kind(advisor: RulesAdvisor) -> None:
    chat = Chat(advisor)
    asked = chat.say("do you have the Kestrel Apex 900?")
    similar = chat.say("something similar then")
    cards = main_cards(similar)
    assert similar.intent is Intent.REFINE
    assert cards
    assert "kestrel-apex-900" not in {product.id for product in cards}
    assert {product.category for product in cards} == {"padel-rackets"}
    assert all(product.stock > 0 and (product.rating or 0) >= MIN_RATING for product in cards)
    assert_grounded(similar, asked.shown_products)


@pytest.mark.parametrize(
    "messages",
    [
        ["I'm a beginner, budget €50, I need a padel racket", "compare the first and the second"],
        ["I want an advanced power racket", "compare them"],
        ["I want an advanced power racket", "which one has the best rating?"],
        ["I need a cheap racket for beginners", "Is it durable?"],
        ["shoes for clay", "compare them"],
        ["padel balls", "compare them"],
    ],
)
def test_product_data_naming_other_products_is_not_copied(advisor: RulesAdvisor, messages: list[str]) -> None:
    chat = Chat(advisor)
    before: list[str] = []
    for message in messages:
        before = list(chat.session.shown_products)
        reply = chat.say(message)
    assert_grounded(reply, before)


@pytest.mark.parametrize("message", ["defensive style, prefer lightweight", "left-handed, need good control"])
def test_two_wishes_are_enough_to_recommend_without_asking(advisor: RulesAdvisor, message: str) -> None:
    reply = Chat(advisor).say(message)
    assert main_cards(reply)
    assert reply.question is None


def test_a_single_wish_still_asks_for_level_and_budget(advisor: RulesAdvisor) -> None:
    reply = Chat(advisor).say("I need a racket for control")
    assert main_cards(reply)
    assert reply.question is not None


def test_a_bare_gift_gets_one_question_and_no_product(advisor: RulesAdvisor) -> None:
    reply = Chat(advisor).say("I need a gift")
    assert reply.intent is Intent.VAGUE
    assert reply.recommendations == []
    assert reply.question is not None


def test_a_spanish_comparison_speaks_spanish_around_the_shops_data(advisor: RulesAdvisor) -> None:
    chat = Chat(advisor)
    chat.say("Busco una pala para principiante, de color azul")
    reply = chat.say("compara la primera y la segunda")
    assert reply.comparison is not None
    assert reply.language is Language.ES
    own = [line for line in reply.text.split("\n") if line and not line.startswith("- ")]
    assert own
    assert detect_language(" ".join(own)) is Language.ES


def test_the_objection_of_a_shopper_who_drops_the_pronoun_is_answered(advisor: RulesAdvisor) -> None:
    chat = Chat(advisor)
    chat.say("Soy zurdo y necesito control")
    reply = chat.say("¿Es duradera?")
    assert reply.intent is Intent.OBJECTION
    assert reply.language is Language.ES


def test_add_the_first_one_to_my_cart_buys_the_first_card(advisor: RulesAdvisor) -> None:
    chat = Chat(advisor)
    first = chat.say("padel balls for fast play")
    reply = chat.say("add the first one to my cart")
    assert reply.intent is Intent.BUY
    assert reply.mentioned_products == [first.shown_products[0]]


def test_rackets_for_left_handers_named_in_an_answer_are_listed_as_mentioned(advisor: RulesAdvisor) -> None:
    chat = Chat(advisor)
    chat.say("I'm a beginner, budget €50, I need a padel racket")
    before = list(chat.session.shown_products)
    reply = chat.say("is it good for left-handed players?")
    assert reply.intent is Intent.OBJECTION
    assert len(reply.mentioned_products) > 1  # the racket asked about and the ones for left-handers
    assert_grounded(reply, before)
