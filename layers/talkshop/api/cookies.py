"""The shopper cookie: how the web client carries a shopper token without JavaScript touching it.

The token is the same `tsh_` bearer token the API issues; in the cookie it is HttpOnly (scripts
cannot read it, so an injected script cannot steal it) and SameSite=Strict (a browser never sends it
with a request started by another site, which is what protects the cookie-authenticated POSTs from
cross-site request forgery). Only shopper tokens are accepted from that cookie: creator and admin keys
never enter a cookie. A creator or the admin signing in at /login gets the session cookie instead, with
the same attributes: an opaque session id (talkshop.api.sessions), never the key itself.
"""

from __future__ import annotations

from http.cookies import CookieError, SimpleCookie

from talkshop.auth import SHOPPER_TOKEN_PREFIX

SHOPPER_COOKIE = "talkshop_shopper"
SESSION_COOKIE = "talkshop_session"
_ONE_YEAR_S = 365 * 24 * 3600


def shopper_token_from_cookies(cookie_header: str | None) -> str | None:
    return _cookie_value(cookie_header, SHOPPER_COOKIE, SHOPPER_TOKEN_PREFIX)


def session_id_from_cookies(cookie_header: str | None, prefix: str) -> str | None:
    """The signed-in session's id (it starts with `prefix`), or None."""
    return _cookie_value(cookie_header, SESSION_COOKIE, prefix)


def _cookie_value(cookie_header: str | None, name: str, prefix: str) -> str | None:
    if not cookie_header:
        return None
    cookies: SimpleCookie = SimpleCookie()
    try:
        cookies.load(cookie_header)
    except CookieError:
        return None
    morsel = cookies.get(name)
    if morsel is None or not morsel.value.startswith(prefix):
        return None
    return morsel.value


def shopper_cookie(token: str, *, secure: bool) -> str:
    """The Set-Cookie value that hands a shopper token to the browser."""
    return _cookie(SHOPPER_COOKIE, token, _ONE_YEAR_S, secure=secure)


def forget_shopper_cookie(*, secure: bool) -> str:
    return _cookie(SHOPPER_COOKIE, "", 0, secure=secure)


def session_cookie(session_id: str, max_age: int, *, secure: bool) -> str:
    """The Set-Cookie value of a sign-in: it lives as long as the session does."""
    return _cookie(SESSION_COOKIE, session_id, max_age, secure=secure)


def forget_session_cookie(*, secure: bool) -> str:
    return _cookie(SESSION_COOKIE, "", 0, secure=secure)


def _cookie(name: str, value: str, max_age: int, *, secure: bool) -> str:
    attributes = [f"{name}={value}", "Path=/", "HttpOnly", "SameSite=Strict", f"Max-Age={max_age}"]
    if secure:
        attributes.append("Secure")
    return "; ".join(attributes)
