"""The REST API, wired from ``talkshop.api.routes.ROUTES`` (the only list of routes)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from aws_cdk import Acknowledgment, Duration, RemovalPolicy, Stack, Validations
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.constructs.functions import LOG_RETENTION
from talkshop.api import cors
from talkshop.api.routes import ROUTES

_PATH_PARAMETER = re.compile(r"\{([A-Za-z0-9_]+)\+?\}")
#: Responses API Gateway passes on as bytes when a function returns them base64-encoded (the chat
#: history's PDF export). It does so only when the request's *first* Accept type is one of these, which a
#: browser's link click never is: the web client's CloudFront function sets Accept on .pdf URLs
#: (infra/constructs/web.py). Everything else, request bodies included, stays text.
BINARY_MEDIA_TYPES: tuple[str, ...] = ("application/pdf",)


@dataclass(frozen=True)
class Throttling:
    """Stage-wide limits applied to every method (requests per second, and bucket size)."""

    rate_limit: float = 50
    burst_limit: int = 100


def path_parameters(path: str) -> list[str]:
    """``/api/products/{id}`` -> ``["id"]``."""
    return _PATH_PARAMETER.findall(path)


def methods_by_path() -> dict[str, list[str]]:
    """Each route path and its methods, in ROUTES order."""
    methods: dict[str, list[str]] = {}
    for route in ROUTES:
        methods.setdefault(route.path, []).append(route.method)
    return methods


class Api(Construct):
    """``rest_api``: one Lambda proxy method per route, CORS preflight on every route path."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        functions: Mapping[str, lambda_.IFunction],
        throttling: Throttling,
        cors_allow_origins: Sequence[str] = (cors.ANY_ORIGIN,),
        stage_name: str = "prod",
    ) -> None:
        super().__init__(scope, construct_id)
        self.access_logs = logs.LogGroup(
            self, "AccessLogs", retention=LOG_RETENTION, removal_policy=RemovalPolicy.DESTROY
        )
        self.rest_api = apigateway.RestApi(
            self,
            "RestApi",
            # API Gateway's metrics are per API name: one per stack, so two stacks' alarms never mix.
            rest_api_name=Stack.of(self).stack_name,
            description="Talkshop API: catalog, search, advisor and checkout for chat front ends",
            endpoint_types=[apigateway.EndpointType.REGIONAL],
            binary_media_types=list(BINARY_MEDIA_TYPES),
            # Execution logging needs the account-level CloudWatch role (AWS::ApiGateway::Account).
            cloud_watch_role=True,
            cloud_watch_role_removal_policy=RemovalPolicy.RETAIN,
            deploy_options=apigateway.StageOptions(
                stage_name=stage_name,
                throttling_rate_limit=throttling.rate_limit,
                throttling_burst_limit=throttling.burst_limit,
                logging_level=apigateway.MethodLoggingLevel.INFO,
                data_trace_enabled=False,  # full request/response logging would write bearer keys to logs
                metrics_enabled=True,
                tracing_enabled=True,
                access_log_destination=apigateway.LogGroupLogDestination(self.access_logs),
                access_log_format=apigateway.AccessLogFormat.json_with_standard_fields(
                    caller=True,
                    http_method=True,
                    ip=True,
                    protocol=True,
                    request_time=True,
                    resource_path=True,
                    response_length=True,
                    status=True,
                    user=True,
                ),
            ),
        )
        #: The API's host name and its stage, which CloudFront forwards the web client's requests to. Built
        #: from the API's id rather than taken from the stage, so the functions behind the API may name the
        #: distribution (``rest_api.url`` depends on the deployment, which depends on the functions: a cycle).
        stack = Stack.of(self)
        self.domain_name = f"{self.rest_api.rest_api_id}.execute-api.{stack.region}.{stack.url_suffix}"
        self.stage_name = stage_name
        # The stack exports the URL itself (ApiUrl); drop the RestApi's automatic duplicate output.
        self.rest_api.node.try_remove_child("Endpoint")
        self.request_validator = self.rest_api.add_request_validator(
            "RequestValidator", validate_request_body=True, validate_request_parameters=True
        )
        integrations = {
            name: apigateway.LambdaIntegration(function, proxy=True, allow_test_invoke=False)
            for name, function in functions.items()
        }
        self.methods: dict[tuple[str, str], apigateway.Method] = {}
        for route in ROUTES:
            resource = self.rest_api.root.resource_for_path(route.path)
            self.methods[(route.method, route.path)] = resource.add_method(
                route.method,
                integrations[route.function.name],
                request_validator=self.request_validator,
                request_parameters={
                    f"method.request.path.{name}": True for name in path_parameters(route.path)
                },
            )
        for path, methods in methods_by_path().items():
            self.rest_api.root.resource_for_path(path).add_cors_preflight(
                allow_origins=list(cors_allow_origins),
                allow_methods=methods,
                allow_headers=list(cors.ALLOWED_HEADERS),
                max_age=Duration.seconds(cors.MAX_AGE_SECONDS),
            )
        self._add_gateway_responses(cors_allow_origins)
        Validations.of(self.rest_api).acknowledge(
            Acknowledgment(
                id=(
                    "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
                    "AmazonAPIGatewayPushToCloudWatchLogs]"
                ),
                reason=(
                    "The account-level role API Gateway writes execution and access logs with "
                    "(AWS::ApiGateway::Account) must be able to create the API-Gateway-Execution-Logs_* "
                    "groups; AWS maintains this service-role policy for exactly that role."
                ),
            ),
            Acknowledgment(
                id="AwsSolutions-APIG4",
                reason=(
                    "Creators and the admin authenticate with bearer API keys verified inside the "
                    "handlers (talkshop.auth); catalog reads are public by design; OPTIONS preflights "
                    "must be unauthenticated for browsers."
                ),
            ),
            Acknowledgment(
                id="AwsSolutions-COG4",
                reason=(
                    "No Cognito user pool: shoppers are anonymous chat users and creators use API keys "
                    "checked in the handlers, see AwsSolutions-APIG4."
                ),
            ),
        )

    def _add_gateway_responses(self, cors_allow_origins: Sequence[str]) -> None:
        """Answers API Gateway gives itself keep the API's error contract and stay readable cross-origin.

        An unknown route is a 404 `route_not_found` (API Gateway's own answer is a 403 "Missing
        Authentication Token"), as the local runtime answers it.
        """
        headers = {}
        if list(cors_allow_origins) == [cors.ANY_ORIGIN]:
            headers["Access-Control-Allow-Origin"] = f"'{cors.ANY_ORIGIN}'"
        answers = (
            ("RouteNotFound", apigateway.ResponseType.MISSING_AUTHENTICATION_TOKEN, "404", "route_not_found"),
            ("Throttled", apigateway.ResponseType.THROTTLED, "429", "throttled"),
            ("WafFiltered", apigateway.ResponseType.WAF_FILTERED, "403", "blocked"),
            ("Default4xx", apigateway.ResponseType.DEFAULT_4_XX, None, "gateway_refused"),
            ("Default5xx", apigateway.ResponseType.DEFAULT_5_XX, None, "gateway_error"),
        )
        for name, response_type, status, code in answers:
            self.rest_api.add_gateway_response(
                name,
                type=response_type,
                status_code=status,
                response_headers=headers,
                templates={
                    "application/json": (
                        f'{{"error": {{"code": "{code}", "message": $context.error.messageString}}}}'
                    )
                },
            )
