"""The Lambda layer: the ``talkshop`` package plus its runtime dependencies, bundled without Docker."""

from __future__ import annotations

import hashlib
import shlex
import shutil
import subprocess
import sys
from collections.abc import Sequence
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
    """Builds the layer on the host: pip downloads Lambda-platform wheels, then the package is copied.

    CDK calls ``try_bundle`` before falling back to Docker; it returns False (so Docker is tried) only
    when no pip can be found at all. A failing pip raises: that is a real error (a dependency without a
    wheel for the Lambda platform, no network), and Docker would not fix it.
    """

    def __init__(self, requirements: Sequence[str], package_dir: Path, python: str = sys.executable) -> None:
        self._requirements = list(requirements)
        self._package_dir = package_dir
        self._python = python

    def command(self, output_dir: str, pip: Sequence[str]) -> list[str]:
        return bundling.pip_install_command(
            pip=pip,
            requirements=self._requirements,
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
        command = self.command(output_dir, pip)
        print(f"Bundling the talkshop layer locally: {shlex.join(command)}", file=sys.stderr)
        result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
        if result.returncode != 0:
            raise RuntimeError(f"pip failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
        site = Path(output_dir) / "python"
        bundling.prune_distributions(site)
        bundling.remove_scripts(site)
        bundling.copy_package(self._package_dir, site / self._package_dir.name)
        return True


def docker_command(requirements: Sequence[str], package_name: str) -> list[str]:
    """The same build inside the SAM build image, used only when no pip is found on the host.

    It resolves everything into a scratch folder, then installs the resolved pins minus the runtime's
    own distributions with ``--no-deps``. It is also part of the asset's source hash, so a change of
    dependencies in pyproject.toml yields a new layer version although pyproject.toml lies outside the
    asset folder.
    """
    provided = "|".join(
        name.replace("-", "[-_.]") for name in sorted(bundling.RUNTIME_PROVIDED_DISTRIBUTIONS)
    )
    scratch = "/tmp/resolved"  # noqa: S108 - inside the throwaway build container
    resolve = shlex.join(["pip", "install", "--no-compile", "--target", scratch, *requirements])
    script = (
        "set -euo pipefail; "
        f"{resolve}; "
        f"pip list --path {scratch} --format freeze "
        f"| grep -viE '^({provided})==' > /tmp/pins.txt; "
        "pip install --no-compile --no-deps --target /asset-output/python -r /tmp/pins.txt; "
        f"cp -r /asset-input/{package_name} /asset-output/python/{package_name}"
    )
    return ["bash", "-c", script]


class TalkshopLayer(Construct):
    """``layer``: the LayerVersion with ``/opt/python/talkshop`` and the project's dependencies."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        requirements = bundling.layer_requirements(PYPROJECT)
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
                    command=docker_command(requirements, TALKSHOP_PACKAGE_DIR.name),
                    environment={"TALKSHOP_BUNDLER": bundler_fingerprint()},
                    local=LocalPipBundler(requirements, TALKSHOP_PACKAGE_DIR),
                ),
            ),
        )
