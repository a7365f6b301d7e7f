"""The chat history in a real browser: a chat that ended in an order is listed with what was spent, opens
again with its confirmation, exports as a PDF, is found by search and is deleted for good after the
dialog asks."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from tests.browser.helpers import Screenshot, WatchConsole, ask, buy_first_card, euros, open_enhanced

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page


def _order_in_chat(page: Page) -> tuple[str, str, str]:
    """A new chat that ends in an order: answers the chat's address, the order id and the product."""
    ask(page)
    chat_url = page.url
    product = page.locator(".message.assistant").last.locator(".product-card h3").first.inner_text()
    return chat_url, buy_first_card(page), product


def _only_row(page: Page) -> Locator:
    open_enhanced(page, "/history")
    rows = page.locator(".history-item")
    assert rows.count() == 1  # a fresh context is a new shopper: this test's chat is their only one
    return rows.first


def test_a_chat_with_an_order_is_in_the_history_with_what_was_spent(
    desktop: Page, watch_console: WatchConsole, screenshot: Screenshot
) -> None:
    problems = watch_console(desktop)
    chat_url, order_id, product = _order_in_chat(desktop)
    confirmation = desktop.locator(f"#order-{order_id}").inner_text()
    assert "Order placed!" in confirmation
    total = euros(confirmation.split("Total:")[1])

    row = _only_row(desktop)
    facts = row.locator(".history-facts")
    assert product in facts.locator("dt:text-is('Products') + dd").inner_text()
    assert euros(facts.locator("dt:text-is('Spent') + dd").inner_text()) == total
    assert "Web chat" in row.locator(".history-meta").inner_text()
    screenshot(desktop, "history-desktop")

    row.get_by_role("link", name=re.compile("^Open")).click()
    desktop.wait_for_url(chat_url)
    assert "Order placed!" in desktop.locator(f"#order-{order_id}").inner_text()
    assert problems == [], problems


def test_a_chat_exports_as_pdf_and_is_found_by_search(desktop: Page) -> None:
    _, _, product = _order_in_chat(desktop)
    row = _only_row(desktop)

    with desktop.expect_download() as download_info:
        row.get_by_role("link", name=re.compile("^Export PDF")).click()
    download = download_info.value
    assert re.fullmatch(r"chat-\d{4}-\d{2}-\d{2}-chs_\w+\.pdf", download.suggested_filename)
    with open(download.path(), "rb") as pdf:
        assert pdf.read(5) == b"%PDF-"

    search = desktop.get_by_label("Search your chats")
    search.fill(product)
    search.press("Enter")
    desktop.wait_for_url(re.compile(r"/history\?q="))
    assert desktop.locator(".history-item").count() == 1
    search = desktop.get_by_label("Search your chats")
    search.fill("zzyzx")
    search.press("Enter")
    desktop.get_by_text("No chat matches").wait_for()
    assert desktop.locator(".history-item").count() == 0


def test_delete_asks_in_a_dialog_then_removes_the_chat_for_good(desktop: Page) -> None:
    chat_url, _, _ = _order_in_chat(desktop)
    row = _only_row(desktop)
    delete = row.get_by_role("button", name=re.compile("^Delete"))

    delete.click()
    dialog = desktop.get_by_role("dialog", name="Delete this chat?")
    dialog.get_by_role("button", name="Keep it").click()
    dialog.wait_for(state="hidden")
    assert desktop.locator(".history-item").count() == 1
    assert delete.evaluate("(button) => button === document.activeElement")

    delete.click()
    dialog.get_by_role("button", name="Delete for good").click()
    desktop.wait_for_url(re.compile(r"/history\?deleted=1"))
    assert desktop.get_by_role("status").filter(has_text="The chat was deleted.").is_visible()
    assert desktop.locator(".history-item").count() == 0
    gone = desktop.goto(chat_url)
    assert gone is not None
    assert gone.status == 404
