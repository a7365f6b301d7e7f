"""The shopper cookie: how the web client carries a shopper token without JavaScript touching it.

The token is the same `tsh_` bearer token the API issues; in the cookie it is HttpOnly (scripts
cannot read it, so an injected script cannot steal it) and SameSite=Strict (a browser never sends it
with a request started by another site, which is what protects the cookie-authenticated POSTs from
cross-site request forgery). Only shopper tokens are accepted from the cookie: creator and admin keys
keep travelling as Authorization headers.
"""

from __future__ import annotations

from http.cookies import CookieError, SimpleCookie

from talkshop.auth import SHOPPER_TOKEN_PREFIX

SHOPPER_COOKIE = "talkshop_shopper"
_ONE_YEAR_S = 365 * 24 * 3600


def shopper_token_from_cookies(cookie_header: str | None) -> str | None:
    if not cookie_header:
        return None
    cookies: SimpleCookie = SimpleCookie()
    try:
        cookies.load(cookie_header)
    except CookieError:
        return None
    morsel = cookies.get(SHOPPER_COOKIE)
    if morsel is None or not morsel.value.startswith(SHOPPER_TOKEN_PREFIX):
        return None
    return morsel.value


def shopper_cookie(token: str, *, secure: bool) -> str:
    """The Set-Cookie value that hands a shopper token to the browser."""
    return _cookie(token, _ONE_YEAR_S, secure=secure)


def forget_shopper_cookie(*, secure: bool) -> str:
    return _cookie("", 0, secure=secure)


def _cookie(value: str, max_age: int, *, secure: bool) -> str:
    attributes = [f"{SHOPPER_COOKIE}={value}", "Path=/", "HttpOnly", "SameSite=Strict", f"Max-Age={max_age}"]
    if secure:
        attributes.append("Secure")
    return "; ".join(attributes)
