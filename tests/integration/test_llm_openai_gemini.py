"""LLM mode through the real openai and google-genai SDKs against fake servers on 127.0.0.1: OpenAI,
an OpenAI-compatible server (Ollama, vLLM) at its own base URL, and Gemini function calling."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from talkshop.llm.advisor import LlmAdvisor
from talkshop.llm.calls import ModelCaller
from talkshop.llm.config import LlmConfig, load_llm_config
from talkshop.llm.factory import provider_for
from tests.fakes.demo_catalog import demo_catalog
from tests.fakes.llm_servers import API_KEY, Fail, FakeGemini, FakeLlmServer, FakeOpenAI, Say
from tests.fakes.turns import FixedFallback, new_session, run_turn

CATALOG = demo_catalog()
SEARCH = ("search_products", {"query": "beginner padel racket", "category": "padel-rackets", "max_price": 50})
ANSWER = ["I'd pick the ", "Smash Academy Starter Racket (€45.00). ", "It is made for beginners."]


@pytest.fixture
def openai_server() -> Iterator[FakeOpenAI]:
    fake = FakeOpenAI().start()
    yield fake
    fake.stop()


@pytest.fixture
def local_server() -> Iterator[FakeOpenAI]:
    fake = FakeOpenAI(api_key="not-needed").start()
    yield fake
    fake.stop()


@pytest.fixture
def gemini_server() -> Iterator[FakeGemini]:
    fake = FakeGemini().start()
    yield fake
    fake.stop()


def advisor(config: LlmConfig) -> LlmAdvisor:
    caller = ModelCaller(provider_for(config), config, sleep=lambda _: None)
    return LlmAdvisor(caller, config, CATALOG, FixedFallback())


def configured(environ: dict[str, str]) -> LlmConfig:
    config = load_llm_config(environ)
    assert config is not None
    return config


def check_flow(server: FakeLlmServer, config: LlmConfig, engine: str) -> None:
    server.script = [Say(tool_calls=[SEARCH], input_tokens=800), Say(text=ANSWER, output_tokens=50)]
    deltas, reply = run_turn(advisor(config), new_session(), "I'm a beginner, budget €50")
    assert len(deltas) >= 2
    assert reply.text == "I'd pick the Smash Academy Starter Racket (€45.00). It is made for beginners."
    assert reply.shown_products == ["smash-academy-starter"]
    assert reply.engine == engine
    assert (reply.usage.input_tokens, reply.usage.output_tokens) == (1800, 150)
    assert len(server.received) == 2


def test_openai_chat_completions_with_tool_calls_and_usage(openai_server: FakeOpenAI) -> None:
    config = configured(
        {"OPENAI_API_KEY": API_KEY, "OPENAI_BASE_URL": f"http://127.0.0.1:{openai_server.port}/v1"}
    )
    check_flow(openai_server, config, "openai:gpt-4.1-mini")
    # gpt-4.1-mini at $0.40 / $1.60 per million tokens.
    first, second = openai_server.received
    assert first.body["max_completion_tokens"] == config.max_output_tokens
    assert first.body["tools"][0]["function"]["name"] == "search_products"
    call = second.body["messages"][2]["tool_calls"][0]
    answer = second.body["messages"][3]
    assert json.loads(call["function"]["arguments"]) == SEARCH[1]
    assert answer["role"] == "tool"
    assert answer["tool_call_id"] == call["id"]
    assert "smash-academy-starter" in answer["content"]


def test_an_openai_compatible_server_at_its_base_url(local_server: FakeOpenAI) -> None:
    config = configured(
        {
            "TALKSHOP_LLM_PROVIDER": "openai_compatible",
            "TALKSHOP_LLM_BASE_URL": f"http://127.0.0.1:{local_server.port}/v1",
            "TALKSHOP_LLM_SMALL_MODEL": "qwen3:8b",
            "TALKSHOP_LLM_PRICES": '{"qwen3:8b": {"input": 0, "output": 0}}',
        }
    )
    check_flow(local_server, config, "openai_compatible:qwen3:8b")
    assert local_server.received[0].body["max_tokens"] == config.max_output_tokens
    assert local_server.received[0].model == "qwen3:8b"


def test_openai_rate_limit_is_retried(openai_server: FakeOpenAI) -> None:
    config = configured(
        {"OPENAI_API_KEY": API_KEY, "OPENAI_BASE_URL": f"http://127.0.0.1:{openai_server.port}/v1"}
    )
    openai_server.script = [Fail(429, "rate_limit_exceeded"), Say(text=["Hello there."])]
    _, reply = run_turn(advisor(config), new_session(), "hi")
    assert reply.text == "Hello there."
    assert len(openai_server.received) == 2


def test_gemini_function_calling_and_streaming(gemini_server: FakeGemini) -> None:
    config = configured(
        {"GEMINI_API_KEY": API_KEY, "TALKSHOP_LLM_BASE_URL": f"http://127.0.0.1:{gemini_server.port}/"}
    )
    check_flow(gemini_server, config, "gemini:gemini-2.5-flash")
    first, second = gemini_server.received
    assert first.path.endswith("/models/gemini-2.5-flash:streamGenerateContent?alt=sse")
    declarations = first.body["tools"][0]["functionDeclarations"]
    assert {declaration["name"] for declaration in declarations} >= {"search_products", "get_reviews"}
    call = second.body["contents"][1]["parts"][0]["functionCall"]
    response = second.body["contents"][2]["parts"][0]["functionResponse"]
    assert call["name"] == response["name"] == "search_products"
    assert call["args"] == SEARCH[1]
    ids = [product["id"] for product in response["response"]["result"]["products"]]
    assert "smash-academy-starter" in ids


def test_gemini_overloaded_large_model_falls_back_to_the_small_one(gemini_server: FakeGemini) -> None:
    config = configured(
        {"GOOGLE_API_KEY": API_KEY, "TALKSHOP_LLM_BASE_URL": f"http://127.0.0.1:{gemini_server.port}/"}
    )
    gemini_server.script = [Fail(503, "The model is overloaded."), Say(text=["Both are good for control."])]
    _, reply = run_turn(advisor(config), new_session(), "is it worth it compared to the other one?")
    assert [request.model for request in gemini_server.received] == ["gemini-2.5-pro", "gemini-2.5-flash"]
    assert reply.engine == "gemini:gemini-2.5-flash"
