"""Runs one step of statemachines/webhook_delivery.asl.json: {"step": name, "state": {...}} -> new state.

Not behind the API. A failed attempt raises WebhookDeliveryFailed, the error name the state machine's
Retry (exponential backoff) and Catch (-> record_dead_letter) match on.
"""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from talkshop.api.context import repository
from talkshop.api.observability import logger, metrics, tracer
from talkshop.commerce.webhooks import run_step


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return run_step(str(event.get("step")), dict(event.get("state") or {}), repository())
