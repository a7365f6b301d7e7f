"""TalkshopStack: storage, secrets, layers, functions, API and firewall, search, events, sweeper, commerce
workflows (checkout, webhook delivery), alarms, and the web client behind CloudFront."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aws_cdk import CfnOutput, Stack
from constructs import Construct

from infra.constructs.analytics import AnalyticsConsumer
from infra.constructs.api import Api, Throttling
from infra.constructs.events import EventBus, event_bus_name_for
from infra.constructs.firewall import Firewall
from infra.constructs.functions import (
    ApiFunctions,
    FunctionSettings,
    LlmWiring,
    PaymentsWiring,
    SearchWiring,
    TalkshopFunction,
)
from infra.constructs.idempotency import IdempotencyTable
from infra.constructs.indexer import SearchIndexer
from infra.constructs.layer import TalkshopLayer
from infra.constructs.llm import LlmSecret
from infra.constructs.llm_layer import LlmLayer
from infra.constructs.monitoring import (
    DEFAULT_LLM_DAILY_BUDGET_USD,
    Dashboard,
    FunctionAlarms,
    OpsAlarms,
    WorkflowAlarms,
)
from infra.constructs.payments import PaymentsSecret
from infra.constructs.payments_layer import PaymentsLayer
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
from infra.constructs.web import WebClient, WebDomain
from infra.constructs.webhook_trigger import WebhookTrigger
from infra.constructs.workflows import Workflows
from talkshop.api import cors
from talkshop.api.routes import CHAT_MESSAGE
from talkshop.api.state_machines import CHECKOUT, WEBHOOK_DELIVERY
from talkshop.commerce.payments.providers import TEST_PAYMENTS
from talkshop.settings import PUBLIC_URL_VARIABLE, SHOP_NAME_VARIABLE


class TalkshopStack(Stack):
    @property
    def all_functions(self) -> list[TalkshopFunction]:
        """The API's functions, then those outside it (indexer, publisher, sweeper, state machine steps)."""
        return [
            *self.api_functions.functions.values(),
            self.search_indexer.function,
            self.event_publisher.function,
            self.chat_sweeper.function,
            self.analytics.function,
            *self.workflows.functions.values(),
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
        payment_provider: str = TEST_PAYMENTS,
        payments_secret_arn: str | None = None,
        public_url: str | None = None,
        shop_name: str | None = None,
        web_domain: WebDomain | None = None,
        web_acl_arn: str | None = None,
        llm_daily_budget_usd: float = DEFAULT_LLM_DAILY_BUDGET_USD,
        alarm_email: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.storage = Storage(self, "Storage")
        self.admin_key = AdminKeySecret(self, "AdminKey")
        self.llm_secret = LlmSecret(self, "LlmSecret", existing_arn=llm_secret_arn)
        self.layer = TalkshopLayer(self, "Layer")
        self.search_layer = SearchLayer(self, "SearchLayer")
        self.llm_layer = LlmLayer(self, "LlmLayer")
        self.idempotency = IdempotencyTable(self, "Idempotency")
        self.payments_secret = PaymentsSecret(self, "PaymentsSecret", existing_arn=payments_secret_arn)
        self.payments_layer = PaymentsLayer(self, "PaymentsLayer")
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
            idempotency=self.idempotency,
            payments=PaymentsWiring(
                layer=self.payments_layer.layer, secret=self.payments_secret.secret, provider=payment_provider
            ),
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
        self.workflows = Workflows(self, "Workflows", shared=shared)
        self.workflows.allow_starters(self.api_functions.functions)
        checkout = self.workflows.machines[CHECKOUT.name].state_machine
        webhook_delivery = self.workflows.machines[WEBHOOK_DELIVERY.name].state_machine
        self.webhook_trigger = WebhookTrigger(
            self, "WebhookTrigger", event_bus=self.event_bus, state_machine=webhook_delivery
        )
        self.analytics = AnalyticsConsumer(self, "Analytics", shared=shared, event_bus=self.event_bus)
        self.chat_alarms = FunctionAlarms(
            self, "ChatMessageAlarms", function=self.api_functions.functions[CHAT_MESSAGE.name]
        )
        # A failed checkout is often a declined card or a sold-out item; a failed webhook delivery never is
        # (an endpoint that keeps failing ends in a dead-letter record, and the execution succeeds).
        self.checkout_alarms = WorkflowAlarms(
            self, "CheckoutAlarms", name=CHECKOUT.name, state_machine=checkout, expected_failures=True
        )
        self.webhook_delivery_alarms = WorkflowAlarms(
            self,
            "WebhookDeliveryAlarms",
            name=WEBHOOK_DELIVERY.name,
            state_machine=webhook_delivery,
            expected_failures=False,
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
                *self.checkout_alarms.alarms,
                *self.webhook_delivery_alarms.alarms,
                self.webhook_trigger.dead_letter_alarm,
                self.analytics.dead_letter_alarm,
            ],
            state_machines={
                name: workflow.state_machine for name, workflow in self.workflows.machines.items()
            },
        )
        self.api = Api(
            self,
            "Api",
            functions={name: f.function for name, f in self.api_functions.functions.items()},
            throttling=throttling,
            cors_allow_origins=cors_allow_origins,
        )
        # Chat latency, API error rate and LLM spend; its topic is the action of every alarm of the stack.
        self.ops_alarms = OpsAlarms(
            self,
            "OpsAlarms",
            chat_function=self.api_functions.functions[CHAT_MESSAGE.name],
            rest_api=self.api.rest_api,
            llm_daily_budget_usd=llm_daily_budget_usd,
            alarm_email=alarm_email,
        )
        self.dashboard.show_ops(self.ops_alarms)
        self.web = WebClient(self, "Web", api=self.api, domain=web_domain, web_acl_arn=web_acl_arn)
        # Where shoppers and agents reach the shop: the web client's address, the base of the links in
        # pages, ACP answers and feeds. (The functions may name the distribution: it depends on the API's
        # id only, not on the deployment that depends on the functions.)
        shop = {PUBLIC_URL_VARIABLE: public_url or self.web.url} | (
            {SHOP_NAME_VARIABLE: shop_name} if shop_name else {}
        )
        for function in self.api_functions.functions.values():
            for name, value in shop.items():
                function.function.add_environment(name, value)
        self.firewall = Firewall(
            self, "Firewall", stage=self.api.rest_api.deployment_stage, rate_limit=waf_rate_limit
        )
        CfnOutput(self, "ApiUrl", value=self.api.rest_api.url, description="Base URL of the API stage")
        CfnOutput(
            self,
            "WebUrl",
            value=self.web.url,
            description="The web client (CloudFront): open <WebUrl>/chat; the API answers under <WebUrl>/api",
        )
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
        CfnOutput(
            self,
            "CheckoutStateMachineArn",
            value=checkout.state_machine_arn,
            description="Express state machine of one checkout (statemachines/checkout.asl.json)",
        )
        CfnOutput(
            self,
            "WebhookStateMachineArn",
            value=webhook_delivery.state_machine_arn,
            description="Standard state machine delivering order events to webhooks",
        )
        CfnOutput(
            self,
            "WebhookDeadLetterQueueUrl",
            value=self.webhook_trigger.dead_letter_queue.queue_url,
            description="Order events EventBridge could not start a webhook delivery for",
        )
        CfnOutput(
            self,
            "IdempotencyTableName",
            value=self.idempotency.table.table_name,
            description="DynamoDB table of Idempotency-Key records (expire after 24 hours)",
        )
        CfnOutput(
            self,
            "PaymentsSecretArn",
            value=self.payments_secret.secret.secret_arn,
            description="Secrets Manager secret holding the payment provider's secret key (Stripe)",
        )
