"""The search index's home: an Amazon OpenSearch Service domain, reached only by the search functions.

``talkshop.search.opensearch`` keeps one k-NN index (HNSW, lucene engine, efficient filtering) in it and
signs every request with SigV4 (service ``es``) as the function's role. Access control is IAM alone:

* the domain's resource-based access policy names each search function's role with exactly the HTTP
  methods it may use, and the role's identity policy grants the same (in one account either policy
  alone would allow a request, so both must be equally narrow);
* no fine-grained access control (FGAC): two service roles and one index need no OpenSearch users, roles
  or document-level security, and without FGAC there is no master user to create and guard. The price:
  IAM cannot tell a ``POST _search`` from a ``POST _bulk``, so a role with ``es:ESHttpPost`` could write;
  FGAC with a read-only role mapping would close that (docs/infrastructure.md).

The domain is not in a VPC (the functions are not either; see the AwsSolutions-OS1 acknowledgement).
HTTPS only (TLS 1.2+, forward secrecy), node-to-node encryption, encryption at rest (AWS owned key, as
the table). Search and index slow logs and the application (error) logs go to CloudWatch log groups with
the functions' retention, through a CloudWatch Logs resource policy that only this domain may use.

Sizing comes from a profile (context ``searchProfile``): ``dev`` (default) is one t3.small node in one
AZ; ``production`` is three data nodes over three AZs with three dedicated master nodes.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, fields

from aws_cdk import Acknowledgment, RemovalPolicy, Stack, Validations
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_opensearchservice as opensearch
from constructs import Construct

from infra.constructs.functions import LOG_RETENTION, get_att_name
from talkshop.settings import Settings

#: Newest engine version aws-cdk-lib knows. The index uses knn_vector with the lucene engine and
#: efficient filtering (OpenSearch 2.4+). ``enable_version_upgrade`` lets CloudFormation upgrade the
#: domain in place when this is bumped, instead of replacing it (which a named domain cannot survive).
ENGINE_VERSION = opensearch.EngineVersion.OPENSEARCH_3_7


def _settings_default(name: str) -> str:
    for field in fields(Settings):
        if field.name == name and isinstance(field.default, str):
            return field.default
    raise LookupError(f"talkshop.settings.Settings has no string default {name!r}")


#: The index's default name in ``talkshop.settings`` ("products").
DEFAULT_INDEX_NAME = _settings_default("opensearch_index")

#: HTTP methods of the functions that only search: _search, _mget and _count are GET/POST, exists HEAD.
SEARCH_READ_ACTIONS: tuple[str, ...] = ("es:ESHttpGet", "es:ESHttpHead", "es:ESHttpPost")
#: The indexer also creates the index (PUT) and may delete documents or the index (DELETE).
SEARCH_WRITE_ACTIONS: tuple[str, ...] = (*SEARCH_READ_ACTIONS, "es:ESHttpPut", "es:ESHttpDelete")

_DOMAIN_NAME_SUFFIX = "-search"
_DOMAIN_NAME_MAX = 28


@dataclass(frozen=True)
class SearchDomainProfile:
    """How big and how available the domain is."""

    data_node_instance_type: str
    data_nodes: int
    volume_size_gib: int
    #: 1: a single AZ; 2 or 3: zone awareness with the data nodes spread evenly over that many AZs.
    availability_zones: int = 1
    master_node_instance_type: str | None = None
    #: 0: no dedicated master nodes; else 3 (or 5).
    master_nodes: int = 0
    #: A deleted stack keeps (RETAIN) or deletes (DESTROY) the domain and its index.
    removal_policy: RemovalPolicy = RemovalPolicy.DESTROY

    def __post_init__(self) -> None:
        if self.availability_zones not in (1, 2, 3):
            raise ValueError("availability_zones must be 1, 2 or 3")
        if self.data_nodes < 1 or self.data_nodes % self.availability_zones:
            raise ValueError("data_nodes must be a positive multiple of availability_zones")
        if self.master_nodes not in (0, 3, 5) or (self.master_nodes > 0) != bool(
            self.master_node_instance_type
        ):
            raise ValueError("master_nodes must be 0, or 3 or 5 with a master_node_instance_type")

    @property
    def zone_awareness(self) -> bool:
        return self.availability_zones > 1

    @property
    def index_replicas(self) -> int:
        """Replicas of the product index's shard: one per extra data node, at most two."""
        return min(self.data_nodes - 1, 2)

    @property
    def dedicated_masters(self) -> bool:
        return self.master_nodes > 0


#: One burstable node in one AZ, deleted with the stack (the index is derived from the table).
DEV = SearchDomainProfile(data_node_instance_type="t3.small.search", data_nodes=1, volume_size_gib=10)
#: Three Graviton data nodes over three AZs, three dedicated masters, retained with the stack.
PRODUCTION = SearchDomainProfile(
    data_node_instance_type="m7g.large.search",
    data_nodes=3,
    volume_size_gib=50,
    availability_zones=3,
    master_node_instance_type="m7g.large.search",
    master_nodes=3,
    removal_policy=RemovalPolicy.RETAIN,
)
SEARCH_PROFILES: dict[str, SearchDomainProfile] = {"dev": DEV, "production": PRODUCTION}


def search_profile(name: str | None) -> SearchDomainProfile:
    """The profile named by context ``searchProfile`` (default ``dev``)."""
    try:
        return SEARCH_PROFILES[name or "dev"]
    except KeyError:
        raise ValueError(f"unknown searchProfile {name!r}; choose one of {sorted(SEARCH_PROFILES)}") from None


def domain_name_for(stack_name: str) -> str:
    """``Talkshop`` -> ``talkshop-search``: a valid domain name (3-28 of a-z, 0-9, -; a letter first).

    The name is explicit so that the domain's own access policy and the logs resource policy can name
    its ARN (a generated name would make the domain refer to itself).
    """
    base = re.sub(r"[^a-z0-9-]+", "-", stack_name.lower()).strip("-")
    base = base[: _DOMAIN_NAME_MAX - len(_DOMAIN_NAME_SUFFIX)].rstrip("-")
    if not base or not base[0].isalpha():
        base = f"t{base}"[: _DOMAIN_NAME_MAX - len(_DOMAIN_NAME_SUFFIX)].rstrip("-")
    return base + _DOMAIN_NAME_SUFFIX


class Search(Construct):
    """``domain``: the OpenSearch domain; ``grant`` lets a role use it; ``index_name`` is the index."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        domain_name: str,
        profile: SearchDomainProfile = DEV,
        index_name: str = DEFAULT_INDEX_NAME,
    ) -> None:
        super().__init__(scope, construct_id)
        self.profile = profile
        self.index_name = index_name
        self.domain_name = domain_name
        stack = Stack.of(self)
        # The ARN by name: the domain's own access policy cannot refer to its Arn attribute.
        self.domain_arn_by_name = stack.format_arn(service="es", resource="domain", resource_name=domain_name)

        self.slow_search_logs = self._log_group("SlowSearchLogs")
        self.slow_index_logs = self._log_group("SlowIndexLogs")
        self.app_logs = self._log_group("AppLogs")
        log_groups = (self.slow_search_logs, self.slow_index_logs, self.app_logs)
        # A native AWS::Logs::ResourcePolicy instead of the custom resource (a Lambda function) the L2
        # Domain would create; confused-deputy conditions limit it to this account's domain.
        self.logs_policy = logs.ResourcePolicy(
            self,
            "LogsPolicy",
            policy_statements=[
                iam.PolicyStatement(
                    principals=[iam.ServicePrincipal("es.amazonaws.com")],
                    actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                    resources=[log_group.log_group_arn for log_group in log_groups],
                    conditions={
                        "StringEquals": {"aws:SourceAccount": stack.account},
                        "ArnLike": {"aws:SourceArn": self.domain_arn_by_name},
                    },
                )
            ],
        )

        # Filled by grant(); rendered into the domain's AccessPolicies at synthesis. Set on the L1
        # resource rather than through the L2 ``access_policies``, which would add a custom resource.
        self.access_policy = iam.PolicyDocument()
        self.domain = opensearch.Domain(
            self,
            "Domain",
            domain_name=domain_name,
            version=ENGINE_VERSION,
            capacity=opensearch.CapacityConfig(
                data_node_instance_type=profile.data_node_instance_type,
                data_nodes=profile.data_nodes,
                master_node_instance_type=profile.master_node_instance_type,
                master_nodes=profile.master_nodes or None,
                multi_az_with_standby_enabled=False,
            ),
            zone_awareness=opensearch.ZoneAwarenessConfig(
                enabled=profile.zone_awareness,
                availability_zone_count=profile.availability_zones if profile.zone_awareness else None,
            ),
            ebs=opensearch.EbsOptions(
                enabled=True,
                volume_size=profile.volume_size_gib,
                volume_type=ec2.EbsDeviceVolumeType.GP3,
            ),
            encryption_at_rest=opensearch.EncryptionAtRestOptions(enabled=True),
            node_to_node_encryption=True,
            enforce_https=True,
            tls_security_policy=opensearch.TLSSecurityPolicy.TLS_1_2_PFS,
            logging=opensearch.LoggingOptions(
                slow_search_log_enabled=True,
                slow_search_log_group=self.slow_search_logs,
                slow_index_log_enabled=True,
                slow_index_log_group=self.slow_index_logs,
                app_log_enabled=True,
                app_log_group=self.app_logs,
            ),
            suppress_logs_resource_policy=True,
            enable_version_upgrade=True,
            enable_auto_software_update=True,
            removal_policy=profile.removal_policy,
        )
        cfn_domain = self.domain.node.default_child
        assert isinstance(cfn_domain, opensearch.CfnDomain)
        cfn_domain.access_policies = self.access_policy
        # OpenSearch checks that it may write to the log groups when the domain is created or updated.
        self.domain.node.add_dependency(self.logs_policy)
        self._acknowledge()

    def _log_group(self, construct_id: str) -> logs.LogGroup:
        return logs.LogGroup(
            self, construct_id, retention=LOG_RETENTION, removal_policy=RemovalPolicy.DESTROY
        )

    @property
    def endpoint(self) -> str:
        """The domain's host name (no scheme), for ``TALKSHOP_OPENSEARCH_ENDPOINT``."""
        return self.domain.domain_endpoint

    def grant(self, role: iam.IRole, actions: Sequence[str]) -> None:
        """Let ``role`` send requests with these HTTP methods (``es:ESHttp*``) to the domain.

        Adds the same actions to the role's identity policy and to the domain's access policy.
        """
        if not actions or not all(action.startswith("es:ESHttp") for action in actions):
            raise ValueError(f"expected es:ESHttp* actions, got {list(actions)}")
        domain_arn = self.domain.domain_arn
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="SearchDomainAccess", actions=list(actions), resources=[domain_arn, f"{domain_arn}/*"]
            )
        )
        self.access_policy.add_statements(
            iam.PolicyStatement(
                principals=[iam.ArnPrincipal(role.role_arn)],
                actions=list(actions),
                resources=[f"{self.domain_arn_by_name}/*"],
            )
        )
        Validations.of(role).acknowledge(
            Acknowledgment(
                id=f"AwsSolutions-IAM5[Resource::<{get_att_name(Stack.of(self).resolve(domain_arn))}>/*]",
                reason=(
                    "OpenSearch authorizes each request on the domain ARN plus its URL path (index, "
                    "_search, _bulk ...); <domain>/* is limited to this one domain and the role only has "
                    "the HTTP methods it needs (searching: GET/HEAD/POST; the indexer adds PUT/DELETE)."
                ),
            )
        )

    def _acknowledge(self) -> None:
        acknowledgments = [
            Acknowledgment(
                id="AwsSolutions-OS1",
                reason=(
                    "The domain has a public endpoint on purpose: the Lambda functions that use it run "
                    "outside a VPC (a VPC would need NAT or interface endpoints for DynamoDB, Secrets "
                    "Manager, X-Ray and CloudWatch, and slows cold starts). Every request must be SigV4 "
                    "signed by one of the function roles named in the access policy, over HTTPS."
                ),
            ),
            Acknowledgment(
                id="AwsSolutions-OS3",
                reason=(
                    "Access is granted to IAM principals (the roles of the uses_search functions), not to "
                    "IP addresses: Lambda functions outside a VPC have no fixed source IPs to allowlist, "
                    "and anonymous or unsigned requests are refused (OS5 holds)."
                ),
            ),
        ]
        if not self.profile.dedicated_masters:
            acknowledgments.append(
                Acknowledgment(
                    id="AwsSolutions-OS4",
                    reason=(
                        "The dev search profile is a single t3.small data node to keep cost low; the "
                        "production profile (context searchProfile=production) has three dedicated "
                        "master nodes, and then this acknowledgement is not made."
                    ),
                )
            )
        if not self.profile.zone_awareness:
            acknowledgments.append(
                Acknowledgment(
                    id="AwsSolutions-OS7",
                    reason=(
                        "The dev search profile runs in one AZ to keep cost low; the index is derived "
                        "data. The production profile (context searchProfile=production) spreads three "
                        "data nodes over three AZs, and then this acknowledgement is not made."
                    ),
                )
            )
        Validations.of(self.domain).acknowledge(*acknowledgments)
