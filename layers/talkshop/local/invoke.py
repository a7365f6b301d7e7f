"""Invokes the Lambda handler wired to a route, exactly as API Gateway would."""

from __future__ import annotations

import importlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from talkshop.api import cors
from talkshop.api.routes import FunctionSpec
from talkshop.local.apigateway import (
    LambdaHandler,
    LocalLambdaContext,
    match_route,
    methods_for,
    proxy_event,
    response_body,
)


@dataclass(frozen=True)
class HttpResult:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def handler_for(function: FunctionSpec) -> LambdaHandler:
    module = importlib.import_module(function.module)
    handler: LambdaHandler = module.lambda_handler
    return handler


def _gateway_answer(status: int, message: str, origin: str | None) -> HttpResult:
    """An error API Gateway answers itself, without invoking a function."""
    code = "route_not_found" if status == 404 else "method_not_allowed"
    headers = {"Content-Type": "application/json"}
    allowed = cors.allow_origin_header(origin)
    if allowed:
        headers["Access-Control-Allow-Origin"] = allowed
    return HttpResult(status, headers, json.dumps({"error": {"code": code, "message": message}}).encode())


def invoke(
    method: str,
    path: str,
    *,
    query_string: str = "",
    headers: Mapping[str, str] | None = None,
    body: bytes | None = None,
) -> HttpResult:
    match = match_route(method, path)
    if match is None:
        origin = next((value for name, value in (headers or {}).items() if name.lower() == "origin"), None)
        methods = methods_for(path)
        if not methods:
            return _gateway_answer(404, f"No route {path}.", origin)
        if method == "OPTIONS":  # the CORS preflight, answered by API Gateway on AWS too
            return HttpResult(204, cors.preflight_headers(methods, origin), b"")
        return _gateway_answer(405, f"{method} is not supported on {path}.", origin)
    event = proxy_event(method, path, match, query_string=query_string, headers=headers, body=body)
    response = handler_for(match.route.function)(
        event,
        LocalLambdaContext(
            match.route.function.name, match.route.function.timeout_s, match.route.function.memory_mb
        ),
    )
    response_headers = {name: str(value) for name, value in (response.get("headers") or {}).items()}
    for name, values in (response.get("multiValueHeaders") or {}).items():
        response_headers[name] = ", ".join(str(value) for value in values)
    return HttpResult(int(response["statusCode"]), response_headers, response_body(response))
