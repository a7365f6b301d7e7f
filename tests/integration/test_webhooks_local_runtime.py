"""Webhooks through the local runtime: an order placed over HTTP starts the webhook_delivery state machine
(the same ASL as on AWS, created in moto) as the EventBridge rule does on AWS, and the creator's endpoint
on 127.0.0.1 receives the signed event, retried after a failure. The runtime waits a second between
retries here (TALKSHOP_LOCAL_FAST_RETRIES) instead of the ASL's minutes."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest

from talkshop.api import context
from talkshop.api.state_machines import WEBHOOK_DELIVERY
from talkshop.catalog.creators import CreatorService
from talkshop.commerce.webhooks import verify
from talkshop.events.publisher import event_of_detail
from talkshop.local.runtime import (
    FAST_RETRIES_VARIABLE,
    LocalAws,
    eventbridge_event,
    with_fast_retries,
)
from talkshop.ontology.model import Event
from tests.commerce_fakes import add_product
from tests.fakes.webhook_receiver import WebhookReceiver
from tests.integration.test_checkout_local_runtime import Client, local

WAIT_S = 20.0
__all__ = ["local"]  # the local runtime behind an HTTP gateway, as the checkout's tests use it


@pytest.fixture(autouse=True)
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Read by LocalAws when `local` starts it (autouse fixtures come first)."""
    monkeypatch.setenv(FAST_RETRIES_VARIABLE, "true")


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as running:
        yield running


def eventually(condition: Callable[[], Any], what: str) -> Any:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        if result := condition():
            return result
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def creator_with_product(aws: LocalAws) -> str:
    """PadelNest's API key, with one of its products in stock."""
    key = CreatorService(context.repository()).add("PadelNest", "padelnest").api_key
    add_product(context.repository(), "pro-racket", stock=5, creator_id="padelnest")
    aws.persist()
    return key


def test_an_order_placed_locally_is_delivered_signed_to_the_creators_endpoint(
    local: tuple[Client, LocalAws], receiver: WebhookReceiver
) -> None:
    client, aws = local
    key = creator_with_product(aws)
    status, endpoint = client.request(
        "POST", "/api/webhooks", {"url": receiver.url, "event_types": ["order_placed", "order_paid"]}, key
    )
    assert status == 201, endpoint
    receiver.script = [500]  # the first attempt fails: the state machine retries it, a second later
    deployed = boto3.client("stepfunctions").describe_state_machine(
        stateMachineArn=os.environ[WEBHOOK_DELIVERY.arn_variable]
    )
    [retry] = json.loads(deployed["definition"])["States"]["DeliverEach"]["ItemProcessor"]["States"][
        "Deliver"
    ]["Retry"]
    assert (retry["IntervalSeconds"], retry["BackoffRate"]) == (1, 1.0)

    cart_id, token = client.cart_with("pro-racket")
    status, order = client.checkout(cart_id, token)
    assert status == 201, order

    eventually(lambda: len(receiver.received) >= 3, "both events, the failed one retried")
    by_type: dict[str, list[Any]] = {}
    for request in receiver.received:
        assert verify(request.body, request.headers["talkshop-signature"], endpoint["secret"])
        signature = dict(part.split("=", 1) for part in request.headers["talkshop-signature"].split(","))
        assert set(signature) == {"t", "v1"}
        body = json.loads(request.body)
        assert body["data"]["id"] == order["id"]
        by_type.setdefault(body["type"], []).append(request)
    assert sorted(by_type) == ["order_paid", "order_placed"]
    assert len(receiver.received) == 3  # one of the two failed once, then got through

    def delivered() -> list[Any]:
        status, page = client.request("GET", f"/api/webhooks/{endpoint['id']}/deliveries", token=key)
        assert status == 200, page
        items = page["items"]
        return items if len(items) == 2 and all(i["status"] == "delivered" for i in items) else []

    deliveries = eventually(delivered, "both deliveries recorded as delivered")
    assert sorted(len(item["attempts"]) for item in deliveries) == [1, 2]
    assert sorted(a["status_code"] for item in deliveries for a in item["attempts"]) == [200, 200, 500]


def test_events_nobody_subscribes_to_start_no_delivery(local: tuple[Client, LocalAws]) -> None:
    client, aws = local
    creator_with_product(aws)
    client.cart_with("pro-racket")  # cart events only: not subscribable
    aws.persist()
    time.sleep(0.3)
    arn = os.environ[WEBHOOK_DELIVERY.arn_variable]
    assert boto3.client("stepfunctions").list_executions(stateMachineArn=arn)["executions"] == []


def test_the_execution_input_is_the_eventbridge_event_the_rule_gives_on_aws() -> None:
    event = Event.model_validate(
        {
            "id": "evt_1",
            "type": "order_placed",
            "subject": {"dimension": "thing", "type": "order", "id": "ord_1"},
            "occurred_at": "2026-11-24T09:00:00Z",
            "payload": {"creator_ids": ["padelnest"]},
        }
    )
    envelope = eventbridge_event(event, "eu-west-1", "123456789012")
    assert envelope["detail-type"] == "order_placed"
    assert envelope["source"] == "talkshop"
    assert envelope["time"] == "2026-11-24T09:00:00Z"
    assert envelope["detail"]["schemaVersion"] == 1  # as the publisher puts it on the bus
    assert event_of_detail(envelope["detail"]) == event
    assert set(envelope) == {
        "version",
        "id",
        "detail-type",
        "source",
        "account",
        "time",
        "region",
        "resources",
        "detail",
    }


def test_fast_retries_shorten_the_waits_only() -> None:
    definition = WEBHOOK_DELIVERY.definition({"webhook_steps": "arn:aws:lambda:eu-west-1:1:function:x"})
    fast = json.loads(with_fast_retries(definition))
    original = json.loads(definition)
    deliver = fast["States"]["DeliverEach"]["ItemProcessor"]["States"]["Deliver"]["Retry"][0]
    production = original["States"]["DeliverEach"]["ItemProcessor"]["States"]["Deliver"]["Retry"][0]
    assert (deliver["IntervalSeconds"], deliver["BackoffRate"], deliver["MaxDelaySeconds"]) == (1, 1.0, 1)
    assert deliver["MaxAttempts"] == production["MaxAttempts"]
    assert deliver["ErrorEquals"] == production["ErrorEquals"]
    assert production["IntervalSeconds"] > 1  # the file keeps its production values


def test_a_new_data_dir_holding_the_secrets_is_readable_by_its_owner_only(
    local: tuple[Client, LocalAws],
) -> None:
    _, aws = local
    assert aws.data_dir.stat().st_mode & 0o777 == 0o700
