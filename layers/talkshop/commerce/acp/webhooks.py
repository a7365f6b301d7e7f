"""Order webhooks to agents in ACP's format (openapi.agentic_checkout_webhook.yaml, 2026-04-17).

The body is `{"type": "order_create" | "order_update", "data": <the full ACP Order, with "type":
"order", checkout_session_id, permalink_url and status>}`, signed with the `Merchant-Signature`
header: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">` keyed with the endpoint's shared
secret. That is the very scheme of our own webhooks (commerce.webhooks.sign), under ACP's header name,
so signing reuses it.

Delivery (retries with backoff, dead letter, redelivery) is commerce.webhooks' state machine: an
endpoint in the `acp` format (the one registered with an agent's key) gets `ACP_FORMAT`, this body under
this header. `order_placed` is ACP's `order_create`, `order_paid` its `order_update`; other events have
no ACP form and are not sent to such endpoints.
"""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Any

from talkshop.commerce import webhooks
from talkshop.commerce.acp import model as acp
from talkshop.commerce.acp.sessions import AcpSession, order_view
from talkshop.commerce.feed import Shop
from talkshop.commerce.store import CommerceStore
from talkshop.data.repository import Repository, by_owner
from talkshop.ontology.model import Event, EventType, ThingType
from talkshop.settings import get_settings

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


_ORDER_EVENTS = {EventType.ORDER_PLACED: OrderEventType.CREATE, EventType.ORDER_PAID: OrderEventType.UPDATE}


def agent_order_event_body(event: Event, repository: Repository) -> str | None:
    """The ACP body of an order event of an agent's order (its order as it is now, in the session that
    placed it); None for other events and orders placed outside an ACP session."""
    event_type = _ORDER_EVENTS.get(event.type)
    order_id, agent_id = event.payload.get("order_id"), event.payload.get("agent_id")
    if event_type is None or not isinstance(order_id, str) or not isinstance(agent_id, str):
        return None
    loaded = CommerceStore(repository).orders.get(order_id)
    if loaded is None:
        return None
    order = loaded.value
    # An agent's session owns one cart; the order came from that cart.
    sessions = repository.iterate(by_owner(agent_id, ThingType.ACP_CHECKOUT_SESSION))
    session_id = next(
        (
            s.id
            for s in (AcpSession.model_validate(item.data) for item in sessions)
            if s.cart_id == order.cart_id
        ),
        None,
    )
    if session_id is None:
        return None
    settings = get_settings()
    shop = Shop(name=settings.shop_name, public_url=settings.public_url)
    return order_event_body(event_type, order_view(order, session_id, shop)).decode()


ACP_FORMAT = webhooks.WebhookFormat(body=agent_order_event_body, signature_header=SIGNATURE_HEADER)
