"""Helpers of the commerce tests: products and shoppers in the table, the checkout flow run in-process in
the state machine's order, and moto made as atomic per request as DynamoDB is."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import moto.dynamodb.models as dynamodb_models

from talkshop.advisor.model import ConversationSession
from talkshop.advisor.store import ConversationStore
from talkshop.api.observability import metrics
from talkshop.auth import ADMIN, generate_shopper_token
from talkshop.catalog.creators import CreatorService
from talkshop.catalog.model import Product, ProductInput
from talkshop.catalog.service import CatalogService
from talkshop.clock import utc_now
from talkshop.commerce.checkout_steps import (
    AFTER_ORDER,
    BEFORE_ORDER,
    COMPENSATIONS,
    FORWARD_STEPS,
    CheckoutState,
    CheckoutStepError,
    Step,
)
from talkshop.commerce.model import Failure
from talkshop.data.repository import Repository


def add_product(
    repository: Repository,
    product_id: str,
    *,
    price: int = 5000,
    stock: int = 10,
    creator_id: str = "padelnest",
    currency: str = "EUR",
) -> Product:
    creators = CreatorService(repository)
    if creators.get(creator_id) is None:
        creators.add(creator_id.title(), creator_id)
    return CatalogService(repository).create_product(
        ProductInput(
            id=product_id,
            name=product_id.replace("-", " ").title(),
            brand="Acme",
            category="padel-rackets",
            creator_id=creator_id,
            price=price,
            currency=currency,
            stock=stock,
        ),
        ADMIN,
    )


def stock_of(repository: Repository, product_id: str) -> int:
    return CatalogService(repository).get_product(product_id, ADMIN).stock


def new_shopper(repository: Repository, user_id: str) -> str:
    """A customer and their token (as starting a chat creates them)."""
    token = generate_shopper_token()
    work = repository.unit_of_work()
    ConversationStore(repository).stage_new_shopper(work, user_id, token)
    work.commit()
    return token


def new_chat(
    repository: Repository,
    user_id: str,
    session_id: str,
    *,
    suggested: list[str] | None = None,
    viewed: list[str] | None = None,
    minutes_ago: int = 10,
    messages: int = 6,
) -> ConversationSession:
    now = utc_now()
    session = ConversationSession(
        id=session_id,
        user_id=user_id,
        suggested_products=suggested or [],
        viewed_products=viewed or [],
        started_at=now - timedelta(minutes=minutes_ago),
        last_activity_at=now,
        message_count=messages,
    )
    work = repository.unit_of_work()
    ConversationStore(repository).stage_create(work, session)
    work.commit()
    return session


class InProcessCheckoutRunner:
    """The checkout state machine's flow without Step Functions, for tests: the forward steps in the
    ASL's order, retryable failures tried again; on a failure up to the order's creation (a step's
    CheckoutStepError or a crash, as a Catch on States.ALL would) the compensations in order; a failure
    after it skipped, keeping the state, as the ASL's Catch with ResultPath null does."""

    def __init__(self, steps: Mapping[str, Step], attempts: int = 3) -> None:
        self.steps = steps
        self.attempts = attempts
        self.ran: list[str] = []

    def start(self, state: CheckoutState) -> CheckoutState:
        try:
            for name in BEFORE_ORDER:
                state = self._run(name, state)
        except CheckoutStepError as error:
            return self._compensate(state, error.failure)
        except Exception as crash:
            return self._compensate(state, Failure(code="checkout_error", message=repr(crash)))
        for name in AFTER_ORDER:
            try:
                state = self._run(name, state)
            except Exception:  # noqa: S112 - failing forward is the point
                continue
        return state

    def _compensate(self, state: CheckoutState, failure: Failure) -> CheckoutState:
        state = state.model_copy(update={"error": failure})
        for name in COMPENSATIONS:
            try:
                state = self._run(name, state)
            except Exception:  # noqa: S112 - a compensation that fails does not stop the next
                continue
        return state

    def _run(self, name: str, state: CheckoutState) -> CheckoutState:
        for attempt in range(1, self.attempts + 1):
            self.ran.append(name)
            try:
                return self.steps[name](state)
            except CheckoutStepError as error:
                if not error.retryable or attempt == self.attempts:
                    raise
        raise AssertionError("unreachable")


@contextmanager
def in_process_checkouts() -> Iterator[InProcessCheckoutRunner]:
    """The API's checkout runs through an InProcessCheckoutRunner of the real steps (no Step Functions)."""
    from talkshop.api import context
    from talkshop.commerce.checkout_steps import STEPS

    runner = InProcessCheckoutRunner(STEPS)
    context.checkout.cache_clear()
    original = context.checkout_runner
    context.checkout_runner = lambda: runner  # type: ignore[assignment]
    try:
        yield runner
    finally:
        context.checkout_runner = original
        context.checkout.cache_clear()


def crashing(steps: Mapping[str, Step], after: str) -> dict[str, Step]:
    """The steps, with the one after `after` crashing as a Lambda that died would."""
    following = FORWARD_STEPS[FORWARD_STEPS.index(after) + 1]

    def crash(state: CheckoutState) -> CheckoutState:
        raise RuntimeError(f"{following} crashed")

    return {**steps, following: crash}


_REQUESTS = (
    "get_item",
    "put_item",
    "update_item",
    "delete_item",
    "query",
    "scan",
    "batch_get_item",
    "transact_write_items",
    "transact_get_items",
)


@contextmanager
def _one_call_at_a_time(owner: object, names: tuple[str, ...]) -> Iterator[None]:
    """While inside: the `names` methods of `owner` (a class, or one object whose own attributes may
    stand in for them) run whole, one call at a time across threads; then they are as they were."""
    lock = threading.RLock()
    own = {name: vars(owner)[name] for name in names if name in vars(owner)}
    originals: dict[str, Callable[..., Any]] = {name: getattr(owner, name) for name in names}

    def serialised(original: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            with lock:
                return original(*args, **kwargs)

        return call

    for name, original in originals.items():
        setattr(owner, name, serialised(original))
    try:
        yield
    finally:
        for name in names:
            if name in own:
                setattr(owner, name, own[name])
            else:
                delattr(owner, name)


@contextmanager
def atomic_moto() -> Iterator[None]:
    """Each DynamoDB request handled whole before the next, as DynamoDB serialises writes to an item.

    moto checks a condition and then writes without a lock (and undoes a failed transaction by putting
    back a copy of the whole table), so threads racing through it see states DynamoDB never shows. The
    race between our read and our conditional write, which is what the tests are about, stays real.
    """
    with _one_call_at_a_time(dynamodb_models.DynamoDBBackend, _REQUESTS):
        yield


@contextmanager
def metrics_one_call_at_a_time() -> Iterator[None]:
    """Powertools' metrics added and flushed one call at a time, for handlers run concurrently in one process.

    On Lambda a process serves one invocation at a time, so its one metric set is never shared. Handlers
    racing in one test process would add to the set while another invocation flushes it ("dictionary
    changed size during iteration") or flush a set another just emptied ("Must contain at least one
    metric"), and fail a step that succeeded. Invocations still flush each other's metrics. The handlers'
    provider itself is locked: the local runtime gives it a flush of its own (`_forget_disabled_metrics`).
    """
    with _one_call_at_a_time(metrics.provider, ("add_metric", "flush_metrics")):
        yield


def at(year: int, month: int, day: int) -> datetime:
    from datetime import UTC

    return datetime(year, month, day, tzinfo=UTC)
