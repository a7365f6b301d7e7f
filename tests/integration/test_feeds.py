"""Product feeds for agents: ACP products.jsonl (validated against the spec's schema.feed.json) and
OpenAI's flat CSV, through the routes and `talkshop feed export`."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from talkshop import cli
from talkshop.auth import ADMIN
from talkshop.catalog.model import ProductInput, ProductStatus
from talkshop.data.repository import Repository
from tests.acp_support import assert_valid, stock_shop
from tests.integration.http import call


def shop_with_a_draft(repository: Repository) -> None:
    catalog = stock_shop(repository)
    draft = ProductInput(
        id="secret-racket",
        name="Secret Racket",
        brand="Vantaro",
        category="padel-rackets",
        creator_id="padelnest",
        price=19900,
        currency="EUR",
        stock=5,
        status=ProductStatus.DRAFT,
    )
    catalog.create_product(draft, ADMIN)


def jsonl_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines()]


def test_acp_feed_rows_follow_the_spec(repository: Repository) -> None:
    shop_with_a_draft(repository)
    answer = call("GET", "/api/feed/products.jsonl")
    assert answer.status == 200, answer.body
    assert answer.headers["Content-Type"].startswith("application/jsonl")
    products = jsonl_lines(answer.body.decode())
    for product in products:
        assert_valid(product, "Product", bundle="feed")
    # Active products only, in id order; one variant each, priced in minor units.
    assert [product["id"] for product in products] == ["aero-lite", "pro-balls", "tour-bag"]
    variants = {product["id"]: product["variants"][0] for product in products}
    assert variants["aero-lite"]["price"] == {"amount": 8995, "currency": "EUR"}
    assert variants["aero-lite"]["availability"] == {"available": True, "status": "in_stock"}
    assert variants["pro-balls"]["availability"] == {"available": True, "status": "limited_stock"}
    assert variants["tour-bag"]["availability"] == {"available": False, "status": "out_of_stock"}
    assert variants["aero-lite"]["seller"] == {"name": "PadelNest"}
    policies = {link["type"]: link["url"] for link in variants["aero-lite"]["marketplace"]["links"]}
    assert policies["privacy_policy"] == "http://127.0.0.1:8000/legal/privacy"
    assert set(policies) == {"privacy_policy", "terms_of_service", "refund_policy"}
    assert products[0]["media"][0]["url"] == "http://127.0.0.1:8000/static/products/aero-lite.svg"
    assert products[0]["url"] == "http://127.0.0.1:8000/api/products/aero-lite"


def test_openai_feed_is_a_flat_csv(repository: Repository) -> None:
    shop_with_a_draft(repository)
    answer = call("GET", "/api/feed/openai.csv")
    assert answer.status == 200, answer.body
    assert answer.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(answer.body.decode())))
    assert [row["item_id"] for row in rows] == ["aero-lite", "pro-balls", "tour-bag"]
    racket = rows[0]
    assert racket["price"] == "89.95 EUR"
    assert racket["availability"] == "in_stock"
    assert racket["inventory_quantity"] == "10"
    assert racket["brand"] == "Vantaro"
    assert racket["seller_name"] == "PadelNest"
    assert racket["image_url"] == "http://127.0.0.1:8000/static/products/aero-lite.svg"
    assert (racket["is_eligible_search"], racket["is_eligible_checkout"]) == ("true", "true")
    # What a product eligible for checkout must carry: the shop's policies.
    assert racket["seller_privacy_policy"] == "http://127.0.0.1:8000/legal/privacy"
    assert racket["seller_tos"] == "http://127.0.0.1:8000/legal/terms"
    assert racket["return_policy"] == "http://127.0.0.1:8000/legal/returns"
    assert rows[2]["availability"] == "out_of_stock"


def test_feed_export_command_writes_the_same_feed(repository: Repository, tmp_path: Path) -> None:
    shop_with_a_draft(repository)
    output = tmp_path / "products.jsonl"
    assert cli.main(["feed", "export", "--format", "acp", "--aws", "--output", str(output)]) == 0
    assert output.read_text() == call("GET", "/api/feed/products.jsonl").body.decode()
    csv_output = tmp_path / "openai.csv"
    assert cli.main(["feed", "export", "--format", "openai", "--aws", "--output", str(csv_output)]) == 0
    assert csv_output.read_text().splitlines()[0].startswith("item_id,title,description,url,brand")
