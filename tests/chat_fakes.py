"""A small engine and catalog for chat tests that are about the chat service, not the advisor."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime

from talkshop.advisor.intents import Intent, Language
from talkshop.advisor.model import (
    AdvisorReply,
    Comparison,
    ComparisonRow,
    RecommendationType,
    RecommendedProduct,
    ReplyEvent,
    TextDelta,
    TurnContext,
    Usage,
)
from talkshop.advisor.preferences import refine
from talkshop.catalog.model import Product
from talkshop.local.runtime import demo_catalog_path
from talkshop.search.model import SearchFilters
from talkshop.search.service import FoundProduct


def demo_products() -> list[Product]:
    stamp = datetime(2026, 1, 1, tzinfo=UTC)
    return [
        Product.model_validate({**raw, "version": 1, "created_at": stamp, "updated_at": stamp})
        for raw in json.loads(demo_catalog_path().read_text())
    ]


class FixedCatalog:
    """The ShopCatalog port over a list of products (only its `products` is used by the service)."""

    def __init__(self, products: Sequence[Product]) -> None:
        self._products = {product.id: product for product in products}

    def search(
        self, query: str, *, filters: SearchFilters, needs: Sequence[str] = (), limit: int = 20
    ) -> list[FoundProduct]:
        return []

    def products(self, product_ids: Sequence[str]) -> dict[str, Product]:
        return {
            product_id: self._products[product_id]
            for product_id in product_ids
            if product_id in self._products
        }

    def brands(self) -> list[str]:
        return sorted({product.brand for product in self._products.values()})


class EchoAdvisor:
    """Recommends every word of the message that looks like a product id (the first as primary, the
    others as alternatives), whether the catalog has it or not, as a careless model might; asks a
    question when the message names none; compares when it names two or more. Streams word by word."""

    def __init__(self) -> None:
        self.turns: list[TurnContext] = []

    def respond(self, turn: TurnContext) -> Iterator[ReplyEvent]:
        self.turns.append(turn)
        named = [word for word in turn.message.split() if "-" in word]
        text = f"Here is what I found: {', '.join(named)}." if named else "What will you use it for?"
        for word in text.split(" "):
            yield TextDelta(text=word + " ")
        yield AdvisorReply(
            text=text,
            language=Language.EN,
            intent=Intent.DISCOVER if named else Intent.VAGUE,
            preferences=refine(turn.session.preferences, turn.message).preferences,
            needs=["control"],
            recommendations=[
                RecommendedProduct(
                    product_id=product_id,
                    type=RecommendationType.PRIMARY if rank == 0 else RecommendationType.ALTERNATIVE,
                    reasons=[f"{product_id} matches what you asked"],
                    confidence=0.8,
                )
                for rank, product_id in enumerate(named)
            ],
            shown_products=named,
            mentioned_products=named,
            viewed_products=named[:1],
            comparison=Comparison(
                product_ids=named,
                rows=[ComparisonRow(point="weight", values=dict.fromkeys(named, "?"))],
                recommendation="the first",
            )
            if len(named) > 1
            else None,
            question=None if named else "What will you use it for?",
            engine="echo",
            usage=Usage(input_tokens=10, output_tokens=5, cost_usd=0.001, model="echo"),
        )
