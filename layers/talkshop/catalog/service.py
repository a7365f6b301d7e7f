"""Catalog use cases: list, read, create, replace and delete products, with ownership rules."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from boto3.dynamodb.conditions import ConditionBase

from talkshop.auth import Principal
from talkshop.catalog.creators import CreatorService, creator_ref
from talkshop.catalog.model import Product, ProductFields, ProductInput, ProductPage, ProductStatus
from talkshop.clock import Clock, utc_now
from talkshop.data.repository import (
    IndexEntries,
    ListQuery,
    Repository,
    StoredEntity,
    UnitOfWork,
    by_facet,
    by_owner,
    by_type,
    data_field,
    text_contains_all,
)
from talkshop.errors import Conflict, Forbidden, InvalidInput, NotFound, PreconditionFailed
from talkshop.ontology.model import (
    Connection,
    ConnectionType,
    Dimension,
    EntityRef,
    Event,
    EventType,
    ThingType,
)
from talkshop.text import fold, words


def product_ref(product_id: str) -> EntityRef:
    return EntityRef(dimension=Dimension.THING, type=ThingType.PRODUCT, id=product_id)


def product_index(fields: ProductFields) -> IndexEntries:
    searchable = " ".join(
        [fields.name, fields.brand, fields.category, fields.description, *fields.ai_keywords]
    )
    return IndexEntries(
        owner_id=fields.creator_id,
        status=fields.status,
        facet=("category", fields.category),
        search_text=" ".join(words(searchable)),
    )


def product_from_stored(stored: StoredEntity) -> Product:
    return Product.model_validate(
        {
            **stored.data,
            "id": stored.ref.id,
            "version": stored.version,
            "created_at": stored.created_at,
            "updated_at": stored.updated_at,
        }
    )


def product_data(fields: ProductFields) -> dict[str, object]:
    return fields.model_dump(mode="json", exclude={"id"})


def new_product_id() -> str:
    return "prd_" + secrets.token_hex(8)


@dataclass(frozen=True)
class ProductQuery:
    category: str | None = None
    creator_id: str | None = None
    min_price: int | None = None
    max_price: int | None = None
    in_stock: bool | None = None
    text: str | None = None
    status: ProductStatus = ProductStatus.ACTIVE
    limit: int = 20
    cursor: str | None = None

    def access_pattern(self) -> ListQuery:
        if self.creator_id:
            return by_owner(self.creator_id, ThingType.PRODUCT)
        if self.category:
            return by_facet(ThingType.PRODUCT, "category", self.category)
        return by_type(Dimension.THING, ThingType.PRODUCT)

    def filters(self) -> ConditionBase | None:
        clauses: list[ConditionBase] = [data_field("status").eq(self.status.value)]
        if self.creator_id and self.category:
            clauses.append(data_field("category").eq(self.category))
        if self.min_price is not None:
            clauses.append(data_field("price").gte(self.min_price))
        if self.max_price is not None:
            clauses.append(data_field("price").lte(self.max_price))
        if self.in_stock is True:
            clauses.append(data_field("stock").gt(0))
        elif self.in_stock is False:
            clauses.append(data_field("stock").eq(0))
        text_clause = text_contains_all(words(self.text)) if self.text else None
        if text_clause is not None:
            clauses.append(text_clause)
        combined = clauses[0]
        for clause in clauses[1:]:
            combined = combined & clause
        return combined

    def identity(self) -> str:
        """What the cursor is bound to: every parameter except the page size and the cursor."""
        return "|".join(
            str(part)
            for part in (
                self.category,
                self.creator_id,
                self.min_price,
                self.max_price,
                self.in_stock,
                fold(self.text or ""),
                self.status,
            )
        )


class CatalogService:
    def __init__(self, repository: Repository, clock: Clock = utc_now) -> None:
        self.repository = repository
        self.clock = clock
        self.creators = CreatorService(repository, clock)

    def list_products(self, query: ProductQuery, principal: Principal) -> ProductPage:
        if query.min_price is not None and query.max_price is not None and query.min_price > query.max_price:
            raise InvalidInput("min_price is above max_price.", code="invalid_price_range")
        if query.status != ProductStatus.ACTIVE and not (
            principal.is_admin or (query.creator_id is not None and principal.may_act_for(query.creator_id))
        ):
            raise Forbidden(
                "Only the admin, or a creator listing their own products, may list non-active products.",
                code="status_not_visible",
            )
        page = self.repository.page(
            query.access_pattern(),
            limit=query.limit,
            cursor=query.cursor,
            filters=query.filters(),
            identity_extra=query.identity(),
        )
        return ProductPage(
            items=[product_from_stored(item) for item in page.items], next_cursor=page.next_cursor
        )

    def get_product(self, product_id: str, principal: Principal) -> Product:
        product = product_from_stored(self._stored(product_id))
        if product.status != ProductStatus.ACTIVE and not principal.may_act_for(product.creator_id):
            raise _not_found(product_id)
        return product

    def all_products(self) -> list[Product]:
        """Every product, whatever its status (for maintenance such as reindexing; not a request path)."""
        return [
            product_from_stored(stored)
            for stored in self.repository.iterate(by_type(Dimension.THING, ThingType.PRODUCT))
        ]

    def get_products(self, product_ids: Sequence[str]) -> dict[str, Product]:
        found = self.repository.get_many([product_ref(product_id) for product_id in product_ids])
        return {ref.id: product_from_stored(stored) for ref, stored in found.items()}

    def create_product(self, body: ProductInput, principal: Principal) -> Product:
        principal.require_may_act_for(body.creator_id)
        if self.creators.get(body.creator_id) is None:
            raise InvalidInput(f"No creator {body.creator_id!r}.", code="unknown_creator")
        product_id = body.id or new_product_id()
        self._check_links(product_id, body, known_ids=set())
        work = self.repository.unit_of_work()
        self.stage_create(work, product_id, body, principal.ref)
        work.commit()
        return self.get_product(product_id, principal)

    def replace_product(
        self, product_id: str, body: ProductInput, principal: Principal, expected_version: int | None
    ) -> Product:
        if body.id is not None and body.id != product_id:
            raise InvalidInput("The body's id differs from the id in the path.", code="id_mismatch")
        current = self._stored(product_id)
        existing = product_from_stored(current)
        self._require_owner(existing, principal)
        if body.creator_id != existing.creator_id:
            raise InvalidInput("A product cannot move to another creator.", code="creator_change_not_allowed")
        if expected_version is not None and expected_version != current.version:
            raise PreconditionFailed(
                f"The product is at version {current.version}, not {expected_version}.",
                details={"current_version": current.version},
            )
        # Links the product already had stay acceptable even if their target was deleted since.
        self._check_links(product_id, body, known_ids=existing.linked_product_ids())
        work = self.repository.unit_of_work()
        self.stage_replace(work, current, body, principal.ref)
        work.commit()
        return self.get_product(product_id, principal)

    def delete_product(self, product_id: str, principal: Principal, expected_version: int | None) -> None:
        current = self._stored(product_id)
        existing = product_from_stored(current)
        self._require_owner(existing, principal)
        if expected_version is not None and expected_version != current.version:
            raise PreconditionFailed(
                f"The product is at version {current.version}, not {expected_version}.",
                details={"current_version": current.version},
            )
        work = self.repository.unit_of_work()
        work.delete(current, on_conflict=lambda: _concurrent_change(product_id))
        work.disconnect(
            Connection(
                source=current.ref, type=ConnectionType.OWNED_BY, target=creator_ref(existing.creator_id)
            )
        )
        work.record_event(self._event(EventType.PRODUCT_DELETED, current.ref, principal.ref, existing))
        work.commit()

    # Staging helpers, shared with the importer so that both write products the same way.

    def stage_create(
        self, work: UnitOfWork, product_id: str, fields: ProductFields, actor: EntityRef | None
    ) -> None:
        ref = product_ref(product_id)
        now = self.clock()

        def exists() -> Conflict:
            return Conflict(f"Product {product_id!r} already exists.", code="product_exists")

        work.create(ref, product_data(fields), product_index(fields), now, exists)
        work.connect(
            Connection(source=ref, type=ConnectionType.OWNED_BY, target=creator_ref(fields.creator_id)), now
        )
        work.record_event(self._event(EventType.PRODUCT_CREATED, ref, actor, fields))

    def stage_replace(
        self, work: UnitOfWork, current: StoredEntity, fields: ProductFields, actor: EntityRef | None
    ) -> None:
        work.replace(
            current,
            product_data(fields),
            product_index(fields),
            self.clock(),
            on_conflict=lambda: _concurrent_change(current.ref.id),
        )
        work.record_event(self._event(EventType.PRODUCT_UPDATED, current.ref, actor, fields))

    def _stored(self, product_id: str) -> StoredEntity:
        stored = self.repository.get(product_ref(product_id))
        if stored is None:
            raise _not_found(product_id)
        return stored

    def _require_owner(self, product: Product, principal: Principal) -> None:
        """Sign-in first; then a product the caller may not even see is missing, not forbidden."""
        principal.require_signed_in()
        if product.status != ProductStatus.ACTIVE and not principal.may_act_for(product.creator_id):
            raise _not_found(product.id)
        principal.require_may_act_for(product.creator_id)

    def _check_links(self, product_id: str, fields: ProductFields, known_ids: set[str]) -> None:
        linked = fields.linked_product_ids()
        if product_id in linked:
            raise InvalidInput("A product cannot link to itself.", code="self_reference")
        unknown = linked - known_ids
        if unknown:
            found = self.repository.get_many([product_ref(link) for link in sorted(unknown)])
            missing = sorted(unknown - {ref.id for ref in found})
            if missing:
                raise InvalidInput(
                    f"Linked products do not exist: {', '.join(missing)}.",
                    code="unknown_product_reference",
                    details={"missing": missing},
                )

    def _event(
        self, event_type: EventType, subject: EntityRef, actor: EntityRef | None, fields: ProductFields
    ) -> Event:
        return Event(
            id=uuid.uuid4().hex,
            type=event_type,
            subject=subject,
            occurred_at=self.clock(),
            actor=actor,
            payload={"name": fields.name, "creator_id": fields.creator_id, "price": fields.price},
        )


def _not_found(product_id: str) -> NotFound:
    return NotFound(f"No product {product_id!r}.", code="product_not_found")


def _concurrent_change(product_id: str) -> Conflict:
    return Conflict(
        f"Product {product_id!r} changed while this request was being handled; read it again and retry.",
        code="concurrent_update",
    )
