"""TalkshopStack: storage, admin key, layers, functions, API and its firewall, search domain and indexer."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aws_cdk import CfnOutput, Stack
from constructs import Construct

from infra.constructs.api import Api, Throttling
from infra.constructs.firewall import Firewall
from infra.constructs.functions import ApiFunctions, SearchWiring
from infra.constructs.indexer import SearchIndexer
from infra.constructs.layer import TalkshopLayer
from infra.constructs.search import (
    DEV,
    SEARCH_READ_ACTIONS,
    SEARCH_WRITE_ACTIONS,
    Search,
    SearchDomainProfile,
    domain_name_for,
)
from infra.constructs.search_layer import SearchLayer
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
        search_profile: SearchDomainProfile = DEV,
        search_domain_name: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.storage = Storage(self, "Storage")
        self.admin_key = AdminKeySecret(self, "AdminKey")
        self.layer = TalkshopLayer(self, "Layer")
        self.search_layer = SearchLayer(self, "SearchLayer")
        self.search = Search(
            self,
            "Search",
            domain_name=search_domain_name or domain_name_for(self.stack_name),
            profile=search_profile,
        )
        searching = SearchWiring(
            layer=self.search_layer.layer, search=self.search, actions=SEARCH_READ_ACTIONS
        )
        self.api_functions = ApiFunctions(
            self,
            "Functions",
            table=self.storage.table,
            layer=self.layer.layer,
            admin_key=self.admin_key.secret,
            log_level=log_level,
            cors_allow_origins=cors_allow_origins,
            search=searching,
        )
        self.search_indexer = SearchIndexer(
            self,
            "SearchIndexer",
            table=self.storage.table,
            layer=self.layer.layer,
            admin_key=self.admin_key.secret,
            search=SearchWiring(
                layer=self.search_layer.layer, search=self.search, actions=SEARCH_WRITE_ACTIONS
            ),
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
        CfnOutput(
            self,
            "SearchDomainEndpoint",
            value=self.search.endpoint,
            description="OpenSearch domain endpoint (host name) of the product search index",
        )
        CfnOutput(
            self,
            "SearchDeadLetterQueueUrl",
            value=self.search_indexer.dead_letter_queue.queue_url,
            description="Batches of table changes the search indexer gave up on",
        )
