"""The shop's own text (comparison notes, reviews, best-for lines) made safe to quote in a reply.

Product data often compares a product with others: "Softer feel than the Vantaro Strike 12K". Copied into
a reply that does not show the Vantaro Strike 12K, that sentence names a product the shopper cannot see,
price, stock and all, which the advisor must never do. :func:`without_other_products` cuts such mentions
out of a text, keeping what it says about the product itself:

* a parenthesis that names another product goes: "than heavier diamonds (Nordpala Polar Power, ...)";
* in a clause that names one, a comparison keeps its first half when that half says something: "softer
  feel than the Vantaro Strike 12K" -> "softer feel";
* any other clause that names one goes: "380 g, the heaviest but one; only the Brisa Tramontana is
  heavier." -> "380 g, the heaviest but one."

A mention is a known brand written as the catalog writes it followed by capitalised words or numbers
("Kestrel Apex 900", "Sol Padel Fuego"), the same shape the grounding check looks for; mentions that start
one of the ``allowed`` names (the products the reply shows) stay.

Shop text may also state prices ("€4.99 per tube", "€20 less than last year's model"): written by hand,
they go stale when the price changes, and a reply's prices must all be the data's. :func:`quotable_text`
also drops every clause that states an amount other than the product's own price.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from functools import lru_cache

from talkshop.advisor.grounding import Money, states_other_prices
from talkshop.text import fold, words

__all__ = ["names_other_products", "quotable_text", "without_other_products"]

# Words that turn the rest of a clause into a comparison with another product.
_COMPARISON = re.compile(
    r"\b(?:than|such as|like|compared (?:with|to)|similar to|vs\.?|versus)\s", re.IGNORECASE
)
# Clause breaks: ; : , and a full stop before a space (not the one in "€5.95").
_CLAUSE_BREAK = re.compile(r"([;:,]\s+|\.\s+)")
_PARENTHESIS = re.compile(r"\s*\([^()]*\)")
_MIN_KEPT_WORDS = 2


@lru_cache(maxsize=8)
def _mention_pattern(brands: tuple[str, ...]) -> re.Pattern[str] | None:
    names = sorted({brand.strip() for brand in brands if brand.strip()}, key=len, reverse=True)
    if not names:
        return None
    alternatives = "|".join(re.escape(name) for name in names)
    return re.compile(rf"(?<![\w-])(?:{alternatives})(?:\s+[A-Z0-9][\w'/-]*(?:\.\d+)*)+")


def _foreign(text: str, pattern: re.Pattern[str], allowed: Sequence[str]) -> list[re.Match[str]]:
    """Mentions in ``text`` of products that are none of the allowed ones."""
    return [
        match
        for match in pattern.finditer(text)
        if not any(name.startswith(fold(match.group(0))) for name in allowed)
    ]


def _clause(text: str, pattern: re.Pattern[str], allowed: Sequence[str]) -> str:
    """The clause without its mention of another product: its first half, or nothing."""
    mentions = _foreign(text, pattern, allowed)
    if not mentions:
        return text
    before = [match for match in _COMPARISON.finditer(text) if match.end() <= mentions[0].start()]
    if before:
        kept = text[: before[-1].start()].rstrip(" ,")
        if len(words(kept)) >= _MIN_KEPT_WORDS:
            return kept
    return ""


def without_other_products(text: str, allowed: Sequence[str], brands: Sequence[str]) -> str:
    """``text`` without what it says about products other than the ``allowed`` names (may become "")."""
    pattern = _mention_pattern(tuple(brands))
    folded_allowed = [fold(name) for name in allowed]
    if pattern is None or not _foreign(text, pattern, folded_allowed):
        return text
    text = _PARENTHESIS.sub(
        lambda match: "" if _foreign(match.group(0), pattern, folded_allowed) else match.group(0), text
    )
    return _by_clause(text, lambda clause: _clause(clause, pattern, folded_allowed))


def quotable_text(text: str, allowed: Sequence[str], brands: Sequence[str], price: Money) -> str:
    """``text`` without other products (see :func:`without_other_products`) and without any clause that
    states a price other than ``price``, the product's own (may become "")."""
    text = without_other_products(text, allowed, brands)
    if not states_other_prices(text, price):
        return text
    text = _PARENTHESIS.sub(
        lambda match: "" if states_other_prices(match.group(0), price) else match.group(0), text
    )
    return _by_clause(text, lambda clause: "" if states_other_prices(clause, price) else clause)


def _by_clause(text: str, keep: Callable[[str], str]) -> str:
    """``text`` with each clause replaced by what ``keep`` makes of it (an empty clause goes)."""
    parts = _CLAUSE_BREAK.split(text)
    kept: list[tuple[str, str]] = []
    for index in range(0, len(parts), 2):
        clause = keep(parts[index])
        if clause.strip():
            kept.append((clause, parts[index + 1] if index + 1 < len(parts) else ""))
    if not kept:
        return ""
    ending = "." if text.rstrip().endswith(".") else ""
    body = "".join(clause + separator for clause, separator in kept[:-1])
    return body + kept[-1][0].rstrip(" .,;:") + ending


def names_other_products(text: str, allowed: Sequence[str], brands: Sequence[str]) -> bool:
    """Whether ``text`` names a product other than the ``allowed`` ones ("vs Vantaro Aero Control")."""
    pattern = _mention_pattern(tuple(brands))
    return pattern is not None and bool(_foreign(text, pattern, [fold(name) for name in allowed]))
