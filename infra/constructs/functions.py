"""One Lambda function per ``talkshop.api.routes.FUNCTIONS`` entry, each with its own least-privilege role.

``TalkshopFunction`` is also what ``infra.constructs.indexer`` builds the search indexer (a FunctionSpec
outside FUNCTIONS) from. A spec with ``uses_search`` gets the search layer, the OpenSearch variables and
``es:ESHttp*`` on the domain (``SearchWiring``); one with ``uses_llm`` gets the LLM layer, the LLM secret's
ARN with read access and the LLM configuration variables (``LlmWiring``). The others get none of it.
Likewise ``uses_payments`` (the payments layer, the provider's name and its secret key, ``PaymentsWiring``)
and ``uses_idempotency`` (the idempotency table), both carried by ``FunctionSettings``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from aws_cdk import Acknowledgment, Duration, RemovalPolicy, Stack, Validations
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from infra.constructs.idempotency import IdempotencyTable
from infra.constructs.layer import ASSET_EXCLUDES
from infra.constructs.llm import LLM_SECRET_VARIABLE
from infra.constructs.runtime import ARCHITECTURE, HANDLER, RUNTIME
from infra.paths import FUNCTIONS_DIR
from talkshop.api import cors
from talkshop.api.observability import METRICS_NAMESPACE
from talkshop.api.routes import FUNCTIONS, FunctionSpec, TableAccess
from talkshop.commerce.payments.providers import PAYMENTS_VARIABLE, STRIPE_SECRET_VARIABLE
from talkshop.settings import (
    ADMIN_KEY_SECRET_VARIABLE,
    OPENSEARCH,
    OPENSEARCH_ENDPOINT_VARIABLE,
    OPENSEARCH_INDEX_VARIABLE,
    OPENSEARCH_REPLICAS_VARIABLE,
    SEARCH_BACKEND_VARIABLE,
    SINGLE_THREADED_BLAS,
    TABLE_NAME_VARIABLE,
)

if TYPE_CHECKING:
    from infra.constructs.search import Search

#: Table actions per access level; the write set never reaches a READ function.
READ_ACTIONS: tuple[str, ...] = ("dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query")
WRITE_ACTIONS: tuple[str, ...] = (
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:ConditionCheckItem",
)
TABLE_ACTIONS: dict[TableAccess, tuple[str, ...]] = {
    TableAccess.READ: READ_ACTIONS,
    TableAccess.READ_WRITE: READ_ACTIONS + WRITE_ACTIONS,
}

LOG_RETENTION = logs.RetentionDays.ONE_MONTH
#: The domain endpoint's variable, as ``talkshop.search.opensearch.ENDPOINT_VARIABLE`` names it (a test
#: checks): importing that module here would import numpy and opensearch-py into every synth.

XRAY_WILDCARD_REASON = "X-Ray PutTraceSegments/PutTelemetryRecords support no resource-level permissions."


@dataclass(frozen=True)
class PaymentsWiring:
    """What a ``uses_payments`` function gets: the payments layer, the provider's name and its secret key."""

    layer: lambda_.ILayerVersion
    secret: secretsmanager.ISecret
    #: ``TALKSHOP_PAYMENTS``: ``test`` or ``stripe`` (``infra.constructs.payments.payment_provider``).
    provider: str


@dataclass(frozen=True)
class FunctionSettings:
    """What every function of the stack shares; each construct adds only what makes its functions differ.

    Like the admin key, the idempotency table and the payments wiring reach only the functions whose spec
    asks for them (``uses_idempotency``, ``uses_payments``); a spec that asks without them fails the synth.
    """

    table: dynamodb.ITable
    layer: lambda_.ILayerVersion
    admin_key: secretsmanager.ISecret
    log_level: str = "INFO"
    cors_allow_origins: Sequence[str] = (cors.ANY_ORIGIN,)
    idempotency: IdempotencyTable | None = None
    payments: PaymentsWiring | None = None


@dataclass(frozen=True)
class LlmWiring:
    """What a ``uses_llm`` function gets: the LLM layer, the API keys' secret and the LLM configuration."""

    layer: lambda_.ILayerVersion
    secret: secretsmanager.ISecret
    #: Non-secret variables (provider, models ...), from ``infra.constructs.llm.llm_environment``.
    environment: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SearchWiring:
    """What a ``uses_search`` function gets: the search layer, the domain, and its HTTP methods on it."""

    layer: lambda_.ILayerVersion
    search: Search
    #: ``es:ESHttp*`` actions (``infra.constructs.search.SEARCH_READ_ACTIONS`` or ``..._WRITE_ACTIONS``).
    actions: tuple[str, ...]


def function_construct_id(spec: FunctionSpec) -> str:
    """``catalog_read`` -> ``CatalogRead``."""
    return "".join(part.capitalize() for part in spec.name.split("_"))


class TalkshopFunction(Construct):
    """A function of the API: its log group, its role and the Lambda function itself."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        spec: FunctionSpec,
        shared: FunctionSettings,
        search: SearchWiring | None = None,
        llm: LlmWiring | None = None,
        wildcard_reason: str = XRAY_WILDCARD_REASON,
    ) -> None:
        super().__init__(scope, construct_id)
        table = shared.table
        if spec.uses_search and search is None:
            raise ValueError(f"{spec.name} uses search: pass the search layer and domain (search=...)")
        if spec.uses_llm and llm is None:
            raise ValueError(f"{spec.name} uses an LLM: pass the LLM layer and secret (llm=...)")
        if spec.uses_payments and shared.payments is None:
            raise ValueError(f"{spec.name} charges payments: set FunctionSettings.payments")
        if spec.uses_idempotency and shared.idempotency is None:
            raise ValueError(f"{spec.name} keeps idempotency records: set FunctionSettings.idempotency")
        self.spec = spec
        self.log_group = logs.LogGroup(
            self, "Logs", retention=LOG_RETENTION, removal_policy=RemovalPolicy.DESTROY
        )
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"Runs the {spec.name} function ({spec.table_access} table access)",
        )
        self.log_group.grant_write(self.role)
        self.role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="TableAccess",
                actions=list(TABLE_ACTIONS[spec.table_access]),
                resources=[table.table_arn, f"{table.table_arn}/index/*"],
            )
        )
        environment = {
            TABLE_NAME_VARIABLE: table.table_name,
            cors.ORIGINS_VARIABLE: ",".join(shared.cors_allow_origins),
            "POWERTOOLS_SERVICE_NAME": spec.name,
            "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
            "POWERTOOLS_LOG_LEVEL": shared.log_level,
        }
        if spec.needs_admin_key:
            shared.admin_key.grant_read(self.role)
            environment[ADMIN_KEY_SECRET_VARIABLE] = shared.admin_key.secret_arn
        layers = [shared.layer]
        if spec.uses_search and search is not None:
            layers.append(search.layer)
            search.search.grant(self.role, search.actions)
            environment |= {
                **SINGLE_THREADED_BLAS,
                SEARCH_BACKEND_VARIABLE: OPENSEARCH,
                OPENSEARCH_ENDPOINT_VARIABLE: search.search.endpoint,
                OPENSEARCH_INDEX_VARIABLE: search.search.index_name,
                OPENSEARCH_REPLICAS_VARIABLE: str(search.search.profile.index_replicas),
            }
        if spec.uses_llm and llm is not None:
            layers.append(llm.layer)
            llm.secret.grant_read(self.role)
            environment |= {**llm.environment, LLM_SECRET_VARIABLE: llm.secret.secret_arn}
        if shared.payments is not None:
            # Every function knows the provider's name (pages say whether a card is charged); only
            # the ones that charge get its layer and secret key.
            environment[PAYMENTS_VARIABLE] = shared.payments.provider
        if spec.uses_payments and shared.payments is not None:
            layers.append(shared.payments.layer)
            shared.payments.secret.grant_read(self.role)
            environment[STRIPE_SECRET_VARIABLE] = shared.payments.secret.secret_arn
        if spec.uses_idempotency and shared.idempotency is not None:
            environment |= shared.idempotency.grant_use(self.role)
        self.function = lambda_.Function(
            self,
            "Function",
            description=spec.description,
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            handler=HANDLER,
            code=lambda_.Code.from_asset(str(FUNCTIONS_DIR / spec.name), exclude=ASSET_EXCLUDES),
            layers=layers,
            role=self.role,
            memory_size=spec.memory_mb,
            timeout=Duration.seconds(spec.timeout_s),
            tracing=lambda_.Tracing.ACTIVE,
            log_group=self.log_group,
            environment=environment,
        )
        table_arn = Stack.of(self).resolve(table.table_arn)
        Validations.of(self.role).acknowledge(
            Acknowledgment(id="AwsSolutions-IAM5[Resource::*]", reason=wildcard_reason),
            Acknowledgment(
                id=f"AwsSolutions-IAM5[Resource::<{get_att_name(table_arn)}>/index/*]",
                reason=(
                    "Queries go through the table's GSIs (talkshop.data.schema.INDEXES); index/* is "
                    "limited to this one table's indexes and the role only has the actions of its "
                    "TableAccess level."
                ),
            ),
        )


def get_att_name(resolved: object) -> str:
    """``{"Fn::GetAtt": ["Table1234", "Arn"]}`` -> ``Table1234.Arn``, as cdk-nag names it in findings."""
    if isinstance(resolved, dict) and isinstance(get_att := resolved.get("Fn::GetAtt"), list):
        return ".".join(str(part) for part in get_att)
    raise ValueError(f"expected a Fn::GetAtt, got {resolved!r}")


class ApiFunctions(Construct):
    """``functions``: function name (FunctionSpec.name) -> TalkshopFunction, in FUNCTIONS order."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        shared: FunctionSettings,
        search: SearchWiring | None = None,
        llm: LlmWiring | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.functions: dict[str, TalkshopFunction] = {
            spec.name: TalkshopFunction(
                self,
                function_construct_id(spec),
                spec=spec,
                shared=shared,
                search=search if spec.uses_search else None,
                llm=llm if spec.uses_llm else None,
            )
            for spec in FUNCTIONS
        }
