"""A/B experiments of recommendation strategies: arms, sticky assignment, exposures, outcomes, report.

- An experiment has 2 to 5 arms; the first is the control. An arm is a strategy: overrides of some
  ranking weights (keys of ``talkshop.advisor.ranking.WEIGHTS``, each between 0 and ``MAX_ARM_FACTOR``
  times its default) on top of the current learned weights; the control overrides nothing. Each arm has
  a share of the traffic in whole percent; the shares add up to 100. Requests are strict: JSON numbers
  only (no strings or booleans coerced; a share is an integer), names stripped and non-empty, and each
  refusal names its rule in the 422's `details[].type` (e.g. `traffic_not_100`, `duplicate_arm_names`).
- One experiment runs at a time (a second start is a 409): a "running experiment" item names it, created
  only if absent, so two starts cannot both win. A chat turn reads it through :func:`running`, cached
  for ``RUNNING_CACHE_SECONDS`` per process.
- Assignment is sticky: a shopper's bucket is a hash of the experiment id and the shopper id, so the
  same shopper gets the same arm in every chat, and each experiment splits shoppers independently.
- Exposure: the first turn of a chat that recommends products while an experiment runs records an
  experiment_exposure event (experiment id, arm) and the arm on the chat (``experiment_arms``), in the
  turn's own transaction; the chat is replaced at the version read, so a chat is exposed once.
- Outcomes are attributed through the chat's ``experiment_arms``: an order placed from the chat (in the
  checkout's transaction that records order_placed_from_chat) counts an order, and the chat's first one
  a conversion; reactions to its recommendations count purchased / dismissed.
- A shopper who opted out of analytics is measured no more: no exposure for a new chat, and no outcome
  of a chat exposed before the choice (the person record is read when the outcome is counted). The
  counts taken before the opt-out stay: anonymous counters, like the metric items.
- Counts are counters on the experiment (one item per arm and measure), added in the same transaction
  as the event they count: the report reads a few items, never the events (no scan on a request), and
  agrees with the events because both commit together or not at all.
"""

from __future__ import annotations

import hashlib
import math
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, Field, Strict, StringConstraints, field_validator, model_validator
from pydantic_core import PydanticCustomError

from talkshop.advisor.model import ConversationSession, Reaction
from talkshop.advisor.ranking import WEIGHTS
from talkshop.analytics.learning import WIRE, TimedCache, current_weights
from talkshop.clock import Clock, utc_now
from talkshop.data.repository import IndexEntries, Page, Repository, StoredEntity, UnitOfWork, by_type
from talkshop.errors import Conflict, NotFound, TalkshopError
from talkshop.ontology.model import Dimension, EntityRef, PersonRole, ThingType

MIN_ARMS = 2
MAX_ARMS = 5
MAX_ARM_FACTOR = 3.0
BUCKETS = 10_000
RUNNING_CACHE_SECONDS = 30.0
# The normal quantile of a two-sided 95 % interval.
Z_95 = 1.959963984540054

ArmName = Annotated[str, StringConstraints(strict=True, pattern=r"^[a-z][a-z0-9_-]{0,39}$")]
# Names and descriptions are stripped first, so a blank one is refused as empty; no control characters.
_PRINTABLE = r"^[^\x00-\x1f\x7f]*$"
ExperimentName = Annotated[
    str,
    StringConstraints(strict=True, strip_whitespace=True, min_length=1, max_length=200, pattern=_PRINTABLE),
]
Description = Annotated[str, StringConstraints(strict=True, strip_whitespace=True, max_length=2000)]
# Strict: JSON numbers only (no "50", true or 50.0 coerced); a share is a whole percent.
TrafficShare = Annotated[int, Strict(), Field(ge=1, le=99, description="Share of shoppers, in whole percent")]
RankingWeight = Annotated[float, Strict(), Field(allow_inf_nan=False)]


class ExperimentStatus(StrEnum):
    RUNNING = "running"
    STOPPED = "stopped"


class Measure(StrEnum):
    """What is counted per arm."""

    EXPOSURES = "exposures"
    CONVERSIONS = "conversions"
    ORDERS = "orders"
    PURCHASED = "purchased"
    DISMISSED = "dismissed"


class Arm(BaseModel):
    model_config = WIRE

    name: ArmName
    traffic: TrafficShare
    weights: dict[str, RankingWeight] = Field(
        default_factory=dict, description="Ranking weights this arm changes (keys of WEIGHTS)"
    )

    @field_validator("weights")
    @classmethod
    def _known_and_bounded(cls, weights: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(weights) - set(WEIGHTS))
        if unknown:
            raise PydanticCustomError(
                "unknown_ranking_weight",
                "unknown ranking weights: {unknown} (known: {known})",
                {"unknown": ", ".join(unknown), "known": ", ".join(WEIGHTS)},
            )
        for name, value in weights.items():
            highest = round(MAX_ARM_FACTOR * WEIGHTS[name], 6)
            if not 0 <= value <= highest:
                raise PydanticCustomError(
                    "ranking_weight_out_of_range",
                    "weight '{name}' must be between 0 and {highest}",
                    {"name": name, "highest": f"{highest:g}"},
                )
        return weights


class ExperimentRequest(BaseModel):
    """A new experiment; it starts at once. The first arm is the control."""

    model_config = WIRE

    name: ExperimentName
    description: Description = ""
    arms: list[Arm] = Field(min_length=MIN_ARMS, max_length=MAX_ARMS)

    @model_validator(mode="after")
    def _split(self) -> ExperimentRequest:
        names = [arm.name for arm in self.arms]
        if len(set(names)) != len(names):
            raise PydanticCustomError("duplicate_arm_names", "arm names must differ")
        if sum(arm.traffic for arm in self.arms) != 100:
            raise PydanticCustomError("traffic_not_100", "the arms' traffic must add up to 100")
        if self.arms[0].weights:
            raise PydanticCustomError(
                "control_changes_weights", "the first arm is the control: it changes no weights"
            )
        return self


class Experiment(BaseModel):
    model_config = WIRE

    id: str
    name: str
    description: str = ""
    arms: list[Arm]
    status: ExperimentStatus
    started_at: datetime
    stopped_at: datetime | None = None
    version: int = 0

    @property
    def control(self) -> Arm:
        return self.arms[0]


class ExperimentList(BaseModel):
    model_config = WIRE

    items: list[Experiment]
    next_cursor: str | None = None


class Interval(BaseModel):
    model_config = WIRE

    estimate: float
    low: float
    high: float


class ArmReport(BaseModel):
    model_config = WIRE

    arm: str
    control: bool
    exposures: int = Field(description="Chats that got recommendations under this arm")
    conversions: int = Field(description="Exposed chats with at least one order")
    orders: int
    purchased: int = Field(description="Recommendations reacted to as purchased")
    dismissed: int
    conversion_rate: Interval = Field(description="Conversions / exposures, Wilson 95 % interval")
    difference: Interval | None = Field(
        default=None, description="Conversion rate minus the control's, Newcombe 95 % interval"
    )


class ExperimentReport(BaseModel):
    model_config = WIRE

    experiment: Experiment
    arms: list[ArmReport]
    confidence: float = 0.95


# --------------------------------------------------------------------------------------------------------
# Statistics
# --------------------------------------------------------------------------------------------------------


def wilson(successes: int, trials: int, z: float = Z_95) -> Interval:
    """The Wilson score interval of a proportion (sound for small counts and rates near 0 or 1);
    with no trials, the whole range [0, 1]."""
    if trials == 0:
        return Interval(estimate=0.0, low=0.0, high=1.0)
    rate = successes / trials
    denominator = 1 + z * z / trials
    centre = (rate + z * z / (2 * trials)) / denominator
    half = z / denominator * math.sqrt(rate * (1 - rate) / trials + z * z / (4 * trials * trials))
    return Interval(estimate=rate, low=max(0.0, centre - half), high=min(1.0, centre + half))


def difference(successes: int, trials: int, control_successes: int, control_trials: int) -> Interval:
    """Newcombe's hybrid score interval of rate minus control rate, from the two Wilson intervals."""
    arm, control = wilson(successes, trials), wilson(control_successes, control_trials)
    estimate = arm.estimate - control.estimate
    low = estimate - math.sqrt((arm.estimate - arm.low) ** 2 + (control.high - control.estimate) ** 2)
    high = estimate + math.sqrt((arm.high - arm.estimate) ** 2 + (control.estimate - control.low) ** 2)
    return Interval(estimate=estimate, low=max(-1.0, low), high=min(1.0, high))


# --------------------------------------------------------------------------------------------------------
# Assignment
# --------------------------------------------------------------------------------------------------------


def bucket(experiment_id: str, shopper_id: str) -> int:
    """The shopper's bucket in this experiment, 0 to BUCKETS - 1: the same for every chat."""
    digest = hashlib.sha256(f"{experiment_id}\x00{shopper_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % BUCKETS


def arm_for(experiment: Experiment, shopper_id: str) -> Arm:
    """The arm a shopper is in: arms own consecutive ranges of buckets in proportion to their traffic."""
    position = bucket(experiment.id, shopper_id)
    upper = 0
    for arm in experiment.arms:
        upper += arm.traffic * BUCKETS // 100
        if position < upper:
            return arm
    return experiment.arms[-1]


@dataclass(frozen=True)
class Exposure:
    experiment_id: str
    arm: str


@dataclass(frozen=True)
class Strategy:
    """How one chat turn ranks: its weights, and the exposure to record if it recommends."""

    weights: dict[str, float]
    exposure: Exposure | None = None


# --------------------------------------------------------------------------------------------------------
# Storage
# --------------------------------------------------------------------------------------------------------


def experiment_ref(experiment_id: str) -> EntityRef:
    return EntityRef(dimension=Dimension.THING, type=ThingType.EXPERIMENT, id=experiment_id)


_RUNNING_REF = EntityRef(dimension=Dimension.THING, type=ThingType.RUNNING_EXPERIMENT, id="current")


def _counter(arm: str, measure: Measure) -> str:
    return f"{arm}.{measure}"


def _from_stored(stored: StoredEntity) -> Experiment:
    return Experiment.model_validate({**stored.data, "id": stored.ref.id, "version": stored.version})


def _data(experiment: Experiment) -> dict[str, object]:
    return experiment.model_dump(mode="json", exclude={"id", "version"})


def _not_found(experiment_id: str) -> NotFound:
    return NotFound(f"No experiment {experiment_id!r}.", code="experiment_not_found")


def _changed(experiment_id: str) -> TalkshopError:
    return Conflict(f"Experiment {experiment_id!r} changed meanwhile; try again.", code="concurrent_update")


def _count(work: UnitOfWork, exposure: Exposure, measure: Measure, now: datetime, by: int = 1) -> None:
    work.increment_counter(
        experiment_ref(exposure.experiment_id),
        _counter(exposure.arm, measure),
        now,
        by=by,
        on_refused=lambda: _changed(exposure.experiment_id),
    )


def stage_exposure(work: UnitOfWork, exposure: Exposure, now: datetime) -> None:
    """Count a chat's exposure (the turn records its experiment_exposure event and the chat's arm)."""
    _count(work, exposure, Measure.EXPOSURES, now)


def _exposures_of(session: ConversationSession) -> list[Exposure]:
    return [Exposure(experiment_id, arm) for experiment_id, arm in session.experiment_arms.items()]


def _measured_exposures(work: UnitOfWork, session: ConversationSession) -> list[Exposure]:
    """The chat's arms that its outcomes count for: none once its shopper opted out of analytics (the
    choice is read when the outcome happens, so nothing after the opt-out is measured)."""
    exposures = _exposures_of(session)
    if exposures and _opted_out(work.repository, session.user_id):
        return []
    return exposures


def stage_chat_order(work: UnitOfWork, session: ConversationSession, now: datetime) -> None:
    """Attribute an order placed from ``session`` (as it was before the order) to its arms."""
    for exposure in _measured_exposures(work, session):
        _count(work, exposure, Measure.ORDERS, now)
        if not session.orders:
            _count(work, exposure, Measure.CONVERSIONS, now)


def stage_reactions(
    work: UnitOfWork, session: ConversationSession, reactions: Mapping[str, Reaction], now: datetime
) -> None:
    """Attribute reactions to the chat's recommendations to its arms."""
    for measure, reaction in (
        (Measure.PURCHASED, Reaction.PURCHASED),
        (Measure.DISMISSED, Reaction.DISMISSED),
    ):
        given = sum(1 for value in reactions.values() if value == reaction)
        if given:
            for exposure in _measured_exposures(work, session):
                _count(work, exposure, measure, now, by=given)


_running: TimedCache[Experiment | None] = TimedCache(
    RUNNING_CACHE_SECONDS, lambda repository: Experiments(repository).running()
)


def running(repository: Repository) -> Experiment | None:
    """The running experiment, read at most once a RUNNING_CACHE_SECONDS."""
    return _running.get(repository)


def strategy_for(repository: Repository, session: ConversationSession) -> Strategy:
    """The learned weights, with the chat's arm's changes when an experiment runs."""
    weights = current_weights(repository)
    experiment = running(repository)
    if experiment is None:
        return Strategy(weights)
    recorded = session.experiment_arms.get(experiment.id)
    if recorded is None and _opted_out(repository, session.user_id):
        # A shopper who opted out of analytics is not put in an experiment (nor measured in one).
        return Strategy(weights)
    arm = next((arm for arm in experiment.arms if arm.name == recorded), None) or arm_for(
        experiment, session.user_id
    )
    exposure = None if recorded is not None else Exposure(experiment.id, arm.name)
    return Strategy({**weights, **arm.weights}, exposure)


def _opted_out(repository: Repository, user_id: str) -> bool:
    """The shopper's analytics choice (their person record, as talkshop.privacy.AnalyticsConsent reads
    it; read here directly, privacy depending on the chat service)."""
    stored = repository.get(EntityRef(dimension=Dimension.PERSON, type=PersonRole.CUSTOMER, id=user_id))
    return bool(stored and stored.data.get("analytics_opt_out"))


class Experiments:
    def __init__(self, repository: Repository, clock: Clock = utc_now) -> None:
        self.repository = repository
        self.clock = clock

    def start(self, request: ExperimentRequest) -> Experiment:
        now = self.clock()
        experiment = Experiment(
            id="exp_" + secrets.token_hex(6),
            name=request.name,
            description=request.description,
            arms=request.arms,
            status=ExperimentStatus.RUNNING,
            started_at=now,
        )
        work = self.repository.unit_of_work()
        work.create(
            experiment_ref(experiment.id),
            _data(experiment),
            IndexEntries(status=experiment.status),
            now,
            on_exists=lambda: _changed(experiment.id),
        )

        def another_running() -> Conflict:
            return Conflict("Another experiment is running; stop it first.", code="experiment_running")

        work.create(_RUNNING_REF, {"experiment_id": experiment.id}, IndexEntries(), now, another_running)
        work.commit()
        _running.forget()
        return self.get(experiment.id)

    def get(self, experiment_id: str) -> Experiment:
        stored = self.repository.get(experiment_ref(experiment_id))
        if stored is None:
            raise _not_found(experiment_id)
        return _from_stored(stored)

    def running(self) -> Experiment | None:
        marker = self.repository.get(_RUNNING_REF)
        if marker is None:
            return None
        stored = self.repository.get(experiment_ref(str(marker.data["experiment_id"])))
        return _from_stored(stored) if stored else None

    def list(self, *, limit: int, cursor: str | None) -> ExperimentList:
        query = replace(by_type(Dimension.THING, ThingType.EXPERIMENT), newest_first=True)
        page: Page = self.repository.page(query, limit=limit, cursor=cursor)
        return ExperimentList(items=[_from_stored(item) for item in page.items], next_cursor=page.next_cursor)

    def stop(self, experiment_id: str) -> Experiment:
        stored = self.repository.get(experiment_ref(experiment_id))
        if stored is None:
            raise _not_found(experiment_id)
        experiment = _from_stored(stored)
        if experiment.status == ExperimentStatus.STOPPED:
            raise Conflict(f"Experiment {experiment_id!r} has stopped already.", code="experiment_stopped")
        now = self.clock()
        stopped = experiment.model_copy(update={"status": ExperimentStatus.STOPPED, "stopped_at": now})
        work = self.repository.unit_of_work()
        work.replace(
            stored, _data(stopped), IndexEntries(status=stopped.status), now, lambda: _changed(experiment_id)
        )
        marker = self.repository.get(_RUNNING_REF)
        if marker is not None and marker.data.get("experiment_id") == experiment_id:
            work.delete(marker, lambda: _changed(experiment_id))
        work.commit()
        _running.forget()
        return self.get(experiment_id)

    def report(self, experiment_id: str) -> ExperimentReport:
        experiment = self.get(experiment_id)
        ref = experiment_ref(experiment_id)

        def counts(arm: Arm) -> dict[Measure, int]:
            return {measure: self.repository.counter(ref, _counter(arm.name, measure)) for measure in Measure}

        by_arm = {arm.name: counts(arm) for arm in experiment.arms}
        control = by_arm[experiment.control.name]
        arms = []
        for arm in experiment.arms:
            seen = by_arm[arm.name]
            is_control = arm.name == experiment.control.name
            arms.append(
                ArmReport(
                    arm=arm.name,
                    control=is_control,
                    exposures=seen[Measure.EXPOSURES],
                    conversions=seen[Measure.CONVERSIONS],
                    orders=seen[Measure.ORDERS],
                    purchased=seen[Measure.PURCHASED],
                    dismissed=seen[Measure.DISMISSED],
                    conversion_rate=wilson(seen[Measure.CONVERSIONS], seen[Measure.EXPOSURES]),
                    difference=None
                    if is_control
                    else difference(
                        seen[Measure.CONVERSIONS],
                        seen[Measure.EXPOSURES],
                        control[Measure.CONVERSIONS],
                        control[Measure.EXPOSURES],
                    ),
                )
            )
        return ExperimentReport(experiment=experiment, arms=arms)
