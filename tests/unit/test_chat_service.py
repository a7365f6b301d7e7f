"""The chat service on moto DynamoDB with a scripted engine: who may do what, what a turn records
(whole or not at all), memory across chats, feedback and the abandoned-chat sweep."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from talkshop.advisor import service as service_module
from talkshop.advisor.chat_api import (
    ChatMessageRequest,
    ChatReply,
    FeedbackRequest,
    ReactionInput,
    StartChatRequest,
)
from talkshop.advisor.model import Platform, Reaction, SessionStatus, TextDelta
from talkshop.advisor.preferences import Budget, Preferences
from talkshop.advisor.service import ChatService
from talkshop.advisor.store import ConversationStore, customer_ref, session_ref
from talkshop.auth import ADMIN, ANONYMOUS, Principal, PrincipalKind, authenticate
from talkshop.catalog.creators import CreatorService
from talkshop.catalog.service import product_ref
from talkshop.data.repository import Repository
from talkshop.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthorized
from talkshop.ontology.model import ConnectionType, EventType
from talkshop.settings import get_settings
from tests.chat_fakes import EchoAdvisor, FixedCatalog, demo_products
from tests.conftest import FakeClock, table_snapshot

RACKET = "vantaro-aero-lite"
OTHER_RACKET = "nordpala-fjord-round"


@pytest.fixture
def engine() -> EchoAdvisor:
    return EchoAdvisor()


@pytest.fixture
def chats(repository: Repository, clock: FakeClock, engine: EchoAdvisor) -> ChatService:
    return ChatService(ConversationStore(repository, clock), FixedCatalog(demo_products()), engine, clock)


def shopper(user_id: str) -> Principal:
    return Principal(PrincipalKind.SHOPPER, user_id)


def start(chats: ChatService, user_id: str = "ana") -> str:
    return chats.start(StartChatRequest(user_id=user_id), ANONYMOUS).id


def say(chats: ChatService, session_id: str, message: str, principal: Principal | None = None) -> ChatReply:
    owner = principal or shopper(chats.get(session_id, ADMIN).user_id)
    return chats.reply(ChatMessageRequest(session_id=session_id, message=message), owner)


def event_types(chats: ChatService, session_id: str) -> list[EventType]:
    return [event.type for event in chats.store.events_of(session_id)]


def test_a_chat_without_credentials_creates_a_shopper_whose_token_works(
    chats: ChatService, repository: Repository
) -> None:
    started = chats.start(StartChatRequest(platform=Platform.CLAUDE), ANONYMOUS)
    assert started.shopper_token is not None
    assert started.shopper_token.startswith("tsh_")
    assert started.user_id.startswith("usr_")
    assert started.status == SessionStatus.ACTIVE
    assert started.platform == Platform.CLAUDE
    principal = authenticate(f"Bearer {started.shopper_token}", repository, get_settings())
    assert principal == Principal(PrincipalKind.SHOPPER, started.user_id)
    assert principal.ref == customer_ref(started.user_id)
    assert event_types(chats, started.id) == [EventType.CONVERSATION_STARTED]
    memory = chats.store.memory(started.user_id)
    assert memory is not None
    assert memory.sessions == 1


def test_a_named_new_shopper_is_created_but_an_existing_one_needs_their_token(
    chats: ChatService, table: Any
) -> None:
    first = chats.start(StartChatRequest(user_id="ana"), ANONYMOUS)
    assert first.user_id == "ana"
    assert first.shopper_token
    before = table_snapshot(table)
    with pytest.raises(Unauthorized) as refused:
        chats.start(StartChatRequest(user_id="ana"), ANONYMOUS)
    assert refused.value.code == "shopper_token_required"
    assert table_snapshot(table) == before

    again = chats.start(StartChatRequest(), shopper("ana"))
    assert again.user_id == "ana"
    assert again.shopper_token is None
    memory = chats.store.memory("ana")
    assert memory is not None
    assert memory.sessions == 2
    with pytest.raises(Forbidden):
        chats.start(StartChatRequest(user_id="bob"), shopper("ana"))


def test_the_admin_starts_chats_for_any_user_and_creator_keys_cannot_chat(
    chats: ChatService, repository: Repository
) -> None:
    with pytest.raises(InvalidInput) as refused:
        chats.start(StartChatRequest(), ADMIN)
    assert refused.value.code == "user_required"
    created = chats.start(StartChatRequest(user_id="carla"), ADMIN)
    assert created.shopper_token  # the platform hands it to its user
    assert chats.start(StartChatRequest(user_id="carla"), ADMIN).shopper_token is None

    CreatorService(repository).add("PadelNest", "padelnest")
    with pytest.raises(Forbidden) as creator_refused:
        chats.start(StartChatRequest(), Principal(PrincipalKind.CREATOR, "padelnest"))
    assert creator_refused.value.code == "not_a_shopper"
    with pytest.raises(Forbidden) as creator_list_refused:
        chats.list_sessions("carla", Principal(PrincipalKind.CREATOR, "padelnest"), limit=10, cursor=None)
    assert creator_list_refused.value.code == "not_a_shopper"


def test_a_turn_builds_cards_from_data_and_records_everything_once(
    chats: ChatService, repository: Repository
) -> None:
    session_id = start(chats)
    reply = say(chats, session_id, f"compare {RACKET} ghost-racket {OTHER_RACKET} under 100 euros")

    products = {product.id: product for product in demo_products()}
    assert [card.id for card in reply.suggested_products] == [RACKET, OTHER_RACKET]  # the ghost is gone
    card = reply.suggested_products[0]
    assert card.price == products[RACKET].price
    assert card.price_display == f"€{products[RACKET].price / 100:.2f}"
    assert card.in_stock == (products[RACKET].stock > 0)
    assert card.creator_id == products[RACKET].creator_id
    assert [item.product_id for item in reply.recommendations] == [RACKET, OTHER_RACKET]
    assert reply.comparison is not None
    assert reply.internal_state.engine == "echo"
    assert reply.internal_state.preferences.budget is not None
    assert reply.usage.input_tokens == 10

    session = chats.get(session_id, ADMIN)
    assert [message.role for message in session.messages] == ["user", "assistant"]
    assert session.message_count == 2
    assert session.messages[1].mentioned_products == [RACKET, OTHER_RACKET]
    assert session.suggested_products == [RACKET, OTHER_RACKET]
    assert session.shown_products == [RACKET, OTHER_RACKET]
    assert session.viewed_products == [RACKET]
    assert session.preferences.budget == Budget(max_amount=10000, currency="EUR")
    assert session.usage.cost_usd == pytest.approx(0.001)
    assert session.version == 2

    recorded = chats.store.recommendations_in(session_id)
    assert sorted(item.product_id for item, _ in recorded) == sorted([RACKET, OTHER_RACKET])
    assert all(item.message_index == 1 and item.user_id == "ana" for item, _ in recorded)
    suggested_by = repository.connected(product_ref(RACKET), ConnectionType.SUGGESTED_BY_AI)
    assert [ref.id for ref in suggested_by] == [session_id]
    assert repository.connected(customer_ref("ana"), ConnectionType.SUGGESTED_BY_AI) == []

    types = event_types(chats, session_id)
    assert types.count(EventType.MESSAGE_SENT) == 1
    assert types.count(EventType.PRODUCT_MENTIONED) == 2
    assert types.count(EventType.PRODUCT_RECOMMENDED) == 2
    assert types.count(EventType.PRODUCT_DETAILS_VIEWED) == 1
    assert EventType.QUESTION_ASKED not in types
    memory = chats.store.memory("ana")
    assert memory is not None
    assert memory.recommended_products == [RACKET, OTHER_RACKET]
    assert memory.preferences.budget == Budget(max_amount=10000, currency="EUR")


def test_a_question_is_an_event_and_memory_reaches_the_next_chat(
    chats: ChatService, engine: EchoAdvisor
) -> None:
    first = start(chats)
    reply = say(chats, first, "something good")
    assert reply.question
    assert reply.suggested_products == []
    assert EventType.QUESTION_ASKED in event_types(chats, first)
    say(chats, first, f"show me {RACKET}")

    second = chats.start(StartChatRequest(), shopper("ana")).id
    say(chats, second, "hello again")
    memory = engine.turns[-1].memory
    assert memory is not None
    assert memory.recommended_products == [RACKET]
    assert memory.sessions == 2


def test_streaming_yields_text_before_the_recorded_reply(chats: ChatService) -> None:
    session_id = start(chats)
    turn = chats.begin_turn(ChatMessageRequest(session_id=session_id, message=f"{RACKET}"), shopper("ana"))
    events = list(turn.events())
    deltas = [event for event in events if isinstance(event, TextDelta)]
    assert "".join(delta.text for delta in deltas).strip() == f"Here is what I found: {RACKET}."
    assert isinstance(events[-1], ChatReply)
    assert all(isinstance(event, TextDelta) for event in events[:-1])


def test_only_the_owner_and_the_admin_see_a_chat(chats: ChatService, table: Any) -> None:
    session_id = start(chats)
    start(chats, "bob")
    assert chats.get(session_id, shopper("ana")).user_id == "ana"
    assert chats.get(session_id, ADMIN).user_id == "ana"
    before = table_snapshot(table)
    for stranger in (shopper("bob"), ANONYMOUS, Principal(PrincipalKind.CREATOR, "ana")):
        with pytest.raises(NotFound) as hidden:
            chats.get(session_id, stranger)
        assert hidden.value.code == "session_not_found"
        with pytest.raises(NotFound):
            say(chats, session_id, "hi", stranger)
        with pytest.raises(NotFound):
            chats.correct_preferences(session_id, Preferences(), stranger)
        with pytest.raises(NotFound):
            chats.give_feedback(session_id, FeedbackRequest(satisfaction=1), stranger)
    with pytest.raises(NotFound):
        chats.get("chs_guessed", shopper("ana"))
    with pytest.raises(Forbidden) as mismatch:
        chats.reply(ChatMessageRequest(session_id=session_id, message="hi", user_id="bob"), ADMIN)
    assert mismatch.value.code == "user_mismatch"
    assert table_snapshot(table) == before


def test_a_concurrent_turn_is_refused_and_writes_nothing(chats: ChatService) -> None:
    session_id = start(chats)
    request = ChatMessageRequest(session_id=session_id, message=f"{RACKET}")
    late = chats.begin_turn(request, shopper("ana"))
    say(chats, session_id, f"{OTHER_RACKET}")
    events_before = event_types(chats, session_id)
    with pytest.raises(Conflict) as refused:
        late.reply()
    assert refused.value.code == "concurrent_update"
    assert event_types(chats, session_id) == events_before
    assert [item.product_id for item, _ in chats.store.recommendations_in(session_id)] == [OTHER_RACKET]
    assert chats.get(session_id, ADMIN).message_count == 2


def test_a_full_chat_is_refused(chats: ChatService, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(service_module, "MAX_SESSION_MESSAGES", 4)
    session_id = start(chats)
    say(chats, session_id, "one")
    say(chats, session_id, "two")
    with pytest.raises(Conflict) as refused:
        say(chats, session_id, "three")
    assert refused.value.code == "session_full"


def test_preferences_are_corrected_in_the_chat_and_in_memory(chats: ChatService) -> None:
    session_id = start(chats)
    say(chats, session_id, "I am a beginner with 50 euros")
    corrected = Preferences(skill_level="intermediate", budget=Budget(max_amount=12000, currency="EUR"))
    session = chats.correct_preferences(session_id, corrected, shopper("ana"))
    assert session.preferences == corrected
    memory = chats.store.memory("ana")
    assert memory is not None
    assert memory.preferences == corrected
    assert EventType.PREFERENCES_CORRECTED in event_types(chats, session_id)
    # The next turn starts from the corrected preferences.
    say(chats, session_id, "and it should be light")
    assert chats.get(session_id, ADMIN).preferences.skill_level == "intermediate"


def test_feedback_ends_the_chat_and_records_reactions(chats: ChatService, table: Any) -> None:
    session_id = start(chats)
    say(chats, session_id, f"{RACKET} {OTHER_RACKET}")

    before = table_snapshot(table)
    unknown = FeedbackRequest(
        satisfaction=4, reactions=[ReactionInput(product_id="coffee-thing", reaction=Reaction.INTERESTED)]
    )
    with pytest.raises(InvalidInput) as refused:
        chats.give_feedback(session_id, unknown, shopper("ana"))
    assert refused.value.code == "not_recommended"
    assert table_snapshot(table) == before

    feedback = FeedbackRequest(
        satisfaction=5,
        feedback="Great help",
        reactions=[
            ReactionInput(product_id=RACKET, reaction=Reaction.PURCHASED),
            ReactionInput(product_id=OTHER_RACKET, reaction=Reaction.DISMISSED),
        ],
    )
    session = chats.give_feedback(session_id, feedback, shopper("ana"))
    assert session.satisfaction == 5
    assert session.feedback == "Great help"
    assert session.status == SessionStatus.COMPLETED
    assert session.ended_at is not None
    reactions = {item.product_id: item.reaction for item, _ in chats.store.recommendations_in(session_id)}
    assert reactions == {RACKET: Reaction.PURCHASED, OTHER_RACKET: Reaction.DISMISSED}
    memory = chats.store.memory("ana")
    assert memory is not None
    assert memory.purchased_products == [RACKET]
    assert memory.dismissed_products == [OTHER_RACKET]
    assert EventType.FEEDBACK_GIVEN in event_types(chats, session_id)

    with pytest.raises(Conflict) as ended:
        say(chats, session_id, "one more thing")
    assert ended.value.code == "session_completed"


def test_the_sweep_abandons_idle_chats_and_a_message_brings_one_back(
    chats: ChatService, clock: FakeClock
) -> None:
    idle = start(chats)
    say(chats, idle, "hello")
    clock.now += timedelta(minutes=20)
    recent = start(chats, "bob")
    clock.now += timedelta(minutes=11)

    assert chats.sweep_abandoned() == [idle]
    swept = chats.get(idle, ADMIN)
    assert swept.status == SessionStatus.ABANDONED
    assert swept.ended_at == swept.last_activity_at
    assert chats.get(recent, ADMIN).status == SessionStatus.ACTIVE
    assert event_types(chats, idle)[-1] == EventType.CHAT_ABANDONED
    assert chats.sweep_abandoned() == []  # an abandoned chat is not swept again

    say(chats, idle, "I am back")
    back = chats.get(idle, ADMIN)
    assert back.status == SessionStatus.ACTIVE
    assert back.ended_at is None


def test_the_sweep_leaves_a_chat_that_moved_on_after_it_was_read(
    chats: ChatService, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    session_id = start(chats)
    clock.now += timedelta(minutes=45)
    stale = list(chats.store.active_sessions())
    say(chats, session_id, "still here")
    monkeypatch.setattr(chats.store, "active_sessions", lambda: iter(stale))
    assert chats.sweep_abandoned() == []
    assert chats.get(session_id, ADMIN).status == SessionStatus.ACTIVE
    assert EventType.CHAT_ABANDONED not in event_types(chats, session_id)


def test_a_message_answered_while_the_sweep_abandons_its_chat_brings_it_back(
    chats: ChatService, clock: FakeClock
) -> None:
    session_id = start(chats)
    say(chats, session_id, "hello")
    clock.now += timedelta(minutes=45)
    late = chats.begin_turn(ChatMessageRequest(session_id=session_id, message=RACKET), shopper("ana"))
    assert chats.sweep_abandoned() == [session_id]

    assert late.reply().suggested_products[0].id == RACKET

    back = chats.get(session_id, ADMIN)
    assert (back.status, back.ended_at, back.message_count) == (SessionStatus.ACTIVE, None, 4)
    recorded = event_types(chats, session_id)
    assert EventType.CHAT_ABANDONED in recorded
    assert recorded.count(EventType.MESSAGE_SENT) == 2


def test_a_message_answered_while_the_chat_was_corrected_is_refused(chats: ChatService) -> None:
    session_id = start(chats)
    late = chats.begin_turn(ChatMessageRequest(session_id=session_id, message=RACKET), shopper("ana"))
    chats.correct_preferences(
        session_id, Preferences(budget=Budget(max_amount=9000, currency="EUR")), shopper("ana")
    )
    with pytest.raises(Conflict) as refused:
        late.reply()
    assert refused.value.code == "concurrent_update"


def test_a_shoppers_chats_are_listed_newest_first_in_pages(chats: ChatService) -> None:
    ids = [start(chats)] + [chats.start(StartChatRequest(), shopper("ana")).id for _ in range(4)]
    say(chats, ids[0], "the first chat's first words")
    start(chats, "bob")
    first = chats.list_sessions(None, shopper("ana"), limit=3, cursor=None)
    assert [item.id for item in first.items] == ids[::-1][:3]
    assert first.next_cursor
    rest = chats.list_sessions("ana", ADMIN, limit=3, cursor=first.next_cursor)
    assert [item.id for item in rest.items] == ids[::-1][3:]
    assert rest.next_cursor is None
    assert rest.items[-1].preview == "the first chat's first words"
    assert rest.items[-1].message_count == 2
    with pytest.raises(Forbidden):
        chats.list_sessions("bob", shopper("ana"), limit=3, cursor=None)
    with pytest.raises(Unauthorized):
        chats.list_sessions("ana", ANONYMOUS, limit=3, cursor=None)
    with pytest.raises(InvalidInput):
        chats.list_sessions(None, ADMIN, limit=3, cursor=None)


def test_stored_chats_are_things_listed_by_user_and_status(
    chats: ChatService, repository: Repository
) -> None:
    session_id = start(chats)
    stored = repository.get(session_ref(session_id))
    assert stored is not None
    assert stored.ref.type == "conversation_session"
    assert stored.item["GSI3PK"].startswith("USER#ana#")
    assert stored.item["GSI4PK"] == "STATUS#conversation_session#active"


def send(chats: ChatService, session_id: str, message: str, client_message_id: str) -> ChatReply:
    request = ChatMessageRequest(session_id=session_id, message=message, client_message_id=client_message_id)
    return chats.reply(request, shopper("ana"))


def test_a_retried_message_gets_its_recorded_answer_without_a_second_turn(
    chats: ChatService, engine: EchoAdvisor, table: Any
) -> None:
    session_id = start(chats)
    message = f"compare {RACKET} {OTHER_RACKET} under 100 euros"
    first = send(chats, session_id, message, "m-1")
    before = table_snapshot(table)

    again = send(chats, session_id, message, "m-1")

    assert len(engine.turns) == 1
    assert table_snapshot(table) == before
    assert again.model_dump(exclude={"usage"}) == first.model_dump(exclude={"usage"})
    assert again.usage.cost_usd == 0  # answering again spent nothing
    assert [card.id for card in again.suggested_products] == [RACKET, OTHER_RACKET]
    assert again.comparison is not None
    session = chats.get(session_id, ADMIN)
    assert session.messages[0].client_message_id == "m-1"
    assert session.messages[1].recommendation_ids == [item.id for item in first.recommendations]


def test_a_retry_of_an_earlier_turn_answers_that_turn(chats: ChatService, engine: EchoAdvisor) -> None:
    session_id = start(chats)
    first = send(chats, session_id, "something good", "m-1")
    second = send(chats, session_id, f"show me {RACKET}", "m-2")

    again = send(chats, session_id, "something good", "m-1")

    assert len(engine.turns) == 2
    assert again.response == first.response
    assert again.question == first.question == "What will you use it for?"
    assert again.suggested_products == []
    assert again.recommendations == []
    assert send(chats, session_id, f"show me {RACKET}", "m-2").recommendations == second.recommendations
    assert chats.get(session_id, ADMIN).message_count == 4


def test_a_replayed_card_is_rebuilt_from_the_products_data(
    repository: Repository, clock: FakeClock, engine: EchoAdvisor
) -> None:
    products = {product.id: product for product in demo_products()}
    catalog = FixedCatalog(list(products.values()))
    chats = ChatService(ConversationStore(repository, clock), catalog, engine, clock)
    session_id = start(chats)
    send(chats, session_id, f"{RACKET} {OTHER_RACKET}", "m-1")

    repriced = products[RACKET].model_copy(update={"price": 1234})
    chats.catalog = FixedCatalog([repriced])  # the other one left the catalog

    again = send(chats, session_id, f"{RACKET} {OTHER_RACKET}", "m-1")
    assert [(card.id, card.price) for card in again.suggested_products] == [(RACKET, 1234)]
    assert [item.product_id for item in again.recommendations] == [RACKET, OTHER_RACKET]


def test_an_id_reused_for_another_message_is_refused(chats: ChatService, table: Any) -> None:
    session_id = start(chats)
    send(chats, session_id, f"{RACKET}", "m-1")
    before = table_snapshot(table)
    with pytest.raises(Conflict) as refused:
        send(chats, session_id, f"{OTHER_RACKET}", "m-1")
    assert refused.value.code == "idempotency_key_reused"
    assert table_snapshot(table) == before


def test_client_message_ids_belong_to_their_chat(chats: ChatService, engine: EchoAdvisor) -> None:
    first = start(chats)
    second = chats.start(StartChatRequest(), shopper("ana")).id
    send(chats, first, f"{RACKET}", "m-1")
    send(chats, second, f"{RACKET}", "m-1")
    assert len(engine.turns) == 2
    assert chats.get(second, ADMIN).message_count == 2


def test_a_retry_is_answered_even_after_the_chat_ended(chats: ChatService, engine: EchoAdvisor) -> None:
    session_id = start(chats)
    first = send(chats, session_id, f"{RACKET}", "m-1")
    chats.give_feedback(session_id, FeedbackRequest(satisfaction=4), shopper("ana"))
    assert send(chats, session_id, f"{RACKET}", "m-1").response == first.response
    with pytest.raises(Conflict) as refused:
        send(chats, session_id, f"{RACKET}", "m-2")
    assert refused.value.code == "session_completed"


def test_a_replay_streams_the_whole_text_then_the_reply(chats: ChatService) -> None:
    session_id = start(chats)
    first = send(chats, session_id, f"{RACKET}", "m-1")
    request = ChatMessageRequest(session_id=session_id, message=f"{RACKET}", client_message_id="m-1")
    answer = chats.begin_turn(request, shopper("ana"))
    assert answer.replayed
    events = list(answer.events())
    assert events[0] == TextDelta(text=first.response)
    assert isinstance(events[1], ChatReply)
    assert events[1].response == first.response
    assert len(events) == 2


def test_the_loser_of_a_race_between_duplicates_gets_the_winners_answer(
    chats: ChatService, engine: EchoAdvisor
) -> None:
    session_id = start(chats)
    request = ChatMessageRequest(session_id=session_id, message=f"{RACKET}", client_message_id="m-1")
    late = chats.begin_turn(request, shopper("ana"))
    assert not late.replayed
    winner = chats.reply(request, shopper("ana"))
    events_before = event_types(chats, session_id)

    loser = late.reply()

    assert loser.model_dump(exclude={"usage"}) == winner.model_dump(exclude={"usage"})
    assert event_types(chats, session_id) == events_before
    assert chats.get(session_id, ADMIN).message_count == 2
    assert len(chats.store.recommendations_in(session_id)) == 1


def test_the_loser_of_a_race_with_another_message_is_refused(chats: ChatService) -> None:
    session_id = start(chats)
    late = chats.begin_turn(
        ChatMessageRequest(session_id=session_id, message=f"{RACKET}", client_message_id="m-1"),
        shopper("ana"),
    )
    send(chats, session_id, f"{OTHER_RACKET}", "m-2")
    with pytest.raises(Conflict) as refused:
        late.reply()
    assert refused.value.code == "concurrent_update"
    assert chats.get(session_id, ADMIN).message_count == 2


@pytest.mark.parametrize(
    ("body_id", "header", "expected"),
    [(None, None, None), ("m-1", None, "m-1"), (None, "m-1", "m-1"), ("m-1", "m-1", "m-1")],
)
def test_the_idempotency_key_header_is_the_client_message_id(
    body_id: str | None, header: str | None, expected: str | None
) -> None:
    request = ChatMessageRequest(session_id="chs_1", message="hi", client_message_id=body_id)
    assert request.with_idempotency_key(header).client_message_id == expected


@pytest.mark.parametrize(
    ("body_id", "header", "code"),
    [("m-1", "m-2", "idempotency_key_mismatch"), (None, "no spaces", "invalid_idempotency_key"),
     (None, "x" * 101, "invalid_idempotency_key")],
)  # fmt: skip
def test_a_bad_or_contradicting_idempotency_key_is_refused(
    body_id: str | None, header: str, code: str
) -> None:
    request = ChatMessageRequest(session_id="chs_1", message="hi", client_message_id=body_id)
    with pytest.raises(InvalidInput) as refused:
        request.with_idempotency_key(header)
    assert refused.value.code == code


@pytest.mark.parametrize("client_message_id", ["", "a b", "x" * 101, "é"])
def test_a_bad_client_message_id_is_invalid(client_message_id: str) -> None:
    with pytest.raises(ValidationError):
        ChatMessageRequest(session_id="chs_1", message="hi", client_message_id=client_message_id)
