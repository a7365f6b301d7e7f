"""The Step Functions state machines of ``talkshop.api.state_machines.STATE_MACHINES`` and their steps.

Each state machine is deployed from its ASL file under ``statemachines/`` as it is (the file the local
runtime runs too): the Lambda functions its Task states invoke are named ``${<Name>FunctionArn}`` there and
filled in by CloudFormation's ``DefinitionSubstitutions``. The functions themselves (``checkout_steps``,
``webhook_steps``) are TalkshopFunctions built from the specs the state machine table lists; they are not
behind the API.

Every state machine has its own role, which may invoke only its own step functions (the unqualified ARN
the definition names), logs every event to its log group without execution data, and is traced with
X-Ray. Level ALL, because an Express workflow keeps no execution history: its log is the only record of
which state of a checkout failed and why. Without execution data, because the states carry the payment
token and the shipping address, which must not reach the logs. The same for Standard workflows (their
console history has the data, for the operators allowed to read it).

``STARTERS`` says which API functions start which state machine; each gets the machine's ARN in the
variable the spec names and may start it, synchronously (``states:StartSyncExecution``) for an Express
workflow, asynchronously (``states:StartExecution``) for a Standard one, and nothing else.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping

from aws_cdk import Acknowledgment, RemovalPolicy, Stack, Validations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from infra.constructs.functions import (
    LOG_RETENTION,
    FunctionSettings,
    TalkshopFunction,
    function_construct_id,
)
from talkshop.api.routes import ACP, COMMERCE, WEB, WEBHOOKS, FunctionSpec
from talkshop.api.state_machines import (
    CHECKOUT,
    STATE_MACHINES,
    WEBHOOK_DELIVERY,
    StateMachineSpec,
    WorkflowType,
    substitution_variable,
)

#: State machine name -> the API functions that start it.
STARTERS: Mapping[str, tuple[FunctionSpec, ...]] = {
    CHECKOUT.name: (COMMERCE, ACP, WEB),  # WEB: the checkout page's Complete purchase
    WEBHOOK_DELIVERY.name: (WEBHOOKS,),
}
#: Step Functions writes its logs through CloudWatch Logs' vended-log delivery; a group under this
#: prefix needs no resource policy (whose 5,120-character account limit many state machines would reach).
VENDED_LOGS_PREFIX = "/aws/vendedlogs/states/"
LOGGING_WILDCARD_REASON = (
    "CloudWatch Logs' log-delivery actions (logs:CreateLogDelivery, GetLogDelivery, UpdateLogDelivery, "
    "DeleteLogDelivery, ListLogDeliveries, PutResourcePolicy, DescribeResourcePolicies, DescribeLogGroups), "
    "which Step Functions needs to log to CloudWatch, and X-Ray's PutTraceSegments, PutTelemetryRecords, "
    "GetSamplingRules, GetSamplingTargets support no resource-level permissions."
)


def _construct_id(name: str) -> str:
    """``webhook_delivery`` -> ``WebhookDelivery``."""
    return "".join(part.capitalize() for part in name.split("_"))


def step_function_specs(state_machines: Iterable[StateMachineSpec]) -> list[FunctionSpec]:
    """The functions the state machines invoke, each once, in order of first use."""
    return list({function.name: function for spec in state_machines for function in spec.functions}.values())


class Workflow(Construct):
    """One state machine from its ASL file: ``state_machine``, its ``role`` and ``log_group``."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        spec: StateMachineSpec,
        functions: Mapping[str, lambda_.IFunction],
    ) -> None:
        super().__init__(scope, construct_id)
        self.spec = spec
        invoked = [functions[function.name] for function in spec.functions]
        self.substitutions = {
            substitution_variable(function): functions[function.name].function_arn
            for function in spec.functions
        }
        definition = spec.definition_path.read_text()
        # Fail the synth, not the first execution, on a placeholder without a function or invalid JSON.
        json.loads(spec.definition({function.name: "arn" for function in spec.functions}))
        self.log_group = logs.LogGroup(
            self,
            "Logs",
            log_group_name=f"{VENDED_LOGS_PREFIX}{Stack.of(self).stack_name}-{spec.name}",
            retention=LOG_RETENTION,
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("states.amazonaws.com"),
            description=f"Runs the {spec.name} state machine: invokes its step functions only",
        )
        self.role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="InvokeSteps",
                actions=["lambda:InvokeFunction"],
                resources=[function.function_arn for function in invoked],
            )
        )
        self.state_machine = sfn.StateMachine(
            self,
            "StateMachine",
            definition_body=sfn.DefinitionBody.from_string(definition),
            definition_substitutions=self.substitutions,
            state_machine_type=sfn.StateMachineType(spec.workflow_type.value),
            role=self.role,
            logs=sfn.LogOptions(
                destination=self.log_group, level=sfn.LogLevel.ALL, include_execution_data=False
            ),
            tracing_enabled=True,
        )
        Validations.of(self.role).acknowledge(
            Acknowledgment(id="AwsSolutions-IAM5[Resource::*]", reason=LOGGING_WILDCARD_REASON)
        )

    def allow_start(self, function: TalkshopFunction) -> None:
        """Let ``function`` start this state machine (only that) and tell it the ARN."""
        if self.spec.workflow_type is WorkflowType.EXPRESS:
            self.state_machine.grant_start_sync_execution(function.role)
        else:
            self.state_machine.grant_start_execution(function.role)
        function.function.add_environment(self.spec.arn_variable, self.state_machine.state_machine_arn)


class Workflows(Construct):
    """``functions`` (step function name -> TalkshopFunction) and ``machines`` (name -> Workflow)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        shared: FunctionSettings,
        state_machines: Iterable[StateMachineSpec] = STATE_MACHINES,
    ) -> None:
        super().__init__(scope, construct_id)
        specs = tuple(state_machines)
        self.functions: dict[str, TalkshopFunction] = {
            spec.name: TalkshopFunction(self, function_construct_id(spec), spec=spec, shared=shared)
            for spec in step_function_specs(specs)
        }
        self.machines: dict[str, Workflow] = {
            spec.name: Workflow(
                self,
                _construct_id(spec.name),
                spec=spec,
                functions={name: function.function for name, function in self.functions.items()},
            )
            for spec in specs
        }

    def allow_starters(self, api_functions: Mapping[str, TalkshopFunction]) -> None:
        """Wire ``STARTERS``: every state machine may be started by exactly the functions listed there."""
        unknown = set(STARTERS) - set(self.machines)
        if unknown:
            raise ValueError(f"STARTERS names state machines that do not exist: {sorted(unknown)}")
        for name, starters in STARTERS.items():
            for starter in starters:
                self.machines[name].allow_start(api_functions[starter.name])
