"""What the chat page shows, as plain values built from the service's models: product cards, the
conversation's messages with their recommendations and comparisons, and the preference chips.

Everything here is data for the templates; the templates escape it. The one function that produces
markup, `format_message`, escapes the text first and only then adds the few tags it knows.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, get_args

from talkshop.advisor.intents import Language
from talkshop.advisor.model import ChatMessage, Comparison, ConversationSession, Role
from talkshop.advisor.preferences import (
    Budget,
    HandednessValue,
    PlayStyle,
    Preferences,
    Shape,
    SkillLevel,
    WeightClass,
)
from talkshop.advisor.store import AiRecommendation
from talkshop.catalog.model import Product, minor_unit_digits
from talkshop.commerce.carts import checkout_url
from talkshop.errors import InvalidInput
from talkshop.search.service import format_price

# "Only 3 left" from this many units down; above it a product is simply in stock.
LOW_STOCK = 5
DESCRIPTION_CHARS = 140
# A recommendation section shows at most this many cards side by side.
MAX_RECOMMENDED_CARDS = 3

EXAMPLE_PROMPTS = (
    "Find me a padel racket for beginners",
    "What's the best racket under €100?",
    "I'm a left-handed aggressive player",
    "A coffee grinder for pour-over under €150",
)

# The visible message a preference change sends, so the advisor recommends again with them. It names
# the category the shopper is looking at: the rules engine recommends when a message names what to show.
RERANK_MESSAGES = {
    Language.EN: "Show me {} that match my updated preferences.",
    Language.ES: "Muéstrame {} con mis preferencias actualizadas.",
    Language.FR: "Montre-moi des {} avec mes préférences mises à jour.",
    Language.PT: "Mostra-me {} com as minhas preferências atualizadas.",
}
CATEGORY_WORDS: Mapping[str, tuple[str, str, str, str]] = {  # en, es, fr, pt
    "padel-rackets": ("padel rackets", "palas de pádel", "raquettes de padel", "raquetes de padel"),
    "padel-balls": ("padel balls", "pelotas de pádel", "balles de padel", "bolas de padel"),
    "padel-shoes": ("padel shoes", "zapatillas de pádel", "chaussures de padel", "sapatilhas de padel"),
    "padel-bags": ("padel bags", "paleteros", "sacs de padel", "sacos de padel"),
    "grips-overgrips": ("overgrips", "overgrips", "surgrips", "overgrips"),
    "padel-lessons": ("padel lessons", "clases de pádel", "cours de padel", "aulas de padel"),
    "coffee-gear": ("coffee gear", "material de café", "accessoires pour le café", "acessórios de café"),
}
ANY_PRODUCT_WORDS = ("products", "productos", "produits", "produtos")
_LANGUAGE_ORDER = (Language.EN, Language.ES, Language.FR, Language.PT)


# Product cards


@dataclass(frozen=True)
class Availability:
    label: str
    level: str  # "in", "low" or "out": the CSS class that colours it


@dataclass(frozen=True)
class CardView:
    """A product as a card shows it, all from the catalog's data."""

    id: str
    name: str
    brand: str
    creator: str
    description: str
    price: str
    image: str | None
    image_alt: str
    availability: Availability
    rating: float | None
    rating_label: str
    in_stock: bool


@dataclass(frozen=True)
class CardActions:
    """The buttons of a card besides View details: one form posting productId and quantity (and the
    hidden fields) to `buy_url`, with a Buy now button and, when `add_to_cart`, an Add to cart one."""

    buy_url: str
    hidden: Mapping[str, str] = field(default_factory=dict)
    add_to_cart: bool = False
    # Appended to /products/{id}, so the details view can offer the same buttons.
    details_query: str = ""


def availability(stock: int) -> Availability:
    if stock <= 0:
        return Availability("Out of stock", "out")
    if stock <= LOW_STOCK:
        return Availability(f"Only {stock} left", "low")
    return Availability("In stock", "in")


def rating_label(rating: float | None) -> str:
    return "Not rated yet" if rating is None else f"Rated {rating:.1f} out of 5"


def one_line(text: str, limit: int = DESCRIPTION_CHARS) -> str:
    """The first sentence of a description, cut at a word when it is still too long."""
    text = " ".join(text.split())
    sentence = re.split(r"(?<=[.!?])\s", text, maxsplit=1)[0]
    if len(sentence) <= limit:
        return sentence
    return sentence[:limit].rsplit(" ", 1)[0].rstrip(",;:") + "…"


def product_card(product: Product) -> CardView:
    image = product.images[0] if product.images else None
    return CardView(
        id=product.id,
        name=product.name,
        brand=product.brand,
        creator=product.creator_id,
        description=one_line(product.description or product.ai_description),
        price=format_price(product.price, product.currency),
        image=image.url if image else None,
        image_alt=image.alt if image else product.name,
        availability=availability(product.stock),
        rating=product.rating,
        rating_label=rating_label(product.rating),
        in_stock=product.stock > 0,
    )


def chat_card_actions(session_id: str | None, cart_id: str | None = None) -> CardActions | None:
    """Buy now / Add to cart for a chat's cards (Add to cart fills the open cart the page shows, if
    any); none without a chat (a chat's cart needs one)."""
    if session_id is None:
        return None
    return CardActions(
        buy_url="/chat/buy",
        hidden={"sessionId": session_id, **({"cartId": cart_id} if cart_id else {})},
        add_to_cart=True,
        details_query=f"?session={session_id}",
    )


# The conversation


@dataclass(frozen=True)
class RecommendedCard:
    card: CardView
    kind: str  # primary, alternative, upgrade, related
    reasons: list[str]


@dataclass(frozen=True)
class ComparisonTable:
    products: list[CardView]
    rows: list[tuple[str, list[str]]]  # a point, then one value per product in `products` order
    recommended_id: str | None
    recommendation: str


@dataclass(frozen=True)
class MessageView:
    index: int
    role: str
    content: str
    timestamp: str
    recommended: list[RecommendedCard] = field(default_factory=list)
    cards: list[CardView] = field(default_factory=list)
    comparison: ComparisonTable | None = None
    checkout_url: str | None = None
    order_id: str | None = None

    @property
    def anchor(self) -> str:
        """The element id: an order's confirmation is #order-<id> (where the checkout sends the
        shopper back to), any other message #message-<index>."""
        return f"order-{self.order_id}" if self.order_id else f"message-{self.index}"


def product_ids_to_show(session: ConversationSession) -> list[str]:
    """Every product a message of the chat shows (its cards and compared products), to load at once."""
    ids: list[str] = []
    for message in session.messages:
        ids += message.shown_products
        ids += message.comparison.product_ids if message.comparison else []
    return list(dict.fromkeys(ids))


def message_views(
    session: ConversationSession,
    recommendations: Sequence[AiRecommendation],
    products: Mapping[str, Product],
) -> list[MessageView]:
    """The chat's messages with their cards. A product that left the catalog shows no card (as in
    the service's replies); recommendations are matched to their message by their stored ids."""
    recommended_by_id = {item.id: item for item in recommendations}
    return [
        _message_view(index, message, recommended_by_id, products)
        for index, message in enumerate(session.messages)
    ]


def _message_view(
    index: int,
    message: ChatMessage,
    recommended_by_id: Mapping[str, AiRecommendation],
    products: Mapping[str, Product],
) -> MessageView:
    recommended = [
        RecommendedCard(product_card(products[item.product_id]), item.type.value, item.reasons)
        for item in (recommended_by_id[id_] for id_ in message.recommendation_ids if id_ in recommended_by_id)
        if item.product_id in products
    ][:MAX_RECOMMENDED_CARDS]
    in_recommendations = {item.card.id for item in recommended}
    cards = [
        product_card(products[product_id])
        for product_id in message.shown_products
        if product_id in products and product_id not in in_recommendations
    ]
    return MessageView(
        index=index,
        role=message.role.value,
        content=message.content,
        timestamp=message.timestamp.isoformat(),
        recommended=recommended,
        cards=cards,
        comparison=_comparison_table(message.comparison, products) if message.comparison else None,
        checkout_url=checkout_url(message.checkout_cart_id) if message.checkout_cart_id else None,
        order_id=message.order_id,
    )


def _comparison_table(comparison: Comparison, products: Mapping[str, Product]) -> ComparisonTable | None:
    compared = [product_card(products[id_]) for id_ in comparison.product_ids if id_ in products]
    if len(compared) < 2:
        return None  # nothing left to compare side by side
    return ComparisonTable(
        products=compared,
        rows=[(row.point, [row.values.get(card.id, "—") for card in compared]) for row in comparison.rows],
        recommended_id=comparison.recommended_product_id,
        recommendation=comparison.recommendation,
    )


def last_assistant_message(messages: Sequence[MessageView]) -> MessageView | None:
    return next((message for message in reversed(messages) if message.role == Role.ASSISTANT), None)


def new_client_message_id() -> str:
    """The idempotency key a rendered form carries: posting the same form twice (a resubmitted
    page) answers the recorded turn again instead of asking twice."""
    return "web-" + secrets.token_urlsafe(12)


# Preferences


@dataclass(frozen=True)
class PreferenceChip:
    """One thing the advisor understood; `field` and `value` name it in the removal form."""

    field: str
    value: str
    label: str


@dataclass(frozen=True)
class PreferenceChoice:
    """An editable single-choice preference: its form field, label, options and current value."""

    field: str
    label: str
    options: tuple[str, ...]
    current: str


# The single-choice preferences the panel edits, with their options (the model's own literals).
CHOICES: Mapping[str, tuple[str, tuple[str, ...]]] = {
    "skill_level": ("Level", get_args(SkillLevel)),
    "play_style": ("Play style", get_args(PlayStyle)),
    "weight": ("Weight", get_args(WeightClass)),
    "handedness": ("Hand", get_args(HandednessValue)),
    "shape": ("Shape", get_args(Shape)),
}
_SINGLE_LABELS = {
    **{name: label for name, (label, _) in CHOICES.items()},
    "max_weight_g": "At most (g)",
    "min_weight_g": "At least (g)",
}
_LIST_LABELS = {
    "goals": "Goal",
    "brands_liked": "Likes",
    "brands_disliked": "Avoids",
    "materials": "Material",
    "colours": "Colour",
    "physical_notes": "Note",
    "categories": "Looking for",
}
BUDGET_FIELD = "budget"
BUDGET_MAX_FIELD = "budget_max"
DEFAULT_CURRENCY = "EUR"


def budget_label(budget: Budget) -> str:
    low = format_price(budget.min_amount, budget.currency) if budget.min_amount is not None else None
    high = format_price(budget.max_amount, budget.currency) if budget.max_amount is not None else None
    if low and high:
        return f"Budget: {low} to {high}"
    if high:
        return f"Budget: up to {high}"
    return f"Budget: from {low}" if low else "Budget: any"


def preference_chips(preferences: Preferences) -> list[PreferenceChip]:
    chips: list[PreferenceChip] = []
    if preferences.budget is not None:
        chips.append(PreferenceChip(BUDGET_FIELD, "", budget_label(preferences.budget)))
    for name, label in _SINGLE_LABELS.items():
        value = getattr(preferences, name)
        if value is not None:
            chips.append(PreferenceChip(name, "", f"{label}: {value}"))
    for name, label in _LIST_LABELS.items():
        for value in getattr(preferences, name):
            shown = value.replace("-", " ") if name == "categories" else value
            chips.append(PreferenceChip(name, value, f"{label}: {shown}"))
    return chips


def preference_choices(preferences: Preferences) -> list[PreferenceChoice]:
    return [
        PreferenceChoice(name, label, options, getattr(preferences, name) or "")
        for name, (label, options) in CHOICES.items()
    ]


def budget_currency(preferences: Preferences) -> str:
    return preferences.budget.currency if preferences.budget else DEFAULT_CURRENCY


def budget_max_input(preferences: Preferences) -> str:
    """The budget's upper bound in major units, as the edit form shows it ("" when open)."""
    budget = preferences.budget
    if budget is None or budget.max_amount is None:
        return ""
    digits = minor_unit_digits(budget.currency)
    return f"{Decimal(budget.max_amount).scaleb(-digits).normalize():f}"


def without_preference(preferences: Preferences, name: str, value: str) -> Preferences:
    """The preferences without one chip: a single value cleared, or one item of a list."""
    if name == BUDGET_FIELD or name in _SINGLE_LABELS:
        return preferences.model_copy(update={name: None})
    if name in _LIST_LABELS:
        return preferences.model_copy(
            update={name: [item for item in getattr(preferences, name) if item != value]}
        )
    raise InvalidInput(f"There is no preference {name!r}.", code="unknown_preference")


def edited_preferences(preferences: Preferences, form: Mapping[str, str]) -> Preferences:
    """The preferences with the edit form's choices and budget (an empty choice clears it)."""
    update: dict[str, Any] = {}
    for name, (label, options) in CHOICES.items():
        if name not in form:
            continue
        chosen = form[name].strip()
        if chosen and chosen not in options:
            raise InvalidInput(f"{label} must be one of: {', '.join(options)}.", code="invalid_preference")
        update[name] = chosen or None
    if BUDGET_MAX_FIELD in form:
        update[BUDGET_FIELD] = _edited_budget(preferences.budget, form[BUDGET_MAX_FIELD])
    return preferences.model_copy(update=update)


def _edited_budget(budget: Budget | None, typed: str) -> Budget | None:
    typed = typed.strip().replace(",", ".")
    if not typed:
        return (
            None
            if budget is None or budget.min_amount is None
            else budget.model_copy(update={"max_amount": None})
        )
    currency = budget.currency if budget else DEFAULT_CURRENCY  # the shop's prices are in euros
    try:
        amount = Decimal(typed).scaleb(minor_unit_digits(currency))
    except InvalidOperation:
        amount = Decimal(-1)
    if not amount.is_finite() or amount < 0 or amount > 100_000_000 or amount != amount.to_integral_value():
        raise InvalidInput("The budget must be an amount such as 120 or 99.50.", code="invalid_budget")
    maximum = int(amount)
    minimum = (
        budget.min_amount
        if budget and budget.min_amount is not None and budget.min_amount <= maximum
        else None
    )
    return Budget(min_amount=minimum, max_amount=maximum, currency=currency)


def rerank_message(language: Language, category: str | None) -> str:
    """The message that asks for recommendations again, in the chat's language, naming `category`."""
    words = CATEGORY_WORDS.get(category or "", ANY_PRODUCT_WORDS)
    return RERANK_MESSAGES[language].format(words[_LANGUAGE_ORDER.index(language)])


# Product details


@dataclass(frozen=True)
class ReviewView:
    author: str
    stars: int
    text: str
    date: str


@dataclass(frozen=True)
class ProductDetails:
    card: CardView
    description: str
    specs: list[tuple[str, str]]
    comparison_points: list[tuple[str, str]]
    best_for: list[str]
    avoid_when: list[str]
    reviews: list[ReviewView]


def spec_label(name: str) -> str:
    """An attribute's name for people: "weight_g" is "Weight (g)", "thickness_mm" "Thickness (mm)"."""
    words = name.split("_")
    unit = words.pop() if len(words) > 1 and words[-1] in {"g", "mm", "cm", "ml", "kg", "l"} else None
    label = " ".join(words).capitalize()
    return f"{label} ({unit})" if unit else label


def spec_value(value: str | int | float | bool) -> str:
    if isinstance(value, bool):
        return "Yes" if value else "No"
    return str(value)


def product_details(product: Product) -> ProductDetails:
    return ProductDetails(
        card=product_card(product),
        description=product.description,
        specs=[(spec_label(name), spec_value(value)) for name, value in product.attributes.items()],
        comparison_points=list(product.ai_comparison_points.items()),
        best_for=list(product.ai_best_for),
        avoid_when=list(product.ai_avoid_when),
        reviews=[
            ReviewView(review.author, review.stars, review.text, review.date.isoformat())
            for review in product.reviews
        ],
    )
