"""A/B experiments of ranking strategies: the statistics against hand-computed values, sticky and
proportional assignment, arm validation, one running experiment, and what a chat turn records."""

from __future__ import annotations

import math
from collections import Counter

import pytest
from pydantic import ValidationError

from talkshop.advisor.chat_api import ChatMessageRequest, FeedbackRequest, ReactionInput, StartChatRequest
from talkshop.advisor.model import Reaction
from talkshop.advisor.ranking import WEIGHTS
from talkshop.advisor.service import ChatService
from talkshop.analytics.experiments import (
    Arm,
    Experiment,
    ExperimentRequest,
    Experiments,
    ExperimentStatus,
    Exposure,
    arm_for,
    bucket,
    difference,
    running,
    stage_chat_order,
    wilson,
)
from talkshop.auth import ADMIN, Principal, PrincipalKind
from talkshop.data.repository import Repository
from talkshop.errors import Conflict, NotFound
from talkshop.ontology.model import EventType
from tests.chat_fakes import EchoAdvisor
from tests.conftest import FakeClock
from tests.unit.test_chat_service import chats, engine

__all__ = ["chats", "engine"]  # the chat service over the echo engine, fixtures of test_chat_service

RACKET = "vantaro-aero-lite"


def request(*arms: Arm, name: str = "rating boost") -> ExperimentRequest:
    return ExperimentRequest(name=name, arms=list(arms))


CONTROL = Arm(name="control", traffic=50)
BOOST = Arm(name="rating-boost", traffic=50, weights={"rating": 1.5, "bestseller": 0.9})


def experiment(*arms: Arm, experiment_id: str = "exp_test") -> Experiment:
    from datetime import UTC, datetime

    return Experiment(
        id=experiment_id,
        name="test",
        arms=list(arms),
        status=ExperimentStatus.RUNNING,
        started_at=datetime(2026, 1, 1, tzinfo=UTC),
    )


# Statistics -----------------------------------------------------------------------------------------


def test_the_wilson_interval_matches_the_hand_computed_one() -> None:
    # 20 of 100, z = 1.96: centre (0.2 + z²/200) / (1 + z²/100) = 0.211100,
    # half width z / (1 + z²/100) * sqrt(0.2 * 0.8 / 100 + z² / 40000) = 0.077733.
    interval = wilson(20, 100)
    assert interval.estimate == 0.2
    assert interval.low == pytest.approx(0.133367, abs=1e-5)
    assert interval.high == pytest.approx(0.288833, abs=1e-5)


def test_the_wilson_interval_of_no_success_and_of_no_trial() -> None:
    # 0 of 10: the upper bound is z² / (n + z²) = 3.8415 / 13.8415.
    none = wilson(0, 10)
    assert (none.estimate, none.low) == (0.0, 0.0)
    assert none.high == pytest.approx(3.841459 / 13.841459, abs=1e-6)
    assert wilson(0, 0).model_dump() == {"estimate": 0.0, "low": 0.0, "high": 1.0}


def test_the_difference_interval_is_newcombes_worked_example() -> None:
    # Newcombe (1998), Statistics in Medicine 17: 56/70 - 48/80 = 0.2000, method 10: 0.0524 to 0.3339.
    interval = difference(56, 70, 48, 80)
    assert interval.estimate == pytest.approx(0.2)
    assert interval.low == pytest.approx(0.0524, abs=5e-5)
    assert interval.high == pytest.approx(0.3339, abs=5e-5)


def test_the_difference_interval_straddles_zero_for_equal_rates() -> None:
    interval = difference(30, 100, 30, 100)
    assert interval.estimate == 0
    assert interval.low < 0 < interval.high
    assert math.isclose(-interval.low, interval.high)


# Assignment -----------------------------------------------------------------------------------------


def test_a_shopper_always_gets_the_same_arm() -> None:
    running_experiment = experiment(CONTROL, BOOST)
    for shopper in (f"usr_{index}" for index in range(200)):
        first = arm_for(running_experiment, shopper)
        assert all(arm_for(running_experiment, shopper) == first for _ in range(3))
    assert bucket("exp_test", "usr_1") == bucket("exp_test", "usr_1")


def test_the_split_follows_the_traffic_shares_over_many_shoppers() -> None:
    arms = (
        Arm(name="control", traffic=50),
        Arm(name="b", traffic=30, weights={"style": 3.0}),
        Arm(name="c", traffic=20, weights={"style": 1.0}),
    )
    shoppers = 20_000
    counts = Counter(arm_for(experiment(*arms), f"usr_{index:05d}").name for index in range(shoppers))
    # Binomial standard deviation at 20 000 shoppers is at most 0.35 points: 1.5 points is > 4 of them.
    assert counts["control"] / shoppers == pytest.approx(0.50, abs=0.015)
    assert counts["b"] / shoppers == pytest.approx(0.30, abs=0.015)
    assert counts["c"] / shoppers == pytest.approx(0.20, abs=0.015)


def test_experiments_split_shoppers_independently() -> None:
    first = experiment(CONTROL, BOOST, experiment_id="exp_one")
    second = experiment(CONTROL, BOOST, experiment_id="exp_two")
    shoppers = [f"usr_{index}" for index in range(1000)]
    same = sum(arm_for(first, shopper) == arm_for(second, shopper) for shopper in shoppers)
    assert 400 < same < 600  # independent halves agree about half the time, not always


# Validation -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("arms", "problem"),
    [
        ([CONTROL, {"name": "b", "traffic": 50, "weights": {"colour": 1.0}}], "unknown ranking weights"),
        ([CONTROL, {"name": "b", "traffic": 50, "weights": {"skill": 9.5}}], "between 0 and 9"),
        ([CONTROL, {"name": "b", "traffic": 50, "weights": {"skill": -1}}], "between 0 and 9"),
        ([CONTROL, {"name": "b", "traffic": 40}], "add up to 100"),
        ([CONTROL, {"name": "control", "traffic": 50}], "must differ"),
        ([{"name": "control", "traffic": 50, "weights": {"skill": 2}}, BOOST], "control"),
        ([{"name": "Bad Name", "traffic": 50}, BOOST], "pattern"),
        ([{"name": "control", "traffic": 99}], "at least 2 items"),
    ],
)
def test_bad_arms_are_refused(arms: list[object], problem: str) -> None:
    with pytest.raises(ValidationError, match=problem):
        ExperimentRequest.model_validate({"name": "x", "arms": arms})


@pytest.mark.parametrize(
    ("body", "rule"),
    [
        ({"name": "   ", "arms": [CONTROL, BOOST]}, "string_too_short"),
        ({"name": "a\nb", "arms": [CONTROL, BOOST]}, "string_pattern_mismatch"),
        ({"name": "x" * 201, "arms": [CONTROL, BOOST]}, "string_too_long"),
        ({"name": 7, "arms": [CONTROL, BOOST]}, "string_type"),
        ({"name": "x", "arms": [CONTROL, {"name": "b", "traffic": 50.0}]}, "int_type"),
        ({"name": "x", "arms": [CONTROL, {"name": "b", "traffic": "50"}]}, "int_type"),
        ({"name": "x", "arms": [{"name": "a", "traffic": True}, {"name": "b", "traffic": 99}]}, "int_type"),
        (
            {"name": "x", "arms": [CONTROL, {"name": "b", "traffic": 50, "weights": {"skill": "2"}}]},
            "float_type",
        ),
        (
            {"name": "x", "arms": [CONTROL, {"name": "b", "traffic": 50, "weights": {"skill": True}}]},
            "float_type",
        ),
        (
            {"name": "x", "arms": [CONTROL, {"name": "b", "traffic": 50, "weights": {"skill": math.inf}}]},
            "finite",
        ),
        (
            {"name": "x", "arms": [CONTROL, {"name": "b", "traffic": 50, "weights": {"hue": 1}}]},
            "unknown_ranking",
        ),
        (
            {"name": "x", "arms": [CONTROL, {"name": "b", "traffic": 50, "weights": {"skill": 10}}]},
            "out_of_range",
        ),
        ({"name": "x", "arms": [CONTROL, {"name": "control", "traffic": 50}]}, "duplicate_arm_names"),
        ({"name": "x", "arms": [CONTROL, {"name": "b", "traffic": 49}]}, "traffic_not_100"),
        ({"name": "x", "arms": [BOOST, CONTROL]}, "control_changes_weights"),
        ({"name": "x", "arms": [{"name": f"a{i}", "traffic": 16} for i in range(6)]}, "too_long"),
        ({"name": "x", "arms": [CONTROL, BOOST], "owner": "me"}, "extra_forbidden"),
    ],
)
def test_a_request_is_strict_and_names_the_rule_it_breaks(body: dict[str, object], rule: str) -> None:
    """No lax coercion (a share of "50", 50.0 or true; a weight of "2" or true), a blank name is empty,
    and every refusal carries a machine-readable type the API answers in its 422's details."""
    with pytest.raises(ValidationError) as refused:
        ExperimentRequest.model_validate(body)
    assert any(rule in error["type"] for error in refused.value.errors())


def test_a_request_name_and_description_are_stripped() -> None:
    started = ExperimentRequest.model_validate(
        {"name": "  style first \t", "description": " why \n", "arms": [CONTROL, BOOST]}
    )
    assert (started.name, started.description) == ("style first", "why")


def test_an_arm_may_set_a_weight_anywhere_from_zero_to_three_times_its_default() -> None:
    arm = Arm(name="edges", traffic=50, weights={"skill": 0.0, "budget": 3 * WEIGHTS["budget"]})
    assert arm.weights == {"skill": 0.0, "budget": 9.0}


# Storage and the chat turn --------------------------------------------------------------------------


@pytest.fixture
def experiments(repository: Repository, clock: FakeClock) -> Experiments:
    return Experiments(repository, clock)


def chat(chats: ChatService, user_id: str, *messages: str) -> str:
    session_id = chats.start(StartChatRequest(user_id=user_id), ADMIN).id
    for message in messages:
        chats.reply(
            ChatMessageRequest(session_id=session_id, message=message),
            Principal(PrincipalKind.SHOPPER, user_id),
        )
    return session_id


def test_one_experiment_runs_at_a_time(experiments: Experiments, repository: Repository) -> None:
    first = experiments.start(request(CONTROL, BOOST))
    assert first.status == ExperimentStatus.RUNNING
    assert running(repository) == first
    with pytest.raises(Conflict) as refused:
        experiments.start(request(CONTROL, BOOST, name="another"))
    assert refused.value.code == "experiment_running"

    stopped = experiments.stop(first.id)
    assert stopped.status == ExperimentStatus.STOPPED
    assert stopped.stopped_at is not None
    assert running(repository) is None
    with pytest.raises(Conflict, match="stopped already"):
        experiments.stop(first.id)
    second = experiments.start(request(CONTROL, BOOST, name="another"))
    assert [item.id for item in experiments.list(limit=10, cursor=None).items] == [second.id, first.id]
    with pytest.raises(NotFound):
        experiments.get("exp_missing")


def test_a_chat_is_exposed_once_to_its_shoppers_arm_and_ranks_with_its_weights(
    experiments: Experiments, chats: ChatService, engine: EchoAdvisor
) -> None:
    started = experiments.start(request(CONTROL, BOOST))
    session_id = chat(chats, "ana", "hello", f"show me {RACKET}", f"and {RACKET} again")

    arm = arm_for(started, "ana")
    session = chats.get(session_id, Principal(PrincipalKind.SHOPPER, "ana"))
    assert session.experiment_arms == {started.id: arm.name}
    exposures = [event for event in chats.store.events_of(session_id) if event.type == "experiment_exposure"]
    # The greeting recommended nothing: the first turn that did exposed the chat, and only it.
    assert [(event.payload["experiment_id"], event.payload["arm"]) for event in exposures] == [
        (started.id, arm.name)
    ]
    assert all(turn.ranking_weights == {**WEIGHTS, **arm.weights} for turn in engine.turns)
    report = experiments.report(started.id)
    assert {row.arm: row.exposures for row in report.arms} == {
        "control": int(arm.name == "control"),
        "rating-boost": int(arm.name == "rating-boost"),
    }


def test_a_shopper_keeps_the_arm_across_chats_and_each_chat_counts_once(
    experiments: Experiments, chats: ChatService
) -> None:
    started = experiments.start(request(CONTROL, BOOST))
    shoppers = [f"shopper-{index}" for index in range(12)]
    for shopper in shoppers:
        for _ in range(2):
            chat(chats, shopper, f"show me {RACKET}")
    expected = Counter(arm_for(started, shopper).name for shopper in shoppers)
    report = experiments.report(started.id)
    assert {row.arm: row.exposures for row in report.arms} == {
        arm: 2 * expected[arm] for arm in ("control", "rating-boost")
    }
    assert [row.control for row in report.arms] == [True, False]
    assert report.arms[0].difference is None
    assert report.arms[1].difference is not None


def react(chats: ChatService, session_id: str, shopper: Principal) -> None:
    """Feedback on a chat that recommended both rackets: one bought, the other dismissed."""
    chats.give_feedback(
        session_id,
        FeedbackRequest(
            satisfaction=4,
            reactions=[
                ReactionInput(product_id=RACKET, reaction=Reaction.PURCHASED),
                ReactionInput(product_id="nordpala-fjord-round", reaction=Reaction.DISMISSED),
            ],
        ),
        shopper,
    )


def test_reactions_and_chat_orders_count_for_the_chats_arm(
    experiments: Experiments, chats: ChatService, repository: Repository, clock: FakeClock
) -> None:
    started = experiments.start(request(CONTROL, BOOST))
    ana = Principal(PrincipalKind.SHOPPER, "ana")
    session_id = chat(chats, "ana", f"show me {RACKET} nordpala-fjord-round")
    react(chats, session_id, ana)
    session = chats.get(session_id, ana)
    for orders_before in ([], ["ord_1"]):  # the chat's first order converts it; the second is an order
        work = repository.unit_of_work()
        stage_chat_order(work, session.model_copy(update={"orders": orders_before}), clock())
        work.commit()

    row = next(row for row in experiments.report(started.id).arms if row.arm == arm_for(started, "ana").name)
    assert (row.exposures, row.conversions, row.orders, row.purchased, row.dismissed) == (1, 1, 2, 1, 1)
    assert row.conversion_rate.estimate == 1.0


def test_a_chat_outside_any_experiment_records_no_exposure_and_counts_nothing(
    chats: ChatService, repository: Repository, clock: FakeClock, engine: EchoAdvisor
) -> None:
    session_id = chat(chats, "ana", f"show me {RACKET}")
    assert EventType.EXPERIMENT_EXPOSURE not in [event.type for event in chats.store.events_of(session_id)]
    assert engine.turns[0].ranking_weights == dict(WEIGHTS)
    work = repository.unit_of_work()
    stage_chat_order(work, chats.get(session_id, Principal(PrincipalKind.SHOPPER, "ana")), clock())
    assert work.operations == []
    assert Exposure("exp_x", "control") != Exposure("exp_x", "b")


def test_a_shopper_who_opted_out_of_analytics_is_not_put_in_an_experiment(
    experiments: Experiments, chats: ChatService, repository: Repository, engine: EchoAdvisor
) -> None:
    from talkshop.privacy import AnalyticsChoice, ShopperData

    started = experiments.start(request(CONTROL, BOOST))
    chat(chats, "ana", "hello")  # the shopper exists
    ShopperData(repository).choose_analytics(
        Principal(PrincipalKind.SHOPPER, "ana"), AnalyticsChoice(enabled=False)
    )
    engine.turns.clear()

    session_id = chat(chats, "ana", f"show me {RACKET}")

    assert chats.get(session_id, Principal(PrincipalKind.SHOPPER, "ana")).experiment_arms == {}
    assert EventType.EXPERIMENT_EXPOSURE not in [event.type for event in chats.store.events_of(session_id)]
    assert all(turn.ranking_weights == dict(WEIGHTS) for turn in engine.turns)
    assert sum(row.exposures for row in experiments.report(started.id).arms) == 0


def test_outcomes_after_the_shopper_opted_out_are_not_counted(
    experiments: Experiments, chats: ChatService, repository: Repository, clock: FakeClock
) -> None:
    """A chat exposed before the opt-out keeps its arm, but its orders and reactions from then on are
    the outcomes of a shopper who asked not to be measured: none of them counts."""
    from talkshop.privacy import AnalyticsChoice, ShopperData

    started = experiments.start(request(CONTROL, BOOST))
    ana = Principal(PrincipalKind.SHOPPER, "ana")
    session_id = chat(chats, "ana", f"show me {RACKET} nordpala-fjord-round")
    ShopperData(repository).choose_analytics(ana, AnalyticsChoice(enabled=False))

    react(chats, session_id, ana)
    work = repository.unit_of_work()
    stage_chat_order(work, chats.get(session_id, ana), clock())
    assert work.operations == []

    row = next(row for row in experiments.report(started.id).arms if row.arm == arm_for(started, "ana").name)
    # The exposure was counted while the shopper was measured; nothing after the choice is.
    assert (row.exposures, row.conversions, row.orders, row.purchased, row.dismissed) == (1, 0, 0, 0, 0)
