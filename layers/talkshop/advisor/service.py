"""Chat use cases: start a chat, answer a message (whole or streamed), read and list chats, correct
preferences, give feedback, and sweep idle chats into abandoned ones.

Plain logic over the conversation store, the catalog port and an engine. Engines name product ids;
cards, prices and stock in a reply come from the catalog here. Who may do what:
- a shopper token reaches only its own shopper's chats; the admin reaches every chat (platform
  integrations act for their users); anyone else is told a chat does not exist, never that it does.
- every write of a turn (the session at the version read, recommendations, events, memory, and the
  commerce it asks for: the chat's cart with its added_to_cart event, the code it offered) commits in
  one unit of work, so a turn is recorded whole or not at all.
- engines never write: a buying turn's AdvisorReply carries a checkout_request, which the turn performs
  through the cart service's own chat-cart logic (the same as POST /api/chat/checkout).
"""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from talkshop.advisor.chat_api import (
    ChatMessageRequest,
    ChatReply,
    ComparisonView,
    FeedbackRequest,
    InternalState,
    PreferencesView,
    ProductCard,
    RecommendationView,
    SessionList,
    SessionSummary,
    StartChatRequest,
    StartedChat,
    UsageView,
)
from talkshop.advisor.confirmations import order_confirmation_text
from talkshop.advisor.intents import Intent
from talkshop.advisor.model import (
    IDLE_MINUTES_BEFORE_ABANDONED,
    MAX_SESSION_MESSAGES,
    Advisor,
    AdvisorReply,
    ChatMessage,
    ConversationSession,
    Reaction,
    Role,
    SessionStatus,
    ShopCatalog,
    ShopperMemory,
    TextDelta,
    TurnContext,
    Usage,
)
from talkshop.advisor.preferences import Contradiction, Preferences
from talkshop.advisor.store import (
    AiRecommendation,
    ConversationStore,
    LoadedSession,
    SessionPage,
    customer_ref,
    recommendation_id,
    session_ref,
)
from talkshop.analytics.experiments import Exposure, stage_exposure, stage_reactions, strategy_for
from talkshop.auth import Principal, PrincipalKind, generate_shopper_token
from talkshop.catalog.model import Product
from talkshop.clock import Clock, utc_now
from talkshop.commerce.carts import ChatCheckoutStarted, checkout_url
from talkshop.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthorized
from talkshop.ontology.model import Event, EventType
from talkshop.search.service import format_price

if TYPE_CHECKING:
    from talkshop.commerce.carts import CartService
    from talkshop.commerce.model import Cart, Order

# Far enough below DynamoDB's 400 KB item limit to leave room for the item's keys and indexes.
MAX_SESSION_BYTES = 350_000
# Memory keeps the most recent products of each list, enough to shape the next chat.
MEMORY_LIST_LIMIT = 50
# Products per event kind in one turn: a runaway engine cannot overflow the turn's transaction.
MAX_PRODUCTS_PER_EVENT_KIND = 10
# Creators one chat event names for analytics (`creator_ids`): each is a metric item (and, for a rating or
# an abandoned chat, a marker) in the event's counting transaction, which holds 100 writes.
MAX_CREATORS_PER_EVENT = 20
# Deleting a chat reads it again after a turn that raced it, this many times in all before a 409.
DELETE_ATTEMPTS = 3
# Reads and writes of a chat to append an order confirmation before giving up on a busy chat.
CONFIRM_ORDER_ATTEMPTS = 3

ChatEvent = TextDelta | ChatReply


def _new_session_id() -> str:
    return "chs_" + secrets.token_hex(10)


def _new_user_id() -> str:
    return "usr_" + secrets.token_hex(8)


def _merged(items: Sequence[str], more: Sequence[str], limit: int | None = None) -> list[str]:
    """`items` then the new ones of `more`, in order, without repeats; the newest `limit` kept."""
    merged = list(dict.fromkeys([*items, *more]))
    return merged[-limit:] if limit else merged


def _not_found(session_id: str) -> NotFound:
    return NotFound(f"No chat {session_id!r}.", code="session_not_found")


def _not_a_shopper() -> Forbidden:
    return Forbidden("Chats are for shoppers: send a shopper token, or none.", code="not_a_shopper")


# A card's fields that are the product's own, copied as they are (the others are derived below).
_PRODUCT_FIELDS_ON_A_CARD = set(ProductCard.model_fields) & set(Product.model_fields)


def product_card(product: Product) -> ProductCard:
    return ProductCard(
        **product.model_dump(include=_PRODUCT_FIELDS_ON_A_CARD),
        price_display=format_price(product.price, product.currency),
        in_stock=product.stock > 0,
        image=product.images[0].url if product.images else None,
    )


class Answer:
    """What begin_turn gives: events() streams the answer, reply() waits for it whole."""

    #: True when the answer comes from the record of an earlier request (a retry), not a new turn.
    replayed = False

    def events(self) -> Iterator[ChatEvent]:
        raise NotImplementedError

    def reply(self) -> ChatReply:
        answer: ChatReply | None = None
        for event in self.events():
            if isinstance(event, ChatReply):
                answer = event
        assert answer is not None, "events() always ends with the reply"
        return answer


class RecordedAnswer(Answer):
    """A retried message's turn, answered again from the record: its whole text as one delta, then
    the reply. Nothing is computed or written."""

    replayed = True

    def __init__(self, reply: ChatReply) -> None:
        self._reply = reply

    def events(self) -> Iterator[ChatEvent]:
        yield TextDelta(text=self._reply.response)
        yield self._reply


class Turn(Answer):
    """One shopper message, checked and ready to answer. Checks happen when it is made, so a refused
    message is an ordinary error answer, before any text is streamed."""

    def __init__(
        self,
        service: ChatService,
        loaded: LoadedSession,
        request: ChatMessageRequest,
        memory: ShopperMemory | None,
    ) -> None:
        self._service = service
        self._loaded = loaded
        self._request = request
        self._memory = memory
        self._received_at = service.clock()
        # The learned ranking weights, or the chat's experiment arm's (see talkshop.analytics).
        self._strategy = strategy_for(service.store.repository, loaded.session)

    def events(self) -> Iterator[ChatEvent]:
        """The engine's text deltas as they come, then the recorded reply (after the commit)."""
        turn = TurnContext(
            session=self._loaded.session,
            message=self._request.message,
            memory=self._memory,
            ranking_weights=self._strategy.weights,
        )
        reply: AdvisorReply | None = None
        for event in self._service.advisor.respond(turn):
            if isinstance(event, TextDelta):
                yield event
            else:
                reply = event
        if reply is None:
            raise RuntimeError("the engine ended without a reply")
        # A chat is exposed to its experiment arm by the first turn that ranks products under it.
        exposure = self._strategy.exposure if reply.recommendations else None
        yield self._service.record_turn(
            self._loaded, self._request, self._received_at, reply, self._memory, exposure
        )


class ChatSessions:
    """Everything about chats but answering messages: needs neither the catalog nor an engine, so
    the functions that do only this load no search or model code."""

    def __init__(self, store: ConversationStore, clock: Clock = utc_now) -> None:
        self.store = store
        self.clock = clock

    # Starting and reading chats

    def start(self, request: StartChatRequest, principal: Principal) -> StartedChat:
        user_id, token = self._shopper_for_new_chat(request.user_id, principal)
        now = self.clock()
        session = ConversationSession(
            id=_new_session_id(),
            user_id=user_id,
            platform=request.platform,
            started_at=now,
            last_activity_at=now,
            **({"language": request.language} if request.language else {}),
        )
        memory = (self.store.memory(user_id) if token is None else None) or ShopperMemory(user_id=user_id)
        memory = memory.model_copy(update={"sessions": memory.sessions + 1, "last_session_at": now})
        work = self.store.repository.unit_of_work()
        if token is not None:
            self.store.stage_new_shopper(work, user_id, token)
        self.store.stage_create(work, session)
        self.store.stage_memory(work, memory)
        self.store.stage_events(
            work,
            [
                self._event(
                    EventType.CONVERSATION_STARTED,
                    session,
                    {"platform": session.platform.value, "new_shopper": token is not None},
                )
            ],
        )
        work.commit()
        stored = self._loaded(session.id)
        return StartedChat.model_validate({**stored.session.model_dump(), "shopper_token": token})

    def _shopper_for_new_chat(self, user_id: str | None, principal: Principal) -> tuple[str, str | None]:
        """Whose chat it is, and the token to hand out when the chat creates its shopper."""
        if principal.kind == PrincipalKind.SHOPPER:
            assert principal.person_id is not None
            if user_id is not None and user_id != principal.person_id:
                raise Forbidden("A shopper token starts chats only for its own shopper.", code="not_owner")
            return principal.person_id, None
        if principal.is_admin:
            if user_id is None:
                raise InvalidInput("The admin must say whose chat this is (userId).", code="user_required")
            if not self.store.shopper_exists(user_id):
                return user_id, generate_shopper_token()
            return user_id, None
        if principal.kind != PrincipalKind.ANONYMOUS:
            raise _not_a_shopper()
        if user_id is None:
            return _new_user_id(), generate_shopper_token()
        if self.store.shopper_exists(user_id):
            raise Unauthorized(
                f"Shopper {user_id!r} exists: send their token to start another chat.",
                code="shopper_token_required",
            )
        return user_id, generate_shopper_token()

    def get(self, session_id: str, principal: Principal) -> ConversationSession:
        return self._owned(session_id, principal).session

    def list_sessions(
        self, user_id: str | None, principal: Principal, *, limit: int, cursor: str | None
    ) -> SessionList:
        page = self.sessions_page(user_id, principal, limit=limit, cursor=cursor)
        return SessionList(
            items=[SessionSummary.of(item) for item in page.sessions], next_cursor=page.next_cursor
        )

    def _whose_chats(self, user_id: str | None, principal: Principal) -> str:
        """The shopper whose chats a listing shows, or why the caller may not list them."""
        if principal.kind == PrincipalKind.SHOPPER:
            assert principal.person_id is not None
            if user_id is not None and user_id != principal.person_id:
                raise Forbidden("A shopper token lists only its own chats.", code="not_owner")
            user_id = principal.person_id
        elif principal.is_admin:
            if user_id is None:
                raise InvalidInput("Say whose chats to list (?user=).", code="user_required")
        elif principal.kind == PrincipalKind.ANONYMOUS:
            raise Unauthorized(
                "Send 'Authorization: Bearer <shopper token>' to list your chats.", code="missing_credentials"
            )
        else:
            raise _not_a_shopper()
        return user_id

    def sessions_page(
        self, user_id: str | None, principal: Principal, *, limit: int, cursor: str | None
    ) -> SessionPage:
        """A page of a shopper's chats whole (messages included), newest first: the token's own, or
        any shopper's for the admin."""
        return self.store.sessions_of(self._whose_chats(user_id, principal), limit=limit, cursor=cursor)

    def delete(self, session_id: str, principal: Principal) -> None:
        """Remove a chat from storage for good (its shopper or the admin; to anyone else it does not
        exist): the session with its messages, events, recommendations and their edges, and the code
        it offered. The shopper's orders stay (they are records of sales, and hold no message text),
        and so does the shopper's memory, which belongs to no single chat.

        The session is deleted first, at the version read: a turn racing the deletion either commits
        before (the deletion then reads the chat again and takes that turn's writes too) or finds the
        chat gone and writes nothing.
        """
        for attempt in range(DELETE_ATTEMPTS):
            transactions = self.store.erasure(self._owned(session_id, principal))
            try:
                transactions[0].commit()
            except Conflict:
                if attempt + 1 == DELETE_ATTEMPTS:
                    raise
                continue
            for rest in transactions[1:]:
                rest.commit()
            return

    def _owned(self, session_id: str, principal: Principal) -> LoadedSession:
        loaded = self.store.get(session_id)
        if loaded is None:
            raise _not_found(session_id)
        owner = principal.kind == PrincipalKind.SHOPPER and principal.person_id == loaded.session.user_id
        if not (owner or principal.is_admin):
            raise _not_found(session_id)
        return loaded

    def _loaded(self, session_id: str) -> LoadedSession:
        loaded = self.store.get(session_id)
        if loaded is None:
            raise _not_found(session_id)
        return loaded

    # Corrections and feedback

    def correct_preferences(
        self, session_id: str, preferences: Preferences, principal: Principal
    ) -> ConversationSession:
        loaded = self._owned(session_id, principal)
        updated = loaded.session.model_copy(
            update={"preferences": preferences, "last_activity_at": self.clock()}
        )
        memory = self.store.memory(updated.user_id) or ShopperMemory(user_id=updated.user_id)
        work = self.store.repository.unit_of_work()
        self.store.stage_replace(work, loaded, updated)
        self.store.stage_memory(work, memory.model_copy(update={"preferences": preferences}))
        self.store.stage_events(
            work,
            [
                self._event(
                    EventType.PREFERENCES_CORRECTED,
                    updated,
                    {"preferences": preferences.model_dump(mode="json", exclude_defaults=True)},
                )
            ],
        )
        work.commit()
        return self._loaded(session_id).session

    def give_feedback(
        self, session_id: str, feedback: FeedbackRequest, principal: Principal
    ) -> ConversationSession:
        """Satisfaction ends the chat (it is what a shopper gives when leaving); reactions are
        recorded on the chat's recommendations of each product."""
        loaded = self._owned(session_id, principal)
        now = self.clock()
        reactions = {item.product_id: item.reaction for item in feedback.reactions}
        recorded = [
            (recommendation, stored)
            for recommendation, stored in self.store.recommendations_in(session_id)
            if recommendation.product_id in reactions
        ]
        unknown = sorted(set(reactions) - {recommendation.product_id for recommendation, _ in recorded})
        if unknown:
            raise InvalidInput(
                f"This chat recommended none of: {', '.join(unknown)}.",
                code="not_recommended",
                details={"product_ids": unknown},
            )
        updated = loaded.session.model_copy(
            update={
                "satisfaction": feedback.satisfaction,
                "feedback": feedback.feedback,
                "status": SessionStatus.COMPLETED,
                "ended_at": loaded.session.ended_at or now,
                "last_activity_at": now,
            }
        )
        work = self.store.repository.unit_of_work()
        self.store.stage_replace(work, loaded, updated)
        for recommendation, stored in recorded:
            self.store.stage_reaction(work, stored, recommendation, reactions[recommendation.product_id])
        stage_reactions(work, loaded.session, reactions, now)
        if reactions:
            memory = self.store.memory(updated.user_id) or ShopperMemory(user_id=updated.user_id)
            self.store.stage_memory(work, _remember_reactions(memory, reactions))
        self.store.stage_events(
            work,
            [
                self._event(
                    EventType.FEEDBACK_GIVEN,
                    updated,
                    {
                        "satisfaction": feedback.satisfaction,
                        "reactions": {
                            product_id: reaction.value for product_id, reaction in reactions.items()
                        },
                        "creator_ids": self._chat_creators(updated),
                    },
                )
            ],
        )
        work.commit()
        return self._loaded(session_id).session

    # Orders

    def confirm_order(self, order: Order, principal: Principal) -> ConversationSession:
        """The chat an order came from, with an assistant message confirming the order, written from the
        order's data. Once per order: confirming it again (a replayed checkout) changes nothing."""
        if order.conversation_id is None:
            raise InvalidInput(f"Order {order.id!r} was not placed from a chat.", code="not_a_chat_order")
        for _ in range(CONFIRM_ORDER_ATTEMPTS):
            loaded = self._owned(order.conversation_id, principal)
            session = loaded.session
            if any(message.order_id == order.id for message in session.messages):
                return session
            now = self.clock()
            confirmation = ChatMessage(
                role=Role.ASSISTANT, content=order_confirmation_text(order), timestamp=now, order_id=order.id
            )
            messages = [*session.messages, confirmation]
            updated = session.model_copy(
                update={"messages": messages, "message_count": len(messages), "last_activity_at": now}
            )
            work = self.store.repository.unit_of_work()
            self.store.stage_replace(work, loaded, updated)
            try:
                work.commit()
            except Conflict:
                continue  # the chat changed since it was read (a turn, the same confirmation): read again
            return self._loaded(session.id).session
        raise Conflict(f"Chat {order.conversation_id!r} kept changing; try again.", code="concurrent_update")

    # The sweep

    def sweep_abandoned(self) -> list[str]:
        """Mark active chats idle for IDLE_MINUTES_BEFORE_ABANDONED as abandoned; returns their ids.

        Each is changed only at the version read: a chat that got a message meanwhile stays active.
        """
        cutoff = self.clock() - timedelta(minutes=IDLE_MINUTES_BEFORE_ABANDONED)
        abandoned = []
        for loaded in list(self.store.active_sessions()):
            session = loaded.session
            if session.last_activity_at > cutoff:
                continue
            updated = session.model_copy(
                update={"status": SessionStatus.ABANDONED, "ended_at": session.last_activity_at}
            )
            work = self.store.repository.unit_of_work()
            self.store.stage_replace(work, loaded, updated)
            self.store.stage_events(
                work,
                [
                    self._event(
                        EventType.CHAT_ABANDONED,
                        updated,
                        {
                            "message_count": session.message_count,
                            "idle_since": session.last_activity_at.isoformat(),
                            "last_step": _last_step(session),
                            "creator_ids": self._chat_creators(session),
                        },
                    )
                ],
            )
            try:
                work.commit()
            except Conflict:
                continue  # it moved on since it was read: not idle any more, or swept by another run
            abandoned.append(session.id)
        return abandoned

    def _chat_creators(self, session: ConversationSession) -> list[str]:
        """The creators whose products came up in a chat, for its rating and abandonment to count for
        them: those its turns showed or named (kept on the chat), and the creators of the products it
        recommended, detailed or carted, from the products' records (a cart can be filled outside a turn)."""
        products = [*session.suggested_products, *session.viewed_products, *session.carted_products]
        return _event_creators([*session.creators_mentioned, *self.store.creators_of(products)])

    def _event(self, event_type: EventType, session: ConversationSession, payload: dict[str, Any]) -> Event:
        return Event(
            id=uuid.uuid4().hex,
            type=event_type,
            subject=session_ref(session.id),
            occurred_at=self.clock(),
            actor=customer_ref(session.user_id),
            # The platform on every chat event lets analytics count it per platform from the event alone.
            payload={"user_id": session.user_id, "platform": session.platform.value, **payload},
        )


class ChatService(ChatSessions):
    """Chats, and answering their messages with an engine over the catalog."""

    def __init__(
        self,
        store: ConversationStore,
        catalog: ShopCatalog,
        advisor: Advisor,
        clock: Clock = utc_now,
        carts: CartService | None = None,
    ) -> None:
        super().__init__(store, clock)
        self.catalog = catalog
        self.advisor = advisor
        # Without carts a turn's checkout request and offered code are not acted on (no commerce).
        self.carts = carts

    # Messages

    def begin_turn(self, request: ChatMessageRequest, principal: Principal) -> Answer:
        """The turn of a message, checked; or, for a client message id this chat has recorded, that
        turn's answer again (a retry: no engine call, nothing written)."""
        loaded = self._owned(request.session_id, principal)
        session = loaded.session
        if request.user_id is not None and request.user_id != session.user_id:
            raise Forbidden("userId is not this chat's shopper.", code="user_mismatch")
        recorded = self._recorded_answer(session, request)
        if recorded is not None:
            return RecordedAnswer(recorded)
        if session.status == SessionStatus.COMPLETED:
            raise Conflict("This chat has ended; start a new one.", code="session_completed")
        if len(session.messages) + 2 > MAX_SESSION_MESSAGES:
            raise Conflict(
                "This chat is full; start a new one (what was learnt carries over).", code="session_full"
            )
        return Turn(self, loaded, request, self.store.memory(session.user_id))

    def reply(self, request: ChatMessageRequest, principal: Principal) -> ChatReply:
        return self.begin_turn(request, principal).reply()

    def record_turn(
        self,
        loaded: LoadedSession,
        request: ChatMessageRequest,
        received_at: datetime,
        reply: AdvisorReply,
        memory: ShopperMemory | None,
        exposure: Exposure | None = None,
    ) -> ChatReply:
        session = loaded.session
        # Only products the catalog knows (and sells) reach a card, a recommendation or the history.
        named = [*reply.shown_products, *(item.product_id for item in reply.recommendations)]
        buying = [reply.checkout_request.product_id] if reply.checkout_request else []
        products = self.catalog.products([*named, *reply.mentioned_products, *reply.viewed_products, *buying])
        shown = [product_id for product_id in dict.fromkeys(reply.shown_products) if product_id in products]
        mentioned = _merged([], [p for p in [*reply.mentioned_products, *named] if p in products])
        viewed = _merged([], [p for p in reply.viewed_products if p in products])
        creators = _merged([], [products[product_id].creator_id for product_id in mentioned])

        now = self.clock()
        assistant_index = len(session.messages) + 1
        recommendations: list[AiRecommendation] = []
        for item in reply.recommendations:
            if item.product_id not in products or any(
                r.product_id == item.product_id for r in recommendations
            ):
                continue
            recommendations.append(
                AiRecommendation(
                    id=recommendation_id(session.id, assistant_index, item.product_id),
                    conversation_id=session.id,
                    user_id=session.user_id,
                    product_id=item.product_id,
                    creator_id=products[item.product_id].creator_id,
                    type=item.type,
                    reasons=item.reasons,
                    confidence=item.confidence,
                    message_index=assistant_index,
                    features=item.features,
                    created_at=now,
                )
            )
        recommended = [item.product_id for item in recommendations]
        offered_code = reply.offered_discount_code if self.carts is not None else None
        cart = self._chat_cart(session, reply, products, offered_code)
        carted = [line.product_id for line in cart.lines] if cart else []

        asked = ChatMessage(
            role=Role.USER,
            content=request.message,
            timestamp=received_at,
            intent=reply.intent,
            client_message_id=request.client_message_id,
        )
        answered = ChatMessage(
            role=Role.ASSISTANT,
            content=reply.text[:8000],
            timestamp=now,
            mentioned_products=mentioned,
            mentioned_creators=creators,
            shown_products=shown,
            recommendation_ids=[item.id for item in recommendations],
            comparison=reply.comparison,
            question=reply.question,
            engine=reply.engine,
            checkout_cart_id=cart.id if cart else None,
            offered_code=offered_code,
        )
        messages = [*session.messages, asked, answered]
        updated = session.model_copy(
            update={
                # A new message brings an abandoned chat back.
                "status": SessionStatus.ACTIVE,
                "ended_at": None,
                "language": reply.language,
                "messages": messages,
                "message_count": len(messages),
                "preferences": reply.preferences,
                "needs": reply.needs,
                "shown_products": shown,
                "suggested_products": _merged(session.suggested_products, recommended),
                "viewed_products": _merged(session.viewed_products, viewed),
                "carted_products": _merged(session.carted_products, carted),
                "creators_mentioned": _merged(session.creators_mentioned, creators),
                "usage": session.usage.plus(reply.usage),
                "last_activity_at": now,
                "experiment_arms": session.experiment_arms
                | ({exposure.experiment_id: exposure.arm} if exposure else {}),
            }
        )
        if len(json.dumps(updated.model_dump(mode="json"))) > MAX_SESSION_BYTES:
            raise Conflict(
                "This chat is full; start a new one (what was learnt carries over).", code="session_full"
            )

        remembered = (memory or ShopperMemory(user_id=session.user_id)).model_copy(
            update={
                "preferences": reply.preferences,
                "recommended_products": _merged(
                    (memory.recommended_products if memory else []), recommended, MEMORY_LIST_LIMIT
                ),
            }
        )
        events = self._turn_events(updated, assistant_index, reply, mentioned, recommendations, viewed)
        _add_analytics_facts(events, products, latency_ms=int((now - received_at).total_seconds() * 1000))
        if exposure is not None:
            payload = {"experiment_id": exposure.experiment_id, "arm": exposure.arm}
            events.append(self._event(EventType.EXPERIMENT_EXPOSURE, updated, payload))
        commerce = (cart, offered_code)
        try:
            self._commit_turn(loaded, updated, recommendations, events, remembered, commerce, exposure)
        except Conflict:
            current = self._loaded(session.id)
            if _swept_since(session, current.session):
                # The sweep found the chat idle while the engine answered: this message brings it back.
                self._commit_turn(current, updated, recommendations, events, remembered, commerce, exposure)
            else:
                # A duplicate of this message may have won the race: then its answer is this one's.
                winner = self._recorded_answer(current.session, request)
                if winner is None:
                    raise
                return winner
        return _chat_reply(
            updated, reply.intent, answered, recommendations, products, reply.contradictions, reply.usage
        )

    def _commit_turn(
        self,
        loaded: LoadedSession,
        updated: ConversationSession,
        recommendations: Sequence[AiRecommendation],
        events: Sequence[Event],
        memory: ShopperMemory,
        commerce: tuple[Cart | None, str | None],
        exposure: Exposure | None,
    ) -> None:
        work = self.store.repository.unit_of_work()
        self.store.stage_replace(work, loaded, updated)
        for recommendation in recommendations:
            self.store.stage_recommendation(work, recommendation)
        self.store.stage_events(work, events)
        if exposure is not None:
            stage_exposure(work, exposure, self.clock())
        self.store.stage_memory(work, memory)
        cart, offered_code = commerce
        if self.carts is not None:
            if offered_code is not None:
                self.carts.store.stage_offer(work, updated.id, offered_code, self.clock())
            if cart is not None:
                # The turn replaces the chat itself (with the carted product), so the cart service must not.
                self.carts.stage_chat_cart(work, cart, loaded, chat_records_carted=True)
        work.commit()

    def _chat_cart(
        self,
        session: ConversationSession,
        reply: AdvisorReply,
        products: Mapping[str, Product],
        offered_code: str | None,
    ) -> Cart | None:
        """The cart a buying turn asks for, built by the cart service (a product no longer for sale or
        short of stock since the engine looked is its 404 or 409, and the turn is not recorded)."""
        request = reply.checkout_request
        if self.carts is None or request is None:
            return None
        if request.product_id not in products:
            # An engine named a product the catalog does not sell: nothing to buy, as for cards.
            return None
        return self.carts.chat_cart(session, request.product_id, request.quantity, offered_code)

    def _recorded_answer(self, session: ConversationSession, request: ChatMessageRequest) -> ChatReply | None:
        """The recorded answer to the request's client message id in this chat, if there is one."""
        if request.client_message_id is None:
            return None
        for index, asked in enumerate(session.messages[:-1]):
            if asked.role != Role.USER or asked.client_message_id != request.client_message_id:
                continue
            if asked.content != request.message:
                raise Conflict(
                    f"clientMessageId {request.client_message_id!r} was used for another message in "
                    "this chat; use a new id for a new message.",
                    code="idempotency_key_reused",
                )
            answered = session.messages[index + 1]
            recorded = {item.id: item for item, _ in self.store.recommendations_in(session.id)}
            return _chat_reply(
                session,
                # Every turn records its intent; only messages stored before intents were lack one.
                asked.intent or Intent.VAGUE,
                answered,
                [recorded[id_] for id_ in answered.recommendation_ids if id_ in recorded],
                self.catalog.products(answered.shown_products),
                contradictions=[],
                usage=Usage(),  # answering again costs nothing
            )
        return None

    def _turn_events(
        self,
        session: ConversationSession,
        message_index: int,
        reply: AdvisorReply,
        mentioned: list[str],
        recommendations: list[AiRecommendation],
        viewed: list[str],
    ) -> list[Event]:
        events = [
            self._event(
                EventType.MESSAGE_SENT,
                session,
                {
                    "message_index": message_index - 1,
                    "intent": reply.intent.value,
                    "language": reply.language.value,
                    "engine": reply.engine,
                    "input_tokens": reply.usage.input_tokens,
                    "output_tokens": reply.usage.output_tokens,
                    "cost_usd": reply.usage.cost_usd,
                    "products_shown": len(session.shown_products),
                    # What this turn's search found: a search that finds nothing keeps the cards on screen.
                    "products_found": len(recommendations),
                },
            )
        ]
        if reply.question:
            events.append(self._event(EventType.QUESTION_ASKED, session, {"question": reply.question[:500]}))
        limit = MAX_PRODUCTS_PER_EVENT_KIND
        events += [
            self._event(EventType.PRODUCT_MENTIONED, session, {"product_id": product_id})
            for product_id in mentioned[:limit]
        ]
        events += [
            self._event(
                EventType.PRODUCT_RECOMMENDED,
                session,
                {
                    "product_id": item.product_id,
                    "creator_id": item.creator_id,
                    "recommendation_id": item.id,
                    "type": item.type.value,
                    "confidence": item.confidence,
                },
            )
            for item in recommendations[:limit]
        ]
        events += [
            self._event(EventType.PRODUCT_DETAILS_VIEWED, session, {"product_id": product_id})
            for product_id in viewed[:limit]
        ]
        return events


def _add_analytics_facts(events: list[Event], products: Mapping[str, Product], latency_ms: int) -> None:
    """What analytics needs from the event alone (schema v1, docs/analytics.md): the reply's latency and
    the creators of the products the turn showed or named on message_sent, and the creator of the
    product of a product event. Events are frozen: replaced."""
    for position, event in enumerate(events):
        extra: dict[str, Any] = {}
        if event.type == EventType.MESSAGE_SENT:
            extra["latency_ms"] = latency_ms
            extra["creator_ids"] = _event_creators(product.creator_id for product in products.values())
        product_id = str(event.payload.get("product_id"))
        if product_id in products and "creator_id" not in event.payload:
            extra["creator_id"] = products[product_id].creator_id
        if extra:
            events[position] = event.model_copy(update={"payload": {**event.payload, **extra}})


def _event_creators(creator_ids: Iterable[str]) -> list[str]:
    """The creators an analytics event names: each once, the first MAX_CREATORS_PER_EVENT to come up,
    sorted."""
    return sorted(list(dict.fromkeys(c for c in creator_ids if c))[:MAX_CREATORS_PER_EVENT])


def _last_step(session: ConversationSession) -> str:
    """How far an abandoned chat got, for the abandonment histogram (analytics.aggregate.ABANDON_STEPS)."""
    if session.carted_products:
        return "cart"
    if session.viewed_products:
        return "details"
    if session.suggested_products:
        return "recommended"
    return "chatting" if session.message_count else "started"


def _chat_reply(
    session: ConversationSession,
    intent: Intent,
    answered: ChatMessage,
    recommendations: Sequence[AiRecommendation],
    products: Mapping[str, Product],
    contradictions: list[Contradiction],
    usage: Usage,
) -> ChatReply:
    """The answer of a turn from what it recorded: its assistant message, its recommendations and the
    session after it; cards from the products' data (a product that left the catalog has none)."""
    return ChatReply(
        session_id=session.id,
        response=answered.content,
        suggested_products=[
            product_card(products[product_id])
            for product_id in answered.shown_products
            if product_id in products
        ],
        recommendations=[
            RecommendationView(
                id=item.id,
                product_id=item.product_id,
                type=item.type,
                reasons=item.reasons,
                confidence=item.confidence,
            )
            for item in recommendations
        ],
        comparison=ComparisonView.model_validate(answered.comparison.model_dump())
        if answered.comparison
        else None,
        question=answered.question,
        internal_state=InternalState(
            intent=intent,
            language=session.language,
            needs=session.needs,
            preferences=PreferencesView.of(session.preferences),
            contradictions=contradictions,
            engine=answered.engine or "",
        ),
        usage=UsageView.model_validate(usage.model_dump()),
        checkout=ChatCheckoutStarted(
            cart_id=answered.checkout_cart_id, checkout_url=checkout_url(answered.checkout_cart_id)
        )
        if answered.checkout_cart_id
        else None,
    )


def _swept_since(read: ConversationSession, current: ConversationSession) -> bool:
    """Whether the only change to the chat since it was read is the sweep marking it abandoned."""
    swept_fields = {"status", "ended_at", "version"}
    return current.status == SessionStatus.ABANDONED and current.model_dump(
        exclude=swept_fields
    ) == read.model_dump(exclude=swept_fields)


def _remember_reactions(memory: ShopperMemory, reactions: dict[str, Reaction]) -> ShopperMemory:
    def with_reaction(reaction: Reaction) -> list[str]:
        return [product_id for product_id, given in reactions.items() if given == reaction]

    return memory.model_copy(
        update={
            "dismissed_products": _merged(
                memory.dismissed_products, with_reaction(Reaction.DISMISSED), MEMORY_LIST_LIMIT
            ),
            "purchased_products": _merged(
                memory.purchased_products, with_reaction(Reaction.PURCHASED), MEMORY_LIST_LIMIT
            ),
        }
    )
