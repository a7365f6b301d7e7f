"""Cross-origin rules: one setting of allowed origins, honoured by handlers and the local gateway."""

from __future__ import annotations

import pytest

from talkshop.api import cors
from talkshop.local.invoke import invoke


def test_any_origin_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(cors.ORIGINS_VARIABLE, raising=False)
    assert cors.allowed_origins() == ["*"]
    assert cors.allow_origin_header("https://anywhere.example") == "*"
    answered = cors.resolver_cors().to_dict("https://anywhere.example")["Access-Control-Allow-Origin"]
    assert answered in ("*", "https://anywhere.example")


def test_restricted_origins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(cors.ORIGINS_VARIABLE, "https://shop.example, https://admin.example")
    config = cors.resolver_cors()
    assert config.to_dict("https://admin.example")["Access-Control-Allow-Origin"] == "https://admin.example"
    assert config.to_dict("https://shop.example")["Access-Control-Allow-Origin"] == "https://shop.example"
    assert config.to_dict("https://evil.example") == {}
    assert cors.allow_origin_header("https://admin.example") == "https://admin.example"
    assert cors.allow_origin_header("https://evil.example") is None

    allowed = invoke("OPTIONS", "/api/products", headers={"Origin": "https://admin.example"})
    assert allowed.status == 204
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://admin.example"
    refused = invoke("OPTIONS", "/api/products", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in refused.headers


def test_blank_settings_mean_any_origin() -> None:
    assert cors.parse_origins(" , ") == ["*"]
    assert cors.parse_origins(None) == ["*"]
