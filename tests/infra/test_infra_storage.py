"""The table matches talkshop.data.schema and is protected (PITR, deletion protection, retained)."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk.assertions import Match, Template

from talkshop.data import schema

pytestmark = pytest.mark.slow


def _table(template: Template) -> dict[str, Any]:
    """The ontology table (the idempotency table's tests are in test_infra_commerce.py)."""
    tables = template.find_resources("AWS::DynamoDB::Table")
    assert len(tables) == 2, "the ontology table and the idempotency table"
    (table,) = [table for logical_id, table in tables.items() if logical_id.startswith("StorageTable")]
    properties: dict[str, Any] = table["Properties"]
    return properties


def test_primary_key_is_pk_and_sk(template: Template) -> None:
    assert _table(template)["KeySchema"] == [
        {"AttributeName": schema.PARTITION_KEY, "KeyType": "HASH"},
        {"AttributeName": schema.SORT_KEY, "KeyType": "RANGE"},
    ]


def test_every_key_attribute_is_a_string(template: Template) -> None:
    definitions = _table(template)["AttributeDefinitions"]
    names = schema.key_attribute_names()
    assert {d["AttributeName"]: d["AttributeType"] for d in definitions} == dict.fromkeys(names, "S")
    assert len(definitions) == len(schema.key_attribute_names())


def test_global_secondary_indexes_match_the_schema(template: Template) -> None:
    indexes = _table(template)["GlobalSecondaryIndexes"]
    assert len(schema.INDEXES) == 6
    assert [index["IndexName"] for index in indexes] == [index.name for index in schema.INDEXES]
    for spec, index in zip(schema.INDEXES, indexes, strict=True):
        assert index["KeySchema"] == [
            {"AttributeName": spec.partition_key, "KeyType": "HASH"},
            {"AttributeName": spec.sort_key, "KeyType": "RANGE"},
        ], spec.name
        assert index["Projection"] == {"ProjectionType": "ALL"}, spec.name


def test_table_is_on_demand_with_pitr_and_stream(template: Template) -> None:
    table = _table(template)
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert table["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert table["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}


def test_table_is_protected_from_deletion(template: Template) -> None:
    template.has_resource(
        "AWS::DynamoDB::Table",
        {
            "Properties": Match.object_like({"DeletionProtectionEnabled": True}),
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
        },
    )
