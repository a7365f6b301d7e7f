"""Fixtures shared by every test level: a moto-backed table and the caches that read the environment."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from talkshop.api import context
from talkshop.data.repository import Repository
from talkshop.local import moto_tuning
from talkshop.local.resources import create_idempotency_table, create_table

TABLE_NAME = "talkshop-test"
IDEMPOTENCY_TABLE_NAME = "talkshop-test-idempotency"
ADMIN_KEY = "test-admin-key-0123456789"


@pytest.fixture
def aws_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("TALKSHOP_TABLE_NAME", TABLE_NAME)
    monkeypatch.setenv("TALKSHOP_IDEMPOTENCY_TABLE", IDEMPOTENCY_TABLE_NAME)
    monkeypatch.setenv("TALKSHOP_ADMIN_KEY", ADMIN_KEY)
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "TalkshopTest")
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "talkshop")
    monkeypatch.setenv("POWERTOOLS_LOG_LEVEL", "WARNING")
    context.reset()
    yield
    context.reset()


@pytest.fixture
def table(aws_environment: None) -> Iterator[Any]:
    moto_tuning.install()
    with mock_aws():
        create_table(boto3.client("dynamodb"), TABLE_NAME, stream=False)
        create_idempotency_table(boto3.client("dynamodb"), IDEMPOTENCY_TABLE_NAME)
        yield boto3.resource("dynamodb").Table(TABLE_NAME)


@pytest.fixture
def repository(table: Any) -> Repository:
    return Repository(table)


class FakeClock:
    """A clock that moves only when told to, so stored timestamps are predictable."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(milliseconds=1)
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def table_snapshot(table: Any) -> list[dict[str, Any]]:
    """Every item of the table, in a stable order, to prove a refused request changed nothing."""
    items: list[dict[str, Any]] = []
    response = table.scan()
    items.extend(response["Items"])
    while "LastEvaluatedKey" in response:
        response = table.scan(ExclusiveStartKey=response["LastEvaluatedKey"])
        items.extend(response["Items"])
    return sorted(items, key=lambda item: (item["PK"], item["SK"]))


@pytest.fixture
def local_search(table: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The handlers' search backend set to the in-process index, kept in a test folder."""
    monkeypatch.setenv("TALKSHOP_SEARCH_BACKEND", "local")
    monkeypatch.setenv("TALKSHOP_SEARCH_INDEX_DIR", str(tmp_path / "search"))
    context.reset()
    yield
    context.reset()
