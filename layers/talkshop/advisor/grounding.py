"""Grounding checks for advisor prose: every price and product name must come from the data shown.

``find_grounding_errors(text, products_by_id, catalog_names)`` reads a reply and returns what it cannot
back up:

* A **price** is a number with a currency next to it, in any common format: ``€64.95``, ``64,95 €``,
  ``$10``, ``10 EUR``, ``EUR 10``, ``1.299,00 €``, ``12 euros``. It is grounded when it is the price of a
  product in ``products_by_id`` (same currency; a whole amount may round the real price: "€65" for
  €64.95), the difference between two of their prices ("€20 cheaper"), or one of the ``allowed`` amounts
  (what the shopper said, such as their budget). Anything else is an invented price.
* A **product name** is a catalog name (``catalog_names``: id -> name) written in the text, matched
  case-insensitively as whole words; the name without its brand ("Feather 330") and without a trailing
  parenthesis ("Tour Balls") count too when written with the catalog's capitals. A catalog product that
  is not in ``products_by_id`` was not returned by the tools: naming it is an error. Without the whole
  catalog at hand, ``brands`` catch invented or unreturned names too: a known brand followed by
  capitalised words or numbers ("Kestrel Glide 100", "Vantaro Turbo X") that is not (the start of) a
  returned product's name is an error.

``correct(...)`` rewrites what it can and drops what it cannot: a wrong price in a sentence that names
exactly one returned product (or in a reply about a single product) becomes that product's price; any
other sentence with an invented price or an unreturned product is removed.

The rules engine's replies are checked with the same function by the advisor benchmark.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from functools import lru_cache
from typing import Protocol

from pydantic import BaseModel, ConfigDict

from talkshop.catalog.model import minor_unit_digits
from talkshop.search.service import format_price
from talkshop.text import fold

__all__ = [
    "Correction",
    "ErrorKind",
    "GroundingError",
    "Money",
    "PricedProduct",
    "correct",
    "find_grounding_errors",
    "mentioned_product_ids",
]


class PricedProduct(Protocol):
    """What grounding reads of a product: a catalog Product and a search card both fit."""

    @property
    def name(self) -> str: ...

    @property
    def brand(self) -> str: ...

    @property
    def price(self) -> int: ...

    @property
    def currency(self) -> str: ...


class ErrorKind(StrEnum):
    PRICE = "price"
    PRODUCT = "product"


class GroundingError(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: ErrorKind
    text: str
    start: int
    end: int
    product_id: str | None = None


class Correction(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str
    errors: list[GroundingError]
    replaced: int = 0
    removed_sentences: int = 0


@dataclass(frozen=True)
class Money:
    amount: int  # minor units of currency
    currency: str


# --------------------------------------------------------------------------------------------------------
# Prices
# --------------------------------------------------------------------------------------------------------

_SYMBOLS = {"€": "EUR", "$": "USD", "us$": "USD", "£": "GBP", "¥": "JPY"}
_WORDS = {
    "euro": "EUR",
    "euros": "EUR",
    "dollar": "USD",
    "dollars": "USD",
    "pound": "GBP",
    "pounds": "GBP",
    "francs": "CHF",
    "reais": "BRL",
}
_CODES = "EUR|USD|GBP|CHF|JPY|CAD|AUD|SEK|NOK|DKK|PLN|BRL|MXN"
_NUMBER = r"\d{1,3}(?:[.,\u202f\u00a0 ]\d{3})+(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2})?"
_BEFORE = rf"(?:US\$|[€$£¥]|\b(?:{_CODES})\b)"
_AFTER = rf"(?:[€$£¥]|\b(?:{_CODES}|euros?|dollars?|pounds?|francs|reais)\b)"
_PRICE = re.compile(
    rf"(?P<pre>{_BEFORE})\s?(?P<n1>{_NUMBER})(?:,-|\.-)?|(?<![\w.,])(?P<n2>{_NUMBER})\s?(?P<post>{_AFTER})",
    re.IGNORECASE,
)


def _currency(marker: str) -> str:
    lowered = marker.lower()
    return _SYMBOLS.get(lowered) or _WORDS.get(lowered) or marker.upper()


def _amount(number: str, currency: str) -> tuple[int, bool] | None:
    """Minor units of a written number and whether it had decimals; '1.299,00' and '1,299.00' both work."""
    compact = re.sub(r"[\u202f\u00a0 ]", "", number)
    decimals = re.search(r"[.,](\d{1,2})$", compact)
    whole = compact[: decimals.start()] if decimals else compact
    whole = re.sub(r"[.,]", "", whole)
    text = f"{whole}.{decimals.group(1)}" if decimals else whole
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    return int(value.scaleb(minor_unit_digits(currency))), decimals is not None


@dataclass(frozen=True)
class _Price:
    start: int
    end: int
    money: Money
    has_decimals: bool


def _prices(text: str) -> list[_Price]:
    found = []
    for match in _PRICE.finditer(text):
        marker = match.group("pre") or match.group("post")
        number = match.group("n1") or match.group("n2")
        currency = _currency(marker)
        parsed = _amount(number, currency)
        if parsed is None:
            continue
        amount, has_decimals = parsed
        found.append(_Price(match.start(), match.end(), Money(amount, currency), has_decimals))
    return found


def states_other_prices(text: str, price: Money) -> bool:
    """Whether ``text`` states an amount of money other than ``price`` (rounded amounts count as it)."""
    return any(not _matches(stated, price) for stated in _prices(text))


def _matches(price: _Price, money: Money) -> bool:
    if price.money.currency != money.currency:
        return False
    if price.money.amount == money.amount:
        return True
    unit = 10 ** minor_unit_digits(money.currency)
    # "€65" for €64.95: a whole amount that rounds the real price is that price.
    return not price.has_decimals and abs(price.money.amount - money.amount) < unit


def _differences(products: Iterable[PricedProduct]) -> list[Money]:
    """Gaps between two prices of one currency: "€20 cheaper" is grounded when two prices differ by €20."""
    prices = [Money(product.price, product.currency) for product in products]
    return [
        Money(abs(first.amount - second.amount), first.currency)
        for index, first in enumerate(prices)
        for second in prices[index + 1 :]
        if first.currency == second.currency and first.amount != second.amount
    ]


# --------------------------------------------------------------------------------------------------------
# Product names
# --------------------------------------------------------------------------------------------------------


def _name_pattern(name: str, *, ignore_case: bool) -> re.Pattern[str]:
    parts = [re.escape(part) for part in name.split()]
    flags = re.IGNORECASE if ignore_case else 0
    return re.compile(r"(?<![\w-])" + r"\s+".join(parts) + r"(?![\w-])", flags)


def _variants(name: str, brand: str | None) -> list[tuple[str, bool]]:
    """(text, ignore case) pairs that name a product; shortened forms must keep the catalog's capitals."""
    variants = [(name, True)]
    bare = re.sub(r"\s*\([^)]*\)\s*$", "", name).strip()
    if bare != name and len(bare.split()) >= 2:
        variants.append((bare, False))
    for full in (name, bare):
        if brand and full.lower().startswith(brand.lower() + " "):
            rest = full[len(brand) :].strip()
            if len(rest.split()) >= 2 or any(char.isdigit() for char in rest):
                variants.append((rest, False))
    return variants


@lru_cache(maxsize=8)
def _name_patterns(
    names: tuple[tuple[str, str, str | None], ...],
) -> tuple[tuple[str, int, re.Pattern[str]], ...]:
    """(product id, length, pattern) for every variant, longest first so that longer names win overlaps."""
    entries = [
        (product_id, len(text), _name_pattern(text, ignore_case=ignore_case))
        for product_id, name, brand in names
        for text, ignore_case in _variants(name, brand)
    ]
    return tuple(sorted(entries, key=lambda entry: -entry[1]))


def _named_products(
    text: str, names: Mapping[str, str], products: Mapping[str, PricedProduct], brands: Iterable[str]
) -> list[tuple[int, int, str]]:
    """(start, end, product id) of every catalog product named in the text, without overlaps."""
    known_brands = sorted(set(brands), key=len, reverse=True)

    def brand(product_id: str, name: str) -> str | None:
        product = products.get(product_id)
        if product is not None:
            return product.brand
        return next((b for b in known_brands if name.lower().startswith(b.lower() + " ")), None)

    key = tuple(sorted((product_id, name, brand(product_id, name)) for product_id, name in names.items()))
    taken: list[tuple[int, int, str]] = []
    for product_id, _, pattern in _name_patterns(key):
        for match in pattern.finditer(text):
            if any(match.start() < end and start < match.end() for start, end, _ in taken):
                continue
            taken.append((match.start(), match.end(), product_id))
    return sorted(taken)


@lru_cache(maxsize=8)
def _brand_pattern(brands: tuple[str, ...]) -> re.Pattern[str]:
    """A brand as the catalog writes it, then capitalised words or numbers: "Kestrel Glide 100"."""
    alternatives = "|".join(re.escape(brand) for brand in sorted(brands, key=len, reverse=True))
    return re.compile(
        rf"(?<![\w-])(?:{alternatives})(?:\s+(?:[A-Z0-9][\w'/-]*(?:\.\d+)*|\([^)\n]*\d[^)\n]*\)))+"
    )


def _unknown_branded_names(
    text: str, returned_names: Iterable[str], taken: list[tuple[int, int, str]], brands: Iterable[str]
) -> list[tuple[int, int]]:
    """Spans that look like a product of a known brand but are no name the reply may use."""
    wanted = tuple(sorted({brand for brand in brands if brand.strip()}))
    if not wanted:
        return []
    allowed = [fold(name) for name in returned_names]
    spans = []
    for match in _brand_pattern(wanted).finditer(text):
        if any(match.start() < end and start < match.end() for start, end, _ in taken):
            continue
        phrase = fold(match.group(0))
        if any(name.startswith(phrase) for name in allowed):
            continue  # a returned product's name, shortened ("Vantaro Feather")
        spans.append((match.start(), match.end()))
    return spans


# --------------------------------------------------------------------------------------------------------
# Public functions
# --------------------------------------------------------------------------------------------------------


def mentioned_product_ids(text: str, products_by_id: Mapping[str, PricedProduct]) -> list[str]:
    """Ids of the given products that the text names, in the order it first names them."""
    names = {pid: product.name for pid, product in products_by_id.items()}
    return list(dict.fromkeys(pid for _, _, pid in _named_products(text, names, products_by_id, ())))


def find_grounding_errors(
    text: str,
    products_by_id: Mapping[str, PricedProduct],
    catalog_names: Mapping[str, str] | None = None,
    *,
    allowed: Iterable[Money] = (),
    brands: Iterable[str] = (),
) -> list[GroundingError]:
    """Prices and product names in ``text`` that the returned products do not back up, in text order.

    ``products_by_id`` are the products the reply may speak of (what the tools returned, or the cards the
    rules engine shows); ``catalog_names`` (id -> name) are every product of the shop, so that naming one
    that was not returned is caught; ``allowed`` are amounts the shopper gave; ``brands`` help shorten
    names of catalog products that are not in ``products_by_id``.
    """
    brands = list(brands)  # read once per sentence below: a one-pass iterable would be used up
    errors: list[GroundingError] = []
    others = [*_differences(products_by_id.values()), *allowed]
    returned_names = {pid: product.name for pid, product in products_by_id.items()}
    for start, end in _sentences(text):
        sentence = text[start:end]
        prices = _prices(sentence)
        if not prices:
            continue
        # A sentence about one product must give that product's price, not another returned one's.
        named = {pid for _, _, pid in _named_products(sentence, returned_names, products_by_id, brands)}
        subjects = [products_by_id[pid] for pid in named] if len(named) == 1 else products_by_id.values()
        grounded = [*(Money(product.price, product.currency) for product in subjects), *others]
        for price in prices:
            if not any(_matches(price, money) for money in grounded):
                errors.append(
                    GroundingError(
                        kind=ErrorKind.PRICE,
                        text=sentence[price.start : price.end],
                        start=start + price.start,
                        end=start + price.end,
                    )
                )
    names = {**(catalog_names or {}), **returned_names}
    spans = _named_products(text, names, products_by_id, brands)
    for start, end in _unknown_branded_names(text, returned_names.values(), spans, brands):
        errors.append(GroundingError(kind=ErrorKind.PRODUCT, text=text[start:end], start=start, end=end))
    if catalog_names:
        for start, end, product_id in spans:
            if product_id not in products_by_id:
                errors.append(
                    GroundingError(
                        kind=ErrorKind.PRODUCT,
                        text=text[start:end],
                        start=start,
                        end=end,
                        product_id=product_id,
                    )
                )
    return sorted(errors, key=lambda error: error.start)


_SENTENCE = re.compile(r"[^\n]*?(?:[.!?](?=\s|$)|\n|$)")


def _sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) spans of the text's sentences and lines; together they cover the whole text."""
    spans = []
    position = 0
    while position < len(text):
        match = _SENTENCE.match(text, position)
        end = match.end() if match and match.end() > position else len(text)
        # Keep the whitespace after a sentence with it, so removing it leaves no double space.
        while end < len(text) and text[end] in " \t":
            end += 1
        spans.append((position, end))
        position = end
    return spans


def correct(
    text: str,
    products_by_id: Mapping[str, PricedProduct],
    catalog_names: Mapping[str, str] | None = None,
    *,
    allowed: Iterable[Money] = (),
    brands: Iterable[str] = (),
) -> Correction:
    """The text with wrong prices replaced by real ones where the product is clear, other errors dropped."""
    allowed, brands = list(allowed), list(brands)
    errors = find_grounding_errors(text, products_by_id, catalog_names, allowed=allowed, brands=brands)
    if not errors:
        return Correction(text=text, errors=[])
    names = {pid: product.name for pid, product in products_by_id.items()}
    pieces: list[str] = []
    replaced = removed = 0
    for start, end in _sentences(text):
        sentence_errors = [error for error in errors if start <= error.start < end]
        if not sentence_errors:
            pieces.append(text[start:end])
            continue
        sentence = text[start:end]
        if any(error.kind == ErrorKind.PRODUCT for error in sentence_errors):
            removed += 1
            continue
        named = {pid for _, _, pid in _named_products(sentence, names, products_by_id, brands)}
        subject = next(iter(named)) if len(named) == 1 else None
        if subject is None and len(products_by_id) == 1:
            subject = next(iter(products_by_id))
        if subject is None:
            removed += 1
            continue
        product = products_by_id[subject]
        real = format_price(product.price, product.currency)
        for error in sorted(sentence_errors, key=lambda error: -error.start):
            offset = error.start - start
            sentence = sentence[:offset] + real + sentence[offset + len(error.text) :]
            replaced += 1
        pieces.append(sentence)
    fixed = re.sub(r"[ \t]+\n", "\n", "".join(pieces))
    fixed = re.sub(r"\n{3,}", "\n\n", fixed).strip()
    return Correction(text=fixed, errors=errors, replaced=replaced, removed_sentences=removed)
