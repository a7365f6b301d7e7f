"""A shopper's chat with `talkshop local` over HTTP: start, send (plain or streamed), read."""

from __future__ import annotations

import json
import urllib.request
from typing import Any, Self

from tests.e2e.test_local_runtime import Server


def stream(server: Server, body: dict[str, Any], token: str) -> list[tuple[str, Any]]:
    """POST /api/chat/message/stream: the server-sent events as (event name, data) pairs."""
    request = urllib.request.Request(  # noqa: S310 - 127.0.0.1
        server.url + "/api/chat/message/stream", data=json.dumps(body).encode(), method="POST"
    )
    request.add_header("Content-Type", "application/json")
    request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - 127.0.0.1
        assert response.headers["Content-Type"].startswith("text/event-stream")
        text = response.read().decode()
    events = []
    for block in filter(None, text.split("\n\n")):
        name, data = block.split("\n", 1)
        events.append((name.removeprefix("event: "), json.loads(data.removeprefix("data: "))))
    return events


class HttpChat:
    """One chat of one shopper; a new shopper unless ``token`` names one."""

    def __init__(self, server: Server, session_id: str, token: str) -> None:
        self.server = server
        self.session_id = session_id
        self.token = token

    @classmethod
    def start(cls, server: Server, token: str | None = None) -> Self:
        status, chat = server.request("POST", "/api/chat/session", {"platform": "web"}, key=token)
        assert status == 201, chat
        return cls(server, chat["id"], token or chat["shopperToken"])

    def say(self, message: str) -> dict[str, Any]:
        """The ChatReply of POST /api/chat/message."""
        body = {"sessionId": self.session_id, "message": message}
        status, reply = self.server.request("POST", "/api/chat/message", body, key=self.token)
        assert status == 200, reply
        assert isinstance(reply, dict)
        return reply

    def stream(self, message: str) -> tuple[list[str], dict[str, Any]]:
        """The text deltas and the ChatReply of the streaming route, which ends with reply then done."""
        events = stream(self.server, {"sessionId": self.session_id, "message": message}, self.token)
        names = [name for name, _ in events]
        assert names[-2:] == ["reply", "done"], names
        assert set(names[:-2]) == {"delta"}, names
        return [data["text"] for _, data in events[:-2]], events[-2][1]

    def history(self) -> dict[str, Any]:
        status, session = self.server.request("GET", f"/api/chat/session/{self.session_id}", key=self.token)
        assert status == 200, session
        assert isinstance(session, dict)
        return session

    def feedback(self, satisfaction: int, reactions: dict[str, str]) -> dict[str, Any]:
        body = {
            "satisfaction": satisfaction,
            "reactions": [{"productId": pid, "reaction": reaction} for pid, reaction in reactions.items()],
        }
        status, session = self.server.request(
            "POST", f"/api/chat/session/{self.session_id}/feedback", body, key=self.token
        )
        assert status == 200, session
        assert isinstance(session, dict)
        return session


def catalog_product(server: Server, product_id: str) -> dict[str, Any]:
    """The product as the catalog API serves it: the data a card must agree with."""
    status, product = server.request("GET", f"/api/products/{product_id}")
    assert status == 200, product
    assert isinstance(product, dict)
    return product


def assert_cards_match_the_catalog(server: Server, reply: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every card's price, currency, stock and rating are the catalog's; returns the products by id."""
    products = {}
    for card in reply["suggestedProducts"]:
        product = catalog_product(server, card["id"])
        assert (card["price"], card["currency"], card["stock"], card["rating"]) == (
            product["price"],
            product["currency"],
            product["stock"],
            product["rating"],
        ), card
        products[card["id"]] = product
    return products
