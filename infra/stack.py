"""TalkshopStack: storage, secrets, layers, functions, API and firewall, search, events, sweeper, alarms."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aws_cdk import CfnOutput, Stack
from constructs import Construct

from infra.constructs.api import Api, Throttling
from infra.constructs.events import EventBus, event_bus_name_for
from infra.constructs.firewall import Firewall
from infra.constructs.functions import (
    ApiFunctions,
    FunctionSettings,
    LlmWiring,
    SearchWiring,
    TalkshopFunction,
)
from infra.constructs.indexer import SearchIndexer
from infra.constructs.layer import TalkshopLayer
from infra.constructs.llm import LlmSecret
from infra.constructs.llm_layer import LlmLayer
from infra.constructs.monitoring import Dashboard, FunctionAlarms
from infra.constructs.publisher import EventPublisher
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
from infra.constructs.sweeper import ChatSweeper
from talkshop.api import cors
from talkshop.api.routes import CHAT_MESSAGE


class TalkshopStack(Stack):
    @property
    def all_functions(self) -> list[TalkshopFunction]:
        """The API's functions, then those outside it (indexer, publisher, sweeper)."""
        return [
            *self.api_functions.functions.values(),
            self.search_indexer.function,
            self.event_publisher.function,
            self.chat_sweeper.function,
        ]

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
        llm_secret_arn: str | None = None,
        llm_environment: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.storage = Storage(self, "Storage")
        self.admin_key = AdminKeySecret(self, "AdminKey")
        self.llm_secret = LlmSecret(self, "LlmSecret", existing_arn=llm_secret_arn)
        self.layer = TalkshopLayer(self, "Layer")
        self.search_layer = SearchLayer(self, "SearchLayer")
        self.llm_layer = LlmLayer(self, "LlmLayer")
        self.event_bus = EventBus(self, "Events", bus_name=event_bus_name_for(self.stack_name))
        self.search = Search(
            self,
            "Search",
            domain_name=search_domain_name or domain_name_for(self.stack_name),
            profile=search_profile,
        )
        searching = SearchWiring(
            layer=self.search_layer.layer, search=self.search, actions=SEARCH_READ_ACTIONS
        )
        shared = FunctionSettings(
            table=self.storage.table,
            layer=self.layer.layer,
            admin_key=self.admin_key.secret,
            log_level=log_level,
            cors_allow_origins=cors_allow_origins,
        )
        self.api_functions = ApiFunctions(
            self,
            "Functions",
            shared=shared,
            search=searching,
            llm=LlmWiring(
                layer=self.llm_layer.layer,
                secret=self.llm_secret.secret,
                environment=dict(llm_environment or {}),
            ),
        )
        self.search_indexer = SearchIndexer(
            self,
            "SearchIndexer",
            shared=shared,
            search=SearchWiring(
                layer=self.search_layer.layer, search=self.search, actions=SEARCH_WRITE_ACTIONS
            ),
        )
        self.event_publisher = EventPublisher(self, "EventPublisher", shared=shared, event_bus=self.event_bus)
        self.chat_sweeper = ChatSweeper(self, "ChatSweeper", shared=shared)
        self.chat_alarms = FunctionAlarms(
            self, "ChatMessageAlarms", function=self.api_functions.functions[CHAT_MESSAGE.name]
        )
        self.dashboard = Dashboard(
            self,
            "Monitoring",
            dashboard_name=self.stack_name,
            functions=self.all_functions,
            alarms=[
                *self.chat_alarms.alarms,
                self.search_indexer.dead_letter_alarm,
                self.event_publisher.dead_letter_alarm,
            ],
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
        CfnOutput(
            self,
            "EventBusName",
            value=self.event_bus.bus.event_bus_name,
            description="EventBridge bus of the domain events",
        )
        CfnOutput(
            self,
            "EventDeadLetterQueueUrl",
            value=self.event_publisher.dead_letter_queue.queue_url,
            description="Batches of recorded events the event publisher gave up on",
        )
        CfnOutput(
            self,
            "LlmSecretArn",
            value=self.llm_secret.secret.secret_arn,
            description="Secrets Manager secret holding the LLM providers' API keys (JSON)",
        )
