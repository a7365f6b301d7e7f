"""API Gateway is wired from ROUTES; the stage is throttled, logged and traced; WAF guards it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from aws_cdk.assertions import Match, Template
from constructs import IConstruct

from infra.stack import TalkshopStack
from talkshop.api.routes import ROUTES

pytestmark = pytest.mark.slow

LogicalId = Callable[[IConstruct], str]
Resources = dict[str, dict[str, Any]]


def _resource_paths(resources: Resources) -> dict[str, str]:
    """Logical ID of each AWS::ApiGateway::Resource -> its full path, by following ParentId."""
    parents = {
        logical_id: (resource["Properties"]["ParentId"], resource["Properties"]["PathPart"])
        for logical_id, resource in resources.items()
        if resource["Type"] == "AWS::ApiGateway::Resource"
    }

    def path(logical_id: str) -> str:
        parent, part = parents[logical_id]
        prefix = path(parent["Ref"]) if "Ref" in parent else ""  # else GetAtt RootResourceId
        return f"{prefix}/{part}"

    return {logical_id: path(logical_id) for logical_id in parents}


def _methods(resources: Resources) -> dict[tuple[str, str], dict[str, Any]]:
    """(HTTP method, path) -> properties of each AWS::ApiGateway::Method."""
    paths = _resource_paths(resources)
    return {
        # A method of the root resource (GET /) names it with Fn::GetAtt RootResourceId, not a Ref.
        (properties["HttpMethod"], paths.get(properties["ResourceId"].get("Ref", ""), "/")): properties
        for resource in resources.values()
        if resource["Type"] == "AWS::ApiGateway::Method"
        for properties in [resource["Properties"]]
    }


def _integrated_function(method: dict[str, Any]) -> str:
    """Logical ID of the Lambda function a proxy integration invokes."""
    (target,) = [part for part in method["Integration"]["Uri"]["Fn::Join"][1] if "Fn::GetAtt" in part]
    logical_id, attribute = target["Fn::GetAtt"]
    assert attribute == "Arn"
    return str(logical_id)


def test_every_route_has_exactly_its_method(
    stack: TalkshopStack, resources: Resources, logical_id: LogicalId
) -> None:
    methods = {key: value for key, value in _methods(resources).items() if key[0] != "OPTIONS"}
    assert set(methods) == {(route.method, route.path) for route in ROUTES}
    for route in ROUTES:
        method = methods[(route.method, route.path)]
        function = stack.api_functions.functions[route.function.name].function
        assert method["Integration"]["Type"] == "AWS_PROXY", route
        assert method["Integration"]["IntegrationHttpMethod"] == "POST", route
        assert _integrated_function(method) == logical_id(function), route
        assert method["RequestValidatorId"] == {"Ref": logical_id(stack.api.request_validator)}, route


def test_api_gateway_may_invoke_each_routed_function(
    stack: TalkshopStack, resources: Resources, logical_id: LogicalId
) -> None:
    permissions = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::Lambda::Permission"]
    for route in ROUTES:
        function = logical_id(stack.api_functions.functions[route.function.name].function)
        assert any(
            p["FunctionName"] == {"Fn::GetAtt": [function, "Arn"]}
            and p["Principal"] == "apigateway.amazonaws.com"
            and f"/{route.method}" in str(p["SourceArn"])
            for p in permissions
        ), route


def test_cors_preflight_on_every_route_path(resources: Resources) -> None:
    methods = _methods(resources)
    for path in {route.path for route in ROUTES}:
        preflight = methods[("OPTIONS", path)]
        headers = preflight["Integration"]["IntegrationResponses"][0]["ResponseParameters"]
        allowed = headers["method.response.header.Access-Control-Allow-Methods"].strip("'").split(",")
        assert sorted(allowed) == sorted(route.method for route in ROUTES if route.path == path)


def test_stage_is_throttled_logged_and_traced(template: Template) -> None:
    template.has_resource_properties(
        "AWS::ApiGateway::Stage",
        {
            "TracingEnabled": True,
            "MethodSettings": [
                Match.object_like(
                    {
                        "HttpMethod": "*",
                        "ResourcePath": "/*",
                        "ThrottlingRateLimit": Match.any_value(),
                        "ThrottlingBurstLimit": Match.any_value(),
                        "LoggingLevel": "INFO",
                        "MetricsEnabled": True,
                        "DataTraceEnabled": False,
                    }
                )
            ],
            "AccessLogSetting": Match.object_like({"DestinationArn": Match.any_value()}),
        },
    )
    (stage,) = template.find_resources("AWS::ApiGateway::Stage").values()
    (settings,) = stage["Properties"]["MethodSettings"]
    assert settings["ThrottlingRateLimit"] > 0
    assert settings["ThrottlingBurstLimit"] >= settings["ThrottlingRateLimit"]


def test_access_logs_go_to_a_log_group_with_retention(
    stack: TalkshopStack, resources: Resources, logical_id: LogicalId
) -> None:
    (stage,) = [r for r in resources.values() if r["Type"] == "AWS::ApiGateway::Stage"]
    access_logs = logical_id(stack.api.access_logs)
    assert stage["Properties"]["AccessLogSetting"]["DestinationArn"] == {"Fn::GetAtt": [access_logs, "Arn"]}
    assert resources[access_logs]["Properties"]["RetentionInDays"] == 30


def test_request_validator(template: Template) -> None:
    template.has_resource_properties(
        "AWS::ApiGateway::RequestValidator",
        {"ValidateRequestBody": True, "ValidateRequestParameters": True},
    )


def test_api_gateway_can_write_execution_logs(template: Template) -> None:
    template.resource_count_is("AWS::ApiGateway::Account", 1)


def test_web_acl_has_managed_common_rules_and_a_rate_limit(template: Template) -> None:
    (acl,) = template.find_resources("AWS::WAFv2::WebACL").values()
    properties = acl["Properties"]
    assert properties["Scope"] == "REGIONAL"
    statements = [rule["Statement"] for rule in properties["Rules"]]
    (common,) = [
        s["ManagedRuleGroupStatement"]
        for s in statements
        if s.get("ManagedRuleGroupStatement", {}).get("Name") == "AWSManagedRulesCommonRuleSet"
    ]
    assert common["VendorName"] == "AWS"
    # Product bodies are larger than the rule set's 8 KB body limit: that rule only counts.
    assert common["RuleActionOverrides"] == [{"Name": "SizeRestrictions_BODY", "ActionToUse": {"Count": {}}}]
    (rate,) = [s["RateBasedStatement"] for s in statements if "RateBasedStatement" in s]
    assert rate["AggregateKeyType"] == "IP"
    assert rate["Limit"] > 0
    priorities = [rule["Priority"] for rule in properties["Rules"]]
    assert len(set(priorities)) == len(priorities)


def test_web_acl_is_associated_with_the_stage(
    stack: TalkshopStack, resources: Resources, logical_id: LogicalId
) -> None:
    (association,) = [r for r in resources.values() if r["Type"] == "AWS::WAFv2::WebACLAssociation"]
    stage = logical_id(stack.api.rest_api.deployment_stage)
    assert {"Ref": stage} in association["Properties"]["ResourceArn"]["Fn::Join"][1]
    assert association["Properties"]["WebACLArn"] == {
        "Fn::GetAtt": [logical_id(stack.firewall.web_acl), "Arn"]
    }


def test_outputs(template: Template, stack: TalkshopStack, logical_id: LogicalId) -> None:
    outputs = template.to_json()["Outputs"]
    assert outputs["TableName"]["Value"] == {"Ref": logical_id(stack.storage.table)}
    assert "execute-api" in str(outputs["ApiUrl"]["Value"])


def test_gateway_answers_keep_the_error_contract(template: Template) -> None:
    responses = {
        response["Properties"]["ResponseType"]: response["Properties"]
        for response in template.find_resources("AWS::ApiGateway::GatewayResponse").values()
    }
    unknown_route = responses["MISSING_AUTHENTICATION_TOKEN"]
    assert unknown_route["StatusCode"] == "404"
    assert '"code": "route_not_found"' in unknown_route["ResponseTemplates"]["application/json"]
    assert responses["THROTTLED"]["StatusCode"] == "429"
    for answer in responses.values():
        assert answer["ResponseParameters"]["gatewayresponse.header.Access-Control-Allow-Origin"] == "'*'"
        assert answer["ResponseTemplates"]["application/json"].startswith('{"error": {"code": ')


def test_every_chat_endpoint_is_routed(resources: Resources) -> None:
    """The advisor's endpoints (issue 4), spelled out: the generic tests above would pass without them."""
    chat = {
        ("POST", "/api/chat/session"),
        ("GET", "/api/chat/session/{id}"),
        ("GET", "/api/chat/sessions"),
        ("PUT", "/api/chat/session/{id}/preferences"),
        ("POST", "/api/chat/session/{id}/feedback"),
        ("POST", "/api/chat/message"),
        ("POST", "/api/chat/message/stream"),
    }
    assert chat <= set(_methods(resources))
