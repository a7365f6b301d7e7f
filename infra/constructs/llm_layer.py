"""The LLM layer: the ``llm`` extra of pyproject.toml (anthropic, openai, google-genai and their trees).

Only functions whose FunctionSpec has ``uses_llm`` get it, next to the talkshop layer (which holds
``talkshop.llm``; the SDKs are imported only when a provider is configured). Pruned of the runtime's SDK
and of everything the talkshop layer already ships (pydantic and its kin), so no distribution is in both.
"""

from __future__ import annotations

from constructs import Construct

from infra import bundling
from infra.constructs.extra_layer import ExtraLayer
from infra.paths import PYPROJECT

LLM_LAYER_PRUNE: frozenset[str] = (
    bundling.RUNTIME_PROVIDED_DISTRIBUTIONS | bundling.TALKSHOP_LAYER_DISTRIBUTIONS
)


class LlmLayer(ExtraLayer):
    """``layer``: the LLM provider SDKs for the Lambda platform."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        installs = bundling.llm_layer_installs(PYPROJECT)
        names = [bundling.requirement_name(r) for install in installs for r in install.requirements]
        super().__init__(
            scope,
            construct_id,
            installs=installs,
            prune=LLM_LAYER_PRUNE,
            label="talkshop LLM",
            description="talkshop LLM providers: " + ", ".join(names),
        )
