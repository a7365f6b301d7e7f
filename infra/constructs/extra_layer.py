"""A layer of third-party wheels only (no talkshop package), for the functions of one FunctionSpec flag.

``SearchLayer`` (``uses_search``) and ``LlmLayer`` (``uses_llm``) are ``ExtraLayer``s: built by
``LocalPipBundler`` from a list of pip runs, for the functions' runtime and architecture, then pruned.
The asset hash is custom: the pip runs, the pruned names, runtime, architecture and bundling code, not a
source folder, so a change to ``layers/talkshop`` does not publish a new version of a large layer.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence

from aws_cdk import AssetHashType, BundlingOptions, DockerImage
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra import bundling
from infra.constructs.layer import ASSET_EXCLUDES, LocalPipBundler, bundler_fingerprint, docker_command
from infra.constructs.runtime import ARCHITECTURE, RUNTIME
from infra.paths import LAYERS_DIR

#: Lambda's limit on a layer version's description.
DESCRIPTION_LIMIT = 256


def extra_layer_hash(installs: Sequence[bundling.PipInstall], prune: Iterable[str]) -> str:
    """What the layer is built from; a change to any of it publishes a new layer version."""
    recipe = {
        "installs": [[list(install.requirements), install.no_deps] for install in installs],
        "prune": sorted(prune),
        "runtime": RUNTIME.name,
        "architecture": ARCHITECTURE.name,
        "bundler": bundler_fingerprint(),
    }
    return hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()


class ExtraLayer(Construct):
    """``layer``: the wheels of ``installs`` for the Lambda platform, minus the ``prune`` distributions."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        installs: Sequence[bundling.PipInstall],
        prune: frozenset[str],
        label: str,
        description: str,
    ) -> None:
        super().__init__(scope, construct_id)
        self.installs = list(installs)
        self.prune = prune
        image: DockerImage = RUNTIME.bundling_image
        self.layer = lambda_.LayerVersion(
            self,
            "Layer",
            description=description[:DESCRIPTION_LIMIT],
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[ARCHITECTURE],
            code=lambda_.Code.from_asset(
                # Nothing is copied from the source folder (the hash is custom, the build only runs pip);
                # it is only what the Docker fallback would mount as /asset-input.
                str(LAYERS_DIR),
                exclude=ASSET_EXCLUDES,
                asset_hash_type=AssetHashType.CUSTOM,
                asset_hash=extra_layer_hash(self.installs, prune),
                bundling=BundlingOptions(
                    image=image,
                    platform=f"linux/{ARCHITECTURE.name}",
                    command=docker_command(self.installs, None, prune),
                    local=LocalPipBundler(self.installs, None, prune=prune, label=label),
                ),
            ),
        )
