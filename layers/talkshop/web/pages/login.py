"""Signing in to the dashboards: a creator or the admin types their key once and gets a session cookie.

`GET /login` is the form (or, when signed in, who you are and a sign-out button); `POST /login` checks
the key, opens a session (talkshop.api.sessions) and redirects to the dashboard (`next`, when it is a
path of this site, else the signed-in person's own dashboard); `POST /logout` ends the session. A
wrong key shows the form again with the API's status and code (401 `invalid_credentials`, 403
`not_a_staff_key` for a shopper's or an agent's key). The key never leaves the request that carried it.
"""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response

from talkshop.api.app import header
from talkshop.api.context import caller, repository
from talkshop.api.cookies import forget_session_cookie, session_cookie, session_id_from_cookies
from talkshop.api.sessions import SESSION_ID_PREFIX, sign_in, sign_out
from talkshop.auth import Principal, PrincipalKind
from talkshop.errors import Forbidden, TalkshopError
from talkshop.settings import get_settings
from talkshop.web.app import form_fields, page, page_router, require_same_origin, resolver_of
from talkshop.web.dashboard_view import ADMIN_PATH, CREATOR_PATH
from talkshop.web.render import redirect

router = page_router()
LOGIN_PATH = "/login"


def secure_cookies() -> bool:
    return get_settings().public_url.startswith("https://")


def safe_next(target: str | None) -> str | None:
    """A place to go after signing in: a path of this site only (never `//host` or a URL). Browsers drop
    tabs and line breaks from a Location (`/<TAB>/evil.example` is `//evil.example` to them), so a target
    with any space or control character is refused too, and one that is not ASCII (a Location header is
    ASCII: the pages' own `next` values are percent-encoded)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    if not target.isascii() or any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in target):
        return None
    return target


def require_this_site(app: APIGatewayRestResolver) -> None:
    """Refuse a sign-in or sign-out form that another site posted (login CSRF: a victim signed in to
    the attacker's account). Stricter than the shop's forms: an opaque `Origin: null` (a sandboxed
    frame, a data: page) is refused, and so is a post the browser marks as cross-site or one whose
    Referer names another host when no Origin came. A client that sends none of these (curl, a test)
    carries no victim's browser and is let through."""
    require_same_origin(app)
    refused = Forbidden("Forms can only be posted from this site.", code="cross_site_form")
    origin = header(app, "Origin")
    if origin == "null":
        raise refused
    if (header(app, "Sec-Fetch-Site") or "").lower() in ("cross-site", "same-site"):
        raise refused
    referer = header(app, "Referer")
    if origin is None and referer:
        host = header(app, "X-Forwarded-Host") or header(app, "Host")
        if urlsplit(referer).netloc != host:
            raise refused


def login_href(next_path: str) -> str:
    return f"{LOGIN_PATH}?{urlencode({'next': next_path})}"


def home_of(principal: Principal) -> str:
    return ADMIN_PATH if principal.is_admin else CREATOR_PATH


def _signed_in() -> Principal | None:
    try:
        principal = caller(resolver_of(router), signed_in=True)
    except TalkshopError:
        return None  # an ended session: the form again
    return principal if principal.kind in (PrincipalKind.CREATOR, PrincipalKind.ADMIN) else None


def _login_page(
    status: int = 200,
    *,
    next_path: str | None,
    error: TalkshopError | None = None,
    principal: Principal | None = None,
    notice: str | None = None,
) -> Response[str]:
    return page(
        "login.html",
        status=status,
        section="login",
        next_path=next_path or "",
        error=error,
        principal=principal,
        home=home_of(principal) if principal else "",
        notice=notice,
    )


@router.get(LOGIN_PATH)
def login_form() -> Response[str]:
    event = resolver_of(router).current_event
    signed_out = event.get_query_string_value("signed_out") == "1"
    return _login_page(
        next_path=safe_next(event.get_query_string_value("next")),
        principal=_signed_in(),
        notice="You are signed out." if signed_out else None,
    )


@router.post(LOGIN_PATH)
def login() -> Response[str]:
    app = resolver_of(router)
    require_this_site(app)
    fields = form_fields(app)
    next_path = safe_next(fields.get("next"))
    try:
        signed_in = sign_in(fields.get("key", ""), repository(), get_settings())
    except TalkshopError as error:
        return _login_page(error.status, next_path=next_path, error=error)
    # A new sign-in never keeps the session this browser had before (nor one planted in it).
    earlier = session_id_from_cookies(header(app, "Cookie"), SESSION_ID_PREFIX)
    if earlier:
        sign_out(earlier, repository())
    cookie = session_cookie(signed_in.session_id, signed_in.max_age_s, secure=secure_cookies())
    return redirect(next_path or home_of(signed_in.principal), {"Set-Cookie": cookie})


@router.post("/logout")
def logout() -> Response[str]:
    app = resolver_of(router)
    require_this_site(app)
    session_id = session_id_from_cookies(header(app, "Cookie"), SESSION_ID_PREFIX)
    if session_id:
        sign_out(session_id, repository())
    return redirect(
        f"{LOGIN_PATH}?signed_out=1", {"Set-Cookie": forget_session_cookie(secure=secure_cookies())}
    )
