"""The demo catalog as the advisor's ShopCatalog, searched by keywords only (no embedding model needed)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from talkshop.advisor.catalog import LiveCatalog, ProductsInMemory
from talkshop.catalog.model import Product
from talkshop.search.demo_vectors import demo_products
from talkshop.search.local_index import LocalSearchIndex
from talkshop.search.model import document_for
from talkshop.search.service import SearchService

DIMENSION = 384
Vector = npt.NDArray[np.float32]


class KeywordOnlyEmbedder:
    """Zero vectors: no semantic hit passes the similarity floor, so search is BM25 alone."""

    @property
    def dimension(self) -> int:
        return DIMENSION

    def embed_query(self, text: str) -> Vector:
        return np.zeros(DIMENSION, dtype=np.float32)

    def embed_batch(self, texts: Sequence[str]) -> Vector:
        return np.zeros((len(texts), DIMENSION), dtype=np.float32)


def demo_catalog(products: Sequence[Product] | None = None) -> LiveCatalog:
    products = list(products if products is not None else demo_products())
    documents = [document for product in products if (document := document_for(product)) is not None]
    index = LocalSearchIndex(DIMENSION)
    index.upsert(documents, np.zeros((len(documents), DIMENSION), dtype=np.float32))
    return LiveCatalog(SearchService(index, KeywordOnlyEmbedder()), ProductsInMemory(products))
