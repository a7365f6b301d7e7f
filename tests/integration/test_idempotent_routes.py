"""Idempotency-Key on the state-changing POSTs outside commerce (start a chat, issue an agent key,
register a webhook endpoint, redeliver), through their real handlers: a retry gets the first answer and
writes nothing; the same key with another body is refused as in commerce; secrets shown once are not
replayed where they are not kept in clear."""

from __future__ import annotations

import json

import boto3
import pytest

from talkshop.catalog.creators import CreatorService
from talkshop.commerce import webhooks
from talkshop.data.repository import Repository
from tests.conftest import ADMIN_KEY, IDEMPOTENCY_TABLE_NAME, FakeClock, table_snapshot
from tests.integration.http import assert_error, call
from tests.integration.test_webhooks import order_event

KEY = {"Idempotency-Key": "retry-1"}


def test_a_retried_chat_start_returns_the_same_chat_without_its_token(repository: Repository) -> None:
    first = call("POST", "/api/chat/session", body={"platform": "web"}, headers=KEY)
    assert first.status == 201, first.body
    assert first.json()["shopperToken"].startswith("tsh_")
    before = table_snapshot(repository.table)

    replayed = call("POST", "/api/chat/session", body={"platform": "web"}, headers=KEY)
    assert replayed.status == 201
    assert replayed.json() == first.json() | {"shopperToken": None}
    assert replayed.headers["Location"] == first.headers["Location"]
    assert table_snapshot(repository.table) == before
    assert_error(
        call("POST", "/api/chat/session", body={"platform": "chatgpt"}, headers=KEY),
        422,
        "idempotency_key_reused",
    )
    # Without a key, each request is a new chat.
    assert call("POST", "/api/chat/session", body={"platform": "web"}).json()["id"] != first.json()["id"]


def test_a_retried_cart_opening_does_not_replay_the_new_shoppers_token(repository: Repository) -> None:
    first = call("POST", "/api/carts", body={}, headers=KEY)
    assert first.status == 201, first.body
    before = table_snapshot(repository.table)
    replayed = call("POST", "/api/carts", body={}, headers=KEY)
    assert replayed.json() == first.json() | {"shopperToken": None}
    assert table_snapshot(repository.table) == before


def test_a_retried_agent_key_issue_makes_no_second_agent_and_keeps_no_key(repository: Repository) -> None:
    body = {"name": "shopping-agent"}
    first = call("POST", "/api/admin/agent-keys", ADMIN_KEY, body, headers=KEY)
    assert first.status == 201, first.body
    issued = first.json()
    assert issued["apiKey"]
    before = table_snapshot(repository.table)

    replayed = call("POST", "/api/admin/agent-keys", ADMIN_KEY, body, headers=KEY)
    assert replayed.status == 201
    assert replayed.json() == issued | {"apiKey": None, "webhookSecret": None}
    assert table_snapshot(repository.table) == before
    stored = boto3.resource("dynamodb").Table(IDEMPOTENCY_TABLE_NAME).scan()["Items"]
    assert issued["apiKey"] not in json.dumps(stored, default=str)
    assert_error(
        call("POST", "/api/admin/agent-keys", ADMIN_KEY, {"name": "other"}, headers=KEY),
        422,
        "idempotency_key_reused",
    )


@pytest.fixture
def creator_key(repository: Repository) -> str:
    return CreatorService(repository).add("PadelNest", "padelnest").api_key


def test_a_retried_webhook_registration_returns_the_same_endpoint(
    creator_key: str, repository: Repository
) -> None:
    body = {"url": "https://padelnest.example/h", "event_types": ["order_placed"]}
    first = call("POST", "/api/webhooks", creator_key, body, headers=KEY)
    assert first.status == 201, first.body
    before = table_snapshot(repository.table)

    replayed = call("POST", "/api/webhooks", creator_key, body, headers=KEY)
    assert replayed.status == 201
    # The signing secret is shown in the first answer only: it is not copied into the idempotency records.
    assert replayed.json() == first.json() | {"secret": None}
    stored = boto3.resource("dynamodb").Table(IDEMPOTENCY_TABLE_NAME).scan()["Items"]
    assert first.json()["secret"] not in json.dumps(stored, default=str)
    assert table_snapshot(repository.table) == before
    assert len(call("GET", "/api/webhooks", creator_key).json()["items"]) == 1
    assert_error(
        call(
            "POST", "/api/webhooks", creator_key, body | {"url": "https://padelnest.example/x"}, headers=KEY
        ),
        422,
        "idempotency_key_reused",
    )


def test_a_retried_redelivery_starts_one_delivery(
    creator_key: str, repository: Repository, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    registered = call(
        "POST",
        "/api/webhooks",
        creator_key,
        {"url": "https://padelnest.example/h", "event_types": ["order_placed"]},
    )
    assert registered.status == 201, registered.body
    [delivery_id] = webhooks.deliveries_for(order_event(), repository, clock)
    stepfunctions = boto3.client("stepfunctions")
    machine = stepfunctions.create_state_machine(
        name="webhook-delivery",
        definition=json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}),
        roleArn="arn:aws:iam::123456789012:role/states",
    )["stateMachineArn"]
    monkeypatch.setenv(webhooks.STATE_MACHINE_VARIABLE, machine)
    path = f"/api/webhooks/deliveries/{delivery_id}/redeliver"

    first = call("POST", path, creator_key, headers=KEY)
    assert first.status == 202, first.body
    before = table_snapshot(repository.table)
    replayed = call("POST", path, creator_key, headers=KEY)
    assert (replayed.status, replayed.body) == (202, first.body)
    assert table_snapshot(repository.table) == before
    assert len(stepfunctions.list_executions(stateMachineArn=machine)["executions"]) == 1
