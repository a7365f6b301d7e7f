"""DynamoDB stream -> search index.

A batch is indexed at once (one embedding batch). If that fails, its records are indexed one by one
and only those that fail again are reported, so Lambda retries just them (ReportBatchItemFailures)
and sends them to the dead-letter queue once retries run out.
"""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from talkshop.api.context import search_indexer
from talkshop.api.observability import logger, metrics, tracer
from talkshop.data.repository import entity_changes


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    records: list[dict[str, Any]] = event.get("Records", [])
    try:
        report = search_indexer().apply(entity_changes(records))
    except Exception:
        logger.exception("indexing the batch failed; retrying its records one by one")
    else:
        metrics.add_metric(name="ProductsIndexed", unit=MetricUnit.Count, value=len(report.indexed))
        metrics.add_metric(name="ProductsEmbedded", unit=MetricUnit.Count, value=report.embedded)
        return {"batchItemFailures": []}
    failures = []
    for record in records:
        try:
            search_indexer().apply(entity_changes([record]))
        except Exception:
            logger.exception(
                "indexing failed", extra={"sequence_number": record["dynamodb"]["SequenceNumber"]}
            )
            failures.append({"itemIdentifier": record["dynamodb"]["SequenceNumber"]})
    metrics.add_metric(name="IndexingFailures", unit=MetricUnit.Count, value=len(failures))
    return {"batchItemFailures": failures}
