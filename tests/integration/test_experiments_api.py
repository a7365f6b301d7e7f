"""The admin API of experiments and ranking weights through the admin Lambda handler on moto, with
chats and a checkout run in-process: the report's counts agree with a recount from the recorded events
(each chat's experiment_exposure and its orders' order_placed_from_chat)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from talkshop.advisor.chat_api import ChatMessageRequest, StartChatRequest
from talkshop.advisor.intents import Intent, Language
from talkshop.advisor.model import (
    AdvisorReply,
    CheckoutRequest,
    RecommendedProduct,
    ReplyEvent,
    TextDelta,
    TurnContext,
)
from talkshop.advisor.service import ChatService
from talkshop.advisor.store import ConversationStore
from talkshop.auth import ADMIN, Principal, PrincipalKind
from talkshop.catalog.creators import CreatorService
from talkshop.catalog.service import CatalogService
from talkshop.clock import utc_now
from talkshop.commerce.checkout import CheckoutCommand, CheckoutService
from talkshop.commerce.checkout_steps import CheckoutSteps
from talkshop.commerce.payments import provider_from_settings
from talkshop.data.repository import Repository
from talkshop.ontology.model import Dimension, EntityRef, EventType, ThingType
from tests.chat_fakes import FixedCatalog
from tests.commerce_fakes import InProcessCheckoutRunner, add_product
from tests.conftest import ADMIN_KEY
from tests.integration.http import assert_error, call
from tests.unit.test_learning import record_outcomes

EXPERIMENTS = "/api/admin/experiments"
WEIGHTS_PATH = "/api/admin/ranking-weights"
ARMS = [
    {"name": "control", "traffic": 50},
    {"name": "style-heavy", "traffic": 50, "weights": {"style": 4.0, "skill": 2.0}},
]


class Shopper:
    """An engine that recommends the racket on "show", and buys it on "buy"."""

    def respond(self, turn: TurnContext) -> Iterator[ReplyEvent]:
        buying = "buy" in turn.message
        yield TextDelta(text="Here.")
        yield AdvisorReply(
            text="Here.",
            language=Language.EN,
            intent=Intent.BUY if buying else Intent.DISCOVER,
            preferences=turn.session.preferences,
            recommendations=[
                RecommendedProduct(product_id="aero", reasons=["fits"], confidence=0.8, features={"style": 1})
            ],
            shown_products=["aero"],
            checkout_request=CheckoutRequest(product_id="aero", quantity=1) if buying else None,
        )


@pytest.fixture
def steps(repository: Repository) -> CheckoutSteps:
    add_product(repository, "aero", price=5995, stock=50)
    return CheckoutSteps(repository, provider_from_settings(repository))


def start_experiment() -> dict[str, Any]:
    started = call("POST", EXPERIMENTS, ADMIN_KEY, {"name": "Style first", "arms": ARMS})
    assert started.status == 201, started.body
    body: dict[str, Any] = started.json()
    assert started.headers["Location"].endswith(f"{EXPERIMENTS}/{body['id']}")
    return body


def test_only_the_admin_runs_experiments(repository: Repository) -> None:
    CreatorService(repository).add("PadelNest", "padelnest")
    creator_key = CreatorService(repository).issue_key("padelnest").api_key
    for method, path in (("GET", EXPERIMENTS), ("GET", WEIGHTS_PATH), ("POST", f"{WEIGHTS_PATH}/learn")):
        assert_error(call(method, path, None, {}), 401, "missing_credentials")
        assert_error(call(method, path, creator_key, {}), 403, "admin_only")


def test_bad_experiments_are_refused_with_a_code(repository: Repository) -> None:
    unknown = [ARMS[0], {"name": "b", "traffic": 50, "weights": {"colour": 1}}]
    assert call("POST", EXPERIMENTS, ADMIN_KEY, {"name": "x", "arms": unknown}).status == 422
    split = [ARMS[0], {"name": "b", "traffic": 20}]
    assert call("POST", EXPERIMENTS, ADMIN_KEY, {"name": "x", "arms": split}).status == 422
    assert_error(call("GET", f"{EXPERIMENTS}/exp_missing", ADMIN_KEY), 404, "experiment_not_found")
    assert_error(call("GET", f"{EXPERIMENTS}/exp_missing/report", ADMIN_KEY), 404, "experiment_not_found")


@pytest.mark.parametrize(
    ("body", "rule"),
    [
        ({"name": " \t ", "arms": ARMS}, "string_too_short"),
        ({"name": "x", "arms": [{"name": "control", "traffic": 50.0}, ARMS[1]]}, "int_type"),
        ({"name": "x", "arms": [{"name": "control", "traffic": "50"}, ARMS[1]]}, "int_type"),
        (
            {"name": "x", "arms": [{"name": "control", "traffic": True}, {"name": "b", "traffic": 99}]},
            "int_type",
        ),
        (
            {"name": "x", "arms": [ARMS[0], {"name": "b", "traffic": 50, "weights": {"style": "4"}}]},
            "float_type",
        ),
        (
            {"name": "x", "arms": [ARMS[0], {"name": "b", "traffic": 50, "weights": {"style": False}}]},
            "float_type",
        ),
        ({"name": "x", "arms": [ARMS[0], {"name": "control", "traffic": 50}]}, "duplicate_arm_names"),
        ({"name": "x", "arms": [ARMS[0], {"name": "b", "traffic": 20}]}, "traffic_not_100"),
    ],
)
def test_a_lax_experiment_is_refused_with_the_rule_it_breaks(
    repository: Repository, body: dict[str, Any], rule: str
) -> None:
    refused = call("POST", EXPERIMENTS, ADMIN_KEY, body)
    assert_error(refused, 422, "validation_error")
    assert rule in [detail["type"] for detail in refused.json()["error"]["details"]]
    assert call("GET", EXPERIMENTS, ADMIN_KEY).json()["items"] == []


def test_an_experiment_name_is_stored_stripped(repository: Repository) -> None:
    started = call("POST", EXPERIMENTS, ADMIN_KEY, {"name": "  Style first  ", "arms": ARMS})
    assert started.status == 201, started.body
    assert started.json()["name"] == "Style first"


def test_an_experiment_from_start_to_report(repository: Repository, steps: CheckoutSteps) -> None:
    experiment = start_experiment()
    assert_error(
        call("POST", EXPERIMENTS, ADMIN_KEY, {"name": "Another", "arms": ARMS}), 409, "experiment_running"
    )
    assert call("GET", f"{EXPERIMENTS}/{experiment['id']}", ADMIN_KEY).json()["status"] == "running"

    store = ConversationStore(repository)
    racket = CatalogService(repository).get_products(["aero"])["aero"]
    chats = ChatService(store, FixedCatalog([racket]), Shopper(), carts=steps.carts)
    checkout = CheckoutService(steps.store, store, InProcessCheckoutRunner(steps.table()))
    sessions = []
    for index in range(16):
        user_id = f"usr_{index:02d}"
        session_id = chats.start(StartChatRequest(user_id=user_id), ADMIN).id
        owner = Principal(PrincipalKind.SHOPPER, user_id)
        chats.reply(ChatMessageRequest(session_id=session_id, message="show me a racket"), owner)
        if index % 3 == 0:  # every third shopper buys, twice for the first
            for _ in range(2 if index == 0 else 1):
                reply = chats.reply(ChatMessageRequest(session_id=session_id, message="buy it"), owner)
                assert reply.checkout is not None
                record = checkout.run(
                    CheckoutCommand(
                        cart_id=reply.checkout.cart_id,
                        user_id=user_id,
                        session_id=session_id,
                        shipping_option="standard",
                        payment_token="spt_test_ok",
                    )
                )
                assert record.order_id is not None, record
        sessions.append(session_id)

    report = call("GET", f"{EXPERIMENTS}/{experiment['id']}/report", ADMIN_KEY)
    assert report.status == 200, report.body
    arms = {row["arm"]: row for row in report.json()["arms"]}
    recounted = recount(store, sessions, experiment["id"])
    for arm in ("control", "style-heavy"):
        row = arms[arm]
        assert (row["exposures"], row["conversions"], row["orders"]) == recounted[arm], arm
        assert row["conversionRate"]["estimate"] == pytest.approx(row["conversions"] / row["exposures"])
        assert (
            row["conversionRate"]["low"] <= row["conversionRate"]["estimate"] <= row["conversionRate"]["high"]
        )
    assert sum(arms[arm]["exposures"] for arm in arms) == 16
    assert sum(arms[arm]["orders"] for arm in arms) == 7
    # Every recommendation of the bought racket is marked purchased, once: each turn recommended it
    # (the first buyer's three turns, two turns of each of the five others).
    assert sum(arms[arm]["purchased"] for arm in arms) == 3 + 5 * 2
    assert arms["control"]["difference"] is None
    assert arms["style-heavy"]["difference"]["estimate"] == pytest.approx(
        arms["style-heavy"]["conversionRate"]["estimate"] - arms["control"]["conversionRate"]["estimate"]
    )

    stopped = call("POST", f"{EXPERIMENTS}/{experiment['id']}/stop", ADMIN_KEY)
    assert stopped.status == 200
    assert stopped.json()["status"] == "stopped"
    assert_error(call("POST", f"{EXPERIMENTS}/{experiment['id']}/stop", ADMIN_KEY), 409, "experiment_stopped")
    listed = call("GET", EXPERIMENTS, ADMIN_KEY, query="limit=5").json()
    assert [item["id"] for item in listed["items"]] == [experiment["id"]]


def recount(
    store: ConversationStore, sessions: list[str], experiment_id: str
) -> dict[str, tuple[int, int, int]]:
    """(exposures, converted chats, orders) per arm from the events alone."""
    exposures: Counter[str] = Counter()
    conversions: Counter[str] = Counter()
    orders: Counter[str] = Counter()
    for session_id in sessions:
        exposed = [
            event.payload["arm"]
            for event in store.events_of(session_id)
            if event.type == EventType.EXPERIMENT_EXPOSURE and event.payload["experiment_id"] == experiment_id
        ]
        assert len(exposed) <= 1
        if not exposed:
            continue
        arm = exposed[0]
        exposures[arm] += 1
        loaded = store.get(session_id)
        assert loaded is not None
        placed = [
            event
            for order_id in loaded.session.orders
            for event in store.repository.events_of(
                EntityRef(dimension=Dimension.THING, type=ThingType.ORDER, id=order_id)
            )
            if event.type == EventType.ORDER_PLACED_FROM_CHAT
            and event.payload["conversation_id"] == session_id
        ]
        orders[arm] += len(placed)
        conversions[arm] += bool(placed)
    return {arm: (exposures[arm], conversions[arm], orders[arm]) for arm in ("control", "style-heavy")}


def test_ranking_weights_learn_and_roll_back(repository: Repository) -> None:
    current = call("GET", WEIGHTS_PATH, ADMIN_KEY)
    assert current.status == 200
    assert current.json()["current"]["version"] == 0
    assert current.json()["current"]["reason"] == "default"
    assert_error(call("POST", f"{WEIGHTS_PATH}/learn", ADMIN_KEY, {}), 409, "not_enough_outcomes")
    assert call("POST", f"{WEIGHTS_PATH}/learn", ADMIN_KEY, {"days": 0}).status == 422
    assert_error(
        call("POST", f"{WEIGHTS_PATH}/rollback", ADMIN_KEY, {"version": 0}), 422, "not_an_earlier_version"
    )
    assert call("POST", f"{WEIGHTS_PATH}/rollback", ADMIN_KEY, {"version": -1}).status == 422

    record_outcomes(repository, utc_now, purchased=5, dismissed=5)  # today: the API reads the real clock
    learned = call("POST", f"{WEIGHTS_PATH}/learn", ADMIN_KEY, {"days": 1})
    assert learned.status == 201, learned.body
    assert learned.json()["outcomes"]["purchased"] == 5
    back = call("POST", f"{WEIGHTS_PATH}/rollback", ADMIN_KEY, {"version": 0})
    assert back.status == 201
    assert back.json()["rolledBackTo"] == 0
    history = call("GET", WEIGHTS_PATH, ADMIN_KEY).json()
    assert [item["version"] for item in history["history"]] == [2, 1, 0]
    assert history["current"]["weights"] == history["history"][-1]["weights"]
