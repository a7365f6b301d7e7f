"""Order webhooks to agents in ACP's format (openapi.agentic_checkout_webhook.yaml, 2026-04-17).

The body is `{"type": "order_create" | "order_update", "data": <the full ACP Order, with "type":
"order", checkout_session_id, permalink_url and status>}`, signed with the `Merchant-Signature`
header: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">` keyed with the endpoint's shared
secret. That is the very scheme of our own webhooks (commerce.webhooks.sign), under ACP's header name,
so signing reuses it.

Delivery (retries with backoff, dead letter, redelivery) is commerce.webhooks' state machine. What is
still missing there is an endpoint format: an agent's endpoint must receive this body under this header
instead of the Talkshop event body: `order_event_body` and `signed_headers` are what such a format calls
(see docs/acp.md, known gaps).
"""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Any

from talkshop.commerce import webhooks
from talkshop.commerce.acp import model as acp

SIGNATURE_HEADER = "Merchant-Signature"


class OrderEventType(StrEnum):
    CREATE = "order_create"
    UPDATE = "order_update"


def order_event(event_type: OrderEventType, order: acp.Order) -> dict[str, Any]:
    return {"type": event_type.value, "data": order.wire()}


def order_event_body(event_type: OrderEventType, order: acp.Order) -> bytes:
    """The exact bytes sent (and signed): compact JSON."""
    return json.dumps(order_event(event_type, order), separators=(",", ":")).encode()


def signed_headers(body: bytes, secret: str, timestamp: int) -> dict[str, str]:
    return {"Content-Type": "application/json", SIGNATURE_HEADER: webhooks.sign(body, secret, timestamp)}
