"""The admin onboards creators over the API (POST /api/admin/creators, POST and DELETE
/api/admin/creators/{id}/keys) through the admin Lambda handler on moto: what `talkshop creator
add|key|revoke` does, while the server runs. Keys are shown once: stored as digests, never replayed."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from talkshop.auth import Principal, PrincipalKind, authenticate
from talkshop.catalog.creators import CreatorService
from talkshop.data.repository import Repository
from talkshop.errors import Unauthorized
from talkshop.settings import get_settings
from tests.conftest import ADMIN_KEY, IDEMPOTENCY_TABLE_NAME, table_snapshot
from tests.integration.http import assert_error, call

CREATORS = "/api/admin/creators"
KEY = {"Idempotency-Key": "onboard-1"}


def holder_of(key: str, repository: Repository) -> Principal:
    """Who a key signs in as, the way every route authenticates its bearer."""
    return authenticate(f"Bearer {key}", repository, get_settings())


def create(body: dict[str, Any]) -> dict[str, Any]:
    created = call("POST", CREATORS, ADMIN_KEY, body)
    assert created.status == 201, created.body
    answer: dict[str, Any] = created.json()
    return answer


def test_the_admin_creates_a_creator_whose_key_works_and_is_stored_as_a_digest(
    repository: Repository,
) -> None:
    created = create({"name": "  My Padel Shop ", "id": "my-padel-shop"})

    assert created["id"] == "my-padel-shop"
    assert created["name"] == "My Padel Shop"
    assert created["apiKey"].startswith("tsk_")
    assert holder_of(created["apiKey"], repository) == Principal(PrincipalKind.CREATOR, "my-padel-shop")
    creator = CreatorService(repository).get("my-padel-shop")
    assert creator is not None
    assert creator.group_id == "business-my-padel-shop"
    assert created["apiKey"] not in json.dumps(table_snapshot(repository.table), default=str)
    # Without an id, the id comes from the name, as with the CLI.
    assert create({"name": "Court Craft Studio"})["id"] == "court-craft-studio"


def test_an_existing_creator_is_a_conflict_and_changes_nothing(repository: Repository) -> None:
    create({"name": "PadelNest", "id": "padelnest"})
    before = table_snapshot(repository.table)
    taken = call("POST", CREATORS, ADMIN_KEY, {"name": "Other", "id": "padelnest"})
    assert_error(taken, 409, "creator_exists")
    assert table_snapshot(repository.table) == before


def test_another_key_works_beside_the_first_and_revoking_stops_both(repository: Repository) -> None:
    first = create({"name": "PadelNest", "id": "padelnest"})["apiKey"]

    issued = call("POST", f"{CREATORS}/padelnest/keys", ADMIN_KEY)
    assert issued.status == 201, issued.body
    second = issued.json()
    assert second["id"] == "padelnest"
    assert second["name"] == "PadelNest"
    assert second["apiKey"] not in (None, first)
    for key in (first, second["apiKey"]):
        assert holder_of(key, repository) == Principal(PrincipalKind.CREATOR, "padelnest")

    revoked = call("DELETE", f"{CREATORS}/padelnest/keys", ADMIN_KEY)
    assert revoked.status == 200, revoked.body
    assert revoked.json() == {"id": "padelnest", "revoked": 2}
    for key in (first, second["apiKey"]):
        with pytest.raises(Unauthorized):
            holder_of(key, repository)
    assert call("DELETE", f"{CREATORS}/padelnest/keys", ADMIN_KEY).json()["revoked"] == 0


def test_an_unknown_creator_has_no_keys_to_issue_or_revoke(repository: Repository) -> None:
    assert_error(call("POST", f"{CREATORS}/nobody/keys", ADMIN_KEY), 404, "creator_not_found")
    assert_error(call("DELETE", f"{CREATORS}/nobody/keys", ADMIN_KEY), 404, "creator_not_found")


def test_creators_are_the_admins_to_onboard(repository: Repository) -> None:
    creator_key = CreatorService(repository).add("PadelNest", "padelnest").api_key
    before = table_snapshot(repository.table)
    for method, path, body in (
        ("POST", CREATORS, {"name": "Mine", "id": "mine"}),
        ("POST", f"{CREATORS}/padelnest/keys", None),
        ("DELETE", f"{CREATORS}/padelnest/keys", None),
    ):
        assert_error(call(method, path, creator_key, body), 403, "admin_only")
        assert_error(call(method, path, None, body), 401, "missing_credentials")
        assert_error(call(method, path, "tsk_not-a-key", body), 401, "invalid_credentials")
    assert table_snapshot(repository.table) == before
    assert holder_of(creator_key, repository) == Principal(PrincipalKind.CREATOR, "padelnest")


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({}, "validation_error"),
        ({"name": ""}, "validation_error"),
        ({"name": "   "}, "validation_error"),
        ({"name": "x" * 201}, "validation_error"),
        ({"name": "Shop", "id": "bad#id"}, "validation_error"),
        ({"name": "Shop", "id": "-leading-dash"}, "validation_error"),
        # Its business group, "business-<id>", must be a valid id too.
        ({"name": "Shop", "id": "a" * 120}, "validation_error"),
        ({"name": 7}, "validation_error"),
        ({"name": "Shop", "role": "admin"}, "unknown_fields"),
    ],
)
def test_invalid_creators_are_refused_and_write_nothing(
    repository: Repository, body: dict[str, Any], code: str
) -> None:
    before = table_snapshot(repository.table)
    assert_error(call("POST", CREATORS, ADMIN_KEY, body), 422, code)
    assert table_snapshot(repository.table) == before


def test_the_longest_creator_id_is_accepted(repository: Repository) -> None:
    assert create({"name": "Shop", "id": "a" * 119})["id"] == "a" * 119


def test_an_invalid_creator_id_in_the_path_is_refused(repository: Repository) -> None:
    assert_error(call("POST", f"{CREATORS}/bad%23id/keys", ADMIN_KEY), 422, "validation_error")
    assert_error(call("DELETE", f"{CREATORS}/bad%23id/keys", ADMIN_KEY), 422, "validation_error")


def stored_idempotency_records() -> str:
    return json.dumps(boto3.resource("dynamodb").Table(IDEMPOTENCY_TABLE_NAME).scan()["Items"], default=str)


def test_a_retried_creation_makes_no_second_creator_and_keeps_no_key(repository: Repository) -> None:
    body = {"name": "PadelNest", "id": "padelnest"}
    first = call("POST", CREATORS, ADMIN_KEY, body, headers=KEY)
    assert first.status == 201, first.body
    created = first.json()
    assert created["apiKey"]
    before = table_snapshot(repository.table)

    replayed = call("POST", CREATORS, ADMIN_KEY, body, headers=KEY)
    assert replayed.status == 201
    assert replayed.json() == created | {"apiKey": None}
    assert table_snapshot(repository.table) == before
    assert created["apiKey"] not in stored_idempotency_records()
    assert_error(
        call("POST", CREATORS, ADMIN_KEY, {"name": "Other", "id": "other"}, headers=KEY),
        422,
        "idempotency_key_reused",
    )


def test_a_retried_key_issue_makes_no_second_key_and_keeps_none(repository: Repository) -> None:
    creators = CreatorService(repository)
    padelnest = creators.add("PadelNest", "padelnest").creator
    courtcraft = creators.add("Court Craft", "courtcraft").creator
    first = call("POST", f"{CREATORS}/padelnest/keys", ADMIN_KEY, headers=KEY)
    assert first.status == 201, first.body
    issued = first.json()

    replayed = call("POST", f"{CREATORS}/padelnest/keys", ADMIN_KEY, headers=KEY)
    assert replayed.status == 201
    assert replayed.json() == issued | {"apiKey": None}
    assert len(repository.api_keys_of(padelnest.ref)) == 2  # the one from `add`, and this one
    assert issued["apiKey"] not in stored_idempotency_records()

    # The same Idempotency-Key for another creator is another request: that creator gets a key of theirs.
    other = call("POST", f"{CREATORS}/courtcraft/keys", ADMIN_KEY, headers=KEY)
    assert other.status == 201, other.body
    assert other.json()["id"] == "courtcraft"
    assert holder_of(other.json()["apiKey"], repository) == Principal(PrincipalKind.CREATOR, "courtcraft")
    assert len(repository.api_keys_of(courtcraft.ref)) == 2
