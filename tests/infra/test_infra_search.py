"""The OpenSearch domain: encrypted, HTTPS only, logged, reachable only by the search functions' roles."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import aws_opensearchservice as opensearch
from aws_cdk.assertions import Template
from constructs import IConstruct

from infra.constructs.search import (
    DEFAULT_INDEX_NAME,
    DEV,
    ENGINE_VERSION,
    PRODUCTION,
    SEARCH_READ_ACTIONS,
    SEARCH_WRITE_ACTIONS,
    SearchDomainProfile,
    domain_name_for,
    search_profile,
)
from infra.stack import TalkshopStack
from talkshop.settings import Settings

pytestmark = pytest.mark.slow

LogicalId = Callable[[IConstruct], str]
Resources = dict[str, dict[str, Any]]


def _domain(resources: Resources) -> dict[str, Any]:
    (domain,) = [r for r in resources.values() if r["Type"] == "AWS::OpenSearchService::Domain"]
    return domain


def _arn_text(value: Any) -> str:
    """A Fn::Join of an ARN flattened to text, pseudo parameters as ``<Name>``."""
    if isinstance(value, str):
        return value
    if "Ref" in value:
        return f"<{value['Ref']}>"
    if "Fn::GetAtt" in value:
        return "<{}>".format(".".join(value["Fn::GetAtt"]))
    separator, parts = value["Fn::Join"]
    return str(separator).join(_arn_text(part) for part in parts)


def test_engine_is_the_newest_opensearch_this_cdk_knows() -> None:
    def version(name: str) -> tuple[int, ...]:
        return tuple(int(part) for part in name.removeprefix("OPENSEARCH_").split("_"))

    names = [name for name in dir(opensearch.EngineVersion) if re.fullmatch(r"OPENSEARCH_\d+_\d+", name)]
    newest = max(names, key=version)
    assert ENGINE_VERSION.version == getattr(opensearch.EngineVersion, newest).version
    assert version(newest) >= (2, 4), "lucene k-NN with efficient filtering needs OpenSearch 2.4+"


def test_domain_is_encrypted_https_only_and_upgrades_in_place(resources: Resources) -> None:
    domain = _domain(resources)
    properties = domain["Properties"]
    assert properties["EngineVersion"] == ENGINE_VERSION.version
    assert properties["EncryptionAtRestOptions"] == {"Enabled": True}
    assert properties["NodeToNodeEncryptionOptions"] == {"Enabled": True}
    assert properties["DomainEndpointOptions"]["EnforceHTTPS"] is True
    assert properties["DomainEndpointOptions"]["TLSSecurityPolicy"].startswith("Policy-Min-TLS-1-2")
    assert "VPCOptions" not in properties
    assert "AdvancedSecurityOptions" not in properties  # IAM only, no fine-grained access control
    assert properties["EBSOptions"]["VolumeType"] == "gp3"
    assert domain["UpdatePolicy"] == {"EnableVersionUpgrade": True}


def test_dev_profile_is_one_small_node(resources: Resources) -> None:
    domain = _domain(resources)
    cluster = domain["Properties"]["ClusterConfig"]
    assert cluster["InstanceType"] == DEV.data_node_instance_type == "t3.small.search"
    assert cluster["InstanceCount"] == 1
    assert cluster["ZoneAwarenessEnabled"] is False
    assert cluster["DedicatedMasterEnabled"] is False
    assert domain["DeletionPolicy"] == "Delete"


def test_slow_and_application_logs_go_to_log_groups_with_retention(
    stack: TalkshopStack, resources: Resources, logical_id: LogicalId
) -> None:
    options = _domain(resources)["Properties"]["LogPublishingOptions"]
    groups = {
        "SEARCH_SLOW_LOGS": stack.search.slow_search_logs,
        "INDEX_SLOW_LOGS": stack.search.slow_index_logs,
        "ES_APPLICATION_LOGS": stack.search.app_logs,
    }
    assert set(options) == set(groups)
    for kind, group in groups.items():
        assert options[kind] == {
            "Enabled": True,
            "CloudWatchLogsLogGroupArn": {"Fn::GetAtt": [logical_id(group), "Arn"]},
        }, kind
        assert resources[logical_id(group)]["Properties"]["RetentionInDays"] == 30


def test_only_this_domain_may_write_to_its_log_groups(
    stack: TalkshopStack, resources: Resources, logical_id: LogicalId
) -> None:
    policy_id = logical_id(stack.search.logs_policy)
    assert policy_id in _domain(resources)["DependsOn"]
    document = _arn_text(resources[policy_id]["Properties"]["PolicyDocument"])
    assert '"Principal":{"Service":"es.amazonaws.com"}' in document
    assert '"aws:SourceAccount":"<AWS::AccountId>"' in document
    assert (
        f'"aws:SourceArn":"arn:<AWS::Partition>:es:<AWS::Region>:<AWS::AccountId>:domain/'
        f'{stack.search.domain_name}"' in document
    )
    # No custom resource (and so no extra Lambda function) sets the policy; the only custom resource is
    # the web client's static-file deployment.
    assert {r["Type"] for r in resources.values() if r["Type"].startswith("Custom::")} == {
        "Custom::CDKBucketDeployment"
    }


def test_access_policy_names_exactly_the_search_roles(
    stack: TalkshopStack, resources: Resources, logical_id: LogicalId
) -> None:
    statements = _domain(resources)["Properties"]["AccessPolicies"]["Statement"]
    by_role = {
        statement["Principal"]["AWS"]["Fn::GetAtt"][0]: statement
        for statement in statements
        if statement["Effect"] == "Allow"
    }
    readers = [logical_id(f.role) for f in stack.api_functions.functions.values() if f.spec.uses_search]
    indexer_role = logical_id(stack.search_indexer.function.role)
    assert logical_id(stack.api_functions.functions["search"].role) in readers
    assert set(by_role) == {*readers, indexer_role}
    assert len(statements) == len(readers) + 1
    for reader in readers:
        assert by_role[reader]["Action"] == list(SEARCH_READ_ACTIONS)
    assert by_role[indexer_role]["Action"] == list(SEARCH_WRITE_ACTIONS)
    for statement in statements:
        assert "*" not in json.dumps(statement["Principal"])
        assert _arn_text(statement["Resource"]) == (
            f"arn:<AWS::Partition>:es:<AWS::Region>:<AWS::AccountId>:domain/{stack.search.domain_name}/*"
        )
        assert "Condition" not in statement


def test_domain_name_and_endpoint_output(
    stack: TalkshopStack, template: Template, logical_id: LogicalId
) -> None:
    assert stack.search.domain_name == "talkshop-search"
    assert _domain(template.to_json()["Resources"])["Properties"]["DomainName"] == "talkshop-search"
    outputs = template.to_json()["Outputs"]
    assert outputs["SearchDomainEndpoint"]["Value"] == {
        "Fn::GetAtt": [logical_id(stack.search.domain), "DomainEndpoint"]
    }


def test_default_index_is_the_settings_default() -> None:
    assert (
        Settings(table_name="t", admin_key=None, admin_key_secret_arn=None).opensearch_index
        == DEFAULT_INDEX_NAME
    )


@pytest.mark.parametrize(
    ("stack_name", "domain_name"),
    [
        ("Talkshop", "talkshop-search"),
        ("Talkshop-Staging_EU", "talkshop-staging-eu-search"),
        ("A-very-long-stack-name-for-testing", "a-very-long-stack-nam-search"),
        ("2024shop", "t2024shop-search"),
        ("---", "t-search"),
    ],
)
def test_domain_name_for(stack_name: str, domain_name: str) -> None:
    name = domain_name_for(stack_name)
    assert name == domain_name
    assert re.fullmatch(r"[a-z][a-z0-9-]{2,27}", name)


def test_search_profiles() -> None:
    assert search_profile(None) is DEV
    assert search_profile("production") is PRODUCTION
    with pytest.raises(ValueError, match="choose one of"):
        search_profile("huge")
    assert PRODUCTION.zone_awareness
    assert PRODUCTION.dedicated_masters
    assert not DEV.zone_awareness
    assert not DEV.dedicated_masters


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"availability_zones": 4}, "availability_zones"),
        ({"data_nodes": 2, "availability_zones": 3}, "multiple of availability_zones"),
        ({"master_nodes": 3}, "master_nodes"),
        ({"master_nodes": 2, "master_node_instance_type": "m7g.large.search"}, "master_nodes"),
    ],
)
def test_profile_rejects_impossible_layouts(arguments: dict[str, Any], message: str) -> None:
    base: dict[str, Any] = {
        "data_node_instance_type": "t3.small.search",
        "data_nodes": 1,
        "volume_size_gib": 10,
    }
    with pytest.raises(ValueError, match=message):
        SearchDomainProfile(**(base | arguments))


@pytest.fixture(scope="module")
def production(tmp_path_factory: pytest.TempPathFactory) -> tuple[TalkshopStack, dict[str, Any]]:
    """The app synthesized with ``-c searchProfile=production`` (bundling skipped, nag on)."""
    from infra.app import create_app

    outdir = tmp_path_factory.mktemp("production")
    app, stack = create_app(
        {
            "aws:cdk:bundling-stacks": [],
            "@aws-cdk/core:failSynthOnValidationErrors": False,
            "searchProfile": "production",
        },
        outdir=str(outdir),
    )
    assembly = app.synth()
    report_path = Path(assembly.directory) / "validation-report.json"
    report = json.loads(report_path.read_text()) if report_path.exists() else {"pluginReports": []}
    return stack, report


def test_production_profile_is_highly_available_and_retained(
    production: tuple[TalkshopStack, dict[str, Any]],
) -> None:
    stack, _ = production
    (domain,) = Template.from_stack(stack).find_resources("AWS::OpenSearchService::Domain").values()
    cluster = domain["Properties"]["ClusterConfig"]
    assert cluster["ZoneAwarenessEnabled"] is True
    assert cluster["ZoneAwarenessConfig"] == {"AvailabilityZoneCount": 3}
    assert cluster["InstanceCount"] == 3
    assert cluster["DedicatedMasterEnabled"] is True
    assert cluster["DedicatedMasterCount"] == 3
    assert domain["DeletionPolicy"] == "Retain"


def test_production_profile_passes_nag_without_the_dev_acknowledgements(
    production: tuple[TalkshopStack, dict[str, Any]],
) -> None:
    stack, report = production
    assert [v for plugin in report["pluginReports"] for v in plugin["violations"]] == []
    acknowledged = {
        rule
        for construct in stack.node.find_all()
        for entry in construct.node.metadata
        if entry.type == "aws:cdk:acknowledged-rules"
        for rule in entry.data
    }
    assert not {rule for rule in acknowledged if "OS4" in rule or "OS7" in rule}
    assert {rule for rule in acknowledged if "OS1" in rule or "OS3" in rule}
