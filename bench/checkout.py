"""Checkout through the local runtime: how long POST /api/checkout takes, and orders per second.

Run: .venv/bin/python bench/checkout.py [--orders 100] [--concurrency 8]
Starts `talkshop local` on a fresh data dir (the demo catalog loads), adds a product with plenty of
stock, and opens one cart per order beforehand (not timed). Then, over HTTP on 127.0.0.1:
- one buyer at a time: p50 / p95 / max of each checkout's completion (the checkout state machine run
  synchronously: seven steps through the local seam, the record, Idempotency-Key bookkeeping and the
  journal's fsync), target p95 < 500 ms;
- `--concurrency` buyers at once: completed orders per second. The local server serialises requests
  (one warm Lambda), so this measures queueing on one instance, not AWS's parallelism.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ADMIN_KEY = "bench-admin-key-0123456789"
PRODUCT_ID = "bench-racket"
READY = "is running at "


class Shop:
    def __init__(self, url: str) -> None:
        self.url = url

    def call(self, method: str, path: str, body: Any = None, token: str | None = None) -> tuple[int, Any]:
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")

    def add_product(self, stock: int) -> None:
        product = {
            "id": PRODUCT_ID,
            "name": "Bench Racket",
            "brand": "Acme",
            "category": "padel-rackets",
            "creator_id": "padelnest",
            "price": 4995,
            "currency": "EUR",
            "stock": stock,
        }
        status, body = self.call("POST", "/api/products", product, ADMIN_KEY)
        assert status == 201, body

    def open_cart(self) -> tuple[str, str]:
        status, cart = self.call("POST", "/api/carts", {})
        assert status == 201, cart
        status, body = self.call(
            "POST",
            f"/api/carts/{cart['id']}/lines",
            {"productId": PRODUCT_ID, "quantity": 1},
            cart["shopperToken"],
        )
        assert status == 200, body
        return cart["id"], cart["shopperToken"]

    def checkout(self, cart: tuple[str, str]) -> float:
        """Seconds until the paid order is answered."""
        started = time.perf_counter()
        status, body = self.call(
            "POST", "/api/checkout", {"cartId": cart[0], "paymentToken": "spt_test_ok"}, cart[1]
        )
        elapsed = time.perf_counter() - started
        assert status == 201, body
        assert body["status"] == "paid", body
        return elapsed


def start_server(data_dir: Path) -> tuple[subprocess.Popen[str], str]:
    environment = {
        name: value for name, value in os.environ.items() if not name.startswith(("AWS_", "TALKSHOP_"))
    }
    environment.update(
        {"TALKSHOP_ADMIN_KEY": ADMIN_KEY, "PYTHONUNBUFFERED": "1", "POWERTOOLS_LOG_LEVEL": "ERROR"}
    )
    command = [
        sys.executable,
        "-m",
        "talkshop.cli",
        "local",
        "--port",
        "0",
        "--quiet",
        "--data-dir",
        str(data_dir),
    ]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=environment)
    assert server.stdout is not None
    for line in server.stdout:
        if READY in line:
            # Keep reading its output, or the server blocks once the pipe is full.
            threading.Thread(target=server.stdout.read, daemon=True).start()
            return server, line.split(READY, 1)[1].split()[0]
    raise RuntimeError("the server exited before it was ready")


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--orders", type=int, default=100, help="checkouts per phase")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--warmup", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        server, url = start_server(Path(directory) / "data")
        try:
            shop = Shop(url)
            shop.add_product(stock=10 * (args.orders * 2 + args.warmup))
            for _ in range(args.warmup):  # first calls import modules and warm caches, as a cold start would
                shop.checkout(shop.open_cart())
            carts = [shop.open_cart() for _ in range(args.orders)]
            latencies = [shop.checkout(cart) for cart in carts]
            carts = [shop.open_cart() for _ in range(args.orders)]
            started = time.perf_counter()
            with ThreadPoolExecutor(max_workers=args.concurrency) as pool:
                completed = list(pool.map(shop.checkout, carts))
            wall = time.perf_counter() - started
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=60)
    milliseconds = [latency * 1000 for latency in latencies]
    p95 = percentile(milliseconds, 0.95)
    print(f"Checkout completion, one buyer at a time ({len(milliseconds)} orders):")
    print(
        f"  p50 {statistics.median(milliseconds):.0f} ms   p95 {p95:.0f} ms   max {max(milliseconds):.0f} ms"
        f"   (target p95 < 500 ms: {'met' if p95 < 500 else 'MISSED'})"
    )
    print(f"Under concurrency ({args.concurrency} buyers at once, {len(completed)} orders):")
    print(
        f"  {len(completed) / wall:.1f} orders/s   p50 {statistics.median(completed) * 1000:.0f} ms"
        f"   p95 {percentile(completed, 0.95) * 1000:.0f} ms per checkout (queued behind the server's lock)"
    )


if __name__ == "__main__":
    main()
