"""LLM mode's commerce tools through the real anthropic and openai SDKs against fake servers: checkout,
discount codes and order status are tool calls over the advisor's read-only ShopCommerce port, and the
reply's prose stays grounded (a code's saving and an order's total are data; invented money is not)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from talkshop.advisor.model import CheckoutRequest
from talkshop.llm.advisor import LlmAdvisor
from talkshop.llm.cache import ReplyCache
from talkshop.llm.calls import ModelCaller
from talkshop.llm.config import load_llm_config
from talkshop.llm.factory import provider_for
from tests.fakes.demo_catalog import demo_catalog
from tests.fakes.llm_servers import API_KEY, FakeAnthropic, FakeLlmServer, FakeOpenAI, Say
from tests.fakes.shop_commerce import CODE, ORDERS, FakeCommerce
from tests.fakes.turns import FixedFallback, new_session, run_turn

CATALOG = demo_catalog()
AERO = "vantaro-aero-lite"  # €59.95 in the demo catalog
COMMERCE_TOOLS = {"add_to_cart", "start_checkout", "apply_discount", "order_status"}


@pytest.fixture(params=["anthropic", "openai"])
def server(request: pytest.FixtureRequest) -> Iterator[FakeLlmServer]:
    fake: FakeLlmServer = FakeAnthropic() if request.param == "anthropic" else FakeOpenAI()
    fake.start()
    yield fake
    fake.stop()


def advisor(server: FakeLlmServer, commerce: FakeCommerce | None) -> LlmAdvisor:
    if isinstance(server, FakeAnthropic):
        settings = {"ANTHROPIC_API_KEY": API_KEY, "ANTHROPIC_BASE_URL": f"http://127.0.0.1:{server.port}"}
    else:
        settings = {"OPENAI_API_KEY": API_KEY, "OPENAI_BASE_URL": f"http://127.0.0.1:{server.port}/v1"}
    config = load_llm_config(settings)
    assert config is not None
    caller = ModelCaller(provider_for(config), config, sleep=lambda _: None, jitter=lambda: 0.5)
    return LlmAdvisor(caller, config, CATALOG, FixedFallback(), cache=ReplyCache(60), commerce=commerce)


def tool_names(body: dict[str, Any]) -> set[str]:
    return {tool.get("name") or tool["function"]["name"] for tool in body["tools"]}


def tool_result(server: FakeLlmServer) -> dict[str, Any]:
    """The first tool result the model was sent back, in either wire format."""
    for message in server.received[1].body["messages"]:
        content = message.get("content")
        if message.get("role") == "tool":
            return dict(json.loads(content))
        if isinstance(content, list):
            for block in content:
                if block.get("type") == "tool_result":
                    return dict(json.loads(block["content"]))
    raise AssertionError("no tool result was sent")


def test_start_checkout_asks_the_chat_service_for_the_cart_and_is_never_cached(server: FakeLlmServer) -> None:
    script = [
        Say(tool_calls=[("start_checkout", {"product_id": AERO, "quantity": 2})]),
        Say(text=["Done: 2 of the Vantaro Aero Lite at €59.95 each. ", "Your checkout link is ready."]),
    ]
    server.script = list(script)
    engine = advisor(server, FakeCommerce(percent=None))
    session = new_session(shown_products=[AERO])
    _, reply = run_turn(engine, session, "I'll take two")

    assert reply.checkout_request == CheckoutRequest(product_id=AERO, quantity=2)
    assert reply.text == "Done: 2 of the Vantaro Aero Lite at €59.95 each. Your checkout link is ready."
    assert tool_names(server.received[0].body) >= COMMERCE_TOOLS
    result = tool_result(server)
    assert (result["product"]["id"], result["product"]["price"], result["quantity"]) == (AERO, "€59.95", 2)

    server.script = list(script)
    _, again = run_turn(engine, session, "I'll take two")
    assert len(server.received) == 4  # asked the model again: a checkout is not a cached answer
    assert again.checkout_request == reply.checkout_request


def test_a_checkout_beyond_the_stock_is_refused_to_the_model(server: FakeLlmServer) -> None:
    stock = CATALOG.products([AERO])[AERO].stock
    server.script = [
        Say(tool_calls=[("add_to_cart", {"product_id": AERO, "quantity": stock + 1})]),
        Say(text=["Sorry, there are not enough in stock."]),
    ]
    _, reply = run_turn(advisor(server, FakeCommerce()), new_session(shown_products=[AERO]), "buy lots")
    assert reply.checkout_request is None
    assert "left" in tool_result(server)["error"]


def test_order_status_tells_the_shoppers_orders_and_drops_invented_money(server: FakeLlmServer) -> None:
    server.script = [
        Say(tool_calls=[("order_status", {})]),
        Say(
            text=[
                "Your latest order ord_2 of 2026-02-20 (€129.90) is paid. ",
                "Shipping was €77.77 extra.",
            ]
        ),
    ]
    _, reply = run_turn(advisor(server, FakeCommerce(orders=ORDERS)), new_session(), "where is my order?")
    assert reply.text == "Your latest order ord_2 of 2026-02-20 (€129.90) is paid."
    result = tool_result(server)
    assert [(order["id"], order["total"], order["status"]) for order in result["orders"]] == [
        ("ord_2", "€129.90", "paid"),
        ("ord_1", "€45.00", "refunded"),
    ]
    assert result["orders"][0]["items"] == ["Vantaro Aero Lite", "Tour Balls"]


def test_order_status_with_no_orders_says_so(server: FakeLlmServer) -> None:
    server.script = [Say(tool_calls=[("order_status", {"limit": 2})]), Say(text=["I can't find an order."])]
    _, reply = run_turn(advisor(server, FakeCommerce()), new_session(), "where is my order?")
    assert tool_result(server) == {"orders": [], "note": "This shopper has no orders."}
    assert reply.text == "I can't find an order."


def test_apply_discount_offers_only_a_code_the_rules_accept(server: FakeLlmServer) -> None:
    server.script = [
        Say(tool_calls=[("apply_discount", {"code": "welcome10"})]),
        Say(text=["Code WELCOME10 works: you save €5.99 on the Vantaro Aero Lite."]),
    ]
    _, reply = run_turn(
        advisor(server, FakeCommerce()), new_session(shown_products=[AERO]), "I have WELCOME10"
    )
    assert reply.offered_discount_code == CODE
    assert reply.text == "Code WELCOME10 works: you save €5.99 on the Vantaro Aero Lite."
    assert tool_result(server)["saving"] == "€5.99"


def test_a_code_the_rules_refuse_is_an_error_to_the_model_and_offers_nothing(server: FakeLlmServer) -> None:
    server.script = [
        Say(tool_calls=[("apply_discount", {"code": "FREE100"})]),
        Say(text=["That code does not work, sorry."]),
    ]
    _, reply = run_turn(advisor(server, FakeCommerce()), new_session(shown_products=[AERO]), "use FREE100")
    assert reply.offered_discount_code is None
    assert "FREE100" in tool_result(server)["error"]


def test_without_commerce_no_commerce_tool_is_offered(server: FakeLlmServer) -> None:
    server.script = [Say(text=["Use the product page to buy it."])]
    _, reply = run_turn(advisor(server, None), new_session(shown_products=[AERO]), "I'll take it")
    assert not COMMERCE_TOOLS & tool_names(server.received[0].body)
    assert reply.checkout_request is None
