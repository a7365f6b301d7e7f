"""Events folded into metric counts: what each event type adds, and to which aggregates.

`fold(event)` is pure: it reads only the event (schema v1 payloads, docs/analytics.md), so counting an
event live and replaying it later add exactly the same numbers. `Aggregator.apply` stores a fold once
per event id. Nothing about a shopper (ids, message text, questions) is ever copied into a count.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from talkshop.analytics.model import AGENT_PLATFORM, STOREFRONT_PLATFORM, MetricScope
from talkshop.data.metric_items import MetricKey, MetricStore, Touch
from talkshop.data.repository import Repository
from talkshop.events.publisher import SCHEMA_VERSION, event_of_detail
from talkshop.ontology.model import Event, EventType
from talkshop.privacy import AnalyticsConsent

UNKNOWN = "unknown"
# Reply latency histogram: a turn counts in the first bucket whose upper bound (ms) holds it; the last
# bucket is "over the last bound". Percentiles are read as the bound of the bucket that holds them.
LATENCY_BOUNDS_MS = (250, 500, 1000, 2000, 3000, 5000, 8000, 13000, 21000)
LATENCY_OVER = "latency_over"
# Turns that looked for products and showed none: a search with no result.
SEARCH_INTENTS = frozenset({"discover", "refine"})
# Turns the advisor could not act on from the catalog: the shopper's need went unanswered.
UNANSWERED_INTENTS = frozenset({"vague", "off_topic"})
ABANDON_STEPS = ("started", "chatting", "recommended", "details", "cart")
CHAT_ORDER_EVENTS = frozenset({EventType.ORDER_PLACED_FROM_CHAT})
# How long an event's "counted" marker is kept: past EventBridge's day of retries and the bus archive's
# 30 days of replay, so a redelivery is always recognised; then TTL deletes it (a rebuild drops all).
# A touch marker ("this chat already counted for this product") is kept as long after the last event
# that touched it, so a late or replayed event of the same chat or cart still finds it.
MARKER_LIFETIME = timedelta(days=35)


def latency_bucket(latency_ms: int) -> str:
    for bound in LATENCY_BOUNDS_MS:
        if latency_ms <= bound:
            return f"latency_le_{bound}"
    return LATENCY_OVER


@dataclass
class Fold:
    """What one event adds: counts per aggregate, and counts that only a first time adds."""

    counts: dict[MetricKey, dict[str, int]] = field(default_factory=lambda: defaultdict(dict))
    firsts: dict[Touch, dict[MetricKey, dict[str, int]]] = field(default_factory=dict)

    def add(self, key: MetricKey, name: str, value: int = 1) -> None:
        self.counts[key][name] = self.counts[key].get(name, 0) + value

    def add_first(self, touch: Touch, key: MetricKey, name: str, value: int = 1) -> None:
        slot = self.firsts.setdefault(touch, {}).setdefault(key, {})
        slot[name] = slot.get(name, 0) + value


def fold(event: Event) -> Fold:
    """The counts an event adds (none for event types analytics does not count)."""
    result = Fold()
    folder = _FOLDERS.get(event.type)
    if folder is not None and not event.payload.get("analytics_opt_out"):
        folder(event, result)
    return result


def _total(event: Event, platform: str | None = None) -> MetricKey:
    return MetricKey(event.occurred_at.date(), MetricScope.TOTAL.value, platform or _platform(event))


def _creator(event: Event, creator_id: str, platform: str) -> MetricKey:
    return MetricKey(event.occurred_at.date(), MetricScope.CREATOR.value, platform, creator_id=creator_id)


def _product(event: Event, creator_id: str, product_id: str, platform: str) -> MetricKey:
    return MetricKey(
        event.occurred_at.date(),
        MetricScope.PRODUCT.value,
        platform,
        creator_id=creator_id,
        product_id=product_id,
    )


def _platform(event: Event) -> str:
    return str(event.payload.get("platform") or UNKNOWN)


def _number(payload: Mapping[str, Any], name: str) -> int:
    value = payload.get(name)
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0


# Chats


def _conversation_started(event: Event, result: Fold) -> None:
    result.add(_total(event), "conversations")


def _creator_ids(event: Event) -> list[str]:
    """The creators a chat event concerns (its `creator_ids`: those whose products a turn showed or
    named, or that came up in a chat), each once."""
    named = event.payload.get("creator_ids")
    if not isinstance(named, list):
        return []
    return sorted({creator_id for creator_id in named if isinstance(creator_id, str) and creator_id})


def _message_sent(event: Event, result: Fold) -> None:
    payload = event.payload
    platform = _platform(event)
    total = _total(event, platform)
    # A turn's usage and reply time count for the platform and for each creator whose products it
    # showed or named (their own cost per conversation, their chats' reply times).
    for key in (total, *(_creator(event, creator_id, platform) for creator_id in _creator_ids(event))):
        result.add(key, "messages")
        result.add(key, "input_tokens", _number(payload, "input_tokens"))
        result.add(key, "output_tokens", _number(payload, "output_tokens"))
        # Cost in whole micro-dollars: integer sums are exact whatever order events are counted in.
        result.add(key, "cost_microusd", round(float(payload.get("cost_usd") or 0) * 1_000_000))
        latency = payload.get("latency_ms")
        if isinstance(latency, int | float) and not isinstance(latency, bool):
            result.add(key, "latency_samples")
            result.add(key, latency_bucket(int(latency)))
    intent = payload.get("intent")
    # Events recorded before `products_found` existed say only how many cards were on screen.
    if intent in SEARCH_INTENTS and payload.get("products_found", payload.get("products_shown")) == 0:
        result.add(total, "no_result_searches")
    if intent in UNANSWERED_INTENTS:
        result.add(total, "unanswered")


def _question_asked(event: Event, result: Fold) -> None:
    result.add(_total(event), "questions_asked")


_PRODUCT_COUNTERS = {
    EventType.PRODUCT_MENTIONED: "mentions",
    EventType.PRODUCT_RECOMMENDED: "recommendations",
    EventType.PRODUCT_DETAILS_VIEWED: "details_views",
}


def _product_in_chat(event: Event, result: Fold) -> None:
    """A product came up in a chat: its counter, and the chat counted once for the product and its
    creator (the first time either comes up in that chat)."""
    product_id = event.payload.get("product_id")
    if not product_id:
        return
    creator_id = str(event.payload.get("creator_id") or UNKNOWN)
    platform = _platform(event)
    product = _product(event, creator_id, str(product_id), platform)
    result.add(product, _PRODUCT_COUNTERS[event.type])
    chat = f"chat:{event.subject.id}"
    result.add_first(Touch(chat, f"product:{product_id}"), product, "conversations")
    result.add_first(
        Touch(chat, f"creator:{creator_id}"), _creator(event, creator_id, platform), "conversations"
    )


def _feedback_given(event: Event, result: Fold) -> None:
    satisfaction = event.payload.get("satisfaction")
    if not isinstance(satisfaction, int) or isinstance(satisfaction, bool):
        return
    # A chat's first rating counts: rating again does not make it two rated chats. For a creator, the
    # chat's first rating that names them (their products came up in it).
    for touch, key in _once_per_chat(event, "rated"):
        result.add_first(touch, key, "satisfaction_sum", satisfaction)
        result.add_first(touch, key, "satisfaction_count")


def _chat_abandoned(event: Event, result: Fold) -> None:
    step = str(event.payload.get("last_step") or UNKNOWN)
    step = step if step in ABANDON_STEPS else UNKNOWN
    # Counted once per chat (and creator): one that comes back and goes quiet again is still one
    # abandoned chat.
    for touch, key in _once_per_chat(event, "abandoned"):
        result.add_first(touch, key, "abandoned")
        result.add_first(touch, key, f"abandoned_at_{step}")


def _once_per_chat(event: Event, what: str) -> list[tuple[Touch, MetricKey]]:
    """Where a chat's `what` counts once: the platform's total, and each creator the event names (a
    touch of its own per creator, so a creator named only by a later event still counts it once)."""
    chat, platform = f"chat:{event.subject.id}", _platform(event)
    return [
        (Touch(chat, what), _total(event, platform)),
        *(
            (Touch(chat, f"{what}:{creator_id}"), _creator(event, creator_id, platform))
            for creator_id in _creator_ids(event)
        ),
    ]


# Storefront and carts


def _store_viewed(event: Event, result: Fold) -> None:
    total = _total(event, STOREFRONT_PLATFORM)
    result.add(total, "store_visits")
    if event.payload.get("search") and event.payload.get("results") == 0:
        result.add(total, "no_result_searches")


def _added_to_cart(event: Event, result: Fold) -> None:
    payload = event.payload
    product_id = payload.get("product_id")
    if not product_id:
        return
    creator_id = str(payload.get("creator_id") or UNKNOWN)
    from_chat = bool(payload.get("session_id"))
    platform = _platform(event) if from_chat else STOREFRONT_PLATFORM
    result.add(
        _product(event, creator_id, str(product_id), platform),
        "chat_cart_adds" if from_chat else "traditional_cart_adds",
    )
    if not from_chat:
        # The traditional funnel's carts: each storefront cart counted once, and once per creator in it.
        cart = f"cart:{payload.get('cart_id') or event.subject.id}"
        result.add_first(Touch(cart, "started"), _total(event, platform), "traditional_carts")
        result.add_first(
            Touch(cart, f"creator:{creator_id}"), _creator(event, creator_id, platform), "traditional_carts"
        )


# Orders


def _order(event: Event, result: Fold) -> None:
    """An order: chat orders count from order_placed_from_chat (which carries the chat's platform and
    length), traditional ones from order_placed; the order_placed of a chat order is not counted twice."""
    payload = event.payload
    from_chat = event.type in CHAT_ORDER_EVENTS
    if not from_chat and payload.get("order_source") != "traditional":
        return
    kind = "chat" if from_chat else "traditional"
    if from_chat:
        platform = _platform(event)
    else:
        platform = AGENT_PLATFORM if payload.get("agent_id") else STOREFRONT_PLATFORM
    currency = str(payload.get("currency") or UNKNOWN)
    total = _total(event, platform)
    result.add(total, f"{kind}_orders")
    result.add(total, f"{kind}_orders_{currency}")
    result.add(total, f"{kind}_revenue_{currency}", _number(payload, "total"))
    if from_chat:
        result.add(total, "messages_before_purchase", _number(payload, "messages_count"))
    lines = [line for line in payload.get("lines") or [] if isinstance(line, dict) and line.get("product_id")]
    creators: dict[str, int] = {}
    products: dict[tuple[str, str], tuple[int, int]] = {}
    for line in lines:
        creator_id = str(line.get("creator_id") or UNKNOWN)
        amount = _number(line, "amount")
        creators[creator_id] = creators.get(creator_id, 0) + amount
        units, revenue = products.get((creator_id, str(line["product_id"])), (0, 0))
        products[(creator_id, str(line["product_id"]))] = (
            units + _number(line, "quantity"),
            revenue + amount,
        )
    for creator_id, amount in creators.items():
        creator = _creator(event, creator_id, platform)
        result.add(creator, f"{kind}_orders")
        result.add(creator, f"{kind}_orders_{currency}")
        result.add(creator, f"{kind}_revenue_{currency}", amount)
        if from_chat:
            # The chat's length counts for every creator (and product) it sold: their own average.
            result.add(creator, "messages_before_purchase", _number(payload, "messages_count"))
    for (creator_id, product_id), (units, revenue) in products.items():
        product = _product(event, creator_id, product_id, platform)
        result.add(product, f"{kind}_purchases")
        result.add(product, "units_sold", units)
        result.add(product, f"revenue_{currency}", revenue)
        if from_chat:
            result.add(product, "messages_before_purchase", _number(payload, "messages_count"))


_FOLDERS = {
    EventType.CONVERSATION_STARTED: _conversation_started,
    EventType.MESSAGE_SENT: _message_sent,
    EventType.QUESTION_ASKED: _question_asked,
    EventType.PRODUCT_MENTIONED: _product_in_chat,
    EventType.PRODUCT_RECOMMENDED: _product_in_chat,
    EventType.PRODUCT_DETAILS_VIEWED: _product_in_chat,
    EventType.FEEDBACK_GIVEN: _feedback_given,
    EventType.CHAT_ABANDONED: _chat_abandoned,
    EventType.STORE_VIEWED: _store_viewed,
    EventType.ADDED_TO_CART: _added_to_cart,
    EventType.ORDER_PLACED: _order,
    EventType.ORDER_PLACED_FROM_CHAT: _order,
}


class Aggregator:
    """Counts events into metric items, each event once however often it is delivered."""

    def __init__(self, repository: Repository) -> None:
        self.store = MetricStore(repository)
        # The shopper's own analytics choice (their person record; docs/analytics.md, Privacy).
        self.consent = AnalyticsConsent(repository)

    def apply(self, event: Event) -> bool:
        """Count an event; False when it was counted already (a redelivery). An event of a shopper who
        opted out counts nothing but is marked applied all the same."""
        folded = fold(event) if self.consent.allows(event) else Fold()
        return self.store.apply(
            event.id, folded.counts, folded.firsts, event.occurred_at + MARKER_LIFETIME, MARKER_LIFETIME
        )


def consume(repository: Repository, bus_event: Mapping[str, Any]) -> bool:
    """Count one EventBridge event (as a rule hands it to its target); False for a redelivery."""
    detail = bus_event.get("detail")
    if not isinstance(detail, Mapping):
        raise ValueError("not an EventBridge event with a detail")
    version = detail.get("schemaVersion", SCHEMA_VERSION)
    if version != SCHEMA_VERSION:
        # A schema this fold does not know could be miscounted: fail (retried, then dead-lettered;
        # counted by a rebuild once the consumer knows it) rather than guess.
        raise ValueError(f"event schema version {version!r}: this consumer reads {SCHEMA_VERSION}")
    return Aggregator(repository).apply(event_of_detail(detail))
