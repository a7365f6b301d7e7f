"""The rules engine really ranks with a chat's arm: two shoppers in different arms of a running
experiment ask the same thing and get a different first recommendation, each chat exposed to its arm."""

from __future__ import annotations

from talkshop.advisor.chat_api import ChatMessageRequest, StartChatRequest
from talkshop.advisor.engine import RulesAdvisor
from talkshop.advisor.intents import Language
from talkshop.advisor.model import ConversationSession, TurnContext
from talkshop.advisor.preferences import Budget, Preferences
from talkshop.advisor.ranking import WEIGHTS
from talkshop.advisor.service import ChatService
from talkshop.advisor.store import ConversationStore
from talkshop.advisor.tools import SearchProductsInput, ToolBox
from talkshop.analytics.experiments import Arm, ExperimentRequest, Experiments, arm_for
from talkshop.auth import ADMIN, Principal, PrincipalKind
from talkshop.data.repository import Repository
from talkshop.llm.cache import cache_key
from talkshop.llm.messages import ToolCall
from talkshop.search.demo_vectors import demo_products
from tests.conftest import FakeClock
from tests.unit.advisor_demo import NOW, demo_catalog

ASK = "I'm an intermediate player looking for a control racket under 200 euros"


# Rating and best-seller boosts at three times their defaults: the best-rated fit moves up.
def euros(amount: int) -> Budget:
    return Budget(max_amount=amount * 100, currency="EUR")


RATING_FIRST = Arm(name="rating-first", traffic=50, weights={"rating": 1.5, "bestseller": 0.9, "new": 0.9})


def test_shoppers_in_different_arms_get_different_rankings(repository: Repository, clock: FakeClock) -> None:
    experiment = Experiments(repository, clock).start(
        ExperimentRequest(name="rating first", arms=[Arm(name="control", traffic=50), RATING_FIRST])
    )
    shoppers = [f"usr_{index}" for index in range(40)]
    in_control = next(shopper for shopper in shoppers if arm_for(experiment, shopper).name == "control")
    in_treatment = next(
        shopper for shopper in shoppers if arm_for(experiment, shopper).name == "rating-first"
    )
    chats = ChatService(
        ConversationStore(repository, clock),
        demo_catalog(demo_products()),
        RulesAdvisor(demo_catalog(demo_products()), clock=lambda: NOW),
        clock,
    )

    def first_pick(shopper: str) -> tuple[str, dict[str, str]]:
        session_id = chats.start(StartChatRequest(user_id=shopper), ADMIN).id
        owner = Principal(PrincipalKind.SHOPPER, shopper)
        reply = chats.reply(ChatMessageRequest(session_id=session_id, message=ASK), owner)
        return reply.recommendations[0].product_id, chats.get(session_id, owner).experiment_arms

    control_pick, control_arms = first_pick(in_control)
    treatment_pick, treatment_arms = first_pick(in_treatment)
    assert control_pick == "vantaro-aero-control"
    assert treatment_pick == "brisa-zephyr"
    assert control_arms == {experiment.id: "control"}
    assert treatment_arms == {experiment.id: "rating-first"}


def test_the_llm_engines_search_tool_ranks_with_the_chats_weights_and_answers_are_not_shared() -> None:
    catalog = demo_catalog(demo_products())
    preferences = Preferences(skill_level="intermediate", play_style="control", budget=euros(200))
    ask = SearchProductsInput(query="control racket", category="padel-rackets", limit=3)

    def first(weights: dict[str, float]) -> str:
        toolbox = ToolBox(catalog, preferences, Language.EN, clock=lambda: NOW, weights=weights)
        toolbox.run(ToolCall(id="1", name="search_products", arguments=ask.model_dump()))
        return toolbox.searched[0]

    boosted = {**WEIGHTS, **RATING_FIRST.weights}
    assert first(dict(WEIGHTS)) == "vantaro-aero-control"
    assert first(boosted) == "brisa-zephyr"

    session = ConversationSession(id="chs_1", user_id="usr_1", started_at=NOW, last_activity_at=NOW)
    control, treatment = (
        TurnContext(session=session, message=ASK, ranking_weights=weights)
        for weights in (dict(WEIGHTS), boosted)
    )
    assert cache_key(control) != cache_key(treatment)
