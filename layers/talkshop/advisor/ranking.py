"""Ranking of candidate products for one shopper: hard constraints, weighted fit, diversity, reasons.

Hard constraints (:func:`violations`) are never traded against anything: a product that fails one is
not recommended. They are: in stock, rated at least 3.5 (an unrated product is excluded, since nothing
vouches for it), within the budget (in the budget's own currency; a product priced in another currency
cannot be checked without converting, so it is excluded), in the wanted category when one is known, and
not from a brand the shopper dislikes.

Among the products that pass, :func:`score` weighs how well each fits (see ``WEIGHTS``): skill level and
budget heavily, play style at medium weight, goals, weight, shape, handedness and physical notes lighter,
a liked brand lightly, then small boosts for new items, best sellers, rating and search relevance.
:func:`rank` keeps the best ``limit`` products without three near-identical ones, each with reasons that
cite its own data and a confidence between 0 and 1. A product two or more levels away from the
shopper's stated level (a pro racket for a beginner) is left out as well: no weighting makes it a good
suggestion.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field
from rapidfuzz import fuzz

from talkshop.advisor.intents import Language
from talkshop.advisor.phrases import join, rating_text, say, term
from talkshop.advisor.preferences import Preferences
from talkshop.catalog.model import Product
from talkshop.search.service import format_price
from talkshop.text import fold, words

MIN_RATING = 3.5
NEW_ITEM_DAYS = 60
BESTSELLER_REVIEWS = 5

# How much each kind of fit counts; a fit is between -1 (works against the wish) and 1.
WEIGHTS: Mapping[str, float] = {
    "skill": 3.0,
    "budget": 3.0,
    "style": 2.0,
    "goals": 1.5,
    "weight": 1.5,
    "shape": 1.0,
    "handedness": 1.0,
    "physical": 1.0,
    "materials": 0.5,
    "colours": 0.5,
    "brand": 0.5,
    "relevance": 1.5,
    "rating": 0.5,
    "new": 0.3,
    "bestseller": 0.3,
}

_SKILL_ORDER = {"beginner": 0, "intermediate": 1, "advanced": 2, "pro": 3}
# The product play style each shopper style is served by.
_STYLE_OF = {"defensive": "control", "aggressive": "power", "control": "control", "power": "power"}
# Words in a product's tags, keywords and best-for lines that speak to a goal or physical note.
_GOAL_WORDS: Mapping[str, frozenset[str]] = {
    "power": frozenset({"power", "powerful", "smash", "smashes"}),
    "control": frozenset({"control", "precision", "precise"}),
    "spin": frozenset({"spin", "rough", "textured"}),
    "speed": frozenset({"speed", "fast", "quick", "manoeuvrability", "maneuverability", "manoeuvrable"}),
    "comfort": frozenset({"comfort", "vibration", "soft", "cushioning", "elbow"}),
    "durability": frozenset({"durable", "durability", "sturdy", "reinforced", "lasting"}),
    "tennis elbow": frozenset({"elbow", "vibration", "comfort"}),
    "wrist pain": frozenset({"wrist", "vibration", "comfort"}),
    "shoulder pain": frozenset({"shoulder", "vibration", "comfort"}),
    "back pain": frozenset({"back", "light", "lightweight", "comfort"}),
    "knee pain": frozenset({"knee", "cushioning", "cushioned", "comfort"}),
}
# Racket weight classes in grams (the demo catalog's rackets weigh 330-385 g).
_LIGHT_MAX_G = 350
_HEAVY_MIN_G = 372
_QUICK_MAX_G = 365


class Ranked(BaseModel):
    """A product chosen for the shopper, with why."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    product: Product
    score: float
    confidence: float = Field(ge=0, le=1)
    reasons: list[str] = Field(min_length=1)
    features: dict[str, float] = Field(
        default_factory=dict, description="The value of each weighed feature (see `features`)"
    )


# --------------------------------------------------------------------------------------------------------
# Product facts
# --------------------------------------------------------------------------------------------------------


def attribute_text(product: Product, name: str) -> str | None:
    value = product.attributes.get(name)
    return str(value) if value is not None and not isinstance(value, bool) else None


def weight_grams(product: Product) -> int | None:
    value = product.attributes.get("weight_g")
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def tags(product: Product) -> frozenset[str]:
    return frozenset(fold(tag) for tag in [*product.ai_tags, *product.ai_keywords])


def is_left_handed(product: Product) -> bool:
    return "left-handed" in tags(product) or any("left-handed" in fold(line) for line in product.ai_best_for)


def is_bestseller(product: Product) -> bool:
    return "bestseller" in tags(product) or "best seller" in tags(product)


def is_new(product: Product, now: datetime) -> bool:
    return "new" in tags(product) or now - product.created_at <= timedelta(days=NEW_ITEM_DAYS)


def _profile_words(product: Product) -> frozenset[str]:
    style = attribute_text(product, "play_style") or ""
    return frozenset(words(" ".join([*product.ai_tags, *product.ai_keywords, *product.ai_best_for, style])))


def budget_text(preferences: Preferences) -> str | None:
    budget = preferences.budget
    if budget is None:
        return None
    if budget.min_amount is not None and budget.max_amount is not None:
        low = format_price(budget.min_amount, budget.currency)
        return f"{low} - {format_price(budget.max_amount, budget.currency)}"
    if budget.max_amount is not None:
        return format_price(budget.max_amount, budget.currency)
    return f"{format_price(budget.min_amount or 0, budget.currency)}+"


# --------------------------------------------------------------------------------------------------------
# Hard constraints
# --------------------------------------------------------------------------------------------------------


def within_budget(product: Product, preferences: Preferences) -> bool:
    budget = preferences.budget
    if budget is None:
        return True
    if product.currency != budget.currency:
        return False
    return (budget.min_amount is None or product.price >= budget.min_amount) and (
        budget.max_amount is None or product.price <= budget.max_amount
    )


def violations(product: Product, preferences: Preferences, category: str | None = None) -> list[str]:
    """The hard constraints ``product`` breaks for this shopper (empty: it may be recommended)."""
    broken = []
    if product.stock <= 0:
        broken.append("out of stock")
    if product.rating is None or product.rating < MIN_RATING:
        broken.append(f"rated below {MIN_RATING:g}" if product.rating is not None else "not rated")
    if not within_budget(product, preferences):
        broken.append("outside the budget")
    if category is not None and product.category != category:
        broken.append("another category")
    if fold(product.brand) in {fold(brand) for brand in preferences.brands_disliked}:
        broken.append("a disliked brand")
    return broken


# --------------------------------------------------------------------------------------------------------
# Fit
# --------------------------------------------------------------------------------------------------------


def _skill_fit(product: Product, preferences: Preferences) -> float | None:
    if preferences.skill_level is None:
        return None
    level = attribute_text(product, "level")
    if level is None:
        return 0.6 if "beginner-friendly" in tags(product) and preferences.skill_level == "beginner" else None
    if fold(level) == "all levels":
        return 0.7
    if level not in _SKILL_ORDER:
        return None
    gap = abs(_SKILL_ORDER[level] - _SKILL_ORDER[preferences.skill_level])
    return {0: 1.0, 1: 0.35}.get(gap, -0.6)


def _budget_fit(product: Product, preferences: Preferences) -> float | None:
    """Within the budget (a hard constraint); among those, a price near the top of it fits a little better
    (from 0.5 to 1): using the budget well breaks ties, but must not outweigh being what was asked for."""
    budget = preferences.budget
    if budget is None or budget.max_amount is None or budget.max_amount == 0:
        return None
    target = 0.75 * budget.max_amount
    return 1.0 - 0.5 * min(1.0, abs(product.price - target) / budget.max_amount)


def _style_fit(product: Product, preferences: Preferences) -> float | None:
    if preferences.play_style is None:
        return None
    style = attribute_text(product, "play_style")
    if style is None:
        return None
    if style == "all-round":
        return 1.0 if preferences.play_style == "all-round" else 0.4
    wanted = _STYLE_OF.get(preferences.play_style)
    if wanted is None:  # an all-round player: a specialist racket is a half fit
        return 0.4
    return 1.0 if style == wanted else -0.5


def _weight_fit(product: Product, preferences: Preferences) -> float | None:
    grams = weight_grams(product)
    racket = product.category.endswith("rackets")
    fits: list[float] = []
    if preferences.weight is not None:
        product_tags = tags(product)
        light = "lightweight" in product_tags or (racket and grams is not None and grams <= _LIGHT_MAX_G)
        heavy = "heavy" in product_tags or (racket and grams is not None and grams >= _HEAVY_MIN_G)
        if preferences.weight == "light":
            fits.append(1.0 if light else -0.5 if heavy else 0.0)
        elif preferences.weight == "heavy":
            fits.append(1.0 if heavy else -0.5 if light else 0.0)
        elif racket and grams is not None:
            fits.append(1.0 if _LIGHT_MAX_G < grams < _HEAVY_MIN_G else -0.3)
    if grams is not None and (preferences.min_weight_g or preferences.max_weight_g):
        low, high = preferences.min_weight_g or 0, preferences.max_weight_g or 10**6
        fits.append(1.0 if low <= grams <= high else -1.0)
    return sum(fits) / len(fits) if fits else None


def _share(wanted: Sequence[str], found: Iterable[str]) -> float | None:
    if not wanted:
        return None
    found_set = set(found)
    return sum(1 for item in wanted if item in found_set) / len(wanted)


def _is_quick(product: Product) -> bool:
    """A racket light enough to be quick in the hand (speed is rarely a tag, but weight is data)."""
    grams = weight_grams(product)
    return product.category.endswith("rackets") and grams is not None and grams <= _QUICK_MAX_G


def _goals_met(product: Product, wishes: Sequence[str]) -> list[str]:
    profile = _profile_words(product)
    return [
        wish
        for wish in wishes
        if _GOAL_WORDS.get(wish, frozenset(words(wish))) & profile or (wish == "speed" and _is_quick(product))
    ]


def _text_has(product: Product, wished: str) -> bool:
    haystack = fold(" ".join([product.name, product.description, *map(str, product.attributes.values())]))
    return fold(wished) in haystack


def fits(product: Product, preferences: Preferences) -> dict[str, float]:
    """How well ``product`` meets each wish the shopper stated, by ``WEIGHTS`` key (-1 to 1)."""
    found: dict[str, float | None] = {
        "skill": _skill_fit(product, preferences),
        "budget": _budget_fit(product, preferences),
        "style": _style_fit(product, preferences),
        "weight": _weight_fit(product, preferences),
        "goals": _share(preferences.goals, _goals_met(product, preferences.goals)),
        "physical": _share(preferences.physical_notes, _goals_met(product, preferences.physical_notes)),
        "materials": _share(
            preferences.materials, [m for m in preferences.materials if _text_has(product, m)]
        ),
        "colours": _share(preferences.colours, [c for c in preferences.colours if _text_has(product, c)]),
    }
    if preferences.shape is not None and attribute_text(product, "shape") is not None:
        found["shape"] = 1.0 if attribute_text(product, "shape") == preferences.shape else -0.3
    if preferences.handedness == "left":
        found["handedness"] = 1.0 if is_left_handed(product) else 0.0
    if preferences.brands_liked:
        liked = {fold(brand) for brand in preferences.brands_liked}
        found["brand"] = 1.0 if fold(product.brand) in liked else 0.0
    return {name: value for name, value in found.items() if value is not None}


def features(
    product: Product,
    preferences: Preferences,
    *,
    now: datetime,
    relevance: float = 0.0,
    fit: Mapping[str, float] | None = None,
) -> dict[str, float]:
    """Every weighed feature of ``product`` for this shopper, by ``WEIGHTS`` key: the fits (-1 to 1) of
    the wishes stated, then the boosts (0 to 1). A score is these times the weights; the learning loop
    (talkshop.analytics.learning) reads them back from recommendations that were bought or dismissed.

    ``fit`` is :func:`fits` of the product when the caller has it already."""
    found = dict(fits(product, preferences) if fit is None else fit)
    rating = product.rating if product.rating is not None else MIN_RATING
    found["rating"] = max(0.0, (rating - MIN_RATING) / (5 - MIN_RATING))
    found["relevance"] = max(0.0, min(relevance, 1.0))
    found["new"] = float(is_new(product, now))
    found["bestseller"] = float(is_bestseller(product) or len(product.reviews) >= BESTSELLER_REVIEWS)
    return found


_BOOSTS = frozenset({"rating", "relevance", "new", "bestseller"})


def score(
    product: Product,
    preferences: Preferences,
    *,
    now: datetime,
    relevance: float = 0.0,
    fit: Mapping[str, float] | None = None,
    weights: Mapping[str, float] = WEIGHTS,
) -> tuple[float, float]:
    """(score, confidence): the weighted fit plus boosts, and the share of the stated wishes met.

    ``fit`` is :func:`fits` of the product when the caller has it already; ``weights`` replace
    ``WEIGHTS`` (an experiment arm's or the learned ones, with every key of ``WEIGHTS``)."""
    return weighed(features(product, preferences, now=now, relevance=relevance, fit=fit), weights)


def weighed(found: Mapping[str, float], weights: Mapping[str, float] = WEIGHTS) -> tuple[float, float]:
    """(score, confidence) of a product's :func:`features`."""
    total = sum(weights[name] * value for name, value in found.items())
    wishes = {name: value for name, value in found.items() if name not in _BOOSTS}
    stated = sum(weights[name] for name in wishes)
    met = sum(weights[name] * max(value, 0.0) for name, value in wishes.items())
    share = met / stated if stated else 0.5
    confidence = round(min(0.95, max(0.3, 0.35 + 0.6 * share + 0.05 * found["relevance"])), 2)
    return round(total, 4), confidence


# --------------------------------------------------------------------------------------------------------
# Reasons
# --------------------------------------------------------------------------------------------------------


def reasons(
    product: Product,
    preferences: Preferences,
    language: Language,
    *,
    now: datetime,
    fit: Mapping[str, float] | None = None,
) -> list[str]:
    """Why ``product`` suits this shopper, each reason citing a fact from its data; its price comes first.

    ``fit`` is :func:`fits` of the product when the caller has it already."""
    fit = fits(product, preferences) if fit is None else fit
    given: list[str] = []
    price = format_price(product.price, product.currency)
    budget = budget_text(preferences)
    if budget is not None and within_budget(product, preferences):
        given.append(say("reason_budget", language, price=price, budget=budget))
    else:
        given.append(say("reason_price", language, price=price))
    level = attribute_text(product, "level")
    if level and fit.get("skill", 0) > 0:
        given.append(say("reason_level", language, level=term(level, language)))
    style = attribute_text(product, "play_style")
    if style and fit.get("style", 0) > 0:
        given.append(say("reason_style", language, style=term(style, language)))
    grams = weight_grams(product)
    if grams is not None and (fit.get("weight", 0) > 0 or "speed" in preferences.goals):
        given.append(say("reason_weight", language, grams=grams))
    shape = attribute_text(product, "shape")
    if shape and fit.get("shape", 0) > 0:
        given.append(say("reason_shape", language, shape=term(shape, language)))
    if fit.get("handedness", 0) > 0:
        given.append(say("reason_left_handed", language))
    met = _goals_met(product, [*preferences.goals, *preferences.physical_notes])
    if met:
        given.append(say("reason_needs", language, needs=join(met, language)))
    if fit.get("brand", 0) > 0:
        given.append(say("reason_brand", language, brand=product.brand))
    if product.ai_best_for:
        given.append(say("reason_best_for", language, items=product.ai_best_for[0]))
    if product.rating is not None:
        given.append(
            say("reason_rating", language, rating=rating_text(product.rating), reviews=len(product.reviews))
        )
    if is_bestseller(product):
        given.append(say("reason_bestseller", language))
    if is_new(product, now):
        given.append(say("reason_new", language))
    return given


# --------------------------------------------------------------------------------------------------------
# Ranking
# --------------------------------------------------------------------------------------------------------


def _signature(product: Product) -> tuple[str, str, str]:
    return (
        fold(product.brand),
        attribute_text(product, "shape") or "",
        attribute_text(product, "level") or "",
    )


def near_identical(first: Product, second: Product) -> bool:
    """Same brand, shape and level in one category, or names that differ only in a word or number."""
    if first.category != second.category:
        return False
    if _signature(first) == _signature(second) and any(_signature(first)[1:]):
        return True
    return fuzz.token_sort_ratio(fold(first.name), fold(second.name)) >= 90


def diverse(ordered: Sequence[Ranked], limit: int) -> list[Ranked]:
    """The best ``limit`` of ``ordered``: first one of each near-identical group, then at most two."""
    chosen: list[Ranked] = []
    for twins_allowed in (0, 1):
        for candidate in ordered:
            if len(chosen) >= limit:
                return chosen
            if candidate in chosen:
                continue
            twins = sum(near_identical(candidate.product, kept.product) for kept in chosen)
            if twins <= twins_allowed:
                chosen.append(candidate)
    return chosen


def rank(
    products: Iterable[Product],
    preferences: Preferences,
    *,
    language: Language = Language.EN,
    category: str | None = None,
    relevance: Mapping[str, float] | None = None,
    excluded: Collection[str] = (),
    now: datetime,
    limit: int = 3,
    weights: Mapping[str, float] = WEIGHTS,
) -> list[Ranked]:
    """The ``limit`` best products for this shopper that break no hard constraint, best first.

    ``relevance`` is the search relevance by product id, scaled here from 0 (the least relevant candidate)
    to 1 (the best): fused search scores of one answer sit close together, and only their spread says which
    products are what the shopper asked for (a grinder, not a kettle, for "a coffee grinder"). ``excluded``
    ids (dismissed or already shown) are skipped; ``category`` is the category the products must be in.
    ``weights`` replace ``WEIGHTS`` (an experiment arm's, or the learned ones).
    """
    relevance = relevance or {}
    top = max(relevance.values(), default=0.0)
    low = min(relevance.values(), default=0.0)
    spread = top - low or 1.0
    scored: list[Ranked] = []
    for product in products:
        if product.id in excluded or violations(product, preferences, category):
            continue
        if (_skill_fit(product, preferences) or 0.0) < 0:  # two levels off: never a good suggestion
            continue
        # Fit is the costly part of a candidate (tag and text scans): worked out once for both uses.
        fit = fits(product, preferences)
        scaled = (relevance.get(product.id, low) - low) / spread
        found = features(product, preferences, now=now, relevance=scaled, fit=fit)
        total, confidence = weighed(found, weights)
        scored.append(
            Ranked(
                product=product,
                score=total,
                confidence=confidence,
                reasons=reasons(product, preferences, language, now=now, fit=fit)[:5],
                features={name: round(value, 4) for name, value in found.items()},
            )
        )
    scored.sort(key=lambda ranked: (-ranked.score, ranked.product.price, ranked.product.id))
    return diverse(scored, limit)
