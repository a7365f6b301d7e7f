"""Embedding providers chosen by configuration: the built-in model, OpenAI, or Amazon Bedrock Titan.

Environment variables (read by :func:`talkshop.settings.get_settings`):

``TALKSHOP_EMBEDDINGS``
    ``minilm`` (default): the built-in all-MiniLM-L6-v2, 384 dimensions, in process, no network.
    ``openai``: the OpenAI embeddings API, or any OpenAI-compatible server (the ``openai`` package).
    ``bedrock``: Amazon Titan text embeddings v2 through Bedrock (boto3 ``bedrock-runtime``).
``TALKSHOP_EMBEDDINGS_MODEL``
    The provider's model id; defaults ``text-embedding-3-small`` (OpenAI) and
    ``amazon.titan-embed-text-v2:0`` (Bedrock). Not accepted with ``minilm``.
``TALKSHOP_EMBEDDINGS_DIMENSION``
    Length of the vectors. OpenAI: sent as the ``dimensions`` parameter when set (text-embedding-3 models
    shorten their vectors); unset, nothing is sent and 1536 (text-embedding-3-small's size) is expected,
    so set it for a model of another native size. Bedrock Titan v2: 256, 512 or 1024 (default 1024).
    With ``minilm`` only 384 is accepted.
``OPENAI_API_KEY``, ``OPENAI_BASE_URL``
    Read for ``openai``: the key (the SDK reads it), and the base URL of an OpenAI-compatible server
    (default https://api.openai.com/v1). A local server that needs no key still wants a dummy one.
``AWS_REGION`` / ``AWS_DEFAULT_REGION`` and the usual AWS credential chain
    For ``bedrock``: the Region must offer the model.

Every provider returns float32, L2-normalised rows, whatever the service sent. A text longer than
``MAX_TEXT_BYTES`` of UTF-8 is cut there (both services refuse inputs over 8,192 tokens; the built-in
model reads only its first 256 wordpieces anyway), and an empty text is refused. Failures that remain
after the SDK's own retries, and malformed answers, raise :class:`EmbeddingUnavailable` (HTTP 503).

Vectors of different providers, models or dimensions are not comparable: changing any of these
settings means re-embedding the whole catalog into an index of the new dimension.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Final, Protocol, cast

import boto3
import numpy as np
import numpy.typing as npt
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from talkshop.errors import TalkshopError
from talkshop.settings import (
    BEDROCK_EMBEDDINGS,
    EMBEDDINGS_DIMENSION_VARIABLE,
    EMBEDDINGS_MODEL_VARIABLE,
    EMBEDDINGS_VARIABLE,
    MINILM_EMBEDDINGS,
    OPENAI_EMBEDDINGS,
    Settings,
)

if TYPE_CHECKING:
    from openai import Omit, OpenAI

    from talkshop.search.model import Embedder

F32 = npt.NDArray[np.float32]

DEFAULT_OPENAI_MODEL: Final = "text-embedding-3-small"
DEFAULT_OPENAI_DIMENSION: Final = 1536
DEFAULT_TITAN_MODEL: Final = "amazon.titan-embed-text-v2:0"
DEFAULT_TITAN_DIMENSION: Final = 1024
TITAN_DIMENSIONS: Final = (256, 512, 1024)

MAX_TEXT_BYTES: Final = 8192  # a byte-level BPE token is at least one byte: this stays under 8,192 tokens
OPENAI_MAX_INPUTS: Final = 2048  # inputs per request, the API's limit
OPENAI_MAX_REQUEST_BYTES: Final = 300_000  # the API's 300,000 tokens per request, bounded the same way
TIMEOUT_S: Final = 20.0
MAX_RETRIES: Final = 3  # retries after the first attempt (OpenAI SDK); botocore counts 1 + this
BEDROCK_CONCURRENCY: Final = 8


class EmbeddingUnavailable(TalkshopError):
    """The embedding provider failed after its retries, or answered something unusable."""

    status = 503
    code = "embeddings_unavailable"


class BedrockRuntime(Protocol):
    """The one call of a boto3 ``bedrock-runtime`` client used here."""

    def invoke_model(self, *, modelId: str, body: bytes, contentType: str, accept: str) -> Mapping[str, Any]:
        """Invoke a model on one request body."""


def _clip(text: str) -> str:
    if not isinstance(text, str):
        raise TypeError(f"texts to embed must be str, got {type(text).__name__}")
    if not text.strip():
        raise ValueError("cannot embed an empty text")
    data = text.encode()
    return text if len(data) <= MAX_TEXT_BYTES else data[:MAX_TEXT_BYTES].decode(errors="ignore")


def _texts(texts: Sequence[str]) -> list[str]:
    if isinstance(texts, str):
        raise TypeError("embed_batch takes a sequence of texts; use embed_query for one text")
    return [_clip(text) for text in texts]


def _unit(values: object, dimension: int, source: str) -> F32:
    """One row as float32 of unit length, or EmbeddingUnavailable if it is not a usable vector."""
    try:
        vector = np.asarray(values, dtype=np.float32)
    except (TypeError, ValueError):
        raise EmbeddingUnavailable(f"{source} answered a vector that is not a list of numbers") from None
    if vector.shape != (dimension,):
        raise EmbeddingUnavailable(
            f"{source} answered a vector of shape {vector.shape}, expected ({dimension},): "
            f"check {EMBEDDINGS_DIMENSION_VARIABLE}"
        )
    norm = float(np.linalg.norm(vector))
    if not np.isfinite(norm) or norm == 0.0:
        raise EmbeddingUnavailable(f"{source} answered a zero or non-finite vector")
    unit: F32 = vector / np.float32(norm)
    return unit


def _chunks(texts: list[str], max_items: int, max_bytes: int) -> Iterator[tuple[int, list[str]]]:
    """Consecutive (start, texts) requests of at most max_items texts and max_bytes of UTF-8 together."""
    start, size = 0, 0
    for position, text in enumerate(texts):
        length = len(text.encode())
        if position > start and (position - start == max_items or size + length > max_bytes):
            yield start, texts[start:position]
            start, size = position, 0
        size += length
    if start < len(texts):
        yield start, texts[start:]


class OpenAIEmbedder:
    """Embeddings from the OpenAI API (or a compatible server) through the official SDK.

    Retries (429, 5xx, timeouts) and the timeout are the client's: see :func:`openai_client`.
    """

    def __init__(
        self,
        client: OpenAI,
        model: str = DEFAULT_OPENAI_MODEL,
        dimension: int | None = None,
        *,
        max_inputs: int = OPENAI_MAX_INPUTS,
        max_request_bytes: int = OPENAI_MAX_REQUEST_BYTES,
    ) -> None:
        from openai import omit

        if dimension is not None and dimension < 1:
            raise ValueError(f"{EMBEDDINGS_DIMENSION_VARIABLE} must be positive, got {dimension}")
        if not 1 <= max_inputs <= OPENAI_MAX_INPUTS:
            raise ValueError(f"max_inputs must be between 1 and {OPENAI_MAX_INPUTS}")
        self._client = client
        self.model = model
        self._dimension = dimension or DEFAULT_OPENAI_DIMENSION
        self._dimensions: int | Omit = omit if dimension is None else dimension
        self._max_inputs = max_inputs
        self._max_request_bytes = max_request_bytes

    @property
    def dimension(self) -> int:
        return self._dimension

    def embed_query(self, text: str) -> F32:
        vector: F32 = self._embed([_clip(text)])[0]
        return vector

    def embed_batch(self, texts: Sequence[str]) -> F32:
        clipped = _texts(texts)
        output = np.empty((len(clipped), self._dimension), dtype=np.float32)
        for start, chunk in _chunks(clipped, self._max_inputs, self._max_request_bytes):
            output[start : start + len(chunk)] = self._embed(chunk)
        return output

    def _embed(self, texts: list[str]) -> F32:
        import openai

        source = f"OpenAI embeddings ({self.model})"
        try:
            response = self._client.embeddings.create(
                model=self.model, input=texts, dimensions=self._dimensions
            )
        except (
            openai.OpenAIError,
            ValueError,
        ) as error:  # ValueError: the SDK's "No embedding data received"
            raise EmbeddingUnavailable(f"{source} failed: {error}") from error
        indices = sorted(item.index for item in response.data)
        if indices != list(range(len(texts))):
            raise EmbeddingUnavailable(f"{source} answered indices {indices} for {len(texts)} inputs")
        output = np.empty((len(texts), self._dimension), dtype=np.float32)
        for item in response.data:
            output[item.index] = _unit(item.embedding, self._dimension, source)
        return output


class BedrockTitanEmbedder:
    """Amazon Titan text embeddings v2 through Bedrock: one ``invoke_model`` per text, a few at a time.

    Retries (throttling, 5xx) and timeouts are the client's: see :func:`bedrock_config`.
    """

    def __init__(
        self,
        client: BedrockRuntime,
        model: str = DEFAULT_TITAN_MODEL,
        dimension: int = DEFAULT_TITAN_DIMENSION,
        *,
        concurrency: int = BEDROCK_CONCURRENCY,
    ) -> None:
        if dimension not in TITAN_DIMENSIONS:
            raise ValueError(
                f"{EMBEDDINGS_DIMENSION_VARIABLE} for Titan v2 is 256, 512 or 1024, not {dimension}"
            )
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self._client = client
        self.model = model
        self._dimension = dimension
        self._concurrency = concurrency

    @property
    def dimension(self) -> int:
        return self._dimension

    def embed_query(self, text: str) -> F32:
        return self._embed(_clip(text))

    def embed_batch(self, texts: Sequence[str]) -> F32:
        clipped = _texts(texts)
        output = np.empty((len(clipped), self._dimension), dtype=np.float32)
        if not clipped:
            return output
        with ThreadPoolExecutor(min(self._concurrency, len(clipped)), "titan-embed") as pool:
            futures: list[Future[F32]] = [pool.submit(self._embed, text) for text in clipped]
            try:
                for row, future in enumerate(futures):
                    output[row] = future.result()
            except BaseException:
                for future in futures:  # one text failed for good: do not send the rest
                    future.cancel()
                raise
        return output

    def _embed(self, text: str) -> F32:
        source = f"Bedrock {self.model}"
        body = json.dumps({"inputText": text, "dimensions": self._dimension, "normalize": True})
        try:
            response = self._client.invoke_model(
                modelId=self.model,
                body=body.encode(),
                contentType="application/json",
                accept="application/json",
            )
            payload = json.loads(response["body"].read())
        except (BotoCoreError, ClientError) as error:
            raise EmbeddingUnavailable(f"{source} failed: {error}") from error
        except ValueError as error:
            raise EmbeddingUnavailable(f"{source} answered a body that is not JSON") from error
        if not isinstance(payload, dict) or "embedding" not in payload:
            raise EmbeddingUnavailable(f"{source} answered no embedding")
        return _unit(payload["embedding"], self._dimension, source)


def openai_client(base_url: str | None = None) -> OpenAI:
    """An OpenAI client with this module's timeout and retries; key from OPENAI_API_KEY."""
    from openai import OpenAI

    return OpenAI(base_url=base_url, timeout=TIMEOUT_S, max_retries=MAX_RETRIES)


def bedrock_config(concurrency: int = BEDROCK_CONCURRENCY) -> Config:
    """botocore settings for Titan: standard retries (throttling included), timeouts, a pool per thread."""
    return Config(
        retries={"mode": "standard", "total_max_attempts": 1 + MAX_RETRIES},
        connect_timeout=5,
        read_timeout=TIMEOUT_S,
        max_pool_connections=max(concurrency, 1),
    )


def embedder_from_settings(settings: Settings) -> Embedder:
    """The embedder the settings name (see the module docstring); ValueError for a setting that is wrong."""
    provider, model, dimension = settings.embeddings, settings.embeddings_model, settings.embeddings_dimension
    if provider == MINILM_EMBEDDINGS:
        from talkshop.search.embeddings import DIMENSION, MiniLMEmbedder

        if model is not None:
            raise ValueError(f"{EMBEDDINGS_MODEL_VARIABLE} does not apply to {EMBEDDINGS_VARIABLE}=minilm")
        if dimension not in (None, DIMENSION):
            raise ValueError(f"the built-in model's vectors have {DIMENSION} dimensions, not {dimension}")
        return MiniLMEmbedder()
    if provider == OPENAI_EMBEDDINGS:
        return OpenAIEmbedder(
            openai_client(settings.openai_base_url), model or DEFAULT_OPENAI_MODEL, dimension
        )
    if provider == BEDROCK_EMBEDDINGS:
        client = cast(
            "BedrockRuntime", boto3.client("bedrock-runtime", config=bedrock_config(BEDROCK_CONCURRENCY))
        )
        return BedrockTitanEmbedder(
            client, model or DEFAULT_TITAN_MODEL, dimension or DEFAULT_TITAN_DIMENSION
        )
    choices = ", ".join((MINILM_EMBEDDINGS, OPENAI_EMBEDDINGS, BEDROCK_EMBEDDINGS))
    raise ValueError(
        f"{EMBEDDINGS_VARIABLE}={provider!r} is not a known embedding provider: use one of {choices}"
    )
