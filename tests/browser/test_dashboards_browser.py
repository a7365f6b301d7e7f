"""The dashboards in a real browser against `talkshop local`: sign in with the admin key, open the
platform's and a seller's dashboard, change filters, download a CSV, sign out. Chats made through the
API first give the charts something to draw (the local runtime counts their events as they happen)."""

from __future__ import annotations

import csv
import io
import json
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.e2e.test_local_runtime import ADMIN_KEY, Server

if TYPE_CHECKING:
    from playwright.sync_api import Page

WatchConsole = Callable[["Page"], list[str]]
Screenshot = Callable[["Page", str], "Path | None"]


def _post(server: Server, path: str, body: dict[str, Any], token: str | None = None) -> dict[str, Any]:
    headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}
    url = server.url + path  # the local test server, http only
    request = urllib.request.Request(url, json.dumps(body).encode(), headers, method="POST")  # noqa: S310
    with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
        parsed: dict[str, Any] = json.loads(answer.read())
        return parsed


@pytest.fixture(scope="module")
def chats(web_server: Server) -> None:
    """Three chats (one buys its first recommendation) and one purchase in the shop without a chat."""
    for number, opening in enumerate(
        ("Find me a padel racket for beginners", "What's the best racket under €100?", "A light padel racket")
    ):
        started = _post(web_server, "/api/chat/session", {"platform": "web" if number else "claude"})
        token, session = started["shopperToken"], started["id"]
        _post(web_server, "/api/chat/message", {"sessionId": session, "message": opening}, token)
        _post(
            web_server,
            "/api/chat/message",
            {"sessionId": session, "message": "Is the first one light?"},
            token,
        )
        if number == 0:
            reply = _post(
                web_server,
                "/api/chat/message",
                {"sessionId": session, "message": "I'll take the first one"},
                token,
            )
            cart = reply["checkout"]["cartId"]
            _post(web_server, "/api/checkout", {"cartId": cart, "paymentToken": "spt_test_ok"}, token)
    cart = _post(web_server, "/api/carts", {})
    shopper = cart["shopperToken"]
    _post(
        web_server,
        f"/api/carts/{cart['id']}/lines",
        {"productId": "vantaro-aero-lite", "quantity": 1},
        shopper,
    )
    _post(web_server, "/api/checkout", {"cartId": cart["id"], "paymentToken": "spt_test_ok"}, shopper)


def _sign_in(page: Page) -> None:
    page.goto("/admin/conversational-commerce")
    assert "/login?next=" in page.url  # not signed in yet: sent to sign in, then back
    page.get_by_label("Your key").fill(ADMIN_KEY)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/admin/conversational-commerce")


def test_the_admin_opens_both_dashboards_filters_and_downloads_a_csv(
    desktop: Page, chats: None, watch_console: WatchConsole, screenshot: Screenshot
) -> None:
    problems = watch_console(desktop)
    _sign_in(desktop)
    assert desktop.get_by_role("heading", level=1).inner_text() == "Conversational commerce"
    today = desktop.locator(".tile", has_text="Conversations today").locator(".tile-value").inner_text()
    assert int(today) >= 2
    charts = desktop.locator("svg[role=img]")
    assert charts.count() >= 4
    assert desktop.locator("svg[role=img] desc").first.text_content()
    desktop.locator("#chart-conversations-and-orders-per-day").scroll_into_view_if_needed()
    screenshot(desktop, "dashboard-admin")

    # A filter: only Gemini's chats (there are none), then every platform again.
    desktop.get_by_label("Platform", exact=True).select_option("gemini")
    desktop.get_by_role("button", name="Apply filters").click()
    desktop.wait_for_url("**platform=gemini**")
    headline = desktop.get_by_role("list", name="Headline figures")
    assert (
        headline.locator(".tile", has_text="Conversations").first.locator(".tile-value").inner_text() == "0"
    )
    desktop.get_by_label("Platform", exact=True).select_option("")
    desktop.get_by_role("button", name="Apply filters").click()
    desktop.wait_for_url(lambda url: "platform=gemini" not in url)

    # The CSV of the products table, through the same session cookie.
    with desktop.expect_download() as downloaded:
        desktop.get_by_role("link", name="Products (CSV)").click()
    download = downloaded.value
    assert download.suggested_filename.startswith("talkshop-products-")
    rows = list(csv.reader(io.StringIO(Path(download.path()).read_text(encoding="utf-8"))))
    assert rows[0][:3] == ["product_id", "name", "creator_id"]
    assert len(rows) > 1

    # A seller's dashboard, from the creators table.
    creator_link = desktop.get_by_role("region", name="Creators by chat revenue").get_by_role("link").first
    creator_link.click()
    desktop.wait_for_url("**/dashboard/conversational-metrics?creatorId=**")
    assert desktop.get_by_role("heading", level=1).inner_text().startswith("Conversational metrics")
    assert desktop.get_by_role("heading", name="How well the AI understands your products").is_visible()
    assert desktop.locator(".insight meter").count() >= 1
    assert desktop.locator("svg[role=img]").count() == 5  # charts with data (no chat was abandoned)
    screenshot(desktop, "dashboard-creator")

    # Narrow it to one product: the other products' scores go away.
    options = desktop.get_by_label("Product", exact=True).locator("option")
    chosen = options.nth(1).get_attribute("value") or ""
    desktop.get_by_label("Product", exact=True).select_option(chosen)
    desktop.get_by_role("button", name="Apply filters").click()
    desktop.wait_for_url(f"**productId={chosen}**")
    assert desktop.locator("#understanding-" + chosen).is_visible()
    assert desktop.locator("li[id^=understanding-]").count() == 1

    # The data table behind a chart opens for those who would rather read numbers.
    first_chart = desktop.locator("figure.chart").first
    first_chart.get_by_text("Show the numbers").click()
    assert first_chart.locator("table").is_visible()

    desktop.get_by_role("button", name="Sign out").first.click()
    desktop.wait_for_url("**/login?signed_out=1")
    desktop.goto("/admin/conversational-commerce")
    assert "/login?next=" in desktop.url
    assert problems == [], problems


def test_the_dashboard_fits_a_phone_and_dark_mode(
    mobile: Page, dark: Page, chats: None, watch_console: WatchConsole, screenshot: Screenshot
) -> None:
    for page, name in ((mobile, "dashboard-admin-mobile"), (dark, "dashboard-admin-dark")):
        problems = watch_console(page)
        _sign_in(page)
        # Nothing wider than the screen but the tables, which scroll in their own region.
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, overflow
        screenshot(page, name)
        assert problems == [], problems
