"""The embedding providers through the real SDKs, against fake OpenAI and Bedrock servers on 127.0.0.1.

Each fake speaks its service's wire format and checks every request it gets (path, auth, body); a request
it cannot accept is answered 400 with the reason, so the test fails with that reason. Scripted failures
(429 throttling, 500) exercise the SDKs' own retries. Nothing leaves the machine.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, cast
from urllib.parse import unquote

import boto3
import numpy as np
import numpy.typing as npt
import openai
import pytest

from talkshop.api import context
from talkshop.search.embeddings import MiniLMEmbedder
from talkshop.search.providers import (
    DEFAULT_OPENAI_MODEL,
    DEFAULT_TITAN_MODEL,
    MAX_RETRIES,
    MAX_TEXT_BYTES,
    BedrockRuntime,
    BedrockTitanEmbedder,
    EmbeddingUnavailable,
    OpenAIEmbedder,
    bedrock_config,
    embedder_from_settings,
)
from talkshop.settings import Settings, get_settings

F32 = npt.NDArray[np.float32]


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict[str, str]  # names lower-cased
    body: bytes


@dataclass(frozen=True)
class Reply:
    status: int
    payload: Any
    headers: dict[str, str] = field(default_factory=dict)


def raw_vector(text: str, dimension: int) -> F32:
    """The fakes' embedding of a text: deterministic, not unit length."""
    seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")
    values: F32 = (3.0 * np.random.default_rng(seed).standard_normal(dimension)).astype(np.float32)
    return values


def unit_vector(text: str, dimension: int) -> F32:
    vector = raw_vector(text, dimension)
    unit: F32 = vector / np.linalg.norm(vector)
    return unit


# --- the fake servers -----------------------------------------------------------------------------------


class FakeOpenAI:
    """POST /v1/embeddings as OpenAI answers it: data[{embedding, index}] (reversed here), usage."""

    def __init__(self, model: str = DEFAULT_OPENAI_MODEL, dimensions: int | None = 8) -> None:
        self.model = model
        self.dimensions = dimensions  # expected in the request; None: must be absent
        self.answer_dimension = dimensions or 1536
        self.honour_base64 = True  # False: a compatible server that always answers float lists
        self.failures: list[int] = []  # statuses answered before any success
        self.requests: list[Request] = []
        self.lock = threading.Lock()

    def handle(self, request: Request) -> Reply:
        with self.lock:
            self.requests.append(request)
            failure = self.failures.pop(0) if self.failures else None
        if request.method != "POST" or request.path != "/v1/embeddings":
            return self._error(404, f"no route {request.method} {request.path}")
        if request.headers.get("authorization") != "Bearer test":
            return self._error(401, "Incorrect API key provided", "invalid_api_key")
        if failure is not None:
            kind = "rate_limit_exceeded" if failure == 429 else "server_error"
            return self._error(failure, f"scripted {failure}", kind, {"retry-after-ms": "1"})
        body = json.loads(request.body)
        problem = self._problem(body)
        if problem:
            return self._error(400, problem, "invalid_request_error")
        data = [
            {"object": "embedding", "index": index, "embedding": self._encode(text, body)}
            for index, text in enumerate(body["input"])
        ]
        tokens = sum(len(text.split()) for text in body["input"])
        return Reply(
            200,
            {
                "object": "list",
                "data": data[::-1],  # out of order: the client must sort by index
                "model": self.model,
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            },
        )

    def _problem(self, body: dict[str, Any]) -> str | None:
        inputs = body.get("input")
        if body.get("model") != self.model:
            return f"model {body.get('model')!r}, expected {self.model!r}"
        if not isinstance(inputs, list) or not 1 <= len(inputs) <= 2048:
            return "input must be a list of 1 to 2048 strings"
        if not all(isinstance(text, str) and text for text in inputs):
            return "every input must be a non-empty string"
        if self.dimensions is None and "dimensions" in body:
            return "dimensions sent, none expected"
        if self.dimensions is not None and body.get("dimensions") != self.dimensions:
            return f"dimensions {body.get('dimensions')!r}, expected {self.dimensions}"
        if body.get("encoding_format", "float") not in ("float", "base64"):
            return f"encoding_format {body['encoding_format']!r}"
        return None

    def _encode(self, text: str, body: dict[str, Any]) -> str | list[float]:
        vector = raw_vector(text, self.answer_dimension)
        if self.honour_base64 and body.get("encoding_format") == "base64":
            return base64.b64encode(vector.astype("<f4").tobytes()).decode()
        return [float(value) for value in vector]

    @staticmethod
    def _error(
        status: int, message: str, code: str = "error", headers: dict[str, str] | None = None
    ) -> Reply:
        error = {"message": message, "type": code, "param": None, "code": code}
        return Reply(status, {"error": error}, headers or {})


class FakeBedrock:
    """POST /model/{modelId}/invoke as bedrock-runtime answers it for Titan text embeddings v2."""

    def __init__(self, model: str = DEFAULT_TITAN_MODEL, dimension: int = 256) -> None:
        self.model = model
        self.dimension = dimension
        self.throttles = 0  # requests answered 429 ThrottlingException before any success
        self.refused: set[str] = set()  # texts answered 400 ValidationException
        self.delays: dict[str, float] = {}  # seconds to wait before answering a text
        self.requests: list[Request] = []
        self.lock = threading.Lock()

    def handle(self, request: Request) -> Reply:
        with self.lock:
            self.requests.append(request)
            throttle = self.throttles > 0
            self.throttles -= int(throttle)
        problem = self._problem(request)
        if problem:
            return self._error(400, "ValidationException", problem)
        if throttle:
            return self._error(
                429, "ThrottlingException", "Too many requests, please wait before trying again."
            )
        body = json.loads(request.body)
        text = body["inputText"]
        if text in self.refused:
            return self._error(400, "ValidationException", "scripted refusal")
        time.sleep(self.delays.get(text, 0.0))
        vector = unit_vector(text, self.dimension)  # normalize: true
        return Reply(200, {"embedding": [float(v) for v in vector], "inputTextTokenCount": len(text.split())})

    def _problem(self, request: Request) -> str | None:
        expected_path = f"/model/{self.model}/invoke"
        if request.method != "POST" or unquote(request.path) != expected_path:
            return f"{request.method} {unquote(request.path)}, expected POST {expected_path}"
        authorization = request.headers.get("authorization", "")
        if not authorization.startswith("AWS4-HMAC-SHA256 Credential=x/") or (
            "/us-east-1/bedrock/aws4_request" not in authorization
        ):
            return f"not signed for bedrock in us-east-1: {authorization!r}"
        if request.headers.get("content-type") != "application/json":
            return f"content-type {request.headers.get('content-type')!r}"
        if request.headers.get("accept") != "application/json":
            return f"accept {request.headers.get('accept')!r}"
        body = json.loads(request.body)
        if set(body) != {"inputText", "dimensions", "normalize"}:
            return f"unexpected body keys {sorted(body)}"
        if not isinstance(body["inputText"], str) or not body["inputText"]:
            return "inputText must be a non-empty string"
        if body["dimensions"] != self.dimension or body["normalize"] is not True:
            return f"dimensions {body['dimensions']!r} normalize {body['normalize']!r}"
        return None

    @staticmethod
    def _error(status: int, error_type: str, message: str) -> Reply:
        return Reply(
            status,
            {"message": message},
            {"x-amzn-ErrorType": f"{error_type}:http://internal.amazon.com/coral/com.amazon.bedrock/"},
        )


def _handler(handle: Callable[[Request], Reply]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as both SDKs expect
        disable_nagle_algorithm = True

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {name.lower(): value for name, value in self.headers.items()}
            reply = handle(Request(self.command, self.path, headers, body))
            data = json.dumps(reply.payload).encode()
            self.send_response(reply.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

    return Handler


@pytest.fixture
def serve() -> Iterator[Callable[[Callable[[Request], Reply]], int]]:
    """Starts fake servers on ephemeral ports of 127.0.0.1; answers the port; stops them afterwards."""
    started: list[tuple[ThreadingHTTPServer, threading.Thread]] = []

    def start(handle: Callable[[Request], Reply]) -> int:
        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(handle))
        server.block_on_close = False  # keep-alive connections of a client still open must not block
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
        thread.start()
        started.append((server, thread))
        return int(server.server_address[1])

    yield start
    for server, thread in started:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def fake_openai(serve: Callable[[Callable[[Request], Reply]], int]) -> tuple[FakeOpenAI, str]:
    fake = FakeOpenAI()
    return fake, f"http://127.0.0.1:{serve(fake.handle)}/v1"


@pytest.fixture
def openai_client(fake_openai: tuple[FakeOpenAI, str]) -> Iterator[openai.OpenAI]:
    client = openai.OpenAI(base_url=fake_openai[1], api_key="test", max_retries=2, timeout=5)
    yield client
    client.close()


@pytest.fixture
def fake_bedrock(serve: Callable[[Callable[[Request], Reply]], int]) -> tuple[FakeBedrock, str]:
    fake = FakeBedrock()
    return fake, f"http://127.0.0.1:{serve(fake.handle)}"


@pytest.fixture
def bedrock_client(fake_bedrock: tuple[FakeBedrock, str]) -> BedrockRuntime:
    client = boto3.client(
        "bedrock-runtime",
        endpoint_url=fake_bedrock[1],
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
        config=bedrock_config(),  # the retries and timeouts the application uses
    )
    return cast("BedrockRuntime", client)


def _inputs(fake: FakeOpenAI) -> list[list[str]]:
    return [json.loads(request.body)["input"] for request in fake.requests]


def _assert_rows(vectors: F32, texts: list[str], dimension: int) -> None:
    assert vectors.dtype == np.float32
    assert vectors.shape == (len(texts), dimension)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-6)
    for row, text in enumerate(texts):
        np.testing.assert_allclose(vectors[row], unit_vector(text, dimension), rtol=1e-5, atol=1e-6)


# --- OpenAI ---------------------------------------------------------------------------------------------


def test_openai_batches_restore_order_and_normalise(
    fake_openai: tuple[FakeOpenAI, str], openai_client: openai.OpenAI
) -> None:
    fake, _ = fake_openai
    embedder = OpenAIEmbedder(openai_client, DEFAULT_OPENAI_MODEL, 8, max_inputs=3)
    texts = [f"padel racket number {i}" for i in range(7)]

    vectors = embedder.embed_batch(texts)

    assert embedder.dimension == 8
    _assert_rows(vectors, texts, 8)  # the fake answers each batch reversed and 3x too long
    assert _inputs(fake) == [texts[0:3], texts[3:6], texts[6:7]]
    first = json.loads(fake.requests[0].body)
    assert first["model"] == "text-embedding-3-small"
    assert first["dimensions"] == 8
    assert embedder.embed_batch([]).shape == (0, 8)
    assert len(fake.requests) == 3


def test_openai_request_size_is_bounded_in_bytes(
    fake_openai: tuple[FakeOpenAI, str], openai_client: openai.OpenAI
) -> None:
    fake, _ = fake_openai
    embedder = OpenAIEmbedder(openai_client, DEFAULT_OPENAI_MODEL, 8, max_request_bytes=10)
    texts = ["aaaa", "bbbb", "cccc", "a much longer text", "dddd"]

    _assert_rows(embedder.embed_batch(texts), texts, 8)

    assert _inputs(fake) == [["aaaa", "bbbb"], ["cccc"], ["a much longer text"], ["dddd"]]


def test_openai_query_clips_long_texts_and_refuses_empty_ones(
    fake_openai: tuple[FakeOpenAI, str], openai_client: openai.OpenAI
) -> None:
    fake, _ = fake_openai
    embedder = OpenAIEmbedder(openai_client, DEFAULT_OPENAI_MODEL, 8)
    long_text = "é" * MAX_TEXT_BYTES  # two bytes each

    vector = embedder.embed_query(long_text)

    sent = _inputs(fake)[0][0]
    assert sent == "é" * (MAX_TEXT_BYTES // 2)
    _assert_rows(vector[None, :], [sent], 8)
    with pytest.raises(ValueError, match="empty"):
        embedder.embed_query("  ")
    with pytest.raises(TypeError, match="embed_query"):
        embedder.embed_batch("a string, not a list")
    assert len(fake.requests) == 1


def test_openai_default_dimension_sends_none_and_reads_float_lists(
    fake_openai: tuple[FakeOpenAI, str], openai_client: openai.OpenAI
) -> None:
    fake, _ = fake_openai
    fake.dimensions, fake.answer_dimension, fake.honour_base64 = None, 1536, False
    embedder = OpenAIEmbedder(openai_client)

    vector = embedder.embed_query("a quiet espresso grinder")

    assert embedder.dimension == 1536
    _assert_rows(vector[None, :], ["a quiet espresso grinder"], 1536)
    assert "dimensions" not in json.loads(fake.requests[0].body)


def test_openai_vectors_of_another_length_are_refused(
    fake_openai: tuple[FakeOpenAI, str], openai_client: openai.OpenAI
) -> None:
    fake, _ = fake_openai
    fake.answer_dimension = 4  # the server ignores the requested 8
    embedder = OpenAIEmbedder(openai_client, DEFAULT_OPENAI_MODEL, 8)

    with pytest.raises(EmbeddingUnavailable, match=r"shape \(4,\), expected \(8,\).*DIMENSION"):
        embedder.embed_query("padel")


def test_openai_rate_limit_is_retried_by_the_sdk(
    fake_openai: tuple[FakeOpenAI, str], openai_client: openai.OpenAI
) -> None:
    fake, _ = fake_openai
    fake.failures = [429]
    embedder = OpenAIEmbedder(openai_client, DEFAULT_OPENAI_MODEL, 8)

    _assert_rows(embedder.embed_batch(["one", "two"]), ["one", "two"], 8)

    assert len(fake.requests) == 2
    assert fake.requests[1].headers["x-stainless-retry-count"] == "1"
    assert fake.requests[0].body == fake.requests[1].body


def test_openai_persistent_server_error_is_clear(fake_openai: tuple[FakeOpenAI, str]) -> None:
    fake, base_url = fake_openai
    fake.failures = [500] * 10
    with openai.OpenAI(base_url=base_url, api_key="test", max_retries=1, timeout=5) as client:
        embedder = OpenAIEmbedder(client, DEFAULT_OPENAI_MODEL, 8)
        with pytest.raises(
            EmbeddingUnavailable, match=r"OpenAI embeddings \(text-embedding-3-small\) failed"
        ):
            embedder.embed_query("padel")
        assert len(fake.requests) == 2  # the first attempt and one retry


def test_openai_persistent_server_error_keeps_the_cause(fake_openai: tuple[FakeOpenAI, str]) -> None:
    fake, base_url = fake_openai
    fake.failures = [500] * 10
    client = openai.OpenAI(base_url=base_url, api_key="test", max_retries=0, timeout=5)
    with client, pytest.raises(EmbeddingUnavailable) as raised:
        OpenAIEmbedder(client, DEFAULT_OPENAI_MODEL, 8).embed_batch(["padel"])
    assert isinstance(raised.value.__cause__, openai.InternalServerError)
    assert raised.value.__cause__.status_code == 500
    assert raised.value.status == 503


def test_openai_wrong_key_is_not_retried(fake_openai: tuple[FakeOpenAI, str]) -> None:
    fake, base_url = fake_openai
    client = openai.OpenAI(base_url=base_url, api_key="wrong", max_retries=2, timeout=5)
    with client, pytest.raises(EmbeddingUnavailable, match="Incorrect API key") as raised:
        OpenAIEmbedder(client, DEFAULT_OPENAI_MODEL, 8).embed_query("padel")
    assert isinstance(raised.value.__cause__, openai.AuthenticationError)
    assert len(fake.requests) == 1


# --- Bedrock Titan --------------------------------------------------------------------------------------


def test_titan_batch_keeps_order_under_concurrency(
    fake_bedrock: tuple[FakeBedrock, str], bedrock_client: BedrockRuntime
) -> None:
    fake, _ = fake_bedrock
    texts = [f"coffee grinder {i}" for i in range(12)]
    fake.delays = dict.fromkeys(texts[:4], 0.03)  # the first texts answer last
    embedder = BedrockTitanEmbedder(bedrock_client, DEFAULT_TITAN_MODEL, 256, concurrency=4)

    vectors = embedder.embed_batch(texts)

    _assert_rows(vectors, texts, 256)
    assert embedder.dimension == 256
    assert sorted(json.loads(request.body)["inputText"] for request in fake.requests) == sorted(texts)
    assert all(unquote(r.path) == "/model/amazon.titan-embed-text-v2:0/invoke" for r in fake.requests)
    assert {"dimensions": 256, "normalize": True}.items() <= json.loads(fake.requests[0].body).items()
    assert embedder.embed_batch([]).shape == (0, 256)


def test_titan_query_with_configured_model_and_dimension(
    serve: Callable[[Callable[[Request], Reply]], int],
) -> None:
    fake = FakeBedrock(model="amazon.titan-embed-text-v2:custom", dimension=1024)
    client = boto3.client(
        "bedrock-runtime",
        endpoint_url=f"http://127.0.0.1:{serve(fake.handle)}",
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
    )
    embedder = BedrockTitanEmbedder(cast("BedrockRuntime", client), "amazon.titan-embed-text-v2:custom")

    vector = embedder.embed_query("a control racket for beginners")

    _assert_rows(vector[None, :], ["a control racket for beginners"], 1024)
    assert len(fake.requests) == 1
    assert "%3A" in fake.requests[0].path  # the model id is one path segment, its colon escaped


def test_titan_throttling_is_retried_by_botocore(
    fake_bedrock: tuple[FakeBedrock, str], bedrock_client: BedrockRuntime
) -> None:
    fake, _ = fake_bedrock
    fake.throttles = 1
    embedder = BedrockTitanEmbedder(bedrock_client, DEFAULT_TITAN_MODEL, 256)

    _assert_rows(embedder.embed_query("padel")[None, :], ["padel"], 256)

    assert len(fake.requests) == 2
    assert fake.requests[0].body == fake.requests[1].body


def test_titan_refusal_fails_the_batch_clearly(
    fake_bedrock: tuple[FakeBedrock, str], bedrock_client: BedrockRuntime
) -> None:
    fake, _ = fake_bedrock
    fake.refused = {"bad"}
    embedder = BedrockTitanEmbedder(bedrock_client, DEFAULT_TITAN_MODEL, 256, concurrency=2)

    with pytest.raises(EmbeddingUnavailable, match="ValidationException") as raised:
        embedder.embed_batch(["good", "bad", "fine"])

    assert "Bedrock amazon.titan-embed-text-v2:0 failed" in str(raised.value)
    assert sum(json.loads(request.body)["inputText"] == "bad" for request in fake.requests) == 1  # no retry


def test_titan_dimension_must_be_one_titan_offers(bedrock_client: BedrockRuntime) -> None:
    with pytest.raises(ValueError, match="256, 512 or 1024"):
        BedrockTitanEmbedder(bedrock_client, DEFAULT_TITAN_MODEL, 384)


# --- configuration --------------------------------------------------------------------------------------


def _settings(**embeddings: Any) -> Settings:
    return Settings(table_name="t", admin_key=None, admin_key_secret_arn=None, **embeddings)


def test_default_settings_pick_the_built_in_model() -> None:
    embedder = embedder_from_settings(_settings())
    assert isinstance(embedder, MiniLMEmbedder)
    assert embedder.dimension == 384
    with pytest.raises(ValueError, match="384 dimensions, not 1536"):
        embedder_from_settings(_settings(embeddings_dimension=1536))
    with pytest.raises(ValueError, match="TALKSHOP_EMBEDDINGS_MODEL does not apply"):
        embedder_from_settings(_settings(embeddings_model="text-embedding-3-small"))


def test_openai_settings_build_a_working_client(
    fake_openai: tuple[FakeOpenAI, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    fake, base_url = fake_openai
    monkeypatch.setenv("OPENAI_API_KEY", "test")
    embedder = embedder_from_settings(
        _settings(embeddings="openai", embeddings_dimension=8, openai_base_url=base_url)
    )

    assert isinstance(embedder, OpenAIEmbedder)
    assert (embedder.model, embedder.dimension) == ("text-embedding-3-small", 8)
    _assert_rows(embedder.embed_query("padel")[None, :], ["padel"], 8)
    assert len(fake.requests) == 1
    client = embedder._client
    assert (client.max_retries, client.timeout) == (MAX_RETRIES, 20.0)


def test_openai_settings_without_a_key_fail_clearly(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OPENAI_API_KEY", "OPENAI_ADMIN_KEY"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(openai.OpenAIError, match="OPENAI_API_KEY"):
        embedder_from_settings(_settings(embeddings="openai"))


def test_bedrock_settings_build_a_retrying_client(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    embedder = embedder_from_settings(_settings(embeddings="bedrock", embeddings_model="my.titan"))

    assert isinstance(embedder, BedrockTitanEmbedder)
    assert (embedder.model, embedder.dimension) == ("my.titan", 1024)
    config = cast("Any", embedder._client).meta.config
    assert config.retries == {"mode": "standard", "total_max_attempts": 1 + MAX_RETRIES}
    with pytest.raises(ValueError, match="256, 512 or 1024"):
        embedder_from_settings(_settings(embeddings="bedrock", embeddings_dimension=1536))


def test_unknown_provider_is_refused() -> None:
    with pytest.raises(ValueError, match=r"TALKSHOP_EMBEDDINGS='cohere' .*minilm, openai, bedrock"):
        embedder_from_settings(_settings(embeddings="cohere"))


def test_settings_and_context_read_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("TALKSHOP_EMBEDDINGS", " Bedrock ")
    monkeypatch.setenv("TALKSHOP_EMBEDDINGS_MODEL", "amazon.titan-embed-text-v2:0")
    monkeypatch.setenv("TALKSHOP_EMBEDDINGS_DIMENSION", "512")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    context.reset()
    try:
        settings = get_settings()
        assert (settings.embeddings, settings.embeddings_model, settings.embeddings_dimension) == (
            "bedrock",
            "amazon.titan-embed-text-v2:0",
            512,
        )
        assert settings.openai_base_url == "http://127.0.0.1:9/v1"
        embedder = context.embedder()
        assert isinstance(embedder, BedrockTitanEmbedder)
        assert embedder.dimension == 512

        monkeypatch.setenv("TALKSHOP_EMBEDDINGS_DIMENSION", "large")
        get_settings.cache_clear()
        with pytest.raises(ValueError, match="TALKSHOP_EMBEDDINGS_DIMENSION must be a whole number"):
            get_settings()
    finally:
        context.reset()


def test_unset_environment_means_the_built_in_model(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("TALKSHOP_EMBEDDINGS", "TALKSHOP_EMBEDDINGS_MODEL", "TALKSHOP_EMBEDDINGS_DIMENSION"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    try:
        settings = get_settings()
        assert (settings.embeddings, settings.embeddings_model, settings.embeddings_dimension) == (
            "minilm",
            None,
            None,
        )
    finally:
        get_settings.cache_clear()
