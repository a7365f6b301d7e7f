"""DynamoDB stream -> EventBridge: publishes the events the table recorded (the outbox relay).

Records whose events EventBridge did not take are reported (ReportBatchItemFailures), so Lambda
retries from the first of them; events after it may be published twice, and consumers drop
duplicates by the event's id.
"""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from talkshop.api.context import event_publisher
from talkshop.api.observability import logger, metrics, tracer


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    report = event_publisher().publish(event.get("Records", []))
    metrics.add_metric(name="EventsPublished", unit=MetricUnit.Count, value=report.published)
    if report.failed:
        logger.warning("events not published", extra={"sequence_numbers": report.failed})
        metrics.add_metric(name="EventPublishFailures", unit=MetricUnit.Count, value=len(report.failed))
    return {"batchItemFailures": [{"itemIdentifier": number} for number in report.failed]}
