"""The repository on a moto table: conditional writes, edges, events, pages and multi-unit commits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from talkshop.data.pagination import InvalidCursor, encode_cursor
from talkshop.data.repository import (
    MAX_TRANSACTION_ITEMS,
    IndexEntries,
    ItemTooLarge,
    Repository,
    StoredEntity,
    TooManyChanges,
    by_owner,
    by_type,
    data_field,
)
from talkshop.errors import TalkshopError
from talkshop.ontology.model import (
    Connection,
    ConnectionType,
    Dimension,
    EntityRef,
    Event,
    EventType,
    Knowledge,
)
from tests.conftest import FakeClock, table_snapshot


class Exists(TalkshopError):
    code = "exists"


class Stale(TalkshopError):
    code = "stale"


def product(product_id: str) -> EntityRef:
    return EntityRef(dimension=Dimension.THING, type="product", id=product_id)


def creator(creator_id: str) -> EntityRef:
    return EntityRef(dimension=Dimension.PERSON, type="creator", id=creator_id)


def create(
    repository: Repository,
    ref: EntityRef,
    data: dict[str, Any],
    now: datetime,
    index: IndexEntries | None = None,
) -> None:
    work = repository.unit_of_work()
    work.create(ref, data, index or IndexEntries(), now, lambda: Exists(f"{ref.id} exists"))
    work.commit()


def stored(repository: Repository, ref: EntityRef) -> StoredEntity:
    found = repository.get(ref)
    assert found is not None
    return found


def test_create_then_read_back(repository: Repository, clock: FakeClock) -> None:
    now = clock()
    create(repository, product("p1"), {"name": "Racket", "price": 8995, "rating": 4.5}, now)
    found = stored(repository, product("p1"))
    assert found.ref == product("p1")
    assert found.data == {"name": "Racket", "price": 8995, "rating": 4.5}
    assert found.version == 1
    assert found.created_at == found.updated_at == now
    assert repository.get(product("p2")) is None


def test_creating_twice_raises_the_on_exists_error(
    repository: Repository, table: Any, clock: FakeClock
) -> None:
    create(repository, product("p1"), {"name": "first"}, clock())
    before = table_snapshot(table)
    with pytest.raises(Exists, match="p1 exists"):
        create(repository, product("p1"), {"name": "second"}, clock())
    assert table_snapshot(table) == before
    assert stored(repository, product("p1")).data == {"name": "first"}


def test_replace_bumps_the_version_and_a_stale_replace_is_refused(
    repository: Repository, table: Any, clock: FakeClock
) -> None:
    created_at = clock()
    create(repository, product("p1"), {"name": "v1"}, created_at)
    first_read = stored(repository, product("p1"))

    work = repository.unit_of_work()
    updated_at = clock()
    work.replace(first_read, {"name": "v2"}, IndexEntries(), updated_at, lambda: Stale("changed"))
    work.commit()
    current = stored(repository, product("p1"))
    assert (current.version, current.data) == (2, {"name": "v2"})
    assert current.created_at == created_at
    assert current.updated_at == updated_at

    before = table_snapshot(table)
    stale = repository.unit_of_work()
    stale.replace(first_read, {"name": "lost update"}, IndexEntries(), clock(), lambda: Stale("changed"))
    with pytest.raises(Stale):
        stale.commit()
    assert table_snapshot(table) == before
    assert stored(repository, product("p1")).data == {"name": "v2"}


def test_delete_with_a_stale_version_is_refused(repository: Repository, table: Any, clock: FakeClock) -> None:
    create(repository, product("p1"), {"name": "v1"}, clock())
    first_read = stored(repository, product("p1"))
    work = repository.unit_of_work()
    work.replace(first_read, {"name": "v2"}, IndexEntries(), clock(), lambda: Stale("changed"))
    work.commit()

    before = table_snapshot(table)
    stale = repository.unit_of_work()
    stale.delete(first_read, lambda: Stale("changed"))
    with pytest.raises(Stale):
        stale.commit()
    assert table_snapshot(table) == before

    fresh = repository.unit_of_work()
    fresh.delete(stored(repository, product("p1")), lambda: Stale("changed"))
    fresh.commit()
    assert repository.get(product("p1")) is None


def test_connections_read_from_both_ends_and_disconnect(repository: Repository, clock: FakeClock) -> None:
    owned = ConnectionType.OWNED_BY
    work = repository.unit_of_work()
    for product_id in ("p1", "p2"):
        work.connect(Connection(source=product(product_id), type=owned, target=creator("alice")), clock())
    work.connect(Connection(source=product("p3"), type=owned, target=creator("bob")), clock())
    # Another type from the same source: must not show up under owned_by.
    work.connect(
        Connection(source=product("p1"), type=ConnectionType.SUGGESTED_BY_AI, target=creator("bob")), clock()
    )
    work.commit()

    assert repository.connected(product("p1"), owned) == [creator("alice")]
    assert repository.connected(product("p1"), ConnectionType.SUGGESTED_BY_AI) == [creator("bob")]
    assert sorted(ref.id for ref in repository.connected_to(creator("alice"), owned)) == ["p1", "p2"]
    assert repository.connected_to(creator("bob"), owned) == [product("p3")]
    assert repository.connected_to(creator("bob"), ConnectionType.SUGGESTED_BY_AI) == [product("p1")]
    assert repository.connected(creator("alice"), owned) == []

    # Connecting again is idempotent.
    again = repository.unit_of_work()
    again.connect(Connection(source=product("p1"), type=owned, target=creator("alice")), clock())
    again.commit()
    assert repository.connected(product("p1"), owned) == [creator("alice")]

    cut = repository.unit_of_work()
    cut.disconnect(Connection(source=product("p1"), type=owned, target=creator("alice")))
    cut.commit()
    assert repository.connected(product("p1"), owned) == []
    assert repository.connected_to(creator("alice"), owned) == [product("p2")]
    assert repository.connected(product("p1"), ConnectionType.SUGGESTED_BY_AI) == [creator("bob")]


def event(event_id: str, subject: EntityRef, occurred_at: datetime) -> Event:
    return Event(
        id=event_id,
        type=EventType.PRODUCT_CREATED,
        subject=subject,
        occurred_at=occurred_at,
        actor=creator("alice"),
        payload={"price": 8995, "rating": 4.5, "tags": ["a"]},
    )


def test_events_of_a_subject_and_of_a_day(repository: Repository) -> None:
    day = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    recorded = [
        event("e1", product("p1"), day),
        event("e2", product("p1"), day + timedelta(hours=1)),
        event("e3", product("p2"), day + timedelta(hours=2)),
        event("e4", product("p1"), day + timedelta(days=1)),
    ]
    work = repository.unit_of_work()
    for item in recorded:
        work.record_event(item)
    work.commit()

    assert repository.events_of(product("p1")) == [recorded[0], recorded[1], recorded[3]]
    assert repository.events_of(product("p2")) == [recorded[2]]
    assert repository.events_of(product("p3")) == []
    assert [item.id for item in repository.events_on_day(day)] == ["e1", "e2", "e3"]
    assert [item.id for item in repository.events_on_day(day + timedelta(days=1))] == ["e4"]
    assert repository.events_on_day(day + timedelta(days=2)) == []
    assert repository.events_of(product("p1"))[0].payload == {"price": 8995, "rating": 4.5, "tags": ["a"]}


def test_an_event_written_twice_is_refused(repository: Repository, table: Any) -> None:
    day = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    first = repository.unit_of_work()
    first.record_event(event("e1", product("p1"), day))
    first.commit()
    before = table_snapshot(table)
    second = repository.unit_of_work()
    second.record_event(event("e1", product("p1"), day))
    with pytest.raises(ClientError) as refused:
        second.commit()
    assert refused.value.response["Error"]["Code"] == "TransactionCanceledException"
    assert table_snapshot(table) == before


def test_a_unit_over_the_transaction_limit_writes_nothing(
    repository: Repository, table: Any, clock: FakeClock
) -> None:
    before = table_snapshot(table)
    work = repository.unit_of_work()
    for number in range(MAX_TRANSACTION_ITEMS + 1):
        work.create(product(f"p{number}"), {"n": number}, IndexEntries(), clock(), lambda: Exists("x"))
    with pytest.raises(TooManyChanges, match="101"):
        work.commit()
    assert TooManyChanges.status == 413
    assert table_snapshot(table) == before

    # Exactly the limit is fine.
    work.operations.pop()
    work.commit()
    assert len(table_snapshot(table)) == MAX_TRANSACTION_ITEMS


def fill_for_paging(repository: Repository, clock: FakeClock, count: int = 30) -> list[str]:
    """`count` products of one owner, created in id order; every third is 'blue'."""
    ids = [f"p{number:02d}" for number in range(count)]
    work = repository.unit_of_work()
    for number, product_id in enumerate(ids):
        work.create(
            product(product_id),
            {"colour": "blue" if number % 3 == 0 else "red", "n": number},
            IndexEntries(owner_id="alice"),
            clock(),
            lambda: Exists("x"),
        )
    work.commit()
    return ids


def collect_pages(repository: Repository, limit: int, **arguments: Any) -> list[list[str]]:
    query = by_owner("alice", "product")
    pages: list[list[str]] = []
    cursor: str | None = None
    for _ in range(50):
        page = repository.page(query, limit=limit, cursor=cursor, **arguments)
        pages.append([item.ref.id for item in page.items])
        cursor = page.next_cursor
        if cursor is None:
            return pages
    raise AssertionError("the listing never ended")


def test_filtered_pages_are_filled_across_queries(repository: Repository, clock: FakeClock) -> None:
    ids = fill_for_paging(repository, clock)
    blue = [product_id for number, product_id in enumerate(ids) if number % 3 == 0]
    pages = collect_pages(repository, 4, filters=data_field("colour").eq("blue"))
    assert pages == [blue[0:4], blue[4:8], blue[8:10]]


@pytest.mark.parametrize("limit", [1, 3, 7, 10, 11, 30])
def test_filtered_pages_have_no_gaps_or_duplicates(
    repository: Repository, clock: FakeClock, limit: int
) -> None:
    ids = fill_for_paging(repository, clock)
    blue = [product_id for number, product_id in enumerate(ids) if number % 3 == 0]
    pages = collect_pages(repository, limit, filters=data_field("colour").eq("blue"))
    flat = [product_id for page in pages for product_id in page]
    assert flat == blue
    assert all(len(page) == limit for page in pages[:-1])


def test_unfiltered_pages_and_a_filter_that_matches_nothing(repository: Repository, clock: FakeClock) -> None:
    ids = fill_for_paging(repository, clock, count=10)
    pages = collect_pages(repository, 4)
    assert [product_id for page in pages for product_id in page] == ids
    assert pages == [ids[0:4], ids[4:8], ids[8:10]]
    assert collect_pages(repository, 4, filters=data_field("colour").eq("green")) == [[]]


def test_cursors_are_bound_to_their_listing(repository: Repository, clock: FakeClock) -> None:
    fill_for_paging(repository, clock, count=6)
    first = repository.page(by_owner("alice", "product"), limit=2, identity_extra="a")
    assert first.next_cursor is not None
    with pytest.raises(InvalidCursor):
        repository.page(by_owner("alice", "product"), limit=2, cursor=first.next_cursor, identity_extra="b")
    with pytest.raises(InvalidCursor):
        repository.page(by_type(Dimension.THING, "product"), limit=2, cursor=first.next_cursor)


def test_a_forged_position_is_an_invalid_cursor(repository: Repository, clock: FakeClock) -> None:
    fill_for_paging(repository, clock, count=3)
    query = by_owner("alice", "product")
    # Well-formed, with this listing's fingerprint (computable from the source), but no key attributes.
    forged = encode_cursor({"nonsense": "x"}, query.identity + "|")
    with pytest.raises(InvalidCursor):
        repository.page(query, limit=2, cursor=forged)


def test_commit_all_undoes_earlier_units_when_a_later_one_fails(
    repository: Repository, table: Any, clock: FakeClock
) -> None:
    create(repository, product("taken"), {"name": "already here"}, clock())
    create(repository, product("edited"), {"name": "v1"}, clock())
    labels = Knowledge(subject=product("edited"), kind="labels", content={"tags": ["old"]})
    setup = repository.unit_of_work()
    setup.put_knowledge(labels, clock())
    setup.commit()
    before = table_snapshot(table)

    edited = stored(repository, product("edited"))
    first = repository.unit_of_work()
    for number in range(60):
        first.create(
            product(f"new{number}"),
            {"n": number},
            IndexEntries(owner_id="alice"),
            clock(),
            lambda: Exists("x"),
        )
    first.replace(edited, {"name": "v2"}, IndexEntries(), clock(), lambda: Stale("x"))
    first.put_knowledge(labels.model_copy(update={"content": {"tags": ["new"]}}), clock())
    first.put_knowledge(Knowledge(subject=product("edited"), kind="summary", content={"text": "x"}), clock())
    second = repository.unit_of_work()
    second.connect(
        Connection(source=product("new0"), type=ConnectionType.OWNED_BY, target=creator("a")), clock()
    )
    second.record_event(event("e1", product("new0"), clock()))
    third = repository.unit_of_work()
    third.create(product("fresh"), {"name": "fresh"}, IndexEntries(), clock(), lambda: Exists("fresh"))
    third.create(product("taken"), {"name": "collides"}, IndexEntries(), clock(), lambda: Exists("taken"))
    never = repository.unit_of_work()
    never.create(product("never"), {"name": "never"}, IndexEntries(), clock(), lambda: Exists("never"))

    with pytest.raises(Exists, match="taken"):
        repository.commit_all([first, second, third, never])
    assert table_snapshot(table) == before
    assert stored(repository, product("edited")).version == 1
    assert repository.knowledge(product("edited"), "labels") == {"tags": ["old"]}
    assert repository.knowledge(product("edited"), "summary") is None


def test_commit_all_restores_edges_that_existed_before(
    repository: Repository, table: Any, clock: FakeClock
) -> None:
    edge = Connection(
        source=product("p1"),
        type=ConnectionType.OWNED_BY,
        target=creator("alice"),
        attributes={"since": 2020},
    )
    setup = repository.unit_of_work()
    setup.connect(edge, clock())
    setup.commit()
    create(repository, product("taken"), {"name": "x"}, clock())
    before = table_snapshot(table)

    first = repository.unit_of_work()
    first.connect(edge, clock())  # idempotent: the edge is already there
    failing = repository.unit_of_work()
    failing.create(product("taken"), {"name": "y"}, IndexEntries(), clock(), lambda: Exists("taken"))
    with pytest.raises(Exists):
        repository.commit_all([first, failing])
    assert repository.connected(product("p1"), ConnectionType.OWNED_BY) == [creator("alice")]
    assert table_snapshot(table) == before


def test_get_many_reads_more_than_one_batch(repository: Repository, clock: FakeClock) -> None:
    present = [product(f"p{number:03d}") for number in range(130)]
    work = repository.unit_of_work()
    for ref in present[:90]:
        work.create(ref, {"id": ref.id}, IndexEntries(), clock(), lambda: Exists("x"))
    work.commit()
    second = repository.unit_of_work()
    for ref in present[90:]:
        second.create(ref, {"id": ref.id}, IndexEntries(), clock(), lambda: Exists("x"))
    second.commit()

    missing = [product(f"missing{number}") for number in range(40)]
    asked = present + missing + present[:10]  # 180 refs with duplicates: two batches or more
    found = repository.get_many(asked)
    assert set(found) == set(present)
    assert all(found[ref].data == {"id": ref.id} for ref in present)
    assert repository.get_many([]) == {}


def test_an_item_over_dynamodbs_size_limit_is_refused_clearly(
    repository: Repository, table: Any, clock: FakeClock
) -> None:
    work = repository.unit_of_work()
    work.create(product("huge"), {"text": "x" * 410_000}, IndexEntries(), clock(), lambda: Exists("x"))
    with pytest.raises(ItemTooLarge) as refused:
        work.commit()
    assert refused.value.status == 413
    assert table_snapshot(table) == []
