"""A creator onboarded by the admin uses the seller dashboard in a real browser against `talkshop local`:
the admin issues a key to a demo-catalog creator through the admin API while the server runs, the
creator signs in with it, sees only their own products' figures (whatever the address asks for), is
refused the platform's dashboard, filters, downloads a CSV of their own rows and signs out; once the admin
revokes the key, it no longer signs in."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from talkshop.local.runtime import demo_catalog_path
from tests.browser.helpers import Screenshot, WatchConsole
from tests.e2e.test_local_runtime import ADMIN_KEY, Server

if TYPE_CHECKING:
    from playwright.sync_api import Page

SELLER = "smashacademy"
OTHER_SELLER = "padelnest"
SELLERS_PRODUCT = "smash-academy-starter"
OTHERS_PRODUCT = "vantaro-aero-lite"
DASHBOARD = "/dashboard/conversational-metrics"


def products_of(creator_id: str) -> dict[str, str]:
    """The demo catalog's products of a creator: id to name."""
    catalog: list[dict[str, Any]] = json.loads(demo_catalog_path().read_text(encoding="utf-8"))
    return {product["id"]: product["name"] for product in catalog if product["creator_id"] == creator_id}


def call(server: Server, method: str, path: str, body: Any = None, key: str | None = None) -> Any:
    status, answer = server.request(method, path, body, key=key)
    assert status < 300, (status, answer)
    return answer


def buy(server: Server, product_id: str) -> None:
    """A purchase in the shop, so that the product has figures of its own."""
    cart = call(server, "POST", "/api/carts", {})
    token = cart["shopperToken"]
    call(server, "POST", f"/api/carts/{cart['id']}/lines", {"productId": product_id, "quantity": 1}, token)
    call(server, "POST", "/api/checkout", {"cartId": cart["id"], "paymentToken": "spt_test_ok"}, token)


@pytest.fixture(scope="module")
def sellers_key(web_server: Server) -> str:
    """A key the admin issues to a demo creator over the API (the CLI cannot while the server runs), after
    a chat that shows several creators' rackets and a purchase from each of the two creators."""
    started = call(web_server, "POST", "/api/chat/session", {"platform": "web"})
    message = {"sessionId": started["id"], "message": "A padel racket for a beginner under €50"}
    call(web_server, "POST", "/api/chat/message", message, started["shopperToken"])
    buy(web_server, SELLERS_PRODUCT)
    buy(web_server, OTHERS_PRODUCT)
    issued = call(web_server, "POST", f"/api/admin/creators/{SELLER}/keys", key=ADMIN_KEY)
    assert issued["id"] == SELLER
    key: str = issued["apiKey"]
    return key


def sign_in(page: Page, key: str) -> None:
    page.goto("/login")
    page.get_by_label("Your key").fill(key)
    page.get_by_role("button", name="Sign in").click()


def status_of(page: Page, path: str) -> int:
    """The status the page at `path` came with."""
    answer = page.goto(path)
    assert answer is not None
    return answer.status


def product_links(page: Page) -> list[str]:
    table = page.get_by_role("region", name="How each product does in chats and in the shop")
    return table.locator("tbody th a").all_inner_texts()


def test_an_onboarded_creator_sees_only_their_own_figures(
    desktop: Page, sellers_key: str, web_server: Server, watch_console: WatchConsole, screenshot: Screenshot
) -> None:
    problems = watch_console(desktop)
    own, others = products_of(SELLER), products_of(OTHER_SELLER)
    sign_in(desktop, sellers_key)
    desktop.wait_for_url(f"**{DASHBOARD}")
    assert desktop.get_by_role("heading", level=1).inner_text() == f"Conversational metrics {SELLER}"
    assert desktop.get_by_text(f"Signed in as {SELLER}").is_visible()
    # No way to the platform's dashboard from here.
    assert desktop.get_by_role("link", name="Platform dashboard").count() == 0

    shown = product_links(desktop)
    assert own[SELLERS_PRODUCT] in shown
    assert others[OTHERS_PRODUCT] not in shown
    assert set(shown) <= set(own.values())
    options = desktop.get_by_label("Product", exact=True).locator("option")
    offered = {value for value in options.evaluate_all("options => options.map(o => o.value)") if value}
    assert offered == set(own)
    scored = desktop.locator("li[id^=understanding-]").evaluate_all("items => items.map(i => i.id)")
    assert {item.removeprefix("understanding-") for item in scored} == set(own)
    screenshot(desktop, "seller-dashboard-creator")

    # A filter: their racket only.
    desktop.get_by_label("Product", exact=True).select_option(SELLERS_PRODUCT)
    desktop.get_by_role("button", name="Apply filters").click()
    desktop.wait_for_url(f"**productId={SELLERS_PRODUCT}**")
    assert product_links(desktop) == [own[SELLERS_PRODUCT]]
    assert desktop.locator("li[id^=understanding-]").count() == 1

    # The CSV of the products table: their rows only.
    with desktop.expect_download() as downloaded:
        desktop.get_by_role("link", name="Products (CSV)").click()
    rows = list(csv.DictReader(io.StringIO(Path(downloaded.value.path()).read_text(encoding="utf-8"))))
    assert [row["product_id"] for row in rows] == [SELLERS_PRODUCT]
    assert {row["creator_id"] for row in rows} == {SELLER}
    assert problems == [], problems

    # Another creator's figures stay out of reach, whatever the address asks for.
    assert status_of(desktop, "/admin/conversational-commerce") == 403
    for refused in (f"creatorId={OTHER_SELLER}", f"productId={OTHERS_PRODUCT}"):
        assert status_of(desktop, f"{DASHBOARD}?{refused}") == 403, refused
        csv_answer = desktop.request.get(f"/api/analytics/creator?format=csv&table=products&{refused}")
        assert csv_answer.status == 403, refused
    desktop.goto(f"{DASHBOARD}?creator={OTHER_SELLER}")  # not a filter: their own dashboard, unchanged
    assert desktop.get_by_role("heading", level=1).inner_text() == f"Conversational metrics {SELLER}"
    assert others[OTHERS_PRODUCT] not in product_links(desktop)

    desktop.get_by_role("button", name="Sign out").first.click()
    desktop.wait_for_url("**/login?signed_out=1")
    desktop.goto(DASHBOARD)
    assert "/login?next=" in desktop.url

    # The admin revokes the creator's keys: that key signs in no more.
    assert call(web_server, "DELETE", f"/api/admin/creators/{SELLER}/keys", key=ADMIN_KEY)["revoked"] == 1
    sign_in(desktop, sellers_key)
    assert desktop.get_by_text("This API key is not valid.").is_visible()
    desktop.goto(DASHBOARD)
    assert "/login?next=" in desktop.url
    # From the refusals on, the console has only the refused pages' own loads to report.
    assert all("status of 403" in problem or "status of 401" in problem for problem in problems), problems
