"""Signed webhooks: signing vectors, delivery to a receiver on 127.0.0.1, retries, dead letter,
redelivery, who sees which endpoints, and the HTTP routes."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import boto3
import pytest
from pydantic import ValidationError

from talkshop.auth import Principal, PrincipalKind
from talkshop.catalog.creators import CreatorService
from talkshop.commerce import webhooks
from talkshop.commerce.webhooks import (
    DeliveryStatus,
    EndpointRequest,
    WebhookDeliveryFailed,
    WebhookEndpointDeleted,
    WebhookService,
    deliver,
    deliveries_for,
    record_dead_letter,
    run_step,
    sign,
    verify,
)
from talkshop.data.repository import Repository
from talkshop.errors import Forbidden, InvalidInput, NotFound, Unauthorized
from talkshop.ontology.model import Dimension, EntityRef, Event, EventType
from tests.conftest import ADMIN_KEY, FakeClock, table_snapshot
from tests.fakes.webhook_receiver import WebhookReceiver
from tests.integration.http import assert_error, call

ASL = Path(__file__).parents[2] / "statemachines" / "webhook_delivery.asl.json"
BODY = b'{"id":"evt_1","type":"order_placed"}'
SECRET = "whsec_test_secret"
T = 1767225600
# HMAC-SHA256 of "1767225600.<BODY>" keyed with SECRET, computed with `openssl dgst -sha256 -hmac`.
EXPECTED_V1 = "9e2e4a15d03b5eb952a582a5d3fbd0498f81ef8d06c920da88076a534977d805"

PADELNEST = Principal(PrincipalKind.CREATOR, "padelnest")
COURTCRAFT = Principal(PrincipalKind.CREATOR, "courtcraft")
AGENT = Principal(PrincipalKind.AGENT, "chatgpt")


def test_signature_matches_the_reference_vector() -> None:
    assert sign(BODY, SECRET, T) == f"t={T},v1={EXPECTED_V1}"


@pytest.mark.parametrize(
    ("body", "header", "secret", "now", "valid"),
    [
        (BODY, f"t={T},v1={EXPECTED_V1}", SECRET, T + 10, True),
        (BODY, f"t={T},v1=00{EXPECTED_V1[2:]},v1={EXPECTED_V1}", SECRET, T, True),  # rotated secrets
        (BODY, f"t={T},v1={EXPECTED_V1}", "whsec_other", T, False),
        (BODY + b" ", f"t={T},v1={EXPECTED_V1}", SECRET, T, False),
        (BODY, f"t={T},v1={EXPECTED_V1}", SECRET, T + 301, False),  # replayed too late
        (BODY, f"t={T},v1={EXPECTED_V1}", SECRET, T - 301, False),
        (BODY, f"v1={EXPECTED_V1}", SECRET, T, False),
        (BODY, f"t={T}", SECRET, T, False),
        (BODY, "garbage", SECRET, T, False),
    ],
)
def test_verify(body: bytes, header: str, secret: str, now: int, valid: bool) -> None:
    assert verify(body, header, secret, now=now) is valid


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as running:
        yield running


class InlineStateMachine:
    """Stands in for webhook_delivery.asl.json in these tests: deliver, retried, then dead letter."""

    def __init__(self, repository: Repository, clock: FakeClock, attempts: int = 6) -> None:
        self.repository = repository
        self.clock = clock
        self.attempts = attempts

    def __call__(self, delivery_ids: Sequence[str]) -> None:
        for delivery_id in delivery_ids:
            for _ in range(self.attempts):
                try:
                    deliver(delivery_id, self.repository, self.clock)
                    break
                except WebhookDeliveryFailed:
                    continue
            else:
                record_dead_letter(delivery_id, self.repository, self.clock)


@pytest.fixture
def allow_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(webhooks.ALLOW_LOOPBACK_VARIABLE, "true")


@pytest.fixture
def machine(repository: Repository, clock: FakeClock) -> InlineStateMachine:
    return InlineStateMachine(repository, clock)


@pytest.fixture
def service(repository: Repository, clock: FakeClock, machine: InlineStateMachine) -> WebhookService:
    return WebhookService(repository, machine, clock)


def order_event(
    event_id: str = "evt1", event_type: EventType | str = "order_placed", **payload: Any
) -> Event:
    return Event.model_validate(
        {
            "id": event_id,
            "type": event_type,
            "subject": EntityRef(dimension=Dimension.THING, type="order", id="ord_1"),
            "occurred_at": "2026-11-24T09:00:00Z",
            "payload": {"creator_ids": ["padelnest"], "total": 4995, **payload},
        }
    )


def register(
    service: WebhookService, url: str, caller: Principal = PADELNEST, events: list[str] | None = None
) -> Any:
    return service.register(EndpointRequest(url=url, event_types=events or ["order_placed"]), caller)


def test_an_order_event_is_delivered_signed_to_the_creators_endpoint(
    service: WebhookService, repository: Repository, clock: FakeClock, receiver: WebhookReceiver
) -> None:
    endpoint = register(service, receiver.url)

    [delivery_id] = deliveries_for(order_event(), repository, clock)
    delivered = deliver(delivery_id, repository, clock)

    [request] = receiver.received
    assert verify(request.body, request.headers["talkshop-signature"], endpoint.secret)
    assert request.headers["talkshop-event"] == "order_placed"
    assert json.loads(request.body)["data"] == {
        "object": "order",
        "id": "ord_1",
        "creator_ids": ["padelnest"],
        "total": 4995,
    }
    assert delivered.status == DeliveryStatus.DELIVERED
    assert len(delivered.attempts) == 1
    [event] = repository.events_of(
        EntityRef(dimension=Dimension.THING, type="webhook_delivery", id=delivery_id)
    )
    assert event.type == EventType.WEBHOOK_DELIVERED


def test_a_500_is_retried_and_then_delivered(
    service: WebhookService, repository: Repository, clock: FakeClock, receiver: WebhookReceiver
) -> None:
    register(service, receiver.url)
    receiver.script = [500]
    [delivery_id] = deliveries_for(order_event(), repository, clock)

    with pytest.raises(WebhookDeliveryFailed):
        deliver(delivery_id, repository, clock)
    failed = service.deliveries(webhooks_of(service)[0], PADELNEST, limit=10, cursor=None).items[0]
    assert (failed.status, failed.last_error) == (DeliveryStatus.FAILED, "HTTP 500")

    delivered = deliver(delivery_id, repository, clock)
    assert delivered.status == DeliveryStatus.DELIVERED
    assert [attempt.status_code for attempt in delivered.attempts] == [500, 200]
    assert delivered.last_error is None


def webhooks_of(service: WebhookService, caller: Principal = PADELNEST) -> list[str]:
    return [endpoint.id for endpoint in service.list_endpoints(caller).items]


def test_a_permanent_failure_ends_in_the_dead_letter_and_redelivery_sends_it_again(
    service: WebhookService,
    repository: Repository,
    clock: FakeClock,
    receiver: WebhookReceiver,
    machine: InlineStateMachine,
) -> None:
    endpoint = register(service, receiver.url)
    receiver.script = [503] * 6
    machine(deliveries_for(order_event(), repository, clock))

    [dead] = service.deliveries(endpoint.id, PADELNEST, limit=10, cursor=None).items
    assert dead.status == DeliveryStatus.DEAD_LETTERED
    assert len(dead.attempts) == 6
    events = repository.events_of(EntityRef(dimension=Dimension.THING, type="webhook_delivery", id=dead.id))
    assert [event.type for event in events] == [EventType.WEBHOOK_FAILED]

    service.redeliver(dead.id, PADELNEST)

    [again] = service.deliveries(endpoint.id, PADELNEST, limit=10, cursor=None).items
    assert again.status == DeliveryStatus.DELIVERED
    assert len(receiver.received) == 7
    assert receiver.received[-1].body == receiver.received[0].body  # the same bytes, signed anew


def test_redirects_are_not_followed(
    service: WebhookService, repository: Repository, clock: FakeClock, receiver: WebhookReceiver
) -> None:
    register(service, receiver.url)
    receiver.script = [302]
    [delivery_id] = deliveries_for(order_event(), repository, clock)
    with pytest.raises(WebhookDeliveryFailed, match="HTTP 302"):
        deliver(delivery_id, repository, clock)
    assert [request.path for request in receiver.received] == ["/hooks"]


def test_an_unreachable_endpoint_fails_the_attempt(
    service: WebhookService, repository: Repository, clock: FakeClock, allow_loopback: None
) -> None:
    register(service, "http://127.0.0.1:9/hooks")  # the discard port: nothing listens
    [delivery_id] = deliveries_for(order_event(), repository, clock)
    with pytest.raises(WebhookDeliveryFailed, match="ConnectionRefusedError"):
        deliver(delivery_id, repository, clock)


def test_deliveries_go_to_subscribed_endpoints_of_the_orders_creators_and_agent_once(
    service: WebhookService, repository: Repository, clock: FakeClock
) -> None:
    mine = register(service, "https://padelnest.example/hooks")
    register(service, "https://padelnest.example/failed", events=["checkout_failed"])
    register(service, "https://courtcraft.example/hooks", caller=COURTCRAFT)
    agents = register(service, "https://agent.example/hooks", caller=AGENT)

    first = deliveries_for(order_event(agent_id="chatgpt"), repository, clock)
    before = table_snapshot(repository.table)
    again = deliveries_for(order_event(agent_id="chatgpt"), repository, clock)

    assert again == first
    assert table_snapshot(repository.table) == before
    endpoints = {
        endpoint_id
        for endpoint_id in (mine.id, agents.id)
        if service.deliveries(endpoint_id, Principal(PrincipalKind.ADMIN), limit=10, cursor=None).items
    }
    assert endpoints == {mine.id, agents.id}
    assert len(first) == 2
    assert deliveries_for(order_event("evt2", creator_ids=[]), repository, clock) == []
    assert deliveries_for(order_event("evt3", "message_sent"), repository, clock) == []


def test_creators_of_the_order_lines_are_found_without_creator_ids(
    service: WebhookService, repository: Repository, clock: FakeClock
) -> None:
    register(service, "https://padelnest.example/hooks")
    event = order_event(creator_ids=None, lines=[{"creator_id": "padelnest"}, {"creator_id": "padelnest"}])
    assert len(deliveries_for(event, repository, clock)) == 1


def test_each_owner_sees_and_manages_only_their_own_endpoints(service: WebhookService) -> None:
    mine = register(service, "https://padelnest.example/hooks")
    theirs = register(service, "https://courtcraft.example/hooks", caller=COURTCRAFT)

    assert webhooks_of(service) == [mine.id]
    assert webhooks_of(service, COURTCRAFT) == [theirs.id]
    assert webhooks_of(service, AGENT) == []
    with pytest.raises(NotFound):
        service.delete(theirs.id, PADELNEST)
    with pytest.raises(NotFound):
        service.deliveries(theirs.id, PADELNEST, limit=10, cursor=None)
    with pytest.raises(Forbidden):
        webhooks_of(service, Principal(PrincipalKind.SHOPPER, "shopper-1"))
    with pytest.raises(Unauthorized):
        webhooks_of(service, Principal(PrincipalKind.ANONYMOUS))
    service.delete(theirs.id, Principal(PrincipalKind.ADMIN))
    assert webhooks_of(service, COURTCRAFT) == []


@pytest.mark.parametrize(
    ("url", "events", "code"),
    [
        ("http://padelnest.example/hooks", ["order_placed"], "invalid_webhook_url"),
        ("ftp://padelnest.example/hooks", ["order_placed"], "invalid_webhook_url"),
        ("https://user:pw@padelnest.example/hooks", ["order_placed"], "invalid_webhook_url"),
        ("https://padelnest.example/hooks", ["message_sent"], "unknown_event_type"),
    ],
)
def test_bad_registrations_are_refused_and_change_nothing(
    service: WebhookService, repository: Repository, url: str, events: list[str], code: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        register(service, url, events=events)
    assert refused.value.code == code
    assert table_snapshot(repository.table) == []


def test_local_http_endpoints_are_allowed_only_where_the_local_setting_says_so(
    service: WebhookService, repository: Repository, monkeypatch: pytest.MonkeyPatch
) -> None:
    local = ("http://127.0.0.1:8080/hooks", "http://localhost/hooks", "http://[::1]:8080/hooks")
    monkeypatch.delenv(webhooks.ALLOW_LOOPBACK_VARIABLE, raising=False)
    for url in local:
        with pytest.raises(InvalidInput) as refused:
            register(service, url)
        assert refused.value.code == "invalid_webhook_url"
    for url in ("https://127.0.0.1/hooks", "https://localhost/hooks"):
        with pytest.raises(InvalidInput) as refused:
            register(service, url)
        assert refused.value.code == "webhook_url_not_public"
    assert table_snapshot(repository.table) == []

    monkeypatch.setenv(webhooks.ALLOW_LOOPBACK_VARIABLE, "true")
    for url in local:
        assert register(service, url).url == url
    # Loopback only: the local setting opens no other private address.
    with pytest.raises(InvalidInput) as refused:
        register(service, "http://10.0.0.7/hooks")
    assert refused.value.code == "invalid_webhook_url"
    with pytest.raises(InvalidInput) as refused:
        register(service, "https://10.0.0.7/hooks")
    assert refused.value.code == "webhook_url_not_public"


@pytest.mark.parametrize(
    "url",
    [
        "https://10.1.2.3/hooks",
        "https://172.16.0.1/hooks",
        "https://192.168.1.10:8443/hooks",
        "https://100.64.0.1/hooks",  # carrier-grade NAT, shared
        "https://169.254.169.254/latest/meta-data/",  # the instance metadata service
        "https://[fd00:ec2::254]/latest/meta-data/",  # its IPv6 address
        "https://[::ffff:169.254.169.254]/",  # IPv4-mapped
        "https://[64:ff9b::a9fe:a9fe]/",  # NAT64 of 169.254.169.254
        "https://[2002:a9fe:a9fe::]/",  # 6to4 of 169.254.169.254
        "https://[fe80::1]/",
        "https://[::1]/",
        "https://127.0.0.2/",
        "https://0.0.0.0/",
        "https://224.0.0.1/",
        "https://240.0.0.1/",
        "https://2852039166/",  # 169.254.169.254 as one decimal number, which resolvers accept
        "https://localhost/",
        "https://metadata/computeMetadata/v1/",  # single-label names are internal
        "https://metadata.google.internal/",
        "https://printer.local/",
        "https://shop.localhost/",
    ],
)
def test_private_loopback_link_local_and_metadata_urls_are_refused_at_registration(
    service: WebhookService, repository: Repository, monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    monkeypatch.delenv(webhooks.ALLOW_LOOPBACK_VARIABLE, raising=False)
    with pytest.raises(InvalidInput) as refused:
        register(service, url)
    assert (refused.value.status, refused.value.code) == (422, "webhook_url_not_public")
    assert table_snapshot(repository.table) == []


def fake_dns(names: dict[str, list[str]]) -> Callable[[str, int], list[str]]:
    def resolve(host: str, port: int) -> list[str]:
        if host not in names:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return names[host]

    return resolve


def test_a_name_is_refused_when_any_address_it_resolves_to_is_private(
    repository: Repository, clock: FakeClock, machine: InlineStateMachine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(webhooks.ALLOW_LOOPBACK_VARIABLE, raising=False)
    resolved = {"inward.example": ["93.184.216.34", "10.0.0.7"], "shop.example": ["93.184.216.34"]}
    service = WebhookService(repository, machine, clock, resolve=fake_dns(resolved))
    with pytest.raises(InvalidInput) as refused:
        register(service, "https://inward.example/hooks")
    assert refused.value.code == "webhook_url_not_public"
    assert register(service, "https://shop.example/hooks").url == "https://shop.example/hooks"
    # A name that does not resolve (yet) is accepted: every attempt checks it again.
    assert register(service, "https://padelnest.example/hooks")


def test_each_attempt_checks_the_address_again_and_sends_nothing_inward(
    repository: Repository, clock: FakeClock, machine: InlineStateMachine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DNS rebinding: the name was public at registration and points at the metadata service now."""
    monkeypatch.delenv(webhooks.ALLOW_LOOPBACK_VARIABLE, raising=False)
    resolved = {"shop.example": ["93.184.216.34"]}
    service = WebhookService(repository, machine, clock, resolve=fake_dns(resolved))
    register(service, "https://shop.example/hooks")
    [delivery_id] = deliveries_for(order_event(), repository, clock)
    resolved["shop.example"] = ["169.254.169.254"]
    connections: list[object] = []
    monkeypatch.setattr(socket, "create_connection", lambda *args, **kw: connections.append(args))

    with pytest.raises(WebhookDeliveryFailed, match="not a public address"):
        deliver(delivery_id, repository, clock, resolve=fake_dns(resolved))

    assert connections == []
    [failed] = service.deliveries(webhooks_of(service)[0], PADELNEST, limit=10, cursor=None).items
    assert failed.status == DeliveryStatus.FAILED
    assert failed.last_error is not None
    assert "not a public address" in failed.last_error


def test_an_attempt_connects_to_the_address_it_checked(
    service: WebhookService, repository: Repository, clock: FakeClock, receiver: WebhookReceiver
) -> None:
    """The connection goes to the address the check saw, not to a second lookup's answer."""
    endpoint = register(service, receiver.url.replace("127.0.0.1", "localhost"))
    [delivery_id] = deliveries_for(order_event(), repository, clock)
    lookups: list[str] = []

    def resolve(host: str, port: int) -> list[str]:
        lookups.append(host)
        return ["127.0.0.1"]

    assert deliver(delivery_id, repository, clock, resolve=resolve).status == DeliveryStatus.DELIVERED
    assert lookups == ["localhost"]
    [request] = receiver.received
    assert request.headers["host"].startswith("localhost:")
    assert verify(request.body, request.headers["talkshop-signature"], endpoint.secret)


def test_the_step_function_entry_points(
    service: WebhookService, repository: Repository, clock: FakeClock, receiver: WebhookReceiver
) -> None:
    register(service, receiver.url)
    receiver.script = [500]
    eventbridge_event = {"detail-type": "order_placed", "detail": order_event().model_dump(mode="json")}

    planned = run_step("plan", eventbridge_event, repository, clock)
    [delivery_id] = planned["delivery_ids"]
    with pytest.raises(WebhookDeliveryFailed):
        run_step("deliver", {"delivery_id": delivery_id}, repository, clock)
    dead = run_step("record_dead_letter", {"delivery_id": delivery_id, "error": {}}, repository, clock)

    assert dead == {"delivery_id": delivery_id, "status": "dead_lettered"}
    # A late retry after the dead letter sends nothing more.
    assert run_step("deliver", {"delivery_id": delivery_id}, repository, clock)["status"] == "dead_lettered"
    assert len(receiver.received) == 1
    with pytest.raises(InvalidInput):
        run_step("launch", {"delivery_id": delivery_id}, repository, clock)


def test_the_state_machine_retries_the_error_deliver_raises_and_runs_the_steps_that_exist() -> None:
    definition = json.loads(ASL.read_text())
    processor = definition["States"]["DeliverEach"]["ItemProcessor"]["States"]
    [retry] = processor["Deliver"]["Retry"]
    assert WebhookDeliveryFailed.__name__ in retry["ErrorEquals"]
    assert retry["BackoffRate"] > 1
    assert retry["MaxAttempts"] >= 3
    assert processor["Deliver"]["Catch"][0]["Next"] == "RecordDeadLetter"
    steps = {
        state["Parameters"]["Payload"]["step"]
        for state in [definition["States"]["Plan"], *processor.values()]
    }
    assert steps == {"plan", "deliver", "record_dead_letter"}


# The routes, through the Lambda handler as API Gateway invokes it.


@pytest.fixture
def creator_keys(repository: Repository) -> dict[str, str]:
    creators = CreatorService(repository)
    return {
        "padelnest": creators.add("PadelNest", "padelnest").api_key,
        "courtcraft": creators.add("CourtCraft", "courtcraft").api_key,
    }


def test_the_routes_register_list_delete_and_redeliver(
    creator_keys: dict[str, str],
    repository: Repository,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Not configured until the test says so (a local runtime started earlier in this process sets it).
    monkeypatch.delenv(webhooks.STATE_MACHINE_VARIABLE, raising=False)
    key = creator_keys["padelnest"]
    registered = call(
        "POST", "/api/webhooks", key, {"url": "https://padelnest.example/h", "event_types": ["order_placed"]}
    )
    assert registered.status == 201, registered.body
    endpoint = registered.json()
    assert endpoint["secret"].startswith("whsec_")

    listed = call("GET", "/api/webhooks", key).json()["items"]
    assert [item["id"] for item in listed] == [endpoint["id"]]
    assert "secret" not in listed[0]
    assert call("GET", "/api/webhooks", creator_keys["courtcraft"]).json()["items"] == []
    assert_error(
        call("DELETE", f"/api/webhooks/{endpoint['id']}", creator_keys["courtcraft"]),
        404,
        "webhook_endpoint_not_found",
    )

    [delivery_id] = deliveries_for(order_event(), repository, clock)
    deliveries = call("GET", f"/api/webhooks/{endpoint['id']}/deliveries", key).json()
    assert [item["id"] for item in deliveries["items"]] == [delivery_id]
    assert "body" not in deliveries["items"][0]

    before = table_snapshot(repository.table)
    assert_error(
        call("POST", f"/api/webhooks/deliveries/{delivery_id}/redeliver", key), 503, "webhooks_not_configured"
    )
    assert table_snapshot(repository.table) == before

    stepfunctions = boto3.client("stepfunctions")
    machine = stepfunctions.create_state_machine(
        name="webhook-delivery",
        definition=json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}),
        roleArn="arn:aws:iam::123456789012:role/states",
    )
    monkeypatch.setenv(webhooks.STATE_MACHINE_VARIABLE, machine["stateMachineArn"])
    started = call("POST", f"/api/webhooks/deliveries/{delivery_id}/redeliver", key)
    assert started.status == 202, started.body
    [execution] = stepfunctions.list_executions(stateMachineArn=machine["stateMachineArn"])["executions"]
    described = stepfunctions.describe_execution(executionArn=execution["executionArn"])
    assert json.loads(described["input"]) == {"delivery_ids": [delivery_id]}

    assert call("DELETE", f"/api/webhooks/{endpoint['id']}", key).status == 204
    assert call("GET", "/api/webhooks", key).json()["items"] == []
    assert_error(call("GET", "/api/webhooks", ADMIN_KEY), 403, "not_webhook_owner")
    assert_error(
        call("POST", "/api/webhooks", None, {"url": "https://x.example", "event_types": ["order_placed"]}),
        401,
        "missing_credentials",
    )


# Review fixes: deleted endpoints, concurrent executions, redelivery's authorisation, secrets.


def test_a_deleted_endpoint_goes_straight_to_the_dead_letter_without_retries(
    service: WebhookService, repository: Repository, clock: FakeClock
) -> None:
    endpoint = register(service, "https://padelnest.example/hooks")
    [delivery_id] = deliveries_for(order_event(), repository, clock)
    service.delete(endpoint.id, PADELNEST)

    with pytest.raises(WebhookEndpointDeleted):
        run_step("deliver", {"delivery_id": delivery_id}, repository, clock)
    # The state machine retries WebhookDeliveryFailed only: this error goes to its Catch at once.
    [retry] = json.loads(ASL.read_text())["States"]["DeliverEach"]["ItemProcessor"]["States"]["Deliver"][
        "Retry"
    ]
    assert WebhookEndpointDeleted.__name__ not in retry["ErrorEquals"]
    dead = run_step("record_dead_letter", {"delivery_id": delivery_id}, repository, clock)
    assert dead["status"] == "dead_lettered"


def test_a_redelivery_racing_a_retry_adds_its_attempt_instead_of_failing_the_step(
    service: WebhookService, repository: Repository, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two executions on one delivery (a redelivery while the first still retries): the one whose write
    loses the race reads the delivery again; it neither fails (which would dead-letter the delivery) nor
    drops the other's attempt, and the delivery is reported delivered once."""
    register(service, "https://padelnest.example/hooks")
    [delivery_id] = deliveries_for(order_event(), repository, clock)
    other = webhooks._find_endpoint(
        repository, webhooks._load_delivery(repository, delivery_id)[1].endpoint_id
    )
    assert other is not None

    def post_while_the_other_execution_succeeds(*args: Any) -> tuple[int, None]:
        webhooks._record_attempt(
            repository, delivery_id, webhooks.Attempt(at=clock(), status_code=200), other
        )
        return 200, None

    monkeypatch.setattr(webhooks, "_post", post_while_the_other_execution_succeeds)
    delivered = deliver(delivery_id, repository, clock)

    assert delivered.status == DeliveryStatus.DELIVERED
    assert [attempt.status_code for attempt in delivered.attempts] == [200, 200]
    events = repository.events_of(
        EntityRef(dimension=Dimension.THING, type="webhook_delivery", id=delivery_id)
    )
    assert [event.type for event in events] == [EventType.WEBHOOK_DELIVERED]


def test_a_delivery_keeps_its_latest_attempts_only(
    service: WebhookService, repository: Repository, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    register(service, "https://padelnest.example/hooks")
    [delivery_id] = deliveries_for(order_event(), repository, clock)
    monkeypatch.setattr(webhooks, "_post", lambda *args: (500, "HTTP 500"))
    for _ in range(webhooks.MAX_ATTEMPTS_KEPT + 3):
        with pytest.raises(WebhookDeliveryFailed):
            deliver(delivery_id, repository, clock)
    monkeypatch.setattr(webhooks, "_post", lambda *args: (204, None))
    delivered = deliver(delivery_id, repository, clock)
    assert len(delivered.attempts) == webhooks.MAX_ATTEMPTS_KEPT
    assert delivered.attempts[-1].status_code == 204


def test_a_creator_cannot_redeliver_or_even_detect_another_creators_delivery(
    service: WebhookService, repository: Repository, clock: FakeClock, machine: InlineStateMachine
) -> None:
    register(service, "https://padelnest.example/hooks")
    [delivery_id] = deliveries_for(order_event(), repository, clock)
    before = table_snapshot(repository.table)

    with pytest.raises(NotFound) as theirs:
        service.redeliver(delivery_id, COURTCRAFT)
    with pytest.raises(NotFound) as missing:
        service.redeliver("whd_missing", COURTCRAFT)
    assert theirs.value.code == missing.value.code == "webhook_delivery_not_found"
    # Shoppers are refused alike whether the delivery or endpoint exists or not.
    shopper = Principal(PrincipalKind.SHOPPER, "shopper-1")
    for attempt in (
        lambda: service.redeliver(delivery_id, shopper),
        lambda: service.redeliver("whd_missing", shopper),
        lambda: service.deliveries(webhooks_of(service)[0], shopper, limit=10, cursor=None),
        lambda: service.deliveries("whe_missing", shopper, limit=10, cursor=None),
    ):
        with pytest.raises(Forbidden):
            attempt()
    with pytest.raises(Unauthorized):
        service.redeliver(delivery_id, Principal(PrincipalKind.ANONYMOUS))
    assert table_snapshot(repository.table) == before


def test_the_secret_stays_out_of_reprs_and_validation_errors(service: WebhookService) -> None:
    registered = register(service, "https://padelnest.example/hooks")
    stored = webhooks._find_endpoint(service._repository, registered.id)
    assert stored is not None
    assert stored.secret == registered.secret
    assert registered.secret not in repr(stored)
    assert registered.secret not in repr(registered)
    with pytest.raises(ValidationError) as invalid:
        webhooks.WebhookEndpoint.model_validate(stored.model_dump() | {"url": None})
    assert registered.secret not in str(invalid.value)
