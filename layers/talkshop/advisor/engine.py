"""The rules engine: the advisor that runs when no LLM is configured (see docs/advisor.md).

One turn: read the message (:func:`classify`, :func:`refine`), pick the reply language, answer by
intent, then stream the reply's text sentence by sentence and end with the :class:`AdvisorReply`. The
engine reads the catalog only through :class:`ShopCatalog` and never writes anything: the chat service
stores what it returns. Every product fact in the text is filled in from product data.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence

from pydantic import BaseModel, ConfigDict, Field

from talkshop.advisor import answers
from talkshop.advisor.compare import compare, render
from talkshop.advisor.intents import Classification, Intent, Language, ObjectionTopic, classify
from talkshop.advisor.model import (
    MAX_CHECKOUT_QUANTITY,
    AdvisorReply,
    CheckoutRequest,
    CodeOffer,
    Comparison,
    ConversationSession,
    RecommendationType,
    RecommendedProduct,
    ReplyEvent,
    ShopCatalog,
    ShopCommerce,
    ShopperMemory,
    TextDelta,
    TurnContext,
)
from talkshop.advisor.phrases import join, say, term
from talkshop.advisor.preferences import Budget, Contradiction, Extraction, Preferences, refine
from talkshop.advisor.ranking import MIN_RATING, WEIGHTS, Ranked, rank, violations
from talkshop.catalog.model import Product
from talkshop.clock import Clock, utc_now
from talkshop.search.model import SearchFilters
from talkshop.search.service import format_price
from talkshop.search.understanding import understand
from talkshop.text import words

__all__ = ["RulesAdvisor", "code_offered_in", "deal_text", "needs_of", "quantity_in", "split_sentences"]

CANDIDATES = 30
RECOMMENDATIONS = 3
# Products named earlier in the chat that "the Feather" may refer to (most recent first).
MAX_NAMED_PRODUCTS = 40
# Search hits for the message whose names it may hold ("compare the Vantaro Strike 12K and ...").
NAME_HITS = 10
# Wishes besides level and budget that are enough to recommend without asking for those two.
ENOUGH_WISHES = 2
# A contradiction on these leaves nothing safe to recommend until the shopper answers.
UNSAFE_CONTRADICTIONS = frozenset({"budget", "skill_level"})
# Intents that must not touch what the advisor has learnt (nothing in them is about shopping).
_KEEPS_PREFERENCES = frozenset({Intent.OFF_TOPIC, Intent.INAPPROPRIATE, Intent.SUPPORT, Intent.ORDER_STATUS})
_ENGLISH_CUES = frozenset(
    words("""the a an i i'm is it what how and for with my me you please thanks need want looking which one
    do does can show tell more about""")
)
_OTHERS = frozenset(
    words("other others else different another otra otras otro otros autre autres outra outras")
)
_SIMILAR = frozenset(words("similar like same parecido parecida similaire pareil semelhante parecido"))
_DIGITS_AND_MONEY = re.compile(r"[\d€$£]+")
# "where is my order?" tells this many of the latest orders.
ORDERS_TOLD = 3
# "buy 2 of those", "I'll take two", "me llevo dos": a count next to a buying verb or before a unit word.
_COUNT_WORDS = {
    **{str(number): number for number in range(1, MAX_CHECKOUT_QUANTITY + 1)},
    **dict.fromkeys(words("two dos deux dois duas"), 2),
    **dict.fromkeys(words("three tres trois tres"), 3),
    **dict.fromkeys(words("four cuatro quatre quatro"), 4),
    **dict.fromkeys(words("five cinco cinq"), 5),
}
_BUYING_VERBS = frozenset(
    words("""buy take add order get want compro comprar quiero llevo prends achete acheter commander veux
    quero levar encomendar""")
)
_UNIT_WORDS = frozenset(
    words("of x units unit pieces piece pcs de unidades unidad exemplaires unites unidade")
)
_SENTENCE_BREAK = re.compile(r"(?<=[.!?:\n])(?=\s)")


def split_sentences(text: str) -> list[str]:
    """``text`` in sentence-sized pieces that join back to exactly ``text``."""
    return [piece for piece in _SENTENCE_BREAK.split(text) if piece]


def _joined(sentences: Sequence[str]) -> str:
    """Sentences as one text: a space between them, none after a line break."""
    text = ""
    for sentence in sentences:
        if text and not text.endswith("\n"):
            text += " "
        text += sentence.strip(" ")
    return text.strip()


def needs_of(preferences: Preferences) -> list[str]:
    """The search needs (talkshop.search.understanding's names) that the preferences state."""
    needs: list[str] = []
    if preferences.skill_level is not None:
        needs.append("advanced" if preferences.skill_level == "pro" else preferences.skill_level)
    needs.extend("durable" if goal == "durability" else goal for goal in preferences.goals)
    if preferences.weight in ("light", "heavy"):
        needs.append("lightweight" if preferences.weight == "light" else "heavy")
    if preferences.handedness == "left":
        needs.append("left-handed")
    if "tennis elbow" in preferences.physical_notes:
        needs.append("tennis elbow")
    return list(dict.fromkeys(needs))


class _Reading(BaseModel):
    """One message as the engine read it."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    turn: TurnContext
    classification: Classification
    language: Language
    known: Preferences = Field(description="What was known before this message (seeded from memory)")
    extraction: Extraction
    products: dict[str, Product] = Field(description="Products named in this chat so far, by id")

    @property
    def session(self) -> ConversationSession:
        return self.turn.session

    @property
    def memory(self) -> ShopperMemory | None:
        return self.turn.memory

    @property
    def preferences(self) -> Preferences:
        return self.extraction.preferences


class _Answer(BaseModel):
    """What a handler answers; the engine turns it into an AdvisorReply."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    sentences: list[str]
    recommendations: list[RecommendedProduct] = Field(default_factory=list)
    shown_products: list[str] | None = Field(default=None, description="None keeps the cards on screen")
    mentioned_products: list[str] = Field(default_factory=list)
    viewed_products: list[str] = Field(default_factory=list)
    comparison: Comparison | None = None
    question: str | None = None
    preferences: Preferences | None = Field(default=None, description="None: the refined preferences")
    checkout_request: CheckoutRequest | None = None
    offered_code: str | None = None


class RulesAdvisor:
    """The deterministic advisor: the default engine, and the fallback of the LLM ones."""

    def __init__(
        self, catalog: ShopCatalog, clock: Clock = utc_now, commerce: ShopCommerce | None = None
    ) -> None:
        self._catalog = catalog
        self._clock = clock
        # Without commerce the engine neither offers codes, reads orders nor starts checkouts.
        self._commerce = commerce

    def respond(self, turn: TurnContext) -> Iterator[ReplyEvent]:
        reply = self.reply(turn)
        for piece in split_sentences(reply.text):
            yield TextDelta(text=piece)
        yield reply

    def reply(self, turn: TurnContext) -> AdvisorReply:
        """The whole reply to one message, without streaming."""
        reading = self._read(turn)
        answer = self._answer(reading)
        intent = reading.classification.intent
        keeps = intent in _KEEPS_PREFERENCES or reading.classification.suspicious
        preferences = answer.preferences or (reading.known if keeps else reading.preferences)
        shown = (
            answer.shown_products if answer.shown_products is not None else list(turn.session.shown_products)
        )
        return AdvisorReply(
            text=_joined(answer.sentences),
            language=reading.language,
            intent=intent,
            preferences=preferences,
            needs=needs_of(preferences),
            contradictions=[] if keeps else reading.extraction.contradictions,
            recommendations=answer.recommendations,
            shown_products=shown,
            mentioned_products=list(dict.fromkeys(answer.mentioned_products)),
            viewed_products=answer.viewed_products,
            comparison=answer.comparison,
            question=answer.question,
            checkout_request=answer.checkout_request,
            offered_discount_code=answer.offered_code,
        )

    # Reading --------------------------------------------------------------------------------------------

    def _known_brands(self) -> list[str]:
        return self._catalog.brands()

    def _read(self, turn: TurnContext) -> _Reading:
        session, memory = turn.session, turn.memory
        named = [
            *session.shown_products,
            *(
                product_id
                for message in reversed(session.messages)
                for product_id in message.mentioned_products
            ),
            *(memory.purchased_products if memory else []),
        ]
        products = self._catalog.products(list(dict.fromkeys(named))[:MAX_NAMED_PRODUCTS])
        product_names = {product_id: product.name for product_id, product in products.items()}
        catalog_names = self._names_in_catalog(turn.message)
        classification = classify(
            turn.message,
            product_names=product_names,
            has_recommendations=bool(session.shown_products),
            catalog_names=catalog_names,
        )
        said = [
            name
            for ref in classification.product_refs
            if (name := product_names.get(ref) or catalog_names.get(ref)) is not None
        ]
        known = turn.known_preferences()
        return _Reading(
            turn=turn,
            classification=classification,
            language=_reply_language(turn.message, classification.language, session.language),
            known=known,
            extraction=refine(known, turn.message, known_brands=self._known_brands(), product_names=said),
            products=products,
        )

    def _names_in_catalog(self, message: str) -> dict[str, str]:
        """Names of the search hits for the message: products it may name that the chat never showed.

        One search of at most NAME_HITS cards; a one-word message names no product this way (a catalog
        name is only recognised by two or more of its words), so it costs nothing.
        """
        if len(words(message)) < 2:
            return {}
        found = self._catalog.search(message, filters=SearchFilters(), limit=NAME_HITS)
        return {card.id: card.name for card in found}

    # Answering ------------------------------------------------------------------------------------------

    def _answer(self, reading: _Reading) -> _Answer:
        language = reading.language
        if reading.classification.suspicious:
            return _Answer(sentences=[say("refuse", language)])
        handlers: dict[Intent, Callable[[_Reading], _Answer]] = {
            Intent.GREETING: self._greet,
            Intent.VAGUE: self._clarify,
            Intent.DISCOVER: self._recommend,
            Intent.REFINE: self._recommend,
            Intent.PRODUCT_DETAILS: self._details,
            Intent.COMPARE: self._compare,
            Intent.OBJECTION: self._objection,
            Intent.BUY: self._buy,
            Intent.DISCOUNT: self._discount,
            Intent.ORDER_STATUS: self._order_status,
        }
        handler = handlers.get(reading.classification.intent)
        if handler is not None:
            return handler(reading)
        fixed = {
            Intent.SUPPORT: "support",
            Intent.INAPPROPRIATE: "inappropriate",
        }
        return _Answer(sentences=[say(fixed.get(reading.classification.intent, "off_topic"), language)])

    def _greet(self, reading: _Reading) -> _Answer:
        language, memory = reading.language, reading.memory
        # `sessions` counts this chat too: a shopper is back from their second chat on.
        if memory is None or (not memory.purchased_products and memory.sessions <= 1):
            return _Answer(sentences=[say("welcome", language)])
        bought = self._catalog.products(memory.purchased_products[-1:])
        if not bought:
            return _Answer(sentences=[say("welcome_back", language), say("what_next", language)])
        product = next(iter(bought.values()))
        question = say("how_is_purchase", language, name=product.name)
        return _Answer(
            sentences=[say("welcome_back", language), question, say("what_next", language)],
            question=question,
            mentioned_products=[product.id],
        )

    def _clarify(self, reading: _Reading) -> _Answer:
        question = say("ask_vague", reading.language)
        return _Answer(sentences=[question], question=question)

    def _recommend(self, reading: _Reading) -> _Answer:
        language = reading.language
        preferences = self._refined_for_turn(reading)
        contradictions = reading.extraction.contradictions
        question = _contradiction_question(contradictions[0], language) if contradictions else None
        if any(item.field in UNSAFE_CONTRADICTIONS for item in contradictions):
            return _Answer(sentences=[question or ""], question=question, shown_products=[])
        message = reading.turn.message
        refining = reading.classification.intent is Intent.REFINE
        # Refining keeps to the product in focus (named, else the first card): its category when the chat
        # named none ("cheaper" after three rackets is a cheaper racket), and its kind for "similar".
        focus = self._targets(reading) if refining else []
        category = _category(reading) or (focus[0].category if focus else None)
        excluded = _never_again(reading.memory)
        if refining and _asks_for_others(message):
            excluded |= set(reading.session.shown_products)
        query = _query(message, preferences, category)
        if focus and set(words(message)) & _SIMILAR:
            query = f"{query} {_likeness(focus[0])}"
            excluded.add(focus[0].id)
        filters = _filters(preferences, category)
        found = self._catalog.search(query, filters=filters, needs=needs_of(preferences), limit=CANDIDATES)
        candidates = list(self._catalog.products([card.id for card in found]).values())

        def best(limit: int, within: str | None) -> list[Ranked]:
            return rank(
                candidates,
                preferences,
                language=language,
                category=within,
                relevance={card.id: card.relevance for card in found},
                excluded=excluded,
                now=self._clock(),
                limit=limit,
                weights=reading.turn.ranking_weights or WEIGHTS,
            )

        # With no category named, the best match's category decides: three rackets, not a racket,
        # a lesson and a bag.
        top = best(1, category) if category is None else []
        ranked = best(RECOMMENDATIONS, top[0].product.category if top else category)
        if not ranked:
            return self._no_match(reading, preferences, category, query, question)
        recommendations = [
            RecommendedProduct(
                product_id=item.product.id,
                type=RecommendationType.PRIMARY if index == 0 else RecommendationType.ALTERNATIVE,
                reasons=item.reasons,
                confidence=item.confidence,
                features=item.features,
            )
            for index, item in enumerate(ranked)
        ]
        sentences = [say("intro_recommend", language)]
        sentences.extend(
            _recommendation_line(item, index == 0, language) for index, item in enumerate(ranked)
        )
        shown = [item.product.id for item in ranked]
        extra = self._upsell(ranked[0].product, preferences, language, excluded | set(shown))
        if extra is not None:
            recommendations.append(extra[0])
            sentences.append(extra[1])
            shown.append(extra[0].product_id)
        offer = self._first_order_offer(reading, ranked[0].product)
        if offer is not None:
            sentences.append(
                _offer_sentence("discount_found_on_first_order", offer, ranked[0].product, language)
            )
        if question is None and not _enough_to_go_on(preferences):
            question = say("ask_level", language)
        if question is not None:
            sentences.append(question)
        return _Answer(
            sentences=sentences,
            recommendations=recommendations,
            shown_products=shown,
            mentioned_products=shown,
            question=question,
            preferences=preferences,
            offered_code=offer.code if offer else None,
        )

    def _first_order_offer(self, reading: _Reading, product: Product) -> CodeOffer | None:
        """A first-order code for the top pick, told once per chat: a welcome, not a sales pitch."""
        if self._commerce is None or code_offered_in(reading.session) is not None:
            return None
        offer = self._commerce.offer_for(reading.session.user_id, [product.id])
        return offer if offer is not None and offer.first_order_only else None

    def _refined_for_turn(self, reading: _Reading) -> Preferences:
        """The refined preferences, with "cheaper" on a refine turn capping the budget below the cards."""
        preferences = reading.preferences
        asks_cheaper = "budget" in understand(reading.turn.message).needs
        if reading.classification.intent is not Intent.REFINE or not asks_cheaper:
            return preferences
        shown = [reading.products[i] for i in reading.session.shown_products if i in reading.products]
        if not shown:
            return preferences
        # Cheaper than the main cards, not than the overgrip offered with them.
        main_category = _category(reading) or shown[0].category
        shown = [product for product in shown if product.category == main_category] or shown
        cheapest = min(shown, key=lambda product: product.price)
        budget = preferences.budget
        if budget is not None and budget.currency == cheapest.currency and budget.max_amount is not None:
            ceiling = min(budget.max_amount, cheapest.price - 1)
        else:
            ceiling = cheapest.price - 1
        low = budget.min_amount if budget is not None and budget.currency == cheapest.currency else None
        if ceiling < 0 or (low is not None and low > ceiling):
            return preferences
        capped = Budget(min_amount=low, max_amount=ceiling, currency=cheapest.currency)
        return preferences.model_copy(update={"budget": capped})

    def _no_match(
        self,
        reading: _Reading,
        preferences: Preferences,
        category: str | None,
        query: str,
        question: str | None,
    ) -> _Answer:
        """Say honestly that nothing fits, and what relaxing the budget would bring; recommend nothing."""
        language = reading.language
        sentences = [say("no_match", language)]
        budget = preferences.budget
        offer: str | None = None
        offered: list[str] = []
        if budget is not None:
            filters = SearchFilters(in_stock=True, min_rating=MIN_RATING, category=category)
            found = self._catalog.search(
                query, filters=filters, needs=needs_of(preferences), limit=CANDIDATES
            )
            unbudgeted = preferences.model_copy(update={"budget": None})
            never_again = _never_again(reading.memory)
            options = [
                product
                for product in self._catalog.products([card.id for card in found]).values()
                if not violations(product, unbudgeted, category) and product.id not in never_again
            ]
            same_currency = [product for product in options if product.currency == budget.currency]
            if options and not same_currency:
                offer = say(
                    "other_currency", language, currency=options[0].currency, budget_currency=budget.currency
                )
            elif same_currency:
                cheapest = min(same_currency, key=lambda product: (product.price, product.id))
                if cheapest.id in reading.session.shown_products:  # "cheaper" than the cheapest there is
                    sentences.append(say("no_cheaper", language))
                else:
                    price = format_price(cheapest.price, cheapest.currency)
                    offer = say("cheapest_option", language, name=cheapest.name, price=price)
                    offered.append(cheapest.id)
        offer = offer or say("relax_filters", language)
        sentences.append(offer)
        if question is not None:
            sentences.append(question)
        # A "cheaper" that found nothing is not remembered as a budget; the cards stay on screen.
        return _Answer(
            sentences=sentences,
            question=question or offer,
            mentioned_products=offered,
            preferences=reading.preferences,
        )

    def _upsell(
        self, product: Product, preferences: Preferences, language: Language, excluded: set[str]
    ) -> tuple[RecommendedProduct, str] | None:
        """At most one extra: an upgrade for an advanced shopper, else an accessory often bought with it.

        An accessory must cost less than ``product`` (it goes with a main item, not the other way round);
        either must be in stock, rated, within budget, and not shown or dismissed already.
        """
        advanced = preferences.skill_level in ("advanced", "pro")
        for kind, ids in (
            (RecommendationType.UPGRADE, product.ai_upgrade_to if advanced else []),
            (RecommendationType.RELATED, product.ai_often_bought_with),
        ):
            linked = self._catalog.products([item for item in ids if item not in excluded])
            for candidate in linked.values():
                if violations(candidate, preferences):
                    continue
                if kind is RecommendationType.RELATED and (
                    candidate.price >= product.price or candidate.category == product.category
                ):
                    continue
                price = format_price(candidate.price, candidate.currency)
                template, reason = (
                    ("upgrade_line", "reason_upgrade")
                    if kind is RecommendationType.UPGRADE
                    else ("related_line", "reason_related")
                )
                recommendation = RecommendedProduct(
                    product_id=candidate.id,
                    type=kind,
                    reasons=[
                        say(reason, language, name=product.name),
                        say("reason_price", language, price=price),
                    ],
                    confidence=0.5,
                )
                return recommendation, say(template, language, name=candidate.name, price=price)
        return None

    def _products(self, reading: _Reading, ids: Sequence[str]) -> list[Product]:
        """``ids`` as products, in order (unknown or inactive ones left out)."""
        ids = list(dict.fromkeys(ids))
        missing = [product_id for product_id in ids if product_id not in reading.products]
        found = {**reading.products, **(self._catalog.products(missing) if missing else {})}
        return [found[product_id] for product_id in ids if product_id in found]

    def _targets(self, reading: _Reading, fallback: int = 1) -> list[Product]:
        """The products the message points at (names, then "the second one"), else the first shown ones."""
        shown = reading.session.shown_products
        ids = [
            *reading.classification.product_refs,
            *(
                shown[position - 1]
                for position in reading.classification.ordinal_refs
                if position <= len(shown)
            ),
        ]
        return self._products(reading, ids or shown[:fallback])

    def _still_shown(self, reading: _Reading, *extra: str) -> list[str]:
        return list(dict.fromkeys([*reading.session.shown_products, *extra]))

    def _details(self, reading: _Reading) -> _Answer:
        language = reading.language
        targets = self._targets(reading)
        if not targets:
            question = say("which_product", language)
            return _Answer(sentences=[question], question=question)
        product = targets[0]
        sentences = answers.details(product, language, self._known_brands())
        recommendations: list[RecommendedProduct] = []
        extra_ids: list[str] = []
        excluded = {*reading.session.shown_products, *_never_again(reading.memory)}
        extra = self._upsell(product, reading.preferences, language, excluded) if product.stock > 0 else None
        if extra is not None:
            recommendations.append(extra[0])
            sentences.append(extra[1])
            extra_ids.append(extra[0].product_id)
        return _Answer(
            sentences=sentences,
            recommendations=recommendations,
            shown_products=self._still_shown(reading, product.id, *extra_ids),
            mentioned_products=[product.id, *extra_ids],
            viewed_products=[product.id],
        )

    def _compare(self, reading: _Reading) -> _Answer:
        language = reading.language
        targets = self._targets(reading, fallback=0)
        if len(targets) < 2:
            # "Compare them": the cards on screen of the first card's category (not its accessories).
            on_screen = self._products(reading, reading.session.shown_products)
            main = (
                [product for product in on_screen if product.category == on_screen[0].category]
                if on_screen
                else []
            )
            targets = list({product.id: product for product in [*targets, *main]}.values())[:RECOMMENDATIONS]
        if len(targets) < 2:
            question = say("compare_need_two", language)
            return _Answer(sentences=[question], question=question)
        comparison = compare(
            targets, reading.preferences, language, now=self._clock(), brands=self._known_brands()
        )
        ids = [product.id for product in targets]
        return _Answer(
            sentences=[
                say("compare_intro", language),
                render(comparison, targets) + "\n",
                comparison.recommendation,
            ],
            comparison=comparison,
            shown_products=self._still_shown(reading, *ids),
            mentioned_products=ids,
        )

    def _objection(self, reading: _Reading) -> _Answer:
        language = reading.language
        topic = reading.classification.objection_topic or ObjectionTopic.OTHER
        if topic is ObjectionTopic.SHIPPING_RETURNS:
            return _Answer(sentences=[say("shipping_returns", language)])
        targets = self._targets(reading)
        if not targets:
            question = say("which_product", language)
            return _Answer(sentences=[question], question=question)
        product = targets[0]
        answer = answers.objection(
            topic, product, reading.preferences, language, self._catalog, self._known_brands()
        )
        recommendations: list[RecommendedProduct] = []
        mentioned = [product.id, *(item.id for item in answer.named)]
        suggested = answer.suggested
        if suggested is not None:
            mentioned.append(suggested.id)
            if not violations(suggested, reading.preferences):
                kind = (
                    RecommendationType.UPGRADE
                    if topic is ObjectionTopic.UPGRADE_PATH
                    else RecommendationType.ALTERNATIVE
                )
                recommendations.append(
                    RecommendedProduct(
                        product_id=suggested.id,
                        type=kind,
                        reasons=[answer.sentences[0]],
                        confidence=0.6,
                    )
                )
        shown_extra = [item.product_id for item in recommendations]
        return _Answer(
            sentences=answer.sentences,
            recommendations=recommendations,
            shown_products=self._still_shown(reading, product.id, *shown_extra),
            mentioned_products=mentioned,
        )

    def _buy(self, reading: _Reading) -> _Answer:
        """Confirm the product and its price; with commerce, ask the chat service for the checkout."""
        language = reading.language
        targets = self._targets(reading)
        if not targets:
            question = say("which_product", language)
            return _Answer(sentences=[question], question=question)
        product = targets[0]
        price = format_price(product.price, product.currency)
        quantity = quantity_in(reading.turn.message)
        on_screen = {
            "shown_products": self._still_shown(reading, product.id),
            "mentioned_products": [product.id],
        }
        if product.stock <= 0:
            return _Answer(
                sentences=[say("buy_sold_out", language, name=product.name, price=price)], **on_screen
            )
        if self._commerce is None:
            return _Answer(sentences=[say("buy", language, name=product.name, price=price)], **on_screen)
        if product.stock < quantity:
            question = say(
                "buy_too_few",
                language,
                name=product.name,
                price=price,
                stock=product.stock,
                quantity=quantity,
            )
            return _Answer(sentences=[question], question=question, **on_screen)
        template = "buy_ready" if quantity == 1 else "buy_ready_many"
        sentences = [say(template, language, name=product.name, price=price, quantity=quantity)]
        code = code_offered_in(reading.session)
        if code is not None:
            sentences.append(say("code_applied_at_checkout", language, code=code))
        return _Answer(
            sentences=sentences,
            checkout_request=CheckoutRequest(product_id=product.id, quantity=quantity),
            **on_screen,
        )

    def _discount(self, reading: _Reading) -> _Answer:
        """An eligible code for the product in focus, from data, or an honest no: never an invented one."""
        language = reading.language
        if self._commerce is None:
            return _Answer(sentences=[say("discount", language)])
        targets = self._targets(reading)
        if not targets:
            question = say("discount_which", language)
            return _Answer(sentences=[question], question=question)
        product = targets[0]
        on_screen = {
            "shown_products": self._still_shown(reading, product.id),
            "mentioned_products": [product.id],
        }
        offer = self._commerce.offer_for(reading.session.user_id, [product.id])
        if offer is None:
            return _Answer(sentences=[say("discount_none", language, name=product.name)], **on_screen)
        return _Answer(
            sentences=[
                _offer_sentence("discount_found", offer, product, language),
                say("discount_applies_in_chat", language),
            ],
            offered_code=offer.code,
            **on_screen,
        )

    def _order_status(self, reading: _Reading) -> _Answer:
        """The shopper's latest orders from data, or an honest "I can't find an order"."""
        language = reading.language
        if self._commerce is None:
            return _Answer(sentences=[say("order_status", language)])
        orders = self._commerce.recent_orders(reading.session.user_id, ORDERS_TOLD)
        if not orders:
            return _Answer(sentences=[say("order_none", language)])
        lines = [
            say(
                "order_line",
                language,
                id=order.id,
                date=order.created_at.date().isoformat(),
                items=join(order.product_names, language),
                total=format_price(order.total, order.currency),
                status=term(order.status, language),
            )
            for order in orders
        ]
        return _Answer(sentences=[say("order_intro", language) + "\n", *(line + "\n" for line in lines)])


# Helpers ------------------------------------------------------------------------------------------------


def quantity_in(message: str) -> int:
    """How many units a buying message asks for ("buy 2 of those", "I'll take two"); 1 when it says none."""
    tokens = words(message)
    for index, token in enumerate(tokens):
        count = _COUNT_WORDS.get(token.removesuffix("x") if token[:-1].isdigit() else token)
        if count is None:
            continue
        before = tokens[index - 1] if index > 0 else ""
        after = tokens[index + 1] if index + 1 < len(tokens) else ""
        if before in _BUYING_VERBS or after in _UNIT_WORDS or token.endswith("x"):
            return count
    return 1


def code_offered_in(session: ConversationSession) -> str | None:
    """The latest discount code the advisor offered in this chat, if it offered one."""
    for message in reversed(session.messages):
        if message.offered_code:
            return message.offered_code
    return None


def deal_text(offer: CodeOffer, language: Language) -> str:
    """What the code takes off, in words: "10% off for first-time buyers"."""
    if offer.percent is not None:
        deal = say("deal_percent", language, percent=offer.percent)
    else:
        deal = say("deal_amount", language, amount=format_price(offer.amount_off or 0, offer.currency))
    return say("deal_first_order", language, deal=deal) if offer.first_order_only else deal


def _offer_sentence(template: str, offer: CodeOffer, product: Product, language: Language) -> str:
    return say(
        template,
        language,
        deal=deal_text(offer, language),
        code=offer.code,
        saving=format_price(offer.saving, offer.currency),
        name=product.name,
    )


def _reply_language(message: str, detected: Language, session_language: Language) -> Language:
    """The detected language, unless detection fell back to English without an English word to go by."""
    if detected is not Language.EN or session_language is Language.EN:
        return detected
    return Language.EN if set(words(message)) & _ENGLISH_CUES else session_language


def _contradiction_question(contradiction: Contradiction, language: Language) -> str:
    if language is Language.EN:
        return contradiction.question
    return say(
        "contradiction",
        language,
        previous=term(contradiction.previous, language),
        new=term(contradiction.new, language),
    )


def _never_again(memory: ShopperMemory | None) -> set[str]:
    """Products not to offer this shopper again: those they dismissed, and those they already bought."""
    return set(memory.dismissed_products + memory.purchased_products) if memory else set()


def _category(reading: _Reading) -> str | None:
    """The category named in this message, else the latest one named in the chat."""
    known = reading.known.categories
    current = reading.preferences.categories
    new = [category for category in current if category not in known]
    if new:
        return new[-1]
    return current[-1] if current else None


def _enough_to_go_on(preferences: Preferences) -> bool:
    """A level or a budget, or at least ENOUGH_WISHES other wishes ("defensive style, prefer lightweight")."""
    if preferences.skill_level is not None or preferences.budget is not None:
        return True
    weight = preferences.weight or preferences.min_weight_g or preferences.max_weight_g
    wishes = [
        preferences.play_style,
        weight,
        preferences.handedness,
        preferences.shape,
        *preferences.goals,
        *preferences.physical_notes,
        *preferences.materials,
        *preferences.brands_liked,
        *preferences.colours,
    ]
    return sum(wish is not None for wish in wishes) >= ENOUGH_WISHES


def _likeness(product: Product) -> str:
    """Search words for products like ``product``: its name without the brand, and its first tags."""
    name = product.name.removeprefix(product.brand).strip()
    return " ".join([name, *product.ai_tags[:5]])


def _asks_for_others(message: str) -> bool:
    return bool(set(words(message)) & _OTHERS) or "budget" in understand(message).needs


def _query(message: str, preferences: Preferences, category: str | None) -> str:
    """Search text: the message without amounts (the budget is a filter), plus what is known."""
    parts = [_DIGITS_AND_MONEY.sub(" ", message)]
    if category:
        parts.append(category.replace("-", " "))
    if preferences.play_style:
        parts.append(preferences.play_style)
    if preferences.shape:
        parts.append(preferences.shape)
    parts.extend(needs_of(preferences))
    return " ".join(" ".join(parts).split())[:2000] or "*"


def _filters(preferences: Preferences, category: str | None) -> SearchFilters:
    budget = preferences.budget
    return SearchFilters(
        in_stock=True,
        min_rating=MIN_RATING,
        category=category,
        min_price=budget.min_amount if budget else None,
        max_price=budget.max_amount if budget else None,
    )


def _recommendation_line(item: Ranked, primary: bool, language: Language) -> str:
    product = item.product
    why = ", ".join(item.reasons[1:4]) or item.reasons[0]
    template = "primary_line" if primary else "alternative_line"
    return say(
        template,
        language,
        name=product.name,
        price=format_price(product.price, product.currency),
        reasons=why,
    )
