"""Checkout over HTTP through the local runtime: LocalAws creates the state machines from
statemachines/*.asl.json, the gateway serves POST /api/checkout, which starts the checkout state
machine synchronously while holding the runtime's lock; the steps run through the local seam."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from talkshop.api import context
from talkshop.api.state_machines import STATE_MACHINES
from talkshop.commerce.payments.testing import TOKEN_OK
from talkshop.commerce.webhooks import ALLOW_LOOPBACK_VARIABLE
from talkshop.local import stepfunctions
from talkshop.local.runtime import LocalAws
from talkshop.local.server import LocalGateway
from talkshop.settings import (
    EVENT_BUS_NAME_VARIABLE,
    IDEMPOTENCY_TABLE_VARIABLE,
    SEARCH_BACKEND_VARIABLE,
    SEARCH_INDEX_DIR_VARIABLE,
    get_settings,
)
from tests.commerce_fakes import add_product

# Every variable LocalAws writes into os.environ, put back by monkeypatch when the test ends.
LOCAL_AWS_VARIABLES = (
    "AWS_DEFAULT_REGION",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "TALKSHOP_TABLE_NAME",
    "TALKSHOP_ADMIN_KEY",
    "POWERTOOLS_TRACE_DISABLED",
    "POWERTOOLS_METRICS_DISABLED",
    EVENT_BUS_NAME_VARIABLE,
    IDEMPOTENCY_TABLE_VARIABLE,
    SEARCH_BACKEND_VARIABLE,
    SEARCH_INDEX_DIR_VARIABLE,
    stepfunctions.HOST_PREFIX_VARIABLE,
    ALLOW_LOOPBACK_VARIABLE,
    *(spec.arn_variable for spec in STATE_MACHINES),
)


class Client:
    def __init__(self, url: str) -> None:
        self.url = url

    def request(self, method: str, path: str, body: Any = None, token: str | None = None) -> tuple[int, Any]:
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 - our own 127.0.0.1
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")

    def cart_with(self, product_id: str, quantity: int = 1) -> tuple[str, str]:
        """A new shopper's cart holding the product: (cart id, shopper token)."""
        status, cart = self.request("POST", "/api/carts", {})
        assert status == 201, cart
        status, body = self.request(
            "POST",
            f"/api/carts/{cart['id']}/lines",
            {"productId": product_id, "quantity": quantity},
            cart["shopperToken"],
        )
        assert status == 200, body
        return cart["id"], cart["shopperToken"]

    def checkout(self, cart_id: str, token: str, payment_token: str = TOKEN_OK) -> tuple[int, Any]:
        return self.request(
            "POST", "/api/checkout", {"cartId": cart_id, "paymentToken": payment_token}, token
        )

    def stock(self, product_id: str) -> int:
        status, product = self.request("GET", f"/api/products/{product_id}")
        assert status == 200, product
        return int(product["stock"])


@pytest.fixture
def local(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Client, LocalAws]]:
    for name in LOCAL_AWS_VARIABLES:
        monkeypatch.setenv(name, "")
    monkeypatch.setenv("POWERTOOLS_LOG_LEVEL", "WARNING")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "TalkshopTest")
    get_settings.cache_clear()
    with LocalAws(tmp_path / "data") as aws:
        context.reset()
        gateway = LocalGateway(("127.0.0.1", 0), aws, quiet=True)
        serving = threading.Thread(target=gateway.serve_forever, daemon=True)
        serving.start()
        host, port = gateway.server_address[:2]
        try:
            yield Client(f"http://{host!s}:{port}"), aws
        finally:
            gateway.shutdown()
            gateway.server_close()
    context.reset()
    get_settings.cache_clear()


def stock_product(aws: LocalAws, product_id: str, stock: int) -> None:
    add_product(context.repository(), product_id, stock=stock)
    aws.persist()


def test_a_checkout_over_http_runs_the_state_machine_and_answers_the_order(
    local: tuple[Client, LocalAws],
) -> None:
    client, aws = local
    stock_product(aws, "pro-racket", 3)
    cart_id, token = client.cart_with("pro-racket", quantity=2)

    status, order = client.checkout(cart_id, token)

    assert status == 201, order
    assert order["status"] == "paid"
    assert client.stock("pro-racket") == 1
    status, cart = client.request("GET", f"/api/carts/{cart_id}", token=token)
    assert cart["status"] == "ordered"
    status, declined = client.checkout(client.cart_with("pro-racket")[0], token, "spt_test_decline")
    assert status == 404  # another shopper's cart: the token reaches its own carts only
    other_cart, other_token = client.cart_with("pro-racket")
    status, declined = client.checkout(other_cart, other_token, "spt_test_decline")
    assert status == 402
    assert declined["error"]["code"] == "payment_declined"
    assert client.stock("pro-racket") == 1


def test_fifty_concurrent_buyers_over_http_get_exactly_the_last_five_units(
    local: tuple[Client, LocalAws],
) -> None:
    """Through the server, which serialises requests: the 45 late buyers meet the reservation's failed
    condition (stock >= quantity) one after the other, and their compensations leave the stock at 0."""
    client, aws = local
    stock_product(aws, "last-units", 5)
    carts = [client.cart_with("last-units") for _ in range(50)]

    with ThreadPoolExecutor(max_workers=50) as pool:
        answers = list(pool.map(lambda cart: client.checkout(*cart), carts))

    statuses = sorted(status for status, _ in answers)
    assert statuses == [201] * 5 + [409] * 45
    assert {body["error"]["code"] for status, body in answers if status == 409} == {"out_of_stock"}
    assert client.stock("last-units") == 0
