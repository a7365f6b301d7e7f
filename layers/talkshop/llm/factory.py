"""Builds the LLM advisor from the environment, or None when no provider is configured."""

from __future__ import annotations

from talkshop.advisor.model import Advisor, ShopCatalog, ShopCommerce
from talkshop.llm.config import LlmConfig, ProviderName, load_llm_config
from talkshop.llm.messages import ChatProvider


def provider_for(config: LlmConfig) -> ChatProvider:
    """The SDK adapter of the configured provider; SDKs are imported only when chosen."""
    api_key = config.api_key.get_secret_value() if config.api_key else ""
    if config.provider == ProviderName.ANTHROPIC:
        from talkshop.llm.providers.anthropic import AnthropicProvider

        return AnthropicProvider(api_key=api_key, base_url=config.base_url, timeout_s=config.timeout_s)
    if config.provider == ProviderName.GEMINI:
        from talkshop.llm.providers.gemini import GeminiProvider

        return GeminiProvider(api_key=api_key, base_url=config.base_url, timeout_s=config.timeout_s)
    from talkshop.llm.providers.openai import OpenAIProvider

    return OpenAIProvider(
        api_key=api_key,
        base_url=config.base_url,
        timeout_s=config.timeout_s,
        compatible=config.provider == ProviderName.OPENAI_COMPATIBLE,
    )


def llm_advisor_from_environment(
    catalog: ShopCatalog, fallback: Advisor, commerce: ShopCommerce | None = None
) -> Advisor | None:
    """The LLM advisor over ``catalog`` (and ``commerce``, for its cart, discount and order tools) with
    ``fallback`` (the rules engine) for cost caps and outages."""
    config = load_llm_config()
    if config is None:
        return None
    from talkshop.llm.advisor import LlmAdvisor
    from talkshop.llm.calls import ModelCaller

    return LlmAdvisor(ModelCaller(provider_for(config), config), config, catalog, fallback, commerce=commerce)
