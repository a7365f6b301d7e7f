"""The chat page's skeleton in a real browser: it loads cleanly under the CSP, within the JS+CSS budget,
on desktop and mobile, and the theme toggle switches dark mode."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from talkshop.web.app import RULES_ENGINE_LABEL

if TYPE_CHECKING:
    from playwright.sync_api import Page, Request

#: The issue's first-load budget for scripts and styles together (headers included).
FIRST_LOAD_BUDGET_BYTES = 150 * 1024
CODE_RESOURCE_TYPES = ("script", "stylesheet")

WatchConsole = Callable[["Page"], list[str]]
Screenshot = Callable[["Page", str], "Path | None"]


def _assert_skeleton(page: Page) -> None:
    header = page.locator("header.site-header")
    assert header.get_by_role("link", name="Product Advisor").is_visible()
    nav = page.get_by_role("navigation", name="Main")
    assert [link.strip() for link in nav.get_by_role("link").all_inner_texts()] == ["Chat", "Shop", "History"]
    assert nav.get_by_role("link", name="Chat").get_attribute("aria-current") == "page"
    assert RULES_ENGINE_LABEL in page.locator("footer [data-model]").inner_text()


def _background(page: Page) -> str:
    return str(page.evaluate("getComputedStyle(document.body).backgroundColor"))


@pytest.mark.parametrize("viewport", ["desktop", "mobile"])
def test_chat_page_loads_without_console_errors_or_csp_violations(
    request: pytest.FixtureRequest, viewport: str, watch_console: WatchConsole, screenshot: Screenshot
) -> None:
    page: Page = request.getfixturevalue(viewport)
    problems = watch_console(page)
    response = page.goto("/chat", wait_until="networkidle")
    assert response is not None
    assert response.status == 200
    assert "default-src 'none'" in (response.header_value("content-security-policy") or "")
    _assert_skeleton(page)
    screenshot(page, f"chat-{viewport}")
    assert problems == [], problems


def test_first_load_of_scripts_and_styles_fits_the_budget(desktop: Page) -> None:
    loaded: list[tuple[str, int]] = []

    def record(finished: Request) -> None:
        if finished.resource_type in CODE_RESOURCE_TYPES:
            sizes = finished.sizes()
            loaded.append((finished.url, sizes["responseBodySize"] + sizes["responseHeadersSize"]))

    desktop.on("requestfinished", record)
    desktop.goto("/chat", wait_until="networkidle")
    urls = [url for url, _ in loaded]
    assert any(url.endswith("/static/app.js") for url in urls), urls
    assert any(url.endswith("/static/app.css") for url in urls), urls
    total = sum(size for _, size in loaded)
    assert total < FIRST_LOAD_BUDGET_BYTES, sorted(loaded, key=lambda item: -item[1])


def test_theme_toggle_switches_dark_mode_and_is_remembered(desktop: Page) -> None:
    desktop.goto("/chat")
    toggle = desktop.locator("[data-theme-toggle]")
    toggle.wait_for(state="visible")
    assert toggle.get_attribute("aria-pressed") == "false"
    light = _background(desktop)

    toggle.click()
    assert desktop.evaluate("document.documentElement.dataset.theme") == "dark"
    assert toggle.get_attribute("aria-pressed") == "true"
    dark = _background(desktop)
    assert dark != light

    desktop.reload()
    assert desktop.evaluate("document.documentElement.dataset.theme") == "dark"
    assert _background(desktop) == dark


def test_dark_system_theme_is_followed_and_toggles_to_light(dark: Page, screenshot: Screenshot) -> None:
    dark.goto("/chat")
    toggle = dark.locator("[data-theme-toggle]")
    toggle.wait_for(state="visible")
    assert toggle.get_attribute("aria-pressed") == "true"
    screenshot(dark, "chat-dark")
    system_dark = _background(dark)

    toggle.click()
    assert dark.evaluate("document.documentElement.dataset.theme") == "light"
    assert _background(dark) != system_dark
