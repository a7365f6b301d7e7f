"""cdk-nag AwsSolutions passes: every finding is fixed or acknowledged with a reason.

cdk-nag v3 is a CDK policy-validation plugin: findings are no longer construct annotations but entries
of the cloud assembly's validation-report.json (acknowledged ones are left out of it). The annotation
checks below stay as a guard should a pack (or a downgrade to cdk-nag v2) report through annotations.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from aws_cdk.assertions import Annotations, Match

from infra.paths import REPO_ROOT
from infra.stack import TalkshopStack

pytestmark = pytest.mark.slow

DOCS = REPO_ROOT / "docs" / "infrastructure.md"
#: CDK records acknowledgements as "<namespace>::<rule ID>" (namespace "Annotation" for plain IDs).
_RULE = re.compile(r"^(?:Annotation::)?(.*)$", re.DOTALL)
#: Minimum length of an acknowledgement's reason: a sentence, not "ok" or "n/a".
MIN_REASON = 40


def _violations(report: dict[str, Any]) -> list[str]:
    return [
        f"{violation['severity']} {violation['ruleName']} at "
        + ", ".join(c.get("constructPath", "?") for c in violation.get("violatingConstructs", []))
        for plugin in report["pluginReports"]
        for violation in plugin["violations"]
    ]


def test_no_unacknowledged_findings(validation_report: dict[str, Any]) -> None:
    assert _violations(validation_report) == []


def test_no_aws_solutions_annotations(stack: TalkshopStack) -> None:
    annotations = Annotations.from_stack(stack)
    pattern = Match.string_like_regexp("AwsSolutions-.*")
    assert annotations.find_error("*", pattern) == []
    assert annotations.find_warning("*", pattern) == []


def test_no_cdk_warnings_or_errors(stack: TalkshopStack) -> None:
    """Deprecated APIs and misconfigurations surface as warnings; keep the synth clean."""
    annotations = Annotations.from_stack(stack)
    assert annotations.find_error("*", Match.any_value()) == []
    assert annotations.find_warning("*", Match.any_value()) == []


def _acknowledgements(stack: TalkshopStack) -> dict[tuple[str, str], str]:
    """(construct path, rule ID) -> reason, for every ``Validations.of(...).acknowledge``."""
    return {
        (construct.node.path, _RULE.sub(r"\1", rule)): reason
        for construct in stack.node.find_all()
        for entry in construct.node.metadata
        if entry.type == "aws:cdk:acknowledged-rules"
        for rule, reason in entry.data.items()
    }


def test_every_acknowledgement_has_a_concrete_reason(stack: TalkshopStack) -> None:
    acknowledgements = _acknowledgements(stack)
    assert acknowledgements, "the stack acknowledges at least the documented findings"
    assert all(rule.startswith("AwsSolutions-") for _, rule in acknowledgements), acknowledgements
    short = {key: reason for key, reason in acknowledgements.items() if len(reason.strip()) < MIN_REASON}
    assert short == {}


def test_every_acknowledged_rule_is_documented(stack: TalkshopStack) -> None:
    documented = DOCS.read_text()
    rules = {re.sub(r"\[.*", "", rule) for _, rule in _acknowledgements(stack)}
    assert {rule for rule in rules if f"`{rule}`" not in documented} == set()
