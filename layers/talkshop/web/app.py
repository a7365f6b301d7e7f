"""The resolver of the web function: page routes answer HTML, and so do their errors.

A refused form (bad input, someone else's chat, a missing product) renders an error page with the
same status and machine-readable code the JSON API would give, so a shopper without JavaScript sees a
clear message and scripts can still tell the cases apart.
"""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import parse_qs, urlsplit

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from talkshop.api.app import header
from talkshop.api.observability import logger
from talkshop.errors import Forbidden, TalkshopError
from talkshop.llm.config import LlmConfigError, ProviderName, load_llm_config
from talkshop.web.render import html_page

_PROVIDER_NAMES = {
    ProviderName.ANTHROPIC: "Claude",
    ProviderName.OPENAI: "OpenAI",
    ProviderName.OPENAI_COMPATIBLE: "an OpenAI-compatible model",
    ProviderName.GEMINI: "Gemini",
}
RULES_ENGINE_LABEL = "Talkshop's rules engine (no AI model)"


def model_label() -> str:
    """What answers the chat, for the page footer: the configured model, or the rules engine."""
    try:
        config = load_llm_config()
    except LlmConfigError:
        return RULES_ENGINE_LABEL  # the advisor falls back to the rules engine too
    if config is None:
        return RULES_ENGINE_LABEL
    return f"{_PROVIDER_NAMES[config.provider]} ({config.small_model}, {config.large_model})"


def page(
    template: str, *, status: int = 200, headers: dict[str, str] | None = None, **context: Any
) -> Response[str]:
    """A page with what every page shows (the footer's model) filled in."""
    return html_page(template, status=status, headers=headers, model_label=model_label(), **context)


def error_page(status: int, code: str, message: str) -> Response[str]:
    return page("error.html", status=status, section="", code=code, message=message)


def form_fields(app: APIGatewayRestResolver) -> dict[str, str]:
    """The fields of a posted form (application/x-www-form-urlencoded); the last value of a repeated
    field wins, as for query strings."""
    event = app.current_event
    body = event.body or ""
    if event.is_base64_encoded:
        body = base64.b64decode(body).decode("utf-8", errors="replace")
    return {name: values[-1] for name, values in parse_qs(body, keep_blank_values=True).items()}


def require_same_origin(app: APIGatewayRestResolver) -> None:
    """Refuse a form posted from another site. The shopper cookie is SameSite=Strict, so such a post
    would carry no credentials anyway; this also stops one from starting anonymous chats or carts."""
    origin = header(app, "Origin")
    if origin is None or origin == "null":
        return  # same-origin navigations from older browsers, and non-browser clients
    host = header(app, "X-Forwarded-Host") or header(app, "Host")
    if urlsplit(origin).netloc != host:
        raise Forbidden("Forms can only be posted from this site.", code="cross_site_form")


def page_router() -> Router:
    """A router for one area's pages (Powertools' constructor is untyped)."""
    return Router()  # type: ignore[no-untyped-call]


def resolver_of(router: Router) -> APIGatewayRestResolver:
    """The web app a page router is part of: what the request helpers (form_fields, caller...) take."""
    resolver = router.api_resolver
    if not isinstance(resolver, APIGatewayRestResolver):
        raise RuntimeError("the page router is not included in the web app")
    return resolver


def create_web_app() -> APIGatewayRestResolver:
    app = APIGatewayRestResolver()

    def _domain_error(error: TalkshopError) -> Response[str]:
        logger.info("page refused", extra={"code": error.code, "status": error.status})
        return error_page(error.status, error.code, error.message)

    def _unexpected(error: Exception) -> Response[str]:
        logger.exception("unhandled error")
        return error_page(500, "internal_error", "Something went wrong on our side; it has been logged.")

    @app.not_found
    def _no_page(_: Exception) -> Response[str]:
        return error_page(404, "page_not_found", "There is no such page.")

    app.exception_handler(TalkshopError)(_domain_error)
    app.exception_handler(Exception)(_unexpected)
    return app
