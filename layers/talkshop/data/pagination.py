"""Opaque cursors over DynamoDB query positions.

A cursor is the position after the last item returned, bound to the query it came from: reusing it
with other filters or another listing is a clear 400, never a silent jump into another result set.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from talkshop.errors import TalkshopError


class InvalidCursor(TalkshopError):
    status = 400
    code = "invalid_cursor"


def _fingerprint(query_identity: str) -> str:
    return hashlib.sha256(query_identity.encode()).hexdigest()[:16]


def encode_cursor(position: dict[str, str], query_identity: str) -> str:
    payload = {"k": position, "q": _fingerprint(query_identity)}
    return base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, query_identity: str) -> dict[str, Any]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        payload = json.loads(raw)
        position = payload["k"]
        fingerprint = payload["q"]
    except (ValueError, KeyError, TypeError) as error:
        raise InvalidCursor("The cursor is not one this API issued.") from error
    valid_position = isinstance(position, dict) and all(
        isinstance(key, str) and isinstance(value, str) for key, value in position.items()
    )
    if not valid_position:
        raise InvalidCursor("The cursor is not one this API issued.")
    if fingerprint != _fingerprint(query_identity):
        raise InvalidCursor("The cursor belongs to a different query; start again without it.")
    return dict(position)
