"""The history pages through the web function on moto: the shopper's chats with their facts, search,
paging, the PDF export and deleting a chat for good (checked key by key in the table)."""

from __future__ import annotations

import html
import io
import json
import re
from typing import Any

import pytest
from pypdf import PdfReader

from talkshop.auth import ADMIN
from talkshop.commerce.orders import OrderService
from talkshop.data.repository import Repository
from talkshop.errors import NotFound
from talkshop.local.invoke import HttpResult
from talkshop.search.service import format_price
from talkshop.web.pages import history as history_pages
from tests.chat_history_fakes import Shop, Shopper, shop_products
from tests.conftest import table_snapshot
from tests.integration.http import call

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture
def shop(repository: Repository) -> Shop:
    return Shop(repository, shop_products(repository))


def get(path: str, shopper: Shopper | None = None, query: str = "") -> HttpResult:
    return call("GET", path, query=query, headers=shopper.cookie if shopper else {})


def post(path: str, shopper: Shopper | None, body: str = "", **headers: str) -> HttpResult:
    return call(
        "POST", path, raw=body.encode(), headers={**FORM, **(shopper.cookie if shopper else {}), **headers}
    )


def page_text(result: HttpResult) -> str:
    assert result.status == 200, result.body
    assert result.headers["Content-Type"].startswith("text/html")
    return result.body.decode()


def listed(body: str) -> list[str]:
    """The ids of the chats a history page lists, in order."""
    return re.findall(r'<article class="history-item" aria-labelledby="chat-([^"]+)"', body)


def error_code(result: HttpResult) -> str:
    found = re.search(r'data-error-code="([^"]+)"', result.body.decode())
    assert found, result.body
    return found.group(1)


def test_without_a_shopper_the_history_says_when_chats_will_appear(table: Any) -> None:
    body = page_text(get("/history"))
    assert "appear here after your first chat" in body
    assert 'href="/chat"' in body
    assert listed(body) == []


def test_the_history_lists_the_shoppers_chats_newest_first_with_what_they_led_to(
    shop: Shop, repository: Repository
) -> None:
    ana, bought_in = shop.new_shopper()
    shop.send(ana, bought_in, "aero-lite fjord-round please")
    order_id = shop.buy(ana, bought_in, "aero-lite")
    browsed_in = shop.new_chat(ana, platform="claude")
    shop.send(ana, browsed_in, "cafe-grip with <b>bold</b> looks")
    bob, bobs = shop.new_shopper()
    shop.send(bob, bobs, "fjord-round")

    body = page_text(get("/history", ana))

    assert listed(body) == [browsed_in, bought_in]
    browsed, bought = body.split('class="history-item"')[1:]
    order = OrderService(shop.steps.store).get(order_id, ADMIN)
    assert "Web chat" in bought
    assert "4 messages" in bought
    assert "<dd>Aero Lite, Fjord Round</dd>" in bought
    assert f"<dd>{format_price(order.total, 'EUR')}</dd>" in bought
    assert ">aero-lite fjord-round please</a>" in bought
    assert f'href="/chat?session={bought_in}"' in bought
    assert f'href="/history/{bought_in}/export.pdf"' in bought
    assert f'action="/history/{bought_in}/delete"' in bought
    assert "Claude" in browsed
    assert "2 messages" in browsed
    assert "<dd>Cafe Grip</dd>" in browsed
    assert "<dd>Nothing</dd>" in browsed
    assert "&lt;b&gt;bold&lt;/b&gt;" in browsed
    assert "<b>bold</b>" not in body
    assert listed(page_text(get("/history", bob))) == [bobs]


def test_the_history_pages_through_many_chats(shop: Shop, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(history_pages, "PAGE_SIZE", 2)
    ana, first = shop.new_shopper()
    second, third = shop.new_chat(ana), shop.new_chat(ana)

    body = page_text(get("/history", ana))
    assert listed(body) == [third, second]
    found = re.search(r'<a class="button" href="(/history\?cursor=[^"]+)">Older chats', body)
    assert found
    path, _, query = html.unescape(found.group(1)).partition("?")
    older = page_text(get(path, ana, query))
    assert listed(older) == [first]
    assert "Older chats" not in older


def test_search_finds_chats_by_their_messages_and_products_whatever_the_case_and_accents(shop: Shop) -> None:
    ana, about_a_cafe = shop.new_shopper()
    shop.send(ana, about_a_cafe, "Something to play near the Café")
    about_a_racket = shop.new_chat(ana)
    shop.send(ana, about_a_racket, "x-77")
    bob, bobs = shop.new_shopper()
    shop.send(bob, bobs, "a café racket x-77")

    assert listed(page_text(get("/history", ana, "q=CAFE"))) == [about_a_cafe]
    assert listed(page_text(get("/history", ana, "q=nebula+smash"))) == [about_a_racket]
    assert listed(page_text(get("/history", ana, "q=play+cafe"))) == [about_a_cafe]
    nothing = page_text(get("/history", ana, "q=tennis"))
    assert listed(nothing) == []
    assert "No chat matches" in nothing
    assert "“tennis”" in nothing
    assert listed(page_text(get("/history", bob, "q=nebula"))) == [bobs]

    too_long = get("/history", ana, "q=" + "a" * 201)
    assert too_long.status == 422
    assert error_code(too_long) == "query_too_long"


def test_a_chat_exports_as_a_pdf_of_its_messages_products_and_orders(shop: Shop) -> None:
    ana, chat = shop.new_shopper()
    shop.send(ana, chat, "Café, niño, façade, São Paulo: 100 € (or less) for aero-lite?")
    order_id = shop.buy(ana, chat, "aero-lite")

    exported = get(f"/history/{chat}/export.pdf", ana)

    assert exported.status == 200
    assert exported.headers["Content-Type"] == "application/pdf"
    assert (
        exported.headers["Content-Disposition"]
        == f'attachment; filename="chat-{chat_date(shop, chat)}-{chat}.pdf"'
    )
    reader = PdfReader(io.BytesIO(exported.body), strict=True)
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert reader.metadata is not None
    assert reader.metadata.title is not None
    assert reader.metadata.title.startswith("Talkshop chat of ")
    assert "Platform: Web chat" in text
    assert "You · " in text
    assert "Product Advisor · " in text
    assert "Café, niño, façade, São Paulo: 100 € (or less) for aero-lite?" in text
    assert "Here is what I found: aero-lite." in text
    assert "Aero Lite (Acme): €59.95" in text
    order = OrderService(shop.steps.store).get(order_id, ADMIN)
    assert f"Order #{order_id}" in text
    assert "1 × Aero Lite: €59.95" in text  # noqa: RUF001 - the multiplication sign
    assert f"Total: {format_price(order.total, 'EUR')}" in text


def chat_date(shop: Shop, chat: str) -> str:
    return f"{shop.chats.get(chat, ADMIN).started_at:%Y-%m-%d}"


def test_only_the_chats_shopper_may_export_it(shop: Shop) -> None:
    ana, chat = shop.new_shopper()
    bob, _ = shop.new_shopper()
    for shopper in (bob, None):
        refused = get(f"/history/{chat}/export.pdf", shopper)
        assert refused.status == 404
        assert error_code(refused) == "session_not_found"
    malformed = get("/history/-no-such:chat!/export.pdf", ana)
    assert malformed.status == 404
    assert error_code(malformed) == "session_not_found"


def commerce_item(item: dict[str, Any]) -> bool:
    """Items of the shopper's purchases, which outlive the chat they came from."""
    commerce = ("THING#order#", "THING#cart#", "THING#checkout#", "THING#reservation#")
    partition = str(item["PK"]).removeprefix("EVENTS#")
    return partition.startswith(commerce) or item.get("connection_type") == "purchased_via_chat"


def items_naming(table: Any, text: str) -> list[dict[str, Any]]:
    return [item for item in table_snapshot(table) if text in json.dumps(item, default=str)]


def test_deleting_asks_first_then_removes_the_chat_from_storage(
    shop: Shop, repository: Repository, table: Any
) -> None:
    ana, chat = shop.new_shopper()
    shop.send(ana, chat, "aero-lite fjord-round please")
    order_id = shop.buy(ana, chat, "aero-lite")
    kept = shop.new_chat(ana)
    chat_items = [item for item in items_naming(table, chat) if not commerce_item(item)]
    kinds = {(item.get("entity_type"), item.get("connection_type"), item["SK"][:10]) for item in chat_items}
    assert ("conversation_session", None, "#ENTITY") in kinds
    assert ("ai_recommendation", None, "#ENTITY") in kinds
    assert (None, "suggested_by_ai", "CONN#sugge") in kinds
    assert (None, None, "KNOWLEDGE#") in kinds  # the code the chat offered
    assert any(str(item["PK"]).startswith("EVENTS#") for item in chat_items)

    confirmation = page_text(post(f"/history/{chat}/delete", ana))
    assert "Delete this chat?" in confirmation
    assert '<input type="hidden" name="confirm" value="yes">' in confirmation
    assert shop.chats.get(chat, ADMIN).id == chat  # asking deleted nothing

    deleted = post(f"/history/{chat}/delete", ana, "confirm=yes")
    assert deleted.status == 303
    assert deleted.headers["Location"] == "/history?deleted=1"

    after = page_text(get("/history", ana, "deleted=1"))
    assert "The chat was deleted." in after
    assert listed(after) == [kept]
    assert call("GET", f"/api/chat/session/{chat}", headers=ana.cookie).status == 404
    for item in chat_items:
        assert "Item" not in table.get_item(Key={"PK": item["PK"], "SK": item["SK"]}), item
    # What stays is the shopper's purchase: the order, its cart and checkout, their events and the
    # purchase link. They name the chat they came from but hold none of its messages.
    left = items_naming(table, chat)
    assert left
    assert all(commerce_item(item) for item in left)
    assert not items_naming(table, "fjord-round please")
    assert not items_naming(table, "Here is what I found")
    assert OrderService(shop.steps.store).get(order_id, ana.principal).conversation_id == chat
    with pytest.raises(NotFound):
        shop.chats.get(chat, ana.principal)


def test_a_delete_from_another_site_or_by_another_shopper_is_refused(shop: Shop) -> None:
    ana, chat = shop.new_shopper()
    bob, _ = shop.new_shopper()

    cross_site = post(f"/history/{chat}/delete", ana, "confirm=yes", Origin="https://evil.example")
    assert cross_site.status == 403
    assert error_code(cross_site) == "cross_site_form"
    for shopper in (bob, None):
        refused = post(f"/history/{chat}/delete", shopper, "confirm=yes")
        assert refused.status == 404
        assert error_code(refused) == "session_not_found"
    assert shop.chats.get(chat, ana.principal).id == chat
