"""The state machine table: each Step Functions workflow, its ASL file and the functions it invokes.

Like the route table, it is the one definition both sides read: the CDK app deploys each file under
statemachines/ with `DefinitionSubstitutions` and the local runtime creates the same file in moto with
the same substitutions, so the flow that runs locally is the flow that runs on AWS.

A definition names each Lambda function it invokes as `${<Name>FunctionArn}` (`checkout_steps` ->
`${CheckoutStepsFunctionArn}`); `render_definition` fills them in the way CloudFormation does.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from talkshop.api.routes import CHECKOUT_STEPS, WEBHOOK_STEPS, FunctionSpec
from talkshop.settings import CHECKOUT_STATE_MACHINE_VARIABLE

# At the repository root, beside layers/: read by the CDK app and by the local runtime (which runs from
# an editable install); Lambda functions never read it.
STATE_MACHINES_DIR = Path(__file__).resolve().parents[3] / "statemachines"
_PLACEHOLDER = re.compile(r"\$\{(\w+)\}")


class WorkflowType(StrEnum):
    # Synchronous, at-least-once, up to 5 minutes: for request/response flows with idempotent steps.
    EXPRESS = "EXPRESS"
    # Asynchronous, exactly-once, up to a year, with a full execution history: for long retries.
    STANDARD = "STANDARD"


@dataclass(frozen=True)
class StateMachineSpec:
    name: str
    description: str
    workflow_type: WorkflowType
    # The Lambda functions its Task states invoke, substituted into the definition by ARN.
    functions: tuple[FunctionSpec, ...]
    # The environment variable that gives a caller the state machine's ARN.
    arn_variable: str

    @property
    def definition_path(self) -> Path:
        return STATE_MACHINES_DIR / f"{self.name}.asl.json"

    def definition(self, function_arns: Mapping[str, str]) -> str:
        """The ASL with every function placeholder filled from `function_arns` (function name -> ARN)."""
        return render_definition(
            self.definition_path.read_text(),
            {substitution_variable(function): function_arns[function.name] for function in self.functions},
        )


def substitution_variable(function: FunctionSpec) -> str:
    return "".join(part.capitalize() for part in function.name.split("_")) + "FunctionArn"


class UnresolvedPlaceholder(ValueError):
    pass


def render_definition(template: str, substitutions: Mapping[str, str]) -> str:
    """Replaces `${Name}` as DefinitionSubstitutions does; a placeholder without a value is an error
    here rather than an ASL that fails only when that state runs."""

    def substitute(match: re.Match[str]) -> str:
        if match.group(1) not in substitutions:
            raise UnresolvedPlaceholder(
                f"No value for ${{{match.group(1)}}} in the state machine definition."
            )
        return substitutions[match.group(1)]

    return _PLACEHOLDER.sub(substitute, template)


CHECKOUT = StateMachineSpec(
    name="checkout",
    description="One checkout: validate, reserve stock, price, authorise, create the order, publish, confirm",
    # A checkout is a request/response well under a second: POST /api/checkout waits for it with
    # StartSyncExecution, which only Express workflows offer. Every step is idempotent (keyed by the
    # checkout), so Express's at-least-once execution of a step cannot reserve, charge or order twice.
    workflow_type=WorkflowType.EXPRESS,
    functions=(CHECKOUT_STEPS,),
    arn_variable=CHECKOUT_STATE_MACHINE_VARIABLE,
)

WEBHOOK_DELIVERY = StateMachineSpec(
    name="webhook_delivery",
    description="Delivers an order event to the subscribed webhook endpoints, retried, then dead-lettered",
    # Retries over about ten minutes outlast an Express workflow's five, and an attempt must not repeat.
    workflow_type=WorkflowType.STANDARD,
    functions=(WEBHOOK_STEPS,),
    arn_variable="TALKSHOP_WEBHOOK_STATE_MACHINE_ARN",  # talkshop.commerce.webhooks.STATE_MACHINE_VARIABLE
)

STATE_MACHINES: tuple[StateMachineSpec, ...] = (CHECKOUT, WEBHOOK_DELIVERY)
