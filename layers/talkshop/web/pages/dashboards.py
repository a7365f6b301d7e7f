"""The dashboards' pages: the seller's conversational metrics and the platform's conversational commerce.

Both take the signed-in session cookie (or `Authorization: Bearer KEY`); a visitor who is not signed in
is sent to /login and back. Filters are a GET form (from, to, product or creator, platform), so the
address is the state: a filtered dashboard can be bookmarked, and it works without JavaScript. The CSV
links point at the JSON API's `?format=csv`, which the same cookie opens.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from aws_lambda_powertools.event_handler import Response

from talkshop.analytics.dashboards import (
    AdminDashboard,
    CreatorDashboard,
    Filters,
    admin_dashboard,
    creator_dashboard,
    parse_filters,
)
from talkshop.api.app import header
from talkshop.api.context import caller, repository
from talkshop.api.cookies import forget_session_cookie
from talkshop.auth import Principal, PrincipalKind
from talkshop.clock import utc_now
from talkshop.errors import Unauthorized
from talkshop.web.app import page, page_router, resolver_of
from talkshop.web.dashboard_view import (
    ADMIN_PATH,
    CREATOR_PATH,
    AdminPage,
    DashboardPage,
    admin_page,
    creator_page,
)
from talkshop.web.pages.login import login_href, secure_cookies
from talkshop.web.render import redirect

router = page_router()


def _signed_in_or_login(path: str) -> Principal | Response[str]:
    """The signed-in caller, or the redirect to /login that brings them back here."""
    app = resolver_of(router)
    query = app.current_event.query_string_parameters or {}
    back = path + (f"?{urlencode(query)}" if query else "")
    try:
        principal = caller(app, signed_in=True)
    except Unauthorized:
        if header(app, "Authorization") is not None:
            raise  # a script's wrong key: the 401 page, not a form it cannot fill
        return redirect(login_href(back), {"Set-Cookie": forget_session_cookie(secure=secure_cookies())})
    if principal.kind == PrincipalKind.ANONYMOUS:
        return redirect(login_href(back))
    return principal


def _dashboard_page(path: str, template: str, build: Callable[[Principal, Filters], Any]) -> Response[str]:
    """A dashboard for the signed-in caller: `build` computes it, the template shows it."""
    principal = _signed_in_or_login(path)
    if isinstance(principal, Response):
        return principal
    parameters = dict(resolver_of(router).current_event.query_string_parameters or {})
    dashboard, view = build(principal, parse_filters(parameters, utc_now().date()))
    return page(
        template,
        section="dashboard",
        principal=principal,
        dashboard=dashboard,
        view=view,
        filters=dashboard.filters,
    )


@router.get(CREATOR_PATH)
def seller_dashboard() -> Response[str]:
    def build(principal: Principal, filters: Filters) -> tuple[CreatorDashboard, DashboardPage]:
        dashboard = creator_dashboard(repository(), principal, filters)
        return dashboard, creator_page(dashboard)

    return _dashboard_page(CREATOR_PATH, "dashboard_creator.html", build)


@router.get(ADMIN_PATH)
def platform_dashboard() -> Response[str]:
    def build(principal: Principal, filters: Filters) -> tuple[AdminDashboard, AdminPage]:
        dashboard = admin_dashboard(repository(), principal, filters, utc_now().date())
        return dashboard, admin_page(dashboard)

    return _dashboard_page(ADMIN_PATH, "dashboard_admin.html", build)
