"""The chat pages through the web function on moto, as a browser without JavaScript uses them: forms
that post and are redirected, the shopper cookie, and the HTML that comes back (the engine is the
scripted echo engine; the products are the demo catalog's)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from markupsafe import escape

from talkshop.advisor.chat_api import StartChatRequest
from talkshop.api import context
from talkshop.api.context import catalog, chat_sessions
from talkshop.auth import ADMIN, ANONYMOUS
from talkshop.catalog.importer import CatalogImporter
from talkshop.catalog.model import ProductInput
from talkshop.local.runtime import demo_catalog_path
from talkshop.web.chat_view import EXAMPLE_PROMPTS
from talkshop.web.render import CONTENT_SECURITY_POLICY
from tests.chat_fakes import EchoAdvisor, FixedCatalog
from tests.conftest import table_snapshot
from tests.integration.web_pages import (
    error_code,
    get_page,
    hidden_field,
    post_form,
    shopper_token_set_by,
    text,
)

RACKET = "vantaro-feather-330"
OTHER_RACKET = "nordpala-fjord-round"
HOSTILE_NAME = '<img src=x onerror="alert(1)"> Racket'


# The demo products these tests show, without their links to the rest of the catalog.
SHOWN = (RACKET, OTHER_RACKET)
_LINKS = ("ai_similar_products", "ai_often_bought_with", "ai_upgrade_from", "ai_upgrade_to")


@pytest.fixture(autouse=True)
def shop(table: Any, tmp_path: Path) -> Iterator[EchoAdvisor]:
    """Two demo products in the table, and the echo engine answering over the catalog."""
    demo = [item for item in json.loads(demo_catalog_path().read_text()) if item["id"] in SHOWN]
    products = tmp_path / "products.json"
    products.write_text(
        json.dumps([{key: value for key, value in item.items() if key not in _LINKS} for item in demo])
    )
    CatalogImporter(catalog()).import_file(products)
    engine = EchoAdvisor()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(context, "shop_catalog", lambda: FixedCatalog(catalog().all_products()))
        patch.setattr(context, "advisor", lambda: engine)
        context.chat_service.cache_clear()
        yield engine
    context.chat_service.cache_clear()


def session_of(location: str) -> str:
    return parse_qs(urlsplit(location).query)["session"][0]


def send(message: str, token: str | None = None, session_id: str = "") -> tuple[str, str]:
    """Posts the chat form; the chat's id and the shopper token (the cookie's, or the one given)."""
    sent = post_form("/chat", {"sessionId": session_id, "message": message}, token)
    assert sent.status == 303, text(sent)
    assert sent.headers["Location"].endswith("#latest")
    return session_of(sent.headers["Location"]), token or shopper_token_set_by(sent)


def chat_html(session_id: str, token: str, query: str = "") -> str:
    page = get_page("/chat", token, f"session={session_id}{query}")
    assert page.status == 200, text(page)
    return text(page)


def test_a_new_visitor_sees_the_welcome_and_the_example_prompts() -> None:
    page = get_page("/chat")
    assert page.status == 200
    assert page.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert "Set-Cookie" not in page.headers
    html = text(page)
    assert "Product Advisor" in html
    assert "rules engine" in html  # the footer names what answers (no model configured here)
    for prompt in EXAMPLE_PROMPTS:
        assert f'name="message" value="{escape(prompt)}"' in html
    assert 'action="/chat"' in html
    assert hidden_field(html, "clientMessageId").startswith("web-")


def test_the_first_message_starts_a_chat_sets_the_cookie_and_shows_the_answer_with_cards() -> None:
    sent = post_form("/chat", {"message": f"{RACKET} please"})
    assert sent.status == 303
    cookie = sent.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie
    assert "Secure" not in cookie
    session_id, token = session_of(sent.headers["Location"]), shopper_token_set_by(sent)

    html = chat_html(session_id, token)
    assert f"{RACKET} please" in html
    assert "Here is what I found" in html
    assert html.count('class="message user"') == 1
    assert html.count('class="message assistant') == 2
    card = html[html.index(f'data-product-id="{RACKET}"') :]
    assert "Vantaro Feather 330" in card
    assert "€64.95" in card
    assert "In stock" in card
    assert "Rated 4.3 out of 5" in card
    assert f"{RACKET} matches what you asked" in card  # the recommendation's reason
    assert f'href="/products/{RACKET}?session={session_id}"' in card
    assert f'name="sessionId" value="{session_id}"' in card
    assert 'action="/chat/buy"' in card
    assert 'alt="Vantaro Feather 330 padel racket' in card
    assert "Try one of these" not in html  # the onboarding is for an empty chat

    _, same_token = send("and now?", token, session_id)
    assert same_token == token
    assert chat_html(session_id, token).count('class="message user"') == 2


def test_a_resubmitted_form_answers_the_recorded_turn_again() -> None:
    session_id, token = send("hello")
    form = {"sessionId": session_id, "message": RACKET, "clientMessageId": "web-once"}
    for _ in range(2):
        assert post_form("/chat", form, token).status == 303
    assert len(chat_sessions().get(session_id, ADMIN).messages) == 4


def test_two_products_are_compared_in_a_table() -> None:
    session_id, token = send(f"{RACKET} {OTHER_RACKET}")
    html = chat_html(session_id, token)
    table = html[html.index("<table>") : html.index("</table>")]
    assert "How they compare" in table
    assert "Vantaro Feather 330" in table
    assert "Nordpala Fjord Round" in table
    assert '<th scope="row">weight</th>' in table


def test_a_chat_is_only_its_shoppers(table: Any) -> None:
    session_id, _ = send("hello")
    _, other_token = send("hi")
    for token in (other_token, None):
        page = get_page("/chat", token, f"session={session_id}")
        assert page.status == 404
        assert error_code(text(page)) == "session_not_found"
        sent = post_form("/chat", {"sessionId": session_id, "message": "mine now"}, token)
        assert sent.status == 404
    before = table_snapshot(table)
    assert post_form("/chat/buy", {"sessionId": session_id, "productId": RACKET}, other_token).status == 404
    removal = {"sessionId": session_id, "action": "remove", "field": "skill_level"}
    assert post_form("/chat/preferences", removal, other_token).status == 404
    assert table_snapshot(table) == before


@pytest.mark.parametrize(
    ("fields", "status", "code"),
    [
        ({"message": "   "}, 422, "empty_message"),
        ({"message": "x" * 2001}, 422, "message_too_long"),
        ({"message": "hi", "sessionId": "not an id!"}, 422, "invalid_sessionId"),
        ({"message": "hi", "clientMessageId": "spaces are not allowed"}, 422, "invalid_client_message_id"),
    ],
)
def test_bad_messages_are_refused_with_a_page_and_nothing_is_created(
    table: Any, fields: dict[str, str], status: int, code: str
) -> None:
    before = table_snapshot(table)
    sent = post_form("/chat", fields)
    assert sent.status == status
    assert error_code(text(sent)) == code
    assert "Set-Cookie" not in sent.headers
    assert table_snapshot(table) == before


def test_a_bad_session_id_in_the_address_is_a_422_page() -> None:
    page = get_page("/chat", query="session=%3Cscript%3E")
    assert page.status == 422
    assert error_code(text(page)) == "invalid_session"
    assert "<script>" not in text(page)


def test_forms_from_another_site_are_refused(table: Any) -> None:
    before = table_snapshot(table)
    for path in ("/chat", "/chat/new", "/chat/preferences", "/chat/buy"):
        sent = post_form(path, {"message": "hi"}, headers={"Origin": "https://evil.example"})
        assert sent.status == 403
        assert error_code(text(sent)) == "cross_site_form"
    assert table_snapshot(table) == before


def test_a_cookie_whose_token_no_longer_works_is_forgotten() -> None:
    page = get_page("/chat", "tsh_from_an_earlier_run")
    assert page.status == 200
    assert "Max-Age=0" in page.headers["Set-Cookie"]
    sent = post_form("/chat", {"message": "hello"}, "tsh_from_an_earlier_run")
    assert sent.status == 303
    assert shopper_token_set_by(sent) != "tsh_from_an_earlier_run"


def test_what_shoppers_and_models_write_is_escaped(shop: EchoAdvisor) -> None:
    hostile = (
        "<script>alert(1)</script> **bold** [click](javascript:alert(1)) "
        '<img src=x onerror="alert(2)"> [ok](https://example.com/a?b=1&c=2)'
    )
    session_id, token = send(hostile)
    html = chat_html(session_id, token)
    assert "<script>alert" not in html
    assert "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<strong>bold</strong>" in html
    assert 'href="javascript' not in html
    assert "[click](javascript:alert(1))" in html
    assert '<a href="https://example.com/a?b=1&amp;c=2" target="_blank" rel="noopener">ok</a>' in html


def test_a_product_name_with_html_is_shown_as_text() -> None:
    catalog().create_product(
        ProductInput(
            id="hostile-racket",
            name=HOSTILE_NAME,
            brand="<b>Brand</b>",
            category="padel-rackets",
            creator_id="padelnest",
            description='Nice "racket" <script>alert(3)</script>',
            price=1000,
            currency="EUR",
            stock=2,
        ),
        ADMIN,
    )
    session_id, token = send("hostile-racket")
    html = chat_html(session_id, token)
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt; Racket" in html
    assert "<img src=x" not in html
    assert "<b>Brand</b>" not in html
    assert "<script>alert(3)" not in html
    assert "Only 2 left" in html
    details = text(get_page("/products/hostile-racket"))
    assert "<img src=x" not in details
    assert "&lt;script&gt;alert(3)" in details


def test_the_latest_fragment_has_the_answer_and_the_preferences_only() -> None:
    session_id, token = send(f"beginner {RACKET}")
    fragment = chat_html(session_id, token, "&fragment=latest")
    assert "<html" not in fragment
    assert "site-header" not in fragment
    assert fragment.count("data-message") == 1
    assert f'data-product-id="{RACKET}"' in fragment
    assert "data-preferences" in fragment
    assert "Level: beginner" in fragment


def test_removing_a_preference_corrects_it_and_asks_for_new_recommendations(shop: EchoAdvisor) -> None:
    session_id, token = send(f"I'm a beginner, budget €80 {RACKET}")
    html = chat_html(session_id, token)
    assert "Level: beginner" in html
    assert "Budget: up to €80.00" in html
    removal = {"sessionId": session_id, "action": "remove", "field": "skill_level", "value": ""}
    sent = post_form("/chat/preferences", removal, token)
    assert sent.status == 303
    assert sent.headers["Location"] == f"/chat?session={session_id}#latest"
    session = chat_sessions().get(session_id, ADMIN)
    assert session.preferences.skill_level is None
    assert session.preferences.budget is not None
    assert session.preferences.budget.max_amount == 8000
    assert session.messages[-2].content == "Show me padel rackets that match my updated preferences."
    assert shop.turns[-1].session.preferences.skill_level is None  # the advisor saw the corrected ones
    assert "Level: beginner" not in chat_html(session_id, token)


def test_editing_preferences_sets_choices_and_the_budget() -> None:
    session_id, token = send("hello")
    edit = {
        "sessionId": session_id,
        "action": "edit",
        "play_style": "control",
        "skill_level": "",
        "budget_max": "120",
    }
    assert post_form("/chat/preferences", edit, token).status == 303
    preferences = chat_sessions().get(session_id, ADMIN).preferences
    assert preferences.play_style == "control"
    assert preferences.budget is not None
    assert (preferences.budget.max_amount, preferences.budget.currency) == (12000, "EUR")
    html = chat_html(session_id, token)
    assert "Play style: control" in html
    assert 'value="120"' in html


def test_a_preference_change_asked_as_json_only_corrects_and_names_the_message_to_stream() -> None:
    session_id, token = send("hello")
    edit = {"sessionId": session_id, "action": "edit", "weight": "light"}
    answered = post_form("/chat/preferences", edit, token, headers={"Accept": "application/json"})
    assert answered.status == 200
    assert json.loads(answered.body) == {
        "sessionId": session_id,
        "message": "Show me products that match my updated preferences.",
    }
    session = chat_sessions().get(session_id, ADMIN)
    assert session.preferences.weight == "light"
    assert len(session.messages) == 2
    unchanged = post_form("/chat/preferences", edit, token, headers={"Accept": "application/json"})
    assert json.loads(unchanged.body)["message"] is None


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"action": "edit", "skill_level": "wizard"}, "invalid_preference"),
        ({"action": "edit", "budget_max": "lots"}, "invalid_budget"),
        ({"action": "edit", "budget_max": "-5"}, "invalid_budget"),
        ({"action": "remove", "field": "password"}, "unknown_preference"),
        ({"action": "explode"}, "invalid_action"),
    ],
)
def test_bad_preference_forms_are_refused(fields: dict[str, str], code: str) -> None:
    session_id, token = send("hello")
    refused = post_form("/chat/preferences", {"sessionId": session_id, **fields}, token)
    assert refused.status == 422
    assert error_code(text(refused)) == code


def test_buy_now_opens_the_checkout_of_a_new_chat_cart() -> None:
    session_id, token = send(RACKET)
    bought = post_form("/chat/buy", {"sessionId": session_id, "productId": RACKET, "intent": "buy"}, token)
    assert bought.status == 303
    assert re.fullmatch(r"/checkout/crt_[0-9a-f]+", bought.headers["Location"])


def test_add_to_cart_keeps_the_shopper_in_the_chat_and_fills_one_cart() -> None:
    session_id, token = send(RACKET)
    add = {"sessionId": session_id, "productId": RACKET, "intent": "add", "quantity": "1"}
    added = post_form("/chat/buy", add, token)
    assert added.status == 303
    location = urlsplit(added.headers["Location"])
    cart_id = parse_qs(location.query)["cart"][0]
    assert location.fragment == "cart"
    html = chat_html(session_id, token, f"&cart={cart_id}")
    assert "In your cart: 1 item" in html
    assert hidden_field(html, "cartId") == cart_id

    again = post_form("/chat/buy", {**add, "productId": OTHER_RACKET, "cartId": cart_id}, token)
    assert parse_qs(urlsplit(again.headers["Location"]).query)["cart"] == [cart_id]
    assert "In your cart: 2 items" in chat_html(session_id, token, f"&cart={cart_id}")


@pytest.mark.parametrize(
    ("fields", "status", "code"),
    [
        ({"productId": RACKET, "quantity": "0"}, 422, "invalid_quantity"),
        ({"productId": RACKET, "quantity": "two"}, 422, "invalid_quantity"),
        ({"productId": RACKET, "intent": "steal"}, 422, "invalid_intent"),
        ({}, 422, "missing_productId"),
        ({"productId": "no-such-product"}, 404, "product_not_found"),
    ],
)
def test_bad_buy_forms_are_refused(fields: dict[str, str], status: int, code: str) -> None:
    session_id, token = send("hello")
    refused = post_form("/chat/buy", {"sessionId": session_id, **fields}, token)
    assert refused.status == status
    assert error_code(text(refused)) == code


def test_a_new_chat_asked_as_json_sets_the_cookie_and_answers_its_id() -> None:
    started = post_form("/chat/new", {}, headers={"Accept": "application/json"})
    assert started.status == 201
    session_id = json.loads(started.body)["sessionId"]
    token = shopper_token_set_by(started)
    assert "Try one of these" in chat_html(session_id, token)  # an empty chat of this shopper opens
    as_form = post_form("/chat/new", {}, token)
    assert as_form.status == 303
    assert "Set-Cookie" not in as_form.headers
    assert session_of(as_form.headers["Location"]) != session_id


def test_the_product_page_and_its_fragment() -> None:
    page = get_page(f"/products/{RACKET}")
    assert page.status == 200
    html = text(page)
    assert "site-header" in html
    assert "<h1" in html
    assert "Vantaro Feather 330" in html
    assert "Weight (g)" in html
    assert "How it compares" in html
    assert "Best for" in html
    assert "Avoid when" in html
    assert "Marisol G." in html
    assert "Rated 5 out of 5" in html
    assert 'action="/chat/buy"' not in html  # no chat named: nothing to buy into

    session_id = chat_sessions().start(StartChatRequest(user_id="ana"), ADMIN).id
    fragment = text(get_page(f"/products/{RACKET}", query=f"session={session_id}&fragment=1"))
    assert "<html" not in fragment
    assert "site-header" not in fragment
    assert 'action="/chat/buy"' in fragment
    assert f'value="{session_id}"' in fragment


def test_an_unknown_or_hidden_product_is_the_404_page() -> None:
    page = get_page("/products/no-such-product")
    assert page.status == 404
    assert error_code(text(page)) == "product_not_found"
    product = catalog().get_product(RACKET, ANONYMOUS)
    catalog().delete_product(product.id, ADMIN, None)
    assert get_page(f"/products/{RACKET}").status == 404
