"""One Logger, Tracer and Metrics per function process.

Service and namespace are product constants rather than environment lookups, so that a module
imported before the environment is complete (tests, the local runtime) still emits valid metrics.
"""

from aws_lambda_powertools import Logger, Metrics, Tracer

SERVICE = "talkshop"
METRICS_NAMESPACE = "Talkshop"

logger = Logger(service=SERVICE)
tracer = Tracer(service=SERVICE)
metrics = Metrics(namespace=METRICS_NAMESPACE, service=SERVICE)
