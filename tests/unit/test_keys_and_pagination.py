"""Key shapes, opaque cursors and the Decimal conversions of the data layer, without a table."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from talkshop.data import keys
from talkshop.data.pagination import InvalidCursor, decode_cursor, encode_cursor
from talkshop.data.serialization import from_dynamo, to_dynamo
from talkshop.ontology.model import ConnectionType, Dimension, EntityRef

LATE_EVENING = datetime(2026, 11, 24, 23, 59, 59, 999_000, tzinfo=UTC)


@pytest.mark.parametrize(
    ("dimension", "entity_type", "entity_id", "expected"),
    [
        (Dimension.GROUP, "business", "business-padelnest", "GROUP#business#business-padelnest"),
        (Dimension.PERSON, "creator", "padelnest", "PERSON#creator#padelnest"),
        (Dimension.THING, "product", "prd_0a1b:v2.x-y", "THING#product#prd_0a1b:v2.x-y"),
    ],
)
def test_entity_keys_round_trip(
    dimension: Dimension, entity_type: str, entity_id: str, expected: str
) -> None:
    ref = EntityRef(dimension=dimension, type=entity_type, id=entity_id)
    key = keys.entity_key(ref)
    assert key == expected
    parsed = keys.parse_entity_key(key)
    assert parsed == ref
    assert parsed.dimension is dimension


@pytest.mark.parametrize("dimension", [Dimension.CONNECTION, Dimension.EVENT, Dimension.KNOWLEDGE])
def test_only_stored_dimensions_have_entity_keys(dimension: Dimension) -> None:
    with pytest.raises(ValueError, match="not entities"):
        keys.entity_key(EntityRef(dimension=dimension, type="x", id="y"))


def test_connection_sort_key_ends_with_the_other_ends_entity_key() -> None:
    target = EntityRef(dimension=Dimension.PERSON, type="creator", id="padelnest")
    sort_key = keys.connection_sort_key(ConnectionType.OWNED_BY, target)
    prefix = keys.connection_prefix(ConnectionType.OWNED_BY)
    assert sort_key.startswith(prefix)
    assert keys.parse_entity_key(sort_key[len(prefix) :]) == target


def test_high_volume_types_are_bucketed_by_day_and_products_are_not() -> None:
    session = keys.type_partition(Dimension.THING, "conversation_session", LATE_EVENING)
    next_day = keys.type_partition(
        Dimension.THING, "conversation_session", datetime(2026, 11, 25, 0, 0, tzinfo=UTC)
    )
    assert session == "TYPE#thing#conversation_session#2026-11-24"
    assert next_day == "TYPE#thing#conversation_session#2026-11-25"
    product = keys.type_partition(Dimension.THING, "product", LATE_EVENING)
    assert product == "TYPE#thing#product"
    assert product == keys.type_partition(Dimension.THING, "product", datetime(2020, 1, 1, tzinfo=UTC))


def test_time_sort_keys_sort_in_time_order() -> None:
    earlier = keys.time_sort_key(datetime(2026, 1, 2, 9, 0, tzinfo=UTC), "zzz")
    later = keys.time_sort_key(datetime(2026, 1, 2, 10, 0, tzinfo=UTC), "aaa")
    assert earlier < later


POSITION = {"PK": "THING#product#r1", "SK": "#ENTITY", "GSI1PK": "TYPE#thing#product", "GSI1SK": "t#r1"}
IDENTITY = "GSI1|TYPE#thing#product|False|None|padelnest"


def test_cursor_round_trip() -> None:
    cursor = encode_cursor(POSITION, IDENTITY)
    assert "=" not in cursor  # padding stripped: safe in a query string as is
    assert base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))  # url-safe alphabet
    assert decode_cursor(cursor, IDENTITY) == POSITION


def test_cursor_from_another_query_is_refused() -> None:
    cursor = encode_cursor(POSITION, IDENTITY)
    with pytest.raises(InvalidCursor, match="different query"):
        decode_cursor(cursor, IDENTITY + "|category=padel-balls")


def _raw_cursor(payload: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage",
        "!!!not base64!!!",
        "ñandú",
        "",
        _raw_cursor([1, 2, 3]),
        _raw_cursor("just a string"),
        _raw_cursor({"k": POSITION}),  # no fingerprint
        _raw_cursor({"q": "abc"}),  # no position
        _raw_cursor({"k": ["PK"], "q": "abc"}),
        _raw_cursor({"k": {"PK": 1}, "q": "abc"}),
        base64.urlsafe_b64encode(b"\xff\xfe\x00binary").decode(),
    ],
)
def test_garbage_cursors_are_refused(cursor: str) -> None:
    with pytest.raises(InvalidCursor):
        decode_cursor(cursor, IDENTITY)


def test_tampered_cursors_are_refused() -> None:
    cursor = encode_cursor(POSITION, IDENTITY)
    truncated = cursor[: len(cursor) // 2]
    with pytest.raises(InvalidCursor):
        decode_cursor(truncated, IDENTITY)
    # A fingerprint edited by hand matches no query of this API.
    payload = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    payload["q"] = "0" * 16
    with pytest.raises(InvalidCursor, match="different query"):
        decode_cursor(_raw_cursor(payload), IDENTITY)


def test_to_dynamo_turns_floats_into_decimals_and_keeps_the_rest() -> None:
    value = {"price": 8995, "rating": 4.5, "tags": ["a", 1, 2.25], "nested": {"x": [{"y": 0.1}]}, "n": None}
    stored = to_dynamo(value)
    assert stored["price"] == 8995
    assert type(stored["price"]) is int
    assert stored["rating"] == Decimal("4.5")
    assert stored["tags"] == ["a", 1, Decimal("2.25")]
    assert stored["nested"]["x"][0]["y"] == Decimal("0.1")
    assert stored["n"] is None
    assert not _contains_float(stored)


def _contains_float(value: Any) -> bool:
    if isinstance(value, float):
        return True
    if isinstance(value, dict):
        return any(_contains_float(item) for item in value.values())
    if isinstance(value, list):
        return any(_contains_float(item) for item in value)
    return False


def test_from_dynamo_round_trips_ints_floats_and_nesting() -> None:
    value = {
        "price": 8995,
        "rating": 4.5,
        "small": 0.1,
        "negative": -12,
        "flag": True,
        "text": "4.5",
        "list": [1, 2.25, ["deep", 3]],
        "map": {"weight_g": 345, "ratio": 0.75, "inner": {"k": [7]}},
    }
    back = from_dynamo(to_dynamo(value))
    assert back == value
    assert type(back["price"]) is int
    assert type(back["negative"]) is int
    assert type(back["rating"]) is float
    assert type(back["small"]) is float
    assert back["flag"] is True
    assert back["text"] == "4.5"
    assert type(back["list"][0]) is int
    assert type(back["list"][1]) is float
    assert type(back["map"]["weight_g"]) is int
    assert type(back["map"]["ratio"]) is float
    # What boto3 hands back: Decimals everywhere, including whole numbers.
    assert from_dynamo({"a": Decimal("3"), "b": [Decimal("2.5")]}) == {"a": 3, "b": [2.5]}
    assert type(from_dynamo(Decimal("3"))) is int


def test_whole_valued_floats_stay_floats() -> None:
    back = from_dynamo(to_dynamo({"weight_kg": 1.0, "rating": 4.0}))
    assert type(back["weight_kg"]) is float
    assert type(back["rating"]) is float
