"""Step Functions in the local runtime: the state machines of `talkshop.api.state_machines`, created in
moto from the same ASL files the CDK app deploys, and run by moto's ASL interpreter.

moto 5.2 executes state machines (`{"stepfunctions": {"execute_state_machine": True}}`) but does not
serve StartSyncExecution, which the checkout uses on AWS. `install` adds that one action to moto's
Step Functions API, running moto's own `SyncExecution` (the caller waits for the execution's end and gets
its result), so `StepFunctionsCheckoutRunner` makes the same call locally as on AWS. botocore sends
StartSyncExecution to the `sync-states.` host, which moto does not route, so the local process turns host
prefixes off (AWS_DISABLE_HOST_PREFIX_INJECTION); as on AWS, an Express execution is not kept for
DescribeExecution (keeping it would only grow the process's memory).

Lambda Task states run our handlers through `talkshop.local.lambdas` (the seam).
"""

from __future__ import annotations

import datetime
import functools
import json
import logging
import os
import uuid
from collections.abc import Callable, Iterable, Mapping
from contextlib import AbstractContextManager, nullcontext
from typing import TYPE_CHECKING, Any

from moto.core.exceptions import AWSError
from moto.core.responses import ActionResult
from moto.stepfunctions.exceptions import InvalidExecutionInput
from moto.stepfunctions.parser.api import StateMachineType
from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
from moto.stepfunctions.parser.backend.execution import SyncExecution
from moto.stepfunctions.responses import StepFunctionResponse

from talkshop.api.routes import FunctionSpec
from talkshop.api.state_machines import StateMachineSpec, WorkflowType
from talkshop.local import lambdas

if TYPE_CHECKING:
    from mypy_boto3_stepfunctions.client import SFNClient

# The role the state machines are created with; moto checks only that it looks like a role ARN.
LOCAL_ROLE_ARN = "arn:aws:iam::123456789012:role/talkshop-local-state-machines"
HOST_PREFIX_VARIABLE = "AWS_DISABLE_HOST_PREFIX_INJECTION"
# moto runs the definitions only when configured so (otherwise an execution succeeds without running).
MOTO_CONFIG: Any = {"stepfunctions": {"execute_state_machine": True}}


class StateMachineTypeNotSupported(AWSError):
    TYPE = "StateMachineTypeNotSupported"


def _start_sync_execution(self: StepFunctionResponse) -> ActionResult:
    backend = self.stepfunction_backend
    state_machine = backend.describe_state_machine(self._get_param("stateMachineArn"))
    if state_machine.type != WorkflowType.EXPRESS:
        raise StateMachineTypeNotSupported("StartSyncExecution is only available for Express workflows.")
    execution_input = self._get_param("input", if_none="{}")
    try:
        json.loads(execution_input)
    except ValueError as error:
        raise InvalidExecutionInput(str(error)) from error
    name = self._get_param("name") or uuid.uuid4().hex
    execution = SyncExecution(
        name=name,
        sm_type=StateMachineType(state_machine.type),
        role_arn=state_machine.roleArn,
        exec_arn=f"arn:aws:states:{backend.region_name}:{backend.account_id}:express:"
        f"{state_machine.name}:{name}:{uuid.uuid4()}",
        account_id=backend.account_id,
        region_name=backend.region_name,
        state_machine=state_machine,  # type: ignore[arg-type]  # as moto's own start_execution passes it
        start_date=datetime.datetime.now(tz=datetime.UTC),
        cloud_watch_logging_session=None,
        activity_store={},
        input_data=execution_input,
    )
    with _caller_waits():  # the caller blocks until the execution ends: its steps may run meanwhile
        execution.start()
    return ActionResult(execution.to_start_sync_execution_output())


_caller_waits: Callable[[], AbstractContextManager[Any]] = nullcontext


def install(caller_waits: Callable[[], AbstractContextManager[Any]] = nullcontext) -> None:
    """Adds StartSyncExecution to moto (call before the mock starts: clients read the host-prefix
    setting when created); each synchronous execution runs inside `caller_waits()`
    (`InvocationLock.lent` in the local runtime). Also quiets the interpreter's log, which reports
    every failed state at ERROR: a failed checkout is an answer to its caller, not a server fault."""
    global _caller_waits
    _caller_waits = caller_waits
    os.environ[HOST_PREFIX_VARIABLE] = "true"
    StepFunctionResponse.start_sync_execution = _start_sync_execution  # type: ignore[attr-defined]
    _parse_each_definition_once()
    logging.getLogger("moto.stepfunctions.parser.asl.component.eval_component").setLevel(logging.CRITICAL)


def _parse_each_definition_once() -> None:
    """moto's interpreter parses the ASL text again for every execution (~35 ms with its ANTLR
    grammar); the parsed program holds no execution state (that lives in each execution's
    environment), so one parse per definition serves every execution of it."""
    parse = AmazonStateLanguageParser.parse
    if not hasattr(parse, "cache_info"):
        AmazonStateLanguageParser.parse = staticmethod(functools.lru_cache(maxsize=16)(parse))  # type: ignore[method-assign]


def create_state_machines(
    client: SFNClient, state_machines: Iterable[StateMachineSpec], function_arns: Mapping[str, str]
) -> dict[str, str]:
    """Creates each state machine from its ASL file with the functions' ARNs substituted; answers
    state machine name -> ARN."""
    arns: dict[str, str] = {}
    for spec in state_machines:
        created = client.create_state_machine(
            name=spec.name,
            definition=spec.definition(function_arns),
            roleArn=LOCAL_ROLE_ARN,
            type=spec.workflow_type.value,
        )
        arns[spec.name] = created["stateMachineArn"]
    return arns


def step_functions(state_machines: Iterable[StateMachineSpec]) -> dict[str, FunctionSpec]:
    """The Lambda functions the state machines invoke, by name."""
    return {function.name: function for spec in state_machines for function in spec.functions}


def start_state_machines(
    client: SFNClient,
    state_machines: Iterable[StateMachineSpec],
    guard: Callable[[], AbstractContextManager[Any]],
    region: str,
    account_id: str,
) -> dict[str, str]:
    """Routes the functions the state machines invoke to their handlers (the seam; each invocation
    inside `guard()`), then creates the state machines with those functions' ARNs; answers state
    machine name -> ARN."""
    specs = tuple(state_machines)
    functions = step_functions(specs)
    lambdas.install(functions.values(), guard)
    arns = {
        name: lambdas.local_function_arn(function, region, account_id) for name, function in functions.items()
    }
    return create_state_machines(client, specs, arns)
