"""The catalog routes through their real Lambda handlers on moto DynamoDB, as API Gateway calls them."""

from __future__ import annotations

import json
from typing import Any

import pytest

from talkshop.catalog.creators import CreatorService
from talkshop.data.repository import Repository
from talkshop.local.apigateway import LocalLambdaContext, match_route, proxy_event
from talkshop.local.invoke import handler_for, invoke
from tests.conftest import ADMIN_KEY, table_snapshot
from tests.integration.http import assert_error, call


def racket(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "Aero Lite",
        "brand": "Vantaro",
        "category": "padel-rackets",
        "creator_id": "padelnest",
        "description": "A light round racket.",
        "price": 8995,
        "currency": "EUR",
        "stock": 12,
        "rating": 4.5,
        "reviews": [{"author": "Ana", "stars": 5, "text": "Great control", "date": "2026-03-01"}],
        "attributes": {"weight_g": 345, "shape": "round"},
        "images": [{"url": "/static/products/aero-lite.svg", "alt": "Blue round racket"}],
        "ai_best_for": ["beginners"],
        "ai_keywords": ["beginner-friendly", "control"],
    }
    body.update(overrides)
    return body


@pytest.fixture
def keys(repository: Repository) -> dict[str, str]:
    creators = CreatorService(repository)
    return {
        "padelnest": creators.add("PadelNest", "padelnest").api_key,
        "courtcraft": creators.add("CourtCraft", "courtcraft").api_key,
    }


def test_creator_creates_reads_updates_and_deletes_a_product(keys: dict[str, str]) -> None:
    created = call("POST", "/api/products", keys["padelnest"], racket(id="aero-lite"))
    assert created.status == 201, created.body
    product = created.json()
    assert product["id"] == "aero-lite"
    assert product["version"] == 1
    assert created.headers["ETag"] == '"1"'
    assert created.headers["Location"] == "/api/products/aero-lite"

    fetched = call("GET", "/api/products/aero-lite")
    assert fetched.status == 200
    assert fetched.json()["price"] == 8995
    assert fetched.json()["reviews"][0]["date"] == "2026-03-01"

    updated = call(
        "PUT", "/api/products/aero-lite", keys["padelnest"], racket(price=7995), headers={"If-Match": '"1"'}
    )
    assert updated.status == 200, updated.body
    assert updated.json()["version"] == 2
    assert updated.json()["price"] == 7995

    deleted = call("DELETE", "/api/products/aero-lite", keys["padelnest"])
    assert deleted.status == 204
    assert_error(call("GET", "/api/products/aero-lite"), 404, "product_not_found")


def test_generated_ids_when_none_given(keys: dict[str, str]) -> None:
    created = call("POST", "/api/products", keys["padelnest"], racket())
    assert created.status == 201
    assert created.json()["id"].startswith("prd_")


def test_admin_acts_for_any_creator(keys: dict[str, str]) -> None:
    created = call("POST", "/api/products", ADMIN_KEY, racket(creator_id="courtcraft", id="cc-1"))
    assert created.status == 201
    assert created.json()["creator_id"] == "courtcraft"


@pytest.mark.parametrize(
    ("raw", "body", "status", "code"),
    [
        (b'{"name": "broken', None, 400, "invalid_json"),
        (None, racket(colour_of_box="red"), 422, "unknown_fields"),
        (None, racket(price=-1), 422, "validation_error"),
        (None, racket(currency="EURO"), 422, "validation_error"),
        (None, racket(rating=7), 422, "validation_error"),
        (None, racket(creator_id="courtcraft"), 403, "not_owner"),
        (None, racket(ai_similar_products=["does-not-exist"]), 422, "unknown_product_reference"),
    ],
)
def test_bad_create_requests_are_refused_and_change_nothing(
    keys: dict[str, str], table: Any, raw: bytes | None, body: Any, status: int, code: str
) -> None:
    before = table_snapshot(table)
    assert_error(call("POST", "/api/products", keys["padelnest"], body, raw=raw), status, code)
    assert table_snapshot(table) == before


def test_writes_need_a_valid_key(keys: dict[str, str], table: Any) -> None:
    before = table_snapshot(table)
    assert_error(call("POST", "/api/products", None, racket()), 401, "missing_credentials")
    assert_error(call("POST", "/api/products", "tsk_not-a-key", racket()), 401, "invalid_credentials")
    assert_error(
        call("POST", "/api/products", None, racket(), headers={"Authorization": "Basic abc"}),
        401,
        "malformed_credentials",
    )
    assert table_snapshot(table) == before


def test_another_creators_product_cannot_be_changed(keys: dict[str, str], table: Any) -> None:
    assert call("POST", "/api/products", keys["padelnest"], racket(id="aero-lite")).status == 201
    before = table_snapshot(table)
    assert_error(
        call("PUT", "/api/products/aero-lite", keys["courtcraft"], racket(price=1)), 403, "not_owner"
    )
    assert_error(call("DELETE", "/api/products/aero-lite", keys["courtcraft"]), 403, "not_owner")
    assert table_snapshot(table) == before


def test_missing_product_and_stale_version(keys: dict[str, str], table: Any) -> None:
    assert_error(call("GET", "/api/products/nope"), 404, "product_not_found")
    assert_error(call("PUT", "/api/products/nope", keys["padelnest"], racket()), 404, "product_not_found")
    assert_error(call("DELETE", "/api/products/nope", keys["padelnest"]), 404, "product_not_found")
    assert call("POST", "/api/products", keys["padelnest"], racket(id="aero-lite")).status == 201
    before = table_snapshot(table)
    assert_error(
        call(
            "PUT", "/api/products/aero-lite", keys["padelnest"], racket(price=1), headers={"If-Match": '"7"'}
        ),
        412,
        "version_mismatch",
    )
    assert_error(
        call("PUT", "/api/products/aero-lite", keys["padelnest"], racket(id="other")), 422, "id_mismatch"
    )
    assert_error(
        call("POST", "/api/products", keys["padelnest"], racket(id="aero-lite")), 409, "product_exists"
    )
    assert table_snapshot(table) == before


def test_invalid_path_id_and_unknown_route(keys: dict[str, str]) -> None:
    assert_error(call("GET", "/api/products/bad%23id"), 422, "validation_error")
    assert_error(call("GET", "/api/nothing-here"), 404, "route_not_found")
    assert_error(call("PATCH", "/api/products/x"), 405, "method_not_allowed")


def test_listing_filters_and_pages(keys: dict[str, str]) -> None:
    for number in range(7):
        body = racket(
            id=f"r{number}",
            name=f"Racket {number}",
            price=5000 + number * 1000,
            stock=0 if number == 3 else 5,
        )
        assert call("POST", "/api/products", keys["padelnest"], body).status == 201
    ball = racket(
        id="ball-1",
        name="Pro Balls",
        category="padel-balls",
        creator_id="courtcraft",
        price=599,
        ai_keywords=["pressurised"],
    )
    assert call("POST", "/api/products", keys["courtcraft"], ball).status == 201
    draft = racket(id="draft-1", status="draft")
    assert call("POST", "/api/products", keys["padelnest"], draft).status == 201

    def ids(query: str) -> list[str]:
        result = call("GET", "/api/products", query=query)
        assert result.status == 200, result.body
        return [item["id"] for item in result.json()["items"]]

    assert ids("category=padel-balls") == ["ball-1"]
    assert ids("creator=courtcraft") == ["ball-1"]
    assert ids("min_price=7000&max_price=9000") == ["r2", "r3", "r4"]
    assert "r3" not in ids("in_stock=true&creator=padelnest")
    assert ids("q=PRO%20balls") == ["ball-1"]
    assert "draft-1" not in ids("limit=100")

    seen: list[str] = []
    cursor = ""
    while True:
        page = call("GET", "/api/products", query=f"limit=3&creator=padelnest{cursor}").json()
        seen += [item["id"] for item in page["items"]]
        if not page["next_cursor"]:
            break
        cursor = f"&cursor={page['next_cursor']}"
    assert seen == [f"r{number}" for number in range(7)]

    first = call("GET", "/api/products", query="limit=2").json()
    reused = call("GET", "/api/products", query=f"limit=2&category=padel-balls&cursor={first['next_cursor']}")
    assert_error(reused, 400, "invalid_cursor")
    assert_error(call("GET", "/api/products", query="cursor=garbage"), 400, "invalid_cursor")
    assert_error(call("GET", "/api/products", query="min_price=10&max_price=5"), 422, "invalid_price_range")
    assert_error(call("GET", "/api/products", query="limit=0"), 422, "validation_error")
    assert_error(call("GET", "/api/products", query="status=draft"), 403, "status_not_visible")
    own_drafts = call("GET", "/api/products", keys["padelnest"], query="status=draft&creator=padelnest")
    assert [item["id"] for item in own_drafts.json()["items"]] == ["draft-1"]


def test_cors_preflight_and_response_headers(keys: dict[str, str]) -> None:
    preflight = invoke("OPTIONS", "/api/products/aero-lite", headers={"Origin": "https://shop.example"})
    assert preflight.status == 204
    assert set(preflight.headers["Access-Control-Allow-Methods"].split(",")) == {
        "GET",
        "PUT",
        "DELETE",
        "OPTIONS",
    }
    assert "Authorization" in preflight.headers["Access-Control-Allow-Headers"]
    listed = call("GET", "/api/products", headers={"Origin": "https://shop.example"})
    assert listed.headers["Access-Control-Allow-Origin"] == "*"
    assert "ETag" in listed.headers["Access-Control-Expose-Headers"]


def test_bodies_must_be_json(keys: dict[str, str], table: Any) -> None:
    before = table_snapshot(table)
    form = call(
        "POST",
        "/api/products",
        keys["padelnest"],
        raw=b"name=x&price=1",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert_error(form, 415, "unsupported_media_type")
    text = call(
        "POST", "/api/products", keys["padelnest"], raw=b"hello", headers={"Content-Type": "text/plain"}
    )
    assert_error(text, 415, "unsupported_media_type")
    with_charset = call(
        "POST",
        "/api/products",
        keys["padelnest"],
        racket(),
        headers={"Content-Type": "application/json; charset=utf-8"},
    )
    assert with_charset.status == 201
    assert len(table_snapshot(table)) > len(before)


def test_another_creators_draft_is_missing_not_forbidden(keys: dict[str, str]) -> None:
    assert call("POST", "/api/products", keys["padelnest"], racket(id="secret", status="draft")).status == 201
    assert_error(call("PUT", "/api/products/secret", keys["courtcraft"], racket()), 404, "product_not_found")
    assert_error(call("DELETE", "/api/products/secret", keys["courtcraft"]), 404, "product_not_found")
    assert_error(call("DELETE", "/api/products/secret"), 401, "missing_credentials")
    assert call("DELETE", "/api/products/secret", keys["padelnest"]).status == 204


def test_links_to_a_deleted_product_do_not_block_later_updates(keys: dict[str, str]) -> None:
    assert call("POST", "/api/products", keys["padelnest"], racket(id="old-grip")).status == 201
    linked = racket(id="linker", ai_often_bought_with=["old-grip"])
    assert call("POST", "/api/products", keys["padelnest"], linked).status == 201
    assert call("DELETE", "/api/products/old-grip", keys["padelnest"]).status == 204
    kept = call("PUT", "/api/products/linker", keys["padelnest"], {**linked, "price": 100})
    assert kept.status == 200, kept.body
    added = call(
        "PUT", "/api/products/linker", keys["padelnest"], {**linked, "ai_similar_products": ["never-was"]}
    )
    assert_error(added, 422, "unknown_product_reference")


def test_location_keeps_the_stage_of_the_request(keys: dict[str, str]) -> None:
    match = match_route("POST", "/api/products")
    assert match is not None
    event = proxy_event(
        "POST",
        "/api/products",
        match,
        headers={"Authorization": f"Bearer {keys['padelnest']}"},
        body=json.dumps(racket(id="staged")).encode(),
    )
    event["requestContext"]["path"] = "/prod/api/products"
    response = handler_for(match.route.function)(event, LocalLambdaContext("catalog_write", 10))
    assert response["statusCode"] == 201
    assert response["multiValueHeaders"]["Location"] == ["/prod/api/products/staged"]
