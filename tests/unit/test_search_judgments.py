"""The search benchmark's judgments (bench/data/search-judgments.json) are well-formed and point at real
products of their catalogs (regenerate with `.venv/bin/python bench/make_judgments.py`)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from talkshop.catalog.model import ProductInput, ProductStatus

ROOT = Path(__file__).resolve().parents[2]
JUDGMENTS = ROOT / "bench" / "data" / "search-judgments.json"
KINDS = {"need", "price", "typo", "synonym", "attribute", "vague", "no-answer"}


@pytest.fixture(scope="module")
def judgments() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(JUDGMENTS.read_text())
    return loaded


@pytest.fixture(scope="module")
def catalogs(judgments: dict[str, Any]) -> dict[str, dict[str, ProductInput]]:
    loaded = {}
    for name, path in judgments["catalogs"].items():
        products = [ProductInput.model_validate(item) for item in json.loads((ROOT / path).read_text())]
        loaded[name] = {product.id: product for product in products if product.id is not None}
        assert len(loaded[name]) == len(products), f"{name}: products without an id or with a repeated one"
    return loaded


def test_enough_queries_of_every_kind_in_both_splits(judgments: dict[str, Any]) -> None:
    queries = judgments["queries"]
    assert len(queries) >= 60
    ids = [query["id"] for query in queries]
    assert len(ids) == len(set(ids))
    assert {query["kind"] for query in queries} == KINDS
    assert {query["split"] for query in queries} == {"dev", "test"}
    for catalog in judgments["catalogs"]:
        texts = [query["query"] for query in queries if query["catalog"] == catalog]
        assert len(texts) == len(set(texts)), f"{catalog}: a query is listed twice"
        kinds = Counter(query["kind"] for query in queries if query["catalog"] == catalog)
        assert set(kinds) == KINDS, f"{catalog} lacks kinds {KINDS - set(kinds)}"


def test_grades_point_at_active_products_of_the_querys_catalog(
    judgments: dict[str, Any], catalogs: dict[str, dict[str, ProductInput]]
) -> None:
    for query in judgments["queries"]:
        products = catalogs[query["catalog"]]
        grades = query["judgments"]
        assert set(grades) <= set(products), f"{query['id']}: unknown products {set(grades) - set(products)}"
        assert set(query["overrides"]) <= set(products), f"{query['id']}: override of an unknown product"
        assert all(isinstance(grade, int) and 1 <= grade <= 3 for grade in grades.values()), query["id"]
        assert all(products[pid].status == ProductStatus.ACTIVE for pid in grades), query["id"]
        assert query["query"].strip()
        assert query["rule"].strip()


def test_answerable_queries_have_a_good_answer_and_the_others_none(judgments: dict[str, Any]) -> None:
    for query in judgments["queries"]:
        best = max(query["judgments"].values(), default=0)
        if query["kind"] == "no-answer":
            assert best < 2, f"{query['id']} is a no-answer query with a good answer"
        else:
            assert best >= 2, f"{query['id']} has no product graded 2 or 3"


def test_the_public_extract_ships_with_its_licences() -> None:
    data = ROOT / "bench" / "data"
    assert (data / "magento-luma-LICENSE-OSL-3.0.txt").is_file()
    assert (data / "magento-luma-LICENSE-AFL-3.0.txt").is_file()
