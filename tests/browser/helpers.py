"""What several browser tests do: ask the advisor, buy from a card, refuse any script that runs, read
prices and look for markup injected by hostile text."""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Dialog, Locator, Page

WatchConsole = Callable[["Page"], list[str]]
Screenshot = Callable[["Page", str], "Path | None"]
BEGINNER_PROMPT = "Find me a padel racket for beginners"
BUY_NOW = re.compile("^Buy now")
VIEW_DETAILS = re.compile("^View details")
#: The markers of hostile text (tests write ``alert(<n>)`` into it): a ``script`` element holding one, or
#: an element carrying an inline handler, was made from that text instead of showing it.
INJECTED_MARKUP_SCRIPT = """() => [
    ...[...document.querySelectorAll("script")].filter((s) => s.textContent.includes("alert(")),
    ...[...document.querySelectorAll("*")].filter(
        (element) => [...element.attributes].some((attribute) => attribute.name.startsWith("on"))
    ),
    ...document.querySelectorAll('img[src="x"]'),
].map((element) => element.outerHTML)"""

PAGE_MODULE_LOADED_SCRIPT = """async () => {
    const name = document.body.dataset.page;
    if (name) await import(`/static/${name}.js`);
}"""


def fail_on_alerts(page: Page) -> None:
    """Fails the test when a script shows a dialog (hostile text ran instead of being shown)."""

    def alert(dialog: Dialog) -> None:
        dialog.dismiss()
        pytest.fail(f"a script ran: {dialog.message}")

    page.on("dialog", alert)


def injected_markup(page: Page) -> list[str]:
    """The elements of the page made from hostile text (none when it was shown as text)."""
    found: list[str] = page.evaluate(INJECTED_MARKUP_SCRIPT)
    return found


def open_enhanced(page: Page, path: str) -> None:
    """Opens ``path`` and waits until its own module (``data-page`` on <body>: chat.js, history.js…) has
    started. A click before that takes the path without JavaScript (a form post), which works too but is
    not the one the test means. Importing the module again resolves once it has been evaluated, after
    app.js's own import, whose callback starts it."""
    page.goto(path)
    page.evaluate(PAGE_MODULE_LOADED_SCRIPT)


def ask(page: Page, prompt: str = BEGINNER_PROMPT) -> None:
    """Opens a new chat, clicks an example prompt and waits for the answer's cards."""
    open_enhanced(page, "/chat")
    page.get_by_role("button", name=prompt).click()
    page.locator(".message.assistant .product-card").first.wait_for()


def latest_answer(page: Page) -> Locator:
    """The last assistant message once it has finished streaming (call it once the shopper's message is
    on the page: the busy bubble comes with it)."""
    page.locator(".message.assistant[aria-busy]").wait_for(state="detached")
    return page.locator(".message.assistant").last


def buy_first_card(page: Page) -> str:
    """Buy now on the latest answer's first card, then Complete purchase; waits for the confirmation
    in the chat and answers the order id."""
    latest_answer(page).locator(".product-card").first.get_by_role("button", name=BUY_NOW).click()
    page.wait_for_url(re.compile(r"/checkout/crt_\w+"))
    page.get_by_role("button", name="Complete purchase").click()
    page.wait_for_url(re.compile(r"/chat\?session=chs_\w+#order-"))
    return page.url.split("#order-")[1]


def euros(text: str) -> Decimal:
    """The amount of the first euro price in ``text``: "€1,089.95" → Decimal("1089.95")."""
    found = re.search(r"€\s?([\d,]+\.\d{2})", text)
    assert found, f"no price in {text!r}"
    return Decimal(found.group(1).replace(",", ""))


def frame(message: Locator, block: str = "start") -> None:
    """Scrolls the message list so that ``message`` starts (or, with "end", ends) its visible part and the
    page to its top (header shown), for a screenshot of that message rather than of the list's end."""
    message.evaluate(
        "(message, block) => { message.scrollIntoView({ block }); window.scrollTo(0, 0); }", block
    )
