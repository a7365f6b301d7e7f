"""The product as it appears in API bodies, import files and responses.

Field names are part of the public contract (API, import files, demo catalog): see docs/api.md.
Unknown fields are rejected so that a typo never silently drops data.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from talkshop.ontology.model import Identifier

# The ISO 4217 codes a shop is likely to price in; a code outside the list is almost always a typo.
SUPPORTED_CURRENCIES = frozenset(
    [
        "EUR",
        "USD",
        "GBP",
        "CHF",
        "SEK",
        "NOK",
        "DKK",
        "PLN",
        "CZK",
        "HUF",
        "RON",
        "BGN",
        "CAD",
        "AUD",
        "NZD",
        "JPY",
        "CNY",
        "HKD",
        "SGD",
        "INR",
        "BRL",
        "MXN",
        "ARS",
        "CLP",
        "COP",
        "ZAR",
        "AED",
        "SAR",
        "TRY",
        "ILS",
        "KRW",
        "TWD",
        "THB",
        "MYR",
        "IDR",
        "PHP",
    ]
)

# Currencies whose minor unit is not a hundredth (ISO 4217): prices are integers of that unit.
_MINOR_UNIT_DIGITS = {"JPY": 0, "KRW": 0, "CLP": 0}


def minor_unit_digits(currency: str) -> int:
    """How many decimal digits a currency's minor unit has: 2 for EUR (cents), 0 for JPY."""
    return _MINOR_UNIT_DIGITS.get(currency, 2)


ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Phrase = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
# NaN and infinities are valid Python floats but no JSON number: refuse them at the door.
AttributeValue = (
    Annotated[str, Field(max_length=1000)] | int | Annotated[float, Field(allow_inf_nan=False)] | bool
)


class ProductStatus(StrEnum):
    ACTIVE = "active"
    DRAFT = "draft"
    ARCHIVED = "archived"


class Review(BaseModel):
    model_config = ConfigDict(extra="forbid")

    author: ShortText
    stars: int = Field(ge=1, le=5)
    text: str = Field(max_length=2000)
    date: date


class Image(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: Annotated[str, StringConstraints(pattern=r"^(https://|/)\S+$", max_length=2000)]
    alt: str = Field(min_length=1, max_length=300)


class ProductFields(BaseModel):
    """Everything a creator writes about a product (the body of create and update)."""

    model_config = ConfigDict(extra="forbid")

    name: ShortText
    brand: ShortText
    category: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")]
    creator_id: Identifier
    description: str = Field(default="", max_length=10_000)
    price: int = Field(ge=0, le=100_000_000, description="Price in minor units (cents).")
    currency: str = Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code.")
    stock: int = Field(default=0, ge=0, le=10_000_000)
    rating: float | None = Field(default=None, ge=0, le=5)
    reviews: list[Review] = Field(default_factory=list, max_length=50)
    attributes: dict[Annotated[str, StringConstraints(min_length=1, max_length=64)], AttributeValue] = Field(
        default_factory=dict, max_length=64
    )
    images: list[Image] = Field(default_factory=list, max_length=20)
    status: ProductStatus = ProductStatus.ACTIVE
    ai_description: str = Field(default="", max_length=5000)
    ai_use_cases: list[Phrase] = Field(default_factory=list, max_length=30)
    ai_target_audience: list[Phrase] = Field(default_factory=list, max_length=30)
    ai_comparison_points: dict[ShortText, Phrase] = Field(default_factory=dict, max_length=30)
    ai_best_for: list[Phrase] = Field(default_factory=list, max_length=30)
    ai_avoid_when: list[Phrase] = Field(default_factory=list, max_length=30)
    ai_similar_products: list[Identifier] = Field(default_factory=list, max_length=30)
    ai_often_bought_with: list[Identifier] = Field(default_factory=list, max_length=30)
    ai_upgrade_from: list[Identifier] = Field(default_factory=list, max_length=30)
    ai_upgrade_to: list[Identifier] = Field(default_factory=list, max_length=30)
    ai_keywords: list[ShortText] = Field(default_factory=list, max_length=50)
    ai_tags: list[ShortText] = Field(default_factory=list, max_length=50)

    @field_validator("currency")
    @classmethod
    def _known_currency(cls, value: str) -> str:
        if value not in SUPPORTED_CURRENCIES:
            raise ValueError(f"unsupported currency {value!r}")
        return value

    def linked_product_ids(self) -> set[str]:
        return {
            *self.ai_similar_products,
            *self.ai_often_bought_with,
            *self.ai_upgrade_from,
            *self.ai_upgrade_to,
        }


class ProductInput(ProductFields):
    """A create, update or import body: the fields plus an optional id."""

    id: Identifier | None = None


class Product(ProductFields):
    """A stored product, as the API answers it."""

    id: Identifier
    version: int
    created_at: datetime
    updated_at: datetime


class ProductPage(BaseModel):
    items: list[Product]
    next_cursor: str | None = None
