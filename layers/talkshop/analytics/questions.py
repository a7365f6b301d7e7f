"""The most common questions shoppers ask about each product, clustered when a dashboard asks.

Metric items never hold message text, so the questions are read from the chats themselves at query
time and shown only to the product's creator (and the admin): the latest MAX_CHATS chats that
recommended one of the creator's products in the date range asked (their recommendations, listed by
creator and creation time, are read newest first from the range's end, so an old range is sampled as
well as a recent one; at most MAX_RECOMMENDATIONS_READ of them), then those chats started in the range
on the platform asked, leaving out the chats of shoppers who opted out of analytics. A shopper message is a
question about a product when it reads as a question (a `?`, or the advisor read it as a question
about details, an objection or a comparison) and the answer to it named the product (or, when the
answer named no product at all, the cards shown just before it did).

Clustering is plain and deterministic: each question becomes a set of folded, stemmed content words
(stop words of the four chat languages dropped); a question joins the first cluster whose words it
shares enough of (Jaccard similarity), largest clusters first. A cluster is shown by its most common
wording, with e-mail addresses, links and long numbers masked, and counted in chats, not messages.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from itertools import islice

from pydantic import BaseModel

from talkshop.advisor.intents import Intent
from talkshop.advisor.model import ChatMessage, ConversationSession, Role
from talkshop.advisor.store import ConversationStore
from talkshop.data.repository import Repository, by_owner, created_between
from talkshop.ontology.model import ThingType

MAX_CHATS = 200
# A chat recommends several products in several turns: the recommendations read to find MAX_CHATS chats
# are bounded too, so a dashboard's read stays bounded however busy the range was.
MAX_RECOMMENDATIONS_READ = 10 * MAX_CHATS
MAX_QUESTIONS_PER_PRODUCT = 5
SIMILARITY = 0.5
MAX_QUESTION_CHARS = 160
QUESTION_INTENTS = frozenset({Intent.PRODUCT_DETAILS, Intent.OBJECTION, Intent.COMPARE})

_STOP_WORDS_TEXT = """
    a an the is are was were be been am do does did can could would should will shall may might must i
    me my we our you your it its this that these those there here of to in on at for with by from as and
    or but if so than then about into over under very really just also too any some what which who whom
    how when where why please tell know want need think have has had get got one ones
    el la los las un una unos unas es son fue ser de del al en con por para que qué como cómo cuál cual
    cuales y o pero si no mi mis tu tus su sus se lo le les me te nos esto esta este eso esa ese hay muy
    le la les un une des du de et ou est sont pour avec sans que qui quoi comment quel quelle quels mon
    ma mes ton ta tes son sa ses ce cet cette il elle on je tu nous vous ils elles pas ne y en au aux
    o a os as um uma uns umas é são de do da dos das em no na nos nas com por para que como qual quais
    e ou mas se não meu minha teu tua seu sua isso isto este esta esse essa há muito
"""
_STOP_WORDS = frozenset(_STOP_WORDS_TEXT.split())
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_MASKS = (
    (re.compile(r"\S+@\S+\.\S+"), "[email]"),
    (re.compile(r"https?://\S+|www\.\S+"), "[link]"),
    (re.compile(r"\+?\d[\d\s().-]{5,}\d"), "[number]"),
)


class QuestionCluster(BaseModel):
    question: str  # the cluster's most common wording, personal details masked
    chats: int  # how many chats asked it


class ProductQuestions(BaseModel):
    product_id: str
    questions: list[QuestionCluster]


@dataclass(frozen=True)
class Asked:
    """One question of one chat about one product."""

    chat_id: str
    product_id: str
    text: str


@dataclass
class _Cluster:
    words: frozenset[str]
    chats: set[str] = field(default_factory=set)
    wordings: Counter[str] = field(default_factory=Counter)


def fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


_FOLDED_STOP_WORDS = frozenset(fold(word) for word in _STOP_WORDS)


def _stem(word: str) -> str:
    """A light plural/verb-ending trim so that "rackets"/"racket" and "fits"/"fit" meet."""
    for suffix in ("ing", "es", "s"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def question_words(text: str) -> frozenset[str]:
    """The content words of a question: folded, stemmed, without stop words."""
    return frozenset(
        _stem(word)
        for word in _WORD.findall(fold(text))
        if word not in _FOLDED_STOP_WORDS and len(word) > 1 and not word.isdigit()
    )


def mask(text: str) -> str:
    """The question as shown: one line, personal details (e-mails, links, phone-like numbers) masked."""
    shown = " ".join(text.split())
    for pattern, replacement in _MASKS:
        shown = pattern.sub(replacement, shown)
    return shown if len(shown) <= MAX_QUESTION_CHARS else shown[: MAX_QUESTION_CHARS - 1].rstrip() + "…"


def is_question(message: ChatMessage) -> bool:
    return message.role == Role.USER and ("?" in message.content or message.intent in QUESTION_INTENTS)


def _named_by(message: ChatMessage | None) -> list[str]:
    if message is None or message.role != Role.ASSISTANT:
        return []
    return list(dict.fromkeys([*message.mentioned_products, *message.shown_products]))


def questions_in(session: ConversationSession, product_ids: Collection[str]) -> list[Asked]:
    """The questions of one chat about these products."""
    asked = []
    messages = session.messages
    for index, message in enumerate(messages):
        if not is_question(message):
            continue
        answer = messages[index + 1] if index + 1 < len(messages) else None
        before = messages[index - 1] if index > 0 else None
        # An answer naming no product at all ("it weighs 345 g") speaks of the cards shown before.
        named = _named_by(answer) or _named_by(before)
        about = [product_id for product_id in named if product_id in product_ids]
        asked += [Asked(session.id, product_id, message.content) for product_id in about]
    return asked


def cluster(asked: Iterable[Asked], limit: int = MAX_QUESTIONS_PER_PRODUCT) -> list[QuestionCluster]:
    """Questions about one product grouped by their words, most asked (in chats) first."""
    clusters: list[_Cluster] = []
    # The most frequent wordings seed the clusters, so a cluster's centre is a common question.
    by_words: dict[frozenset[str], list[Asked]] = {}
    for one in asked:
        words = question_words(one.text)
        if words:
            by_words.setdefault(words, []).append(one)
    for words, group in sorted(by_words.items(), key=lambda item: (-len(item[1]), sorted(item[0]))):
        home = next((c for c in clusters if len(words & c.words) / len(words | c.words) >= SIMILARITY), None)
        if home is None:
            home = _Cluster(words)
            clusters.append(home)
        for one in group:
            home.chats.add(one.chat_id)
            home.wordings[mask(one.text)] += 1
    ranked = sorted(clusters, key=lambda c: (-len(c.chats), min(c.wordings)))
    return [
        QuestionCluster(
            question=sorted(c.wordings.items(), key=lambda item: (-item[1], len(item[0]), item[0]))[0][0],
            chats=len(c.chats),
        )
        for c in ranked[:limit]
    ]


def common_questions(
    sessions: Sequence[ConversationSession],
    product_ids: Collection[str],
    *,
    start: date,
    end: date,
    platform: str | None = None,
    counted: Callable[[Iterable[str]], Collection[str]] = set,
) -> list[ProductQuestions]:
    """Per product (in `product_ids` order) its most common questions in the chats started between
    `start` and `end` (UTC days, included) on `platform`; `counted(user_ids)` names the shoppers whose
    chats may be read (the others opted out of analytics)."""
    chosen = [
        session
        for session in sessions
        if start <= session.started_at.date() <= end and (platform is None or session.platform == platform)
    ]
    allowed = set(counted({session.user_id for session in chosen}))
    by_product: dict[str, list[Asked]] = {product_id: [] for product_id in product_ids}
    for session in sorted(chosen, key=lambda s: s.id):
        if session.user_id in allowed:
            for one in questions_in(session, by_product.keys()):
                by_product[one.product_id].append(one)
    return [
        ProductQuestions(product_id=product_id, questions=cluster(asked))
        for product_id, asked in by_product.items()
    ]


def chats_to_read(
    repository: Repository, creator_id: str, product_ids: Collection[str], *, start: date, end: date
) -> list[ConversationSession]:
    """The chats a dashboard reads for questions about these products of the creator: the latest
    MAX_CHATS that recommended one of them between `start` and `end` (UTC days, included). A chat that
    started before the range but recommended in it is read too; `common_questions` leaves it out."""
    recommended = created_between(
        replace(by_owner(creator_id, ThingType.AI_RECOMMENDATION), newest_first=True),
        datetime.combine(start, time.min, UTC),
        datetime.combine(end + timedelta(days=1), time.min, UTC),
    )
    chat_ids: dict[str, None] = {}
    for stored in islice(repository.iterate(recommended), MAX_RECOMMENDATIONS_READ):
        if stored.data.get("product_id") in product_ids:
            chat_ids.setdefault(str(stored.data["conversation_id"]))
            if len(chat_ids) == MAX_CHATS:
                break
    return ConversationStore(repository).sessions(list(chat_ids))
