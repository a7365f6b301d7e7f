"""Rendering pages: Jinja templates with autoescaping on, and the security headers every page carries.

Everything a shopper, a creator or a model wrote reaches the page through a template variable, so it
is escaped; nothing is marked safe. The Content-Security-Policy allows scripts, styles, images and
connections from our own origin only, with no inline script or style at all.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from aws_lambda_powertools.event_handler import Response
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from talkshop.search.service import format_price
from talkshop.settings import get_settings
from talkshop.web.text import format_message

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "font-src 'self'",
        "manifest-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    ]
)
SECURITY_HEADERS: Mapping[str, str] = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",  # pages show a shopper's own chats, carts and orders
}
HTML = "text/html; charset=utf-8"


def money(amount: int, currency: str) -> str:
    return format_price(amount, currency)


def stars(rating: float | None) -> str:
    """A rating as five stars for the eye; screen readers get the number from the template."""
    if rating is None:
        return ""
    full = round(rating)
    return "★" * full + "☆" * (5 - full)


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("talkshop.web", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["money"] = money
    env.filters["stars"] = stars
    env.filters["message"] = format_message
    env.globals["shop_name"] = get_settings().shop_name
    return env


def render(template: str, **context: Any) -> str:
    return environment().get_template(template).render(**context)


def html_page(
    template: str, *, status: int = 200, headers: Mapping[str, str] | None = None, **context: Any
) -> Response[str]:
    return Response(
        status_code=status,
        content_type=HTML,
        body=render(template, **context),
        headers={**SECURITY_HEADERS, **(headers or {})},
    )


def redirect(location: str, headers: Mapping[str, str] | None = None) -> Response[str]:
    """303 See Other: after a form post the browser fetches the result page with GET (a reload does
    not post the form again)."""
    return Response(
        status_code=303,
        content_type=HTML,
        body="",
        headers={**SECURITY_HEADERS, "Location": location, **(headers or {})},
    )
