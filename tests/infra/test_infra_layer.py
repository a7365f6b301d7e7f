"""The layer construct: wheels for the functions' runtime and architecture, bundled without Docker."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import BundlingOptions
from constructs import IConstruct

from infra.constructs.layer import LocalPipBundler, docker_command, find_pip
from infra.constructs.runtime import ARCHITECTURE, RUNTIME
from infra.paths import TALKSHOP_PACKAGE_DIR
from infra.stack import TalkshopStack

pytestmark = pytest.mark.slow

FAKE_PIP = """#!{python}
import pathlib, sys
arguments = sys.argv[1:]
if arguments[:3] == ["-m", "pip", "--version"]:
    sys.exit(0)
assert arguments[:3] == ["-m", "pip", "install"], arguments
pathlib.Path({log!r}).write_text("\\n".join(arguments))
site = pathlib.Path(arguments[arguments.index("--target") + 1])
(site / "bin").mkdir(parents=True)
(site / "bin" / "jp.py").write_text("")
for name, version in (("pydantic", "2.11.0"), ("botocore", "1.40.0")):
    (site / name).mkdir()
    (site / name / "__init__.py").write_text("")
    info = site / f"{{name}}-{{version}}.dist-info"
    info.mkdir()
    (info / "RECORD").write_text(f"{{name}}/__init__.py,,\\n{{info.name}}/RECORD,,\\n")
"""


def test_layer_matches_the_functions_runtime_and_architecture(
    stack: TalkshopStack, resources: dict[str, dict[str, Any]], logical_id: Callable[[IConstruct], str]
) -> None:
    properties = resources[logical_id(stack.layer.layer)]["Properties"]
    assert properties["CompatibleRuntimes"] == [RUNTIME.name]
    assert properties["CompatibleArchitectures"] == [ARCHITECTURE.name]


def test_bundler_command_uses_the_shared_runtime_constants() -> None:
    command = LocalPipBundler(["pydantic"], TALKSHOP_PACKAGE_DIR).command("/out", ["pip"])
    assert command[command.index("--python-version") + 1] == RUNTIME.name.removeprefix("python")
    assert ARCHITECTURE.name == "arm64"
    assert command[command.index("--platform") + 1] == "manylinux2014_aarch64"
    assert command[command.index("--target") + 1] == str(Path("/out") / "python")


def test_try_bundle_installs_prunes_and_copies_the_package(tmp_path: Path) -> None:
    log = tmp_path / "pip-arguments.txt"
    fake = tmp_path / "fake-python"
    fake.write_text(FAKE_PIP.format(python=sys.executable, log=str(log)))
    fake.chmod(0o755)
    output = tmp_path / "asset"
    output.mkdir()

    bundler = LocalPipBundler(["pydantic>=2"], TALKSHOP_PACKAGE_DIR, python=str(fake))
    assert find_pip(str(fake)) == [str(fake), "-m", "pip"]
    assert bundler.try_bundle(str(output), BundlingOptions(image=RUNTIME.bundling_image)) is True

    site = output / "python"
    assert log.read_text().splitlines()[-1] == "pydantic>=2"
    assert (site / "pydantic" / "__init__.py").is_file()
    assert not (site / "botocore").exists(), "the runtime's SDK is pruned from the layer"
    assert not (site / "bin").exists()
    assert (site / "talkshop" / "__init__.py").is_file()
    assert (site / "talkshop" / "api" / "routes.py").is_file()
    assert not list(site.rglob("__pycache__"))


def test_docker_fallback_mirrors_the_local_build() -> None:
    (shell, flag, script) = docker_command(["pydantic>=2,<3"], "talkshop")
    assert (shell, flag) == ("bash", "-c")
    assert "'pydantic>=2,<3'" in script
    assert "grep -viE '^(boto3|botocore|jmespath|python[-_.]dateutil|s3transfer|six|urllib3)=='" in script
    assert script.endswith("cp -r /asset-input/talkshop /asset-output/python/talkshop")
