"""Creators (sellers): a person with the creator role, the business group they run, and API keys."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from pydantic.alias_generators import to_camel

from talkshop.auth import generate_api_key, hash_api_key
from talkshop.clock import Clock, utc_now
from talkshop.data.repository import MAX_TRANSACTION_ITEMS, IndexEntries, Repository, UnitOfWork
from talkshop.errors import Conflict, NotFound
from talkshop.ontology.model import (
    Connection,
    ConnectionType,
    Dimension,
    EntityRef,
    Event,
    EventType,
    Group,
    GroupType,
    Identifier,
    Person,
    PersonRole,
)
from talkshop.text import slugify

#: A creator's business is the group "business-<creator id>", whose id is an Identifier too: the prefix
#: leaves that much less room for the creator's id (128 characters at most).
BUSINESS_PREFIX = "business-"
CreatorId = Annotated[Identifier, StringConstraints(max_length=128 - len(BUSINESS_PREFIX))]


def creator_ref(creator_id: str) -> EntityRef:
    return EntityRef(dimension=Dimension.PERSON, type=PersonRole.CREATOR, id=creator_id)


@dataclass(frozen=True)
class IssuedKey:
    creator: Person
    api_key: str


class CreatorRequest(BaseModel):
    """POST /api/admin/creators: who the new creator is (what `talkshop creator add` takes)."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    id: CreatorId | None = Field(
        default=None,
        description="The creator's id, as products name it in creator_id (default: from the name).",
    )


class IssuedCreatorKey(BaseModel):
    """A creator and a new API key of theirs, as the admin API answers it."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

    id: str
    name: str
    # Null only in the replay of a retried request (Idempotency-Key): keys are never kept in clear.
    api_key: str | None = Field(
        description="Shown once: the creator sends it as 'Authorization: Bearer <key>' or signs in with it "
        "at /login. Null when the answer replays a request retried with the same Idempotency-Key: issue "
        "another key (POST /api/admin/creators/{id}/keys)."
    )

    @classmethod
    def of(cls, issued: IssuedKey) -> IssuedCreatorKey:
        return cls(id=issued.creator.id, name=issued.creator.name, api_key=issued.api_key)


class RevokedCreatorKeys(BaseModel):
    id: str = Field(description="The creator's id.")
    revoked: int = Field(description="How many keys were revoked; they stopped working at once.")


class CreatorService:
    def __init__(self, repository: Repository, clock: Clock = utc_now) -> None:
        self.repository = repository
        self.clock = clock

    def get(self, creator_id: str) -> Person | None:
        stored = self.repository.get(creator_ref(creator_id))
        return Person.model_validate(stored.data) if stored else None

    def add(self, name: str, creator_id: str | None = None) -> IssuedKey:
        """Create a creator with their business and issue their first API key (shown once)."""
        person_id = creator_id or slugify(name)
        if self.get(person_id):
            raise Conflict(f"Creator {person_id!r} exists; issue another key instead.", code="creator_exists")
        work = self.repository.unit_of_work()
        person = self.stage_new_creator(work, person_id, name)
        api_key = self._stage_key(work, person)
        work.commit()
        return IssuedKey(person, api_key)

    def issue_key(self, creator_id: str) -> IssuedKey:
        person = self.get(creator_id)
        if person is None:
            raise NotFound(f"No creator {creator_id!r}.", code="creator_not_found")
        work = self.repository.unit_of_work()
        api_key = self._stage_key(work, person)
        work.commit()
        return IssuedKey(person, api_key)

    def revoke_keys(self, creator_id: str) -> int:
        """Revoke every API key of a creator at once; returns how many there were."""
        person = self.get(creator_id)
        if person is None:
            raise NotFound(f"No creator {creator_id!r}.", code="creator_not_found")
        digests = self.repository.api_keys_of(person.ref)
        units = []
        for start in range(0, len(digests), MAX_TRANSACTION_ITEMS):
            work = self.repository.unit_of_work()
            for digest in digests[start : start + MAX_TRANSACTION_ITEMS]:
                work.revoke_api_key(digest)
            units.append(work)
        self.repository.commit_all(units)
        return len(digests)

    def stage_new_creator(self, work: UnitOfWork, creator_id: str, name: str) -> Person:
        """Add the writes that create a creator and their business to a unit of work."""
        now = self.clock()
        group = Group(id=f"{BUSINESS_PREFIX}{creator_id}", type=GroupType.BUSINESS, name=name)
        person = Person(id=creator_id, role=PersonRole.CREATOR, name=name, group_id=group.id)

        def exists() -> Conflict:
            return Conflict(f"Creator {creator_id!r} already exists.", code="creator_exists")

        work.create(group.ref, group.model_dump(mode="json"), IndexEntries(), now, exists)
        work.create(person.ref, person.model_dump(mode="json"), IndexEntries(), now, exists)
        work.connect(Connection(source=person.ref, type=ConnectionType.MEMBER_OF, target=group.ref), now)
        work.record_event(
            Event(id=uuid.uuid4().hex, type=EventType.CREATOR_ADDED, subject=person.ref, occurred_at=now)
        )
        return person

    def _stage_key(self, work: UnitOfWork, person: Person) -> str:
        api_key = generate_api_key()

        def collision() -> Conflict:
            return Conflict("Key collision; try again.", code="key_collision")

        work.register_api_key(hash_api_key(api_key), person.ref, self.clock(), collision)
        return api_key
