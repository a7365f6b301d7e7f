"""The ACP merchant API through its real Lambda handler on moto, as an agent calls it. Every answer is
validated against the spec's JSON Schemas (tests/fixtures/acp). The checkout flow runs the commerce
core's real steps in-process (the state machine's order, retries and compensations)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from functions.acp import handler as acp_handler
from talkshop.auth import Principal, PrincipalKind
from talkshop.catalog.creators import CreatorService
from talkshop.commerce.acp.sessions import CheckoutSessions
from talkshop.commerce.checkout_steps import CheckoutSteps
from talkshop.commerce.payments import provider_from_settings
from talkshop.commerce.webhooks import (
    EndpointFormat,
    EndpointRequest,
    WebhookService,
    deliver,
    deliveries_for,
)
from talkshop.commerce.webhooks import verify as verify_signature
from talkshop.data.repository import Repository
from talkshop.errors import Conflict, InvalidInput
from talkshop.ontology.model import Dimension, EntityRef
from tests.acp_support import (
    ADDRESS,
    CURRENT,
    LEGACY,
    acp,
    assert_acp_error,
    assert_valid,
    issue_agent_key,
    run_steps_in_process,
    stock_shop,
)
from tests.conftest import ADMIN_KEY, table_snapshot
from tests.fakes.webhook_receiver import WebhookReceiver
from tests.integration.http import assert_error, call

SESSIONS = "/acp/checkout_sessions"


@pytest.fixture
def agent(repository: Repository, monkeypatch: pytest.MonkeyPatch) -> str:
    """A shop with products, the checkout flow over the table, and an agent's key."""
    stock_shop(repository)
    steps = CheckoutSteps(repository, provider_from_settings(repository))
    monkeypatch.setattr(acp_handler, "checkout_flow", lambda: run_steps_in_process(steps))
    return str(issue_agent_key()["apiKey"])


def stock_of(repository: Repository, product_id: str) -> int:
    from talkshop.catalog.service import CatalogService

    return CatalogService(repository).get_products([product_id])[product_id].stock


def orders_in(table: Any) -> list[dict[str, Any]]:
    return [item for item in table_snapshot(table) if item.get("entity_type") == "order"]


def create_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"currency": "eur", "line_items": [{"id": "aero-lite"}], "capabilities": {}}
    body.update(overrides)
    return body


def pay(token: str = "spt_test_ok") -> dict[str, Any]:  # noqa: S107 - the test provider's token
    credential = {"type": "spt", "token": token}
    return {
        "payment_data": {
            "handler_id": "card_tokenized",
            "instrument": {"type": "card", "credential": credential},
        }
    }


def ready_session(key: str) -> str:
    created = acp("POST", SESSIONS, key, create_body(fulfillment_details={"address": ADDRESS}))
    assert created.status == 201, created.body
    assert created.json()["status"] == "ready_for_payment"
    return str(created.json()["id"])


def test_create_update_complete_flow(agent: str, repository: Repository, table: Any) -> None:
    created = acp(
        "POST", SESSIONS, agent, create_body(buyer={"email": "ana@example.com", "first_name": "Ana"})
    )
    assert created.status == 201, created.body
    session = created.json()
    assert_valid(session, "CheckoutSession")
    assert created.headers["Request-Id"] == "req_test"
    assert session["status"] == "not_ready_for_payment"  # no address yet
    assert any(message["code"] == "missing" for message in session["messages"])
    assert [line["item"]["id"] for line in session["line_items"]] == ["aero-lite"]
    assert session["line_items"][0]["unit_amount"] == 8995
    # Standard shipping is free over €50, express costs €9.95: real amounts in minor units.
    options = {option["id"]: option["totals"][0]["amount"] for option in session["fulfillment_options"]}
    assert options == {"standard": 0, "express": 995}
    totals = {total["type"]: total["amount"] for total in session["totals"]}
    assert totals["total"] == 8995

    updated = acp(
        "POST",
        f"{SESSIONS}/{session['id']}",
        agent,
        {
            "fulfillment_details": {"name": "Ana Costa", "email": "ana@example.com", "address": ADDRESS},
            "selected_fulfillment_options": [
                {"type": "shipping", "option_id": "express", "item_ids": ["li_aero-lite"]}
            ],
        },
    )
    assert updated.status == 200, updated.body
    ready = updated.json()
    assert_valid(ready, "CheckoutSession")
    assert ready["status"] == "ready_for_payment"
    totals = {total["type"]: total["amount"] for total in ready["totals"]}
    assert totals["fulfillment"] == 995
    assert totals["total"] == 8995 + 995

    completed = acp("POST", f"{SESSIONS}/{session['id']}/complete", agent, pay())
    assert completed.status == 200, completed.body
    done = completed.json()
    assert_valid(done, "CheckoutSessionWithOrder")
    assert done["status"] == "completed"
    order_id = done["order"]["id"]
    assert done["order"]["checkout_session_id"] == session["id"]
    [order] = orders_in(table)
    assert order["id"] == order_id
    assert order["data"]["agent_id"] == order["data"]["user_id"]
    assert order["data"]["total"] == 8995 + 995
    assert order["data"]["status"] == "paid"
    assert stock_of(repository, "aero-lite") == 9

    fetched = acp("GET", f"{SESSIONS}/{session['id']}", agent)
    assert fetched.status == 200
    assert_valid(fetched.json(), "CheckoutSessionWithOrder")
    assert fetched.json()["order"]["id"] == order_id


def test_replayed_complete_answers_the_first_answer_and_orders_once(
    agent: str, repository: Repository, table: Any
) -> None:
    session_id = ready_session(agent)
    first = acp("POST", f"{SESSIONS}/{session_id}/complete", agent, pay(), idempotency_key="key-1")
    replay = acp("POST", f"{SESSIONS}/{session_id}/complete", agent, pay(), idempotency_key="key-1")
    assert first.status == replay.status == 200
    assert replay.json() == first.json()
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.headers["Idempotency-Key"] == "key-1"
    assert "Idempotent-Replayed" not in first.headers
    assert len(orders_in(table)) == 1
    assert stock_of(repository, "aero-lite") == 9

    conflict = acp(
        "POST", f"{SESSIONS}/{session_id}/complete", agent, pay("spt_test_decline"), idempotency_key="key-1"
    )
    assert_acp_error(conflict, 422, "idempotency_conflict")
    assert len(orders_in(table)) == 1


def test_replayed_create_makes_one_session(agent: str, table: Any) -> None:
    first = acp("POST", SESSIONS, agent, create_body(), idempotency_key="create-1")
    # Same body, other key order and spacing: the same request.
    raw = b'{"capabilities": {}, "line_items": [{"id": "aero-lite"}],   "currency": "eur"}'
    replay = acp("POST", SESSIONS, agent, raw=raw, idempotency_key="create-1")
    assert first.status == replay.status == 201
    assert replay.json()["id"] == first.json()["id"]
    sessions = [item for item in table_snapshot(table) if item.get("entity_type") == "acp_checkout_session"]
    assert len(sessions) == 1


def test_a_retry_while_the_first_runs_is_in_flight(
    agent: str, repository: Repository, table: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    session_id = ready_session(agent)
    steps = run_steps_in_process(CheckoutSteps(repository, provider_from_settings(repository)))
    retries: list[Any] = []

    def flow_retried_meanwhile(state: Any) -> Any:
        # The agent gave up waiting and retried while the checkout still ran.
        retries.append(
            acp("POST", f"{SESSIONS}/{session_id}/complete", agent, pay(), idempotency_key="slow-1")
        )
        return steps(state)

    monkeypatch.setattr(acp_handler, "checkout_flow", lambda: flow_retried_meanwhile)
    first = acp("POST", f"{SESSIONS}/{session_id}/complete", agent, pay(), idempotency_key="slow-1")
    assert first.status == 200, first.body
    assert first.json()["status"] == "completed"
    [retry] = retries
    assert_acp_error(retry, 409, "idempotency_in_flight")
    assert retry.headers["Retry-After"] == "1"
    assert retry.headers["Idempotency-Key"] == "slow-1"
    assert len(orders_in(table)) == 1
    # Once the first has answered, the retry is its replay.
    replay = acp("POST", f"{SESSIONS}/{session_id}/complete", agent, pay(), idempotency_key="slow-1")
    assert (replay.status, replay.headers["Idempotent-Replayed"]) == (200, "true")
    assert replay.json() == first.json()


def test_refusals_are_replayed_but_a_retry_later_is_not(agent: str, monkeypatch: pytest.MonkeyPatch) -> None:
    created = acp("POST", SESSIONS, agent, create_body())
    session_id = created.json()["id"]
    # Not ready (no address): the refusal is the key's answer, even once the session is ready.
    refused = acp("POST", f"{SESSIONS}/{session_id}/complete", agent, pay(), idempotency_key="pay-1")
    assert_acp_error(refused, 400, "checkout_session_not_ready")
    address = {"fulfillment_details": {"address": ADDRESS}}
    assert acp("POST", f"{SESSIONS}/{session_id}", agent, address).json()["status"] == "ready_for_payment"
    replayed = acp("POST", f"{SESSIONS}/{session_id}/complete", agent, pay(), idempotency_key="pay-1")
    assert_acp_error(replayed, 400, "checkout_session_not_ready")
    assert replayed.headers["Idempotent-Replayed"] == "true"

    # A lost race on the session is a 409 "retry": the retry with the same key runs again.
    original = CheckoutSessions.update
    raced: list[str] = []

    def update_losing_once(self: CheckoutSessions, *args: Any) -> Any:
        if not raced:
            raced.append("lost")
            raise Conflict("Changed meanwhile.", code="concurrent_update")
        return original(self, *args)

    monkeypatch.setattr(CheckoutSessions, "update", update_losing_once)
    notes = {"order_notes": "Leave it with the neighbour."}
    lost = acp("POST", f"{SESSIONS}/{session_id}", agent, notes, idempotency_key="notes-1")
    assert_acp_error(lost, 409, "concurrent_update")
    assert lost.headers["Retry-After"] == "1"
    retried = acp("POST", f"{SESSIONS}/{session_id}", agent, notes, idempotency_key="notes-1")
    assert retried.status == 200, retried.body
    assert "Idempotent-Replayed" not in retried.headers


def test_posts_need_an_idempotency_key(agent: str) -> None:
    assert_acp_error(
        acp("POST", SESSIONS, agent, create_body(), idempotency_key=None), 400, "idempotency_key_required"
    )


@pytest.mark.parametrize("version", ["2026-01-30", "next"])
def test_unknown_api_version_is_refused_with_the_supported_ones(agent: str, version: str) -> None:
    refused = assert_acp_error(
        acp("POST", SESSIONS, agent, create_body(), version=version), 400, "unsupported_api_version"
    )
    assert refused["supported_versions"] == [CURRENT, LEGACY]
    assert_acp_error(acp("GET", f"{SESSIONS}/cs_x", agent, version=None), 400, "api_version_required")


def test_only_valid_agent_keys_get_in(agent: str, repository: Repository) -> None:
    assert_acp_error(acp("POST", SESSIONS, None, create_body()), 401, "missing_credentials")
    assert_acp_error(acp("POST", SESSIONS, "tsa_not-a-key", create_body()), 401, "invalid_credentials")
    creator_key = CreatorService(repository).issue_key("padelnest").api_key
    assert_acp_error(acp("POST", SESSIONS, creator_key, create_body()), 403, "not_an_agent")
    assert_acp_error(acp("POST", SESSIONS, ADMIN_KEY, create_body()), 403, "not_an_agent")
    shopper = call("POST", "/api/chat/session", body={})
    assert shopper.status == 201, shopper.body
    assert_acp_error(
        acp("POST", SESSIONS, shopper.json()["shopperToken"], create_body()), 403, "not_an_agent"
    )


def test_a_revoked_agent_key_stops_working(agent: str) -> None:
    issued = issue_agent_key("Short-lived agent")
    assert acp("POST", SESSIONS, issued["apiKey"], create_body()).status == 201
    assert call("DELETE", f"/api/admin/agent-keys/{issued['id']}", ADMIN_KEY).status == 204
    assert_acp_error(acp("POST", SESSIONS, issued["apiKey"], create_body()), 401, "invalid_credentials")
    assert acp("POST", SESSIONS, agent, create_body()).status == 201  # other agents are untouched


def test_agents_see_only_their_own_sessions(agent: str) -> None:
    session_id = ready_session(agent)
    other = issue_agent_key("Other agent")["apiKey"]
    assert_acp_error(acp("GET", f"{SESSIONS}/{session_id}", other), 404, "checkout_session_not_found")
    assert_acp_error(
        acp("POST", f"{SESSIONS}/{session_id}/complete", other, pay()), 404, "checkout_session_not_found"
    )


def test_out_of_stock_and_short_items_are_messages(agent: str) -> None:
    created = acp(
        "POST",
        SESSIONS,
        agent,
        create_body(
            line_items=[{"id": "tour-bag"}, {"id": "pro-balls"}, {"id": "pro-balls"}, {"id": "pro-balls"}],
            fulfillment_details={"address": ADDRESS},
        ),
    )
    assert created.status == 201, created.body
    session = created.json()
    assert_valid(session, "CheckoutSession")
    assert session["status"] == "not_ready_for_payment"
    codes = {(message["code"], message["param"]) for message in session["messages"]}
    assert ("out_of_stock", "$.line_items[0]") in codes
    assert ("quantity_exceeded", "$.line_items[1].quantity") in codes  # 3 asked, 2 left
    assert [line["quantity"] for line in session["line_items"]] == [1, 3]

    refused = acp("POST", f"{SESSIONS}/{session['id']}/complete", agent, pay())
    assert_acp_error(refused, 400, "checkout_session_not_ready")


def test_invalid_input_is_the_spec_error_with_a_json_path(agent: str, table: Any) -> None:
    # Idempotency-Key records live in the idempotency table: a refusal writes nothing here.
    before = table_snapshot(table)
    unknown = acp("POST", SESSIONS, agent, create_body(line_items=[{"id": "aero-lite"}, {"id": "no-such"}]))
    assert assert_acp_error(unknown, 400, "invalid_item_id")["param"] == "$.line_items[1].id"
    bad_field = acp("POST", SESSIONS, agent, create_body(line_items=[{"id": "aero-lite", "colour": "red"}]))
    assert assert_acp_error(bad_field, 400, "invalid_field")["param"] == "$.line_items[0].colour"
    missing = acp("POST", SESSIONS, agent, {"line_items": [{"id": "aero-lite"}], "capabilities": {}})
    assert assert_acp_error(missing, 400, "missing_field")["param"] == "$.currency"
    usd = acp("POST", SESSIONS, agent, create_body(currency="usd"))
    assert_acp_error(usd, 400, "currency_mismatch")
    assert_acp_error(acp("POST", SESSIONS, agent, raw=b"{not json"), 400, "invalid_json")
    assert table_snapshot(table) == before


def test_updates_that_cannot_be_served_are_refused_and_change_nothing(agent: str) -> None:
    session_id = ready_session(agent)
    before = acp("GET", f"{SESSIONS}/{session_id}", agent).json()["line_items"]
    emptied = acp("POST", f"{SESSIONS}/{session_id}", agent, {"line_items": []})
    assert assert_acp_error(emptied, 400, "invalid_field")["param"] == "$.line_items"
    pickup = {"selected_fulfillment_options": [{"type": "pickup", "option_id": "standard", "item_ids": []}]}
    refused = acp("POST", f"{SESSIONS}/{session_id}", agent, pickup)
    assert_acp_error(refused, 400, "invalid_fulfillment_option")
    assert refused.json()["param"] == "$.selected_fulfillment_options[0].type"
    after = acp("GET", f"{SESSIONS}/{session_id}", agent)
    assert after.status == 200, after.body
    assert after.json()["line_items"] == before
    assert after.json()["selected_fulfillment_options"][0]["option_id"] == "standard"


def test_a_refused_item_is_named_by_its_place_in_the_request(agent: str) -> None:
    # Two lines of one item make one cart line: the param still points into the request.
    items = [
        {"id": "aero-lite"},
        {"id": "aero-lite"},
        {"id": "pro-balls", "quantity": 99},
        {"id": "pro-balls", "quantity": 1},
    ]
    refused = acp("POST", SESSIONS, agent, create_body(line_items=items))
    assert assert_acp_error(refused, 400, "quantity_exceeded")["param"] == "$.line_items[2]"


def test_a_change_racing_the_payment_does_not_lose_the_order(
    agent: str, repository: Repository, table: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    session_id = ready_session(agent)
    steps = run_steps_in_process(CheckoutSteps(repository, provider_from_settings(repository)))
    raced: list[Any] = []

    def flow_raced_by_an_update(state: Any) -> Any:
        finished = steps(state)
        notes = {"order_notes": "Ring twice."}
        raced.append(acp("POST", f"{SESSIONS}/{session_id}", agent, notes))
        return finished

    monkeypatch.setattr(acp_handler, "checkout_flow", lambda: flow_raced_by_an_update)
    completed = acp("POST", f"{SESSIONS}/{session_id}/complete", agent, pay())
    assert [update.status for update in raced] == [200]
    assert completed.status == 200, completed.body
    assert_valid(completed.json(), "CheckoutSessionWithOrder")
    [order] = orders_in(table)
    assert completed.json()["order"]["id"] == order["id"]
    assert acp("GET", f"{SESSIONS}/{session_id}", agent).json()["status"] == "completed"


def test_declined_payment_leaves_the_session_payable(agent: str, repository: Repository, table: Any) -> None:
    session_id = ready_session(agent)
    declined = acp("POST", f"{SESSIONS}/{session_id}/complete", agent, pay("spt_test_decline"))
    assert declined.status == 200, declined.body
    session = declined.json()
    assert_valid(session, "CheckoutSession")
    assert session["status"] == "ready_for_payment"
    assert [message["code"] for message in session["messages"]] == ["payment_declined"]
    assert stock_of(repository, "aero-lite") == 10
    assert orders_in(table) == []

    paid = acp("POST", f"{SESSIONS}/{session_id}/complete", agent, pay())
    assert paid.status == 200, paid.body
    assert paid.json()["status"] == "completed"
    assert paid.json()["messages"] == []


def test_cancel(agent: str) -> None:
    session_id = ready_session(agent)
    body = {"intent_trace": {"reason_code": "shipping_cost", "trace_summary": "Too dear to ship."}}
    canceled = acp("POST", f"{SESSIONS}/{session_id}/cancel", agent, body)
    assert canceled.status == 200, canceled.body
    assert_valid(canceled.json(), "CheckoutSession")
    assert canceled.json()["status"] == "canceled"
    assert_acp_error(
        acp("POST", f"{SESSIONS}/{session_id}/cancel", agent, {}), 405, "checkout_session_not_cancelable"
    )
    assert_acp_error(
        acp("POST", f"{SESSIONS}/{session_id}/complete", agent, pay()), 400, "checkout_session_closed"
    )


def test_a_2025_09_29_client_is_served_in_its_own_shapes(agent: str) -> None:
    created = acp(
        "POST",
        SESSIONS,
        agent,
        {"items": [{"id": "aero-lite", "quantity": 2}], "fulfillment_address": ADDRESS},
        version=LEGACY,
    )
    assert created.status == 201, created.body
    session = created.json()
    assert_valid(session, "CheckoutSession", LEGACY)
    assert session["line_items"][0]["item"] == {"id": "aero-lite", "quantity": 2}
    assert session["line_items"][0]["total"] == 2 * 8995
    assert session["status"] == "ready_for_payment"

    chosen = acp(
        "POST", f"{SESSIONS}/{session['id']}", agent, {"fulfillment_option_id": "express"}, version=LEGACY
    )
    assert chosen.status == 200, chosen.body
    assert_valid(chosen.json(), "CheckoutSession", LEGACY)
    assert chosen.json()["fulfillment_option_id"] == "express"

    completed = acp(
        "POST",
        f"{SESSIONS}/{session['id']}/complete",
        agent,
        {"payment_data": {"token": "spt_test_ok", "provider": "stripe"}},
        version=LEGACY,
    )
    assert completed.status == 200, completed.body
    done = completed.json()
    # The 2025-09-29 bundle's CheckoutSessionWithOrder can validate nothing (its base forbids the
    # `order` its second part requires), so the session and its order are checked apart.
    assert_valid({key: value for key, value in done.items() if key != "order"}, "CheckoutSession", LEGACY)
    assert_valid(done["order"], "Order", LEGACY)
    assert done["status"] == "completed"


def test_agent_keys_are_the_admins_to_issue(agent: str, repository: Repository, table: Any) -> None:
    issued = issue_agent_key("Key test")
    assert issued["apiKey"].startswith("tsa_")
    assert issued["id"].startswith("agt_")
    # Stored as its digest only.
    assert issued["apiKey"] not in str(table_snapshot(table))
    creator_key = CreatorService(repository).issue_key("padelnest").api_key
    assert_error(call("POST", "/api/admin/agent-keys", creator_key, {"name": "x"}), 403, "admin_only")
    assert_error(call("POST", "/api/admin/agent-keys", None, {"name": "x"}), 401, "missing_credentials")
    assert_error(call("DELETE", "/api/admin/agent-keys/agt_missing", ADMIN_KEY), 404, "agent_not_found")
    assert_error(call("DELETE", f"/api/admin/agent-keys/{issued['id']}", agent), 403, "admin_only")


def test_a_webhook_url_at_issuance_registers_the_agents_endpoint(agent: str) -> None:
    issued = call(
        "POST",
        "/api/admin/agent-keys",
        ADMIN_KEY,
        {"name": "Hooked agent", "webhookUrl": "https://agent.example/hooks"},
    )
    assert issued.status == 201, issued.body
    body = issued.json()
    assert body["webhookSecret"].startswith("whsec_")
    endpoints = call("GET", "/api/webhooks", body["apiKey"])
    assert endpoints.status == 200, endpoints.body
    [endpoint] = endpoints.json()["items"]
    assert endpoint["url"] == "https://agent.example/hooks"
    assert "order_paid" in endpoint["event_types"]
    assert endpoint["format"] == "acp"
    plain_http = {"name": "x", "webhookUrl": "http://agent.example/hooks"}
    assert_error(call("POST", "/api/admin/agent-keys", ADMIN_KEY, plain_http), 422, "validation_error")


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as running:
        yield running


def test_an_agents_order_webhooks_are_acps_and_the_creators_stay_talkshops(
    repository: Repository, receiver: WebhookReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    stock_shop(repository)
    steps = CheckoutSteps(repository, provider_from_settings(repository))
    monkeypatch.setattr(acp_handler, "checkout_flow", lambda: run_steps_in_process(steps))
    issued = issue_agent_key()
    webhooks = WebhookService(repository, start_deliveries=lambda ids: None)
    order_events = ["order_placed", "order_paid"]
    agents = webhooks.register(
        EndpointRequest(url=f"{receiver.url}/agent", event_types=order_events, format=EndpointFormat.ACP),
        Principal(PrincipalKind.AGENT, issued["id"]),
    )
    creators = webhooks.register(
        EndpointRequest(url=f"{receiver.url}/creator", event_types=order_events),
        Principal(PrincipalKind.CREATOR, "padelnest"),
    )
    assert agents.secret  # shown at registration
    assert creators.secret
    session_id = ready_session(issued["apiKey"])
    completed = acp("POST", f"{SESSIONS}/{session_id}/complete", issued["apiKey"], pay())
    assert completed.status == 200, completed.body
    order_id = completed.json()["order"]["id"]

    for event in repository.events_of(EntityRef(dimension=Dimension.THING, type="order", id=order_id)):
        for delivery_id in deliveries_for(event, repository):
            deliver(delivery_id, repository)

    to_agent = [request for request in receiver.received if request.path.endswith("/agent")]
    assert sorted(json.loads(request.body)["type"] for request in to_agent) == [
        "order_create",
        "order_update",
    ]
    for request in to_agent:
        assert "talkshop-signature" not in request.headers
        assert verify_signature(request.body, request.headers["merchant-signature"], agents.secret)
        order = json.loads(request.body)["data"]
        assert_valid(order, "Order")
        assert (order["id"], order["checkout_session_id"]) == (order_id, session_id)
    to_creator = [request for request in receiver.received if request.path.endswith("/creator")]
    assert sorted(json.loads(request.body)["type"] for request in to_creator) == sorted(order_events)
    for request in to_creator:
        assert "merchant-signature" not in request.headers
        assert verify_signature(request.body, request.headers["talkshop-signature"], creators.secret)


def test_the_acp_format_is_for_agents_endpoints_only(repository: Repository) -> None:
    request = EndpointRequest(url="https://shop.example/hooks", event_types=["order_paid"], format="acp")
    with pytest.raises(InvalidInput) as refused:
        WebhookService(repository, start_deliveries=lambda ids: None).register(
            request, Principal(PrincipalKind.CREATOR, "padelnest")
        )
    assert refused.value.code == "acp_format_for_agents"
