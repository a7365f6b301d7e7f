"""Scheduled: chats idle for 30 minutes become abandoned (each with a chat_abandoned event), and
checkouts whose execution died are finished (CheckoutSteps.sweep_stale: rolled back, or forward once
their order exists)."""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from talkshop.api.context import chat_sessions
from talkshop.api.observability import logger, metrics, tracer
from talkshop.commerce.checkout_steps import default_steps


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    abandoned = chat_sessions().sweep_abandoned()
    metrics.add_metric(name="ChatsAbandoned", unit=MetricUnit.Count, value=len(abandoned))
    swept = default_steps().sweep_stale()
    metrics.add_metric(name="CheckoutsAbandoned", unit=MetricUnit.Count, value=len(swept.abandoned))
    metrics.add_metric(name="ReservationsReleased", unit=MetricUnit.Count, value=len(swept.released))
    metrics.add_metric(name="PlacedOrdersCaptured", unit=MetricUnit.Count, value=len(swept.paid))
    return {
        "abandoned": len(abandoned),
        "checkoutsAbandoned": len(swept.abandoned),
        "reservationsReleased": len(swept.released),
        "ordersPaid": len(swept.paid),
    }
