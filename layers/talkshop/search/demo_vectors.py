"""Embeddings of the demo catalog, shipped beside it so that a first `talkshop local` is quick.

Embedding the 91 demo products takes several seconds on two cores; these vectors are keyed by the
hash of each product's embedding text, so an edited demo product is simply embedded again, and
tests/unit/test_demo_vectors.py fails when the file no longer matches the catalog. Regenerate it
with `make demo-vectors`.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from talkshop.catalog.model import Product, ProductInput
from talkshop.search.model import document_for

if TYPE_CHECKING:
    from talkshop.search.model import Embedder, Vector

FILE_NAME = "catalog-vectors.npz"


def demo_vectors_path() -> Path:
    return Path(str(resources.files("talkshop") / "demo" / FILE_NAME))


def demo_products() -> list[Product]:
    stamp = datetime(2026, 1, 1, tzinfo=UTC)
    items = json.loads((resources.files("talkshop") / "demo" / "catalog.json").read_text())
    return [
        Product.model_validate(
            {
                **ProductInput.model_validate(item).model_dump(),
                "version": 1,
                "created_at": stamp,
                "updated_at": stamp,
            }
        )
        for item in items
    ]


def load_demo_vectors() -> dict[str, Vector]:
    """Vectors by embedding-text hash; empty if the file is missing or unreadable."""
    try:
        with np.load(demo_vectors_path()) as saved:
            return dict(zip((str(text_hash) for text_hash in saved["hashes"]), saved["vectors"], strict=True))
    except (OSError, ValueError, KeyError):
        return {}


def write_demo_vectors(embedder: Embedder, path: Path) -> int:
    documents = [document for product in demo_products() if (document := document_for(product)) is not None]
    vectors = embedder.embed_batch([document.embedding_text for document in documents])
    np.savez_compressed(
        path, hashes=np.array([document.text_hash for document in documents]), vectors=vectors
    )
    return len(documents)


if __name__ == "__main__":
    from talkshop.search.embeddings import MiniLMEmbedder

    target = Path(sys.argv[1]) if len(sys.argv) > 1 else demo_vectors_path()
    print(f"Embedded {write_demo_vectors(MiniLMEmbedder(), target)} demo products into {target}.")
