"""EventBridge -> analytics: counts one bus event (source "talkshop") into the metric items, once.

A redelivered event (EventBridge is at-least-once; the outbox may publish twice) is recognised by its
id and counts nothing. An event this consumer cannot read fails the invocation: EventBridge retries it
and then sends it to the rule's dead-letter queue.
"""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from talkshop.analytics.aggregate import consume
from talkshop.api.context import repository
from talkshop.api.observability import logger, metrics, tracer


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    counted = consume(repository(), event)
    metrics.add_metric(
        name="AnalyticsEventsCounted" if counted else "AnalyticsDuplicates", unit=MetricUnit.Count, value=1
    )
    return {"counted": counted}
