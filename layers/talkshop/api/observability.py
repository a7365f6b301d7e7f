"""One Logger, Tracer and Metrics per function process.

Logs and traces are named after the function (POWERTOOLS_SERVICE_NAME, set by the CDK app). Metrics
keep one service dimension and a constant namespace, so that a module imported before the
environment is complete (tests, the local runtime) still emits valid metrics.
"""

import os

from aws_lambda_powertools import Logger, Metrics, Tracer

SERVICE = "talkshop"
METRICS_NAMESPACE = "Talkshop"

logger = Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME", SERVICE))
tracer = Tracer(service=os.environ.get("POWERTOOLS_SERVICE_NAME", SERVICE))
metrics = Metrics(namespace=METRICS_NAMESPACE, service=SERVICE)
