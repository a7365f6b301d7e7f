"""The chat page's view-models: cards, messages with their recommendations, preference chips and edits."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from talkshop.advisor.intents import Intent, Language, classify
from talkshop.advisor.model import (
    ChatMessage,
    Comparison,
    ComparisonRow,
    ConversationSession,
    RecommendationType,
    Role,
)
from talkshop.advisor.preferences import Budget, Preferences
from talkshop.advisor.store import AiRecommendation
from talkshop.errors import InvalidInput
from talkshop.web.chat_view import (
    CATEGORY_WORDS,
    availability,
    budget_max_input,
    edited_preferences,
    message_views,
    one_line,
    preference_chips,
    product_card,
    product_ids_to_show,
    rerank_message,
    spec_label,
    without_preference,
)
from tests.chat_fakes import demo_products

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
PRODUCTS = {product.id: product for product in demo_products()}
FEATHER, FJORD, AERO = "vantaro-feather-330", "nordpala-fjord-round", "vantaro-aero-lite"


def test_a_card_is_the_catalogs_data() -> None:
    card = product_card(PRODUCTS[FEATHER])
    assert (card.name, card.brand, card.creator, card.price) == (
        "Vantaro Feather 330",
        "Vantaro",
        "padelnest",
        "€64.95",
    )
    assert card.image == f"/static/products/{FEATHER}.svg"
    assert card.image_alt.startswith("Vantaro Feather 330 padel racket")
    assert (
        card.description
        == "The lightest racket in our range at 330 g, with a soft foam core and a thin 36 mm profile."
    )
    assert card.rating_label == "Rated 4.3 out of 5"


@pytest.mark.parametrize(
    ("stock", "label", "level"),
    [(0, "Out of stock", "out"), (1, "Only 1 left", "low"), (5, "Only 5 left", "low"), (6, "In stock", "in")],
)
def test_availability(stock: int, label: str, level: str) -> None:
    assert (availability(stock).label, availability(stock).level) == (label, level)


def test_one_line_cuts_at_a_word() -> None:
    assert one_line("Short. Second sentence.") == "Short."
    assert one_line("word " * 50, limit=20) == "word word word word…"


def test_spec_labels() -> None:
    assert spec_label("weight_g") == "Weight (g)"
    assert spec_label("play_style") == "Play style"
    assert spec_label("g") == "G"


def session_with(messages: list[ChatMessage]) -> ConversationSession:
    return ConversationSession(
        id="chs_1", user_id="usr_1", messages=messages, started_at=NOW, last_activity_at=NOW
    )


def recommendation(product_id: str, index: int, kind: RecommendationType) -> AiRecommendation:
    return AiRecommendation(
        id=f"rec_{product_id}",
        conversation_id="chs_1",
        user_id="usr_1",
        product_id=product_id,
        creator_id="padelnest",
        type=kind,
        reasons=[f"{product_id} fits"],
        confidence=0.9,
        message_index=index,
        created_at=NOW,
    )


def test_messages_carry_their_recommendations_cards_and_comparison() -> None:
    answer = ChatMessage(
        role=Role.ASSISTANT,
        content="Here you go",
        timestamp=NOW,
        shown_products=[FEATHER, FJORD, AERO, "gone-product"],
        recommendation_ids=[f"rec_{FEATHER}", f"rec_{FJORD}", "rec_unknown"],
        comparison=Comparison(
            product_ids=[FEATHER, FJORD, "gone-product"],
            rows=[ComparisonRow(point="Weight", values={FEATHER: "330 g"})],
            recommended_product_id=FEATHER,
            recommendation="The Feather, for comfort",
        ),
        checkout_cart_id="crt_1",
    )
    session = session_with([ChatMessage(role=Role.USER, content="hi", timestamp=NOW), answer])
    assert product_ids_to_show(session) == [FEATHER, FJORD, AERO, "gone-product"]
    recommended = [
        recommendation(FEATHER, 1, RecommendationType.PRIMARY),
        recommendation(FJORD, 1, RecommendationType.ALTERNATIVE),
    ]
    user, assistant = message_views(session, recommended, PRODUCTS)
    assert (user.role, user.anchor, user.recommended, user.cards) == ("user", "message-0", [], [])
    assert [(item.card.id, item.kind, item.reasons) for item in assistant.recommended] == [
        (FEATHER, "primary", [f"{FEATHER} fits"]),
        (FJORD, "alternative", [f"{FJORD} fits"]),
    ]
    assert [card.id for card in assistant.cards] == [AERO]  # recommended ones are not shown twice
    assert assistant.comparison is not None
    assert [card.id for card in assistant.comparison.products] == [FEATHER, FJORD]
    assert assistant.comparison.rows == [("Weight", ["330 g", "—"])]
    assert assistant.checkout_url == "/checkout/crt_1"


def test_an_order_confirmation_is_anchored_by_its_order() -> None:
    confirmation = ChatMessage(role=Role.ASSISTANT, content="Order placed!", timestamp=NOW, order_id="ord_1")
    (view,) = message_views(session_with([confirmation]), [], PRODUCTS)
    assert view.anchor == "order-ord_1"


PREFERENCES = Preferences(
    budget=Budget(max_amount=10000, currency="EUR"),
    skill_level="beginner",
    brands_liked=["Vantaro", "Kestrel"],
    categories=["padel-rackets"],
)


def test_chips_name_each_preference() -> None:
    assert [(chip.field, chip.value, chip.label) for chip in preference_chips(PREFERENCES)] == [
        ("budget", "", "Budget: up to €100.00"),
        ("skill_level", "", "Level: beginner"),
        ("brands_liked", "Vantaro", "Likes: Vantaro"),
        ("brands_liked", "Kestrel", "Likes: Kestrel"),
        ("categories", "padel-rackets", "Looking for: padel rackets"),
    ]


def test_removing_a_chip() -> None:
    assert without_preference(PREFERENCES, "budget", "").budget is None
    assert without_preference(PREFERENCES, "brands_liked", "Vantaro").brands_liked == ["Kestrel"]
    assert without_preference(PREFERENCES, "skill_level", "").skill_level is None
    with pytest.raises(InvalidInput):
        without_preference(PREFERENCES, "__class__", "")


def test_editing_choices_and_the_budget() -> None:
    edited = edited_preferences(PREFERENCES, {"skill_level": "", "weight": "light", "budget_max": "99,50"})
    assert edited.skill_level is None
    assert edited.weight == "light"
    assert edited.budget == Budget(max_amount=9950, currency="EUR")
    assert budget_max_input(edited) == "99.5"
    assert budget_max_input(PREFERENCES) == "100"
    assert edited_preferences(PREFERENCES, {"budget_max": ""}).budget is None
    with_floor = Preferences(budget=Budget(min_amount=5000, max_amount=9000, currency="EUR"))
    assert edited_preferences(with_floor, {"budget_max": ""}).budget == Budget(
        min_amount=5000, currency="EUR"
    )
    assert edited_preferences(with_floor, {"budget_max": "40"}).budget == Budget(
        max_amount=4000, currency="EUR"
    )


@pytest.mark.parametrize("typed", ["lots", "-1", "1e9", "0.001", "nan", "inf"])
def test_a_bad_budget_is_refused(typed: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        edited_preferences(PREFERENCES, {"budget_max": typed})
    assert refused.value.code == "invalid_budget"


def test_a_choice_outside_the_options_is_refused() -> None:
    with pytest.raises(InvalidInput) as refused:
        edited_preferences(PREFERENCES, {"play_style": "chaotic"})
    assert refused.value.code == "invalid_preference"


# A known gap: no Portuguese word for padel bags that the rules engine reads as a product word yet.
NOT_UNDERSTOOD = {("padel-bags", Language.PT)}


@pytest.mark.parametrize("category", sorted(CATEGORY_WORDS))
@pytest.mark.parametrize("language", list(Language))
def test_the_rerank_message_asks_the_rules_engine_for_recommendations(
    category: str, language: Language
) -> None:
    message = rerank_message(language, category)
    understood = classify(message)
    assert understood.language == language
    if (category, language) not in NOT_UNDERSTOOD:
        assert understood.intent == Intent.DISCOVER, message


def test_without_a_category_the_rerank_message_names_products() -> None:
    assert rerank_message(Language.FR, None) == "Montre-moi des produits avec mes préférences mises à jour."
