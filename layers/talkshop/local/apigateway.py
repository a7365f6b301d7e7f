"""What API Gateway does in front of the Lambdas, done locally: match a route from the route table
and turn an HTTP request into the REST API proxy event (payload format 1.0) a handler receives."""

from __future__ import annotations

import base64
import re
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qs

from talkshop.api.routes import ROUTES, Route


@dataclass(frozen=True)
class RouteMatch:
    route: Route
    path_parameters: dict[str, str]


@lru_cache(maxsize=1)
def _compiled_routes() -> list[tuple[re.Pattern[str], Route]]:
    compiled = []
    for route in ROUTES:
        pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(route.path))
        compiled.append((re.compile(f"^{pattern}$"), route))
    return compiled


def match_route(method: str, path: str) -> RouteMatch | None:
    for pattern, route in _compiled_routes():
        found = pattern.match(path)
        if found and route.method == method:
            return RouteMatch(route, found.groupdict())
    return None


def methods_for(path: str) -> list[str]:
    """The methods routed on a path (empty when the path is not an API route at all)."""
    return [route.method for pattern, route in _compiled_routes() if pattern.match(path)]


def proxy_event(
    method: str,
    path: str,
    match: RouteMatch,
    *,
    query_string: str = "",
    headers: Mapping[str, str] | None = None,
    body: bytes | None = None,
    source_ip: str = "127.0.0.1",
) -> dict[str, Any]:
    query = parse_qs(query_string, keep_blank_values=True)
    header_map = dict(headers or {})
    text_body: str | None = None
    is_base64 = False
    if body:
        try:
            text_body = body.decode("utf-8")
        except UnicodeDecodeError:
            text_body, is_base64 = base64.b64encode(body).decode(), True
    return {
        "resource": match.route.path,
        "path": path,
        "httpMethod": method,
        "headers": header_map,
        "multiValueHeaders": {name: [value] for name, value in header_map.items()},
        "queryStringParameters": {name: values[-1] for name, values in query.items()} or None,
        "multiValueQueryStringParameters": query or None,
        "pathParameters": match.path_parameters or None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": match.route.path,
            "httpMethod": method,
            "path": path,  # local URLs have no stage prefix, like a custom domain on AWS
            "stage": "local",
            "requestId": str(uuid.uuid4()),
            "requestTimeEpoch": int(time.time() * 1000),
            "identity": {"sourceIp": source_ip, "userAgent": header_map.get("User-Agent", "")},
        },
        "body": text_body,
        "isBase64Encoded": is_base64,
    }


@dataclass
class LocalLambdaContext:
    """The parts of the Lambda context object that Powertools and our handlers read."""

    function_name: str
    timeout_s: int
    memory_limit_in_mb: int = 512
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    started: float = field(default_factory=time.monotonic)

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:local:000000000000:function:{self.function_name}"

    @property
    def function_version(self) -> str:
        return "$LATEST"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        return "local"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self.timeout_s * 1000 - int((time.monotonic() - self.started) * 1000))


LambdaHandler = Callable[[dict[str, Any], Any], dict[str, Any]]


def response_body(response: Mapping[str, Any]) -> bytes:
    body = response.get("body") or ""
    if response.get("isBase64Encoded"):
        return base64.b64decode(body)
    return str(body).encode("utf-8")
