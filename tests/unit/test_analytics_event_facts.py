"""What the chat's events carry for analytics (schema v1): the platform on every chat event, the
creator on product events, the reply's latency, products shown and their creators on message_sent, how
far an abandoned chat got, and the creators whose products came up in a rated or abandoned chat."""

from __future__ import annotations

from datetime import timedelta

from talkshop.advisor.chat_api import FeedbackRequest, StartChatRequest
from talkshop.advisor.engine import RulesAdvisor
from talkshop.advisor.model import Platform
from talkshop.advisor.service import ChatService
from talkshop.advisor.store import ConversationStore
from talkshop.analytics.aggregate import fold
from talkshop.auth import ANONYMOUS
from talkshop.data.repository import Repository
from talkshop.ontology.model import EventType
from tests.conftest import FakeClock
from tests.unit.advisor_demo import demo_catalog, products_by_id

# The chat service on moto with the scripted engine, as its own tests build it.
from tests.unit.test_chat_service import RACKET, chats, engine, say, shopper  # noqa: F401

COURTCRAFT_RACKET = "courtcraft-atelier-round"  # another creator's than RACKET (padelnest's)


def test_chat_events_carry_platform_creator_and_latency(chats: ChatService, clock: FakeClock) -> None:  # noqa: F811
    session_id = chats.start(StartChatRequest(user_id="ana", platform=Platform.GEMINI), ANONYMOUS).id
    say(chats, session_id, f"show me {RACKET}")
    say(chats, session_id, "hmm")

    events = chats.store.events_of(session_id)
    assert {event.payload["platform"] for event in events} == {"gemini"}
    racket = chats.catalog.products([RACKET])[RACKET]
    product_events = [e for e in events if e.payload.get("product_id") == RACKET]
    assert {e.type for e in product_events} == {
        EventType.PRODUCT_MENTIONED,
        EventType.PRODUCT_RECOMMENDED,
        EventType.PRODUCT_DETAILS_VIEWED,
    }
    assert {e.payload["creator_id"] for e in product_events} == {racket.creator_id}
    sent = [e.payload for e in events if e.type == EventType.MESSAGE_SENT]
    assert [p["products_shown"] for p in sent] == [1, 0]
    assert all(isinstance(p["latency_ms"], int) and p["latency_ms"] >= 0 for p in sent)
    # The turn that showed the racket names its creator; the one that showed nothing names nobody.
    assert [p["creator_ids"] for p in sent] == [[racket.creator_id], []]


def test_a_rating_names_every_creator_whose_products_came_up_in_the_chat(
    chats: ChatService,  # noqa: F811
) -> None:
    session_id = chats.start(StartChatRequest(user_id="ana"), ANONYMOUS).id
    say(chats, session_id, f"show me {RACKET}")
    say(chats, session_id, f"and {COURTCRAFT_RACKET} please")
    say(chats, session_id, "thanks")  # a later turn without products does not forget them
    chats.give_feedback(session_id, FeedbackRequest(satisfaction=4), shopper("ana"))

    (rated,) = [e for e in chats.store.events_of(session_id) if e.type == EventType.FEEDBACK_GIVEN]
    assert rated.payload["creator_ids"] == ["courtcraft", "padelnest"]


def test_an_abandoned_chat_says_how_far_it_got(chats: ChatService, clock: FakeClock) -> None:  # noqa: F811
    quiet = chats.start(StartChatRequest(user_id="ana"), ANONYMOUS).id
    shown = chats.start(StartChatRequest(user_id="bob"), ANONYMOUS).id
    say(chats, shown, f"show me {RACKET}")
    clock.now += timedelta(minutes=31)

    assert sorted(chats.sweep_abandoned()) == sorted([quiet, shown])

    def last_step(session_id: str) -> str:
        (abandoned,) = [e for e in chats.store.events_of(session_id) if e.type == EventType.CHAT_ABANDONED]
        return str(abandoned.payload["last_step"])

    assert (last_step(quiet), last_step(shown)) == ("started", "details")

    def creators(session_id: str) -> list[str]:
        (abandoned,) = [e for e in chats.store.events_of(session_id) if e.type == EventType.CHAT_ABANDONED]
        return list(abandoned.payload["creator_ids"])

    racket = chats.catalog.products([RACKET])[RACKET]
    assert (creators(quiet), creators(shown)) == ([], [racket.creator_id])


def test_a_search_that_finds_nothing_counts_though_its_cards_stay_on_screen(
    repository: Repository, clock: FakeClock
) -> None:
    """The rules engine over the demo catalog: "cheaper" past the cheapest racket finds nothing and keeps
    the earlier cards; its message_sent says what it found, and it counts as a search without results."""
    catalog = demo_catalog(list(products_by_id().values()))
    rules = ChatService(ConversationStore(repository, clock), catalog, RulesAdvisor(catalog, clock), clock)
    session_id = rules.start(StartChatRequest(user_id="ana"), ANONYMOUS).id
    for message in ("a padel racket for a beginner", "cheaper", "cheaper"):
        say(rules, session_id, message)

    sent = [e for e in rules.store.events_of(session_id) if e.type == EventType.MESSAGE_SENT]
    found_first, found_nothing = sent[0], sent[-1]
    assert found_first.payload["products_found"] > 0
    assert found_nothing.payload["products_shown"] > 0
    assert found_nothing.payload["products_found"] == 0
    counted = [{name for counts in fold(event).counts.values() for name in counts} for event in sent]
    assert ["no_result_searches" in names for names in (counted[0], counted[-1])] == [False, True]
