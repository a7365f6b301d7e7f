"""The dashboards' figures recomputed from the raw event items of the table, independently of the
analytics pipeline.

Written from the metric definitions in docs/analytics.md, query first: select the events a query is
about, then count each figure the way its definition reads. It does not use talkshop.analytics'
aggregate or metrics modules (nor the metric items they keep): where they fold events into counters
per day, platform, creator and product and add counters up, this reads the events themselves, so a
mistake in the fold, in the idempotency markers, in the keys or in the sums shows up as a difference.
What both share is only the contract: the event schema and the `Figures` model the answer is given in.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date
from typing import Any

from talkshop.analytics.model import (
    AGENT_PLATFORM,
    STOREFRONT_PLATFORM,
    CreatorFigures,
    DayFigures,
    Figures,
    MetricsQuery,
    PlatformFigures,
    ProductFigures,
)
from talkshop.data.serialization import from_dynamo
from talkshop.ontology.model import Event, EventType

# docs/analytics.md: latency percentiles are read off a histogram with these bucket bounds (ms); a
# percentile is the bound of the bucket holding it, and one past the last bound reads as the last bound.
LATENCY_BOUNDS_MS = (250, 500, 1000, 2000, 3000, 5000, 8000, 13000, 21000)
ABANDON_STEPS = ("started", "chatting", "recommended", "details", "cart")
PRODUCT_EVENTS = (
    EventType.PRODUCT_MENTIONED,
    EventType.PRODUCT_RECOMMENDED,
    EventType.PRODUCT_DETAILS_VIEWED,
)
UNKNOWN = "unknown"


def raw_events(table: Any) -> list[Event]:
    """Every event item of the table (a scan: this is a test's reading, not a request path), oldest
    first, without those of shoppers who opted out of analytics."""
    items: list[dict[str, Any]] = []
    arguments: dict[str, Any] = {}
    while True:
        page = table.scan(**arguments)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            break
        arguments["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    events = [
        Event.model_validate(from_dynamo(item["event"])) for item in items if item.get("dimension") == "event"
    ]
    return sorted(
        (event for event in events if not event.payload.get("analytics_opt_out")),
        key=lambda event: (event.occurred_at, event.id),
    )


def _platform(event: Event, chat_platforms: Mapping[str, str]) -> str:
    """Where an event happened: the storefront or an agent for what no chat did; a chat's cart add on the
    platform its chat started on (`chat_platforms`, chat id -> platform, from conversation_started);
    any other chat event where it says it happened."""
    if event.type == EventType.ORDER_PLACED:
        return AGENT_PLATFORM if event.payload.get("agent_id") else STOREFRONT_PLATFORM
    if event.type == EventType.STORE_VIEWED:
        return STOREFRONT_PLATFORM
    if event.type == EventType.ADDED_TO_CART:
        chat = event.payload.get("session_id")
        return chat_platforms.get(str(chat), UNKNOWN) if chat else STOREFRONT_PLATFORM
    return str(event.payload.get("platform") or UNKNOWN)


def _day(event: Event) -> date:
    return event.occurred_at.date()


def _first_of_each(events: Iterable[Event], key: Callable[[Event], Any]) -> list[Event]:
    """The earliest event of each key (a chat counted once for a product, however often it came up)."""
    firsts: dict[Any, Event] = {}
    for event in events:  # oldest first
        firsts.setdefault(key(event), event)
    return list(firsts.values())


class _Sale:
    """One order, or the part of it that a creator or product filter selects."""

    def __init__(self, event: Event, lines: list[dict[str, Any]], platform: str) -> None:
        self.event = event
        self.lines = lines
        self.chat = event.type == EventType.ORDER_PLACED_FROM_CHAT
        self.currency = event.payload.get("currency")
        self.platform = platform
        self.day = _day(event)

    def amount(self, whole_order: bool) -> int:
        return (
            int(self.event.payload["total"])
            if whole_order
            else sum(int(line["amount"]) for line in self.lines)
        )


class Recompute:
    """The figures of queries over one set of raw events."""

    def __init__(self, events: Sequence[Event]) -> None:
        self.events = list(events)
        self.chat_platforms = {
            event.subject.id: str(event.payload.get("platform") or UNKNOWN)
            for event in self.events
            if event.type == EventType.CONVERSATION_STARTED
        }

    def platform(self, event: Event) -> str:
        return _platform(event, self.chat_platforms)

    def figures(self, query: MetricsQuery) -> Figures:
        def wanted(event: Event) -> bool:
            return query.start <= _day(event) <= query.end and query.platform in (None, self.platform(event))

        def of(*types: EventType) -> list[Event]:
            return [event for event in self.events if event.type in types and wanted(event)]

        def creator_matches(creator_id: Any) -> bool:
            return query.creator_id in (None, str(creator_id or UNKNOWN))

        def line_matches(line: dict[str, Any]) -> bool:
            return creator_matches(line.get("creator_id")) and query.product_id in (
                None,
                line.get("product_id"),
            )

        scoped = query.creator_id is not None or query.product_id is not None
        # Orders: a chat order is its order_placed_from_chat; a traditional one is an order_placed that
        # no chat led to. Scoped to a creator or product, an order counts if it holds their lines, and
        # its revenue is those lines'.
        sales = [
            _Sale(
                event,
                [line for line in event.payload.get("lines") or [] if line_matches(line)],
                self.platform(event),
            )
            for event in self.events
            if wanted(event)
            and (
                event.type == EventType.ORDER_PLACED_FROM_CHAT
                or (
                    event.type == EventType.ORDER_PLACED
                    and event.payload.get("order_source") == "traditional"
                )
            )
        ]
        sales = [sale for sale in sales if sale.lines or not scoped]
        # A chat counts for a product (or creator) once: when one of their products first came up in it.
        if query.product_id is not None:
            touches = _first_of_each(
                (
                    event
                    for event in self.events
                    if event.type in PRODUCT_EVENTS and event.payload.get("product_id") == query.product_id
                ),
                lambda event: event.subject.id,
            )
        elif query.creator_id is not None:
            touches = _first_of_each(
                (
                    event
                    for event in self.events
                    if event.type in PRODUCT_EVENTS
                    and event.payload.get("product_id")
                    and creator_matches(event.payload.get("creator_id"))
                ),
                lambda event: event.subject.id,
            )
        else:
            touches = [event for event in self.events if event.type == EventType.CONVERSATION_STARTED]
        conversations = [event for event in touches if wanted(event)]
        storefront_adds = [
            event
            for event in of(EventType.ADDED_TO_CART)
            if not event.payload.get("session_id") and event.payload.get("product_id")
        ]
        if query.product_id is not None:  # a product's storefront carts are its storefront cart adds
            carts = [event for event in storefront_adds if event.payload["product_id"] == query.product_id]
        else:  # each storefront cart once (once per creator when scoped to one), from its first add
            carts = [
                event
                for event in _first_of_each(
                    (
                        event
                        for event in self.events
                        if event.type == EventType.ADDED_TO_CART
                        and not event.payload.get("session_id")
                        and event.payload.get("product_id")
                        and creator_matches(event.payload.get("creator_id"))
                    ),
                    lambda event: event.payload.get("cart_id") or event.subject.id,
                )
                if wanted(event)
            ]

        def money(selected: list[_Sale], chat: bool) -> tuple[int, int, int]:
            """(orders, orders in the query's currency, revenue in it) of the chat or traditional sales."""
            mine = [sale for sale in selected if sale.chat == chat]
            # A product's figures keep no currency per order: every order counts as in the currency.
            in_currency = [
                sale for sale in mine if sale.currency == query.currency or query.product_id is not None
            ]
            revenue = sum(sale.amount(not scoped) for sale in mine if sale.currency == query.currency)
            return len(mine), len(in_currency), revenue

        chat_orders, chat_in_currency, chat_revenue = money(sales, chat=True)
        traditional_orders, traditional_in_currency, traditional_revenue = money(sales, chat=False)
        visits = [] if scoped else of(EventType.STORE_VIEWED)
        # The traditional funnel (visits, carts) is the storefront's: an agent's ACP order had neither.
        storefront_orders = sum(1 for sale in sales if not sale.chat and sale.platform == STOREFRONT_PLATFORM)
        figures = Figures(
            query=query,
            currency=query.currency,
            conversations=len(conversations),
            chat_orders=chat_orders,
            traditional_orders=traditional_orders,
            store_visits=len(visits),
            traditional_carts=len(carts),
            chat_conversion=_ratio(chat_orders, len(conversations)),
            traditional_conversion=_ratio(storefront_orders, len(visits)),
            traditional_cart_conversion=_ratio(storefront_orders, len(carts)),
            chat_revenue=chat_revenue,
            traditional_revenue=traditional_revenue,
            aov_chat=_ratio(chat_revenue, chat_in_currency),
            aov_traditional=_ratio(traditional_revenue, traditional_in_currency),
        )
        # Messages before a purchase: those of the chat orders that sold the query's products.
        figures.avg_messages_before_purchase = _ratio(
            sum(int(sale.event.payload.get("messages_count") or 0) for sale in sales if sale.chat),
            chat_orders,
        )
        # docs/analytics.md: the chat figures count every chat unscoped, the turns that named a creator
        # and the chats their products came up in when scoped to them (a product's are its creator's,
        # none without its creator); searches and questions name no product: unscoped only.
        messages: list[Event] = []
        abandoned: list[Event] = []
        if query.creator_id is not None or query.product_id is None:

            def concerns(event: Event) -> bool:
                return query.creator_id is None or query.creator_id in (
                    event.payload.get("creator_ids") or []
                )

            # A product's chat figures are its creator's: their ratios divide by the creator's
            # conversations and chat orders, not the product's.
            whose = (
                figures
                if query.product_id is None
                else self.figures(query.model_copy(update={"product_id": None}))
            )
            messages, abandoned = self._chat_figures(
                figures, wanted, concerns, whose.conversations, whose.chat_orders
            )
            if not scoped:
                self._search_figures(figures, of, messages)
        figures.daily = self._daily(query, conversations, sales, messages, abandoned, scoped)
        figures.platforms = self._platforms(conversations, sales, scoped, query.currency)
        figures.creators = self._creators(query, wanted, creator_matches)
        figures.products = self._products(query, wanted, creator_matches)
        return figures

    def _chat_figures(
        self,
        figures: Figures,
        wanted: Callable[[Event], bool],
        concerns: Callable[[Event], bool],
        conversations: int,
        chat_orders: int,
    ) -> tuple[list[Event], list[Event]]:
        """The chat figures of the messages, ratings and abandoned chats the query is about (`concerns`:
        every one, or those naming the creator), the ratios over these conversations and chat orders;
        returns the messages and abandoned chats counted."""
        messages = [
            event
            for event in self.events
            if event.type == EventType.MESSAGE_SENT and wanted(event) and concerns(event)
        ]
        figures.messages = len(messages)
        # A chat's first rating counts (rating again changes nothing), on the day it was given; for a
        # creator, the chat's first rating that names them.
        ratings = self._firsts(
            EventType.FEEDBACK_GIVEN,
            wanted,
            lambda event: isinstance(event.payload.get("satisfaction"), int) and concerns(event),
        )
        figures.satisfaction_count = len(ratings)
        figures.satisfaction_avg = _ratio(
            sum(event.payload["satisfaction"] for event in ratings), len(ratings)
        )
        figures.input_tokens = sum(int(event.payload.get("input_tokens") or 0) for event in messages)
        figures.output_tokens = sum(int(event.payload.get("output_tokens") or 0) for event in messages)
        figures.cost_usd = _cost_usd(messages)
        figures.tokens_per_conversation = _ratio(figures.input_tokens + figures.output_tokens, conversations)
        figures.cost_per_conversation_usd = _ratio(figures.cost_usd, conversations)
        figures.cost_per_chat_order_usd = _ratio(figures.cost_usd, chat_orders)
        figures.tokens_per_chat_order = _ratio(figures.input_tokens + figures.output_tokens, chat_orders)
        latencies = sorted(
            int(event.payload["latency_ms"])
            for event in messages
            if isinstance(event.payload.get("latency_ms"), int | float)
        )
        figures.latency_samples = len(latencies)
        figures.latency_p50_ms = _percentile_bound(latencies, 0.5)
        figures.latency_p95_ms = _percentile_bound(latencies, 0.95)
        abandoned = self._firsts(EventType.CHAT_ABANDONED, wanted, concerns)
        figures.abandoned = len(abandoned)
        steps: dict[str, int] = defaultdict(int)
        for event in abandoned:
            step = event.payload.get("last_step")
            steps[step if step in ABANDON_STEPS else UNKNOWN] += 1
        figures.abandonment_last_step = dict(sorted(steps.items()))
        return messages, abandoned

    @staticmethod
    def _search_figures(
        figures: Figures, of: Callable[[EventType], list[Event]], messages: list[Event]
    ) -> None:
        """Clarifying questions, searches without results and unanswered questions: unscoped only."""
        figures.questions_asked = len(of(EventType.QUESTION_ASKED))
        figures.no_result_searches = sum(
            1
            for event in messages
            if event.payload.get("intent") in ("discover", "refine")
            and event.payload["products_found"] == 0  # what the turn's search found, not the cards left
        ) + sum(
            1
            for event in of(EventType.STORE_VIEWED)
            if event.payload.get("search") and event.payload.get("results") == 0
        )
        figures.unanswered_questions = sum(
            1 for event in messages if event.payload.get("intent") in ("vague", "off_topic")
        )

    def _firsts(
        self, kind: EventType, wanted: Callable[[Event], bool], valid: Callable[[Event], bool] = bool
    ) -> list[Event]:
        """The first (valid) event of its kind in each chat, when the query covers it."""
        firsts = _first_of_each(
            (event for event in self.events if event.type == kind and valid(event)),
            lambda event: event.subject.id,
        )
        return [event for event in firsts if wanted(event)]

    @staticmethod
    def _daily(
        query: MetricsQuery,
        conversations: list[Event],
        sales: list[_Sale],
        messages: list[Event],
        abandoned: list[Event],
        scoped: bool,
    ) -> list[DayFigures]:
        days = []
        for day in query.days():
            sold = [sale for sale in sales if sale.day == day and sale.currency == query.currency]
            said = [event for event in messages if _day(event) == day]
            days.append(
                DayFigures(
                    day=day,
                    conversations=sum(1 for event in conversations if _day(event) == day),
                    chat_orders=sum(1 for sale in sales if sale.day == day and sale.chat),
                    traditional_orders=sum(1 for sale in sales if sale.day == day and not sale.chat),
                    chat_revenue=sum(sale.amount(not scoped) for sale in sold if sale.chat),
                    traditional_revenue=sum(sale.amount(not scoped) for sale in sold if not sale.chat),
                    messages=len(said),
                    cost_usd=_cost_usd(said),
                    abandoned=sum(1 for event in abandoned if _day(event) == day),
                )
            )
        return days

    def _platforms(
        self, conversations: list[Event], sales: list[_Sale], scoped: bool, currency: str
    ) -> list[PlatformFigures]:
        found: dict[str, PlatformFigures] = {}
        for event in conversations:
            platform = self.platform(event)
            found.setdefault(platform, PlatformFigures(platform=platform)).conversations += 1
        for sale in sales:
            row = found.setdefault(sale.platform, PlatformFigures(platform=sale.platform))
            amount = sale.amount(not scoped) if sale.currency == currency else 0
            if sale.chat:
                row.chat_orders += 1
                row.chat_revenue += amount
            else:
                row.traditional_orders += 1
                row.traditional_revenue += amount
        return sorted(found.values(), key=lambda row: row.platform)

    def _creators(
        self, query: MetricsQuery, wanted: Callable[[Event], bool], creator_matches: Callable[[Any], bool]
    ) -> list[CreatorFigures]:
        """Per creator: the chats their products came up in, the orders holding their products and
        the revenue of their lines; storefront carts count in the traditional funnel."""
        if query.product_id is not None:
            return []  # a product's query reads product figures only
        rows: dict[str, CreatorFigures] = {}

        def row(creator_id: Any) -> CreatorFigures:
            key = str(creator_id or UNKNOWN)
            return rows.setdefault(key, CreatorFigures(creator_id=key))

        product_events = [
            event for event in self.events if event.type in PRODUCT_EVENTS and event.payload.get("product_id")
        ]
        for event in _first_of_each(
            product_events, lambda event: (event.subject.id, str(event.payload.get("creator_id") or UNKNOWN))
        ):
            if wanted(event) and creator_matches(event.payload.get("creator_id")):
                row(event.payload.get("creator_id")).conversations += 1
        for event in self.events:
            chat = event.type == EventType.ORDER_PLACED_FROM_CHAT
            traditional = (
                event.type == EventType.ORDER_PLACED and event.payload.get("order_source") == "traditional"
            )
            if not (chat or traditional) or not wanted(event):
                continue
            amounts: dict[str, int] = defaultdict(int)
            for line in event.payload.get("lines") or []:
                if line.get("product_id"):
                    amounts[str(line.get("creator_id") or UNKNOWN)] += int(line["amount"])
            for creator_id, amount in amounts.items():
                if not creator_matches(creator_id):
                    continue
                in_currency = amount if event.payload.get("currency") == query.currency else 0
                if chat:
                    row(creator_id).chat_orders += 1
                    row(creator_id).chat_revenue += in_currency
                else:
                    row(creator_id).traditional_orders += 1
                    row(creator_id).traditional_revenue += in_currency
        return sorted(rows.values(), key=lambda found: found.creator_id)

    def _products(
        self, query: MetricsQuery, wanted: Callable[[Event], bool], creator_matches: Callable[[Any], bool]
    ) -> list[ProductFigures]:
        rows: dict[tuple[str, str], dict[str, int]] = {}

        def counts(product_id: Any, creator_id: Any) -> dict[str, int]:
            key = (str(product_id), str(creator_id or UNKNOWN))
            return rows.setdefault(key, defaultdict(int))

        def selected(product_id: Any, creator_id: Any) -> bool:
            return query.product_id in (None, product_id) and creator_matches(creator_id)

        names = {
            EventType.PRODUCT_MENTIONED: "mentions",
            EventType.PRODUCT_RECOMMENDED: "recommendations",
            EventType.PRODUCT_DETAILS_VIEWED: "details_views",
        }
        product_events = [
            event for event in self.events if event.type in PRODUCT_EVENTS and event.payload.get("product_id")
        ]
        for event in product_events:
            payload = event.payload
            if wanted(event) and selected(payload["product_id"], payload.get("creator_id")):
                counts(payload["product_id"], payload.get("creator_id"))[names[event.type]] += 1
        for event in _first_of_each(
            product_events, lambda event: (event.subject.id, event.payload["product_id"])
        ):
            payload = event.payload
            if wanted(event) and selected(payload["product_id"], payload.get("creator_id")):
                counts(payload["product_id"], payload.get("creator_id"))["conversations"] += 1
        for event in self.events:
            payload = event.payload
            if not wanted(event):
                continue
            product_id = payload.get("product_id")
            creator_id = payload.get("creator_id")
            if event.type == EventType.ADDED_TO_CART and product_id and selected(product_id, creator_id):
                kind = "chat_cart_adds" if payload.get("session_id") else "traditional_cart_adds"
                counts(product_id, creator_id)[kind] += 1
            chat = event.type == EventType.ORDER_PLACED_FROM_CHAT
            if chat or (
                event.type == EventType.ORDER_PLACED and payload.get("order_source") == "traditional"
            ):
                bought: dict[tuple[str, str], tuple[int, int]] = {}
                for line in payload.get("lines") or []:
                    if line.get("product_id") and selected(line["product_id"], line.get("creator_id")):
                        key = (line["product_id"], str(line.get("creator_id") or UNKNOWN))
                        units, amount = bought.get(key, (0, 0))
                        bought[key] = (units + int(line["quantity"]), amount + int(line["amount"]))
                for (product_id, creator_id), (units, amount) in bought.items():
                    row = counts(product_id, creator_id)
                    row["chat_purchases" if chat else "traditional_purchases"] += 1
                    row["units_sold"] += units
                    row["revenue"] += amount if payload.get("currency") == query.currency else 0
        found = []
        for (product_id, creator_id), row in rows.items():
            found.append(
                ProductFigures(
                    product_id=product_id,
                    creator_id=creator_id,
                    **row,
                    view_to_click=_ratio(row["chat_cart_adds"], row["details_views"]),
                    click_to_purchase=_ratio(row["chat_purchases"], row["chat_cart_adds"]),
                    recommendation_to_purchase=_ratio(row["chat_purchases"], row["recommendations"]),
                )
            )
        return sorted(found, key=lambda product: product.product_id)


def _ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None


def _cost_usd(messages: Iterable[Event]) -> float:
    # docs/analytics.md: cost is kept in whole micro-dollars per message.
    return sum(round(float(event.payload.get("cost_usd") or 0) * 1_000_000) for event in messages) / 1_000_000


def _percentile_bound(sorted_values: list[int], share: float) -> int | None:
    if not sorted_values:
        return None
    value = sorted_values[math.ceil(share * len(sorted_values)) - 1]
    return next((bound for bound in LATENCY_BOUNDS_MS if value <= bound), LATENCY_BOUNDS_MS[-1])


_NAMES = frozenset({"product_id", "creator_id", "platform"})


def comparable(figures: Figures) -> dict[str, Any]:
    """Figures as plain data with their lists in id order: the dashboard's own order (best sellers
    first) is presentation, checked apart."""
    data = figures.model_dump(mode="json")

    def rows(name: str, key: str) -> list[dict[str, Any]]:
        # A row of zeros (a platform with only visits, a creator with only a storefront cart, a seller's
        # product nobody looked at, which their dashboard lists all the same) shows nothing: whether it
        # is listed is presentation too.
        return sorted(
            (row for row in data[name] if any(value for field, value in row.items() if field not in _NAMES)),
            key=lambda row: row[key],
        )

    data["products"] = rows("products", "product_id")
    data["creators"] = rows("creators", "creator_id")
    data["platforms"] = rows("platforms", "platform")
    return data
