"""The chat in a real browser: an example prompt streams an answer with cards, removed or edited
preferences re-rank, details open in a dialog, Buy now leads to an order confirmed in the chat; the
same without JavaScript; hostile text stays text, the JavaScript formatter agrees with the server's;
one column on a phone, light on dark in dark mode."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from talkshop.api.cookies import SHOPPER_COOKIE
from talkshop.web.text import format_message
from tests.browser.conftest import DESKTOP, TIMEOUT_MS
from tests.browser.helpers import (
    BEGINNER_PROMPT,
    BUY_NOW,
    VIEW_DETAILS,
    Screenshot,
    WatchConsole,
    ask,
    buy_first_card,
    euros,
    fail_on_alerts,
    frame,
    latest_answer,
    open_enhanced,
)

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

    from tests.e2e.test_local_runtime import Server

#: Below the beginner answer's dearest pick, above the cheapest demo rackets (€39 and €45).
BUDGET_CAP = 45
HOSTILE_MESSAGE = (
    "<img src=x onerror=alert(1)> **bold** [click](javascript:alert(2)) <script>alert(3)</script>"
)
# Texts the two formatters must render alike (talkshop/web/text.py and renderRichText in chat.js).
FORMATTER_CASES = [
    "Hello\nthere\n\nNew paragraph",
    "Two picks:\n- **Aero Lite**: light\n* Fjord Round\n\n1. first\n2) second",
    "- a\n- b\nafter",
    "[Checkout](/checkout/crt_1) and https://example.com/x?a=1&b=2.",
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    "[click](javascript:alert(1)) [x](JaVaScRiPt:alert(1)) [y](data:text/html,hi) [z](//evil.example/a)",
    '[x](/a"onmouseover="alert(1))',
    "**<b>bold</b>** [<i>label</i>](/ok) [x](/a**b**c)",
]


@pytest.fixture
def no_script(browser: Browser, web_server: Server) -> Iterator[Page]:
    """A desktop page with JavaScript turned off."""
    context = browser.new_context(base_url=web_server.url, java_script_enabled=False, **DESKTOP)
    context.set_default_timeout(TIMEOUT_MS)
    try:
        yield context.new_page()
    finally:
        context.close()


def test_an_example_prompt_streams_an_answer_with_product_cards(
    desktop: Page, watch_console: WatchConsole, screenshot: Screenshot
) -> None:
    problems = watch_console(desktop)
    ask(desktop)
    assert re.search(r"/chat\?session=chs_\w+$", desktop.url)
    assert desktop.locator(".message.user .bubble").inner_text() == BEGINNER_PROMPT
    answer = desktop.locator(".message.assistant").last
    assert answer.get_attribute("aria-busy") is None
    card = answer.locator(".product-card").first
    assert card.locator("img").get_attribute("alt")
    assert re.search(r"Rated \d\.\d out of 5", card.inner_text())
    assert card.get_by_role("button", name=BUY_NOW).is_visible()
    assert desktop.locator("[data-announcer]").inner_text().startswith("The advisor said:")
    assert "Level: beginner" in desktop.locator("[data-preferences]").inner_text()
    assert desktop.locator(".examples").count() == 0
    cookie = next(item for item in desktop.context.cookies() if item["name"] == SHOPPER_COOKIE)
    assert cookie["httpOnly"]
    assert cookie["sameSite"] == "Strict"
    # The same chat after a reload: rendered on the server from what was stored.
    desktop.reload()
    assert desktop.locator(".message.assistant .product-card").count() >= 1
    frame(desktop.locator(".message.assistant").last)
    screenshot(desktop, "chat-answer-desktop")
    assert problems == [], problems


def test_removing_a_preference_asks_again_and_updates_the_panel(desktop: Page) -> None:
    ask(desktop)
    messages = desktop.locator(".message.user")
    desktop.get_by_role("button", name="Remove Level: beginner").click()
    messages.nth(1).wait_for()
    assert messages.nth(1).inner_text().endswith("that match my updated preferences.")
    desktop.locator(".message.assistant[aria-busy]").wait_for(state="detached")
    assert "Level: beginner" not in desktop.locator("[data-preferences]").inner_text()


def test_editing_the_budget_re_ranks_the_recommendations_within_it(desktop: Page) -> None:
    ask(desktop)
    recommended = ".product-card.kind-primary, .product-card.kind-alternative"
    before = latest_answer(desktop).locator(recommended)
    assert max(euros(price) for price in before.locator(".price").all_inner_texts()) > BUDGET_CAP
    names_before = before.locator("h3").all_inner_texts()

    desktop.locator("[data-preferences] summary", has_text="Edit preferences").click()
    desktop.get_by_label("Budget up to").fill(str(BUDGET_CAP))
    desktop.get_by_role("button", name="Update recommendations").click()
    desktop.locator(".message.user").nth(1).wait_for()  # the page asks again, visibly
    after = latest_answer(desktop).locator(recommended)

    prices = [euros(price) for price in after.locator(".price").all_inner_texts()]
    assert prices, "the advisor recommended nothing within the new budget"
    assert all(price <= BUDGET_CAP for price in prices), prices
    assert after.locator("h3").all_inner_texts() != names_before
    assert f"Budget: up to €{BUDGET_CAP}.00" in desktop.locator("[data-preferences]").inner_text()


def test_view_details_opens_a_dialog_that_escape_closes(desktop: Page, screenshot: Screenshot) -> None:
    ask(desktop)
    desktop.locator(".message.assistant .product-card").first.get_by_role("link", name=VIEW_DETAILS).click()
    dialog = desktop.locator("dialog[open]")
    dialog.locator(".product-details h1").wait_for()
    assert dialog.get_by_role("heading", name="Reviews").is_visible()
    assert dialog.get_by_role("button", name=BUY_NOW).is_visible()
    screenshot(desktop, "chat-details-desktop")
    desktop.keyboard.press("Escape")
    dialog.wait_for(state="detached")
    assert "/products/" not in desktop.url


def test_buy_now_leads_to_an_order_confirmed_in_the_chat(desktop: Page, screenshot: Screenshot) -> None:
    ask(desktop)
    chat_url = desktop.url
    order_id = buy_first_card(desktop)
    assert desktop.url.startswith(chat_url)
    confirmation = desktop.locator(f"#order-{order_id}")
    assert "Order placed!" in confirmation.inner_text()
    frame(confirmation, "end")
    screenshot(desktop, "chat-order-desktop")


def test_the_chat_works_without_javascript(no_script: Page) -> None:
    no_script.goto("/chat")
    no_script.get_by_role("button", name=BEGINNER_PROMPT).click()
    no_script.wait_for_url(re.compile(r"/chat\?session=chs_\w+#latest"))
    assert no_script.locator(".message.assistant .product-card").count() >= 1
    no_script.get_by_label("Your message").fill("compare the first two")
    no_script.get_by_role("button", name="Send").click()
    no_script.locator("table").last.wait_for()
    assert no_script.locator(".message.user").count() == 2
    no_script.get_by_role("button", name="Remove Level: beginner").click()
    assert "Level: beginner" not in no_script.locator("[data-preferences]").inner_text()


def test_hostile_text_in_a_message_is_shown_as_text(desktop: Page, watch_console: WatchConsole) -> None:
    problems = watch_console(desktop)
    fail_on_alerts(desktop)
    open_enhanced(desktop, "/chat")
    desktop.get_by_label("Your message").fill(HOSTILE_MESSAGE)
    desktop.get_by_role("button", name="Send").click()
    desktop.locator(".message.assistant:not([aria-busy]) .bubble").nth(1).wait_for()  # answered
    for page_state in ("streamed", "rendered by the server"):
        bubble = desktop.locator(".message.user .bubble")
        assert "<img src=x onerror=alert(1)>" in bubble.inner_text(), page_state
        assert bubble.locator("img, script").count() == 0, page_state
        assert bubble.locator("strong").inner_text() == "bold", page_state
        assert bubble.locator("a").count() == 0, page_state
        desktop.reload()
    assert problems == [], problems


@pytest.mark.parametrize("text", FORMATTER_CASES)
def test_the_javascript_formatter_renders_as_the_server_does(desktop: Page, text: str) -> None:
    desktop.goto("/chat")
    rendered = desktop.evaluate(
        """async ([text, server]) => {
            const { renderRichText } = await import("/static/chat.js");
            const ours = document.createElement("div");
            ours.append(renderRichText(text));
            const theirs = document.createElement("template");
            theirs.innerHTML = server;  // the test's own comparison, in the browser's serialisation
            return [ours.innerHTML, theirs.innerHTML];
        }""",
        [text, str(format_message(text))],
    )
    assert rendered[0] == rendered[1]


def test_on_a_phone_the_chat_is_one_column_without_sideways_scrolling(
    mobile: Page, screenshot: Screenshot
) -> None:
    ask(mobile)
    chat = mobile.locator("[data-chat]").bounding_box()
    panel = mobile.locator(".side-panel").bounding_box()
    assert chat is not None
    assert panel is not None
    assert panel["y"] >= chat["y"] + chat["height"]
    assert mobile.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    frame(mobile.locator(".message.assistant").last)
    screenshot(mobile, "chat-answer-mobile")


def test_an_answer_in_dark_mode_has_light_text_on_dark_surfaces(dark: Page, screenshot: Screenshot) -> None:
    ask(dark)
    card = latest_answer(dark).locator(".product-card").first
    surface = _channels(card.evaluate("(card) => getComputedStyle(card).backgroundColor"))
    text = _channels(card.locator("h3").evaluate("(name) => getComputedStyle(name).color"))
    assert max(surface) < 64, surface
    assert min(text) > 192, text
    frame(dark.locator(".message.assistant").last)
    screenshot(dark, "chat-answer-dark")


def _channels(css_colour: str) -> list[int]:
    """The red, green and blue of a computed ``rgb(…)`` colour."""
    return [int(channel) for channel in re.findall(r"\d+", css_colour)[:3]]
