"""LLM configuration from the environment, the retry policy, history compression and the reply cache."""

from __future__ import annotations

import json
from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from talkshop.advisor.intents import Intent, Language
from talkshop.advisor.model import AdvisorReply, ChatMessage, Role, ShopperMemory, TurnContext
from talkshop.advisor.preferences import Budget, Preferences
from talkshop.llm.cache import ReplyCache, cache_key
from talkshop.llm.calls import ModelCaller, backoff_delay
from talkshop.llm.config import LlmConfigError, ProviderName, load_llm_config
from talkshop.llm.history import model_messages, split_history, summary
from talkshop.llm.messages import FailureKind, ModelRequest, ProviderError, StreamEvent, TokenCount
from talkshop.llm.prompting import system_prompt
from tests.fakes.turns import MOMENT, new_session


@pytest.mark.parametrize(
    ("environ", "provider"),
    [
        ({}, None),
        ({"ANTHROPIC_API_KEY": "a", "OPENAI_API_KEY": "o", "GEMINI_API_KEY": "g"}, ProviderName.ANTHROPIC),
        ({"OPENAI_API_KEY": "o", "GEMINI_API_KEY": "g"}, ProviderName.OPENAI),
        ({"GOOGLE_API_KEY": "g"}, ProviderName.GEMINI),
        ({"ANTHROPIC_API_KEY": "a", "TALKSHOP_LLM_PROVIDER": "none"}, None),
        (
            {"ANTHROPIC_API_KEY": "a", "OPENAI_API_KEY": "o", "TALKSHOP_LLM_PROVIDER": "openai"},
            ProviderName.OPENAI,
        ),
    ],
)
def test_auto_picks_the_provider_by_which_key_is_set(environ: dict[str, str], provider: ProviderName) -> None:
    config = load_llm_config(environ)
    assert (config.provider if config else None) == provider


def test_models_and_prices_default_to_the_data_file_and_can_be_overridden() -> None:
    config = load_llm_config({"ANTHROPIC_API_KEY": "a"})
    assert config is not None
    assert (config.small_model, config.large_model) == ("claude-haiku-4-5", "claude-sonnet-4-6")
    assert (
        config.cost_usd("claude-haiku-4-5", TokenCount(input_tokens=1_000_000, output_tokens=100_000)) == 1.5
    )
    custom = load_llm_config(
        {
            "ANTHROPIC_API_KEY": "a",
            "TALKSHOP_LLM_SMALL_MODEL": "claude-haiku-5-5",
            "TALKSHOP_LLM_PRICES": json.dumps({"claude-haiku-5-5": {"input": 2, "output": 10}}),
            "TALKSHOP_LLM_COST_CAP_USD": "0.2",
        }
    )
    assert custom is not None
    assert custom.small_model == "claude-haiku-5-5"
    assert custom.cost_usd("claude-haiku-5-5", TokenCount(input_tokens=500_000)) == 1.0
    assert custom.cost_cap_usd == 0.2
    # A model missing from the table is charged at the conservative default, never for free.
    assert custom.cost_usd("some-new-model", TokenCount(output_tokens=1_000_000)) == 15.0


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"TALKSHOP_LLM_PROVIDER": "claude"}, "TALKSHOP_LLM_PROVIDER must be one of"),
        ({"TALKSHOP_LLM_PROVIDER": "anthropic"}, "needs its API key"),
        ({"TALKSHOP_LLM_PROVIDER": "openai_compatible"}, "needs TALKSHOP_LLM_BASE_URL"),
        ({"ANTHROPIC_API_KEY": "a", "TALKSHOP_LLM_PRICES": "{oops"}, "TALKSHOP_LLM_PRICES is not JSON"),
        ({"ANTHROPIC_API_KEY": "a", "TALKSHOP_LLM_COST_CAP_USD": "-1"}, "cost_cap_usd"),
        ({"ANTHROPIC_API_KEY": "a", "TALKSHOP_LLM_MAX_RETRIES": "many"}, "max_retries"),
    ],
)
def test_malformed_settings_are_refused_with_the_variable_named(
    environ: dict[str, str], message: str
) -> None:
    with pytest.raises(LlmConfigError, match=message):
        load_llm_config(environ)


@pytest.fixture
def secret_arn(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        created = boto3.client("secretsmanager").create_secret(
            Name="talkshop/llm",
            SecretString=json.dumps({"OPENAI_API_KEY": "from-secret", "GEMINI_API_KEY": ""}),
        )
        yield str(created["ARN"])


def test_keys_come_from_the_secret_when_the_environment_has_none(secret_arn: str) -> None:
    config = load_llm_config({"TALKSHOP_LLM_SECRET_ARN": secret_arn})
    assert config is not None
    assert config.provider == ProviderName.OPENAI
    assert config.api_key is not None
    assert config.api_key.get_secret_value() == "from-secret"
    assert "from-secret" not in repr(config)
    # A key in the environment wins over the secret.
    both = load_llm_config({"TALKSHOP_LLM_SECRET_ARN": secret_arn, "ANTHROPIC_API_KEY": "env"})
    assert both is not None
    assert both.provider == ProviderName.ANTHROPIC


def test_backoff_grows_exponentially_with_jitter_and_a_cap() -> None:
    config = load_llm_config({"ANTHROPIC_API_KEY": "a", "TALKSHOP_LLM_BACKOFF_MAX_S": "3"})
    assert config is not None
    assert [backoff_delay(attempt, config, None, 1.0) for attempt in (1, 2, 3, 4, 5)] == [
        0.5,
        1.0,
        2.0,
        3.0,
        3.0,
    ]
    assert backoff_delay(2, config, None, 0.0) == 0.5  # half of the ceiling is fixed
    assert backoff_delay(1, config, 1.5, 0.3) == 1.5  # the server's Retry-After wins
    assert backoff_delay(1, config, 30.0, 0.3) == 3.0  # but never beyond the cap


class AlwaysRateLimited:
    name = "always-rate-limited"

    def __init__(self) -> None:
        self.calls = 0

    def stream(self, request: ModelRequest) -> Iterator[StreamEvent]:
        self.calls += 1
        raise ProviderError(FailureKind.RATE_LIMITED, "slow down", retry_after_s=2.0)
        yield  # a generator, like every provider's stream


@pytest.mark.parametrize(("budget_s", "expected_calls"), [(100.0, 4), (5.0, 3), (1.0, 1)])
def test_retries_stop_where_the_callers_deadline_would_be_passed(
    budget_s: float, expected_calls: int
) -> None:
    config = load_llm_config({"ANTHROPIC_API_KEY": "a", "TALKSHOP_LLM_MAX_RETRIES": "3"})
    assert config is not None
    provider = AlwaysRateLimited()
    clock = [0.0]
    caller = ModelCaller(
        provider,
        config,
        sleep=lambda seconds: clock.__setitem__(0, clock[0] + seconds),
        monotonic=lambda: clock[0],
    )
    request = ModelRequest(model=config.small_model, system="", messages=[], tools=[], max_tokens=64)
    with pytest.raises(ProviderError):
        list(caller.stream(request, deadline=budget_s))
    # Each retry waits the 2 s Retry-After: within 5 s there is room for two of them, within 1 s none.
    assert provider.calls == expected_calls


def chat(turns: int) -> list[ChatMessage]:
    messages = []
    for number in range(turns):
        messages.append(ChatMessage(role=Role.USER, content=f"question {number}", timestamp=MOMENT))
        messages.append(
            ChatMessage(
                role=Role.ASSISTANT,
                content=f"answer {number}",
                timestamp=MOMENT,
                mentioned_products=[f"product-{number}"],
            )
        )
    return messages


def test_history_beyond_the_last_turns_becomes_a_summary() -> None:
    session = new_session(messages=chat(5))
    older, recent = split_history(session, keep_turns=2)
    assert [message.content for message in recent] == ["question 3", "answer 3", "question 4", "answer 4"]
    assert summary(older, {"product-0": "Racket Zero"}) == (
        "6 earlier messages are summarised here. Products discussed then: Racket Zero (id product-0), "
        "product-1 (id product-1), product-2 (id product-2)."
    )
    messages = model_messages(recent, "question 5")
    assert [(message.role, message.text) for message in messages] == [
        ("user", "question 3"),
        ("assistant", "answer 3"),
        ("user", "question 4"),
        ("assistant", "answer 4"),
        ("user", "question 5"),
    ]
    assert split_history(new_session(messages=chat(2)), keep_turns=2) == ([], chat(2))


def test_model_messages_start_with_the_shopper_and_alternate() -> None:
    odd = [
        ChatMessage(role=Role.ASSISTANT, content="welcome", timestamp=MOMENT),
        ChatMessage(role=Role.USER, content="hi", timestamp=MOMENT),
    ]
    assert [(message.role, message.text) for message in model_messages(odd, "rackets?")] == [
        ("user", "hi\n\nrackets?")
    ]


def test_the_system_prompt_has_the_base_rules_the_known_facts_and_the_relevant_category() -> None:
    preferences = Preferences(
        skill_level="beginner", budget=Budget(max_amount=5000, currency="EUR"), categories=["padel-rackets"]
    )
    prompt = system_prompt(Language.ES, preferences, [("sol-padel-siesta", "Sol Padel Siesta")], "2 earlier")
    assert "Never invent a product, a price" in prompt
    assert "(Spanish)" in prompt
    assert '"max_amount": 5000' in prompt
    assert "Sol Padel Siesta (id sol-padel-siesta)" in prompt
    assert "Padel rackets" in prompt
    assert "Coffee gear" not in prompt
    assert "Coffee gear" in system_prompt(Language.EN, Preferences(), [], None)


def reply(text: str) -> AdvisorReply:
    return AdvisorReply(text=text, language=Language.EN, intent=Intent.GREETING, preferences=Preferences())


def test_the_cache_key_ignores_case_spacing_and_end_punctuation_but_not_the_session_state() -> None:
    def key(message: str, **session: object) -> str:
        return cache_key(TurnContext(session=new_session(**session), message=message))

    assert key("Hello  there?") == key("hello there")
    assert key("hello") != key("hello", shown_products=["x"])
    assert key("hello") != key("hello", preferences=Preferences(skill_level="beginner"))


def test_cached_replies_expire_after_their_ttl() -> None:
    now = [0.0]
    cache = ReplyCache(10, clock=lambda: now[0])
    cache.put("k", reply("hi"))
    now[0] = 9.5
    assert cache.get("k") == reply("hi")
    now[0] = 10.5
    assert cache.get("k") is None
    off = ReplyCache(0)
    off.put("k", reply("hi"))
    assert off.get("k") is None


def test_the_cache_key_holds_what_the_reply_is_built_on_besides_the_session_preferences() -> None:
    session = new_session()
    plain = TurnContext(session=session, message="hello")
    remembered = ShopperMemory(user_id="shopper-1", preferences=Preferences(skill_level="beginner"))
    bought = ShopperMemory(user_id="shopper-1", purchased_products=["sol-padel-siesta"])
    earlier = ChatMessage(role=Role.ASSISTANT, content="Which level do you play at?", timestamp=MOMENT)
    keys = {
        cache_key(plain),
        cache_key(plain.model_copy(update={"memory": remembered})),
        cache_key(plain.model_copy(update={"memory": bought})),
        cache_key(TurnContext(session=new_session(messages=[earlier]), message="hello")),
    }
    assert len(keys) == 4
