"""Conversions between JSON-compatible Python values and what DynamoDB stores (Decimal numbers)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any


def to_dynamo(value: Any) -> Any:
    """Floats become Decimals (DynamoDB rejects floats); everything else passes through."""
    return json.loads(json.dumps(value), parse_float=Decimal)


def from_dynamo(value: Any) -> Any:
    """Decimals become int or float again, recursively."""
    if isinstance(value, Decimal):
        # A whole number written without a fraction is an int; 1.0 stays a float.
        exponent = value.as_tuple().exponent
        return int(value) if isinstance(exponent, int) and exponent >= 0 else float(value)
    if isinstance(value, dict):
        return {key: from_dynamo(item) for key, item in value.items()}
    if isinstance(value, list):
        return [from_dynamo(item) for item in value]
    return value
