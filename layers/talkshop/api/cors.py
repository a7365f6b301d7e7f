"""Cross-origin rules of the API, shared by the Lambda responses, API Gateway's preflight (CDK) and
the local runtime's preflight, so a browser sees the same answers everywhere.

The allowed origins are one setting, TALKSHOP_CORS_ORIGINS (comma-separated; "*" by default): the
CDK app passes its `corsAllowOrigins` context both to API Gateway and to every function.
"""

from __future__ import annotations

import os

from aws_lambda_powertools.event_handler import CORSConfig

ORIGINS_VARIABLE = "TALKSHOP_CORS_ORIGINS"
ANY_ORIGIN = "*"
# "*" is safe: keys travel as bearer tokens, which another site's page does not have, and the session and
# shopper cookies are SameSite=Strict with no Access-Control-Allow-Credentials, so no cross-site request
# carries them.
ALLOWED_HEADERS = ("Authorization", "Content-Type", "If-Match", "Idempotency-Key")
EXPOSED_HEADERS = ("ETag", "Location")
MAX_AGE_SECONDS = 3600


def parse_origins(value: str | None) -> list[str]:
    origins = [origin.strip() for origin in (value or "").split(",") if origin.strip()]
    return origins or [ANY_ORIGIN]


def allowed_origins() -> list[str]:
    return parse_origins(os.environ.get(ORIGINS_VARIABLE))


def resolver_cors() -> CORSConfig:
    first, *others = allowed_origins()
    return CORSConfig(
        allow_origin=first,
        extra_origins=others,
        allow_headers=list(ALLOWED_HEADERS),
        expose_headers=list(EXPOSED_HEADERS),
        max_age=MAX_AGE_SECONDS,
    )


def allow_origin_header(request_origin: str | None) -> str | None:
    """The Access-Control-Allow-Origin value for a request from this origin (None: not allowed)."""
    origins = allowed_origins()
    if ANY_ORIGIN in origins:
        return ANY_ORIGIN
    return request_origin if request_origin in origins else None


def preflight_headers(methods: list[str], request_origin: str | None) -> dict[str, str]:
    headers = {
        "Access-Control-Allow-Methods": ",".join([*methods, "OPTIONS"]),
        "Access-Control-Allow-Headers": ",".join(ALLOWED_HEADERS),
        "Access-Control-Max-Age": str(MAX_AGE_SECONDS),
    }
    origin = allow_origin_header(request_origin)
    if origin:
        headers["Access-Control-Allow-Origin"] = origin
    return headers
