"""Pure helpers for building the Lambda layer without Docker.

Nothing here imports aws_cdk, so the command construction is unit-tested without starting jsii. The
CDK side (``infra.constructs.layer``) feeds these functions the runtime and architecture constants of
``infra.constructs.runtime`` so that the wheels pip picks always match what the functions run on.
"""

from __future__ import annotations

import re
import shutil
import tomllib
from collections.abc import Iterable, Sequence
from pathlib import Path

#: Distributions the AWS Lambda Python runtime already ships (boto3 and its dependency closure).
#: They are kept out of the layer: boto3 is left out of the pip arguments, and what other packages
#: pull in transitively (aws-xray-sdk depends on botocore) is pruned after the install. Shipping
#: botocore without boto3 would be worse than either extreme: the layer (``/opt/python``) precedes the
#: runtime on ``sys.path``, so the runtime's boto3 would run on top of a botocore it was not built for.
#: Empty this set to bundle a pinned SDK in the layer instead.
RUNTIME_PROVIDED_DISTRIBUTIONS: frozenset[str] = frozenset(
    {"boto3", "botocore", "s3transfer", "jmespath", "python-dateutil", "six", "urllib3"}
)

#: Lambda architecture name (``aws_lambda.Architecture.name``) -> manylinux platform suffix.
_ARCHITECTURE_MACHINES = {"arm64": "aarch64", "x86_64": "x86_64"}

_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
_RUNTIME_VERSION = re.compile(r"^python(\d+\.\d+)$")


def normalize_name(name: str) -> str:
    """PEP 503 normalized distribution name."""
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(requirement: str) -> str:
    """The normalized distribution name of a PEP 508 requirement string."""
    match = _NAME.match(requirement)
    if match is None:
        raise ValueError(f"not a requirement: {requirement!r}")
    return normalize_name(match.group(1))


def layer_requirements(
    pyproject: Path, runtime_provided: Iterable[str] = RUNTIME_PROVIDED_DISTRIBUTIONS
) -> list[str]:
    """``[project] dependencies`` of pyproject.toml minus what the Lambda runtime provides."""
    with pyproject.open("rb") as stream:
        dependencies: list[str] = tomllib.load(stream)["project"]["dependencies"]
    excluded = {normalize_name(name) for name in runtime_provided}
    return [requirement for requirement in dependencies if requirement_name(requirement) not in excluded]


def python_version(runtime_name: str) -> str:
    """``python3.14`` (``aws_lambda.Runtime.name``) -> ``3.14`` (pip's ``--python-version``)."""
    match = _RUNTIME_VERSION.match(runtime_name)
    if match is None:
        raise ValueError(f"not a Python Lambda runtime: {runtime_name!r}")
    return match.group(1)


def pip_platform(architecture_name: str) -> str:
    """``arm64`` (``aws_lambda.Architecture.name``) -> ``manylinux2014_aarch64``."""
    try:
        return f"manylinux2014_{_ARCHITECTURE_MACHINES[architecture_name]}"
    except KeyError:
        raise ValueError(f"unknown Lambda architecture: {architecture_name!r}") from None


def pip_install_command(
    *,
    pip: Sequence[str],
    requirements: Sequence[str],
    target: str,
    runtime_name: str,
    architecture_name: str,
) -> list[str]:
    """The pip invocation that installs ``requirements`` as wheels for the Lambda runtime into ``target``.

    ``pip`` is how to run pip, e.g. ``[sys.executable, "-m", "pip"]``.

    ``--only-binary=:all:`` with an explicit platform, implementation and Python version makes pip
    download the wheels Lambda needs (e.g. pydantic-core for cp3.14/aarch64) whatever the build host is;
    ``--no-compile`` because byte code compiled by the host's Python would be for the wrong version.
    """
    if not requirements:
        raise ValueError("no requirements to install")
    return [
        *pip,
        "install",
        "--disable-pip-version-check",
        "--no-compile",
        "--platform",
        pip_platform(architecture_name),
        "--only-binary=:all:",
        "--implementation",
        "cp",
        "--python-version",
        python_version(runtime_name),
        "--target",
        target,
        *requirements,
    ]


def prune_distributions(site: Path, names: Iterable[str] = RUNTIME_PROVIDED_DISTRIBUTIONS) -> list[str]:
    """Delete the installed distributions ``names`` from the pip ``--target`` directory ``site``.

    Uses each ``*.dist-info/RECORD`` so exactly the distribution's files go. Returns the normalized
    names of the distributions removed.
    """
    wanted = {normalize_name(name) for name in names}
    removed: list[str] = []
    for dist_info in sorted(site.glob("*.dist-info")):
        name = normalize_name(dist_info.name.removesuffix(".dist-info").rsplit("-", 1)[0])
        if name not in wanted:
            continue
        top_levels: set[Path] = set()
        record = dist_info / "RECORD"
        if record.is_file():
            for line in record.read_text().splitlines():
                relative = line.split(",", 1)[0]
                if not relative:
                    continue
                path = (site / relative).resolve()
                if site.resolve() not in path.parents:
                    continue  # never follow a RECORD entry out of the target (e.g. ../../bin/x)
                top_levels.add(site / Path(relative).parts[0])
                path.unlink(missing_ok=True)
        for top in top_levels:
            _remove_empty_directories(top)
        shutil.rmtree(dist_info, ignore_errors=True)
        removed.append(name)
    return removed


def _remove_empty_directories(top: Path) -> None:
    """Remove ``top`` and its subdirectories bottom-up where they are empty (namespace packages stay)."""
    if not top.is_dir():
        return
    for directory in sorted(
        (p for p in top.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True
    ):
        if not any(directory.iterdir()):
            directory.rmdir()
    if not any(top.iterdir()):
        top.rmdir()


def remove_scripts(site: Path) -> None:
    """Drop ``bin/`` (console scripts pip writes next to the packages): nothing runs them on Lambda."""
    shutil.rmtree(site / "bin", ignore_errors=True)


def copy_package(source: Path, destination: Path) -> None:
    """Copy a Python package's source tree, leaving out byte code."""
    shutil.copytree(source, destination, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
