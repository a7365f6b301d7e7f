"""The six dimensions of the Talkshop ontology: groups, people, things, connections, events, knowledge."""

from talkshop.ontology.model import (
    Connection,
    ConnectionType,
    Dimension,
    EntityRef,
    Event,
    EventType,
    Group,
    GroupType,
    Knowledge,
    Person,
    PersonRole,
    ThingType,
)

__all__ = [
    "Connection",
    "ConnectionType",
    "Dimension",
    "EntityRef",
    "Event",
    "EventType",
    "Group",
    "GroupType",
    "Knowledge",
    "Person",
    "PersonRole",
    "ThingType",
]
