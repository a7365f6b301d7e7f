"""Calling the web function's page routes as a browser would: forms, the shopper cookie, HTML back."""

from __future__ import annotations

import re
from urllib.parse import urlencode

from talkshop.api.cookies import SHOPPER_COOKIE
from talkshop.local.invoke import HttpResult, invoke

SITE = "127.0.0.1:8000"


def cookie_of(token: str | None) -> dict[str, str]:
    return {"Cookie": f"{SHOPPER_COOKIE}={token}"} if token else {}


def get_page(path: str, token: str | None = None, query: str = "") -> HttpResult:
    return invoke("GET", path, query_string=query, headers={"Host": SITE, **cookie_of(token)})


def post_form(
    path: str, fields: dict[str, str], token: str | None = None, headers: dict[str, str] | None = None
) -> HttpResult:
    """A form posted from one of the site's pages (its Origin is the site)."""
    all_headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "Host": SITE,
        "Origin": f"http://{SITE}",
        **cookie_of(token),
        **(headers or {}),
    }
    return invoke("POST", path, headers=all_headers, body=urlencode(fields).encode())


def text(result: HttpResult) -> str:
    return result.body.decode()


def shopper_token_set_by(result: HttpResult) -> str:
    """The shopper token of the response's Set-Cookie (it must set one)."""
    match = re.search(rf"{SHOPPER_COOKIE}=(tsh_[^;]+)", result.headers.get("Set-Cookie", ""))
    assert match, result.headers
    return match.group(1)


def hidden_field(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert match, f"no hidden field {name}"
    return match.group(1)


def error_code(html: str) -> str | None:
    match = re.search(r'data-error-code="([^"]*)"', html)
    return match.group(1) if match else None
