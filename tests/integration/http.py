"""Calling the API's Lambda handlers as API Gateway does, for the route tests."""

from __future__ import annotations

import json
from typing import Any

from talkshop.local.invoke import HttpResult, invoke


def call(
    method: str,
    path: str,
    key: str | None = None,
    body: Any = None,
    raw: bytes | None = None,
    query: str = "",
    headers: dict[str, str] | None = None,
) -> HttpResult:
    """One request: a JSON body (or `raw` bytes), the key as a bearer token, any other headers."""
    all_headers = {"Content-Type": "application/json", **(headers or {})}
    if key:
        all_headers["Authorization"] = f"Bearer {key}"
    payload = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    return invoke(method, path, query_string=query, headers=all_headers, body=payload)


def assert_error(result: HttpResult, status: int, code: str) -> None:
    assert result.status == status, result.body
    error = result.json()["error"]
    assert error["code"] == code
    assert error["message"]
