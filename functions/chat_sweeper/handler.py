"""Scheduled: chats idle for 30 minutes become abandoned (each with a chat_abandoned event)."""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from talkshop.api.context import chat_sessions
from talkshop.api.observability import logger, metrics, tracer


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    abandoned = chat_sessions().sweep_abandoned()
    metrics.add_metric(name="ChatsAbandoned", unit=MetricUnit.Count, value=len(abandoned))
    return {"abandoned": len(abandoned)}
