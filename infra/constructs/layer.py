"""The Lambda layers, bundled without Docker.

``TalkshopLayer``: the ``talkshop`` package plus its runtime dependencies (every function has it).
``infra.constructs.search_layer.SearchLayer`` reuses ``LocalPipBundler`` and ``docker_command`` for the
search extra and the model weights.
"""

from __future__ import annotations

import hashlib
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import jsii
from aws_cdk import BundlingOptions, DockerImage, ILocalBundling
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra import bundling
from infra.constructs.runtime import ARCHITECTURE, RUNTIME
from infra.paths import LAYERS_DIR, PYPROJECT, TALKSHOP_PACKAGE_DIR

#: Excluded from the asset source (and so from its hash).
ASSET_EXCLUDES = ["**/__pycache__", "**/*.pyc"]


def bundler_fingerprint() -> str:
    """Digest of the bundling code itself, so that changing how the layer is built changes its hash.

    The asset hash covers the source folder and the BundlingOptions, not what the local bundler does.
    """
    digest = hashlib.sha256()
    for module in (bundling.__file__, __file__):
        digest.update(Path(module).read_bytes())
    return digest.hexdigest()[:16]


def find_pip(python: str) -> list[str] | None:
    """How to run pip: the app's own interpreter's, else any on PATH (e.g. in a uv venv without pip).

    Any pip will do because the target platform and Python version are given explicitly.
    """
    probe = subprocess.run([python, "-m", "pip", "--version"], capture_output=True, check=False)  # noqa: S603
    if probe.returncode == 0:
        return [python, "-m", "pip"]
    for name in ("pip3", "pip"):
        executable = shutil.which(name)
        if executable is not None:
            return [executable]
    return None


@jsii.implements(ILocalBundling)
class LocalPipBundler:
    """Builds a layer on the host: pip downloads Lambda-platform wheels, then the package is copied.

    ``installs`` are run in order into ``<output>/python``; ``prune`` names distributions removed
    afterwards (by default the runtime's own SDK); ``package_dir``, if given, is copied next to them.

    CDK calls ``try_bundle`` before falling back to Docker; it returns False (so Docker is tried) only
    when no pip can be found at all. A failing pip raises: that is a real error (a dependency without a
    wheel for the Lambda platform, no network), and Docker would not fix it.
    """

    def __init__(
        self,
        installs: Sequence[bundling.PipInstall],
        package_dir: Path | None,
        python: str = sys.executable,
        *,
        prune: Iterable[str] = bundling.RUNTIME_PROVIDED_DISTRIBUTIONS,
        label: str = "talkshop",
    ) -> None:
        self._installs = list(installs)
        self._package_dir = package_dir
        self._python = python
        self._prune = frozenset(prune)
        self._label = label

    def commands(self, output_dir: str, pip: Sequence[str]) -> list[list[str]]:
        return bundling.pip_install_commands(
            pip=pip,
            installs=self._installs,
            target=str(Path(output_dir) / "python"),
            runtime_name=RUNTIME.name,
            architecture_name=ARCHITECTURE.name,
        )

    def try_bundle(self, output_dir: str, options: BundlingOptions | None = None, **_keywords: Any) -> bool:
        # At run time jsii passes the options as one positional BundlingOptions struct; the typed
        # ILocalBundling protocol spells them as keyword arguments. Accept both; neither is needed.
        pip = find_pip(self._python)
        if pip is None:
            print("No pip found on this machine; falling back to Docker bundling", file=sys.stderr)
            return False
        for command in self.commands(output_dir, pip):
            print(f"Bundling the {self._label} layer locally: {shlex.join(command)}", file=sys.stderr)
            result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
            if result.returncode != 0:
                raise RuntimeError(f"pip failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
        site = Path(output_dir) / "python"
        bundling.prune_distributions(site, self._prune)
        bundling.remove_scripts(site)
        if self._package_dir is not None:
            bundling.copy_package(self._package_dir, site / self._package_dir.name)
        size = bundling.directory_size(site)
        print(f"The {self._label} layer is {size / 2**20:.1f} MiB unzipped", file=sys.stderr)
        return True


def docker_command(
    installs: Sequence[bundling.PipInstall],
    package_name: str | None,
    prune: Iterable[str] = bundling.RUNTIME_PROVIDED_DISTRIBUTIONS,
) -> list[str]:
    """The same build inside the SAM build image, used only when no pip is found on the host.

    The resolved installs go into a scratch folder first; their pins minus the ``prune`` names are then
    installed with ``--no-deps``, and so are the ``no_deps`` installs. It is also part of the asset's
    bundling options, so a change of requirements yields a new layer version although pyproject.toml
    lies outside the asset folder.
    """
    pattern = "|".join(bundling.normalize_name(name).replace("-", "[-_.]") for name in sorted(set(prune)))
    scratch = "/tmp/resolved"  # noqa: S108 - inside the throwaway build container
    target = "/asset-output/python"
    steps = ["set -euo pipefail"]
    resolved = [r for install in installs if not install.no_deps for r in install.requirements]
    if resolved:
        steps += [
            shlex.join(["pip", "install", "--no-compile", "--target", scratch, *resolved]),
            f"pip list --path {scratch} --format freeze | grep -viE '^({pattern})==' > /tmp/pins.txt",
            f"pip install --no-compile --no-deps --target {target} -r /tmp/pins.txt",
        ]
    as_is = [r for install in installs if install.no_deps for r in install.requirements]
    if as_is:
        steps.append(shlex.join(["pip", "install", "--no-compile", "--no-deps", "--target", target, *as_is]))
    if package_name is not None:
        steps.append(f"cp -r /asset-input/{package_name} {target}/{package_name}")
    return ["bash", "-c", "; ".join(steps)]


class TalkshopLayer(Construct):
    """``layer``: the LayerVersion with ``/opt/python/talkshop`` and the project's dependencies."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        requirements = bundling.layer_requirements(PYPROJECT)
        installs = [bundling.PipInstall(tuple(requirements))]
        image: DockerImage = RUNTIME.bundling_image
        self.layer = lambda_.LayerVersion(
            self,
            "Layer",
            description="talkshop domain package and its dependencies (" + ", ".join(requirements) + ")",
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[ARCHITECTURE],
            code=lambda_.Code.from_asset(
                str(LAYERS_DIR),
                exclude=ASSET_EXCLUDES,
                bundling=BundlingOptions(
                    image=image,
                    platform=f"linux/{ARCHITECTURE.name}",
                    command=docker_command(installs, TALKSHOP_PACKAGE_DIR.name),
                    environment={"TALKSHOP_BUNDLER": bundler_fingerprint()},
                    local=LocalPipBundler(installs, TALKSHOP_PACKAGE_DIR),
                ),
            ),
        )
