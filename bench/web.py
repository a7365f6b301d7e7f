"""The web client's first load and first answer in Chromium against the local runtime.

Run: .venv/bin/python -m bench.web [--runs 5]
Starts `talkshop local` on a fresh data dir and, in headless Debian Chromium (/usr/bin/chromium), opens
/chat in a new browser context per run (a first visit: nothing cached) and prints:
- the bytes of JavaScript and CSS the first load transfers (target: under 150 KB);
- time to interactive: from navigation until the page's enhancement module has run (the theme toggle
  it reveals is visible), median and worst (target: under 1 s);
- from clicking "Find me a padel racket for beginners" until the answer's first product card shows.
"""

from __future__ import annotations

import argparse
import signal
import statistics
import tempfile
import time
from pathlib import Path

from playwright.sync_api import Page, Response, sync_playwright

from bench.checkout import start_server

CHROMIUM = "/usr/bin/chromium"
EXAMPLE_PROMPT = "Find me a padel racket for beginners"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        server, base_url = start_server(Path(directory))
        try:
            measure(base_url, args.runs)
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)


def record_assets(page: Page) -> list[Response]:
    """The page's script and stylesheet responses, as they arrive."""
    assets: list[Response] = []

    def keep(response: Response) -> None:
        if response.request.resource_type in ("script", "stylesheet"):
            assets.append(response)

    page.on("response", keep)
    return assets


def measure(base_url: str, runs: int) -> None:
    interactive_ms: list[float] = []
    answer_ms: list[float] = []
    asset_bytes = 0
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-background-networking"]
        )
        for _ in range(runs):
            context = browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 800})
            page = context.new_page()
            assets = record_assets(page)
            started = time.perf_counter()
            page.goto("/chat")
            page.locator("[data-theme-toggle]:not([hidden])").wait_for()
            interactive_ms.append((time.perf_counter() - started) * 1000)
            asset_bytes = sum(len(response.body()) for response in assets)
            started = time.perf_counter()
            page.get_by_role("button", name=EXAMPLE_PROMPT).click()
            page.locator(".message.assistant .product-card").first.wait_for()
            answer_ms.append((time.perf_counter() - started) * 1000)
            context.close()
        browser.close()
    print(f"First load of scripts and styles: {asset_bytes / 1024:.1f} KB (target < 150 KB)")
    print(
        f"Time to interactive over {runs} first visits: median {statistics.median(interactive_ms):.0f} ms, "
        f"worst {max(interactive_ms):.0f} ms (target < 1 s)"
    )
    print(
        f"Example prompt to the first product card: median {statistics.median(answer_ms):.0f} ms, "
        f"worst {max(answer_ms):.0f} ms"
    )


if __name__ == "__main__":
    main()
