"""Browser tests: Playwright for Python driving Debian's Chromium (headless) against `talkshop local`.

One `talkshop local` per session (a temporary data dir, the demo catalog, the rules engine), one
Chromium per session, a fresh browser context per test: ``desktop`` (1280x800), ``mobile`` (390x844,
touch) and ``dark`` (desktop with the system in dark mode). ``watch_console(page)`` collects console
errors (CSP violations included: Chromium reports them there) and uncaught page errors. ``screenshot``
saves a PNG under docs/screenshots/ only when TALKSHOP_SCREENSHOTS=1, so test runs leave the tree clean.

Every test here is marked ``browser`` and skipped, with the reason, when Chromium (``/usr/bin/chromium``,
installed by `make test` on Debian as root) or the playwright package is missing. Test modules import
playwright only under TYPE_CHECKING, so collecting them never needs it.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.e2e.test_local_runtime import Server

if TYPE_CHECKING:
    from playwright.sync_api import Browser, ConsoleMessage, Page

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking"]
SCREENSHOTS_VARIABLE = "TALKSHOP_SCREENSHOTS"
SCREENSHOTS_DIR = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
BROWSER_DIR = Path(__file__).resolve().parent
DESKTOP: dict[str, Any] = {"viewport": {"width": 1280, "height": 800}}
MOBILE: dict[str, Any] = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 3,
    "is_mobile": True,
    "has_touch": True,
}
#: Generous for a cold module import on a busy CI machine; a test never waits this long when it passes.
TIMEOUT_MS = 15_000


def missing_browser() -> str | None:
    """Why the browser tests cannot run here, or None."""
    if importlib.util.find_spec("playwright") is None:
        return "playwright is not installed (pip install -e '.[dev]')"
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing (Debian: apt-get install chromium; `make test` does it as root)"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    reason = missing_browser()
    for item in items:
        if item.path.is_relative_to(BROWSER_DIR):
            item.add_marker(pytest.mark.browser)
            if reason:
                item.add_marker(pytest.mark.skip(reason=f"browser tests skipped: {reason}"))


@pytest.fixture(scope="session")
def web_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`talkshop local` on a free port with a temporary data dir (demo catalog, rules engine)."""
    server = Server(tmp_path_factory.mktemp("browser") / "data", "--quiet")
    try:
        yield server.wait_ready()
    finally:
        server.kill()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()


def _page(browser: Browser, server: Server, **options: Any) -> Iterator[Page]:
    context = browser.new_context(base_url=server.url, **options)
    context.set_default_timeout(TIMEOUT_MS)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def desktop(browser: Browser, web_server: Server) -> Iterator[Page]:
    """A page in a fresh 1280x800 context, the system in light mode."""
    yield from _page(browser, web_server, **DESKTOP, color_scheme="light")


@pytest.fixture
def mobile(browser: Browser, web_server: Server) -> Iterator[Page]:
    """A page in a fresh phone-sized touch context (390x844), the system in light mode."""
    yield from _page(browser, web_server, **MOBILE, color_scheme="light")


@pytest.fixture
def dark(browser: Browser, web_server: Server) -> Iterator[Page]:
    """A desktop page with the system in dark mode (prefers-color-scheme: dark)."""
    yield from _page(browser, web_server, **DESKTOP, color_scheme="dark")


def _watch(page: Page) -> list[str]:
    problems: list[str] = []

    def console(message: ConsoleMessage) -> None:
        if message.type == "error":  # a failed load names no URL in its text: add where it happened
            problems.append(f"{message.text} [{message.location.get('url', '?')}]")

    page.on("console", console)
    page.on("pageerror", lambda error: problems.append(f"uncaught: {error}"))
    return problems


@pytest.fixture
def watch_console() -> Callable[[Page], list[str]]:
    """``problems = watch_console(page)``: the console errors and uncaught exceptions of ``page`` from
    then on, appended as they happen."""
    return _watch


@pytest.fixture
def screenshot() -> Callable[[Page, str], Path | None]:
    """``screenshot(page, "chat-desktop")`` writes docs/screenshots/chat-desktop.png when
    TALKSHOP_SCREENSHOTS=1 (`TALKSHOP_SCREENSHOTS=1 make pytest` refreshes the README's pictures)."""

    def take(page: Page, name: str) -> Path | None:
        if os.environ.get(SCREENSHOTS_VARIABLE) != "1":
            return None
        SCREENSHOTS_DIR.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS_DIR / f"{name}.png"
        page.screenshot(path=str(path), full_page=False, scale="css")  # phones: 1 px per CSS px, not 3
        return path

    return take
