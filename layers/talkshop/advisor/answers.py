"""Answers about one product: its details and the shopper's objections, drawn only from product data.

Every function returns sentences (the engine streams them one by one). Facts come from the Product:
prices through ``format_price``, names as written, ratings and review counts as stored, review quotes
cut from real reviews with their author and stars. ``ai_avoid_when`` is always told when it exists:
an honest "skip it if..." is worth more than a sale the shopper regrets. The shop's text is quoted without
what it says about other products (:func:`quotable`), which the reply does not show.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from pydantic import BaseModel, Field

from talkshop.advisor.grounding import Money
from talkshop.advisor.intents import Language, ObjectionTopic
from talkshop.advisor.model import ShopCatalog
from talkshop.advisor.phrases import join, rating_text, say, term
from talkshop.advisor.preferences import Preferences
from talkshop.advisor.ranking import MIN_RATING, attribute_text, is_left_handed, violations, weight_grams
from talkshop.advisor.shop_text import names_other_products, quotable_text
from talkshop.catalog.model import Product, Review
from talkshop.search.model import SearchFilters
from talkshop.search.service import format_price
from talkshop.text import words

MAX_QUOTE_CHARS = 160
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")

# Review words that show a review speaks to a topic.
_TOPIC_WORDS: dict[ObjectionTopic, frozenset[str]] = {
    ObjectionTopic.DURABILITY: frozenset(
        words("""last lasted lasting durable durability frame edge guard broke broken break crack cracked
        chipped chip paint wear worn months month year years season held holds still sturdy solid peeling
        frayed""")
    ),
    ObjectionTopic.COMFORT: frozenset(
        words("comfort comfortable elbow wrist shoulder vibration soft hurt pain arm feels feather blister")
    ),
    ObjectionTopic.TOURNAMENT: frozenset(words("tournament tournaments match matches league competition")),
    ObjectionTopic.WORTH_IT: frozenset(words("worth value money price quality")),
    ObjectionTopic.LEFT_HANDED: frozenset(words("left lefty handed")),
}
# Attributes worth naming in a details answer, in this order.
_KEY_ATTRIBUTES = (
    "level",
    "play_style",
    "shape",
    "balance",
    "core",
    "face",
    "sweet_spot",
    "material",
    "sole",
)
_COMFORT_ATTRIBUTES = ("core", "balance", "sweet_spot", "sole", "feel")
_ADVANCED_LEVELS = frozenset({"advanced", "pro"})


def quotable(product: Product, brands: Sequence[str]) -> Product:
    """A copy of ``product`` whose shop text and reviews say nothing about other products (``brands``
    find them); a review left empty is never quoted, but still counts."""
    own = [product.name]
    price = Money(product.price, product.currency)

    def cut(texts: Sequence[str]) -> list[str]:
        return [text for text in (quotable_text(item, own, brands, price) for item in texts) if text]

    points = {
        point: text
        for point, text in (
            (point, quotable_text(note, own, brands, price))
            for point, note in product.ai_comparison_points.items()
            if not names_other_products(point, own, brands)
        )
        if text
    }
    reviews = [
        review.model_copy(update={"text": quotable_text(review.text, own, brands, price)})
        for review in product.reviews
    ]
    return product.model_copy(
        update={
            "ai_comparison_points": points,
            "ai_best_for": cut(product.ai_best_for),
            "ai_avoid_when": cut(product.ai_avoid_when),
            "reviews": reviews,
        }
    )


def quote(review: Review, language: Language, topic_words: frozenset[str] = frozenset()) -> str:
    """A short quote of a review (the sentence about the topic, else its first), with author and stars."""
    sentences = [part.strip() for part in _SENTENCE_END.split(review.text) if part.strip()] or [review.text]
    about = [sentence for sentence in sentences if topic_words & set(words(sentence))]
    text = (about or sentences)[0]
    if len(text) > MAX_QUOTE_CHARS:
        text = text[: MAX_QUOTE_CHARS - 1].rsplit(" ", 1)[0] + "…"
    return say("review_quote", language, author=review.author, stars=review.stars, text=text)


def reviews_about(product: Product, topic: ObjectionTopic) -> list[Review]:
    """Reviews that speak to ``topic``, the most critical first (a shopper objecting wants the risks)."""
    topic_words = _TOPIC_WORDS.get(topic, frozenset())
    matching = [review for review in product.reviews if topic_words & set(words(review.text))]
    return sorted(matching, key=lambda review: (review.stars, review.date))


_LABELS = {"level": "row_level", "play_style": "row_style", "shape": "row_shape"}


def _facts(product: Product, language: Language, names: Sequence[str]) -> list[str]:
    facts = []
    grams = weight_grams(product)
    if grams is not None:
        facts.append(f"{say('row_weight', language).lower()} {grams} g")
    for name in names:
        value = attribute_text(product, name)
        if value is not None:
            label = say(_LABELS[name], language).lower() if name in _LABELS else name.replace("_", " ")
            facts.append(f"{label}: {term(value, language)}")
    return facts


def _rating_sentence(product: Product, language: Language) -> str:
    if product.rating is None:
        return say("unrated", language)
    return say("rating_line", language, rating=rating_text(product.rating), reviews=len(product.reviews))


def _avoid_when(product: Product, language: Language) -> list[str]:
    if not product.ai_avoid_when:
        return []
    return [say("avoid_when_line", language, items=join(product.ai_avoid_when[:2], language))]


def details(product: Product, language: Language, brands: Sequence[str] = ()) -> list[str]:
    """Price, stock, key attributes, rating, best for and avoid when (``brands``: see :func:`quotable`)."""
    product = quotable(product, brands)
    price = format_price(product.price, product.currency)
    sentences = [say("details_head", language, name=product.name, price=price)]
    sentences.append(
        say("in_stock", language, stock=product.stock) if product.stock > 0 else say("sold_out", language)
    )
    facts = _facts(product, language, _KEY_ATTRIBUTES)
    if facts:
        sentences.append(say("key_facts", language, facts=", ".join(facts)))
    sentences.append(_rating_sentence(product, language))
    if product.ai_best_for:
        sentences.append(say("best_for_line", language, items=join(product.ai_best_for[:3], language)))
    sentences.extend(_avoid_when(product, language))
    return sentences


def _quotes(product: Product, topic: ObjectionTopic, language: Language, count: int = 2) -> list[str]:
    topic_words = _TOPIC_WORDS.get(topic, frozenset())
    return [quote(review, language, topic_words) for review in reviews_about(product, topic)[:count]]


def _shop_notes(product: Product, language: Language, point_words: frozenset[str]) -> list[str]:
    """The product's comparison points about a topic ("Durability: ..."), as the shop wrote them."""
    return [
        say("shop_note", language, point=point, text=text.rstrip("."))
        for point, text in product.ai_comparison_points.items()
        if point_words & set(words(point))
    ]


def _durability(product: Product, language: Language) -> list[str]:
    notes = _shop_notes(product, language, _TOPIC_WORDS[ObjectionTopic.DURABILITY])
    quotes = _quotes(product, ObjectionTopic.DURABILITY, language)
    if quotes:
        return [say("durability_intro", language, name=product.name), *quotes, *notes]
    if product.reviews:
        silent = say("no_topic_reviews", language, name=product.name, reviews=len(product.reviews))
        return [*notes, silent, _rating_sentence(product, language)]
    return [*notes, say("no_reviews", language, name=product.name)]


def _tournament(product: Product, language: Language) -> list[str]:
    level = attribute_text(product, "level")
    if level is None:
        return [
            say("objection_other", language, name=product.name),
            *_quotes(product, ObjectionTopic.TOURNAMENT, language),
        ]
    template = "tournament_yes" if level in _ADVANCED_LEVELS else "tournament_no"
    return [say(template, language, name=product.name, level=term(level, language))]


def _worth_it(product: Product, language: Language) -> list[str]:
    price = format_price(product.price, product.currency)
    if product.rating is None:
        sentences = [say("details_head", language, name=product.name, price=price), say("unrated", language)]
    else:
        sentences = [
            say(
                "worth_it",
                language,
                price=price,
                name=product.name,
                rating=rating_text(product.rating),
                reviews=len(product.reviews),
            )
        ]
    if product.ai_best_for:
        sentences.append(say("best_for_line", language, items=join(product.ai_best_for[:2], language)))
    quotable_reviews = [review for review in product.reviews if review.text]
    best = max(quotable_reviews, key=lambda review: (review.stars, review.date), default=None)
    if best is not None:
        sentences.append(quote(best, language, _TOPIC_WORDS[ObjectionTopic.WORTH_IT]))
    return sentences


def _comfort(product: Product, language: Language) -> list[str]:
    facts = _facts(product, language, _COMFORT_ATTRIBUTES)
    sentences = [say("comfort_intro", language, facts=", ".join(facts))] if facts else []
    return sentences + _quotes(product, ObjectionTopic.COMFORT, language)


def similar_in_stock(
    catalog: ShopCatalog,
    product: Product,
    preferences: Preferences,
    *,
    max_price: int | None = None,
    limit: int = 3,
) -> list[Product]:
    """In-stock, well-rated products of the same category: same level and play style first, then cheapest."""
    filters = SearchFilters(
        category=product.category,
        in_stock=True,
        min_rating=MIN_RATING,
        max_price=max_price,
    )
    query = " ".join([product.name, *product.ai_tags[:5]])
    found = catalog.search(query, filters=filters, limit=20)
    products = catalog.products(
        [card.id for card in found if card.id != product.id and card.currency == product.currency]
    )
    level, style = attribute_text(product, "level"), attribute_text(product, "play_style")
    # The budget is not applied: the shopper is asking what else exists at this price point.
    unbudgeted = preferences.model_copy(update={"budget": None})
    eligible = [item for item in products.values() if not violations(item, unbudgeted, product.category)]
    return sorted(
        eligible,
        key=lambda item: (
            attribute_text(item, "level") != level,
            attribute_text(item, "play_style") != style,
            item.price,
            item.id,
        ),
    )[:limit]


def _price(
    catalog: ShopCatalog, product: Product, preferences: Preferences, language: Language
) -> tuple[list[str], Product | None]:
    cheaper = similar_in_stock(catalog, product, preferences, max_price=max(product.price - 1, 0), limit=1)
    if not cheaper:
        return [say("no_cheaper", language)], None
    option = cheaper[0]
    price = format_price(option.price, option.currency)
    return [say("cheaper_option", language, name=option.name, price=price)], option


def _left_handed(
    catalog: ShopCatalog, product: Product, preferences: Preferences, language: Language
) -> tuple[list[str], list[Product]]:
    """The answer, and the rackets for left-handers it names."""
    if is_left_handed(product):
        return [say("left_handed_yes", language, name=product.name)], []
    sentences = [say("left_handed_neutral", language, name=product.name)]
    filters = SearchFilters(category=product.category, in_stock=True, min_rating=MIN_RATING)
    found = catalog.search("left-handed", filters=filters, needs=["left-handed"], limit=10)
    lefties = [
        item for item in catalog.products([card.id for card in found]).values() if is_left_handed(item)
    ]
    lefties = lefties[:3]
    if lefties:
        names = [f"{item.name} ({format_price(item.price, item.currency)})" for item in lefties]
        sentences.append(say("left_handed_options", language, names=join(names, language)))
    return sentences, lefties


def _upgrade(catalog: ShopCatalog, product: Product, language: Language) -> tuple[list[str], Product | None]:
    targets = catalog.products(product.ai_upgrade_to)
    available = [target for target in targets.values() if target.stock > 0] or list(targets.values())
    if not available:
        return [say("no_upgrade", language, name=product.name)], None
    target = available[0]
    price = format_price(target.price, target.currency)
    return [say("upgrade_to", language, name=product.name, target=target.name, price=price)], target


class ObjectionAnswer(BaseModel):
    """Sentences answering an objection, the other product they suggest (a cheaper option, an upgrade) and
    any further products they name (rackets for left-handers)."""

    sentences: list[str]
    suggested: Product | None = None
    named: list[Product] = Field(default_factory=list)


def objection(
    topic: ObjectionTopic,
    product: Product,
    preferences: Preferences,
    language: Language,
    catalog: ShopCatalog,
    brands: Sequence[str] = (),
) -> ObjectionAnswer:
    """The answer to an objection about ``product``, honest about its ``ai_avoid_when``.

    ``brands`` (the catalog's): see :func:`quotable`.
    """
    product = quotable(product, brands)
    suggested: Product | None = None
    named: list[Product] = []
    if topic is ObjectionTopic.SHIPPING_RETURNS:
        return ObjectionAnswer(sentences=[say("shipping_returns", language)])
    if topic is ObjectionTopic.DURABILITY:
        sentences = _durability(product, language)
    elif topic is ObjectionTopic.TOURNAMENT:
        sentences = _tournament(product, language)
    elif topic is ObjectionTopic.UPGRADE_PATH:
        sentences, suggested = _upgrade(catalog, product, language)
    elif topic is ObjectionTopic.WORTH_IT:
        sentences = _worth_it(product, language)
    elif topic is ObjectionTopic.LEFT_HANDED:
        sentences, named = _left_handed(catalog, product, preferences, language)
    elif topic is ObjectionTopic.PRICE:
        sentences, suggested = _price(catalog, product, preferences, language)
    elif topic is ObjectionTopic.COMFORT:
        sentences = _comfort(product, language) or [say("objection_other", language, name=product.name)]
    else:
        sentences = [say("objection_other", language, name=product.name), _rating_sentence(product, language)]
        if product.ai_best_for:
            sentences.append(say("best_for_line", language, items=join(product.ai_best_for[:2], language)))
    return ObjectionAnswer(
        sentences=[*sentences, *_avoid_when(product, language)], suggested=suggested, named=named
    )
