"""The search contracts: what is indexed for a product, the filters a search takes, and the index port.

Two index adapters implement :class:`SearchIndex`: the in-process index of the local runtime and
OpenSearch k-NN on AWS. Both answer keyword (BM25) and vector queries under the same filters; the
hybrid fusion, boosts and explanations live above them, in one place, so both behave alike.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from pydantic import BaseModel, ConfigDict, Field

from talkshop.catalog.model import Product, ProductStatus

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    Vector = npt.NDArray[np.float32]

# Product attributes worth a sentence in the text that is embedded (the rest are noise to the model).
KEY_ATTRIBUTES = (
    "level",
    "shape",
    "play_style",
    "weight_g",
    "balance",
    "core",
    "face",
    "sweet_spot",
    "sole",
    "format",
    "pressure",
    "feel",
    "material",
    "roast",
    "origin",
    "burr_type",
)


class SearchFilters(BaseModel):
    """Hard constraints: a product that fails one is never returned."""

    model_config = ConfigDict(extra="forbid")

    min_price: int | None = Field(default=None, ge=0, description="Minor units, inclusive")
    max_price: int | None = Field(default=None, ge=0, description="Minor units, inclusive")
    in_stock: bool | None = None
    min_rating: float | None = Field(default=None, ge=0, le=5)
    category: str | None = Field(default=None, max_length=64)
    brand: str | None = Field(default=None, max_length=200)
    creator_id: str | None = Field(default=None, max_length=128)
    tags: list[str] = Field(default_factory=list, max_length=20)


class SearchDocument(BaseModel):
    """What the index holds for one active product: filterable fields and text fields."""

    id: str
    name: str
    brand: str
    category: str
    creator_id: str
    price: int
    currency: str
    stock: int
    rating: float | None
    tags: list[str]
    description: str
    ai_text: str
    embedding_text: str
    text_hash: str

    @property
    def keyword_fields(self) -> dict[str, str]:
        """The text fields BM25 searches, by name (the weights live with each index adapter)."""
        return {
            "name": self.name,
            "brand": self.brand,
            "category": self.category.replace("-", " "),
            "description": self.description,
            "ai_text": self.ai_text,
        }


def embedding_text(product: Product) -> str:
    """The text a product is embedded from: who it is for and what it is, not reviews or prices."""
    attributes = [
        f"{name.replace('_', ' ')}: {product.attributes[name]}"
        for name in KEY_ATTRIBUTES
        if name in product.attributes
    ]
    parts = [
        product.name,
        f"by {product.brand}",
        product.category.replace("-", " "),
        product.ai_description or product.description,
        "Use cases: " + ", ".join(product.ai_use_cases) if product.ai_use_cases else "",
        "For: " + ", ".join(product.ai_target_audience) if product.ai_target_audience else "",
        "Best for: " + ", ".join(product.ai_best_for) if product.ai_best_for else "",
        "Keywords: " + ", ".join(product.ai_keywords) if product.ai_keywords else "",
        "; ".join(attributes),
    ]
    return ". ".join(part for part in parts if part)


def document_for(product: Product) -> SearchDocument | None:
    """The index document of a product, or None when it must not be findable (not active)."""
    if product.status != ProductStatus.ACTIVE:
        return None
    text = embedding_text(product)
    ai_text = " ".join(
        [
            product.ai_description,
            *product.ai_use_cases,
            *product.ai_target_audience,
            *product.ai_best_for,
            *product.ai_keywords,
            *product.ai_tags,
            *(str(value) for value in product.attributes.values()),
        ]
    )
    return SearchDocument(
        id=product.id,
        name=product.name,
        brand=product.brand,
        category=product.category,
        creator_id=product.creator_id,
        price=product.price,
        currency=product.currency,
        stock=product.stock,
        rating=product.rating,
        tags=sorted({tag.casefold() for tag in [*product.ai_tags, *product.ai_keywords]}),
        description=product.description,
        ai_text=ai_text,
        embedding_text=text,
        text_hash=hashlib.sha256(text.encode()).hexdigest(),
    )


@dataclass(frozen=True)
class ScoredId:
    id: str
    score: float


class SearchIndex(Protocol):
    """The port both index adapters implement."""

    def upsert(self, documents: Sequence[SearchDocument], vectors: Vector) -> None:
        """Add or replace documents; row i of vectors is the embedding of documents[i]."""

    def delete(self, ids: Sequence[str]) -> None:
        """Remove documents; unknown ids are ignored."""

    def cached_vectors(self, text_hashes: Mapping[str, str]) -> dict[str, Vector]:
        """The stored vectors of the documents whose embedding text is unchanged (same hash)."""

    def documents(self, ids: Sequence[str]) -> dict[str, SearchDocument]:
        """The stored documents of these ids (those the index has)."""

    def keyword_search(self, text: str, filters: SearchFilters, k: int) -> list[ScoredId]:
        """The best k documents by BM25 over the keyword fields, among those passing the filters."""

    def vector_search(self, vector: Vector, filters: SearchFilters, k: int) -> list[ScoredId]:
        """The nearest k documents by cosine similarity, among those passing the filters."""

    def count(self) -> int:
        """How many documents the index holds."""

    def brands(self) -> list[str]:
        """Every brand of the indexed products, sorted (the advisor reads brand preferences by them)."""


class Embedder(Protocol):
    """Turns texts into L2-normalised vectors of one dimension (the built-in model or a provider)."""

    @property
    def dimension(self) -> int:
        """Length of every vector."""

    def embed_query(self, text: str) -> Vector:
        """One text, for a request: latency matters."""

    def embed_batch(self, texts: Sequence[str]) -> Vector:
        """Many texts, for indexing: throughput matters. Row i embeds texts[i]."""
