"""The advisor benchmark's scenario suite (bench/data/advisor_scenarios.json) is well formed and points at
the demo catalog's real categories and brands, and the benchmark's metric functions count what they say."""

from __future__ import annotations

from collections import Counter

import pytest

from bench.advisor import (
    Conversation,
    Counts,
    ScenarioSuite,
    ScenarioTurn,
    Shop,
    TurnOutcome,
    build_shop,
    constraint_violations,
    extraction,
    judge,
    load_scenarios,
    new_session,
    own_words,
    percentile,
    preference_atoms,
    synthetic_products,
    template_vectors,
)
from talkshop.advisor.intents import Intent, Language, detect_language
from talkshop.advisor.model import AdvisorReply, RecommendationType, RecommendedProduct
from talkshop.advisor.preferences import Budget, Preferences
from talkshop.catalog.model import Product
from talkshop.search.demo_vectors import demo_products, load_demo_vectors
from talkshop.search.embeddings import MiniLMEmbedder

# What the issue asks the suite to cover, by tag.
REQUIRED_TAGS = {
    "seed", "vague", "contradiction", "off-topic", "inappropriate", "injection", "compare", "objection",
    "follow-up", "coffee", "shoes", "balls", "lessons", "es", "fr", "pt",
}  # fmt: skip
SEED_MESSAGES = (
    "I'm a beginner, budget €50",
    "advanced player looking for speed",
    "defensive style, prefer lightweight",
    "left-handed, need good control",
)


@pytest.fixture(scope="module")
def suite() -> ScenarioSuite:
    return load_scenarios()


@pytest.fixture(scope="module")
def catalog() -> list[Product]:
    return demo_products()


def test_suite_covers_what_the_issue_asks_for(suite: ScenarioSuite) -> None:
    assert len(suite.conversations) >= 45
    ids = [conversation.id for conversation in suite.conversations]
    assert len(ids) == len(set(ids))
    tags = Counter(tag for conversation in suite.conversations for tag in conversation.tags)
    assert set(tags) >= REQUIRED_TAGS, REQUIRED_TAGS - set(tags)
    messages = {turn.message for conversation in suite.conversations for turn in conversation.turns}
    assert set(SEED_MESSAGES) <= messages
    assert sum(len(conversation.turns) > 1 for conversation in suite.conversations) >= 30
    for language in (Language.ES, Language.FR, Language.PT):
        assert any(conversation.language == language for conversation in suite.conversations)


def test_expectations_name_real_categories_and_brands_and_coherent_budgets(
    suite: ScenarioSuite, catalog: list[Product]
) -> None:
    categories = {product.category for product in catalog}
    brands = {product.brand for product in catalog}
    for conversation in suite.conversations:
        for number, turn in enumerate(conversation.turns, start=1):
            where = f"{conversation.id}#{number}"
            expected = turn.preferences
            assert turn.category is None or turn.category in categories, where
            assert set(expected.categories) <= categories, where
            assert set(expected.brands_liked) | set(expected.brands_disliked) <= brands, where
            if turn.max_price is not None and turn.min_price is not None:
                assert turn.min_price <= turn.max_price, where
            if expected.budget is not None and expected.budget.max_amount is not None:
                # A budget stated in the turn is the turn's hard price limit, unless contradicted.
                assert turn.max_price == expected.budget.max_amount, where


def test_only_fields_written_in_the_file_are_expected(suite: ScenarioSuite) -> None:
    first = suite.conversations[0].turns[0]
    assert first.message == "I'm a beginner, budget €50"
    assert first.expected_fields == ["budget", "skill_level"]
    assert preference_atoms(first.preferences, first.expected_fields) == {
        ("skill_level", "beginner"),
        ("budget", "..5000 EUR"),
    }


def test_atoms_are_one_per_list_item_and_one_per_budget() -> None:
    preferences = Preferences(
        goals=["control", "speed"],
        budget=Budget(min_amount=1000, max_amount=2000, currency="EUR"),
        weight="light",
    )
    assert preference_atoms(preferences) == {
        ("goals", "control"),
        ("goals", "speed"),
        ("budget", "1000..2000 EUR"),
        ("weight", "light"),
    }
    assert preference_atoms(preferences, ["goals"]) == {("goals", "control"), ("goals", "speed")}
    assert preference_atoms(Preferences()) == set()


def test_extraction_counts_gained_values_and_kept_restatements() -> None:
    expected = Preferences(skill_level="beginner", goals=["control"])
    before = Preferences(skill_level="beginner", colours=["red"])
    after = Preferences(skill_level="beginner", colours=["red"], weight="heavy")
    read = extraction(expected, before, after)
    # "beginner" was known and kept: read. "control" was not read. "heavy" was read but not stated. The
    # old colour is not this turn's doing at all.
    assert read.extracted == {("skill_level", "beginner"), ("weight", "heavy")}
    assert read.missed == {("goals", "control")}
    assert read.unexpected == {("weight", "heavy")}
    by_field = read.counts_by_field()
    assert (by_field["skill_level"].true_positives, by_field["goals"].false_negatives) == (1, 1)
    assert by_field["weight"].false_positives == 1
    assert "colours" not in by_field


def test_a_contradiction_kept_out_is_no_extraction_error() -> None:
    before = Preferences(skill_level="beginner")
    read = extraction(Preferences(), before, before)
    assert (read.extracted, read.missed, read.unexpected) == (set(), set(), set())
    overwritten = extraction(Preferences(), before, Preferences(skill_level="advanced"))
    assert overwritten.unexpected == {("skill_level", "advanced")}


def test_counts_give_precision_and_recall() -> None:
    counts = Counts(true_positives=3, false_positives=1, false_negatives=2)
    assert counts.precision == pytest.approx(0.75)
    assert counts.recall == pytest.approx(0.6)
    counts.add(Counts(true_positives=1, false_negatives=2))
    assert (counts.true_positives, counts.false_negatives) == (4, 4)
    assert Counts().precision != Counts().precision  # nan: nothing read, nothing to score


def test_constraint_violations_name_every_broken_constraint(catalog: list[Product]) -> None:
    by_id = {product.id: product for product in catalog}
    racket = by_id["vantaro-feather-330"]  # €64.95, in stock, 4.3
    assert (
        constraint_violations(
            RecommendationType.PRIMARY, racket, max_price=6495, min_price=None, category="padel-rackets"
        )
        == []
    )
    reasons = constraint_violations(
        RecommendationType.PRIMARY, racket, max_price=5000, min_price=None, category="padel-shoes"
    )
    assert reasons == ["price 6495 > budget 5000", "category padel-rackets != padel-shoes"]
    sold_out = by_id["kestrel-apex-900"]
    assert constraint_violations(
        RecommendationType.RELATED, sold_out, max_price=None, min_price=None, category=None
    ) == ["out of stock"]
    low_rated = by_id["sol-padel-budget-omni"]  # rated 3.2
    assert constraint_violations(
        RecommendationType.ALTERNATIVE, low_rated, max_price=None, min_price=None, category=None
    ) == ["rating 3.2 < 3.5"]
    assert constraint_violations(
        RecommendationType.PRIMARY, None, max_price=None, min_price=None, category=None
    ) == ["not an active catalog product"]


def test_accessories_are_exempt_from_budget_and_category_but_upgrades_only_from_category(
    catalog: list[Product],
) -> None:
    overgrip = next(product for product in catalog if product.id == "brisa-comfort-overgrip-3")  # €8.95
    for kind, expected in (
        (RecommendationType.RELATED, []),
        (RecommendationType.UPGRADE, ["price 895 > budget 500"]),
        (RecommendationType.PRIMARY, ["price 895 > budget 500", "category grips-overgrips != padel-rackets"]),
    ):
        assert (
            constraint_violations(kind, overgrip, max_price=500, min_price=None, category="padel-rackets")
            == expected
        ), kind


def test_percentile_is_nearest_rank() -> None:
    values = [float(value) for value in range(1, 101)]
    assert percentile(values, 0.5) == 50
    assert percentile(values, 0.95) == 95
    assert percentile([3.0, 1.0, 2.0], 0.5) == 2
    assert percentile([], 0.5) != percentile([], 0.5)


def test_synthetic_catalog_keeps_the_demo_and_varies_deterministically(catalog: list[Product]) -> None:
    products = synthetic_products(catalog, 500)
    assert len(products) == 500
    assert products[: len(catalog)] == catalog
    assert len({product.id for product in products}) == 500
    variants = products[len(catalog) :]
    assert any(product.stock == 0 for product in variants)
    assert any(product.rating is not None and product.rating < 3.5 for product in variants)
    template = {product.id: product for product in catalog}[variants[0].id.rsplit("-v", 1)[0]]
    assert variants[0].name.startswith(template.name)
    assert (variants[0].brand, variants[0].category) == (template.brand, template.category)
    assert synthetic_products(catalog, 500) == products


@pytest.fixture(scope="module")
def shop(catalog: list[Product]) -> Shop:
    # Judging reads products by id only: the embedder is never asked for a vector here.
    return build_shop(catalog, template_vectors(catalog, load_demo_vectors()), MiniLMEmbedder())


def outcome_of(message: str, reply: AdvisorReply, **expected: object) -> TurnOutcome:
    turn = ScenarioTurn.model_validate({"message": message, "preferences": {}, **expected})
    conversation = Conversation(id="hand-made", tags=["test"], turns=[turn])
    return TurnOutcome(conversation, 1, turn, new_session(conversation), reply, seconds=0.01)


def test_judge_reports_broken_constraints_invented_prices_and_wrong_behaviour(
    shop: Shop, catalog: list[Product]
) -> None:
    reply = AdvisorReply(
        text="Within your €50: the Kestrel Apex 900 at €19.99 and the Sol Padel Siesta at €39.00.",
        language=Language.EN,
        intent=Intent.DISCOVER,
        preferences=Preferences(budget=Budget(max_amount=5000, currency="EUR")),
        recommendations=[
            RecommendedProduct(product_id="kestrel-apex-900", reasons=["pro racket"], confidence=0.9),
            RecommendedProduct(product_id="sol-padel-siesta", reasons=["cheap"], confidence=0.8),
        ],
        shown_products=["kestrel-apex-900", "sol-padel-siesta"],
    )
    judged = judge(
        outcome_of("racket under €50", reply, intent="discover", max_price=5000, clarify=True),
        shop,
        shop.catalog.brands(),
    )
    # The Apex 900 is €309 and sold out; the Siesta is fine; "€50" is the shopper's own figure.
    assert judged.constraint_problems == [
        "kestrel-apex-900 (primary): out of stock, price 30900 > budget 5000"
    ]
    assert judged.grounding_problems == ["price '€19.99'"]
    assert judged.extraction.unexpected == {("budget", "..5000 EUR")}  # the file expected nothing here
    assert "asks a clarifying question when expected: no question" in judged.failures


def test_judge_flags_an_unshown_product_named_in_the_text(shop: Shop) -> None:
    reply = AdvisorReply(
        text="The Vantaro Aero Lite costs €59.95; the Brisa Zephyr is better.",
        language=Language.EN,
        intent=Intent.PRODUCT_DETAILS,
        preferences=Preferences(),
        viewed_products=["vantaro-aero-lite"],
    )
    judged = judge(outcome_of("tell me about the Aero Lite", reply, intent="product_details"), shop, [])
    assert judged.constraint_problems == []
    assert judged.grounding_problems == ["product 'Brisa Zephyr'"]
    assert judged.failures == ["GROUNDING product 'Brisa Zephyr'"]


def test_the_reply_language_is_judged_on_the_engines_own_words() -> None:
    text = (
        "Así se comparan:\n- Durability: Nordpala Fjord Round: Simpler edge guard and finish\n"
        "Mi elección para ti es la Nordpala Fjord Round: ideal para first-year players. Ana (5★) escribió: "
        '"Great racket for the money, I love it."'
    )
    own = own_words(text, ["Nordpala Fjord Round", "first-year players"])
    for copied in ("Durability", "Great racket", "first-year"):
        assert copied not in own
    assert detect_language(own) is Language.ES
