"""LLM configuration, read from the environment (and an optional Secrets Manager secret for the keys).

``TALKSHOP_LLM_PROVIDER`` picks the provider: ``auto`` (the default) takes Anthropic when
``ANTHROPIC_API_KEY`` is set, else OpenAI when ``OPENAI_API_KEY`` is, else Gemini when ``GEMINI_API_KEY``
or ``GOOGLE_API_KEY`` is, else none; ``none`` turns LLM mode off; ``anthropic``, ``openai``, ``gemini`` and
``openai_compatible`` (Ollama, vLLM... at ``TALKSHOP_LLM_BASE_URL``) name one. Keys missing from the
environment are read from the JSON secret named by ``TALKSHOP_LLM_SECRET_ARN``. Model names and prices
default to ``models.json`` beside this module; every other knob is in :class:`LlmConfig` with its
variable. A malformed setting raises :class:`LlmConfigError` at start-up rather than at the first chat.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from enum import StrEnum
from functools import cache
from importlib import resources
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from talkshop.llm.messages import TokenCount

KEY_VARIABLES = ("ANTHROPIC_API_KEY", "OPENAI_API_KEY", "GEMINI_API_KEY", "GOOGLE_API_KEY")


class LlmConfigError(ValueError):
    """A setting of LLM mode is malformed; the message names the variable."""


class ProviderName(StrEnum):
    ANTHROPIC = "anthropic"
    OPENAI = "openai"
    GEMINI = "gemini"
    OPENAI_COMPATIBLE = "openai_compatible"


class Price(BaseModel):
    """USD per million tokens."""

    model_config = ConfigDict(extra="forbid")

    input: float = Field(ge=0)
    output: float = Field(ge=0)


class LlmConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    provider: ProviderName
    api_key: SecretStr | None = None
    base_url: str | None = None
    small_model: str = Field(min_length=1)
    large_model: str = Field(min_length=1)
    prices: dict[str, Price]
    unknown_model_price: Price
    timeout_s: float = Field(default=10.0, gt=0, description="TALKSHOP_LLM_TIMEOUT_S, per model call")
    # The chat_message function stops at 29 s (API Gateway's limit): a turn must give up on the model
    # early enough for the rules engine to answer and the turn to be recorded.
    turn_budget_s: float = Field(default=22.0, gt=0, description="TALKSHOP_LLM_TURN_BUDGET_S, per turn")
    max_retries: int = Field(default=3, ge=0, le=10, description="TALKSHOP_LLM_MAX_RETRIES, per model call")
    backoff_initial_s: float = Field(default=0.5, ge=0, description="TALKSHOP_LLM_BACKOFF_INITIAL_S")
    backoff_max_s: float = Field(default=8.0, ge=0, description="TALKSHOP_LLM_BACKOFF_MAX_S")
    cost_cap_usd: float = Field(default=0.50, ge=0, description="TALKSHOP_LLM_COST_CAP_USD, per conversation")
    max_tool_rounds: int = Field(default=4, ge=1, le=10, description="TALKSHOP_LLM_MAX_TOOL_ROUNDS")
    max_output_tokens: int = Field(default=1024, ge=64, description="TALKSHOP_LLM_MAX_OUTPUT_TOKENS")
    cache_ttl_s: float = Field(default=300.0, ge=0, description="TALKSHOP_LLM_CACHE_TTL_S; 0 turns it off")
    history_turns: int = Field(default=6, ge=1, description="TALKSHOP_LLM_HISTORY_TURNS kept verbatim")

    def price(self, model: str) -> Price:
        return self.prices.get(model, self.unknown_model_price)

    def cost_usd(self, model: str, tokens: TokenCount) -> float:
        price = self.price(model)
        return (tokens.input_tokens * price.input + tokens.output_tokens * price.output) / 1_000_000


_NUMBERS = {
    "TALKSHOP_LLM_TIMEOUT_S": "timeout_s",
    "TALKSHOP_LLM_MAX_RETRIES": "max_retries",
    "TALKSHOP_LLM_TURN_BUDGET_S": "turn_budget_s",
    "TALKSHOP_LLM_BACKOFF_INITIAL_S": "backoff_initial_s",
    "TALKSHOP_LLM_BACKOFF_MAX_S": "backoff_max_s",
    "TALKSHOP_LLM_COST_CAP_USD": "cost_cap_usd",
    "TALKSHOP_LLM_MAX_TOOL_ROUNDS": "max_tool_rounds",
    "TALKSHOP_LLM_MAX_OUTPUT_TOKENS": "max_output_tokens",
    "TALKSHOP_LLM_CACHE_TTL_S": "cache_ttl_s",
    "TALKSHOP_LLM_HISTORY_TURNS": "history_turns",
}
# The SDKs' own base-URL variables, honoured so that a test or a proxy can point one SDK elsewhere.
_BASE_URL_VARIABLES = {
    ProviderName.ANTHROPIC: "ANTHROPIC_BASE_URL",
    ProviderName.OPENAI: "OPENAI_BASE_URL",
    ProviderName.OPENAI_COMPATIBLE: "OPENAI_BASE_URL",
    ProviderName.GEMINI: "GOOGLE_GEMINI_BASE_URL",
}


@cache
def model_defaults() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((resources.files("talkshop.llm") / "models.json").read_text())
    return loaded


def read_secret(secret_arn: str) -> dict[str, str]:
    """The keys in a Secrets Manager JSON secret (cached five minutes, so a rotated key is picked up)."""
    from aws_lambda_powertools.utilities import parameters

    value = parameters.get_secret(secret_arn, transform="json", max_age=300)
    if not isinstance(value, dict):
        raise LlmConfigError("TALKSHOP_LLM_SECRET_ARN must name a JSON object of API keys")
    return {str(name): str(key) for name, key in value.items() if isinstance(key, str) and key}


def _keys(environ: Mapping[str, str]) -> dict[str, str]:
    keys = {name: environ[name].strip() for name in KEY_VARIABLES if environ.get(name, "").strip()}
    secret_arn = environ.get("TALKSHOP_LLM_SECRET_ARN", "").strip()
    if secret_arn:
        keys = {**read_secret(secret_arn), **keys}
    return keys


def _provider(choice: str, keys: Mapping[str, str]) -> ProviderName | None:
    if choice == "none":
        return None
    if choice != "auto":
        try:
            return ProviderName(choice)
        except ValueError:
            allowed = ", ".join(["auto", "none", *ProviderName])
            raise LlmConfigError(f"TALKSHOP_LLM_PROVIDER must be one of {allowed}, not {choice!r}") from None
    if "ANTHROPIC_API_KEY" in keys:
        return ProviderName.ANTHROPIC
    if "OPENAI_API_KEY" in keys:
        return ProviderName.OPENAI
    if "GEMINI_API_KEY" in keys or "GOOGLE_API_KEY" in keys:
        return ProviderName.GEMINI
    return None


def _api_key(provider: ProviderName, keys: Mapping[str, str], environ: Mapping[str, str]) -> str | None:
    if provider == ProviderName.ANTHROPIC:
        return keys.get("ANTHROPIC_API_KEY")
    if provider == ProviderName.OPENAI:
        return keys.get("OPENAI_API_KEY")
    if provider == ProviderName.GEMINI:
        return keys.get("GEMINI_API_KEY") or keys.get("GOOGLE_API_KEY")
    # A local server (Ollama, vLLM) usually takes any key; the SDK insists on one.
    return environ.get("TALKSHOP_LLM_API_KEY") or keys.get("OPENAI_API_KEY") or "not-needed"


def _prices(environ: Mapping[str, str]) -> dict[str, Any]:
    prices: dict[str, Any] = dict(model_defaults()["prices"])
    override = environ.get("TALKSHOP_LLM_PRICES", "").strip()
    if override:
        try:
            extra = json.loads(override)
        except json.JSONDecodeError as error:
            raise LlmConfigError(f"TALKSHOP_LLM_PRICES is not JSON: {error}") from None
        if not isinstance(extra, dict):
            raise LlmConfigError('TALKSHOP_LLM_PRICES must map models to {"input": .., "output": ..}')
        prices.update(extra)
    return prices


def load_llm_config(environ: Mapping[str, str] | None = None) -> LlmConfig | None:
    """The LLM configuration, or None when no provider is configured (the rules engine answers)."""
    environ = os.environ if environ is None else environ
    choice = environ.get("TALKSHOP_LLM_PROVIDER", "auto").strip().lower() or "auto"
    if choice == "none":
        return None
    keys = _keys(environ)
    provider = _provider(choice, keys)
    if provider is None:
        return None
    api_key = _api_key(provider, keys, environ)
    if not api_key:
        raise LlmConfigError(f"TALKSHOP_LLM_PROVIDER={provider} needs its API key")
    base_url = (
        environ.get("TALKSHOP_LLM_BASE_URL", "").strip()
        or environ.get(_BASE_URL_VARIABLES[provider], "").strip()
        or None
    )
    if provider == ProviderName.OPENAI_COMPATIBLE and base_url is None:
        raise LlmConfigError("TALKSHOP_LLM_PROVIDER=openai_compatible needs TALKSHOP_LLM_BASE_URL")
    defaults = model_defaults()
    models = defaults["models"][provider.value]
    values: dict[str, Any] = {
        "provider": provider,
        "api_key": api_key,
        "base_url": base_url,
        "small_model": environ.get("TALKSHOP_LLM_SMALL_MODEL", "").strip() or models["small"],
        "large_model": environ.get("TALKSHOP_LLM_LARGE_MODEL", "").strip() or models["large"],
        "prices": _prices(environ),
        "unknown_model_price": defaults["unknown_model_price"],
    }
    for variable, field in _NUMBERS.items():
        if environ.get(variable, "").strip():
            values[field] = environ[variable].strip()
    try:
        return LlmConfig.model_validate(values)
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
        raise LlmConfigError(f"LLM settings are invalid: {problems}") from None
