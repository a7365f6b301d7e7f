"""Runs one step of statemachines/checkout.asl.json: {"step": name, "state": CheckoutState} -> new state.

Not behind the API. A step's failure leaves the function as an exception whose class name is the
error name the state machine matches (Lambda reports it as `errorType`): `CheckoutRetryable` for a
failure worth trying again (the state machine retries it with backoff), `CheckoutStepFailed` for the
rest (caught, compensated). The message is the step error's JSON (code, message), which the Catch
keeps in the state's `error` for the compensations and the caller.
"""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from talkshop.api.observability import logger, metrics, tracer
from talkshop.commerce.checkout_steps import STEPS, CheckoutState, CheckoutStepError


class CheckoutRetryable(Exception):
    """A transient failure (payment provider unavailable, concurrent write): the same step may succeed."""


class CheckoutStepFailed(Exception):
    """A definitive failure (declined, out of stock, invalid cart): the state machine compensates."""


def _failed(code: str, message: str) -> CheckoutStepFailed:
    return CheckoutStepFailed(str(CheckoutStepError(code, message)))


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    name = str(event.get("step"))
    metrics.add_metric(name="CheckoutStepRuns", unit=MetricUnit.Count, value=1)
    step = STEPS.get(name)
    if step is None:
        raise _failed("unknown_step", f"The checkout has no step {name!r}.")
    try:
        state = CheckoutState.model_validate(event.get("state"))
    except ValidationError as error:
        # Where and what, never the values: the state carries the payment token.
        problems = "; ".join(
            f"{'.'.join(str(part) for part in problem['loc']) or 'state'}: {problem['msg']}"
            for problem in error.errors(include_input=False, include_url=False)
        )
        raise _failed("invalid_state", f"The {name} step got an invalid state: {problems}") from None
    try:
        result = step(state)
    except CheckoutStepError as error:
        metrics.add_metric(name="CheckoutStepFailures", unit=MetricUnit.Count, value=1)
        logger.info("step failed", extra={"step": name, "code": error.code, "retryable": error.retryable})
        raise (CheckoutRetryable if error.retryable else CheckoutStepFailed)(str(error)) from error
    return result.model_dump(mode="json")
