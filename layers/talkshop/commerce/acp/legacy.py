"""ACP 2025-09-29 clients, served by mapping their requests onto 2026-04-17 and our answers back.

The differences are of shape, not of meaning, so a mapping suffices (docs/acp.md lists them):
- requests: `items` [{id, quantity}] is `line_items`; `fulfillment_address` is
  `fulfillment_details.address`; `fulfillment_option_id` is one selected shipping option;
  `payment_data` {token, provider} is an instrument credential; there is no currency (the session
  takes its products' currency) and no capabilities;
- answers: line items carry base_amount/discount/subtotal/tax/total as numbers instead of `totals`;
  fulfillment options carry subtotal/tax/total; `fulfillment_option_id` instead of the selection;
  fewer message codes and link types; the order is {id, checkout_session_id, permalink_url};
  `payment_provider` instead of capabilities.
"""

from __future__ import annotations

from typing import Any

API_VERSION = "2025-09-29"

_ADDRESS_FIELDS = ("name", "line_one", "line_two", "city", "state", "country", "postal_code")
_BUYER_FIELDS = ("first_name", "last_name", "email", "phone_number")
_TOTAL_TYPES = {
    "items_base_amount",
    "items_discount",
    "subtotal",
    "discount",
    "fulfillment",
    "tax",
    "fee",
    "total",
}
_ERROR_CODES = {"missing", "invalid", "out_of_stock", "payment_declined", "requires_sign_in", "requires_3ds"}
_LINK_TYPES = {"terms_of_use", "privacy_policy"}
_LINE_AMOUNTS = {
    "items_base_amount": "base_amount",
    "discount": "discount",
    "subtotal": "subtotal",
    "tax": "tax",
    "total": "total",
}


def request_in(operation: str, document: dict[str, Any]) -> dict[str, Any]:
    """A 2025-09-29 request body as the equivalent 2026-04-17 body (unknown fields pass through, so the
    2026 model refuses them by name)."""
    mapped = dict(document)
    if "items" in mapped:
        mapped["line_items"] = mapped.pop("items")
    if "fulfillment_address" in mapped:
        mapped["fulfillment_details"] = {"address": mapped.pop("fulfillment_address")}
    if "fulfillment_option_id" in mapped:
        option_id = mapped.pop("fulfillment_option_id")
        mapped["selected_fulfillment_options"] = [
            {"type": "shipping", "option_id": option_id, "item_ids": []}
        ]
    if operation == "create":
        mapped.setdefault("capabilities", {})
    payment = mapped.get("payment_data")
    if isinstance(payment, dict) and "token" in payment:
        credential = {"type": "spt", "token": payment["token"]}
        mapped["payment_data"] = {
            "handler_id": payment.get("provider", "stripe"),
            "instrument": {"type": "card", "credential": credential},
            **({"billing_address": payment["billing_address"]} if "billing_address" in payment else {}),
        }
    return mapped


def session_out(session: dict[str, Any]) -> dict[str, Any]:
    """A 2026-04-17 checkout session as a 2025-09-29 one."""
    legacy: dict[str, Any] = {
        "id": session["id"],
        "payment_provider": {"provider": "stripe", "supported_payment_methods": ["card"]},
        "status": session["status"],
        "currency": session["currency"],
        "line_items": [_line_item(line) for line in session["line_items"]],
        "fulfillment_options": [_fulfillment_option(option) for option in session["fulfillment_options"]],
        "totals": [
            {key: total[key] for key in ("type", "display_text", "amount")}
            for total in session["totals"]
            if total["type"] in _TOTAL_TYPES
        ],
        "messages": [_message(message) for message in session["messages"]],
        "links": [_link(link) for link in session["links"]],
    }
    buyer = session.get("buyer") or {}
    if buyer.get("first_name") and buyer.get("last_name"):
        legacy["buyer"] = {key: buyer[key] for key in _BUYER_FIELDS if key in buyer}
    address = (session.get("fulfillment_details") or {}).get("address")
    if address:
        legacy["fulfillment_address"] = {key: address[key] for key in _ADDRESS_FIELDS if key in address}
    selected = session.get("selected_fulfillment_options") or []
    if selected:
        legacy["fulfillment_option_id"] = selected[0]["option_id"]
    order = session.get("order")
    if order:
        legacy["order"] = {key: order[key] for key in ("id", "checkout_session_id", "permalink_url")}
    return legacy


def _line_item(line: dict[str, Any]) -> dict[str, Any]:
    amounts = {
        _LINE_AMOUNTS[total["type"]]: total["amount"]
        for total in line["totals"]
        if total["type"] in _LINE_AMOUNTS
    }
    return {
        "id": line["id"],
        "item": {"id": line["item"]["id"], "quantity": line["quantity"]},
        **{name: amounts.get(name, 0) for name in _LINE_AMOUNTS.values()},
    }


def _fulfillment_option(option: dict[str, Any]) -> dict[str, Any]:
    amount = sum(total["amount"] for total in option["totals"] if total["type"] == "total")
    kept = ("type", "id", "title", "carrier", "earliest_delivery_time", "latest_delivery_time")
    legacy: dict[str, Any] = {key: option[key] for key in kept if key in option}
    if "description" in option:
        legacy["subtitle"] = option["description"]
    return {**legacy, "subtotal": amount, "tax": 0, "total": amount}


def _message(message: dict[str, Any]) -> dict[str, Any]:
    shared = ("param", "content_type", "content")
    content: dict[str, Any] = {key: message[key] for key in shared if key in message}
    if message["type"] != "error":
        return {"type": "info", **content}
    code = message.get("code")
    return {"type": "error", "code": code if code in _ERROR_CODES else "invalid", **content}


def _link(link: dict[str, Any]) -> dict[str, Any]:
    kind = link["type"] if link["type"] in _LINK_TYPES else "seller_shop_policies"
    return {"type": kind, "url": link["url"]}
