"""Advisor benchmark: the rules engine over a suite of multi-turn shopper conversations.

Run (about 30 s on the 2-core reference machine):

    OPENBLAS_NUM_THREADS=1 .venv/bin/python bench/advisor.py [--verbose] [--quick]

Every conversation of bench/data/advisor_scenarios.json is played through RulesAdvisor in-process, turn
after turn, with the session carried between turns the way the chat service does it (preferences, needs,
the cards shown last, messages, language). The catalog is LiveCatalog over SearchService(LocalSearchIndex,
MiniLM) and the demo products. Printed:

extraction   Precision and recall of preference extraction, per Preferences field and overall. A turn's
             expected values are those its message states; its extracted values are the values the reply's
             preferences gained in the turn, plus expected values that were already known and kept.
constraints  Share of recommendations that satisfy every hard constraint: in stock and rated >= 3.5 (every
             recommendation), within the budget the shopper stated (all but "related" ones, which are
             accessories to what was asked) and in the category asked for (primary and alternative ones).
grounding    Prices and product names in the reply text that the products it shows, recommends, mentions,
             compares or details (and the cards on screen before the turn) do not back up, by
             talkshop.advisor.grounding.find_grounding_errors; amounts the shopper wrote are allowed.
behaviour    Intent accuracy, whether products were recommended when they should (not) be, whether a
             clarifying question was asked when expected, whether a comparison (product details) came
             when only a comparison (details) was asked for, and the reply language (the reply's field
             and the language detected in its own words: the text without comparison-table rows, review
             quotes and the product data it copies, which stay in the shop's language).
latency      p50/p95 of one turn (respond + final_reply, query embedding included) at the demo catalog's
             size and at 10k products: the demo products plus deterministic variants (a model code in the
             name, price x0.7-1.4, one in ten out of stock, rating 3.0-5.0). A variant's vector is its
             template's MiniLM vector plus noise (embedding 10k product texts takes about 15 minutes on two
             cores); --embed embeds every variant for real once, cached in bench/.cache/. Hard constraints
             are checked at 10k as well, where the variants put many products out of stock or below 3.5.

--verbose lists every failing turn with its reasons. The exit status is 1 when any recommendation breaks a
hard constraint or any reply has a grounding error, so CI can run it.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from talkshop.advisor.catalog import LiveCatalog, ProductsInMemory
from talkshop.advisor.grounding import Money, find_grounding_errors
from talkshop.advisor.intents import Intent, Language, detect_language
from talkshop.advisor.model import (
    Advisor,
    AdvisorReply,
    ChatMessage,
    ConversationSession,
    RecommendationType,
    Role,
    TurnContext,
    final_reply,
)
from talkshop.advisor.preferences import Budget, Preferences, extract
from talkshop.catalog.model import Product
from talkshop.search.demo_vectors import demo_products, load_demo_vectors
from talkshop.search.embeddings import MiniLMEmbedder
from talkshop.search.local_index import LocalSearchIndex
from talkshop.search.model import Embedder, document_for
from talkshop.search.service import SearchService

F32 = npt.NDArray[np.float32]
ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "bench" / "data" / "advisor_scenarios.json"
CACHE = ROOT / "bench" / ".cache"  # ignored by git (bench/.gitignore)
MIN_RATING = 3.5
LARGE_CATALOG = 10_000
QUICK_CATALOG = 2_000
NOISE = 0.015  # per dimension: a variant's vector keeps a cosine of about 0.96 with its template's
STARTED_AT = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)


# --------------------------------------------------------------------------------------------------
# Scenarios
# --------------------------------------------------------------------------------------------------


def _as_list(value: object) -> object:
    return [value] if isinstance(value, str) else value


class ScenarioTurn(BaseModel):
    """One shopper message and what the reply to it should do."""

    model_config = ConfigDict(extra="forbid")

    message: str = Field(min_length=1, max_length=2000)
    intent: Annotated[list[Intent], BeforeValidator(_as_list)] = Field(
        min_length=1, description="Acceptable intents"
    )
    preferences: Preferences = Field(
        description="The fields this message states; only the fields written in the file are expected"
    )
    recommend: bool | None = Field(default=None, description="Products should (not) be recommended")
    max_price: int | None = Field(default=None, ge=0, description="Cents: the budget stated so far")
    min_price: int | None = Field(default=None, ge=0)
    category: str | None = Field(default=None, description="The category slug asked for")
    clarify: bool | None = Field(default=None, description="A clarifying question is (not) expected")
    language: Language | None = Field(default=None, description="Default: the conversation's")

    @property
    def expected_fields(self) -> list[str]:
        return sorted(self.preferences.model_fields_set)


class Conversation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9-]+$")
    tags: list[str] = Field(min_length=1)
    language: Language = Language.EN
    turns: list[ScenarioTurn] = Field(min_length=1)


class ScenarioSuite(BaseModel):
    model_config = ConfigDict(extra="forbid")

    description: str
    catalog: str
    conversations: list[Conversation] = Field(min_length=45)


def load_scenarios(path: Path = SCENARIOS) -> ScenarioSuite:
    return ScenarioSuite.model_validate_json(path.read_text())


# --------------------------------------------------------------------------------------------------
# Metrics (plain functions over plain data; tests/unit/test_bench_advisor.py checks them)
# --------------------------------------------------------------------------------------------------

Atom = tuple[str, str]  # (Preferences field, one value of it)


def _budget_text(budget: Budget) -> str:
    low = "" if budget.min_amount is None else str(budget.min_amount)
    high = "" if budget.max_amount is None else str(budget.max_amount)
    return f"{low}..{high} {budget.currency}"


def preference_atoms(preferences: Preferences, fields: Iterable[str] | None = None) -> set[Atom]:
    """Every (field, value) the preferences hold: one per list item, a budget as one value."""
    atoms: set[Atom] = set()
    for name in Preferences.model_fields if fields is None else fields:
        value = getattr(preferences, name)
        if value is None:
            continue
        if isinstance(value, list):
            atoms.update((name, str(item)) for item in value)
        elif isinstance(value, Budget):
            atoms.add((name, _budget_text(value)))
        else:
            atoms.add((name, str(value)))
    return atoms


@dataclass
class Counts:
    true_positives: int = 0
    false_positives: int = 0
    false_negatives: int = 0

    def add(self, other: Counts) -> None:
        self.true_positives += other.true_positives
        self.false_positives += other.false_positives
        self.false_negatives += other.false_negatives

    @property
    def precision(self) -> float:
        found = self.true_positives + self.false_positives
        return self.true_positives / found if found else float("nan")

    @property
    def recall(self) -> float:
        wanted = self.true_positives + self.false_negatives
        return self.true_positives / wanted if wanted else float("nan")


@dataclass
class Extraction:
    expected: set[Atom]
    extracted: set[Atom]

    @property
    def missed(self) -> set[Atom]:
        return self.expected - self.extracted

    @property
    def unexpected(self) -> set[Atom]:
        return self.extracted - self.expected

    def counts_by_field(self) -> dict[str, Counts]:
        by_field: dict[str, Counts] = {}
        for name, _ in self.expected | self.extracted:
            by_field.setdefault(name, Counts())
        for name, _ in self.expected & self.extracted:
            by_field[name].true_positives += 1
        for name, _ in self.unexpected:
            by_field[name].false_positives += 1
        for name, _ in self.missed:
            by_field[name].false_negatives += 1
        return by_field


def extraction(expected: Preferences, before: Preferences, after: Preferences) -> Extraction:
    """What a turn should have read against what it did read.

    Extracted: the values the preferences gained in the turn, plus expected values already known and
    still held (a restated value is read correctly even though nothing changed).
    """
    wanted = preference_atoms(expected, expected.model_fields_set)
    held = preference_atoms(after)
    gained = held - preference_atoms(before)
    return Extraction(wanted, gained | (held & wanted))


def constraint_violations(
    recommendation_type: RecommendationType,
    product: Product | None,
    *,
    max_price: int | None,
    min_price: int | None,
    category: str | None,
) -> list[str]:
    """Why a recommended product breaks a hard constraint of the turn (empty: it meets them all)."""
    if product is None:
        return ["not an active catalog product"]
    reasons = []
    if product.stock <= 0:
        reasons.append("out of stock")
    if product.rating is None or product.rating < MIN_RATING:
        reasons.append(f"rating {product.rating} < {MIN_RATING}")
    if recommendation_type != RecommendationType.RELATED:
        if max_price is not None and product.price > max_price:
            reasons.append(f"price {product.price} > budget {max_price}")
        if min_price is not None and product.price < min_price:
            reasons.append(f"price {product.price} < budget {min_price}")
    primary = recommendation_type in (RecommendationType.PRIMARY, RecommendationType.ALTERNATIVE)
    if primary and category is not None and product.category != category:
        reasons.append(f"category {product.category} != {category}")
    return reasons


def percentile(values: Sequence[float], share: float) -> float:
    """The nearest-rank percentile (share in 0..1) of the values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, int(np.ceil(share * len(ordered))))
    return ordered[rank - 1]


def rate(hits: int, total: int) -> str:
    return f"{hits / total:.1%} ({hits}/{total})" if total else "n/a (0 turns)"


# --------------------------------------------------------------------------------------------------
# Catalogs
# --------------------------------------------------------------------------------------------------

MODEL_SERIES = ("Aero", "Nova", "Flux", "Orbit", "Pulse", "Vertex", "Glide", "Storm", "Edge", "Prime")


def synthetic_products(templates: Sequence[Product], size: int, seed: int = 11) -> list[Product]:
    """The templates, then variants of them up to `size` products: the same brand and category with a
    model code in the name, price x0.7-1.4, one in ten out of stock, rating 3.0-5.0 (some below 3.5)."""
    rng = random.Random(seed)
    products = list(templates[:size])
    for number in range(size - len(products)):
        template = templates[number % len(templates)]
        code = f"{rng.choice(MODEL_SERIES)} {number:05d}"
        products.append(
            template.model_copy(
                update={
                    "id": f"{template.id}-v{number:05d}",
                    "name": f"{template.name} {code}",
                    "price": max(100, int(template.price * rng.uniform(0.7, 1.4)) // 10 * 10),
                    "stock": 0 if rng.random() < 0.1 else rng.randint(1, 120),
                    "rating": round(rng.uniform(3.0, 5.0), 1),
                }
            )
        )
    return products


def template_vectors(products: Sequence[Product], known: Mapping[str, F32], seed: int = 11) -> F32:
    """Each product's vector: its own when known (by embedding-text hash), else its template's (the id
    before "-v") plus Gaussian noise, renormalised."""
    noise = np.random.default_rng(seed)
    hashes = {product.id: text_hash(product) for product in products}
    rows = []
    for product in products:
        own = known.get(hashes[product.id])
        if own is None:
            template = known[hashes[product.id.rsplit("-v", 1)[0]]]
            own = template + noise.normal(0.0, NOISE, template.shape).astype(np.float32)
            own = own / np.linalg.norm(own)
        rows.append(own)
    return np.stack(rows).astype(np.float32)


def text_hash(product: Product) -> str:
    document = document_for(product)
    if document is None:
        raise ValueError(f"{product.id} is not searchable")
    return document.text_hash


def embedded_vectors(products: Sequence[Product], embedder: Embedder, cache: Path) -> dict[str, F32]:
    """MiniLM vectors of every product by text hash, those not in the cache file embedded and saved."""
    vectors: dict[str, F32] = dict(load_demo_vectors())
    if cache.exists():
        with np.load(cache) as saved:
            vectors.update(zip((str(h) for h in saved["hashes"]), saved["vectors"], strict=True))
    documents = [document for product in products if (document := document_for(product)) is not None]
    missing = {d.text_hash: d.embedding_text for d in documents if d.text_hash not in vectors}
    if missing:
        print(f"  embedding {len(missing)} product texts (cached in {cache.relative_to(ROOT)})", flush=True)
        embedded = embedder.embed_batch(list(missing.values()))
        vectors.update(zip(missing, embedded, strict=True))
        cache.parent.mkdir(parents=True, exist_ok=True)
        np.savez(cache, hashes=np.array(list(vectors)), vectors=np.stack(list(vectors.values())))
    return vectors


@dataclass
class Shop:
    products: list[Product]
    catalog: LiveCatalog

    @property
    def by_id(self) -> dict[str, Product]:
        return {product.id: product for product in self.products}


def build_shop(products: list[Product], vectors: F32, embedder: Embedder) -> Shop:
    documents = [document for product in products if (document := document_for(product)) is not None]
    index = LocalSearchIndex()
    index.upsert(documents, vectors)
    return Shop(products, LiveCatalog(SearchService(index, embedder), ProductsInMemory(products)))


# --------------------------------------------------------------------------------------------------
# Running conversations
# --------------------------------------------------------------------------------------------------


def new_session(conversation: Conversation) -> ConversationSession:
    return ConversationSession(
        id=f"bench-{conversation.id}",
        user_id="bench-shopper",
        language=conversation.language,
        started_at=STARTED_AT,
        last_activity_at=STARTED_AT,
    )


def _merged(items: Sequence[str], more: Iterable[str]) -> list[str]:
    return list(dict.fromkeys([*items, *more]))


def after_turn(session: ConversationSession, message: str, reply: AdvisorReply) -> ConversationSession:
    """The session as the chat service stores it once the reply is given."""
    stamp = STARTED_AT.replace(minute=len(session.messages) // 2)
    messages = [
        *session.messages,
        ChatMessage(role=Role.USER, content=message, timestamp=stamp, intent=reply.intent),
        ChatMessage(
            role=Role.ASSISTANT,
            content=reply.text[:8000],
            timestamp=stamp,
            mentioned_products=reply.mentioned_products,
        ),
    ]
    return session.model_copy(
        update={
            "messages": messages,
            "message_count": len(messages),
            "language": reply.language,
            "preferences": reply.preferences,
            "needs": reply.needs,
            "shown_products": reply.shown_products or session.shown_products,
            "suggested_products": _merged(
                session.suggested_products, (r.product_id for r in reply.recommendations)
            ),
            "viewed_products": _merged(session.viewed_products, reply.viewed_products),
            "last_activity_at": stamp,
        }
    )


@dataclass
class TurnOutcome:
    conversation: Conversation
    number: int  # 1-based
    turn: ScenarioTurn
    before: ConversationSession
    reply: AdvisorReply
    seconds: float
    # Product data the reply may copy in the shop's language (names, notes, best-for lines); set by judge().
    shop_text: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"{self.conversation.id}#{self.number}"

    @property
    def language(self) -> Language:
        return self.turn.language or self.conversation.language


def play(advisor: Advisor, conversations: Sequence[Conversation]) -> list[TurnOutcome]:
    outcomes = []
    for conversation in conversations:
        session = new_session(conversation)
        for number, turn in enumerate(conversation.turns, start=1):
            started = time.perf_counter()
            reply = final_reply(advisor.respond(TurnContext(session=session, message=turn.message)))
            seconds = time.perf_counter() - started
            outcomes.append(TurnOutcome(conversation, number, turn, session, reply, seconds))
            session = after_turn(session, turn.message, reply)
    return outcomes


# --------------------------------------------------------------------------------------------------
# Judging outcomes
# --------------------------------------------------------------------------------------------------


def recommendation_problems(outcome: TurnOutcome, products: Mapping[str, Product]) -> list[str]:
    turn = outcome.turn
    problems = []
    for recommendation in outcome.reply.recommendations:
        reasons = constraint_violations(
            recommendation.type,
            products.get(recommendation.product_id),
            max_price=turn.max_price,
            min_price=turn.min_price,
            category=turn.category,
        )
        if reasons:
            problems.append(f"{recommendation.product_id} ({recommendation.type}): {', '.join(reasons)}")
    return problems


def spoken_of(outcome: TurnOutcome) -> list[str]:
    """Product ids the reply may speak of: what it shows, recommends, mentions, compares or details, and
    the cards on screen before the turn ("is it durable?" is about one of those)."""
    reply = outcome.reply
    return _merged(
        [*reply.shown_products, *(r.product_id for r in reply.recommendations), *reply.mentioned_products],
        [
            *reply.viewed_products,
            *(reply.comparison.product_ids if reply.comparison else []),
            *outcome.before.shown_products,
        ],
    )


def shopper_amounts(outcome: TurnOutcome) -> list[Money]:
    """Amounts the shopper wrote in this conversation (budgets, "at least €150"): a reply may repeat them."""
    messages = [m.content for m in outcome.before.messages if m.role == Role.USER] + [outcome.turn.message]
    budgets = [extract(message).budget for message in messages]
    return [
        Money(amount, budget.currency)
        for budget in budgets
        if budget is not None
        for amount in (budget.min_amount, budget.max_amount)
        if amount is not None
    ]


def grounding_problems(outcome: TurnOutcome, shop: Shop, brands: Sequence[str]) -> list[str]:
    products = shop.catalog.products(spoken_of(outcome))
    names = {product.id: product.name for product in shop.products}
    errors = find_grounding_errors(
        outcome.reply.text, products, names, allowed=shopper_amounts(outcome), brands=brands
    )
    return [f"{error.kind} {error.text!r}" for error in errors]


_QUOTED = re.compile(r'"[^"\n]*"|“[^”\n]*”|«[^»\n]*»')


def own_words(text: str, shop_text: Iterable[str]) -> str:
    """The reply's own words: without comparison-table rows ("- Price: ..."), quotes, and the shop's text."""
    kept = "\n".join(line for line in text.split("\n") if not line.lstrip().startswith("- "))
    kept = _QUOTED.sub(" ", kept)
    for copied in sorted({item.rstrip(".") for item in shop_text if item.strip()}, key=len, reverse=True):
        kept = kept.replace(copied, " ")
    return kept


def shop_text_of(products: Iterable[Product]) -> list[str]:
    return [
        text
        for product in products
        for text in (
            product.name,
            *product.ai_best_for,
            *product.ai_avoid_when,
            *product.ai_comparison_points.values(),
        )
    ]


@dataclass(frozen=True)
class BehaviourCheck:
    label: str
    applies: Callable[[TurnOutcome], bool]  # to which turns
    holds: Callable[[TurnOutcome], bool]
    shows: Callable[[TurnOutcome], object]  # what the reply did, for the failure list


def _always(_: TurnOutcome) -> bool:
    return True


def _asked_only(intent: Intent) -> Callable[[TurnOutcome], bool]:
    return lambda outcome: outcome.turn.intent == [intent]


BEHAVIOUR_CHECKS = [
    BehaviourCheck(
        "intent accuracy", _always, lambda o: o.reply.intent in o.turn.intent, lambda o: o.reply.intent
    ),
    BehaviourCheck(
        "recommends when it should",
        lambda o: o.turn.recommend is True,
        lambda o: bool(o.reply.recommendations),
        lambda o: "no recommendation",
    ),
    BehaviourCheck(
        "recommends nothing when it should not",
        lambda o: o.turn.recommend is False,
        lambda o: not o.reply.recommendations,
        lambda o: [r.product_id for r in o.reply.recommendations],
    ),
    BehaviourCheck(
        "asks a clarifying question when expected",
        lambda o: o.turn.clarify is True,
        lambda o: o.reply.question is not None,
        lambda o: "no question",
    ),
    BehaviourCheck(
        "no question when none is expected",
        lambda o: o.turn.clarify is False,
        lambda o: o.reply.question is None,
        lambda o: o.reply.question,
    ),
    BehaviourCheck(
        "gives a comparison when asked to compare",
        _asked_only(Intent.COMPARE),
        lambda o: o.reply.comparison is not None,
        lambda o: "no comparison",
    ),
    BehaviourCheck(
        "details a product when asked about one",
        _asked_only(Intent.PRODUCT_DETAILS),
        lambda o: bool(o.reply.viewed_products),
        lambda o: "no product detailed",
    ),
    BehaviourCheck(
        "reply language (the reply's field)",
        _always,
        lambda o: o.reply.language == o.language,
        lambda o: o.reply.language,
    ),
    BehaviourCheck(
        "reply language (detected in its own words)",
        _always,
        lambda o: detect_language(own_words(o.reply.text, o.shop_text)) == o.language,
        lambda o: (
            detect_language(own_words(o.reply.text, o.shop_text)),
            own_words(o.reply.text, o.shop_text)[:120],
        ),
    ),
]


@dataclass
class Judgement:
    outcome: TurnOutcome
    extraction: Extraction
    constraint_problems: list[str]
    grounding_problems: list[str]
    failures: list[str] = field(default_factory=list)


def judge(outcome: TurnOutcome, shop: Shop, brands: Sequence[str]) -> Judgement:
    outcome.shop_text = shop_text_of(shop.catalog.products(spoken_of(outcome)).values())
    read = extraction(outcome.turn.preferences, outcome.before.preferences, outcome.reply.preferences)
    judged = Judgement(
        outcome, read, recommendation_problems(outcome, shop.by_id), grounding_problems(outcome, shop, brands)
    )
    failures = judged.failures
    failures.extend(
        f"{check.label}: {check.shows(outcome)}"
        for check in BEHAVIOUR_CHECKS
        if check.applies(outcome) and not check.holds(outcome)
    )
    if read.missed:
        failures.append(f"missed {sorted(read.missed)}")
    if read.unexpected:
        failures.append(f"unexpected {sorted(read.unexpected)}")
    failures.extend(f"HARD CONSTRAINT {problem}" for problem in judged.constraint_problems)
    failures.extend(f"GROUNDING {problem}" for problem in judged.grounding_problems)
    return judged


# --------------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------------


def print_extraction(judgements: Sequence[Judgement]) -> None:
    by_field: dict[str, Counts] = {}
    overall = Counts()
    for judged in judgements:
        for name, counts in judged.extraction.counts_by_field().items():
            by_field.setdefault(name, Counts()).add(counts)
            overall.add(counts)
    print("\nPREFERENCE EXTRACTION (values per turn: expected vs read)")
    print(f"  {'field':<16} {'precision':>9} {'recall':>7} {'tp':>5} {'fp':>4} {'fn':>4}")
    for name, counts in [*sorted(by_field.items()), ("overall", overall)]:
        print(
            f"  {name:<16} {counts.precision:>9.1%} {counts.recall:>7.1%} {counts.true_positives:>5} "
            f"{counts.false_positives:>4} {counts.false_negatives:>4}"
        )


def print_behaviour(judgements: Sequence[Judgement]) -> None:
    outcomes = [judged.outcome for judged in judgements]
    print("\nBEHAVIOUR")
    for check in BEHAVIOUR_CHECKS:
        chosen = [outcome for outcome in outcomes if check.applies(outcome)]
        print(f"  {check.label:<42} {rate(sum(check.holds(outcome) for outcome in chosen), len(chosen))}")


def print_hard_checks(title: str, judgements: Sequence[Judgement]) -> tuple[int, int]:
    """Prints constraint and grounding figures; returns (constraint violations, grounding errors)."""
    recommended = sum(len(judged.outcome.reply.recommendations) for judged in judgements)
    violations = sum(len(judged.constraint_problems) for judged in judgements)
    grounding = sum(len(judged.grounding_problems) for judged in judgements)
    grounded_turns = sum(not judged.grounding_problems for judged in judgements)
    print(f"\n{title}")
    print(f"  recommendations meeting every hard constraint  {rate(recommended - violations, recommended)}")
    print(f"  replies without a grounding error              {rate(grounded_turns, len(judgements))}")
    print(f"  grounding errors                               {grounding}")
    for judged in judgements:
        for problem in judged.constraint_problems:
            print(f"    HARD CONSTRAINT {judged.outcome.label}: {problem}")
        for problem in judged.grounding_problems:
            print(f"    GROUNDING {judged.outcome.label}: {problem}  <- {judged.outcome.reply.text[:160]!r}")
    return violations, grounding


def print_failures(judgements: Sequence[Judgement], verbose: bool) -> None:
    failing = [judged for judged in judgements if judged.failures]
    print(f"\nTURNS WITH A FAILED EXPECTATION: {len(failing)} of {len(judgements)}")
    if not verbose:
        if failing:
            print("  (--verbose lists them)")
        return
    for judged in failing:
        outcome = judged.outcome
        print(f"  {outcome.label} {outcome.turn.message!r}")
        for failure in judged.failures:
            print(f"      - {failure}")
        print(f"      reply: {outcome.reply.text[:200]!r}")


def latency_line(size: int, seconds: Sequence[float]) -> str:
    return (
        f"  {size:>6} products: p50 {percentile(seconds, 0.5) * 1000:6.1f} ms   "
        f"p95 {percentile(seconds, 0.95) * 1000:6.1f} ms   max {max(seconds) * 1000:6.1f} ms   "
        f"({len(seconds)} turns)"
    )


def timed_passes(advisor: Advisor, conversations: Sequence[Conversation], passes: int) -> list[float]:
    return [outcome.seconds for _ in range(passes) for outcome in play(advisor, conversations)]


# --------------------------------------------------------------------------------------------------


def main() -> int:
    from talkshop.advisor.engine import RulesAdvisor

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--verbose", action="store_true", help="list every failing turn with its reasons")
    parser.add_argument(
        "--quick", action="store_true", help=f"{QUICK_CATALOG} products instead of 10k, one timed pass"
    )
    parser.add_argument("--passes", type=int, default=3, help="timed passes over the suite per catalog size")
    parser.add_argument("--embed", action="store_true", help="embed every variant with MiniLM (cached)")
    args = parser.parse_args()
    if os.environ.get("OPENBLAS_NUM_THREADS") != "1":
        print("note: run with OPENBLAS_NUM_THREADS=1 for the reference figures", file=sys.stderr)
    started = time.perf_counter()
    suite = load_scenarios()
    conversations = suite.conversations
    turns = sum(len(conversation.turns) for conversation in conversations)
    embedder = MiniLMEmbedder()
    embedder.embed_query("warm up")

    templates = demo_products()
    demo = build_shop(templates, template_vectors(templates, load_demo_vectors()), embedder)
    brands = demo.catalog.brands()
    advisor = RulesAdvisor(demo.catalog)
    print(f"{len(conversations)} conversations, {turns} turns, demo catalog of {len(templates)} products")
    judgements = [judge(outcome, demo, brands) for outcome in play(advisor, conversations)]
    print_extraction(judgements)
    print_behaviour(judgements)
    violations, grounding = print_hard_checks("HARD CONSTRAINTS AND GROUNDING (demo catalog)", judgements)
    print_failures(judgements, args.verbose)

    passes = 1 if args.quick else args.passes
    size = QUICK_CATALOG if args.quick else LARGE_CATALOG
    print(f"\nLATENCY of one turn, in-process, warm ({passes} timed passes over the suite)")
    print(latency_line(len(templates), timed_passes(advisor, conversations, passes)))
    building = time.perf_counter()
    products = synthetic_products(templates, size)
    known = embedded_vectors(products, embedder, CACHE / "advisor-vectors.npz") if args.embed else {}
    large = build_shop(products, template_vectors(products, {**load_demo_vectors(), **known}), embedder)
    large_advisor = RulesAdvisor(large.catalog)
    print(f"  (catalog of {size} products built in {time.perf_counter() - building:.1f} s)")
    large_outcomes = play(large_advisor, conversations)  # the warm-up pass, checked for hard constraints
    print(latency_line(size, timed_passes(large_advisor, conversations, passes)))
    large_violations = 0
    by_id = large.by_id
    for outcome in large_outcomes:
        for problem in recommendation_problems(outcome, by_id):
            large_violations += 1
            print(f"    HARD CONSTRAINT at {size}: {outcome.label}: {problem}")
    recommended = sum(len(outcome.reply.recommendations) for outcome in large_outcomes)
    print(
        f"  recommendations meeting every hard constraint at {size}: "
        f"{rate(recommended - large_violations, recommended)}"
    )
    print(f"\nTotal {time.perf_counter() - started:.0f} s")
    return 1 if violations or grounding or large_violations else 0


if __name__ == "__main__":
    sys.exit(main())
