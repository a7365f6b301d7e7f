"""TalkshopStack: storage, admin key, layer, functions, API and its firewall."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aws_cdk import CfnOutput, Stack
from constructs import Construct

from infra.constructs.api import Api, Throttling
from infra.constructs.firewall import Firewall
from infra.constructs.functions import ApiFunctions
from infra.constructs.layer import TalkshopLayer
from infra.constructs.secrets import AdminKeySecret
from infra.constructs.storage import Storage
from talkshop.api import cors


class TalkshopStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        log_level: str = "INFO",
        throttling: Throttling = Throttling(),  # noqa: B008 - frozen dataclass, safe as a default
        waf_rate_limit: int = 1000,
        cors_allow_origins: Sequence[str] = (cors.ANY_ORIGIN,),
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.storage = Storage(self, "Storage")
        self.admin_key = AdminKeySecret(self, "AdminKey")
        self.layer = TalkshopLayer(self, "Layer")
        self.api_functions = ApiFunctions(
            self,
            "Functions",
            table=self.storage.table,
            layer=self.layer.layer,
            admin_key=self.admin_key.secret,
            log_level=log_level,
            cors_allow_origins=cors_allow_origins,
        )
        self.api = Api(
            self,
            "Api",
            functions={name: f.function for name, f in self.api_functions.functions.items()},
            throttling=throttling,
            cors_allow_origins=cors_allow_origins,
        )
        self.firewall = Firewall(
            self, "Firewall", stage=self.api.rest_api.deployment_stage, rate_limit=waf_rate_limit
        )
        CfnOutput(self, "ApiUrl", value=self.api.rest_api.url, description="Base URL of the API stage")
        CfnOutput(self, "TableName", value=self.storage.table.table_name, description="DynamoDB table")
        CfnOutput(
            self,
            "AdminKeySecretArn",
            value=self.admin_key.secret.secret_arn,
            description="Secrets Manager secret holding the admin API key",
        )
