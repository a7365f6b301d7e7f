"""An agent buys through `talkshop local` over ACP: the admin issues its key, it creates a checkout
session, adds the address and completes it with the test provider's token. The complete runs the
checkout state machine of the local runtime (TALKSHOP_CHECKOUT_STATE_MACHINE_ARN), so the order is
placed and the stock goes down for real (once, though the agent retries); every answer is checked
against the spec's JSON Schemas."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.acp_support import ADDRESS, CURRENT, assert_valid
from tests.e2e.test_local_runtime import ADMIN_KEY, Server, product

pytestmark = pytest.mark.slow

SESSIONS = "/acp/checkout_sessions"


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = Server(tmp_path_factory.mktemp("acp") / "data", "--quiet")
    try:
        yield server.wait_ready()
    finally:
        server.kill()


def acp(shop: Server, path: str, key: str, body: Any, idempotency_key: str | None = None) -> tuple[int, Any]:
    """One ACP POST, with a fresh Idempotency-Key unless told which."""
    headers = {"API-Version": CURRENT, "Idempotency-Key": idempotency_key or str(uuid.uuid4())}
    return shop.request("POST", path, body, key=key, headers=headers)


def test_an_agent_creates_updates_and_completes_a_checkout(shop: Server) -> None:
    status, created_product = shop.request(
        "POST", "/api/products", product("acp-racket", stock=4), key=ADMIN_KEY
    )
    assert status == 201, created_product
    status, issued = shop.request("POST", "/api/admin/agent-keys", {"name": "E2E agent"}, key=ADMIN_KEY)
    assert status == 201, issued
    agent = issued["apiKey"]

    status, session = acp(
        shop, SESSIONS, agent, {"currency": "eur", "line_items": [{"id": "acp-racket"}], "capabilities": {}}
    )
    assert status == 201, session
    assert_valid(session, "CheckoutSession")
    assert session["status"] == "not_ready_for_payment"

    status, ready = acp(
        shop, f"{SESSIONS}/{session['id']}", agent, {"fulfillment_details": {"address": ADDRESS}}
    )
    assert status == 200, ready
    assert_valid(ready, "CheckoutSession")
    assert ready["status"] == "ready_for_payment"

    payment = {
        "payment_data": {
            "handler_id": "card_tokenized",
            "instrument": {"type": "card", "credential": {"type": "spt", "token": "spt_test_ok"}},
        }
    }
    complete = f"{SESSIONS}/{session['id']}/complete"
    status, done = acp(shop, complete, agent, payment, idempotency_key="complete-1")
    assert status == 200, done
    assert_valid(done, "CheckoutSessionWithOrder")
    assert done["status"] == "completed"
    assert acp(shop, complete, agent, payment, idempotency_key="complete-1") == (200, done)

    status, order = shop.request("GET", f"/api/orders/{done['order']['id']}", key=ADMIN_KEY)
    assert status == 200, order
    assert order["status"] == "paid"
    assert [(line["productId"], line["quantity"]) for line in order["lines"]] == [("acp-racket", 1)]
    status, racket = shop.request("GET", "/api/products/acp-racket")
    assert status == 200, racket
    assert racket["stock"] == 3
