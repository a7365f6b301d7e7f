"""The layer's local (Docker-free) bundling: pip command construction and the post-install steps."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from infra import bundling
from infra.paths import PYPROJECT


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


def test_pip_command_targets_the_lambda_platform() -> None:
    command = _command()
    assert command[:4] == ["/venv/bin/python", "-m", "pip", "install"]
    assert _option(command, "--platform") == "manylinux2014_aarch64"
    assert "--only-binary=:all:" in command
    assert _option(command, "--implementation") == "cp"
    assert _option(command, "--python-version") == "3.14"
    assert _option(command, "--target") == "/out/python"
    assert "--no-compile" in command
    assert command[-2:] == ["pydantic>=2.11,<3", "aws-lambda-powertools[tracer]>=3.37,<4"]


def test_pip_command_for_x86_64_and_another_python() -> None:
    command = _command(runtime_name="python3.13", architecture_name="x86_64", pip=["pip3"])
    assert command[:2] == ["pip3", "install"]
    assert _option(command, "--platform") == "manylinux2014_x86_64"
    assert _option(command, "--python-version") == "3.13"


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
