"""talkshop.analytics.questions: shoppers' questions per product, clustered at query time."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from talkshop.advisor.intents import Intent
from talkshop.advisor.model import ChatMessage, ConversationSession, RecommendationType, Role
from talkshop.advisor.store import AiRecommendation, ConversationStore
from talkshop.analytics import questions
from talkshop.analytics.questions import (
    Asked,
    chats_to_read,
    cluster,
    common_questions,
    mask,
    question_words,
    questions_in,
)
from talkshop.data.repository import Repository

NOW = datetime(2026, 11, 24, 10, tzinfo=UTC)


def user(text: str, intent: Intent | None = None) -> ChatMessage:
    return ChatMessage(role=Role.USER, content=text, timestamp=NOW, intent=intent)


def assistant(*products: str, shown: tuple[str, ...] = ()) -> ChatMessage:
    return ChatMessage(
        role=Role.ASSISTANT,
        content="…",
        timestamp=NOW,
        mentioned_products=list(products),
        shown_products=list(shown),
    )


def chat(chat_id: str, *messages: ChatMessage, **fields: Any) -> ConversationSession:
    return ConversationSession(
        id=chat_id,
        user_id=fields.pop("user_id", f"usr_{chat_id}"),
        messages=list(messages),
        started_at=fields.pop("started_at", NOW),
        last_activity_at=NOW,
        **fields,
    )


def test_question_words_fold_case_accents_plurals_and_stop_words_in_four_languages() -> None:
    assert question_words("Is it GOOD for beginners?") == {"good", "beginner"}
    assert question_words("Is this racket good for a beginner?") == {"racket", "good", "beginner"}
    assert question_words("¿Es buena para principiantes?") == {"buena", "principiant"}
    assert question_words("Est-ce que la raquette est légère ?") == {"raquette", "legere"}
    assert question_words("call +34 600 123 456") == {"call"}


def test_personal_details_are_masked_in_the_shown_question() -> None:
    assert mask("mail me at ana@example.com  or\n+34 600 123 456, is it light?") == (
        "mail me at [email] or [number], is it light?"
    )
    assert mask("see https://x.example/a?b") == "see [link]"
    assert len(mask("why " * 100)) == 160


def test_a_question_belongs_to_the_products_its_answer_named_else_those_shown_before() -> None:
    session = chat(
        "c1",
        assistant(shown=("aero-lite", "fjord-round")),
        user("is the first one light?"),
        assistant("aero-lite"),
        user("and the other one", Intent.PRODUCT_DETAILS),
        assistant(),
        user("thanks, bye"),  # not a question
        assistant("aero-lite"),
        user("what about the cafe-grip?"),
        assistant("cafe-grip"),  # the answer names another creator's product only
    )
    asked = questions_in(session, {"aero-lite", "fjord-round"})
    assert asked == [
        Asked("c1", "aero-lite", "is the first one light?"),
        Asked("c1", "aero-lite", "and the other one"),
    ]


def test_similar_questions_cluster_counted_in_chats_and_shown_by_their_most_common_wording() -> None:
    asked = [
        Asked("c1", "p", "Is it good for beginners?"),
        Asked("c2", "p", "is it good for beginners?"),
        Asked("c2", "p", "Is it good for beginners?"),  # the same chat asking again counts once
        Asked("c3", "p", "Is this racket good for a beginner?"),
        Asked("c4", "p", "Does it come with a cover?"),
        Asked("c5", "p", "???"),  # no words: nothing to group
    ]
    found = cluster(asked)
    assert [(q.question, q.chats) for q in found] == [
        ("Is it good for beginners?", 3),
        ("Does it come with a cover?", 1),
    ]
    assert len(cluster([Asked(f"c{i}", "p", f"question number{i} topic{i}?") for i in range(9)])) == 5


def test_common_questions_filter_by_day_platform_and_opt_out() -> None:
    asking = (user("is it light?"), assistant("aero-lite"))
    sessions = [
        chat("a", *asking),
        chat("b", *asking, platform="claude"),
        chat("c", *asking, started_at=datetime(2026, 10, 1, tzinfo=UTC)),
        chat("d", *asking, user_id="usr_opted_out"),
    ]

    def counted(user_ids: Any) -> set[str]:
        return {user_id for user_id in user_ids if user_id != "usr_opted_out"}

    day = date(2026, 11, 24)
    found = common_questions(sessions, ["aero-lite", "cafe-grip"], start=day, end=day, counted=counted)
    assert [(p.product_id, [(q.question, q.chats) for q in p.questions]) for p in found] == [
        ("aero-lite", [("is it light?", 2)]),
        ("cafe-grip", []),
    ]
    web = common_questions(sessions, ["aero-lite"], start=day, end=day, platform="web", counted=counted)
    assert web[0].questions[0].chats == 1


def stored_chat(repository: Repository, chat_id: str, started_at: datetime, *products: str) -> None:
    """A chat of padelnest's that recommended these products when it started."""
    store = ConversationStore(repository)
    work = repository.unit_of_work()
    session = chat(chat_id, user("is it light?"), assistant(*products), started_at=started_at)
    store.stage_create(work, session)
    for number, product_id in enumerate(products):
        store.stage_recommendation(
            work,
            AiRecommendation(
                id=f"rec_{chat_id}_{number}",
                conversation_id=chat_id,
                user_id=session.user_id,
                product_id=product_id,
                creator_id="padelnest",
                type=RecommendationType.PRIMARY,
                reasons=["light"],
                confidence=0.8,
                message_index=1,
                created_at=started_at,
            ),
        )
    work.commit()


def read(
    repository: Repository, start: date, end: date, products: frozenset[str] = frozenset({"aero"})
) -> list[str]:
    return sorted(s.id for s in chats_to_read(repository, "padelnest", products, start=start, end=end))


def test_a_past_range_reads_the_chats_of_that_range_however_many_came_since(
    repository: Repository, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The range is applied when the chats are looked up, not to a sample of the latest ones: newer
    chats (more than a sample holds) do not crowd out those of an older range."""
    monkeypatch.setattr(questions, "MAX_CHATS", 3)
    for day in range(1, 3):
        stored_chat(repository, f"chs_z_october_{day}", datetime(2026, 10, day, 12, tzinfo=UTC), "aero")
    for day in range(1, 6):
        stored_chat(repository, f"chs_a_november_{day}", datetime(2026, 11, day, 12, tzinfo=UTC), "aero")

    assert read(repository, date(2026, 10, 1), date(2026, 10, 31)) == ["chs_z_october_1", "chs_z_october_2"]
    # The latest MAX_CHATS of a busy range; its last day is included whole.
    assert read(repository, date(2026, 10, 2), date(2026, 11, 5)) == [
        "chs_a_november_3",
        "chs_a_november_4",
        "chs_a_november_5",
    ]
    found = common_questions(
        chats_to_read(repository, "padelnest", {"aero"}, start=date(2026, 10, 1), end=date(2026, 10, 31)),
        ["aero"],
        start=date(2026, 10, 1),
        end=date(2026, 10, 31),
    )
    assert [(q.question, q.chats) for q in found[0].questions] == [("is it light?", 2)]


def test_only_chats_that_recommended_the_products_asked_are_read_and_the_reads_are_bounded(
    repository: Repository, monkeypatch: pytest.MonkeyPatch
) -> None:
    day = datetime(2026, 11, 24, 9, tzinfo=UTC)
    stored_chat(repository, "chs_aero", day, "aero")
    stored_chat(repository, "chs_fjord", day, "fjord", "fjord-pro")
    stored_chat(repository, "chs_both", day, "fjord", "aero")
    assert read(repository, day.date(), day.date()) == ["chs_aero", "chs_both"]
    assert read(repository, day.date(), day.date(), frozenset({"fjord"})) == ["chs_both", "chs_fjord"]

    monkeypatch.setattr(questions, "MAX_RECOMMENDATIONS_READ", 2)
    assert len(read(repository, day.date(), day.date(), frozenset({"aero", "fjord", "fjord-pro"}))) < 3
