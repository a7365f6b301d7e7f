"""One synthesis of the Talkshop app for all infra tests (starting jsii and synthesizing take seconds).

Bundling is skipped (``aws:cdk:bundling-stacks`` = []), so nothing here runs pip or touches the network.
The cdk-nag plugin runs as in production, but with ``failSynthOnValidationErrors`` off: violations land in
``validation-report.json`` and fail test_infra_nag.py instead of erroring every synth-based test.

Tests use only these fixtures (no imports from this module: tests/infra is not a package).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from aws_cdk.assertions import Template
    from constructs import IConstruct

    from infra.stack import TalkshopStack

_REPO_ROOT = Path(__file__).resolve().parents[2]
if str(_REPO_ROOT) not in sys.path:  # `infra` is not an installed package
    sys.path.insert(0, str(_REPO_ROOT))


@dataclass(frozen=True)
class _Synthesized:
    stack: TalkshopStack
    template: Template
    validation_report: dict[str, Any]


@pytest.fixture(scope="session")
def _synthesized() -> _Synthesized:
    from aws_cdk.assertions import Template

    from infra.app import create_app

    app, stack = create_app(
        {"aws:cdk:bundling-stacks": [], "@aws-cdk/core:failSynthOnValidationErrors": False}
    )
    assembly = app.synth()
    report_path = Path(assembly.directory) / "validation-report.json"
    report = json.loads(report_path.read_text()) if report_path.exists() else {"pluginReports": []}
    return _Synthesized(stack=stack, template=Template.from_stack(stack), validation_report=report)


@pytest.fixture(scope="session")
def stack(_synthesized: _Synthesized) -> TalkshopStack:
    return _synthesized.stack


@pytest.fixture(scope="session")
def template(_synthesized: _Synthesized) -> Template:
    return _synthesized.template


@pytest.fixture(scope="session")
def resources(_synthesized: _Synthesized) -> dict[str, dict[str, Any]]:
    """The template's ``Resources`` section (logical ID -> resource)."""
    found: dict[str, dict[str, Any]] = _synthesized.template.to_json()["Resources"]
    return found


@pytest.fixture(scope="session")
def validation_report(_synthesized: _Synthesized) -> dict[str, Any]:
    """The cloud assembly's ``validation-report.json`` (policy-validation plugins such as cdk-nag)."""
    return _synthesized.validation_report


@pytest.fixture(scope="session")
def logical_id(_synthesized: _Synthesized) -> Callable[[IConstruct], str]:
    """Logical ID of an L2 construct's CloudFormation resource (or of a CfnElement itself)."""
    stack = _synthesized.stack

    def resolve(construct: IConstruct) -> str:
        element = construct.node.default_child or construct
        resolved: str = stack.resolve(stack.get_logical_id(element))  # type: ignore[arg-type]
        return resolved

    return resolve


def _filter_matches(pattern: Any, value: Any) -> bool:
    """The subset of the Lambda/EventBridge filter syntax the stack uses: nesting, equality, prefix."""
    if isinstance(pattern, dict):
        return isinstance(value, dict) and all(
            key in value and _filter_matches(sub, value[key]) for key, sub in pattern.items()
        )
    return any(
        value.startswith(rule["prefix"]) if isinstance(rule, dict) else value == rule for rule in pattern
    )


@pytest.fixture(scope="session")
def filter_matches() -> Callable[[Any, Any], bool]:
    """``filter_matches(pattern, record)``: would an event source mapping's filter let ``record`` through?"""
    return _filter_matches
