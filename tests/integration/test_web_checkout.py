"""The checkout pages through the web function on moto: buying from the storefront, the checkout page
(quantity, discount codes, the test payment), completing the purchase once per form, the order page,
and the order's confirmation in its chat. The state machine is the in-process runner of its steps."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from talkshop.api import context
from talkshop.commerce.store import CommerceStore
from talkshop.data.repository import Repository
from tests.commerce_fakes import (
    InProcessCheckoutRunner,
    add_product,
    in_process_checkouts,
    new_chat,
    new_shopper,
    stock_of,
)
from tests.conftest import ADMIN_KEY, table_snapshot
from tests.integration.http import call
from tests.integration.web_pages import (
    error_code,
    get_page,
    hidden_field,
    post_form,
    shopper_token_set_by,
    text,
)


@pytest.fixture(autouse=True)
def checkout_runner(table: Any) -> Iterator[InProcessCheckoutRunner]:
    with in_process_checkouts() as runner:
        yield runner


@pytest.fixture(autouse=True)
def products(repository: Repository) -> None:
    add_product(repository, "aero", price=3000, stock=5)
    add_product(repository, "grip", price=600, stock=50)
    issued = call(
        "POST",
        "/api/discounts",
        ADMIN_KEY,
        {"code": "SAVE5", "kind": "fixed", "value": 500, "currency": "EUR"},
    )
    assert issued.status == 201, issued.body


def buy_from_store(product_id: str = "aero", token: str | None = None) -> tuple[str, str]:
    """Buy now on the storefront: the new cart's id and the shopper's token."""
    bought = post_form("/store/buy", {"productId": product_id, "quantity": "1"}, token)
    assert bought.status == 303, bought.body
    match = re.fullmatch(r"/checkout/(crt_\w+)", bought.headers["Location"])
    assert match, bought.headers["Location"]
    return match.group(1), token or shopper_token_set_by(bought)


def complete(cart_id: str, token: str, **fields: str) -> Any:
    page = get_page(f"/checkout/{cart_id}", token)
    assert page.status == 200, page.body
    form = {"idempotencyKey": hidden_field(text(page), "idempotencyKey"), **fields}
    return post_form(f"/checkout/{cart_id}", form, token)


def orders_of(token: str) -> list[dict[str, Any]]:
    listed = call("GET", "/api/orders", token)
    assert listed.status == 200, listed.body
    items: list[dict[str, Any]] = listed.json()["items"]
    return items


def test_buying_from_the_store_opens_the_checkout_page_with_the_total(repository: Repository) -> None:
    bought = post_form("/store/buy", {"productId": "aero", "quantity": "1"})
    assert bought.status == 303
    cookie = bought.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie
    cart_id, token = buy_from_store()

    page = get_page(f"/checkout/{cart_id}", token)
    html = text(page)
    assert page.status == 200
    assert "Aero" in html
    assert "€30.00 each" in html
    assert "data-total>€34.95<" in html  # €30.00 and €4.95 standard shipping
    assert "Test payment — no card is charged." in html
    assert html.count("Complete purchase") == 1
    assert "You save" not in html

    again, same = buy_from_store("grip", token)
    assert same == token
    assert again != cart_id
    assert "Set-Cookie" not in post_form("/store/buy", {"productId": "grip"}, token).headers


def test_a_typed_code_applies_and_a_refused_one_says_why(table: Any) -> None:
    cart_id, token = buy_from_store()
    applied = post_form(f"/checkout/{cart_id}/discount", {"code": "save5"}, token)
    assert applied.status == 303
    assert applied.headers["Location"] == f"/checkout/{cart_id}?code=SAVE5"
    html = text(get_page(f"/checkout/{cart_id}", token, "code=SAVE5"))
    assert "<strong>SAVE5</strong> applied" in html
    assert "You save €5.00" in html
    assert "data-total>€29.95<" in html

    before = table_snapshot(table)
    refused = post_form(f"/checkout/{cart_id}/discount", {"code": "NOPE"}, token)
    assert refused.status == 422
    assert error_code(text(refused)) == "discount_not_found"
    assert "There is no discount code NOPE." in text(refused)
    malformed = post_form(f"/checkout/{cart_id}/discount", {"code": "<b>"}, token)
    assert (malformed.status, error_code(text(malformed))) == (422, "invalid_discount_code")
    assert table_snapshot(table) == before


def test_the_quantity_changes_and_is_refused_beyond_the_stock() -> None:
    cart_id, token = buy_from_store()
    changed = post_form(f"/checkout/{cart_id}/quantity", {"productId": "aero", "quantity": "2"}, token)
    assert changed.status == 303
    assert changed.headers["Location"] == f"/checkout/{cart_id}"
    html = text(get_page(f"/checkout/{cart_id}", token))
    assert 'name="quantity" value="2"' in html
    assert "data-total>€60.00<" in html  # free shipping from €50

    too_many = post_form(f"/checkout/{cart_id}/quantity", {"productId": "aero", "quantity": "6"}, token)
    assert (too_many.status, error_code(text(too_many))) == (409, "out_of_stock")
    assert 'name="quantity" value="2"' in text(too_many)
    for quantity in ("0", "two", "100"):
        refused = post_form(
            f"/checkout/{cart_id}/quantity", {"productId": "aero", "quantity": quantity}, token
        )
        assert (refused.status, error_code(text(refused))) == (422, "invalid_quantity")


def test_completing_a_store_purchase_places_a_traditional_order(repository: Repository) -> None:
    cart_id, token = buy_from_store()
    post_form(f"/checkout/{cart_id}/discount", {"code": "SAVE5"}, token)
    placed = complete(cart_id, token, code="SAVE5")
    assert placed.status == 303, placed.body
    match = re.fullmatch(r"/orders/(ord_\w+)", placed.headers["Location"])
    assert match
    order = call("GET", f"/api/orders/{match.group(1)}", token).json()
    assert (order["orderSource"], order["status"], order["total"], order["discount"]) == (
        "traditional",
        "paid",
        2995,
        500,
    )
    assert stock_of(repository, "aero") == 4

    page = get_page(placed.headers["Location"], token)
    html = text(page)
    assert page.status == 200
    assert f"Order placed! #ORD-{order['id'][4:12].upper()}" in html
    assert "You saved €5.00" in html
    assert "From the shop" in html
    assert 'data-order-source="traditional"' in html
    assert "€29.95" in html

    reopened = text(get_page(f"/checkout/{cart_id}", token))
    assert "This cart has been ordered." in reopened
    assert "Complete purchase" not in reopened


def test_a_chat_purchase_is_confirmed_in_its_chat_once(repository: Repository) -> None:
    token = new_shopper(repository, "ana")
    new_chat(repository, "ana", "chs_ana", suggested=["aero"])
    work = repository.unit_of_work()
    CommerceStore.stage_offer(work, "chs_ana", "SAVE5", context.carts().clock())
    work.commit()
    started = call("POST", "/api/chat/checkout", token, {"sessionId": "chs_ana", "productId": "aero"})
    cart_id = started.json()["cartId"]

    html = text(get_page(f"/checkout/{cart_id}", token))
    assert "<strong>SAVE5</strong> applied, as\n      offered in your chat" in html
    assert "You save €5.00" in html
    assert "Back to the chat" in html

    page = get_page(f"/checkout/{cart_id}", token)
    form = {"idempotencyKey": hidden_field(text(page), "idempotencyKey")}
    placed = post_form(f"/checkout/{cart_id}", form, token)
    assert placed.status == 303, placed.body
    order_id = orders_of(token)[0]["id"]
    assert placed.headers["Location"] == f"/chat?session=chs_ana#order-{order_id}"
    replayed = post_form(f"/checkout/{cart_id}", form, token)  # a double click, or the browser resending
    assert replayed.headers["Location"] == placed.headers["Location"]
    assert len(orders_of(token)) == 1

    chat = call("GET", "/api/chat/session/chs_ana", token).json()
    confirmations = [message for message in chat["messages"] if message.get("orderId") == order_id]
    assert len(confirmations) == 1
    assert confirmations[0]["role"] == "assistant"
    assert confirmations[0]["content"] == "\n".join(
        [
            f"Order placed! #ORD-{order_id[4:12].upper()} — you saved €5.00",
            "1 × Aero: €30.00",  # noqa: RUF001 - as the chat shows it
            "Shipping: €4.95",
            "Total: €29.95",
        ]
    )
    order = call("GET", f"/api/orders/{order_id}", token).json()
    assert (order["orderSource"], order["discountAppliedFromChat"]) == ("conversational", True)
    assert "From a chat with the advisor" in text(get_page(f"/orders/{order_id}", token))


def test_a_double_submit_places_one_order() -> None:
    cart_id, token = buy_from_store()
    page = get_page(f"/checkout/{cart_id}", token)
    form = {"idempotencyKey": hidden_field(text(page), "idempotencyKey")}
    first = post_form(f"/checkout/{cart_id}", form, token)
    second = post_form(f"/checkout/{cart_id}", form, token)
    assert first.status == second.status == 303
    assert first.headers["Location"] == second.headers["Location"]
    assert len(orders_of(token)) == 1
    other_key = post_form(f"/checkout/{cart_id}", {"idempotencyKey": "another-key"}, token)
    assert (other_key.status, error_code(text(other_key))) == (409, "cart_closed")
    assert len(orders_of(token)) == 1


def test_a_declined_payment_shows_the_page_again_with_the_cart_unchanged(repository: Repository) -> None:
    cart_id, token = buy_from_store()
    declined = complete(cart_id, token, paymentToken="spt_test_decline")
    html = text(declined)
    assert declined.status == 402
    assert error_code(html) == "payment_declined"
    assert "declined" in html
    assert "Complete purchase" in html
    cart = call("GET", f"/api/carts/{cart_id}", token).json()
    assert (cart["status"], cart["lines"][0]["quantity"]) == ("open", 1)
    assert orders_of(token) == []
    assert stock_of(repository, "aero") == 5
    assert complete(cart_id, token).status == 303  # the shopper tries again and it goes through


def test_the_script_gets_json_answers() -> None:
    cart_id, token = buy_from_store()
    key = hidden_field(text(get_page(f"/checkout/{cart_id}", token)), "idempotencyKey")
    json_accept = {"Accept": "application/json"}
    declined = post_form(
        f"/checkout/{cart_id}",
        {"idempotencyKey": key, "paymentToken": "spt_test_decline"},
        token,
        json_accept,
    )
    assert declined.status == 402
    assert declined.json()["error"]["code"] == "payment_declined"
    placed = post_form(f"/checkout/{cart_id}", {"idempotencyKey": key}, token, json_accept)
    assert placed.status == 200, placed.body
    assert re.fullmatch(r"/orders/ord_\w+", placed.json()["location"])


def test_the_fragment_is_the_checkout_without_the_page_chrome() -> None:
    cart_id, token = buy_from_store()
    fragment = text(get_page(f"/checkout/{cart_id}", token, "fragment=1"))
    assert "data-checkout-panel" in fragment
    assert "site-header" not in fragment
    assert "<html" not in fragment
    assert '<input type="hidden" name="fragment" value="1">' in fragment
    changed = post_form(
        f"/checkout/{cart_id}/quantity", {"productId": "aero", "quantity": "2", "fragment": "1"}, token
    )
    assert changed.headers["Location"] == f"/checkout/{cart_id}?fragment=1"


def test_another_shoppers_cart_and_order_are_not_found(table: Any) -> None:
    cart_id, token = buy_from_store()
    placed = complete(cart_id, token)
    other_cart, stranger = buy_from_store()
    before = table_snapshot(table)
    for key in (stranger, None):
        for path in (f"/checkout/{cart_id}", placed.headers["Location"]):
            assert get_page(path, key).status == 404
    for path, fields in (
        (f"/checkout/{other_cart}", {"idempotencyKey": "k1"}),
        (f"/checkout/{other_cart}/quantity", {"productId": "aero", "quantity": "2"}),
        (f"/checkout/{other_cart}/discount", {"code": "SAVE5"}),
    ):
        refused = post_form(path, fields, token)
        assert (refused.status, error_code(text(refused))) == (404, "cart_not_found")
    assert table_snapshot(table) == before


def test_forms_posted_from_another_site_are_refused(table: Any) -> None:
    cart_id, token = buy_from_store()
    before = table_snapshot(table)
    foreign = {"Origin": "https://evil.example"}
    for path, fields in (
        ("/store/buy", {"productId": "aero"}),
        (f"/checkout/{cart_id}", {"idempotencyKey": "k1"}),
        (f"/checkout/{cart_id}/quantity", {"productId": "aero", "quantity": "2"}),
        (f"/checkout/{cart_id}/discount", {"code": "SAVE5"}),
    ):
        refused = post_form(path, fields, token, foreign)
        assert (refused.status, error_code(text(refused))) == (403, "cross_site_form")
    assert table_snapshot(table) == before


def test_without_the_test_provider_the_page_says_so_and_does_not_charge(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cart_id, token = buy_from_store()
    monkeypatch.setenv("TALKSHOP_PAYMENTS", "stripe")
    html = text(get_page(f"/checkout/{cart_id}", token))
    assert "Test payment" not in html
    assert "need the payment provider's own form" in html
    assert re.search(r"<button[^>]*disabled>Complete purchase</button>", html, re.DOTALL)
    refused = post_form(
        f"/checkout/{cart_id}", {"idempotencyKey": "k1", "paymentToken": "spt_test_ok"}, token
    )
    assert (refused.status, error_code(text(refused))) == (422, "payment_form_required")
    assert orders_of(token) == []
