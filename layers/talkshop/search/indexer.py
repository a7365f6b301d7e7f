"""Keeps a search index in step with the catalog, from the table's change stream.

The same logic runs in the indexer Lambda (DynamoDB Streams -> OpenSearch) and in the local runtime
(moto's stream -> the in-process index). A product is embedded only when the text it is embedded
from changed: its hash is compared with the one stored beside its vector.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from talkshop.catalog.model import Product
from talkshop.catalog.service import product_from_stored
from talkshop.data.repository import EntityChange
from talkshop.ontology.model import Dimension, ThingType
from talkshop.search.model import Embedder, SearchDocument, SearchIndex, document_for

if TYPE_CHECKING:
    from talkshop.search.model import Vector


@dataclass
class IndexingReport:
    indexed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    embedded: int = 0
    reused: int = 0


def is_product(change: EntityChange) -> bool:
    return change.ref.dimension == Dimension.THING and change.ref.type == ThingType.PRODUCT


class SearchIndexer:
    def __init__(
        self, index: SearchIndex, embedder: Embedder, known_vectors: Mapping[str, Vector] | None = None
    ) -> None:
        """known_vectors: vectors by embedding-text hash, consulted before embedding (the demo's)."""
        self.index = index
        self.embedder = embedder
        self.known_vectors = known_vectors or {}

    def apply(self, changes: Iterable[EntityChange]) -> IndexingReport:
        """Index created and changed products, remove deleted and no longer active ones."""
        products: list[Product] = []
        removed: list[str] = []
        for change in changes:
            if not is_product(change):
                continue
            if change.entity is None:
                removed.append(change.ref.id)
            else:
                products.append(product_from_stored(change.entity))
        report = self.index_products(products)
        if removed:
            self.index.delete(removed)
            report.removed += removed
        return report

    def index_products(self, products: Sequence[Product]) -> IndexingReport:
        report = IndexingReport()
        documents: list[SearchDocument] = []
        for product in products:
            document = document_for(product)
            if document is None:
                report.removed.append(product.id)
            else:
                documents.append(document)
        if report.removed:
            self.index.delete(report.removed)
        if not documents:
            return report
        cached = self.index.cached_vectors({document.id: document.text_hash for document in documents})
        for document in documents:
            known = self.known_vectors.get(document.text_hash)
            if document.id not in cached and known is not None:
                cached[document.id] = known
        fresh = [document for document in documents if document.id not in cached]
        vectors = (
            self.embedder.embed_batch([document.embedding_text for document in fresh]) if fresh else None
        )
        by_id = dict(cached)
        if vectors is not None:
            by_id.update({document.id: vectors[row] for row, document in enumerate(fresh)})
        self.index.upsert(documents, np.stack([by_id[document.id] for document in documents]))
        report.indexed = [document.id for document in documents]
        report.embedded, report.reused = len(fresh), len(cached)
        return report
