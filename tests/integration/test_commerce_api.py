"""The commerce routes through their real Lambda handler on moto, as API Gateway calls them (the checkout
state machine replaced by the in-process runner of the same steps)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from talkshop.api import context
from talkshop.auth import ADMIN
from talkshop.catalog.creators import CreatorService
from talkshop.catalog.model import ProductInput
from talkshop.catalog.service import CatalogService
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
from tests.integration.http import assert_error, call


@pytest.fixture(autouse=True)
def checkout_runner(table: Any) -> Iterator[InProcessCheckoutRunner]:
    with in_process_checkouts() as runner:
        yield runner


@pytest.fixture
def products(repository: Repository) -> None:
    add_product(repository, "aero", price=3000, stock=5)
    add_product(repository, "grip", price=600, stock=50)


def open_cart(key: str | None = None) -> dict[str, Any]:
    opened = call("POST", "/api/carts", key, {})
    assert opened.status == 201, opened.body
    cart: dict[str, Any] = opened.json()
    assert opened.headers["Location"] == f"/api/carts/{cart['id']}"
    return cart


def test_a_shopper_fills_a_cart_and_checks_it_out(products: None, repository: Repository) -> None:
    cart = open_cart()
    token = cart["shopperToken"]
    assert token.startswith("tsh_")
    assert cart["lines"] == []
    assert cart["quote"] is None

    added = call("POST", f"/api/carts/{cart['id']}/lines", token, {"productId": "aero", "quantity": 1})
    assert added.status == 200, added.body
    call("POST", f"/api/carts/{cart['id']}/lines", token, {"productId": "grip", "quantity": 1})
    changed = call("PUT", f"/api/carts/{cart['id']}/lines/grip", token, {"quantity": 3})
    assert changed.status == 200, changed.body
    view = changed.json()
    assert view["shopperToken"] is None
    assert [(line["productId"], line["quantity"], line["unitPrice"]) for line in view["lines"]] == [
        ("aero", 1, 3000),
        ("grip", 3, 600),
    ]
    assert view["currency"] == "EUR"
    assert view["quote"] | {"lines": []} == {
        "currency": "EUR", "lines": [], "subtotal": 4800, "discount": 0, "shipping": 495,
        "shippingOption": "standard", "tax": 0, "total": 5295, "discountCode": None, "savingText": None,
    }  # fmt: skip
    express = call("GET", f"/api/carts/{cart['id']}", token, query="shipping=express")
    assert express.json()["quote"]["shipping"] == 995

    placed = call("POST", "/api/checkout", token, {"cartId": cart["id"], "paymentToken": "spt_test_ok"})
    assert placed.status == 201, placed.body
    order = placed.json()
    assert placed.headers["Location"] == f"/api/orders/{order['id']}"
    assert (order["status"], order["total"], order["orderSource"]) == ("paid", 5295, "traditional")
    assert call("GET", f"/api/orders/{order['id']}", token).json() == order
    assert call("GET", f"/api/orders/{order['id']}", ADMIN_KEY).status == 200
    listed = call("GET", "/api/orders", token)
    assert [item["id"] for item in listed.json()["items"]] == [order["id"]]
    assert stock_of(repository, "aero") == 4
    assert_error(
        call("POST", f"/api/carts/{cart['id']}/lines", token, {"productId": "grip"}), 409, "cart_closed"
    )


def test_chat_checkout_answers_the_checkout_page_of_a_prefilled_cart(
    products: None, repository: Repository
) -> None:
    token = new_shopper(repository, "ana")
    new_chat(repository, "ana", "chs_ana", suggested=["aero"])
    call(
        "POST",
        "/api/discounts",
        ADMIN_KEY,
        {"code": "CHAT5", "kind": "fixed", "value": 500, "currency": "EUR"},
    )
    work = repository.unit_of_work()
    CommerceStore.stage_offer(work, "chs_ana", "CHAT5", context.carts().clock())
    work.commit()

    started = call(
        "POST", "/api/chat/checkout", token, {"sessionId": "chs_ana", "productId": "aero", "quantity": 2}
    )
    assert started.status == 201, started.body
    answer = started.json()
    assert answer == {"checkoutUrl": f"/checkout/{answer['cartId']}", "cartId": answer["cartId"]}
    cart = call("GET", f"/api/carts/{answer['cartId']}", token).json()
    assert cart["sessionId"] == "chs_ana"
    assert cart["discountCode"] == "CHAT5"
    assert cart["quote"]["savingText"] == "You saved €5.00"
    assert cart["quote"]["total"] == 5500

    placed = call("POST", "/api/checkout", token, {"cartId": answer["cartId"], "paymentToken": "spt_test_ok"})
    assert placed.status == 201, placed.body
    order = placed.json()
    assert order["orderSource"] == "conversational"
    assert order["conversationId"] == "chs_ana"
    assert order["discountAppliedFromChat"] is True
    assert order["productRecommendedInChat"] is True

    for key in (new_shopper(repository, "bob"), None):
        assert_error(
            call("POST", "/api/chat/checkout", key, {"sessionId": "chs_ana", "productId": "aero"}),
            404,
            "session_not_found",
        )


def test_carts_and_orders_are_invisible_to_others(products: None, repository: Repository, table: Any) -> None:
    cart = open_cart()
    token = cart["shopperToken"]
    other = open_cart()["shopperToken"]
    call("POST", f"/api/carts/{cart['id']}/lines", token, {"productId": "aero"})
    order = call("POST", "/api/checkout", token, {"cartId": cart["id"], "paymentToken": "spt_test_ok"}).json()
    creator_key = CreatorService(repository).add("Nest", "nest").api_key
    before = table_snapshot(table)
    for key in (other, None):
        assert_error(call("GET", f"/api/carts/{cart['id']}", key), 404, "cart_not_found")
        assert_error(call("GET", f"/api/orders/{order['id']}", key), 404, "order_not_found")
        assert_error(
            call("POST", "/api/checkout", key, {"cartId": cart["id"], "paymentToken": "spt_test_ok"}),
            404,
            "cart_not_found",
        )
    assert_error(call("GET", "/api/orders", other, query="user=" + cart["userId"]), 403, "not_owner")
    assert_error(call("GET", "/api/orders"), 401, "missing_credentials")
    assert (
        call("GET", "/api/orders", ADMIN_KEY, query="user=" + cart["userId"]).json()["items"][0]["id"]
        == order["id"]
    )
    assert_error(call("POST", "/api/carts", creator_key, {}), 403, "not_a_shopper")
    assert table_snapshot(table) == before


def test_bad_requests_are_refused_and_write_nothing(products: None, table: Any) -> None:
    cart = open_cart()
    token = cart["shopperToken"]
    call("POST", f"/api/carts/{cart['id']}/lines", token, {"productId": "aero"})
    before = table_snapshot(table)
    lines = f"/api/carts/{cart['id']}/lines"
    assert_error(call("POST", lines, token, {"productId": "nope"}), 404, "product_not_found")
    assert_error(call("POST", lines, token, {"productId": "aero", "quantity": 0}), 422, "validation_error")
    assert_error(call("POST", lines, token, {"productId": "aero", "quantity": 9}), 409, "out_of_stock")
    assert_error(call("POST", lines, token, {"productId": "aero", "price": 1}), 422, "unknown_fields")
    assert_error(call("PUT", f"{lines}/grip", token, {"quantity": 2}), 404, "line_not_found")
    assert_error(call("DELETE", f"{lines}/grip", token), 404, "line_not_found")
    assert_error(
        call("GET", f"/api/carts/{cart['id']}", token, query="discountCode=NOPE"), 422, "discount_not_found"
    )
    checkout = {"cartId": cart["id"], "paymentToken": "spt_test_ok"}
    assert_error(
        call("POST", "/api/checkout", token, checkout | {"shippingOption": "drone"}),
        422,
        "unknown_shipping_option",
    )
    assert_error(
        call("POST", "/api/checkout", token, checkout | {"discountCode": "x"}), 422, "validation_error"
    )
    assert table_snapshot(table) == before


def test_a_refused_checkout_answers_its_reason_and_leaves_the_cart(
    products: None, repository: Repository
) -> None:
    cart = open_cart()
    token = cart["shopperToken"]
    call("POST", f"/api/carts/{cart['id']}/lines", token, {"productId": "aero", "quantity": 2})
    declined = call(
        "POST", "/api/checkout", token, {"cartId": cart["id"], "paymentToken": "spt_test_decline"}
    )
    assert_error(declined, 402, "payment_declined")
    refused = call(
        "POST",
        "/api/checkout",
        token,
        {"cartId": cart["id"], "paymentToken": "spt_test_ok", "discountCode": "NOPE"},
    )
    assert_error(refused, 422, "discount_not_found")
    assert call("GET", f"/api/carts/{cart['id']}", token).json()["status"] == "open"
    assert stock_of(repository, "aero") == 5
    removed = call("DELETE", f"/api/carts/{cart['id']}/lines/aero", token)
    assert removed.status == 200
    assert removed.json()["lines"] == []
    assert removed.json()["currency"] is None
    assert_error(
        call("POST", "/api/checkout", token, {"cartId": cart["id"], "paymentToken": "spt_test_ok"}),
        409,
        "cart_empty",
    )


def test_a_retried_request_gets_the_first_answer_and_charges_once(
    products: None, repository: Repository
) -> None:
    cart = open_cart()
    token = cart["shopperToken"]
    key = {"Idempotency-Key": "add-1"}
    first = call("POST", f"/api/carts/{cart['id']}/lines", token, {"productId": "aero"}, headers=key)
    again = call("POST", f"/api/carts/{cart['id']}/lines", token, {"productId": "aero"}, headers=key)
    assert again.body == first.body
    assert again.json()["lines"][0]["quantity"] == 1

    body = {"cartId": cart["id"], "paymentToken": "spt_test_ok"}
    headers = {"Idempotency-Key": "pay-1"}
    placed = call("POST", "/api/checkout", token, body, headers=headers)
    replayed = call("POST", "/api/checkout", token, body, headers=headers)
    assert placed.status == replayed.status == 201
    assert replayed.body == placed.body
    assert replayed.headers["Location"] == placed.headers["Location"]
    assert [item["id"] for item in call("GET", "/api/orders", token).json()["items"]] == [placed.json()["id"]]
    assert stock_of(repository, "aero") == 4
    assert_error(
        call("POST", "/api/checkout", token, body | {"shippingOption": "express"}, headers=headers),
        422,
        "idempotency_key_reused",
    )
    # The same key from another shopper is another request.
    other = open_cart()
    assert (
        call(
            "POST",
            f"/api/carts/{other['id']}/lines",
            other["shopperToken"],
            {"productId": "aero"},
            headers=key,
        ).status
        == 200
    )


def test_discount_codes_are_issued_and_listed_by_creators_and_the_admin(
    products: None, repository: Repository
) -> None:
    key = CreatorService(repository).add("CourtCraft", "courtcraft").api_key
    created = call("POST", "/api/discounts", key, {"code": "craft10", "kind": "percent", "value": 10})
    assert created.status == 201, created.body
    assert created.json()["code"] == "CRAFT10"
    assert created.json()["creatorIds"] == ["courtcraft"]
    assert_error(
        call("POST", "/api/discounts", key, {"code": "CRAFT10", "kind": "percent", "value": 5}),
        409,
        "discount_exists",
    )
    assert_error(
        call(
            "POST",
            "/api/discounts",
            key,
            {"code": "STEAL", "kind": "percent", "value": 5, "productIds": ["aero"]},
        ),
        403,
        "not_owner",
    )
    assert_error(
        call("POST", "/api/discounts", key, {"code": "BAD", "kind": "percent", "value": 500}),
        422,
        "validation_error",
    )
    admin = call(
        "POST", "/api/discounts", ADMIN_KEY, {"code": "ALL5", "kind": "percent", "value": 5, "maxUses": 100}
    )
    assert admin.status == 201
    assert admin.json()["creatorId"] is None
    assert [item["code"] for item in call("GET", "/api/discounts", key).json()["items"]] == ["CRAFT10"]
    assert {item["code"] for item in call("GET", "/api/discounts", ADMIN_KEY).json()["items"]} == {
        "CRAFT10",
        "ALL5",
    }
    shopper = open_cart()["shopperToken"]
    assert_error(call("GET", "/api/discounts", shopper), 403, "not_an_issuer")
    assert_error(
        call("POST", "/api/discounts", None, {"code": "ANON", "kind": "percent", "value": 5}),
        401,
        "missing_credentials",
    )


@pytest.mark.parametrize("quantity", [True, "2", 1.5, 2.0, 0, -1, 100, 10**30, None])
def test_a_quantity_is_a_whole_number_from_1_to_99(
    products: None, repository: Repository, table: Any, quantity: Any
) -> None:
    cart = open_cart()
    token = cart["shopperToken"]
    lines = f"/api/carts/{cart['id']}/lines"
    call("POST", lines, token, {"productId": "grip"})
    new_chat(repository, cart["userId"], "chs_q")
    before = table_snapshot(table)
    for method, path, body in (
        ("POST", lines, {"productId": "aero", "quantity": quantity}),
        ("PUT", f"{lines}/grip", {"quantity": quantity}),
        ("POST", "/api/chat/checkout", {"sessionId": "chs_q", "productId": "aero", "quantity": quantity}),
    ):
        refused = call(method, path, token, body)
        assert_error(refused, 422, "validation_error")
        assert refused.json()["error"]["details"][0]["location"][-1] == "quantity"
    assert table_snapshot(table) == before


def test_a_cart_is_changed_by_its_shopper_and_the_admin_only(products: None, repository: Repository) -> None:
    cart = open_cart()
    token = cart["shopperToken"]
    lines = f"/api/carts/{cart['id']}/lines"
    call("POST", lines, token, {"productId": "aero"})
    other = open_cart()["shopperToken"]
    for key in (other, None):
        assert_error(call("POST", lines, key, {"productId": "grip"}), 404, "cart_not_found")
        assert_error(call("PUT", f"{lines}/aero", key, {"quantity": 2}), 404, "cart_not_found")
        assert_error(call("DELETE", f"{lines}/aero", key), 404, "cart_not_found")
    assert call("PUT", f"{lines}/aero", ADMIN_KEY, {"quantity": 2}).json()["lines"][0]["quantity"] == 2
    assert call("GET", f"/api/carts/{cart['id']}", token).json()["lines"][0]["quantity"] == 2

    for_ana = call("POST", "/api/carts", ADMIN_KEY, {"userId": cart["userId"]})
    assert for_ana.status == 201
    assert call("GET", f"/api/carts/{for_ana.json()['id']}", token).status == 200
    assert_error(call("POST", "/api/carts", ADMIN_KEY, {"userId": "nobody"}), 404, "shopper_not_found")
    assert_error(call("POST", "/api/carts", ADMIN_KEY, {}), 422, "user_required")
    assert_error(call("POST", "/api/carts", other, {"userId": cart["userId"]}), 403, "not_owner")


def test_only_active_products_in_stock_go_into_a_cart(products: None, repository: Repository) -> None:
    add_product(repository, "sold-out", stock=0)
    draft = add_product(repository, "draft-racket")
    CatalogService(repository).replace_product(
        "draft-racket",
        ProductInput(**draft.model_dump(include=set(ProductInput.model_fields)) | {"status": "draft"}),
        ADMIN,
        None,
    )
    cart = open_cart()
    token = cart["shopperToken"]
    lines = f"/api/carts/{cart['id']}/lines"
    assert_error(call("POST", lines, token, {"productId": "sold-out"}), 409, "out_of_stock")
    assert_error(call("POST", lines, token, {"productId": "draft-racket"}), 404, "product_not_found")
    add_product(repository, "balls", price=500, stock=500)
    assert call("POST", lines, token, {"productId": "balls", "quantity": 60}).status == 200
    assert_error(
        call("POST", lines, token, {"productId": "balls", "quantity": 40}), 422, "quantity_too_large"
    )


def test_an_ordered_cart_is_neither_changed_nor_checked_out_again(
    products: None, repository: Repository
) -> None:
    cart = open_cart()
    token = cart["shopperToken"]
    lines = f"/api/carts/{cart['id']}/lines"
    call("POST", lines, token, {"productId": "aero"})
    body = {"cartId": cart["id"], "paymentToken": "spt_test_ok"}
    assert call("POST", "/api/checkout", token, body).status == 201
    assert_error(call("POST", "/api/checkout", token, body), 409, "cart_closed")
    assert_error(call("PUT", f"{lines}/aero", token, {"quantity": 2}), 409, "cart_closed")
    assert_error(call("DELETE", f"{lines}/aero", token), 409, "cart_closed")
    assert stock_of(repository, "aero") == 4
    assert len(call("GET", "/api/orders", token).json()["items"]) == 1


def test_orders_are_listed_newest_first_a_page_at_a_time(products: None, repository: Repository) -> None:
    cart = open_cart()
    token, user_id = cart["shopperToken"], cart["userId"]
    placed: list[str] = []
    for _ in range(3):
        cart_id = cart["id"] if not placed else call("POST", "/api/carts", token, {}).json()["id"]
        call("POST", f"/api/carts/{cart_id}/lines", token, {"productId": "grip"})
        order = call("POST", "/api/checkout", token, {"cartId": cart_id, "paymentToken": "spt_test_ok"})
        placed.append(order.json()["id"])
    first = call("GET", "/api/orders", token, query="limit=2").json()
    assert [item["id"] for item in first["items"]] == placed[:0:-1]
    second = call(
        "GET", "/api/orders", ADMIN_KEY, query=f"user={user_id}&limit=2&cursor={first['nextCursor']}"
    )
    assert [item["id"] for item in second.json()["items"]] == placed[:1]
    assert second.json()["nextCursor"] is None
    # A cursor is bound to its listing: another shopper's is refused, not followed.
    other = open_cart()["shopperToken"]
    assert_error(
        call("GET", "/api/orders", other, query=f"cursor={first['nextCursor']}"), 400, "invalid_cursor"
    )


def test_discount_numbers_are_whole_numbers(products: None) -> None:
    for field, value in (
        ("value", True),
        ("value", "10"),
        ("value", 10.5),
        ("maxUses", "5"),
        ("maxUses", True),
    ):
        body = {"code": "W10", "kind": "percent", "value": 10} | {field: value}
        assert_error(call("POST", "/api/discounts", ADMIN_KEY, body), 422, "validation_error")
