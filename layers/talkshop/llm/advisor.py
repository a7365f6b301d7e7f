"""The LLM advisor: the model talks, our tools find the products, grounding checks every sentence.

One turn: read the message with the rules' classifier and preference refiner (cheap and deterministic:
``internalState`` and hard constraints never depend on the model), pick the small or the large model,
then run a bounded tool loop in which the model streams text and calls tools. Text reaches the shopper
sentence by sentence, each corrected against the products the tools returned (see
:mod:`talkshop.advisor.grounding`). Cards are only products the tools returned in this conversation.

Over the per-conversation cost cap, or when the provider fails for good, the fallback (rules) engine
answers and ``AdvisorReply.engine`` says why (``rules:cost_cap``, ``rules:llm_unavailable``).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Mapping

from talkshop.advisor.engine import needs_of
from talkshop.advisor.grounding import Money, correct, mentioned_product_ids
from talkshop.advisor.intents import Classification, Intent, classify
from talkshop.advisor.model import (
    Advisor,
    AdvisorReply,
    RecommendationType,
    RecommendedProduct,
    ReplyEvent,
    ShopCatalog,
    ShopCommerce,
    TextDelta,
    TurnContext,
    Usage,
)
from talkshop.advisor.preferences import Extraction, refine
from talkshop.advisor.ranking import WEIGHTS
from talkshop.advisor.tools import ToolBox
from talkshop.catalog.model import Product
from talkshop.clock import Clock, utc_now
from talkshop.llm.cache import ReplyCache, cache_key
from talkshop.llm.calls import ModelCaller
from talkshop.llm.config import LlmConfig
from talkshop.llm.history import model_messages, split_history, summary
from talkshop.llm.messages import (
    FailureKind,
    Finished,
    Message,
    ModelRequest,
    ProviderError,
    TextChunk,
    ToolCall,
)
from talkshop.llm.prompting import system_prompt
from talkshop.search.service import format_price

logger = logging.getLogger(__name__)

# Turns that need reasoning over several facts go to the large model.
_COMPLEX_INTENTS = frozenset({Intent.COMPARE, Intent.OBJECTION})
_MANY_CONSTRAINTS = 3
_SENTENCE_END = re.compile(r"[.!?](?=\s)|\n")


class GroundedText:
    """Streamed text, released one finished sentence at a time after grounding corrected it."""

    def __init__(self, products: Mapping[str, Product], allowed: list[Money], brands: list[str]) -> None:
        self._products = products
        self._allowed = allowed
        self._brands = brands
        self._pending = ""
        self.released: list[str] = []
        self.corrections = 0
        self._new_block = False

    def feed(self, text: str) -> Iterator[str]:
        self._pending += text
        ends = list(_SENTENCE_END.finditer(self._pending))
        if ends:
            cut = ends[-1].end()
            ready, self._pending = self._pending[:cut], self._pending[cut:]
            yield from self._release(ready)

    def allow(self, amounts: list[Money]) -> None:
        """Amounts a tool returned that are not product prices (a code's saving, an order's total)."""
        self._allowed.extend(amounts)

    def end_block(self) -> Iterator[str]:
        """The model's text block ended (before tool calls, or at the end): release what is left."""
        ready, self._pending = self._pending, ""
        yield from self._release(ready)
        self._new_block = True

    def _release(self, text: str) -> Iterator[str]:
        core = text.strip()
        if not core:
            if text and self.released:
                self.released.append(text)
                yield text
            return
        fixed = correct(core, self._products, allowed=self._allowed, brands=self._brands)
        self.corrections += len(fixed.errors)
        if not fixed.text:
            return
        leading = text[: len(text) - len(text.lstrip())] if self.released else ""
        if self._new_block and self.released and not self.released[-1][-1:].isspace():
            leading = "\n\n"
        self._new_block = False
        piece = leading + fixed.text + text[len(text.rstrip()) :]
        self.released.append(piece)
        yield piece

    @property
    def text(self) -> str:
        return "".join(self.released).strip()


def _budget_amounts(extraction: Extraction) -> list[Money]:
    budget = extraction.preferences.budget
    if budget is None:
        return []
    return [
        Money(amount, budget.currency)
        for amount in (budget.min_amount, budget.max_amount)
        if amount is not None
    ]


def _commerce_amounts(toolbox: ToolBox) -> list[Money]:
    """The money the commerce tools returned that the reply may quote."""
    amounts = [Money(order.total, order.currency) for order in toolbox.orders]
    offer = toolbox.offer
    if offer is not None:
        amounts.append(Money(offer.saving, offer.currency))
        if offer.amount_off:
            amounts.append(Money(offer.amount_off, offer.currency))
    return amounts


class LlmAdvisor:
    def __init__(
        self,
        caller: ModelCaller,
        config: LlmConfig,
        catalog: ShopCatalog,
        fallback: Advisor,
        *,
        cache: ReplyCache | None = None,
        clock: Clock = utc_now,
        commerce: ShopCommerce | None = None,
    ) -> None:
        self._commerce = commerce
        self._caller = caller
        self._config = config
        self._catalog = catalog
        self._fallback = fallback
        self._cache = cache if cache is not None else ReplyCache(config.cache_ttl_s)
        self._clock = clock

    def respond(self, turn: TurnContext) -> Iterator[ReplyEvent]:
        if turn.session.usage.cost_usd >= self._config.cost_cap_usd:
            yield from self._answer_by_fallback(turn, "cost_cap")
            return
        key = cache_key(turn)
        cached = self._cache.get(key)
        if cached is not None:
            yield TextDelta(text=cached.text)
            yield cached.model_copy(update={"usage": Usage(cached=True, model=cached.usage.model)})
            return
        streamed = False
        try:
            for event in self._converse(turn, key):
                if isinstance(event, TextDelta):
                    streamed = True
                yield event
        except ProviderError as error:
            logger.warning("LLM provider failed (%s): %s; the rules engine answers", error.kind, error)
            if streamed:
                yield TextDelta(text="\n\n")
            yield from self._answer_by_fallback(turn, "llm_unavailable")

    def _answer_by_fallback(self, turn: TurnContext, reason: str) -> Iterator[ReplyEvent]:
        for event in self._fallback.respond(turn):
            if isinstance(event, AdvisorReply):
                yield event.model_copy(update={"engine": f"{event.engine}:{reason}"})
            else:
                yield event

    # --- one LLM turn ---------------------------------------------------------------------------

    def _converse(self, turn: TurnContext, cache_key: str) -> Iterator[ReplyEvent]:
        session, memory = turn.session, turn.memory
        bought = memory.purchased_products if memory else []
        brands = self._catalog.brands()
        known = self._catalog.products(
            [*session.shown_products, *session.suggested_products, *session.viewed_products, *bought]
        )
        shown_names = {pid: known[pid].name for pid in session.shown_products if pid in known}
        classification = classify(
            turn.message, product_names=shown_names, has_recommendations=bool(session.shown_products)
        )
        # A product's name is no wish: "the Vantaro Strike Pro 18K" likes no brand and asks for no pro level.
        said = [shown_names[ref] for ref in classification.product_refs if ref in shown_names]
        extraction = refine(turn.known_preferences(), turn.message, brands, product_names=said)
        preferences = extraction.preferences
        toolbox = ToolBox(
            self._catalog,
            preferences,
            classification.language,
            clock=self._clock,
            # What the shopper dismissed or already bought is not offered again.
            excluded=[*(memory.dismissed_products if memory else []), *bought],
            commerce=self._commerce,
            user_id=session.user_id,
            chat_products=session.carted_products or session.shown_products,
            weights=turn.ranking_weights or WEIGHTS,
        )
        # Products this conversation's tools returned earlier, and the shopper's purchases, may be spoken of.
        toolbox.returned.update(known)
        grounded = GroundedText(toolbox.returned, _budget_amounts(extraction), brands)

        older, recent = split_history(session, self._config.history_turns)
        system = system_prompt(
            classification.language,
            preferences,
            list(shown_names.items()),
            summary(older, {pid: product.name for pid, product in known.items()}),
            bought=[(pid, known[pid].name) for pid in bought if pid in known],
        )
        messages = model_messages(recent, turn.message)
        model, other = self._models(classification, extraction)
        usage = Usage(model=model)
        deadline = self._caller.monotonic() + self._config.turn_budget_s
        for round_number in range(self._config.max_tool_rounds):
            if self._caller.monotonic() >= deadline:
                raise ProviderError(FailureKind.SERVER, "the turn's time budget ran out")
            # The last round offers no tools, so the model has to answer with what it has.
            last = round_number == self._config.max_tool_rounds - 1
            request = ModelRequest(
                model=model,
                system=system,
                messages=messages,
                tools=[] if last else toolbox.specs,
                max_tokens=self._config.max_output_tokens,
            )
            calls: list[ToolCall] = []
            text: list[str] = []
            for event in self._caller.stream(request, fallback_model=other, deadline=deadline):
                if isinstance(event, TextChunk):
                    text.append(event.text)
                    for piece in grounded.feed(event.text):
                        yield TextDelta(text=piece)
                elif isinstance(event, Finished):
                    if event.model != model:  # the other model stood in: keep it for this turn
                        model, other = event.model, model
                    cost = self._config.cost_usd(event.model, event.tokens)
                    usage = usage.plus(
                        Usage(
                            input_tokens=event.tokens.input_tokens,
                            output_tokens=event.tokens.output_tokens,
                            cost_usd=cost,
                            model=event.model,
                        )
                    )
                else:
                    calls.append(event.call)
            for piece in grounded.end_block():
                yield TextDelta(text=piece)
            messages.append(Message(role="assistant", text="".join(text), tool_calls=calls))
            if not calls:
                break
            messages.append(Message(role="user", tool_results=[toolbox.run(call) for call in calls]))
            grounded.allow(_commerce_amounts(toolbox))
        reply_text = grounded.text
        if not reply_text:
            reply_text = self._plain_answer(toolbox)
            yield TextDelta(text=reply_text)
        reply = self._reply(reply_text, session.shown_products, classification, extraction, toolbox, usage)
        if not toolbox.used_commerce:  # a cart, a code or orders are this shopper's, not a repeat's
            self._cache.put(cache_key, reply)
        yield reply

    def _models(self, classification: Classification, extraction: Extraction) -> tuple[str, str]:
        complex_turn = (
            classification.intent in _COMPLEX_INTENTS
            or bool(extraction.contradictions)
            or len(extraction.changed) >= _MANY_CONSTRAINTS
        )
        small, large = self._config.small_model, self._config.large_model
        return (large, small) if complex_turn else (small, large)

    @staticmethod
    def _plain_answer(toolbox: ToolBox) -> str:
        """When grounding removed every sentence: the products found, from data alone."""
        products = [toolbox.returned[pid] for pid in toolbox.searched if pid in toolbox.returned]
        if not products:
            return "I could not find a product that fits. Could you tell me more about what you need?"
        lines = [f"- {product.name}: {format_price(product.price, product.currency)}" for product in products]
        return "Here is what I found:\n" + "\n".join(lines)

    def _reply(
        self,
        text: str,
        on_screen: list[str],
        classification: Classification,
        extraction: Extraction,
        toolbox: ToolBox,
        usage: Usage,
    ) -> AdvisorReply:
        mentioned = mentioned_product_ids(text, toolbox.returned)
        if toolbox.comparison is not None:
            shown = list(toolbox.comparison.product_ids)
        elif toolbox.ranked:
            shown = [pid for pid in mentioned if pid in toolbox.ranked or pid in toolbox.viewed]
            shown = shown or toolbox.searched[:3]
        else:
            # No new search: the cards stay on screen (so "the second one" keeps its meaning next turn),
            # with the products looked at this turn added after them.
            shown = list(dict.fromkeys([*on_screen, *toolbox.viewed]))
        recommendations = [
            RecommendedProduct(
                product_id=pid,
                type=RecommendationType.PRIMARY if index == 0 else RecommendationType.ALTERNATIVE,
                reasons=toolbox.ranked[pid].reasons,
                confidence=toolbox.ranked[pid].confidence,
                features=toolbox.ranked[pid].features,
            )
            for index, pid in enumerate(pid for pid in shown if pid in toolbox.ranked)
        ]
        preferences = extraction.preferences
        return AdvisorReply(
            text=text,
            language=classification.language,
            intent=classification.intent,
            preferences=preferences,
            needs=needs_of(preferences),
            contradictions=extraction.contradictions,
            recommendations=recommendations,
            shown_products=shown,
            mentioned_products=mentioned,
            viewed_products=toolbox.viewed,
            comparison=toolbox.comparison,
            engine=f"{self._caller.provider.name}:{usage.model}",
            usage=usage,
            checkout_request=toolbox.checkout_request,
            offered_discount_code=toolbox.offer.code if toolbox.offer else None,
        )
