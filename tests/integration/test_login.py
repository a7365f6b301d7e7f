"""Signing in at /login through the web function on moto: the session cookie, what the table keeps of
it, who it lets in, and how it ends (sign-out, expiry, a revoked or rotated key)."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import pytest

from talkshop.api import context
from talkshop.api.sessions import SESSION_ID_PREFIX, SESSION_LIFETIME, session_principal
from talkshop.auth import PrincipalKind
from talkshop.catalog.creators import CreatorService
from talkshop.clock import utc_now
from talkshop.data.repository import Repository
from talkshop.errors import Unauthorized
from talkshop.local.invoke import HttpResult, invoke
from talkshop.settings import get_settings
from tests.conftest import ADMIN_KEY, table_snapshot

SITE = "127.0.0.1:8000"
SESSION_COOKIE_RE = re.compile(r"talkshop_session=([^;]*)")


def post(
    path: str, fields: dict[str, str], cookie: str | None = None, origin: str = f"http://{SITE}"
) -> HttpResult:
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Host": SITE, "Origin": origin}
    if cookie:
        headers["Cookie"] = f"talkshop_session={cookie}"
    return invoke("POST", path, headers=headers, body=urlencode(fields).encode())


def get(path: str, cookie: str | None = None, query: str = "", **headers: str) -> HttpResult:
    all_headers = {"Host": SITE, **headers}
    if cookie:
        all_headers["Cookie"] = f"talkshop_session={cookie}"
    return invoke("GET", path, query_string=query, headers=all_headers)


def session_set_by(result: HttpResult) -> str:
    match = SESSION_COOKIE_RE.search(result.headers.get("Set-Cookie", ""))
    assert match, result.headers
    return match.group(1)


def error_code(result: HttpResult) -> str | None:
    match = re.search(r'data-error-code="([^"]*)"', result.body.decode())
    return match.group(1) if match else None


@pytest.fixture
def creator_key(repository: Repository) -> str:
    return CreatorService(repository).add("Padel Nest", "padelnest").api_key


def test_a_creator_signs_in_with_their_key_and_gets_an_opaque_strict_http_only_cookie(
    creator_key: str, table: Any
) -> None:
    answer = post("/login", {"key": creator_key, "next": ""})

    assert answer.status == 303
    assert answer.headers["Location"] == "/dashboard/conversational-metrics"
    cookie = answer.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie
    assert "Path=/" in cookie
    assert f"Max-Age={int(SESSION_LIFETIME.total_seconds())}" in cookie
    assert "Secure" not in cookie  # the local runtime's public URL is http
    session_id = session_set_by(answer)
    assert session_id.startswith(SESSION_ID_PREFIX)
    assert creator_key not in cookie
    # The table keeps the id's digest only, never the id or the key.
    stored = [item for item in table_snapshot(table) if str(item["PK"]).startswith("WEBSESSION#")]
    assert [item["PK"] for item in stored] == [
        f"WEBSESSION#{hashlib.sha256(session_id.encode()).hexdigest()}"
    ]
    assert session_id not in str(stored)
    assert creator_key not in str(stored)
    assert int(stored[0]["expires_epoch"]) > int(utc_now().timestamp())

    principal = session_principal(session_id, context.repository(), get_settings())
    assert (principal.kind, principal.person_id) == (PrincipalKind.CREATOR, "padelnest")


def test_the_admin_key_signs_in_to_the_platform_dashboard_and_next_is_honoured(table: Any) -> None:
    answer = post("/login", {"key": ADMIN_KEY, "next": ""})
    assert answer.headers["Location"] == "/admin/conversational-commerce"

    back = post("/login", {"key": ADMIN_KEY, "next": "/dashboard/conversational-metrics?creatorId=x"})
    assert back.headers["Location"] == "/dashboard/conversational-metrics?creatorId=x"


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/x", "javascript:alert(1)", "/\\evil"]
)
def test_next_never_leaves_the_site(target: str, table: Any) -> None:
    answer = post("/login", {"key": ADMIN_KEY, "next": target})
    assert answer.headers["Location"] == "/admin/conversational-commerce"


def test_a_wrong_key_shows_the_form_again_with_the_apis_status_and_code(table: Any) -> None:
    before = table_snapshot(table)
    answer = post("/login", {"key": "tsk_" + "x" * 43})
    assert answer.status == 401
    assert error_code(answer) == "invalid_credentials"
    assert "Set-Cookie" not in answer.headers
    assert 'name="key"' in answer.body.decode()
    assert 'aria-invalid="true"' in answer.body.decode()
    assert table_snapshot(table) == before

    empty = post("/login", {"key": "  "})
    assert (empty.status, error_code(empty)) == (401, "missing_credentials")


def test_a_shoppers_token_does_not_sign_in(table: Any) -> None:
    started = invoke("POST", "/api/chat/session", headers={"Content-Type": "application/json"}, body=b"{}")
    token = started.json()["shopperToken"]
    answer = post("/login", {"key": token})
    assert (answer.status, error_code(answer)) == (403, "not_a_staff_key")


def test_a_login_form_posted_from_another_site_is_refused(creator_key: str, table: Any) -> None:
    answer = post("/login", {"key": creator_key}, origin="https://evil.example")
    assert (answer.status, error_code(answer)) == (403, "cross_site_form")


def test_the_login_page_shows_the_form_or_who_is_signed_in(creator_key: str, table: Any) -> None:
    form = get("/login", query="next=%2Fdashboard%2Fconversational-metrics")
    assert form.status == 200
    assert 'value="/dashboard/conversational-metrics"' in form.body.decode()
    session_id = session_set_by(post("/login", {"key": creator_key}))
    signed_in = get("/login", session_id).body.decode()
    assert "signed in as creator <strong>padelnest</strong>" in signed_in
    assert 'action="/logout"' in signed_in


def test_signing_out_ends_the_session_and_forgets_the_cookie(creator_key: str, table: Any) -> None:
    session_id = session_set_by(post("/login", {"key": creator_key}))
    answer = post("/logout", {}, cookie=session_id)
    assert answer.status == 303
    assert answer.headers["Location"] == "/login?signed_out=1"
    assert session_set_by(answer) == ""
    assert "Max-Age=0" in answer.headers["Set-Cookie"]
    assert not [item for item in table_snapshot(table) if str(item["PK"]).startswith("WEBSESSION#")]
    with pytest.raises(Unauthorized):
        session_principal(session_id, context.repository(), get_settings())
    # The dashboard sends the ended session back to the sign-in page.
    page = get("/dashboard/conversational-metrics", session_id)
    assert page.status == 303
    assert page.headers["Location"].startswith("/login?next=")


def test_a_session_ends_when_it_expires(creator_key: str, table: Any) -> None:
    session_id = session_set_by(post("/login", {"key": creator_key}))
    later = utc_now() + SESSION_LIFETIME + timedelta(seconds=1)
    with pytest.raises(Unauthorized) as refused:
        session_principal(session_id, context.repository(), get_settings(), clock=lambda: later)
    assert refused.value.code == "session_expired"


def test_revoking_the_creators_keys_ends_their_sessions(creator_key: str, repository: Repository) -> None:
    session_id = session_set_by(post("/login", {"key": creator_key}))
    CreatorService(repository).revoke_keys("padelnest")
    answer = invoke("GET", "/api/analytics/creator", headers={"Cookie": f"talkshop_session={session_id}"})
    assert answer.status == 401
    assert answer.json()["error"]["code"] == "session_expired"


def test_rotating_the_admin_key_ends_admin_sessions(table: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    session_id = session_set_by(post("/login", {"key": ADMIN_KEY}))
    monkeypatch.setenv("TALKSHOP_ADMIN_KEY", "another-admin-key-0123456789")
    context.reset()
    answer = invoke("GET", "/api/analytics/admin", headers={"Cookie": f"talkshop_session={session_id}"})
    assert answer.status == 401
    assert answer.json()["error"]["code"] == "session_expired"


def test_the_session_cookie_never_makes_a_shopper(creator_key: str, table: Any) -> None:
    """The shop's pages read the shopper cookie only: a signed-in creator still chats as a visitor."""
    session_id = session_set_by(post("/login", {"key": creator_key}))
    chat = get("/history", session_id)
    assert chat.status == 200
    assert "appear here after your first chat" in chat.body.decode()


@pytest.mark.parametrize(
    "target",
    ["/\t/evil.example", "/\n/evil.example", "/ /evil.example", "/\x7f/x", "/x\r\nSet-Cookie: a=b", "/é"],
)
def test_next_with_a_tab_or_line_break_never_leaves_the_site(target: str, table: Any) -> None:
    """Browsers drop tabs and line breaks from a Location: `/<TAB>/evil.example` is `//evil.example`."""
    answer = post("/login", {"key": ADMIN_KEY, "next": target})
    assert answer.headers["Location"] == "/admin/conversational-commerce"


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "null"},  # a sandboxed frame or a data: page of another site
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
        {"Referer": "https://evil.example/login-csrf"},
    ],
)
@pytest.mark.parametrize("path", ["/login", "/logout"])
def test_a_login_or_logout_posted_by_another_site_is_refused_without_a_usable_origin(
    path: str, headers: dict[str, str], creator_key: str, table: Any
) -> None:
    before = table_snapshot(table)
    answer = invoke(
        "POST",
        path,
        headers={"Content-Type": "application/x-www-form-urlencoded", "Host": SITE, **headers},
        body=urlencode({"key": creator_key}).encode(),
    )
    assert (answer.status, error_code(answer)) == (403, "cross_site_form")
    assert "Set-Cookie" not in answer.headers
    assert table_snapshot(table) == before


def test_a_login_from_this_sites_page_or_a_script_without_origin_still_works(
    creator_key: str, table: Any
) -> None:
    same = {"Sec-Fetch-Site": "same-origin", "Referer": f"http://{SITE}/login"}
    for headers in (same, {}):
        answer = invoke(
            "POST",
            "/login",
            headers={"Content-Type": "application/x-www-form-urlencoded", "Host": SITE, **headers},
            body=urlencode({"key": creator_key}).encode(),
        )
        assert answer.status == 303, answer.body


def test_signing_in_again_ends_the_session_the_browser_had(creator_key: str, table: Any) -> None:
    """No session outlives a new sign-in in the same browser (nor one planted there beforehand)."""
    first = session_set_by(post("/login", {"key": creator_key}))
    second = session_set_by(post("/login", {"key": ADMIN_KEY}, cookie=first))
    assert second != first
    with pytest.raises(Unauthorized):
        session_principal(first, context.repository(), get_settings())
    assert session_principal(second, context.repository(), get_settings()).is_admin
