"""ACP pieces on their own: the schema copies, the order webhook body and signature, version
negotiation and the feed's price format (Idempotency-Key: tests/unit/test_idempotency_keys.py)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from talkshop.commerce import webhooks
from talkshop.commerce.acp import model as acp
from talkshop.commerce.acp.protocol import AcpRefusal, json_path, negotiate_version
from talkshop.commerce.acp.sessions import line_availability, order_view
from talkshop.commerce.acp.webhooks import (
    SIGNATURE_HEADER,
    OrderEventType,
    order_event,
    order_event_body,
    signed_headers,
)
from talkshop.commerce.feed import Shop, availability_status, display_price
from talkshop.commerce.model import Order, PaymentReference, QuoteLine
from tests.acp_support import FIXTURES, SHARED_SPECS, assert_valid

COPIES = {
    "2026-04-17/schema.agentic_checkout.json": "2026-04-17/json-schema/schema.agentic_checkout.json",
    "2026-04-17/schema.feed.json": "2026-04-17/json-schema/schema.feed.json",
    "2025-09-29/schema.agentic_checkout.json": "2025-09-29/json-schema/schema.agentic_checkout.json",
}


@pytest.mark.skipif(not SHARED_SPECS.is_dir(), reason="../shared/specs/acp is not checked out here")
@pytest.mark.parametrize(("copy", "original"), COPIES.items())
def test_schema_copies_match_the_spec(copy: str, original: str) -> None:
    assert (FIXTURES / copy).read_bytes() == (SHARED_SPECS / original).read_bytes()


@pytest.mark.skipif(not SHARED_SPECS.is_dir(), reason="../shared/specs/acp is not checked out here")
def test_the_specs_own_webhook_example_passes_our_webhook_check() -> None:
    examples = json.loads((SHARED_SPECS / "examples/2026-04-17/examples.agentic_checkout.json").read_text())
    # The example still carries the removed `refunds` (see the webhook YAML's migration notes): drop it.
    event = examples["webhook_order_create_event"]
    event["data"].pop("refunds")
    event["data"]["id"] = "ord_123"
    assert_webhook_event(event)


def an_order() -> Order:
    line = QuoteLine(
        product_id="aero-lite",
        creator_id="padelnest",
        name="Aero Lite",
        quantity=2,
        unit_price=8995,
        amount=17990,
        discount=0,
    )
    return Order(
        id="ord_1",
        user_id="agt_1",
        cart_id="crt_1",
        checkout_id="chk_1",
        lines=[line],
        currency="EUR",
        subtotal=17990,
        discount=0,
        shipping=995,
        tax=0,
        total=18985,
        shipping_option="express",
        payment=PaymentReference(provider="test", authorisation_id="pay_1"),
        created_at=datetime(2026, 11, 24, tzinfo=UTC),
        agent_id="agt_1",
    )


def assert_webhook_event(event: dict[str, object]) -> None:
    """The webhook YAML's WebhookEvent: {type, data}, data the Order with type, status and the rest."""
    assert set(event) == {"type", "data"}
    data = event["data"]
    assert isinstance(data, dict)
    assert_valid(data, "Order")
    assert {"type", "checkout_session_id", "permalink_url", "status"} <= set(data)


def test_order_webhook_body_and_signature() -> None:
    order = order_view(an_order(), "cs_1", Shop("Talkshop", "https://shop.example"))
    event = order_event(OrderEventType.CREATE, order)
    assert_webhook_event(event)
    assert event["type"] == "order_create"
    body = order_event_body(OrderEventType.CREATE, order)
    assert json.loads(body) == event
    headers = signed_headers(body, "whsec_test", 1_800_000_000)
    signature = headers[SIGNATURE_HEADER]
    assert signature.startswith("t=1800000000,v1=")
    assert webhooks.verify(body, signature, "whsec_test", now=1_800_000_000)
    assert not webhooks.verify(body + b" ", signature, "whsec_test", now=1_800_000_000)


def test_versions() -> None:
    assert negotiate_version(" 2026-04-17 ") == "2026-04-17"
    assert negotiate_version("2025-09-29") == "2025-09-29"
    with pytest.raises(AcpRefusal) as refused:
        negotiate_version("2026-01-30")
    assert refused.value.supported_versions == ["2026-04-17", "2025-09-29"]


def test_json_paths_and_prices() -> None:
    assert json_path(("line_items", 0, "id")) == "$.line_items[0].id"
    assert display_price(8995, "EUR") == "89.95 EUR"
    assert display_price(1200, "JPY") == "1200 JPY"
    assert acp.Error(type="invalid_request", code="x", message="y").wire() == {
        "type": "invalid_request",
        "code": "x",
        "message": "y",
    }


@pytest.mark.parametrize("stock", range(7))
def test_the_feed_and_the_sessions_tell_the_same_stock(stock: int) -> None:
    # The feed's names for it are not the session's, but the threshold is one.
    same = {"in_stock": "in_stock", "limited_stock": "low_stock", "out_of_stock": "out_of_stock"}
    assert line_availability(stock) == same[availability_status(stock)]
