"""The one seam between the local state machines and our code: a Lambda Task runs our handler in-process.

moto's Step Functions interpreter (`execute_state_machine`) runs the ASL files for real, but it invokes
a Lambda function through moto's Lambda, which without Docker answers the function's input without
running any code. Every Lambda invocation of that interpreter, for both Task forms
(`arn:aws:states:::lambda:invoke` and a function ARN as Resource), goes through one function,
`lambda_eval_utils._invoke_lambda_function(parameters, region, state_credentials)`; `install` replaces it
with `InProcessLambdas.invoke`, which calls `functions/<name>/handler.lambda_handler` as Lambda would.

Why this seam rather than another: registering stand-in functions in moto's Lambda and patching its
invoke would need deployment packages and roles for functions that never run there, and patches a
larger surface; re-implementing the flow in Python would leave the ASL untested. Replacing one
function keeps the interpreter (Parameters, ResultSelector, Retry, Catch, Fail) entirely moto's. It
depends on a private name, so `install` fails loudly if a moto upgrade removes it (moto is pinned < 6).

The contract is AWS Lambda's, so Retry and Catch behave as on AWS:
- FunctionName (a name or ARN, optionally qualified) names a registered `FunctionSpec`; any other
  function fails the Task with `Lambda.ResourceNotFoundException`;
- the handler's return value is the Payload;
- an exception becomes FunctionError `Unhandled` with the Python runtime's error payload, whose
  `errorType` (the exception's class name) is the error name the state machine sees.

Steps run one at a time with the rest of the runtime (`InvocationLock`): moto's conditional writes and
transactions are not atomic across threads.
"""

from __future__ import annotations

import json
import logging
import threading
import traceback
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from types import TracebackType
from typing import Any

from botocore.exceptions import ClientError
from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils

from talkshop.api.routes import FunctionSpec
from talkshop.local.apigateway import LambdaHandler, LocalLambdaContext
from talkshop.local.invoke import handler_for

_log = logging.getLogger(__name__)
_PATCHED_NAME = "_invoke_lambda_function"
_original_invoke = getattr(lambda_eval_utils, _PATCHED_NAME, None)
# The Python runtime's FunctionError for an exception the handler did not catch.
UNHANDLED = "Unhandled"


def local_function_arn(function: FunctionSpec, region: str, account_id: str) -> str:
    return f"arn:aws:lambda:{region}:{account_id}:function:{function.name}"


def function_name(reference: str) -> str:
    """The function's name from a name, a full or partial ARN, with or without a qualifier."""
    parts = reference.split(":")
    if reference.startswith("arn:"):
        return parts[6] if len(parts) > 6 else ""
    if len(parts) >= 3 and parts[1] == "function":  # partial ARN: <account>:function:<name>[:qualifier]
        return parts[2]
    return parts[0]


def error_payload(error: BaseException, request_id: str) -> dict[str, Any]:
    """What the Python runtime answers for an unhandled exception."""
    return {
        "errorMessage": str(error),
        "errorType": type(error).__name__,
        "requestId": request_id,
        "stackTrace": traceback.format_list(traceback.extract_tb(error.__traceback__)),
    }


class InvocationLock:
    """One invocation at a time in the local runtime: a request (`with lock:`), the sweeper, a step.

    moto runs every Task state on a thread of its own. A request that starts a synchronous execution
    holds this lock while it waits for the result, so the execution's steps cannot take it from their
    threads; the request lends its hold instead (`lent`, entered by the holder), and while it is lent,
    steps run one at a time among themselves (the holder is blocked, so nothing else runs). When it is
    not lent, a step (a Standard workflow's, on moto's background thread) waits for the request in
    flight like any other writer.
    """

    def __init__(self) -> None:
        self._held = threading.RLock()
        self._lent_hold = threading.Lock()
        self._lent = 0

    def __enter__(self) -> None:
        self._held.acquire()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._held.release()

    @contextmanager
    def lent(self) -> Iterator[None]:
        with self._held:  # only the holder can lend (re-entrant: a no-op for it)
            self._lent += 1
            try:
                yield
            finally:
                self._lent -= 1

    @contextmanager
    def step(self) -> Iterator[None]:
        with self._lent_hold if self._lent else self._held:
            yield


class InProcessLambdas:
    def __init__(
        self,
        functions: Iterable[FunctionSpec],
        guard: Callable[[], AbstractContextManager[Any]],
        resolve: Callable[[FunctionSpec], LambdaHandler] = handler_for,
    ) -> None:
        self.functions = {function.name: function for function in functions}
        self.guard = guard
        self.resolve = resolve

    def invoke(self, parameters: dict[str, Any], region: str, state_credentials: Any) -> dict[str, Any]:
        """Stands in for `lambda_eval_utils._invoke_lambda_function`: same arguments, same answer."""
        reference = str(parameters.get("FunctionName", ""))
        function = self.functions.get(function_name(reference))
        if function is None:
            raise ClientError(
                {
                    "Error": {
                        "Code": "ResourceNotFoundException",
                        "Message": f"Function not found: {reference}",
                    },
                    "ResponseMetadata": {
                        "HTTPStatusCode": 404,
                        "RequestId": "local",
                        "HTTPHeaders": {},
                        "HostId": "",
                        "RetryAttempts": 0,
                    },
                },
                "Invoke",
            )
        raw = parameters.get("Payload") or b"{}"
        event = json.loads(raw.decode("utf-8") if isinstance(raw, bytes) else raw)
        context = LocalLambdaContext(function.name, function.timeout_s, function.memory_mb)
        with self.guard():
            try:
                result = self.resolve(function)(event, context)
            except Exception as error:
                # Lambda logs an unhandled error too; its stack trace travels in the payload, as on AWS.
                _log.info("%s failed: %s: %s", function.name, type(error).__name__, error)
                return {
                    "StatusCode": 200,
                    "FunctionError": UNHANDLED,
                    "ExecutedVersion": "$LATEST",
                    "Payload": error_payload(error, context.aws_request_id),
                }
        # Through JSON as on AWS: the state machine sees exactly what Lambda would have serialised.
        return {"StatusCode": 200, "ExecutedVersion": "$LATEST", "Payload": json.loads(json.dumps(result))}


def install(
    functions: Iterable[FunctionSpec],
    guard: Callable[[], AbstractContextManager[Any]],
    resolve: Callable[[FunctionSpec], LambdaHandler] = handler_for,
) -> InProcessLambdas:
    """Routes the interpreter's Lambda invocations to `functions` (their handler modules, or what
    `resolve` answers for them in tests), each run inside `guard()` (`InvocationLock.step` in the local
    runtime), until `uninstall`."""
    if _original_invoke is None:
        raise RuntimeError(
            f"moto's Step Functions interpreter no longer has lambda_eval_utils.{_PATCHED_NAME}: "
            "talkshop.local.lambdas must be adapted to this moto version."
        )
    lambdas = InProcessLambdas(functions, guard, resolve)
    setattr(lambda_eval_utils, _PATCHED_NAME, lambdas.invoke)
    return lambdas


def uninstall() -> None:
    if _original_invoke is not None:
        setattr(lambda_eval_utils, _PATCHED_NAME, _original_invoke)
