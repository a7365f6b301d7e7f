"""Where conversations live: sessions, AI recommendations and shopper memory in the single table.

- A session is a conversation_session thing, listed by shopper (BY_USER, newest first) and by status
  (BY_STATUS, what the abandoned-chat sweep reads).
- Each recommended product of a turn is an ai_recommendation thing, listed by its session (the
  "conversation" facet), by shopper and by the product's creator, and joined to its product by a
  suggested_by_ai connection (product -> session), so "which chats recommended this" is one query.
- What Talkshop remembers of a shopper is shopper_memory knowledge about the customer person.

A message turn is one unit of work: the session at the version that was read, its recommendations,
its events and the memory commit together or not at all; a concurrent change is a 409. Deleting a
chat removes all of this but the shopper's memory (see `erasure`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from talkshop.advisor.model import (
    ConversationSession,
    Reaction,
    RecommendationType,
    SessionStatus,
    ShopperMemory,
)
from talkshop.auth import hash_api_key
from talkshop.catalog.service import product_ref
from talkshop.clock import Clock, utc_now
from talkshop.data.repository import (
    IndexEntries,
    Repository,
    StoredEntity,
    UnitOfWork,
    by_facet,
    by_status,
    by_user,
)
from talkshop.errors import Conflict
from talkshop.ontology.model import (
    Connection,
    ConnectionType,
    Dimension,
    EntityRef,
    Event,
    Identifier,
    Knowledge,
    Person,
    PersonRole,
    ThingType,
)

SHOPPER_MEMORY = "shopper_memory"
CONVERSATION_FACET = "conversation"


class AiRecommendation(BaseModel):
    """The ai_recommendation thing: one product recommended in one turn of a chat, and its fate."""

    model_config = ConfigDict(extra="forbid")

    id: Identifier
    conversation_id: Identifier
    user_id: Identifier
    product_id: Identifier
    creator_id: Identifier
    type: RecommendationType
    reasons: list[str] = Field(min_length=1, description="Reasoning steps, each citing product data")
    confidence: float = Field(ge=0, le=1)
    message_index: int = Field(ge=0, description="Index of the assistant message in the session")
    features: dict[str, float] = Field(default_factory=dict, description="Its ranking features, for learning")
    reaction: Reaction | None = None
    created_at: datetime
    version: int = 0


def session_ref(session_id: str) -> EntityRef:
    return EntityRef(dimension=Dimension.THING, type=ThingType.CONVERSATION_SESSION, id=session_id)


def recommendation_ref(recommendation_id: str) -> EntityRef:
    return EntityRef(dimension=Dimension.THING, type=ThingType.AI_RECOMMENDATION, id=recommendation_id)


def customer_ref(user_id: str) -> EntityRef:
    return EntityRef(dimension=Dimension.PERSON, type=PersonRole.CUSTOMER, id=user_id)


def recommendation_id(session_id: str, message_index: int, product_id: str) -> str:
    """Derived from what it records, so recording the same recommendation twice is one thing."""
    digest = hashlib.sha256(f"{session_id}|{message_index}|{product_id}".encode()).hexdigest()
    return f"rec_{digest[:24]}"


@dataclass(frozen=True)
class LoadedSession:
    """A session as read, with the stored item a replace is conditioned on."""

    session: ConversationSession
    stored: StoredEntity


@dataclass(frozen=True)
class SessionPage:
    sessions: list[ConversationSession]
    next_cursor: str | None


def _session_data(session: ConversationSession) -> dict[str, object]:
    return session.model_dump(mode="json", exclude={"id", "version"})


def _session_index(session: ConversationSession) -> IndexEntries:
    return IndexEntries(user_id=session.user_id, status=session.status)


def _session_from_stored(stored: StoredEntity) -> ConversationSession:
    return ConversationSession.model_validate({**stored.data, "id": stored.ref.id, "version": stored.version})


def _recommendation_data(recommendation: AiRecommendation) -> dict[str, object]:
    return recommendation.model_dump(mode="json", exclude={"id", "version"})


def _recommendation_index(recommendation: AiRecommendation) -> IndexEntries:
    """Listed by its chat (the conversation facet), by shopper and by the product's creator."""
    return IndexEntries(
        owner_id=recommendation.creator_id,
        user_id=recommendation.user_id,
        facet=(CONVERSATION_FACET, recommendation.conversation_id),
    )


def _recommendation_from_stored(stored: StoredEntity) -> AiRecommendation:
    return AiRecommendation.model_validate({**stored.data, "id": stored.ref.id, "version": stored.version})


def _recommended_products(session: ConversationSession) -> dict[str, str]:
    """The ai_recommendation ids of a chat's turns and their products, from its assistant messages
    (a turn's recommendation ids are derived from the products its message mentions)."""
    recommended: dict[str, str] = {}
    for index, message in enumerate(session.messages):
        for product_id in message.mentioned_products:
            candidate = recommendation_id(session.id, index, product_id)
            if candidate in message.recommendation_ids:
                recommended[candidate] = product_id
    return recommended


def _session_changed(session_id: str) -> Conflict:
    return Conflict(
        f"Chat {session_id!r} changed while this request was being handled; read it again and retry.",
        code="concurrent_update",
    )


class ConversationStore:
    def __init__(self, repository: Repository, clock: Clock = utc_now) -> None:
        self.repository = repository
        self.clock = clock

    # Shoppers

    def shopper_exists(self, user_id: str) -> bool:
        return self.repository.get(customer_ref(user_id)) is not None

    def stage_new_shopper(self, work: UnitOfWork, user_id: str, token: str) -> None:
        """A customer person and their token (stored as its digest only)."""
        person = Person(id=user_id, role=PersonRole.CUSTOMER, name=user_id)

        def taken() -> Conflict:
            return Conflict(f"Shopper {user_id!r} already exists.", code="shopper_exists")

        now = self.clock()
        work.create(person.ref, person.model_dump(mode="json"), IndexEntries(), now, taken)
        work.register_api_key(hash_api_key(token), person.ref, now, taken)

    # Sessions

    def get(self, session_id: str) -> LoadedSession | None:
        stored = self.repository.get(session_ref(session_id))
        return LoadedSession(_session_from_stored(stored), stored) if stored else None

    def sessions(self, session_ids: Sequence[str]) -> list[ConversationSession]:
        """Several chats in batch reads, in no particular order; those that no longer exist are left out."""
        found = self.repository.get_many([session_ref(session_id) for session_id in session_ids])
        return [_session_from_stored(stored) for stored in found.values()]

    def stage_create(self, work: UnitOfWork, session: ConversationSession) -> None:
        def exists() -> Conflict:
            return Conflict(f"Chat {session.id!r} already exists.", code="session_exists")

        work.create(
            session_ref(session.id),
            _session_data(session),
            _session_index(session),
            session.started_at,
            exists,
        )

    def stage_replace(self, work: UnitOfWork, current: LoadedSession, session: ConversationSession) -> None:
        """The session's new state, written only if nobody changed it since it was read."""
        work.replace(
            current.stored,
            _session_data(session),
            _session_index(session),
            self.clock(),
            on_conflict=lambda: _session_changed(session.id),
        )

    def sessions_of(self, user_id: str, *, limit: int, cursor: str | None) -> SessionPage:
        page = self.repository.page(
            by_user(user_id, ThingType.CONVERSATION_SESSION), limit=limit, cursor=cursor
        )
        return SessionPage([_session_from_stored(item) for item in page.items], page.next_cursor)

    def active_sessions(self) -> Iterator[LoadedSession]:
        query = by_status(ThingType.CONVERSATION_SESSION, SessionStatus.ACTIVE)
        for stored in self.repository.iterate(query):
            yield LoadedSession(_session_from_stored(stored), stored)

    def erasure(self, loaded: LoadedSession) -> list[UnitOfWork]:
        """The writes that remove a chat from the table, in transactions to commit in order.

        The first deletes the session at the version read, with as much of the rest as fits: the
        chat's knowledge (the code it offered) and any edge from or to it, its events, and its
        ai_recommendation things with their suggested_by_ai edges. Every write of a chat (a turn,
        a correction, its cart or order) changes the session at the version it read, so once the
        session is gone nothing more of the chat can be written. Recommendations are found from the
        session's own messages (read consistently) as well as from their index, so those of a turn
        committed just before are not missed.
        """
        session = loaded.session
        recommended = _recommended_products(session)
        recommended.update({item.id: item.product_id for item, _ in self.recommendations_in(session.id)})
        work = self.repository.unit_of_work()
        work.delete(loaded.stored, on_conflict=lambda: _session_changed(session.id))
        for item in self.repository.footprint(session_ref(session.id)):
            work.erase(item)
        for recommendation, product_id in recommended.items():
            work.erase_entity(recommendation_ref(recommendation))
            work.disconnect(
                Connection(
                    source=product_ref(product_id),
                    type=ConnectionType.SUGGESTED_BY_AI,
                    target=session_ref(session.id),
                )
            )
        return work.split()

    # Recommendations

    def stage_recommendation(self, work: UnitOfWork, recommendation: AiRecommendation) -> None:
        ref = recommendation_ref(recommendation.id)

        def exists() -> Conflict:
            return Conflict("This recommendation was already recorded.", code="recommendation_exists")

        work.create(
            ref,
            _recommendation_data(recommendation),
            _recommendation_index(recommendation),
            recommendation.created_at,
            exists,
        )
        work.connect(
            Connection(
                source=product_ref(recommendation.product_id),
                type=ConnectionType.SUGGESTED_BY_AI,
                target=session_ref(recommendation.conversation_id),
                attributes={"recommendation_id": recommendation.id, "type": recommendation.type.value},
            ),
            recommendation.created_at,
        )

    def recommendations_in(self, session_id: str) -> list[tuple[AiRecommendation, StoredEntity]]:
        query = by_facet(ThingType.AI_RECOMMENDATION, CONVERSATION_FACET, session_id)
        return [(_recommendation_from_stored(stored), stored) for stored in self.repository.iterate(query)]

    def stage_reaction(
        self, work: UnitOfWork, stored: StoredEntity, recommendation: AiRecommendation, reaction: Reaction
    ) -> None:
        changed = recommendation.model_copy(update={"reaction": reaction})
        work.replace(
            stored,
            _recommendation_data(changed),
            _recommendation_index(changed),
            self.clock(),
            on_conflict=lambda: _session_changed(changed.conversation_id),
        )

    def creators_of(self, product_ids: Sequence[str]) -> list[str]:
        """The creators of these products, from their records (any status: one archived since a chat
        showed it is still its creator's), in the products' order, each once."""
        found = self.repository.get_many([product_ref(product_id) for product_id in product_ids])
        creators = (
            found[ref].data.get("creator_id") for ref in map(product_ref, product_ids) if ref in found
        )
        return list(dict.fromkeys(str(creator) for creator in creators if creator))

    # Memory

    def memory(self, user_id: str) -> ShopperMemory | None:
        content = self.repository.knowledge(customer_ref(user_id), SHOPPER_MEMORY)
        return ShopperMemory.model_validate(content) if content is not None else None

    def stage_memory(self, work: UnitOfWork, memory: ShopperMemory) -> None:
        work.put_knowledge(
            Knowledge(
                subject=customer_ref(memory.user_id),
                kind=SHOPPER_MEMORY,
                content=memory.model_dump(mode="json"),
            ),
            self.clock(),
        )

    # Events

    def events_of(self, session_id: str, limit: int = 100) -> list[Event]:
        return self.repository.events_of(session_ref(session_id), limit)

    @staticmethod
    def stage_events(work: UnitOfWork, events: Sequence[Event]) -> None:
        for event in events:
            work.record_event(event)
