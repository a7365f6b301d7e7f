"""`talkshop simulate`: seeded chat and storefront shoppers driven through the local runtime.

Every step is an HTTP request to the same handlers a browser or a platform integration reaches: in
this process through `talkshop.local.invoke` on a `LocalAws` data dir (each state-changing request
then persisted, indexed and published to the local bus exactly as `talkshop local` does), or against a
running `talkshop local` over HTTP. Nothing is written around the API, so what the analytics see is
what real shoppers would leave behind.

Determinism: shopper *i* draws every choice from its own `random.Random` seeded with (seed, i), and
reacts only to what the API answered (the products suggested, a checkout offered, a declined payment),
which the rules engine and the search decide deterministically from the same catalog. The same seed on
a fresh data dir therefore gives the same conversations, the same orders and the same figures; only
ids and timestamps differ (they come from the services, which use the wall clock). `Outcome.digest`
fingerprints the run without them.

Chat shoppers start a chat on a platform (web, ChatGPT, Claude, Gemini) in English, Spanish, French or
Portuguese, ask for a product with a budget, level or style, follow up (refine, compare, details,
objections, a discount code, now and then something the shop cannot answer), and then buy the first
suggestion ("I'll take the first one": the chat's checkout, paid with `spt_test_ok`, sometimes declined
with `spt_test_decline` and retried), leave feedback with a satisfaction score, or just leave. Those who
leave without feedback are abandoned chats: after the run the chat sweep is run once with its clock 31
minutes ahead (in-process only), which is what the scheduled sweep does half an hour later.

Storefront shoppers search the shop (`GET /store?q=`) or browse a category, open a product page, press
Buy now (`POST /store/buy`: a storefront cart and a new shopper) and pay (`POST /api/checkout`); some
leave after the search, the product page or the cart.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any, Protocol, TypeVar
from urllib.parse import quote, urlencode

from talkshop.advisor.model import IDLE_MINUTES_BEFORE_ABANDONED
from talkshop.analytics.simulate_phrases import (
    BUYING,
    FOLLOW_UP_WEIGHTS,
    FOLLOW_UPS,
    GREETINGS,
    NEEDS,
    OPENINGS,
    STORE_MISSES,
    STORE_QUERIES,
    Need,
    bare,
)
from talkshop.clock import utc_now

if TYPE_CHECKING:
    from talkshop.local.runtime import LocalAws

# Who the chat shoppers are, relative weights: where they chat and in which language.
PLATFORMS = {"web": 40, "chatgpt": 30, "claude": 15, "gemini": 15}
LANGUAGE_WEIGHTS = {"en": 50, "es": 25, "fr": 13, "pt": 12}
PAYMENT_OK = "spt_test_ok"
PAYMENT_DECLINED = "spt_test_decline"
MAX_TRADITIONAL_SHARE = 0.9

# Chance that a chat shopper, having seen products, buys the first one; that a payment is declined; that
# a declined shopper tries again with a card that works; that feedback is given after buying or not.
CHAT_BUY = 0.38
DECLINE = 0.08
RETRY_AFTER_DECLINE = 0.6
FEEDBACK_AFTER_ORDER = 0.7
FEEDBACK_WITHOUT_ORDER = 0.4
# Storefront: a search for something the shop lacks, a browse instead of a search, opening a product,
# looking at a second one, pressing Buy now, then paying.
STORE_MISS = 0.05
STORE_BROWSE = 0.2
STORE_OPEN = 0.8
STORE_SECOND_LOOK = 0.25
STORE_BUY = 0.35
STORE_PAY = 0.85

_STORE_PRODUCT_LINK = re.compile(r'href="/products/([A-Za-z0-9][A-Za-z0-9_.:-]*)\?from=store"')
_CHECKOUT_LOCATION = re.compile(r"/checkout/(crt_[A-Za-z0-9]+)")
_SHOPPER_COOKIE = re.compile(r"talkshop_shopper=(tsh_[^;]+)")


@dataclass(frozen=True)
class Answer:
    status: int
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body or b"null")


class Transport(Protocol):
    """One HTTP request to the shop, answered."""

    def __call__(
        self, method: str, path: str, *, query: str = "", headers: Mapping[str, str], body: bytes | None
    ) -> Answer: ...


class InProcess:
    """The handlers in this process through the local gateway's `invoke`, under the runtime's lock,
    with each state-changing request persisted (journal, search index, local bus) before the next one,
    as `talkshop local` serves them."""

    def __init__(self, aws: LocalAws) -> None:
        self.aws = aws

    def __call__(
        self, method: str, path: str, *, query: str = "", headers: Mapping[str, str], body: bytes | None
    ) -> Answer:
        from talkshop.local.invoke import invoke
        from talkshop.local.server import READ_ONLY_METHODS

        with self.aws.lock:
            result = invoke(method, path, query_string=query, headers=dict(headers), body=body)
            if method not in READ_ONLY_METHODS:
                self.aws.persist()
        return Answer(result.status, result.headers, result.body)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # a 303 is an answer to read (its Location and cookie), not to follow


class OverHttp:
    """A running `talkshop local` (or any deployment of the API and pages) at `base_url`."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        self._opener = urllib.request.build_opener(_NoRedirects)

    def __call__(
        self, method: str, path: str, *, query: str = "", headers: Mapping[str, str], body: bytes | None
    ) -> Answer:
        url = f"{self.base_url}{path}" + (f"?{query}" if query else "")
        request = urllib.request.Request(url, data=body, method=method, headers=dict(headers))  # noqa: S310
        try:
            with self._opener.open(request, timeout=120) as response:
                return Answer(response.status, dict(response.headers.items()), response.read())
        except urllib.error.HTTPError as error:
            return Answer(error.code, dict(error.headers.items()), error.read())


@dataclass
class Outcome:
    """What a run did, counted from the API's answers (not from the analytics it feeds)."""

    conversations: int = 0
    chat_messages: int = 0
    chat_orders: int = 0
    chat_revenue: int = 0
    store_visits: int = 0
    store_orders: int = 0
    store_revenue: int = 0
    declined_payments: int = 0
    feedback: int = 0
    left_without_feedback: int = 0
    refused: Counter[str] = field(default_factory=Counter)  # error code → how many answers had it
    platforms: Counter[str] = field(default_factory=Counter)
    languages: Counter[str] = field(default_factory=Counter)
    abandoned_chats: int = 0
    seconds: float = 0.0
    # The UTC days the run's events fall on (services stamp them with the wall clock).
    first_day: date = field(default_factory=lambda: utc_now().date())
    last_day: date = field(default_factory=lambda: utc_now().date())
    # Every shopper's steps without ids or times: (shopper, step, what was said or done, status, detail).
    steps: list[tuple[Any, ...]] = field(default_factory=list)

    @property
    def digest(self) -> str:
        """A fingerprint of the run that two runs with the same seed share."""
        return hashlib.sha256(json.dumps(self.steps, ensure_ascii=False).encode()).hexdigest()[:16]

    def summary(self) -> str:
        refused = ", ".join(f"{code} {count}" for code, count in sorted(self.refused.items())) or "none"
        return "\n".join(
            (
                f"Chat: {self.conversations} conversations ({_counts(self.platforms)}; "
                f"{_counts(self.languages)}), {self.chat_messages} messages, {self.chat_orders} orders, "
                f"revenue {self.chat_revenue / 100:.2f} EUR; feedback {self.feedback}, "
                f"left without feedback {self.left_without_feedback}, abandoned {self.abandoned_chats}.",
                f"Storefront: {self.store_visits} visits, {self.store_orders} orders, "
                f"revenue {self.store_revenue / 100:.2f} EUR.",
                f"Declined payments {self.declined_payments}; refusals: {refused}.",
                f"Run {self.digest} in {self.seconds:.1f}s.",
            )
        )


def _counts(counter: Counter[str]) -> str:
    return " ".join(f"{name} {count}" for name, count in sorted(counter.items()))


_T = TypeVar("_T")


def _weighted(rng: random.Random, weights: Mapping[_T, int]) -> _T:
    choices = list(weights)
    return rng.choices(choices, weights=[weights[choice] for choice in choices])[0]


def _need(rng: random.Random) -> Need:
    return rng.choices(NEEDS, weights=[need.weight for need in NEEDS])[0]


def _shopper_rng(seed: int, index: int) -> random.Random:
    # A string seed is hashed (SHA-512) by random, the same on every platform and Python version.
    return random.Random(f"talkshop-simulate:{seed}:{index}")  # noqa: S311 - a simulation, not a secret


class Shop:
    """The requests a shopper makes, in the API's and the pages' terms."""

    def __init__(self, transport: Transport) -> None:
        self.transport = transport

    def api(self, method: str, path: str, body: Any, token: str | None = None) -> Answer:
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return self.transport(method, path, headers=headers, body=json.dumps(body).encode())

    def page(self, path: str, query: str = "") -> Answer:
        return self.transport("GET", path, query=query, headers={"Accept": "text/html"}, body=None)

    def form(self, path: str, fields: Mapping[str, str]) -> Answer:
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        return self.transport("POST", path, headers=headers, body=urlencode(fields).encode())


_PAGE_ERROR_CODE = re.compile(r'data-error-code="([^"]*)"')


def _error_code(answer: Answer) -> str:
    """The refusal's code: from the JSON error body, or from an error page (the storefront's forms)."""
    try:
        return str(answer.json()["error"]["code"])
    except (ValueError, KeyError, TypeError):
        page = _PAGE_ERROR_CODE.search(answer.body.decode(errors="replace"))
        return page.group(1) if page else f"http_{answer.status}"


class _Shopper:
    """One simulated shopper: their random choices, the shop and where to record what happened."""

    def __init__(self, index: int, rng: random.Random, shop: Shop, outcome: Outcome) -> None:
        self.index = index
        self.rng = rng
        self.shop = shop
        self.outcome = outcome

    def step(self, name: str, what: str, answer: Answer, detail: Any = None) -> None:
        if answer.status >= 400:
            self.outcome.refused[_error_code(answer)] += 1
        self.outcome.steps.append((self.index, name, what, answer.status, detail))

    def pay(self, cart_id: str, token: str, source: str) -> dict[str, Any] | None:
        """Check out with the test provider; a declined card is retried with one that works, or not.
        The order placed, if any."""
        payment = PAYMENT_DECLINED if self.rng.random() < DECLINE else PAYMENT_OK
        while True:
            answer = self.shop.api(
                "POST", "/api/checkout", {"cartId": cart_id, "paymentToken": payment}, token
            )
            order = answer.json() if answer.status == 201 else None
            self.step("checkout", payment, answer, order and order["total"])
            if order is not None:
                if source == "chat":
                    self.outcome.chat_orders += 1
                    self.outcome.chat_revenue += int(order["total"])
                else:
                    self.outcome.store_orders += 1
                    self.outcome.store_revenue += int(order["total"])
                return dict(order)
            if answer.status != 402:
                return None
            self.outcome.declined_payments += 1
            if payment == PAYMENT_OK or self.rng.random() >= RETRY_AFTER_DECLINE:
                return None
            payment = PAYMENT_OK


class _ChatShopper(_Shopper):
    def run(self) -> None:
        rng = self.rng
        platform = _weighted(rng, PLATFORMS)
        language = _weighted(rng, LANGUAGE_WEIGHTS)
        need = _need(rng)
        started = self.shop.api("POST", "/api/chat/session", {"platform": platform, "language": language})
        self.step("start", f"{platform}/{language}", started)
        if started.status != 201:
            return
        self.outcome.conversations += 1
        self.outcome.platforms[platform] += 1
        self.outcome.languages[language] += 1
        chat = started.json()
        self.session_id, self.token = str(chat["id"]), str(chat["shopperToken"])
        self.turn = 0
        self.recommended: list[str] = []
        if rng.random() < 0.15:
            self.say(rng.choice(GREETINGS[language]))
        opening = rng.choice(OPENINGS[language]).format(
            noun=need.nouns[language],
            qualifier=rng.choice(need.qualifiers[language]),
            budget=rng.choice(need.budgets),
        )
        suggested = self.say(" ".join(opening.split()))
        said: set[str] = set()
        for _ in range(rng.choice((0, 1, 1, 2, 2, 3, 4))):
            unsaid = [
                text for text in FOLLOW_UPS[_weighted(rng, FOLLOW_UP_WEIGHTS)][language] if text not in said
            ]
            if unsaid:  # people do not ask the same thing twice
                said.add(message := rng.choice(unsaid))
                suggested = self.say(message) or suggested
        bought: str | None = None
        if suggested and rng.random() < CHAT_BUY:
            bought = self.buy(rng.choice(BUYING[language]))
        if rng.random() < (FEEDBACK_AFTER_ORDER if bought else FEEDBACK_WITHOUT_ORDER):
            self.feedback(bought)
        else:
            self.outcome.left_without_feedback += 1

    def say(self, message: str) -> list[str]:
        """Send a message; the ids of the products the reply suggests."""
        self.turn += 1
        answer = self.shop.api(
            "POST",
            "/api/chat/message",
            {"sessionId": self.session_id, "message": message, "clientMessageId": f"sim-{self.turn}"},
            self.token,
        )
        reply = answer.json() if answer.status == 200 else {}
        suggested = [card["id"] for card in reply.get("suggestedProducts", [])]
        self.recommended += [
            item["productId"]
            for item in reply.get("recommendations", [])
            if item["productId"] not in self.recommended
        ]
        self.last_checkout = reply.get("checkout")
        self.step("message", message, answer, suggested)
        if answer.status == 200:
            self.outcome.chat_messages += 1
        return suggested

    def buy(self, message: str) -> str | None:
        """Ask to buy; pay the chat's checkout when the advisor opens one. The product bought, if any."""
        self.say(message)
        checkout = self.last_checkout
        if not checkout:
            return None
        order = self.pay(str(checkout["cartId"]), self.token, "chat")
        return str(order["lines"][0]["productId"]) if order else None

    def feedback(self, bought: str | None) -> None:
        rng = self.rng
        satisfaction = rng.choice((3, 4, 5, 5, 5) if bought else (1, 2, 3, 3, 4))
        reactions = []
        for product_id in self.recommended[:3]:
            if product_id == bought:
                reactions.append({"productId": product_id, "reaction": "purchased"})
            elif rng.random() < 0.5:
                reactions.append(
                    {"productId": product_id, "reaction": rng.choice(("interested", "dismissed"))}
                )
        answer = self.shop.api(
            "POST",
            f"/api/chat/session/{self.session_id}/feedback",
            {"satisfaction": satisfaction, "reactions": reactions},
            self.token,
        )
        self.step("feedback", str(satisfaction), answer, [item["reaction"] for item in reactions])
        if answer.status == 200:
            self.outcome.feedback += 1


class _StoreShopper(_Shopper):
    def run(self) -> None:
        rng = self.rng
        self.outcome.store_visits += 1
        need = _need(rng)
        if rng.random() < STORE_BROWSE:
            listing = self.shop.page("/store", f"category={need.category}")
            self.step("browse", need.category, listing)
        else:
            words = (
                rng.choice(STORE_MISSES)
                if rng.random() < STORE_MISS
                else rng.choice(STORE_QUERIES).format(
                    noun=bare(need.nouns["en"]),
                    qualifier=rng.choice(need.qualifiers["en"]),
                    budget=rng.choice(need.budgets),
                )
            )
            listing = self.shop.page("/store", f"q={quote(words)}")
            self.step("search", words, listing)
        found = list(dict.fromkeys(_STORE_PRODUCT_LINK.findall(listing.body.decode(errors="replace"))))
        self.outcome.steps[-1] = (*self.outcome.steps[-1][:4], found[:5])
        if not found or rng.random() >= STORE_OPEN:
            return
        # Shoppers look near the top of a list: the first result most often.
        chosen = found[min(int(rng.expovariate(1.0)), len(found) - 1)]
        self.step("product", chosen, self.shop.page(f"/products/{chosen}", "from=store"))
        if len(found) > 1 and rng.random() < STORE_SECOND_LOOK:
            other = rng.choice([product for product in found[:6] if product != chosen])
            self.step("product", other, self.shop.page(f"/products/{other}", "from=store"))
            if rng.random() < 0.5:
                chosen = other
        if rng.random() >= STORE_BUY:
            return
        bought = self.shop.form(
            "/store/buy", {"productId": chosen, "quantity": str(rng.choice((1, 1, 1, 2)))}
        )
        self.step("buy", chosen, bought)
        cart = _CHECKOUT_LOCATION.search(bought.headers.get("Location", ""))
        token = _SHOPPER_COOKIE.search(bought.headers.get("Set-Cookie", ""))
        if bought.status != 303 or not cart or not token or rng.random() >= STORE_PAY:
            return
        self.pay(cart.group(1), token.group(1), "store")


def plan(conversations: int, traditional_share: float) -> list[bool]:
    """Which shoppers are storefront shoppers (True), in order: `conversations` chat shoppers and as
    many storefront shoppers as make `traditional_share` of everyone, spread evenly through the run."""
    if not 0 <= traditional_share <= MAX_TRADITIONAL_SHARE:
        raise ValueError(f"traditional_share must be between 0 and {MAX_TRADITIONAL_SHARE}")
    storefront = round(conversations * traditional_share / (1 - traditional_share))
    total = conversations + storefront
    # Bresenham-style spreading: shopper i is a storefront shopper when the running share crosses a unit.
    return [(i + 1) * storefront // total > i * storefront // total for i in range(total)] if total else []


def simulate(
    transport: Transport,
    conversations: int,
    seed: int,
    traditional_share: float = 0.3,
    progress: Callable[[int, int], None] | None = None,
) -> Outcome:
    """Run the shoppers one after the other through `transport`."""
    outcome = Outcome()
    started = time.monotonic()
    shop = Shop(transport)
    shoppers = plan(conversations, traditional_share)
    for index, storefront in enumerate(shoppers):
        kind = _StoreShopper if storefront else _ChatShopper
        kind(index, _shopper_rng(seed, index), shop, outcome).run()
        if progress:
            progress(index + 1, len(shoppers))
    outcome.seconds = time.monotonic() - started
    outcome.last_day = utc_now().date()
    return outcome


def sweep_idle_chats_now(aws: LocalAws) -> int:
    """Run the chat sweep with its clock past the idle limit, as the schedule would half an hour after the
    run: chats left without feedback become abandoned (chat_abandoned events). Returns how many."""
    from talkshop.advisor.service import ChatSessions
    from talkshop.advisor.store import ConversationStore
    from talkshop.api.context import repository

    ahead = timedelta(minutes=IDLE_MINUTES_BEFORE_ABANDONED + 1)
    with aws.lock:
        abandoned = ChatSessions(
            ConversationStore(repository()), clock=lambda: utc_now() + ahead
        ).sweep_abandoned()
        aws.persist()
    return len(abandoned)


def load_demo_catalog_if_empty(aws: LocalAws) -> bool:
    """What `talkshop local` does on a fresh data dir; True when it loaded the catalog."""
    if not aws.fresh:
        return False
    from talkshop.api.context import catalog
    from talkshop.catalog.importer import CatalogImporter
    from talkshop.local.runtime import demo_catalog_path

    with aws.lock:
        CatalogImporter(catalog()).import_file(demo_catalog_path())
        aws.persist()
    return True


def simulate_in_process(
    aws: LocalAws,
    conversations: int,
    seed: int,
    traditional_share: float = 0.3,
    progress: Callable[[int, int], None] | None = None,
) -> Outcome:
    """The whole run on a started `LocalAws`: the demo catalog if the data dir was empty, the shoppers,
    then the sweep that abandons the chats they left."""
    load_demo_catalog_if_empty(aws)
    outcome = simulate(InProcess(aws), conversations, seed, traditional_share, progress)
    outcome.abandoned_chats = sweep_idle_chats_now(aws)
    outcome.last_day = (utc_now() + timedelta(minutes=IDLE_MINUTES_BEFORE_ABANDONED + 1)).date()
    return outcome


def headline_figures(outcome: Outcome) -> str:
    """What the dashboards now show for the run's days, read as they read it (metric items only)."""
    from talkshop.analytics.metrics import figures
    from talkshop.analytics.model import MetricsQuery
    from talkshop.api.context import repository

    found = figures(repository(), MetricsQuery(start=outcome.first_day, end=outcome.last_day))

    def rate(value: float | None) -> str:
        return "n/a" if value is None else f"{value:.1%}"

    def money(value: float | None) -> str:
        return "n/a" if value is None else f"{value / 100:.2f} {found.currency}"

    return (
        f"Dashboard {outcome.first_day}..{outcome.last_day}: {found.conversations} conversations, "
        f"conversion chat {rate(found.chat_conversion)} vs storefront {rate(found.traditional_conversion)}, "
        f"AOV chat {money(found.aov_chat)} vs storefront {money(found.aov_traditional)}, "
        f"conversational revenue {money(found.chat_revenue)}, satisfaction "
        f"{'n/a' if found.satisfaction_avg is None else f'{found.satisfaction_avg:.2f}'}, "
        f"{found.abandoned} abandoned."
    )


__all__: Sequence[str] = (
    "Answer",
    "InProcess",
    "Outcome",
    "OverHttp",
    "Transport",
    "headline_figures",
    "plan",
    "simulate",
    "simulate_in_process",
    "sweep_idle_chats_now",
)
