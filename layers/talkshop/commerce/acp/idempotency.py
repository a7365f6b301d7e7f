"""ACP's Idempotency-Key: a replay with the same key and body answers the first answer again (and does
nothing else: no second order, no second charge); the same key with another body is a conflict; a
replay while the first request still runs is refused as in flight.

A key is scoped, as the spec says, to the authenticated agent and the endpoint (method and path). The
record is an entity of the main table, created conditionally before the operation runs (so two
concurrent requests with one key cannot both run it) and completed with the answer afterwards. An
answer of 5xx is not kept: the record is dropped so the agent's retry runs the operation again. A record
left in progress by a crashed invocation is taken over after IN_FLIGHT_LEASE; records expire after
RETENTION, when the key may be used afresh.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict

from talkshop.clock import Clock, utc_now
from talkshop.data.repository import IndexEntries, Repository, StoredEntity
from talkshop.errors import TalkshopError
from talkshop.ontology.model import Dimension, EntityRef, ThingType

IN_FLIGHT_LEASE = timedelta(seconds=60)
RETENTION = timedelta(hours=24)
MAX_KEY_LENGTH = 255


class IdempotencyError(TalkshopError):
    """Refusals of the idempotency protocol, with the spec's statuses and codes."""


class KeyRequired(IdempotencyError):
    status = 400
    code = "idempotency_key_required"


class KeyInFlight(IdempotencyError):
    status = 409
    code = "idempotency_in_flight"


class KeyConflict(IdempotencyError):
    status = 422
    code = "idempotency_conflict"


class StoredAnswer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: int
    body: dict[str, Any]


class IdempotencyRecord(BaseModel):
    model_config = ConfigDict(extra="forbid")

    request_fingerprint: str
    started_at: datetime
    answer: StoredAnswer | None = None


def fingerprint(body: bytes) -> str:
    """The request body's identity: parsed JSON in canonical form (key order and spacing do not count)."""
    try:
        canonical = json.dumps(json.loads(body or b"null"), sort_keys=True, separators=(",", ":")).encode()
    except ValueError:
        canonical = body
    return hashlib.sha256(canonical).hexdigest()


def require_key(key: str | None) -> str:
    if not key or not key.strip():
        raise KeyRequired("Idempotency-Key header is required")
    if len(key) > MAX_KEY_LENGTH:
        raise KeyRequired(f"Idempotency-Key must be at most {MAX_KEY_LENGTH} characters")
    return key


class IdempotencyStore:
    def __init__(self, repository: Repository, clock: Clock = utc_now) -> None:
        self.repository = repository
        self.clock = clock

    def begin(self, scope: str, key: str, request_fingerprint: str) -> StoredAnswer | None:
        """The first answer when this is a replay; else None, and the key is held for this request."""
        ref = _record_ref(scope, key)
        now = self.clock()
        stored = self.repository.get(ref)
        record = IdempotencyRecord.model_validate(stored.data) if stored else None
        if stored is not None and record is not None and not _expired(record, now):
            if record.request_fingerprint != request_fingerprint:
                raise KeyConflict("Idempotency-Key has already been used with a different request body")
            if record.answer is not None:
                return record.answer
            if now - record.started_at < IN_FLIGHT_LEASE:
                raise KeyInFlight("A request with this Idempotency-Key is currently being processed")
        fresh = IdempotencyRecord(request_fingerprint=request_fingerprint, started_at=now)
        work = self.repository.unit_of_work()
        if stored is None:
            work.create(ref, fresh.model_dump(mode="json"), IndexEntries(), now, _in_flight)
        else:  # expired, or abandoned by a crashed request: taken over at the version that was read
            work.replace(stored, fresh.model_dump(mode="json"), IndexEntries(), now, _in_flight)
        work.commit()
        return None

    def finish(self, scope: str, key: str, answer: StoredAnswer) -> None:
        stored = self._held(scope, key)
        record = IdempotencyRecord.model_validate(stored.data)
        done = record.model_copy(update={"answer": answer})
        work = self.repository.unit_of_work()
        work.replace(stored, done.model_dump(mode="json"), IndexEntries(), self.clock(), _in_flight)
        work.commit()

    def abandon(self, scope: str, key: str) -> None:
        """Forget the key (the operation failed on our side): the agent's retry runs it again."""
        stored = self._held(scope, key)
        work = self.repository.unit_of_work()
        work.delete(stored, _in_flight)
        work.commit()

    def _held(self, scope: str, key: str) -> StoredEntity:
        stored = self.repository.get(_record_ref(scope, key))
        if stored is None:
            raise KeyInFlight("The Idempotency-Key record vanished while the request ran; retry it.")
        return stored


def _record_ref(scope: str, key: str) -> EntityRef:
    digest = hashlib.sha256(f"{scope}\n{key}".encode()).hexdigest()
    return EntityRef(dimension=Dimension.THING, type=ThingType.ACP_IDEMPOTENCY_RECORD, id=digest)


def _expired(record: IdempotencyRecord, now: datetime) -> bool:
    return now - record.started_at >= RETENTION


def _in_flight() -> TalkshopError:
    return KeyInFlight("A request with this Idempotency-Key is currently being processed")
