"""The web client on AWS: static files from a private bucket through Origin Access Control, pages and API
from the REST API's stage, the pages' security headers at the edge, and the shop's public URL."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from typing import Any

import pytest
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk.assertions import Template
from constructs import IConstruct

from infra.constructs.api import BINARY_MEDIA_TYPES
from infra.constructs.web import (
    HSTS_MAX_AGE,
    VIEWER_REQUEST_FUNCTION,
    WebDomain,
    security_headers_policy,
    web_domain,
)
from infra.stack import TalkshopStack
from talkshop.api.routes import ROUTES, WEB
from talkshop.local.static import STATIC_CACHE_CONTROL
from talkshop.settings import PUBLIC_URL_VARIABLE
from talkshop.web.render import SECURITY_HEADERS

pytestmark = pytest.mark.slow

LogicalId = Callable[[IConstruct], str]
Resources = dict[str, dict[str, Any]]
TEST_CONTEXT = {"aws:cdk:bundling-stacks": [], "@aws-cdk/core:failSynthOnValidationErrors": False}
CERTIFICATE_ARN = "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-0000-1111-2222-333344445555"
WEB_ACL_ARN = "arn:aws:wafv2:us-east-1:123456789012:global/webacl/talkshop/0a1b2c3d-0000-1111-2222-3333"


def _distribution(resources: Resources, logical_id: LogicalId, stack: TalkshopStack) -> dict[str, Any]:
    config: dict[str, Any] = resources[logical_id(stack.web.distribution)]["Properties"]["DistributionConfig"]
    return config


def _origin(config: dict[str, Any], origin_id: str) -> dict[str, Any]:
    origins: list[dict[str, Any]] = [origin for origin in config["Origins"] if origin["Id"] == origin_id]
    (origin,) = origins
    return origin


def _static_behavior(config: dict[str, Any]) -> dict[str, Any]:
    behaviors: list[dict[str, Any]] = [b for b in config["CacheBehaviors"] if b["PathPattern"] == "/static/*"]
    (behavior,) = behaviors
    return behavior


# --- Buckets ---------------------------------------------------------------------------------------------


def _denies_plain_http(policy: dict[str, Any]) -> bool:
    return any(
        s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        for s in policy["PolicyDocument"]["Statement"]
    )


def _bucket_policy(resources: Resources, bucket: str) -> dict[str, Any]:
    policies: list[dict[str, Any]] = [
        r["Properties"]
        for r in resources.values()
        if r["Type"] == "AWS::S3::BucketPolicy" and r["Properties"]["Bucket"] == {"Ref": bucket}
    ]
    (policy,) = policies
    return policy


@pytest.mark.parametrize("bucket", ["bucket", "log_bucket"])
def test_buckets_are_private_encrypted_and_https_only(
    stack: TalkshopStack, resources: Resources, logical_id: LogicalId, bucket: str
) -> None:
    logical = logical_id(getattr(stack.web, bucket))
    properties = resources[logical]["Properties"]
    assert properties["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert properties["BucketEncryption"]["ServerSideEncryptionConfiguration"][0][
        "ServerSideEncryptionByDefault"
    ] == {"SSEAlgorithm": "AES256"}
    assert _denies_plain_http(_bucket_policy(resources, logical))


def test_only_the_distribution_reads_the_static_files(
    stack: TalkshopStack, resources: Resources, logical_id: LogicalId
) -> None:
    bucket = logical_id(stack.web.bucket)
    reads = [
        s
        for s in _bucket_policy(resources, bucket)["PolicyDocument"]["Statement"]
        if s["Effect"] == "Allow" and "s3:GetObject" in json.dumps(s["Action"])
    ]
    assert len(reads) == 1
    (read,) = reads
    assert read["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert read["Action"] == "s3:GetObject"
    source = json.dumps(read["Condition"]["StringEquals"]["AWS:SourceArn"])
    assert logical_id(stack.web.distribution) in source


def test_access_logs_of_bucket_and_distribution_go_to_the_log_bucket(
    stack: TalkshopStack, resources: Resources, logical_id: LogicalId
) -> None:
    logs = logical_id(stack.web.log_bucket)
    logging = resources[logical_id(stack.web.bucket)]["Properties"]["LoggingConfiguration"]
    assert logging["DestinationBucketName"] == {"Ref": logs}
    config = _distribution(resources, logical_id, stack)
    assert config["Logging"]["Bucket"] == {"Fn::GetAtt": [logs, "RegionalDomainName"]}
    rules = resources[logs]["Properties"]["LifecycleConfiguration"]["Rules"]
    assert [rule["ExpirationInDays"] for rule in rules] == [90]


def test_static_files_are_deployed_under_static_and_invalidated(
    stack: TalkshopStack, resources: Resources, logical_id: LogicalId
) -> None:
    (deployment,) = [
        r["Properties"] for r in resources.values() if r["Type"] == "Custom::CDKBucketDeployment"
    ]
    assert deployment["DestinationBucketName"] == {"Ref": logical_id(stack.web.bucket)}
    assert deployment["DestinationBucketKeyPrefix"] == "static/"
    assert deployment["SystemMetadata"] == {"cache-control": STATIC_CACHE_CONTROL}
    assert deployment["Prune"] is True
    assert deployment["DistributionId"] == {"Ref": logical_id(stack.web.distribution)}
    assert deployment["DistributionPaths"] == ["/static/*"]


# --- Distribution ----------------------------------------------------------------------------------------


def test_static_behavior_reads_the_bucket_through_origin_access_control(
    stack: TalkshopStack, resources: Resources, logical_id: LogicalId
) -> None:
    config = _distribution(resources, logical_id, stack)
    behavior = _static_behavior(config)
    assert behavior["AllowedMethods"] == ["GET", "HEAD"]
    assert behavior["CachePolicyId"] == cloudfront.CachePolicy.CACHING_OPTIMIZED.cache_policy_id
    assert behavior["ViewerProtocolPolicy"] == "redirect-to-https"
    origin = _origin(config, behavior["TargetOriginId"])
    assert origin["DomainName"] == {"Fn::GetAtt": [logical_id(stack.web.bucket), "RegionalDomainName"]}
    assert origin["S3OriginConfig"] == {"OriginAccessIdentity": ""}  # no legacy OAI
    (control,) = [r for r in resources.values() if r["Type"] == "AWS::CloudFront::OriginAccessControl"]
    assert origin["OriginAccessControlId"]["Fn::GetAtt"][0] in {
        logical for logical, r in resources.items() if r is control
    }
    assert control["Properties"]["OriginAccessControlConfig"] | {"Name": None} == {
        "Name": None,
        "OriginAccessControlOriginType": "s3",
        "SigningBehavior": "always",
        "SigningProtocol": "sigv4",
    }


def test_every_other_path_goes_uncached_to_the_api_stage(
    stack: TalkshopStack, resources: Resources, logical_id: LogicalId
) -> None:
    config = _distribution(resources, logical_id, stack)
    default = config["DefaultCacheBehavior"]
    assert set(default["AllowedMethods"]) == {"GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"}
    assert default["CachePolicyId"] == cloudfront.CachePolicy.CACHING_DISABLED.cache_policy_id
    assert (
        default["OriginRequestPolicyId"]
        == cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER.origin_request_policy_id
    )
    assert default["ViewerProtocolPolicy"] == "redirect-to-https"
    assert default["FunctionAssociations"] == [
        {
            "EventType": "viewer-request",
            "FunctionARN": {"Fn::GetAtt": [logical_id(stack.web.viewer_request), "FunctionARN"]},
        }
    ]
    origin = _origin(config, default["TargetOriginId"])
    assert origin["OriginPath"] == "/prod"
    assert {"Ref": logical_id(stack.api.rest_api)} in origin["DomainName"]["Fn::Join"][1]
    assert origin["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"
    assert origin["CustomOriginConfig"]["OriginSSLProtocols"] == ["TLSv1.2"]


def test_every_response_gets_the_pages_security_headers(
    stack: TalkshopStack, resources: Resources, logical_id: LogicalId
) -> None:
    config = _distribution(resources, logical_id, stack)
    policy_ref = {"Ref": logical_id(stack.web.headers_policy)}
    assert config["DefaultCacheBehavior"]["ResponseHeadersPolicyId"] == policy_ref
    assert _static_behavior(config)["ResponseHeadersPolicyId"] == policy_ref
    policy = resources[logical_id(stack.web.headers_policy)]["Properties"]["ResponseHeadersPolicyConfig"]
    security = policy["SecurityHeadersConfig"]
    assert (
        security["ContentSecurityPolicy"]["ContentSecurityPolicy"]
        == SECURITY_HEADERS["Content-Security-Policy"]
    )
    assert security["FrameOptions"]["FrameOption"] == SECURITY_HEADERS["X-Frame-Options"]
    assert security["ReferrerPolicy"]["ReferrerPolicy"] == SECURITY_HEADERS["Referrer-Policy"]
    assert SECURITY_HEADERS["X-Content-Type-Options"] == "nosniff"
    assert "ContentTypeOptions" in security
    assert security["StrictTransportSecurity"]["AccessControlMaxAgeSec"] == HSTS_MAX_AGE.to_seconds()
    assert "CustomHeadersConfig" not in policy  # every page header is a known security header


def test_security_headers_policy_carries_unknown_headers_and_leaves_caching_to_origins() -> None:
    security, custom = security_headers_policy(
        {"Cache-Control": "no-store", "Permissions-Policy": "camera=()", "X-Frame-Options": "SAMEORIGIN"}
    )
    assert custom is not None
    assert [(h.header, h.value, h.override) for h in custom.custom_headers] == [
        ("Permissions-Policy", "camera=()", False)
    ]
    assert security.frame_options is not None
    assert security.frame_options.frame_option == cloudfront.HeadersFrameOption.SAMEORIGIN
    assert security.content_security_policy is None
    with pytest.raises(ValueError, match="nosniff"):
        security_headers_policy({"X-Content-Type-Options": "sniff"})


def test_the_stack_outputs_the_web_url_and_functions_link_to_it(
    stack: TalkshopStack, template: Template, resources: Resources, logical_id: LogicalId
) -> None:
    url = {"Fn::Join": ["", ["https://", {"Fn::GetAtt": [logical_id(stack.web.distribution), "DomainName"]}]]}
    outputs = template.to_json()["Outputs"]
    assert outputs["WebUrl"]["Value"] == url
    for function in stack.api_functions.functions.values():
        variables = resources[logical_id(function.function)]["Properties"]["Environment"]["Variables"]
        assert variables[PUBLIC_URL_VARIABLE] == url, function.spec.name


def test_template_has_no_dependency_cycle(resources: Resources) -> None:
    """The functions name the distribution, which names the API: CloudFormation must find an order."""

    def references(value: Any) -> set[str]:
        if isinstance(value, dict):
            found: set[str] = set()
            for key, inner in value.items():
                if key == "Ref" and inner in resources:
                    found.add(inner)
                elif key == "Fn::GetAtt":
                    found.add(inner[0] if isinstance(inner, list) else inner.split(".")[0])
                else:
                    found |= references(inner)
            return found
        if isinstance(value, list):
            return set().union(*(references(inner) for inner in value)) if value else set()
        return set()

    def depends_on(resource: dict[str, Any]) -> set[str]:
        explicit = resource.get("DependsOn", [])
        return references(resource.get("Properties", {})) | set(
            [explicit] if isinstance(explicit, str) else explicit
        )

    graph = {logical: depends_on(resource) & set(resources) for logical, resource in resources.items()}
    ordered: list[str] = []
    remaining = dict(graph)
    while remaining:
        ready = [logical for logical, needs in remaining.items() if needs <= set(ordered)]
        assert ready, f"cycle among {sorted(remaining)[:10]}"
        ordered += ready
        for logical in ready:
            del remaining[logical]


# --- API behind it ---------------------------------------------------------------------------------------


def test_page_routes_are_methods_of_the_web_function(
    stack: TalkshopStack, resources: Resources, logical_id: LogicalId
) -> None:
    web = stack.api_functions.functions[WEB.name]
    assert resources[logical_id(web.function)]["Type"] == "AWS::Lambda::Function"
    pages = [route for route in ROUTES if route.function == WEB]
    assert ("GET", "/") in {(route.method, route.path) for route in pages}
    assert not any(route.path.startswith("/api/") for route in pages)
    for route in pages:
        method = stack.api.methods[(route.method, route.path)]
        properties = resources[logical_id(method)]["Properties"]
        assert logical_id(web.function) in json.dumps(properties["Integration"]["Uri"]), route
    root = resources[logical_id(stack.api.methods[("GET", "/")])]["Properties"]
    assert root["ResourceId"] == {"Fn::GetAtt": [logical_id(stack.api.rest_api), "RootResourceId"]}


def test_api_passes_pdf_bodies_as_bytes(
    stack: TalkshopStack, resources: Resources, logical_id: LogicalId
) -> None:
    properties = resources[logical_id(stack.api.rest_api)]["Properties"]
    assert properties["BinaryMediaTypes"] == list(BINARY_MEDIA_TYPES) == ["application/pdf"]


# --- The viewer-request function -------------------------------------------------------------------------


def _run_viewer_request(uri: str, headers: dict[str, str]) -> dict[str, Any]:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed (the CDK needs it too)")
    event = {"request": {"uri": uri, "headers": {name: {"value": value} for name, value in headers.items()}}}
    call = f"console.log(JSON.stringify(handler({json.dumps(event)})));"
    script = f"{VIEWER_REQUEST_FUNCTION.read_text()}\n{call}"
    result = subprocess.run([node, "-e", script], capture_output=True, text=True, check=True, timeout=30)
    request: dict[str, Any] = json.loads(result.stdout)
    return {name: value["value"] for name, value in request["headers"].items()}


def test_viewer_request_passes_the_host_and_replaces_a_forged_one() -> None:
    headers = _run_viewer_request(
        "/chat", {"host": "shop.example", "x-forwarded-host": "evil.example", "accept": "text/html"}
    )
    assert headers == {"host": "shop.example", "x-forwarded-host": "shop.example", "accept": "text/html"}


def test_viewer_request_asks_for_pdf_downloads_as_pdf() -> None:
    headers = _run_viewer_request(
        "/history/chat-1/export.pdf", {"host": "shop.example", "accept": "text/html,*/*;q=0.8"}
    )
    assert headers["accept"] == "application/pdf"


# --- Context ---------------------------------------------------------------------------------------------


def test_web_domain_needs_both_name_and_certificate() -> None:
    assert web_domain(None, None) is None
    assert web_domain("", "") is None
    assert web_domain("shop.example", CERTIFICATE_ARN) == WebDomain("shop.example", CERTIFICATE_ARN)
    with pytest.raises(ValueError, match="both or neither"):
        web_domain("shop.example", None)
    with pytest.raises(ValueError, match="both or neither"):
        web_domain(None, CERTIFICATE_ARN)


def test_custom_domain_requires_tls_1_2_and_becomes_the_public_url() -> None:
    from infra.app import create_app

    _, stack = create_app(
        {
            **TEST_CONTEXT,
            "webDomainName": "shop.example",
            "webCertificateArn": CERTIFICATE_ARN,
            "webAclArn": WEB_ACL_ARN,
        }
    )
    resources = Template.from_stack(stack).to_json()["Resources"]
    logical = stack.resolve(stack.get_logical_id(stack.web.distribution.node.default_child))  # type: ignore[arg-type]
    config = resources[logical]["Properties"]["DistributionConfig"]
    assert config["Aliases"] == ["shop.example"]
    assert config["ViewerCertificate"] == {
        "AcmCertificateArn": CERTIFICATE_ARN,
        "MinimumProtocolVersion": "TLSv1.2_2021",
        "SslSupportMethod": "sni-only",
    }
    assert config["WebACLId"] == WEB_ACL_ARN
    web = stack.api_functions.functions[WEB.name].function
    variables = resources[stack.resolve(stack.get_logical_id(web.node.default_child))]["Properties"][  # type: ignore[arg-type]
        "Environment"
    ]["Variables"]
    assert variables[PUBLIC_URL_VARIABLE] == "https://shop.example"
