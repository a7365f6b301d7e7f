"""The storefront through the web function on moto: browsing by category and page, and Buy now."""

from __future__ import annotations

import re
from typing import Any

import pytest

from talkshop.auth import ADMIN
from talkshop.catalog.creators import CreatorService
from talkshop.catalog.model import Image, ProductInput, ProductStatus
from talkshop.catalog.service import CatalogService
from talkshop.data.repository import Repository
from tests.conftest import table_snapshot
from tests.integration.web_pages import error_code, get_page, post_form, shopper_token_set_by, text


def add(
    repository: Repository,
    product_id: str,
    category: str,
    *,
    name: str | None = None,
    stock: int = 10,
    status: ProductStatus = ProductStatus.ACTIVE,
) -> None:
    creators = CreatorService(repository)
    if creators.get("padelnest") is None:
        creators.add("Padel Nest", "padelnest")
    CatalogService(repository).create_product(
        ProductInput(
            id=product_id,
            name=name or product_id.replace("-", " ").title(),
            brand="Acme",
            category=category,
            creator_id="padelnest",
            price=1990,
            currency="EUR",
            stock=stock,
            rating=4.4,
            images=[Image(url=f"/static/products/{product_id}.svg", alt=f"The {product_id}")],
            status=status,
        ),
        ADMIN,
    )


def card_names(html: str) -> list[str]:
    return re.findall(r"<h3>([^<]+)</h3>", html)


@pytest.fixture
def shop(repository: Repository) -> None:
    add(repository, "aero-lite", "padel-rackets")
    add(repository, "grip-pack", "grips-overgrips", stock=0)
    add(repository, "hidden-draft", "padel-bags", status=ProductStatus.DRAFT)


@pytest.mark.usefixtures("shop")
def test_the_store_lists_what_is_for_sale_with_category_chips() -> None:
    page = get_page("/store")
    html = text(page)
    assert page.status == 200
    assert 'data-page="store"' in html
    assert card_names(html) == ["Aero Lite", "Grip Pack"]
    assert "€19.90" in html
    assert '<img src="/static/products/aero-lite.svg"' in html
    chips = re.findall(r'<a class="chip" href="([^"]+)"\s*(aria-current="true")?>([^<]+)</a>', html)
    assert chips == [
        ("/store", 'aria-current="true"', "All"),
        ("/store?category=grips-overgrips", "", "Grips overgrips"),
        ("/store?category=padel-rackets", "", "Padel rackets"),
    ]  # the draft's category has nothing for sale
    assert "Out of stock" in html
    assert re.search(r"<button[^>]*disabled>Buy now<span[^>]*>: Grip Pack", html)
    assert '<form method="post" action="/store/buy" class="buy-form">' in html
    assert '<a class="button" href="/products/aero-lite?from=store" data-details>View details' in html


@pytest.mark.usefixtures("shop")
def test_a_product_page_opened_from_the_store_buys_through_the_store() -> None:
    from_store = text(get_page("/products/aero-lite", query="from=store"))
    assert '<form method="post" action="/store/buy" class="buy-form">' in from_store
    assert 'data-page="store"' in from_store
    assert "/store/buy" not in text(get_page("/products/aero-lite"))  # no chat, no store: nothing to buy with


@pytest.mark.usefixtures("shop")
def test_a_category_chip_filters_the_products() -> None:
    html = text(get_page("/store", query="category=grips-overgrips"))
    assert card_names(html) == ["Grip Pack"]
    assert '<a class="chip" href="/store?category=grips-overgrips" aria-current="true">' in html
    assert '<h2 id="results-title">Grips overgrips</h2>' in html
    assert "Nothing found" in text(get_page("/store", query="category=padel-shoes"))
    refused = get_page("/store", query="category=%3Cscript%3E")
    assert (refused.status, error_code(text(refused))) == (422, "invalid_category")


def test_the_store_pages_through_a_long_list(repository: Repository) -> None:
    for index in range(14):
        add(repository, f"racket-{index:02d}", "padel-rackets")
    first = text(get_page("/store"))
    assert len(card_names(first)) == 12
    assert "First page" not in first
    next_href = re.search(r'<a class="button" href="([^"]+)" rel="next">Next page</a>', first)
    assert next_href
    path, query = next_href.group(1).replace("&amp;", "&").split("?")
    second = text(get_page(path, query=query))
    assert len(card_names(second)) == 2
    assert not set(card_names(first)) & set(card_names(second))
    assert '<a class="button" href="/store">First page</a>' in second
    assert "Next page" not in second


def test_product_text_is_escaped(repository: Repository) -> None:
    add(repository, "xss", "padel-rackets", name='<script>alert("x")</script>')
    html = text(get_page("/store"))
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html


@pytest.mark.usefixtures("shop")
def test_buy_now_refuses_what_cannot_be_bought(table: Any) -> None:
    before = table_snapshot(table)
    for fields, status, code in (
        ({"productId": "nope"}, 404, "product_not_found"),
        ({"productId": "hidden-draft"}, 404, "product_not_found"),
        ({"productId": "<b>"}, 422, "invalid_product_id"),
        ({"productId": "aero-lite", "quantity": "0"}, 422, "invalid_quantity"),
    ):
        refused = post_form("/store/buy", fields)
        assert (refused.status, error_code(text(refused))) == (status, code), fields
        assert "Set-Cookie" not in refused.headers
    assert table_snapshot(table) == before


@pytest.mark.usefixtures("shop")
def test_buy_now_with_a_quantity_fills_the_cart() -> None:
    bought = post_form("/store/buy", {"productId": "aero-lite", "quantity": "3"})
    assert bought.status == 303
    token = shopper_token_set_by(bought)
    html = text(get_page(bought.headers["Location"], token))
    assert 'name="quantity" value="3"' in html
    assert "data-total>€59.70<" in html  # 3 at €19.90, free shipping from €50
