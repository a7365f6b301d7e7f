"""Hybrid product search: keyword (BM25) and semantic (embeddings) results fused, filtered, boosted.

Answers are built from the index documents, which carry the product's price, stock and rating as the
table last reported them through its stream (synchronously in the local runtime, within about a
second on AWS). They are data, never model prose; checkout re-reads the table before it charges.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from talkshop.catalog.model import minor_unit_digits
from talkshop.search.model import Embedder, ScoredId, SearchDocument, SearchFilters, SearchIndex
from talkshop.search.understanding import QueryUnderstanding, understand
from talkshop.text import fold, words

MAX_QUERY_CHARACTERS = 2000
RRF_K = 10  # rank 1 scores 1/11; the usual 60 ranked worse on bench/search.py's dev split
# A semantic neighbour less similar than this is not a match at all (MiniLM puts unrelated texts
# around 0.0-0.15), so a query about laptops finds nothing in a padel shop instead of "something".
MIN_SIMILARITY = 0.2
CURRENCY_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£"}


class Fusion(StrEnum):
    RECIPROCAL_RANK = "rrf"
    SCORE_BLEND = "blend"


class SearchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    query: str = Field(min_length=1, max_length=MAX_QUERY_CHARACTERS)
    needs: list[str] = Field(default_factory=list, max_length=20)
    filters: SearchFilters = Field(default_factory=SearchFilters)
    limit: int = Field(default=5, ge=1, le=50)


class FoundProduct(BaseModel):
    """A product card: enough to show and compare it; GET /api/products/{id} has everything."""

    id: str
    name: str
    brand: str
    category: str
    creator_id: str
    description: str
    price: int
    currency: str
    stock: int
    rating: float | None
    relevance: float = Field(description="Fused relevance after boosts; comparable within one answer")
    matched_needs: list[str] = Field(description="The shopper's needs this product's data speaks to")


class SearchResponse(BaseModel):
    products: list[FoundProduct]
    explanation: str
    query_understanding: dict[str, Any]


def reciprocal_rank_fusion(*rankings: Sequence[ScoredId]) -> dict[str, float]:
    fused: dict[str, float] = {}
    for ranking in rankings:
        for rank, hit in enumerate(ranking, start=1):
            fused[hit.id] = fused.get(hit.id, 0.0) + 1.0 / (RRF_K + rank)
    return fused


def score_blend(
    keyword: Sequence[ScoredId], semantic: Sequence[ScoredId], keyword_weight: float = 0.3
) -> dict[str, float]:
    """BM25 scores scaled to [0, 1] by the best one, cosine similarities as they are, then weighted."""
    fused: dict[str, float] = {}
    best = max((hit.score for hit in keyword), default=0.0) or 1.0
    for hit in keyword:
        fused[hit.id] = keyword_weight * hit.score / best
    for hit in semantic:
        fused[hit.id] = fused.get(hit.id, 0.0) + (1 - keyword_weight) * max(hit.score, 0.0)
    return fused


def quality_boost(document: SearchDocument) -> float:
    """Relevance first, then rating and availability: a gentle multiplier, never a reordering force."""
    rating = document.rating if document.rating is not None else 3.5
    return (1.0 + 0.04 * (rating - 4.0)) * (1.0 if document.stock > 0 else 0.85)


def matched_needs(document: SearchDocument, needs: Sequence[str]) -> list[str]:
    text = set(words(" ".join([document.name, document.ai_text, *document.tags])))
    return [need for need in needs if set(words(need)) <= text]


def format_price(amount: int, currency: str) -> str:
    digits = minor_unit_digits(currency)
    value = f"{amount / 10**digits:.{digits}f}"
    symbol = CURRENCY_SYMBOLS.get(currency)
    return f"{symbol}{value}" if symbol else f"{value} {currency}"


def merge_filters(explicit: SearchFilters, understood: SearchFilters) -> SearchFilters:
    """Filters sent by the caller win over those read from the query text."""
    merged = understood.model_dump()
    merged.update(explicit.model_dump(exclude_unset=True, exclude_defaults=True))
    return SearchFilters.model_validate(merged)


def describe_filters(filters: SearchFilters, currency: str) -> list[str]:
    described = []
    if filters.min_price is not None and filters.max_price is not None:
        low, high = format_price(filters.min_price, currency), format_price(filters.max_price, currency)
        described.append(f"price {low} to {high}")
    elif filters.max_price is not None:
        described.append(f"price up to {format_price(filters.max_price, currency)}")
    elif filters.min_price is not None:
        described.append(f"price from {format_price(filters.min_price, currency)}")
    if filters.in_stock:
        described.append("in stock")
    if filters.min_rating is not None:
        described.append(f"rated {filters.min_rating:g}+")
    for name in ("category", "brand", "creator_id"):
        value = getattr(filters, name)
        if value:
            described.append(f"{name.replace('_id', '')} {value}")
    if filters.tags:
        described.append("tags " + ", ".join(filters.tags))
    return described


class SearchService:
    def __init__(self, index: SearchIndex, embedder: Embedder, fusion: Fusion = Fusion.SCORE_BLEND) -> None:
        self.index = index
        self.embedder = embedder
        self.fusion = fusion

    def search(self, request: SearchRequest) -> SearchResponse:
        understanding = understand(request.query)
        filters = merge_filters(request.filters, understanding.filters)
        needs = list(dict.fromkeys([*(fold(need).strip() for need in request.needs), *understanding.needs]))
        keyword_text = " ".join([understanding.keyword_text, *needs]).strip()
        semantic_text = " ".join([understanding.semantic_text or understanding.original, *needs]).strip()
        candidates = max(50, 10 * request.limit)
        keyword = self.index.keyword_search(keyword_text, filters, candidates) if keyword_text else []
        semantic = (
            [
                hit
                for hit in self.index.vector_search(
                    self.embedder.embed_query(semantic_text), filters, candidates
                )
                if hit.score >= MIN_SIMILARITY
            ]
            if semantic_text
            else []
        )
        fused = (
            reciprocal_rank_fusion(keyword, semantic)
            if self.fusion == Fusion.RECIPROCAL_RANK
            else score_blend(keyword, semantic)
        )
        documents = self.index.documents(list(fused))
        ranked = sorted(
            (
                (round(fused[document.id] * quality_boost(document), 6), document)
                for document in documents.values()
            ),
            key=lambda scored: (-scored[0], scored[1].id),
        )[: request.limit]
        found = [
            FoundProduct(
                **document.model_dump(include=set(FoundProduct.model_fields)),
                relevance=relevance,
                matched_needs=matched_needs(document, needs),
            )
            for relevance, document in ranked
        ]
        return SearchResponse(
            products=found,
            explanation=self._explain(request, understanding, filters, needs, found),
            query_understanding={
                "keyword_text": keyword_text,
                "semantic_text": semantic_text,
                "needs": needs,
                "filters": filters.model_dump(exclude_defaults=True),
                "corrections": understanding.corrections,
                "expansions": understanding.expansions,
                "currency": understanding.currency,
                "fusion": self.fusion.value,
                "candidates": {"keyword": len(keyword), "semantic": len(semantic)},
            },
        )

    def _explain(
        self,
        request: SearchRequest,
        understanding: QueryUnderstanding,
        filters: SearchFilters,
        needs: list[str],
        found: list[FoundProduct],
    ) -> str:
        parts = [
            f"Found {len(found)} product{'s' if len(found) != 1 else ''} for “{request.query.strip()[:200]}”."
            if found
            else f"No product matches “{request.query.strip()[:200]}”."
        ]
        if needs:
            parts.append("Needs: " + ", ".join(needs) + ".")
        described = describe_filters(filters, understanding.currency)
        if described:
            parts.append("Filters: " + ", ".join(described) + ".")
        if understanding.corrections:
            parts.append(
                "Read "
                + ", ".join(f"“{typo}” as “{fixed}”" for typo, fixed in understanding.corrections.items())
                + "."
            )
        return " ".join(parts)
