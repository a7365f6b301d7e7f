"""Signed-in sessions of creators and the admin: a key typed once at /login becomes a cookie.

The cookie (`talkshop_session`, HttpOnly, SameSite=Strict, Secure behind https) holds an opaque random
id (`tss_` + 256 bits), never the key. The table keeps only the id's SHA-256 digest, with the holder,
the digest of the key the session was opened with and its end: a leaked table opens no session, and a
session lasts no longer than its key (revoking a creator's keys, or rotating the admin key, ends their
sessions at once). Expired sessions are refused here and deleted by DynamoDB's TTL some time later.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from talkshop.auth import ADMIN, Principal, PrincipalKind, authenticate, hash_api_key, resolve_admin_key
from talkshop.clock import Clock, utc_now
from talkshop.data.repository import Repository, WebSession
from talkshop.errors import Forbidden, Unauthorized
from talkshop.ontology.model import PersonRole
from talkshop.settings import Settings

SESSION_ID_PREFIX = "tss_"
SESSION_LIFETIME = timedelta(hours=12)
#: Who may sign in: the dashboards are for creators and the admin; shoppers and agents use tokens.
STAFF_KINDS = frozenset({PrincipalKind.CREATOR, PrincipalKind.ADMIN})


@dataclass(frozen=True)
class SignedIn:
    session_id: str
    principal: Principal
    expires_at: datetime

    @property
    def max_age_s(self) -> int:
        return int(SESSION_LIFETIME.total_seconds())


def _digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def sign_in(key: str, repository: Repository, settings: Settings, clock: Clock = utc_now) -> SignedIn:
    """Open a session for a creator's or the admin's key (401 for an unknown key, 403 for a shopper's
    or an agent's)."""
    key = key.strip()
    if not key:
        raise Unauthorized("Type your creator key or the admin key.", code="missing_credentials")
    principal = authenticate(f"Bearer {key}", repository, settings)
    if principal.kind not in STAFF_KINDS:
        raise Forbidden("Only a creator's key or the admin key signs in here.", code="not_a_staff_key")
    holder = principal.ref
    assert holder is not None, "creators and the admin have a reference"
    now = clock()
    session_id = SESSION_ID_PREFIX + secrets.token_urlsafe(32)
    work = repository.unit_of_work()
    work.open_web_session(_digest(session_id), holder, hash_api_key(key), now, now + SESSION_LIFETIME)
    work.commit()
    return SignedIn(session_id, principal, now + SESSION_LIFETIME)


def session_principal(
    session_id: str, repository: Repository, settings: Settings, clock: Clock = utc_now
) -> Principal:
    """Who a session cookie signs in, or 401 `session_expired` (unknown, ended, or its key is gone)."""
    stored = repository.web_session(_digest(session_id))
    if stored is None or stored.expires_at <= clock() or not _key_still_valid(stored, repository, settings):
        raise Unauthorized("Your session has ended; sign in again.", code="session_expired")
    if stored.holder.type == PersonRole.ADMIN:
        return ADMIN
    return Principal(PrincipalKind.CREATOR, stored.holder.id)


def _key_still_valid(stored: WebSession, repository: Repository, settings: Settings) -> bool:
    if stored.holder.type == PersonRole.ADMIN:
        admin_key = resolve_admin_key(settings)
        return admin_key is not None and hmac.compare_digest(hash_api_key(admin_key), stored.key_hash)
    return repository.api_key_holder(stored.key_hash) == stored.holder


def sign_out(session_id: str, repository: Repository) -> None:
    """End a session (signing out twice, or with an unknown id, changes nothing)."""
    work = repository.unit_of_work()
    work.close_web_session(_digest(session_id))
    work.commit()
