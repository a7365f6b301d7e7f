"""The Lambda runtime and architecture, shared by the functions and the layer's bundling.

The layer's wheels are downloaded for exactly these (``infra.bundling.pip_install_command`` derives
pip's ``--python-version`` and ``--platform`` from them), so functions and layer cannot drift apart.
PYTHON_3_14 is the newest Python runtime aws-cdk-lib knows, which is what cdk-nag AwsSolutions-L1 asks
for; bumping aws-cdk-lib may make L1 ask for a newer one.
"""

from __future__ import annotations

from aws_cdk import aws_lambda as lambda_

RUNTIME = lambda_.Runtime.PYTHON_3_14
ARCHITECTURE = lambda_.Architecture.ARM_64
#: On Lambda the code asset is the folder ``functions/<name>``.
HANDLER = "handler.lambda_handler"
