"""Who is calling: header parsing, the admin key, creator keys stored as digests, ownership rules."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import pytest

from talkshop.auth import (
    ADMIN,
    ANONYMOUS,
    API_KEY_PREFIX,
    Principal,
    PrincipalKind,
    authenticate,
    hash_api_key,
)
from talkshop.catalog.creators import CreatorService
from talkshop.data.repository import Repository
from talkshop.errors import Forbidden, Unauthorized
from talkshop.ontology.model import Dimension, EntityRef, PersonRole
from talkshop.settings import Settings, get_settings
from tests.conftest import ADMIN_KEY, FakeClock, table_snapshot


@pytest.fixture
def settings(aws_environment: None) -> Settings:
    return get_settings()


@pytest.mark.parametrize("header", [None, ""])
def test_no_header_is_anonymous(repository: Repository, settings: Settings, header: str | None) -> None:
    principal = authenticate(header, repository, settings)
    assert principal == ANONYMOUS
    assert principal.ref is None
    assert not principal.is_admin
    with pytest.raises(Unauthorized) as refused:
        principal.require_signed_in()
    assert refused.value.code == "missing_credentials"


@pytest.mark.parametrize(
    "header",
    [
        "Basic dXNlcjpwYXNz",
        "Bearer",
        "Bearer    ",
        ADMIN_KEY,  # the key without a scheme
        f"Token {ADMIN_KEY}",
        f"Bearer:{ADMIN_KEY}",
    ],
)
def test_malformed_headers_are_refused(repository: Repository, settings: Settings, header: str) -> None:
    with pytest.raises(Unauthorized) as refused:
        authenticate(header, repository, settings)
    assert refused.value.code == "malformed_credentials"
    assert refused.value.status == 401


@pytest.mark.parametrize(
    "header", [f"Bearer {ADMIN_KEY}", f"bearer {ADMIN_KEY}", f"  Bearer   {ADMIN_KEY}  "]
)
def test_the_admin_key_makes_the_admin(
    repository: Repository, settings: Settings, header: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    compared: list[tuple[bytes, bytes]] = []
    original = hmac.compare_digest

    def spy(left: bytes, right: bytes) -> bool:
        compared.append((left, right))
        return original(left, right)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    principal = authenticate(header, repository, settings)
    assert principal == ADMIN
    assert principal.is_admin
    assert principal.ref == EntityRef(dimension=Dimension.PERSON, type=PersonRole.ADMIN, id="admin")
    # The admin key is checked with a constant-time comparison, never with ==.
    assert compared == [(ADMIN_KEY.encode(), ADMIN_KEY.encode())]


def test_keys_close_to_the_admin_key_are_not_admin(repository: Repository, settings: Settings) -> None:
    for near in (ADMIN_KEY[:-1], ADMIN_KEY + "x", ADMIN_KEY.upper(), ADMIN_KEY[::-1]):
        with pytest.raises(Unauthorized) as refused:
            authenticate(f"Bearer {near}", repository, settings)
        assert refused.value.code == "invalid_credentials"


def test_without_a_configured_admin_key_nobody_is_admin(repository: Repository) -> None:
    unset = Settings(table_name="talkshop-test", admin_key=None, admin_key_secret_arn=None)
    with pytest.raises(Unauthorized):
        authenticate(f"Bearer {ADMIN_KEY}", repository, unset)


def test_a_creator_key_makes_that_creator(
    repository: Repository, settings: Settings, clock: FakeClock
) -> None:
    creators = CreatorService(repository, clock)
    padel = creators.add("Padel Pro", "padel-pro")
    court = creators.add("Court Craft")
    second = creators.issue_key("padel-pro")
    assert padel.api_key.startswith(API_KEY_PREFIX)
    assert len({padel.api_key, court.api_key, second.api_key}) == 3
    assert court.creator.id == "court-craft"

    for key in (padel.api_key, second.api_key):
        principal = authenticate(f"Bearer {key}", repository, settings)
        assert principal == Principal(PrincipalKind.CREATOR, "padel-pro")
        assert principal.ref == EntityRef(dimension=Dimension.PERSON, type=PersonRole.CREATOR, id="padel-pro")
    assert authenticate(f"Bearer {court.api_key}", repository, settings).person_id == "court-craft"


@pytest.mark.parametrize("key", ["tsk_unknown", "tsk_" + "A" * 43, "not-even-prefixed"])
def test_unknown_keys_are_refused(repository: Repository, settings: Settings, key: str) -> None:
    CreatorService(repository).add("Padel Pro", "padel-pro")
    with pytest.raises(Unauthorized) as refused:
        authenticate(f"Bearer {key}", repository, settings)
    assert refused.value.code == "invalid_credentials"


def test_a_key_held_by_someone_who_is_not_a_creator_is_refused(
    repository: Repository, settings: Settings, clock: FakeClock
) -> None:
    customer = EntityRef(dimension=Dimension.PERSON, type=PersonRole.CUSTOMER, id="padel-pro")
    work = repository.unit_of_work()
    work.register_api_key(hash_api_key("tsk_customer"), customer, clock(), lambda: Unauthorized("x"))
    work.commit()
    with pytest.raises(Unauthorized):
        authenticate("Bearer tsk_customer", repository, settings)


def test_keys_are_stored_only_as_sha256_digests(repository: Repository, table: Any) -> None:
    creators = CreatorService(repository)
    issued = [creators.add("Padel Pro", "padel-pro").api_key, creators.issue_key("padel-pro").api_key]
    stored = json.dumps(table_snapshot(table), default=str)
    for key in issued:
        secret_part = key.removeprefix(API_KEY_PREFIX)
        assert key not in stored
        assert secret_part not in stored
        digest = hashlib.sha256(key.encode()).hexdigest()
        assert hash_api_key(key) == digest
        assert f"APIKEY#{digest}" in stored
    key_items = [item for item in table_snapshot(table) if str(item["PK"]).startswith("APIKEY#")]
    assert len(key_items) == 2
    for item in key_items:
        assert set(item) == {"PK", "SK", "GSI2PK", "GSI2SK", "holder", "key_hash", "created_at"}
        assert f"APIKEY#{item['key_hash']}" == item["PK"]


def test_may_act_for_rules() -> None:
    alice = Principal(PrincipalKind.CREATOR, "alice")
    assert alice.may_act_for("alice")
    assert not alice.may_act_for("bob")
    assert ADMIN.may_act_for("alice")
    assert ADMIN.may_act_for("bob")
    assert not ANONYMOUS.may_act_for("alice")
    # A creator principal without an id acts for nobody, not even the empty id.
    assert not Principal(PrincipalKind.CREATOR, None).may_act_for("")
    assert Principal(PrincipalKind.CREATOR, None).ref is None

    alice.require_may_act_for("alice")
    ADMIN.require_may_act_for("bob")
    with pytest.raises(Forbidden) as forbidden:
        alice.require_may_act_for("bob")
    assert (forbidden.value.status, forbidden.value.code) == (403, "not_owner")
    with pytest.raises(Unauthorized) as unauthorized:
        ANONYMOUS.require_may_act_for("alice")
    assert (unauthorized.value.status, unauthorized.value.code) == (401, "missing_credentials")


def test_revoked_keys_stop_working_and_other_creators_keep_theirs(
    repository: Repository, settings: Settings
) -> None:
    creators = CreatorService(repository)
    first = creators.add("Alice Shop", "alice").api_key
    second = creators.issue_key("alice").api_key
    other = creators.add("Bob Shop", "bob").api_key
    assert creators.revoke_keys("alice") == 2
    for key in (first, second):
        with pytest.raises(Unauthorized):
            authenticate(f"Bearer {key}", repository, settings)
    assert authenticate(f"Bearer {other}", repository, settings).person_id == "bob"
    assert creators.revoke_keys("alice") == 0
    fresh = creators.issue_key("alice").api_key
    assert authenticate(f"Bearer {fresh}", repository, settings).person_id == "alice"
