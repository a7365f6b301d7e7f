"""Ontology vocabulary and the pydantic models of the dimensions that are not domain-specific things.

Things (products, conversations, orders...) have their own models in their domain packages; every
stored entity is addressed by an :class:`EntityRef` (dimension, type, id), which is all the data
layer needs to place it.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

# Ids end up inside DynamoDB keys, so they may not contain the '#' separator or whitespace.
Identifier = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$")]


class Dimension(StrEnum):
    GROUP = "group"
    PERSON = "person"
    THING = "thing"
    CONNECTION = "connection"
    EVENT = "event"
    KNOWLEDGE = "knowledge"


class GroupType(StrEnum):
    BUSINESS = "business"
    MARKETPLACE = "marketplace"


class PersonRole(StrEnum):
    CUSTOMER = "customer"
    CREATOR = "creator"
    ADMIN = "admin"
    AI_AGENT = "ai_agent"


class ThingType(StrEnum):
    PRODUCT = "product"
    CONVERSATION_SESSION = "conversation_session"
    AI_RECOMMENDATION = "ai_recommendation"
    CART = "cart"
    ORDER = "order"
    DISCOUNT = "discount"
    CHECKOUT = "checkout"
    RESERVATION = "reservation"
    TEST_PAYMENT = "test_payment"
    DELEGATED_PAYMENT_TOKEN = "delegated_payment_token"  # noqa: S105 - a thing type, not a secret
    WEBHOOK_ENDPOINT = "webhook_endpoint"
    WEBHOOK_DELIVERY = "webhook_delivery"
    ACP_CHECKOUT_SESSION = "acp_checkout_session"
    EXPERIMENT = "experiment"
    RUNNING_EXPERIMENT = "running_experiment"
    RANKING_WEIGHTS = "ranking_weights"


class ConnectionType(StrEnum):
    OWNED_BY = "owned_by"
    MEMBER_OF = "member_of"
    PURCHASED_VIA_CHAT = "purchased_via_chat"
    SUGGESTED_BY_AI = "suggested_by_ai"
    CONVERSATIONALLY_INTERESTED = "conversationally_interested"


class EventType(StrEnum):
    PRODUCT_CREATED = "product_created"
    PRODUCT_UPDATED = "product_updated"
    PRODUCT_DELETED = "product_deleted"
    CREATOR_ADDED = "creator_added"
    CATALOG_IMPORTED = "catalog_imported"
    CONVERSATION_STARTED = "conversation_started"
    MESSAGE_SENT = "message_sent"
    QUESTION_ASKED = "question_asked"
    PRODUCT_MENTIONED = "product_mentioned"
    PRODUCT_RECOMMENDED = "product_recommended"
    PRODUCT_DETAILS_VIEWED = "product_details_viewed"
    PREFERENCES_CORRECTED = "preferences_corrected"
    FEEDBACK_GIVEN = "feedback_given"
    CHAT_ABANDONED = "chat_abandoned"
    ADDED_TO_CART = "added_to_cart"
    CHECKOUT_STARTED = "checkout_started"
    ORDER_PLACED = "order_placed"
    ORDER_PLACED_FROM_CHAT = "order_placed_from_chat"
    ORDER_PAID = "order_paid"
    CHECKOUT_FAILED = "checkout_failed"
    DISCOUNT_APPLIED = "discount_applied"
    WEBHOOK_DELIVERED = "webhook_delivered"
    WEBHOOK_FAILED = "webhook_failed"
    EXPERIMENT_EXPOSURE = "experiment_exposure"
    STORE_VIEWED = "store_viewed"  # the storefront page (browse or search): traditional visits


class EntityRef(BaseModel):
    """Where an entity lives in the ontology: its dimension, its type within it and its id."""

    model_config = ConfigDict(frozen=True)

    dimension: Dimension
    type: str
    id: Identifier


class Group(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: Identifier
    type: GroupType
    name: str = Field(min_length=1, max_length=200)

    @property
    def ref(self) -> EntityRef:
        return EntityRef(dimension=Dimension.GROUP, type=self.type, id=self.id)


class Person(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: Identifier
    role: PersonRole
    name: str = Field(min_length=1, max_length=200)
    group_id: Identifier | None = None
    # A shopper's choice (PUT /api/me/analytics): their events are not counted in analytics.
    analytics_opt_out: bool = False

    @property
    def ref(self) -> EntityRef:
        return EntityRef(dimension=Dimension.PERSON, type=self.role, id=self.id)


class Connection(BaseModel):
    """A directed, typed edge between two entities, readable from both ends."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    source: EntityRef
    type: ConnectionType
    target: EntityRef
    attributes: dict[str, Any] = Field(default_factory=dict)


class Event(BaseModel):
    """An append-only fact about an entity at a point in time."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Identifier
    type: EventType
    subject: EntityRef
    occurred_at: datetime
    actor: EntityRef | None = None
    payload: dict[str, Any] = Field(default_factory=dict)


class Knowledge(BaseModel):
    """Derived, descriptive knowledge about an entity: labels, descriptions, embedding metadata."""

    model_config = ConfigDict(extra="forbid")

    subject: EntityRef
    kind: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
    content: dict[str, Any]
