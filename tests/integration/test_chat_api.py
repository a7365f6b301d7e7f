"""The chat routes through their real Lambda handlers on moto DynamoDB, as API Gateway calls them
(the engine is the scripted test engine: these tests are about the API, not the advice)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from functions.chat_sweeper import handler as sweeper
from talkshop.advisor.service import ChatSessions
from talkshop.api import context
from talkshop.clock import utc_now
from talkshop.local.apigateway import LocalLambdaContext
from tests.chat_fakes import EchoAdvisor, FixedCatalog, demo_products
from tests.conftest import ADMIN_KEY, table_snapshot
from tests.integration.http import assert_error, call

RACKET = "vantaro-aero-lite"
OTHER_RACKET = "nordpala-fjord-round"


@pytest.fixture(autouse=True)
def scripted_engine(table: Any) -> Iterator[EchoAdvisor]:
    catalog = FixedCatalog(demo_products())
    engine = EchoAdvisor()
    # Undone before the environment's own teardown resets the context (which needs the originals).
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(context, "shop_catalog", lambda: catalog)
        patch.setattr(context, "advisor", lambda: engine)
        context.chat_service.cache_clear()
        yield engine
    context.chat_service.cache_clear()


def new_chat(body: dict[str, Any] | None = None) -> tuple[str, str]:
    created = call("POST", "/api/chat/session", body=body or {})
    assert created.status == 201, created.body
    answer = created.json()
    return answer["id"], answer["shopperToken"]


def test_a_chat_from_start_to_feedback() -> None:
    created = call("POST", "/api/chat/session", body={"platform": "chatgpt", "userId": "ana"})
    assert created.status == 201, created.body
    chat = created.json()
    assert chat["userId"] == "ana"
    assert chat["platform"] == "chatgpt"
    assert chat["shopperToken"].startswith("tsh_")
    assert created.headers["Location"] == f"/api/chat/session/{chat['id']}"
    token = chat["shopperToken"]

    sent = call("POST", "/api/chat/message", token, {"sessionId": chat["id"], "message": f"{RACKET} please"})
    assert sent.status == 200, sent.body
    reply = sent.json()
    assert set(reply) >= {"sessionId", "response", "suggestedProducts", "recommendations", "internalState"}
    card = reply["suggestedProducts"][0]
    assert card["id"] == RACKET
    assert set(card) == {
        "id", "name", "brand", "category", "creatorId", "price", "currency", "priceDisplay",
        "stock", "inStock", "rating", "image",
    }  # fmt: skip
    assert reply["recommendations"][0]["productId"] == RACKET
    assert reply["internalState"]["engine"] == "echo"
    assert "inputTokens" in reply["usage"]

    history = call("GET", f"/api/chat/session/{chat['id']}", token)
    assert history.status == 200
    assert [message["role"] for message in history.json()["messages"]] == ["user", "assistant"]
    assert history.json()["messages"][1]["mentionedProducts"] == [RACKET]

    corrected = call(
        "PUT",
        f"/api/chat/session/{chat['id']}/preferences",
        token,
        {"skillLevel": "beginner", "budget": {"maxAmount": 6000, "currency": "EUR"}},
    )
    assert corrected.status == 200, corrected.body
    assert corrected.json()["preferences"]["budget"]["maxAmount"] == 6000

    feedback = call(
        "POST",
        f"/api/chat/session/{chat['id']}/feedback",
        token,
        {"satisfaction": 5, "reactions": [{"productId": RACKET, "reaction": "interested"}]},
    )
    assert feedback.status == 200, feedback.body
    assert feedback.json()["status"] == "completed"
    assert_error(
        call("POST", "/api/chat/message", token, {"sessionId": chat["id"], "message": "more?"}),
        409,
        "session_completed",
    )


def test_the_stream_is_server_sent_events() -> None:
    session_id, token = new_chat()
    streamed = call("POST", "/api/chat/message/stream", token, {"sessionId": session_id, "message": RACKET})
    assert streamed.status == 200, streamed.body
    assert streamed.headers["Content-Type"].startswith("text/event-stream")
    blocks = [block for block in streamed.body.decode().split("\n\n") if block]
    names = [block.split("\n")[0].removeprefix("event: ") for block in blocks]
    assert names[-2:] == ["reply", "done"]
    assert set(names[:-2]) == {"delta"}
    text = "".join(json.loads(block.split("\n")[1].removeprefix("data: "))["text"] for block in blocks[:-2])
    reply = json.loads(blocks[-2].split("\n")[1].removeprefix("data: "))
    assert text.strip() == reply["response"]
    assert reply["suggestedProducts"][0]["id"] == RACKET


def test_chats_are_invisible_to_everyone_but_their_shopper_and_the_admin(table: Any) -> None:
    session_id, token = new_chat({"userId": "ana"})
    _, other_token = new_chat({"userId": "bob"})
    before = table_snapshot(table)
    for key in (other_token, None):
        assert_error(call("GET", f"/api/chat/session/{session_id}", key), 404, "session_not_found")
        assert_error(
            call("POST", "/api/chat/message", key, {"sessionId": session_id, "message": "hi"}),
            404,
            "session_not_found",
        )
        assert_error(
            call("POST", "/api/chat/message/stream", key, {"sessionId": session_id, "message": "hi"}),
            404,
            "session_not_found",
        )
        assert_error(
            call("PUT", f"/api/chat/session/{session_id}/preferences", key, {}), 404, "session_not_found"
        )
        assert_error(
            call("POST", f"/api/chat/session/{session_id}/feedback", key, {"satisfaction": 1}),
            404,
            "session_not_found",
        )
    assert_error(call("GET", "/api/chat/session/chs_0123456789abcdef0123", token), 404, "session_not_found")
    assert_error(call("GET", "/api/chat/sessions", other_token, query="user=ana"), 403, "not_owner")
    assert_error(call("GET", "/api/chat/sessions", query="user=ana"), 401, "missing_credentials")
    assert_error(call("GET", f"/api/chat/session/{session_id}", "tsh_forged"), 401, "invalid_credentials")
    assert_error(call("POST", "/api/chat/session", body={"userId": "ana"}), 401, "shopper_token_required")
    assert_error(call("POST", "/api/chat/session", token, {"userId": "bob"}), 403, "not_owner")
    assert table_snapshot(table) == before

    assert call("GET", f"/api/chat/session/{session_id}", ADMIN_KEY).status == 200
    as_admin = call("POST", "/api/chat/message", ADMIN_KEY, {"sessionId": session_id, "message": "hi"})
    assert as_admin.status == 200, as_admin.body


@pytest.mark.parametrize(
    ("path", "body", "raw", "status", "code"),
    [
        ("/api/chat/message", None, b'{"sessionId": "x", "message": ', 400, "invalid_json"),
        ("/api/chat/message", {"message": "hi"}, None, 422, "validation_error"),
        ("/api/chat/message", {"sessionId": "SESSION", "message": "   "}, None, 422, "validation_error"),
        ("/api/chat/message", {"sessionId": "SESSION", "message": "x" * 2001}, None, 422, "validation_error"),
        (
            "/api/chat/message",
            {"sessionId": "SESSION", "message": "hi", "mood": 1},
            None,
            422,
            "unknown_fields",
        ),
        ("/api/chat/message", {"sessionId": "bad id", "message": "hi"}, None, 422, "validation_error"),
        ("/api/chat/message/stream", {"sessionId": "SESSION"}, None, 422, "validation_error"),
        ("/api/chat/session/SESSION/feedback", {"satisfaction": 6}, None, 422, "validation_error"),
        (
            "/api/chat/session/SESSION/feedback",
            {"satisfaction": 3, "reactions": [{"productId": RACKET, "reaction": "loved"}]},
            None,
            422,
            "validation_error",
        ),
        (
            "/api/chat/session/SESSION/feedback",
            {"satisfaction": 3, "reactions": [{"productId": RACKET, "reaction": "interested"}]},
            None,
            422,
            "not_recommended",
        ),
        ("/api/chat/session", {"platform": "myspace"}, None, 422, "validation_error"),
    ],
)
def test_bad_requests_are_refused_and_change_nothing(
    table: Any, path: str, body: Any, raw: bytes | None, status: int, code: str
) -> None:
    session_id, token = new_chat()
    before = table_snapshot(table)
    if body is not None:
        body = json.loads(json.dumps(body).replace("SESSION", session_id))
    result = call("POST", path.replace("SESSION", session_id), token, body=body, raw=raw)
    assert_error(result, status, code)
    assert table_snapshot(table) == before


def test_bad_preferences_are_refused(table: Any) -> None:
    session_id, token = new_chat()
    before = table_snapshot(table)
    path = f"/api/chat/session/{session_id}/preferences"
    assert_error(call("PUT", path, token, {"skillLevel": "grandmaster"}), 422, "validation_error")
    assert_error(call("PUT", path, token, {"favouriteColour": "red"}), 422, "unknown_fields")
    assert table_snapshot(table) == before


def test_sessions_are_listed_newest_first_with_a_cursor() -> None:
    first, token = new_chat({"userId": "ana"})
    later = [call("POST", "/api/chat/session", token, {}).json()["id"] for _ in range(2)]
    page = call("GET", "/api/chat/sessions", token, query="limit=2")
    assert page.status == 200, page.body
    assert [item["id"] for item in page.json()["items"]] == later[::-1]
    cursor = page.json()["nextCursor"]
    rest = call("GET", "/api/chat/sessions", ADMIN_KEY, query=f"user=ana&limit=2&cursor={cursor}")
    assert rest.status == 200, rest.body
    assert [item["id"] for item in rest.json()["items"]] == [first]
    assert_error(call("GET", "/api/chat/sessions", token, query="cursor=garbage"), 400, "invalid_cursor")


def test_the_sweeper_lambda_abandons_idle_chats() -> None:
    session_id, token = new_chat()
    later = ChatSessions(context.chat_sessions().store, clock=lambda: utc_now() + timedelta(minutes=31))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sweeper, "chat_sessions", lambda: later)
        assert sweeper.lambda_handler({}, LocalLambdaContext("chat_sweeper", 120, 512))["abandoned"] == 1
    assert call("GET", f"/api/chat/session/{session_id}", token).json()["status"] == "abandoned"


def sse_events(body: bytes) -> list[tuple[str, Any]]:
    blocks = [block.split("\n") for block in body.decode().split("\n\n") if block]
    return [(name.removeprefix("event: "), json.loads(data.removeprefix("data: "))) for name, data in blocks]


def test_a_retried_message_is_answered_from_the_record(table: Any, scripted_engine: EchoAdvisor) -> None:
    session_id, token = new_chat()
    body = {"sessionId": session_id, "message": f"{RACKET} {OTHER_RACKET}", "clientMessageId": "m-1"}
    first = call("POST", "/api/chat/message", token, body)
    assert first.status == 200, first.body
    before = table_snapshot(table)

    by_body = call("POST", "/api/chat/message", token, body)
    by_header = call(
        "POST",
        "/api/chat/message",
        token,
        {"sessionId": session_id, "message": f"{RACKET} {OTHER_RACKET}"},
        headers={"Idempotency-Key": "m-1"},
    )
    streamed = call("POST", "/api/chat/message/stream", token, body, headers={"idempotency-key": "m-1"})

    assert len(scripted_engine.turns) == 1
    assert table_snapshot(table) == before
    expected = {**first.json(), "usage": by_body.json()["usage"]}
    assert by_body.json() == expected
    assert by_header.json() == expected
    assert streamed.status == 200, streamed.body
    assert sse_events(streamed.body) == [
        ("delta", {"text": expected["response"]}),
        ("reply", expected),
        ("done", {}),
    ]
    history = call("GET", f"/api/chat/session/{session_id}", token).json()["messages"]
    assert history[0]["clientMessageId"] == "m-1"
    assert history[1]["shownProducts"] == [RACKET, OTHER_RACKET]
    assert history[1]["comparison"]["productIds"] == [RACKET, OTHER_RACKET]


def test_a_stream_retry_of_a_streamed_message_replays_it(scripted_engine: EchoAdvisor) -> None:
    session_id, token = new_chat()
    body = {"sessionId": session_id, "message": RACKET}
    streams = [
        call("POST", "/api/chat/message/stream", token, body, headers={"Idempotency-Key": "m-1"})
        for _ in range(2)
    ]
    first, again = (sse_events(result.body) for result in streams)
    assert len(scripted_engine.turns) == 1
    assert [name for name, _ in again] == ["delta", "reply", "done"]
    assert again[1][1]["response"] == first[-2][1]["response"]
    assert again[1][1]["suggestedProducts"] == first[-2][1]["suggestedProducts"]


@pytest.mark.parametrize(
    ("body_id", "header", "status", "code"),
    [
        ("m-1", "m-2", 422, "idempotency_key_mismatch"),
        (None, "no spaces", 422, "validation_error"),
        ("no spaces", None, 422, "validation_error"),
        ("m-0", None, 409, "idempotency_key_reused"),
    ],
)
@pytest.mark.parametrize("path", ["/api/chat/message", "/api/chat/message/stream"])
def test_a_bad_or_reused_client_message_id_is_refused_and_changes_nothing(
    table: Any, path: str, body_id: str | None, header: str | None, status: int, code: str
) -> None:
    session_id, token = new_chat()
    recorded = {"sessionId": session_id, "message": RACKET, "clientMessageId": "m-0"}
    assert call("POST", "/api/chat/message", token, recorded).status == 200
    before = table_snapshot(table)
    body = {"sessionId": session_id, "message": OTHER_RACKET, "clientMessageId": body_id}
    result = call("POST", path, token, body, headers={"Idempotency-Key": header} if header else None)
    assert_error(result, status, code)
    assert table_snapshot(table) == before
