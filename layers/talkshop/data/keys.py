"""Key shapes of the single table. Nothing outside the data layer builds or parses these strings.

Layout (see docs/data-model.md):
- an entity (group, person, thing) is one item: PK = "<DIMENSION>#<type>#<id>", SK = "#ENTITY";
- its outgoing connections share its partition: SK = "CONN#<type>#<target key>", and the INVERSE
  index (GSI6) holds the same item under the target's key, so edges read from both ends;
- knowledge about it shares the partition too: SK = "KNOWLEDGE#<kind>";
- events live in their own partition per subject: PK = "EVENTS#<entity key>", SK = "<ts>#<event id>",
  and in the BY_TYPE index under "EVENTDAY#<yyyy-mm-dd>" for events by day;
- counters about it share the partition too: SK = "COUNTER#<name>" (atomic, limit-checked counts);
- API keys: PK = "APIKEY#<sha256 of the key>", SK = "#APIKEY";
- analytics metric items: PK = "METRICS#<yyyy-mm-dd>", SK = "TOTAL#<platform>",
  "CREATOR#<creator>#<platform>" or "PRODUCT#<creator>#<product>#<platform>"; the consumer's markers:
  PK = "METRICAPPLIED#<event id>", SK = "#APPLIED" (an event counted once) and
  PK = "METRICTOUCH#<subject>", SK = "<what>" (a first time counted once, e.g. a chat reaching a product);
- signed-in web sessions (creators, the admin): PK = "WEBSESSION#<sha256 of the session id>",
  SK = "#WEBSESSION".
"""

from __future__ import annotations

from datetime import datetime

from talkshop.clock import iso
from talkshop.ontology.model import ConnectionType, Dimension, EntityRef

ENTITY_SORT_KEY = "#ENTITY"
API_KEY_SORT_KEY = "#APIKEY"
WEB_SESSION_SORT_KEY = "#WEBSESSION"
API_KEY_TYPE = "apikey"  # how API keys are listed under their holder in the BY_OWNER index
CONNECTION_PREFIX = "CONN#"
KNOWLEDGE_PREFIX = "KNOWLEDGE#"
COUNTER_PREFIX = "COUNTER#"

# Types written often enough that one index partition per type would run hot: their BY_TYPE entries
# are bucketed by day, so "conversations on a date" is one query and each day's writes go to a
# partition of their own (within one day they still share it; shard further if a day runs hot).
DAY_BUCKETED_TYPES = frozenset({"conversation_session", "ai_recommendation", "order", "cart"})


STORED_DIMENSIONS = frozenset({Dimension.GROUP, Dimension.PERSON, Dimension.THING})


def entity_key(ref: EntityRef) -> str:
    if ref.dimension not in STORED_DIMENSIONS:
        raise ValueError(f"{ref.dimension} entries are not entities with an item of their own")
    return f"{ref.dimension.upper()}#{ref.type}#{ref.id}"


def parse_entity_key(key: str) -> EntityRef:
    dimension, entity_type, entity_id = key.split("#", 2)
    return EntityRef(dimension=Dimension(dimension.lower()), type=entity_type, id=entity_id)


def type_partition(dimension: Dimension, entity_type: str, created_at: datetime) -> str:
    if entity_type in DAY_BUCKETED_TYPES:
        return f"{whole_type_partition(dimension, entity_type)}#{created_at.date().isoformat()}"
    return whole_type_partition(dimension, entity_type)


def whole_type_partition(dimension: Dimension, entity_type: str) -> str:
    """The one BY_TYPE partition of a type that is not bucketed by day."""
    return f"TYPE#{dimension}#{entity_type}"


def time_sort_key(created_at: datetime, entity_id: str) -> str:
    return f"{iso(created_at)}#{entity_id}"


def owner_partition(owner_id: str, entity_type: str) -> str:
    return f"OWNER#{owner_id}#{entity_type}"


def user_partition(user_id: str, entity_type: str) -> str:
    return f"USER#{user_id}#{entity_type}"


def status_partition(entity_type: str, status: str) -> str:
    return f"STATUS#{entity_type}#{status}"


def facet_partition(entity_type: str, facet: str, value: str) -> str:
    return f"FACET#{entity_type}#{facet}#{value}"


def connection_sort_key(connection_type: ConnectionType, other_end: EntityRef) -> str:
    return f"{CONNECTION_PREFIX}{connection_type}#{entity_key(other_end)}"


def connection_prefix(connection_type: ConnectionType) -> str:
    return f"{CONNECTION_PREFIX}{connection_type}#"


def knowledge_sort_key(kind: str) -> str:
    return f"{KNOWLEDGE_PREFIX}{kind}"


def counter_sort_key(name: str) -> str:
    return f"{COUNTER_PREFIX}{name}"


def events_partition(subject: EntityRef) -> str:
    return f"EVENTS#{entity_key(subject)}"


def event_day_partition(occurred_at: datetime) -> str:
    return f"EVENTDAY#{occurred_at.date().isoformat()}"


def api_key_partition(key_hash: str) -> str:
    return f"APIKEY#{key_hash}"


def web_session_partition(session_hash: str) -> str:
    return f"WEBSESSION#{session_hash}"


METRIC_PREFIXES = ("METRICS#", "METRICAPPLIED#", "METRICTOUCH#")  # every analytics item, for a rebuild
METRIC_APPLIED_SORT_KEY = "#APPLIED"


def metric_partition(day: str) -> str:
    return f"METRICS#{day}"


def metric_sort_key(scope: str, platform: str, creator_id: str | None, product_id: str | None) -> str:
    """Scope first, then creator, so one creator's items (or all products) are one begins_with."""
    if scope == "total":
        return f"TOTAL#{platform}"
    if scope == "creator":
        return f"CREATOR#{creator_id}#{platform}"
    return f"PRODUCT#{creator_id}#{product_id}#{platform}"


def metric_sort_prefix(scope: str, creator_id: str | None = None) -> str:
    prefix = f"{scope.upper()}#"
    return f"{prefix}{creator_id}#" if creator_id is not None and scope != "total" else prefix


def metric_applied_partition(event_id: str) -> str:
    return f"METRICAPPLIED#{event_id}"


def metric_touch_partition(subject: str) -> str:
    return f"METRICTOUCH#{subject}"
