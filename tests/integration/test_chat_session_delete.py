"""Deleting a chat: DELETE /api/chat/session/{id} on moto, who may, and the races a deletion must
win (a turn in flight writes nothing back; one that commits meanwhile is deleted too), also for a chat
too large for one transaction."""

from __future__ import annotations

import json
from typing import Any

import pytest

from talkshop.advisor.chat_api import ChatMessageRequest
from talkshop.advisor.store import ConversationStore, LoadedSession
from talkshop.data.repository import Repository, UnitOfWork
from talkshop.errors import NotFound
from tests.chat_history_fakes import Shop, shop_products
from tests.conftest import ADMIN_KEY, table_snapshot
from tests.integration.http import assert_error, call


@pytest.fixture
def shop(repository: Repository) -> Shop:
    return Shop(repository, shop_products(repository))


def chat_items(table: Any, session_id: str) -> list[dict[str, Any]]:
    """Every item of the table that names the chat (no purchase is made in these tests)."""
    return [item for item in table_snapshot(table) if session_id in json.dumps(item, default=str)]


def test_the_chats_shopper_deletes_it_and_it_is_gone(shop: Shop, table: Any) -> None:
    ana, chat = shop.new_shopper()
    shop.send(ana, chat, "aero-lite fjord-round")
    other = shop.new_chat(ana)

    deleted = call("DELETE", f"/api/chat/session/{chat}", ana.token)

    assert deleted.status == 204, deleted.body
    assert deleted.body == b""
    assert_error(call("GET", f"/api/chat/session/{chat}", ana.token), 404, "session_not_found")
    assert [item["id"] for item in call("GET", "/api/chat/sessions", ana.token).json()["items"]] == [other]
    assert chat_items(table, chat) == []
    assert_error(call("DELETE", f"/api/chat/session/{chat}", ana.token), 404, "session_not_found")


def test_only_the_shopper_and_the_admin_may_delete_a_chat(shop: Shop, table: Any) -> None:
    ana, chat = shop.new_shopper()
    bob, _ = shop.new_shopper()
    shop.send(ana, chat, "aero-lite")
    before = table_snapshot(table)
    for key in (bob.token, None):
        assert_error(call("DELETE", f"/api/chat/session/{chat}", key), 404, "session_not_found")
    assert table_snapshot(table) == before

    assert call("DELETE", f"/api/chat/session/{chat}", ADMIN_KEY).status == 204
    assert chat_items(table, chat) == []


def test_a_turn_in_flight_when_its_chat_is_deleted_writes_nothing(shop: Shop, table: Any) -> None:
    ana, chat = shop.new_shopper()
    answer = shop.chats.begin_turn(ChatMessageRequest(session_id=chat, message="aero-lite"), ana.principal)

    shop.chats.delete(chat, ana.principal)

    with pytest.raises(NotFound):
        answer.reply()  # the engine answered, but the turn's commit finds the chat gone
    assert chat_items(table, chat) == []


def test_a_turn_that_commits_while_the_chat_is_being_deleted_is_deleted_with_it(
    shop: Shop, table: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    ana, chat = shop.new_shopper()
    shop.send(ana, chat, "aero-lite")
    store: ConversationStore = shop.chats.store
    erasure = store.erasure
    reads: list[int] = []

    def with_a_racing_turn(loaded: LoadedSession) -> list[UnitOfWork]:
        planned = erasure(loaded)
        reads.append(loaded.session.version)
        if len(reads) == 1:
            shop.send(ana, chat, "fjord-round cafe-grip")  # lands between the read and the deletion
        return planned

    monkeypatch.setattr(store, "erasure", with_a_racing_turn)
    shop.chats.delete(chat, ana.principal)

    assert len(reads) == 2
    assert reads[1] > reads[0]
    assert chat_items(table, chat) == []


def test_a_chat_too_large_for_one_transaction_is_deleted_whole(shop: Shop, table: Any) -> None:
    ana, chat = shop.new_shopper()
    for _ in range(9):
        # Each turn: 4 recommendations and 9 events (the 4 products' edges to the chat are shared).
        shop.send(ana, chat, "aero-lite fjord-round cafe-grip x-77")
    loaded = shop.chats.store.get(chat)
    assert loaded is not None
    assert len(shop.chats.store.erasure(loaded)) > 1

    shop.chats.delete(chat, ana.principal)

    assert chat_items(table, chat) == []
