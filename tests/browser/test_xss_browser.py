"""Hostile catalog text in a real browser: a product whose name, brand, description, specification,
image text and review carry markup is found in the shop and in the chat and shown as text everywhere —
no dialog, no element made from it, no console or CSP error."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

import pytest

from tests.browser.helpers import (
    VIEW_DETAILS,
    WatchConsole,
    fail_on_alerts,
    injected_markup,
    latest_answer,
    open_enhanced,
)
from tests.e2e.test_local_runtime import ADMIN_KEY

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

    from tests.e2e.test_local_runtime import Server

IMG = "<img src=x onerror=alert(1)>"
SCRIPT = "<script>alert(2)</script>"
#: Found by search; no demo product has it.
MARKER = "Quokkaflux"
NAME = f"{MARKER} {IMG} bag"
BRAND = f"Evil {SCRIPT}"
DESCRIPTION = f"A {MARKER} bag {SCRIPT} {IMG} for two rackets"
REVIEW = f"Great bag {SCRIPT}"
REVIEWER = f"Eve {IMG}"
IMAGE_ALT = f'"><img src=x onerror=alert(3)> {MARKER}'
SPEC = f"{IMG} nylon"


@pytest.fixture(scope="module")
def hostile_product(web_server: Server) -> str:
    """The hostile product, created with the admin key as a creator would create theirs. A bag, priced
    above the budgets other tests use, so the chat's racket answers elsewhere do not pick it."""
    product_id = f"hostile-{uuid.uuid4().hex[:8]}"
    body = {
        "id": product_id,
        "name": NAME,
        "brand": BRAND,
        "category": "padel-bags",
        "creator_id": "padelnest",
        "price": 7700,
        "currency": "EUR",
        "stock": 5,
        "rating": 4.0,
        "description": DESCRIPTION,
        "attributes": {"material": SPEC},
        "images": [{"url": "/static/products/sol-padel-siesta.svg", "alt": IMAGE_ALT}],
        "reviews": [{"author": REVIEWER, "stars": 4, "text": REVIEW, "date": "2026-01-02"}],
    }
    status, created = web_server.request("POST", "/api/products", body, key=ADMIN_KEY)
    assert status == 201, created
    return product_id


def _assert_card_shows_text(card: Locator) -> None:
    assert card.locator("h3").inner_text() == NAME
    assert card.locator(".creator").inner_text().startswith(BRAND)
    assert card.locator(".description").inner_text() == DESCRIPTION
    assert card.locator("img").first.get_attribute("alt") == IMAGE_ALT


def _assert_details_show_text(details: Locator) -> None:
    assert details.locator("h1").inner_text() == NAME
    assert details.locator(".description").inner_text() == DESCRIPTION
    assert SPEC in details.locator(".specs").inner_text()
    review = details.locator(".reviews li")
    assert REVIEWER in review.inner_text()
    assert REVIEW in review.inner_text()


def test_a_hostile_product_is_text_in_the_shop_and_on_its_page(
    desktop: Page, hostile_product: str, watch_console: WatchConsole
) -> None:
    problems = watch_console(desktop)
    fail_on_alerts(desktop)
    desktop.goto(f"/store?q={MARKER}")
    card = desktop.locator(f".product-card[data-product-id='{hostile_product}']")
    _assert_card_shows_text(card)
    assert injected_markup(desktop) == []

    card.get_by_role("link", name=VIEW_DETAILS).click()
    desktop.wait_for_url(f"**/products/{hostile_product}?from=store")
    _assert_details_show_text(desktop.locator(".product-details"))
    assert desktop.title().startswith(NAME)
    assert injected_markup(desktop) == []
    assert problems == [], problems


def test_a_hostile_product_is_text_in_the_chat_and_its_details_dialog(
    desktop: Page, hostile_product: str, watch_console: WatchConsole
) -> None:
    problems = watch_console(desktop)
    fail_on_alerts(desktop)
    open_enhanced(desktop, "/chat")
    desktop.get_by_label("Your message").fill(f"Show me the {MARKER} bag")
    desktop.get_by_role("button", name="Send").click()
    desktop.locator(".message.user").wait_for()  # shown with the advisor's busy bubble
    answer = latest_answer(desktop)
    assert NAME in answer.locator(".bubble").first.inner_text()  # the advisor's words name it too
    card = answer.locator(f".product-card[data-product-id='{hostile_product}']")
    _assert_card_shows_text(card)
    assert injected_markup(desktop) == []

    card.get_by_role("link", name=VIEW_DETAILS).click()
    dialog = desktop.locator("dialog[open]")
    dialog.locator(".product-details h1").wait_for()
    _assert_details_show_text(dialog)
    assert injected_markup(desktop) == []
    desktop.keyboard.press("Escape")
    dialog.wait_for(state="detached")

    desktop.reload()  # the stored chat, rendered by the server
    _assert_card_shows_text(desktop.locator(f".product-card[data-product-id='{hostile_product}']").first)
    assert injected_markup(desktop) == []
    assert problems == [], problems
