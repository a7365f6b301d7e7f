"""The advisor's view of the shop: search cards from the index, full products from the table.

`LiveCatalog` is what runs on AWS and in the local runtime. The benchmark and unit tests use
`ProductsInMemory` with the same search service, so ranking code is exercised the same way.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence

from talkshop.catalog.model import Product, ProductStatus
from talkshop.search.model import SearchFilters
from talkshop.search.service import FoundProduct, SearchRequest, SearchService

ProductLookup = Callable[[Sequence[str]], dict[str, Product]]
# Brands change only when a creator adds one: every engine turn reads them, the index is asked once a minute.
BRANDS_TTL_S = 60.0


class LiveCatalog:
    def __init__(
        self,
        search: SearchService,
        lookup: ProductLookup,
        *,
        brands_ttl_s: float = BRANDS_TTL_S,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._search = search
        self._lookup = lookup
        self._brands_ttl_s = brands_ttl_s
        self._monotonic = monotonic
        self._brands: list[str] = []
        self._brands_read_at: float | None = None

    def search(
        self, query: str, *, filters: SearchFilters, needs: Sequence[str] = (), limit: int = 20
    ) -> list[FoundProduct]:
        request = SearchRequest(
            query=query[:2000] or "*", needs=list(needs)[:20], filters=filters, limit=limit
        )
        return self._search.search(request).products

    def products(self, product_ids: Sequence[str]) -> dict[str, Product]:
        wanted = list(dict.fromkeys(product_ids))
        if not wanted:
            return {}
        found = self._lookup(wanted)
        return {
            product_id: found[product_id]
            for product_id in wanted
            if product_id in found and found[product_id].status == ProductStatus.ACTIVE
        }

    def brands(self) -> list[str]:
        now = self._monotonic()
        if self._brands_read_at is None or now - self._brands_read_at > self._brands_ttl_s:
            self._brands = self._search.index.brands()
            self._brands_read_at = now
        return self._brands


class ProductsInMemory:
    """A product lookup over a fixed list (benchmarks, tests)."""

    def __init__(self, products: Iterable[Product]) -> None:
        self._products = {product.id: product for product in products}

    def __call__(self, product_ids: Sequence[str]) -> dict[str, Product]:
        return {
            product_id: self._products[product_id]
            for product_id in product_ids
            if product_id in self._products
        }
