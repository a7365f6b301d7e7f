"""LiveCatalog: only active products reach an engine, and brands are read from the index once a minute."""

from __future__ import annotations

import numpy as np

from talkshop.advisor.catalog import LiveCatalog, ProductsInMemory
from talkshop.catalog.model import ProductStatus
from talkshop.search.embeddings import MiniLMEmbedder
from talkshop.search.local_index import LocalSearchIndex
from talkshop.search.model import document_for
from talkshop.search.service import SearchService
from tests.unit.advisor_demo import products_by_id


class CountingIndex(LocalSearchIndex):
    def __init__(self, dimension: int) -> None:
        super().__init__(dimension)
        self.brand_reads = 0

    def brands(self) -> list[str]:
        self.brand_reads += 1
        return super().brands()


def test_brands_are_read_from_the_index_once_per_ttl() -> None:
    products = list(products_by_id().values())[:5]
    embedder = MiniLMEmbedder()
    index = CountingIndex(embedder.dimension)
    documents = [document for product in products if (document := document_for(product))]
    index.upsert(documents, np.zeros((len(documents), embedder.dimension), dtype=np.float32))
    clock = [100.0]
    catalog = LiveCatalog(
        SearchService(index, embedder),
        ProductsInMemory(products),
        brands_ttl_s=60,
        monotonic=lambda: clock[0],
    )
    first = catalog.brands()
    assert first == sorted({product.brand for product in products})
    clock[0] += 59
    assert catalog.brands() == first
    assert index.brand_reads == 1
    clock[0] += 2
    catalog.brands()
    assert index.brand_reads == 2


def test_only_active_products_are_returned_in_the_order_asked() -> None:
    products = list(products_by_id().values())[:3]
    draft = products[1].model_copy(update={"status": ProductStatus.DRAFT})
    lookup = ProductsInMemory([products[0], draft, products[2]])
    catalog = LiveCatalog(SearchService(LocalSearchIndex(384), MiniLMEmbedder()), lookup)
    found = catalog.products([products[2].id, draft.id, "no-such-product", products[0].id])
    assert list(found) == [products[2].id, products[0].id]
