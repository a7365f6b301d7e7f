"""The demo catalog shipped in the talkshop package is valid, complete and internally consistent."""

from __future__ import annotations

import json
from collections import Counter
from decimal import ROUND_HALF_UP, Decimal
from importlib.resources import files
from typing import Any

import pytest
from pydantic import ValidationError

from talkshop.catalog.model import ProductInput

REQUIRED_CATEGORIES = frozenset(
    {
        "padel-rackets",
        "padel-balls",
        "grips-overgrips",
        "padel-shoes",
        "padel-bags",
        "padel-lessons",
        "coffee-gear",
    }
)
COFFEE = "coffee-gear"
RACKETS = "padel-rackets"
MIN_PRODUCTS = 80
MIN_PER_CATEGORY = 5
MIN_SOLD_OUT = 5


@pytest.fixture(scope="module")
def raw_catalog() -> list[dict[str, Any]]:
    resource = files("talkshop") / "demo" / "catalog.json"
    data = json.loads(resource.read_text(encoding="utf-8"))
    assert isinstance(data, list), "the demo catalog must be a JSON array"
    return data


@pytest.fixture(scope="module")
def products(raw_catalog: list[dict[str, Any]]) -> list[ProductInput]:
    return [ProductInput.model_validate(item) for item in raw_catalog]


@pytest.fixture(scope="module")
def by_id(products: list[ProductInput]) -> dict[str, ProductInput]:
    return {p.id: p for p in products if p.id is not None}


@pytest.fixture(scope="module")
def rackets(products: list[ProductInput]) -> list[ProductInput]:
    return [p for p in products if p.category == RACKETS]


def relations(product: ProductInput) -> dict[str, list[str]]:
    return {
        "ai_similar_products": product.ai_similar_products,
        "ai_often_bought_with": product.ai_often_bought_with,
        "ai_upgrade_from": product.ai_upgrade_from,
        "ai_upgrade_to": product.ai_upgrade_to,
    }


def rounded_mean(stars: list[int]) -> Decimal:
    mean = Decimal(sum(stars)) / Decimal(len(stars))
    return mean.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def test_every_object_validates_as_product_input(raw_catalog: list[dict[str, Any]]) -> None:
    errors = {}
    for index, item in enumerate(raw_catalog):
        try:
            ProductInput.model_validate(item)
        except ValidationError as exc:
            errors[item.get("id", f"#{index}")] = str(exc)
    assert not errors


def test_every_product_has_an_id_and_ids_are_unique(products: list[ProductInput]) -> None:
    ids = [p.id for p in products]
    assert None not in ids
    duplicates = sorted(str(i) for i, n in Counter(ids).items() if n > 1)
    assert not duplicates


def test_catalog_size(products: list[ProductInput]) -> None:
    assert len(products) >= MIN_PRODUCTS


def test_at_least_three_creators(products: list[ProductInput]) -> None:
    assert len({p.creator_id for p in products}) >= 3


def test_categories_include_the_required_slugs(products: list[ProductInput]) -> None:
    categories = {p.category for p in products}
    assert len(categories) >= 5
    assert categories >= REQUIRED_CATEGORIES, sorted(REQUIRED_CATEGORIES - categories)


def test_each_category_has_enough_products(products: list[ProductInput]) -> None:
    counts = Counter(p.category for p in products)
    thin = {category: n for category, n in counts.items() if n < MIN_PER_CATEGORY}
    assert not thin


def test_rackets_cover_all_shapes_and_levels(rackets: list[ProductInput]) -> None:
    shapes = {r.attributes.get("shape") for r in rackets}
    levels = {r.attributes.get("level") for r in rackets}
    assert {"round", "teardrop", "diamond"} <= shapes
    assert {"beginner", "intermediate", "advanced", "pro"} <= levels


def test_rackets_span_light_to_heavy(rackets: list[ProductInput]) -> None:
    weights = [r.attributes.get("weight_g") for r in rackets]
    grams = [w for w in weights if isinstance(w, int) and not isinstance(w, bool)]
    assert len(grams) == len(weights), "every racket needs an integer weight_g"
    assert min(grams) <= 340
    assert max(grams) >= 375


def test_some_products_are_sold_out(products: list[ProductInput]) -> None:
    sold_out = [p.id for p in products if p.stock == 0]
    assert len(sold_out) >= MIN_SOLD_OUT


def test_reviews_count_and_rating_matches_their_mean(products: list[ProductInput]) -> None:
    wrong_count = [p.id for p in products if not 2 <= len(p.reviews) <= 5]
    assert not wrong_count
    mismatched = {}
    for p in products:
        expected = rounded_mean([r.stars for r in p.reviews])
        if p.rating is None or Decimal(str(p.rating)) != expected:
            mismatched[p.id] = (p.rating, float(expected))
    assert not mismatched


def test_relations_point_to_existing_other_products(
    products: list[ProductInput], by_id: dict[str, ProductInput]
) -> None:
    dangling = []
    self_links = []
    for p in products:
        for field, targets in relations(p).items():
            dangling += [(p.id, field, t) for t in targets if t not in by_id]
            self_links += [(p.id, field) for t in targets if t == p.id]
    assert not dangling
    assert not self_links


def test_upgrade_links_are_symmetric(products: list[ProductInput], by_id: dict[str, ProductInput]) -> None:
    asymmetric = []
    for p in products:
        asymmetric += [
            (p.id, "upgrade_to", t)
            for t in p.ai_upgrade_to
            if t in by_id and p.id not in by_id[t].ai_upgrade_from
        ]
        asymmetric += [
            (p.id, "upgrade_from", s)
            for s in p.ai_upgrade_from
            if s in by_id and p.id not in by_id[s].ai_upgrade_to
        ]
    assert not asymmetric


def test_coffee_links_stay_within_coffee(
    products: list[ProductInput], by_id: dict[str, ProductInput]
) -> None:
    crossing = []
    for p in products:
        for field, targets in relations(p).items():
            crossing += [
                (p.id, field, t)
                for t in targets
                if t in by_id and (by_id[t].category == COFFEE) != (p.category == COFFEE)
            ]
    assert not crossing


def test_all_prices_are_in_euro(products: list[ProductInput]) -> None:
    assert {p.currency for p in products} == {"EUR"}
