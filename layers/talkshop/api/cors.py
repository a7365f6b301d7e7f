"""Cross-origin rules of the API, shared by the Lambda responses, API Gateway's preflight (CDK) and
the local runtime's preflight, so a browser sees the same answers everywhere."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import CORSConfig

ALLOWED_ORIGIN = "*"
# The creator's API key travels as a bearer token, never a cookie, so "*" is safe here.
ALLOWED_HEADERS = ("Authorization", "Content-Type", "If-Match")
EXPOSED_HEADERS = ("ETag", "Location")
MAX_AGE_SECONDS = 3600


def resolver_cors() -> CORSConfig:
    return CORSConfig(
        allow_origin=ALLOWED_ORIGIN,
        allow_headers=list(ALLOWED_HEADERS),
        expose_headers=list(EXPOSED_HEADERS),
        max_age=MAX_AGE_SECONDS,
    )


def preflight_headers(methods: list[str]) -> dict[str, str]:
    return {
        "Access-Control-Allow-Origin": ALLOWED_ORIGIN,
        "Access-Control-Allow-Methods": ",".join([*methods, "OPTIONS"]),
        "Access-Control-Allow-Headers": ",".join(ALLOWED_HEADERS),
        "Access-Control-Max-Age": str(MAX_AGE_SECONDS),
    }
