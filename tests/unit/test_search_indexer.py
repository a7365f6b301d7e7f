"""The search indexer: stream records -> entity changes -> index documents, embedding only what changed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest
from boto3.dynamodb.types import TypeSerializer

from talkshop.auth import ADMIN
from talkshop.catalog.creators import CreatorService
from talkshop.catalog.model import ProductInput
from talkshop.catalog.service import CatalogService, product_ref
from talkshop.data.repository import EntityChange, Repository, entity_changes
from talkshop.search.indexer import SearchIndexer
from talkshop.search.local_index import LocalSearchIndex
from talkshop.search.model import SearchFilters, document_for
from talkshop.text import words

DIMENSION = 32


class CountingEmbedder:
    """A deterministic bag-of-words embedder that counts what it embeds."""

    dimension = DIMENSION

    def __init__(self) -> None:
        self.embedded: list[str] = []

    def embed_query(self, text: str) -> np.ndarray:
        vector = np.zeros(DIMENSION, dtype=np.float32)
        for word in words(text):
            vector[sum(map(ord, word)) % DIMENSION] += 1.0
        norm = np.linalg.norm(vector)
        return vector / norm if norm else vector

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        self.embedded += list(texts)
        return np.stack([self.embed_query(text) for text in texts]) if texts else np.zeros((0, DIMENSION))


def racket(product_id: str, **overrides: Any) -> ProductInput:
    values: dict[str, Any] = {
        "id": product_id,
        "name": f"Racket {product_id}",
        "brand": "Vantaro",
        "category": "padel-rackets",
        "creator_id": "padelnest",
        "price": 8000,
        "currency": "EUR",
        "stock": 2,
        "ai_description": "A forgiving racket for beginners.",
        "ai_keywords": ["beginner-friendly"],
    }
    values.update(overrides)
    return ProductInput.model_validate(values)


@pytest.fixture
def catalog(repository: Repository) -> CatalogService:
    CreatorService(repository).add("PadelNest", "padelnest")
    return CatalogService(repository)


@pytest.fixture
def embedder() -> CountingEmbedder:
    return CountingEmbedder()


@pytest.fixture
def index() -> LocalSearchIndex:
    return LocalSearchIndex(dimension=DIMENSION)


def stream_record(event: str, item: dict[str, Any], old: dict[str, Any] | None = None) -> dict[str, Any]:
    serializer = TypeSerializer()
    typed = {name: serializer.serialize(value) for name, value in item.items()}
    record: dict[str, Any] = {
        "eventName": event,
        "dynamodb": {"Keys": {"PK": typed["PK"], "SK": typed["SK"]}, "SequenceNumber": "1"},
    }
    if event != "REMOVE":
        record["dynamodb"]["NewImage"] = typed
    return record


def change_of(repository: Repository, product_id: str) -> EntityChange:
    return EntityChange(product_ref(product_id), repository.get(product_ref(product_id)))


def test_stream_records_become_entity_changes(repository: Repository, catalog: CatalogService) -> None:
    catalog.create_product(racket("r1"), ADMIN)
    stored = repository.get(product_ref("r1"))
    assert stored is not None
    edge = {"PK": stored.item["PK"], "SK": "CONN#owned_by#PERSON#creator#padelnest"}
    records = [
        stream_record("INSERT", stored.item),
        stream_record("INSERT", edge),
        stream_record("MODIFY", stored.item),
        stream_record("REMOVE", {"PK": "THING#product#gone", "SK": "#ENTITY"}),
    ]
    changes = entity_changes(records)
    assert [(change.ref.id, change.entity is not None) for change in changes] == [
        ("r1", True),
        ("gone", False),
    ]
    assert changes[0].entity is not None
    assert changes[0].entity.data["price"] == 8000


def test_indexing_embeds_only_changed_texts(
    repository: Repository, catalog: CatalogService, index: LocalSearchIndex, embedder: CountingEmbedder
) -> None:
    indexer = SearchIndexer(index, embedder)
    for product_id in ("r1", "r2"):
        catalog.create_product(racket(product_id), ADMIN)
    report = indexer.apply([change_of(repository, "r1"), change_of(repository, "r2")])
    assert (sorted(report.indexed), report.embedded, report.reused) == (["r1", "r2"], 2, 0)

    # A price change does not change the embedded text: the stored vector is reused.
    catalog.replace_product("r1", racket("r1", price=6000), ADMIN, None)
    report = indexer.apply([change_of(repository, "r1")])
    assert (report.embedded, report.reused) == (0, 1)
    assert [hit.id for hit in index.keyword_search("racket", SearchFilters(max_price=7000), 5)] == ["r1"]

    # A new description does.
    catalog.replace_product("r1", racket("r1", ai_description="A stiff diamond for smashes."), ADMIN, None)
    report = indexer.apply([change_of(repository, "r1")])
    assert (report.embedded, report.reused) == (1, 0)
    assert "A stiff diamond for smashes." in embedder.embedded[-1]


def test_drafts_and_deletions_leave_the_index(
    repository: Repository, catalog: CatalogService, index: LocalSearchIndex, embedder: CountingEmbedder
) -> None:
    indexer = SearchIndexer(index, embedder)
    catalog.create_product(racket("r1"), ADMIN)
    catalog.create_product(racket("r2"), ADMIN)
    indexer.apply([change_of(repository, "r1"), change_of(repository, "r2")])
    catalog.replace_product("r1", racket("r1", status="draft"), ADMIN, None)
    catalog.delete_product("r2", ADMIN, None)
    report = indexer.apply([change_of(repository, "r1"), change_of(repository, "r2")])
    assert sorted(report.removed) == ["r1", "r2"]
    assert index.count() == 0


def test_other_entities_are_ignored(
    repository: Repository, index: LocalSearchIndex, embedder: CountingEmbedder
) -> None:
    CreatorService(repository).add("Someone", "someone")
    creator = repository.get(CreatorService(repository).get("someone").ref)  # type: ignore[union-attr]
    assert creator is not None
    report = SearchIndexer(index, embedder).apply([EntityChange(creator.ref, creator)])
    assert report.indexed == report.removed == []
    assert embedder.embedded == []


def test_documents_carry_the_embedding_text_and_its_hash(catalog: CatalogService) -> None:
    product = catalog.create_product(
        racket("r1", attributes={"weight_g": 345, "shape": "round", "colour": "red"}), ADMIN
    )
    document = document_for(product)
    assert document is not None
    assert "Racket r1" in document.embedding_text
    assert "weight g: 345" in document.embedding_text
    assert "shape: round" in document.embedding_text
    assert "colour" not in document.embedding_text  # not a key attribute
    assert document.text_hash == document_for(product.model_copy(update={"price": 1, "stock": 0})).text_hash  # type: ignore[union-attr]
