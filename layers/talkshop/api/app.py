"""Building blocks every Lambda handler shares: the resolver with Talkshop's error contract, the
decorated entry point, and request helpers (caller identity, versions, JSON responses).

Every error leaves the API as `{"error": {"code": ..., "message": ...}}` with a 4xx status, and an
unexpected exception as a 500 `internal_error` whose details go to the log, never to the caller.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from talkshop.api.cors import resolver_cors
from talkshop.api.observability import logger, metrics, tracer
from talkshop.errors import InvalidInput, TalkshopError

Handler = Callable[[dict[str, Any], LambdaContext], dict[str, Any]]


class ErrorDetail(BaseModel):
    code: str
    message: str
    details: Any = None


class ErrorBody(BaseModel):
    """Every 4xx and 5xx answer of the API."""

    error: ErrorDetail


_ERROR_MEANINGS = {
    400: "Malformed request (invalid JSON or cursor)",
    401: "Missing, malformed or unknown API key",
    402: "The payment was declined",
    403: "The key may not do this",
    404: "No such resource (or not visible to this caller)",
    409: "Conflicts with the current state; read again and retry",
    412: "If-Match names a version that is no longer current",
    413: "The change is too large",
    415: "The body is not application/json",
    422: "The request does not validate",
    503: "A service we depend on (the payment provider) did not answer; retry",
}


def error_responses(*statuses: int) -> dict[int, OpenAPIResponse]:
    """OpenAPI descriptions of the error answers a route can give, in the API's error format."""
    return {
        status: {
            "description": _ERROR_MEANINGS[status],
            "content": {"application/json": {"model": ErrorBody}},
        }
        for status in statuses
    }


def error_response(status: int, code: str, message: str, details: Any = None) -> Response[Any]:
    metrics.add_metric(
        name="RequestsRefused" if status < 500 else "RequestsFailed", unit=MetricUnit.Count, value=1
    )
    error: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        error["details"] = details
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body={"error": error})


def json_response(
    model: BaseModel, status: int = 200, headers: dict[str, str] | None = None
) -> Response[Any]:
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        # By alias: models that speak camelCase on the wire (the chat API) answer in it.
        body=model.model_dump(mode="json", by_alias=True),
        headers=headers,
    )


def _describe_validation_errors(errors: Any) -> list[dict[str, Any]]:
    described = []
    for error in errors:
        location = [str(part) for part in error.get("loc", ())]
        described.append({"location": location, "type": error.get("type"), "message": error.get("msg")})
    return described


def create_app() -> APIGatewayRestResolver:
    # A response that breaks its own schema is our bug: answer 500, not a 4xx blaming the caller.
    app = APIGatewayRestResolver(
        enable_validation=True, response_validation_error_http_code=500, cors=resolver_cors()
    )

    def _domain_error(error: TalkshopError) -> Response[Any]:
        logger.info("request refused", extra={"code": error.code, "status": error.status})
        return error_response(error.status, error.code, error.message, error.details)

    def _not_json() -> Response[Any]:
        return error_response(415, "unsupported_media_type", "Send the body as application/json.")

    def _unsupported_content_type(error: RequestUnsupportedContentType) -> Response[Any]:
        return _not_json()

    def _validation_error(error: RequestValidationError) -> Response[Any]:
        content_type = (header(app, "Content-Type") or "application/json").split(";")[0].strip().lower()
        if app.current_event.body and content_type != "application/json":
            # A form-encoded body is parsed as form fields; blame the encoding, not the fields.
            return _not_json()
        errors = list(error.errors())
        if any(item.get("type") == "json_invalid" for item in errors):
            return error_response(400, "invalid_json", "The request body is not valid JSON.")
        details = _describe_validation_errors(errors)
        unknown = [".".join(item["location"][1:]) for item in details if item["type"] == "extra_forbidden"]
        if unknown:
            return error_response(422, "unknown_fields", f"Unknown fields: {', '.join(unknown)}.", details)
        return error_response(422, InvalidInput.code, "The request is not valid.", details)

    @app.not_found
    def _no_route(_: Exception) -> Response[Any]:
        return error_response(404, "route_not_found", "No such route.")

    def _unexpected(error: Exception) -> Response[Any]:
        logger.exception("unhandled error")
        return error_response(500, "internal_error", "Something went wrong on our side; it has been logged.")

    # Registered by call rather than as decorators: Powertools' decorator is untyped.
    app.exception_handler(TalkshopError)(_domain_error)
    app.exception_handler(RequestValidationError)(_validation_error)
    app.exception_handler(RequestUnsupportedContentType)(_unsupported_content_type)
    app.exception_handler(Exception)(_unexpected)

    return app


def lambda_entrypoint(app: APIGatewayRestResolver) -> Handler:
    """The Lambda handler for a resolver: correlation ids, tracing and metrics around app.resolve."""

    @logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
    @tracer.capture_lambda_handler
    @metrics.log_metrics(capture_cold_start_metric=True)
    def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        return app.resolve(event, context)

    return handler


def header(app: APIGatewayRestResolver, name: str) -> str | None:
    value = app.current_event.headers.get(name)
    return value if value else None


def expected_version(app: APIGatewayRestResolver) -> int | None:
    """The version named by an If-Match header (an ETag we issued: "<version>"), if any."""
    raw = header(app, "If-Match")
    if raw is None:
        return None
    tag = raw.strip().removeprefix("W/").strip('"')
    if not tag.isdigit():
        raise InvalidInput('If-Match must be an ETag this API issued, like "3".', code="invalid_if_match")
    return int(tag)


def location_of(app: APIGatewayRestResolver, resource_id: str) -> str:
    """The URL path of a resource created under the current path, with the API's stage if any."""
    return f"{app.current_event.request_context.path.rstrip('/')}/{resource_id}"


def etag(version: int) -> str:
    return json.dumps(str(version))
