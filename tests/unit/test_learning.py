"""The learning loop of the ranking weights: the direction of a step, its bounds, versions, rollback,
and the advisor ranking with the learned weights."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from talkshop.advisor.chat_api import ChatMessageRequest, StartChatRequest
from talkshop.advisor.model import Reaction, RecommendationType
from talkshop.advisor.ranking import WEIGHTS
from talkshop.advisor.service import ChatService
from talkshop.advisor.store import AiRecommendation, ConversationStore
from talkshop.analytics.learning import (
    MAX_CHANGE,
    MAX_STEP,
    MIN_OUTCOMES,
    LearnRequest,
    RankingWeights,
    RollbackRequest,
    bounds,
    current_weights,
    learned_step,
)
from talkshop.auth import ADMIN, Principal, PrincipalKind
from talkshop.clock import Clock
from talkshop.data.repository import Repository
from talkshop.errors import Conflict, InvalidInput
from tests.chat_fakes import EchoAdvisor, FixedCatalog, demo_products
from tests.conftest import FakeClock

# Shoppers bought what fit their play style and dismissed what was merely new.
BOUGHT = {"style": 1.0, "skill": 0.5, "new": 0.0, "rating": 0.5}
DISMISSED = {"style": -0.5, "skill": 0.5, "new": 1.0, "rating": 0.5}


def total_move(before: Mapping[str, float], after: Mapping[str, float]) -> float:
    return sum(abs(after[name] - before[name]) for name in WEIGHTS)


def test_features_strong_in_purchases_gain_and_those_strong_in_dismissals_lose() -> None:
    weights, signal = learned_step(WEIGHTS, [BOUGHT] * 10, [DISMISSED] * 10)
    assert signal["style"] == 1.5
    assert signal["new"] == -1.0
    assert signal["skill"] == signal["rating"] == 0
    assert weights["style"] > WEIGHTS["style"]
    assert weights["new"] < WEIGHTS["new"]
    assert weights["skill"] == WEIGHTS["skill"]
    assert weights["rating"] == WEIGHTS["rating"]


def test_one_step_moves_the_weights_by_at_most_the_step_limit() -> None:
    strong = dict.fromkeys(WEIGHTS, 1.0)
    weak = dict.fromkeys(WEIGHTS, -1.0)
    weights, _ = learned_step(WEIGHTS, [strong], [weak])
    assert total_move(WEIGHTS, weights) == pytest.approx(MAX_STEP * sum(WEIGHTS.values()), abs=1e-3)
    assert all(weights[name] > WEIGHTS[name] for name in WEIGHTS)


def test_no_run_takes_a_weight_beyond_thirty_percent_of_its_default() -> None:
    weights = dict(WEIGHTS)
    for _ in range(40):  # the same evidence over and over
        weights, _ = learned_step(weights, [BOUGHT] * 5, [DISMISSED] * 5)
    assert weights["style"] == pytest.approx(WEIGHTS["style"] * (1 + MAX_CHANGE))
    assert weights["new"] == pytest.approx(WEIGHTS["new"] * (1 - MAX_CHANGE))
    for name in WEIGHTS:
        low, high = bounds(name)
        assert low <= weights[name] <= high


# Versions on the table ------------------------------------------------------------------------------


@pytest.fixture
def weights(repository: Repository, clock: FakeClock) -> RankingWeights:
    return RankingWeights(repository, clock)


def record_outcomes(repository: Repository, clock: Clock, purchased: int, dismissed: int) -> None:
    store = ConversationStore(repository, clock)
    outcomes = [(Reaction.PURCHASED, BOUGHT)] * purchased + [(Reaction.DISMISSED, DISMISSED)] * dismissed
    # One without features (recorded before recommendations carried them) and an ignored reaction.
    outcomes += [(Reaction.PURCHASED, {}), (Reaction.INTERESTED, BOUGHT)]
    for index, (reaction, features) in enumerate(outcomes):
        work = repository.unit_of_work()
        store.stage_recommendation(
            work,
            AiRecommendation(
                id=f"rec_{index}",
                conversation_id=f"chs_{index}",
                user_id="ana",
                product_id="vantaro-aero-lite",
                creator_id="padelnest",
                type=RecommendationType.PRIMARY,
                reasons=["fits"],
                confidence=0.8,
                message_index=1,
                features=features,
                reaction=reaction,
                created_at=clock(),
            ),
        )
        work.commit()


def test_without_enough_outcomes_nothing_is_learnt(
    weights: RankingWeights, repository: Repository, clock: FakeClock
) -> None:
    record_outcomes(repository, clock, purchased=MIN_OUTCOMES, dismissed=MIN_OUTCOMES - 1)
    with pytest.raises(Conflict) as refused:
        weights.learn(LearnRequest())
    assert refused.value.code == "not_enough_outcomes"
    assert refused.value.details == {"purchased": MIN_OUTCOMES, "dismissed": MIN_OUTCOMES - 1}
    assert weights.current().version == 0


def test_learning_writes_a_version_with_its_outcomes_and_rollback_restores_any_earlier_one(
    weights: RankingWeights, repository: Repository, clock: FakeClock
) -> None:
    record_outcomes(repository, clock, purchased=6, dismissed=7)
    first = weights.learn(LearnRequest(days=7))
    assert (first.version, first.reason) == (1, "learned")
    assert first.outcomes is not None
    assert (first.outcomes.purchased, first.outcomes.dismissed) == (6, 7)
    assert first.weights["style"] > WEIGHTS["style"]
    second = weights.learn(LearnRequest(days=7))
    assert second.version == 2
    assert second.weights["style"] == first.weights["style"] == bounds("style")[1]  # held at its bound
    assert current_weights(repository) == second.weights

    back = weights.rollback(RollbackRequest(version=1))
    assert (back.version, back.reason, back.rolled_back_to) == (3, "rollback", 1)
    assert back.weights == first.weights
    assert current_weights(repository) == first.weights
    to_defaults = weights.rollback(RollbackRequest(version=0))
    assert to_defaults.weights == dict(WEIGHTS)

    history = weights.history()
    assert history.current == to_defaults
    assert [version.version for version in history.history] == [4, 3, 2, 1, 0]
    with pytest.raises(InvalidInput):
        weights.rollback(RollbackRequest(version=4))


def test_the_advisor_ranks_with_the_learned_weights(
    weights: RankingWeights, repository: Repository, clock: FakeClock
) -> None:
    record_outcomes(repository, clock, purchased=5, dismissed=5)
    learned = weights.learn(LearnRequest())
    engine = EchoAdvisor()
    chats = ChatService(ConversationStore(repository, clock), FixedCatalog(demo_products()), engine, clock)
    session_id = chats.start(StartChatRequest(user_id="ana"), ADMIN).id
    chats.reply(
        ChatMessageRequest(session_id=session_id, message="hello"), Principal(PrincipalKind.SHOPPER, "ana")
    )
    assert engine.turns[0].ranking_weights == learned.weights
    assert learned.weights != dict(WEIGHTS)
