"""The learning loop: ranking weights adjusted from what shoppers did with recommendations.

Every recommendation records its ranking features (:func:`talkshop.advisor.ranking.features`). A run
reads the recommendations of the last ``days`` that were purchased or dismissed, and for each weight
compares how strong its feature was in the purchased ones and in the dismissed ones: a feature stronger
in purchases gains weight, one stronger in dismissals loses it. The change is bounded three ways:
- each weight stays within ±30 % of its default (``MAX_CHANGE``);
- one run moves the weights by at most 10 % of their default total (``MAX_STEP``), summed over all;
- a run needs ``MIN_OUTCOMES`` purchases and as many dismissals, else it changes nothing (409).

Reversible: every set of weights is a versioned ranking_weights thing (version 0 is the defaults, never
stored) with the outcome counts that led to it; a rollback writes a new version with an earlier one's
weights, so history only grows. The advisor reads the newest version through :func:`current_weights`,
cached for ``CACHE_SECONDS`` per process (a chat turn costs no read most of the time).

Outcomes are found without a scan: ai_recommendation things are listed per day in the BY_TYPE index, one
query per day of the window (filtered on the reaction server-side); this runs on an admin request or
from `talkshop learn`, never in a chat turn.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from talkshop.advisor.model import Reaction
from talkshop.advisor.ranking import WEIGHTS
from talkshop.clock import Clock, utc_now
from talkshop.data.repository import IndexEntries, Repository, by_type, by_type_on_day, data_field
from talkshop.errors import Conflict, InvalidInput, NotFound
from talkshop.ontology.model import Dimension, EntityRef, ThingType

MAX_CHANGE = 0.30
MAX_STEP = 0.10
LEARNING_RATE = 0.5
MIN_OUTCOMES = 5
DEFAULT_DAYS = 30
MAX_DAYS = 90
CACHE_SECONDS = 60.0
HISTORY_LIMIT = 50
# Models on the admin API speak camelCase, as the rest of the API does; stored data is snake_case.
WIRE = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

T = TypeVar("T")


class OutcomeCounts(BaseModel):
    """The recommendation outcomes a learning run read, and what it concluded from them."""

    model_config = WIRE

    purchased: int = Field(ge=0)
    dismissed: int = Field(ge=0)
    since: date
    until: date
    signal: dict[str, float] = Field(
        default_factory=dict,
        description="Per weight: mean feature in purchased minus mean in dismissed recommendations",
    )


class WeightsVersion(BaseModel):
    """One set of ranking weights. Version 0 is ranking.WEIGHTS, the defaults."""

    model_config = WIRE

    version: int = Field(ge=0)
    weights: dict[str, float]
    reason: Literal["default", "learned", "rollback"]
    created_at: datetime | None = None
    rolled_back_to: int | None = None
    outcomes: OutcomeCounts | None = None


class WeightsHistory(BaseModel):
    model_config = WIRE

    current: WeightsVersion
    history: list[WeightsVersion] = Field(description="Newest first, ending with version 0 (the defaults)")


class LearnRequest(BaseModel):
    model_config = WIRE

    days: int = Field(default=DEFAULT_DAYS, ge=1, le=MAX_DAYS, description="Days of outcomes to read")


class RollbackRequest(BaseModel):
    model_config = WIRE

    version: int = Field(ge=0, description="The version whose weights become current again (0: defaults)")


DEFAULTS = WeightsVersion(version=0, weights=dict(WEIGHTS), reason="default")


def bounds(name: str) -> tuple[float, float]:
    """The lowest and highest value learning may give a weight."""
    default = WEIGHTS[name]
    return round(default * (1 - MAX_CHANGE), 4), round(default * (1 + MAX_CHANGE), 4)


def _mean_features(examples: Sequence[Mapping[str, float]]) -> dict[str, float]:
    """Mean of each feature over the examples; a feature an example lacks (no wish stated) counts 0."""
    return {name: sum(example.get(name, 0.0) for example in examples) / len(examples) for name in WEIGHTS}


def learned_step(
    current: Mapping[str, float],
    purchased: Sequence[Mapping[str, float]],
    dismissed: Sequence[Mapping[str, float]],
) -> tuple[dict[str, float], dict[str, float]]:
    """(new weights, signal): each weight scaled by 1 + LEARNING_RATE x signal, where the signal is the
    feature's mean in purchased minus its mean in dismissed recommendations; then held within
    :func:`bounds`, and all changes shrunk together so that their sum is at most MAX_STEP of the
    defaults' total."""
    bought, passed = _mean_features(purchased), _mean_features(dismissed)
    signal = {name: round(bought[name] - passed[name], 4) for name in WEIGHTS}
    proposed = {}
    for name in WEIGHTS:
        low, high = bounds(name)
        proposed[name] = min(high, max(low, current[name] * (1 + LEARNING_RATE * signal[name])))
    moved = sum(abs(proposed[name] - current[name]) for name in WEIGHTS)
    budget = MAX_STEP * sum(WEIGHTS.values())
    shrink = min(1.0, budget / moved) if moved else 1.0
    stepped = {}
    for name in WEIGHTS:
        low, high = bounds(name)
        value = round(current[name] + shrink * (proposed[name] - current[name]), 4)
        stepped[name] = min(high, max(low, value))
    return stepped, signal


def _version_ref(version: int) -> EntityRef:
    return EntityRef(dimension=Dimension.THING, type=ThingType.RANKING_WEIGHTS, id=f"w{version:06d}")


def _version_exists(version: int) -> Conflict:
    return Conflict(f"Weights version {version} was written meanwhile; try again.", code="concurrent_update")


class RankingWeights:
    """The versions of the ranking weights: read, learn, roll back."""

    def __init__(self, repository: Repository, clock: Clock = utc_now) -> None:
        self.repository = repository
        self.clock = clock

    def _newest_first(self, limit: int) -> list[WeightsVersion]:
        query = replace(by_type(Dimension.THING, ThingType.RANKING_WEIGHTS), newest_first=True)
        page = self.repository.page(query, limit=limit)
        return [WeightsVersion.model_validate(stored.data) for stored in page.items]

    def current(self) -> WeightsVersion:
        newest = self._newest_first(1)
        return newest[0] if newest else DEFAULTS

    def version(self, version: int) -> WeightsVersion:
        if version == 0:
            return DEFAULTS
        stored = self.repository.get(_version_ref(version))
        if stored is None:
            raise NotFound(f"No ranking weights version {version}.", code="weights_version_not_found")
        return WeightsVersion.model_validate(stored.data)

    def history(self) -> WeightsHistory:
        versions = self._newest_first(HISTORY_LIMIT)
        return WeightsHistory(current=versions[0] if versions else DEFAULTS, history=[*versions, DEFAULTS])

    def _save(self, version: WeightsVersion) -> WeightsVersion:
        work = self.repository.unit_of_work()
        work.create(
            _version_ref(version.version),
            version.model_dump(mode="json"),
            IndexEntries(),
            self.clock(),
            on_exists=lambda: _version_exists(version.version),
        )
        work.commit()
        forget_cached_weights()
        return version

    def outcomes(self, days: int) -> tuple[list[dict[str, float]], list[dict[str, float]], date, date]:
        """(features of purchased, features of dismissed recommendations, first day, last day)."""
        until = self.clock()
        purchased: list[dict[str, float]] = []
        dismissed: list[dict[str, float]] = []
        reacted = data_field("reaction").is_in([Reaction.PURCHASED.value, Reaction.DISMISSED.value])
        for back in range(days):
            day = until - timedelta(days=back)
            query = by_type_on_day(Dimension.THING, ThingType.AI_RECOMMENDATION, day)
            for stored in self.repository.iterate(query, filters=reacted):
                features = stored.data.get("features") or {}
                if not features:
                    continue  # recorded before recommendations carried their features
                values = {name: float(value) for name, value in features.items() if name in WEIGHTS}
                (purchased if stored.data["reaction"] == Reaction.PURCHASED else dismissed).append(values)
        return purchased, dismissed, (until - timedelta(days=days - 1)).date(), until.date()

    def learn(self, request: LearnRequest) -> WeightsVersion:
        """A new version learnt from the outcomes of the last ``request.days`` days."""
        purchased, dismissed, since, until = self.outcomes(request.days)
        if len(purchased) < MIN_OUTCOMES or len(dismissed) < MIN_OUTCOMES:
            raise Conflict(
                f"Learning needs at least {MIN_OUTCOMES} purchased and {MIN_OUTCOMES} dismissed "
                f"recommendations; the last {request.days} days have {len(purchased)} and {len(dismissed)}.",
                code="not_enough_outcomes",
                details={"purchased": len(purchased), "dismissed": len(dismissed)},
            )
        current = self.current()
        weights, signal = learned_step({**WEIGHTS, **current.weights}, purchased, dismissed)
        counts = OutcomeCounts(
            purchased=len(purchased), dismissed=len(dismissed), since=since, until=until, signal=signal
        )
        return self._save(
            WeightsVersion(
                version=current.version + 1,
                weights=weights,
                reason="learned",
                created_at=self.clock(),
                outcomes=counts,
            )
        )

    def rollback(self, request: RollbackRequest) -> WeightsVersion:
        """A new version with the weights of ``request.version``, which must be older than the current."""
        current = self.current()
        if request.version >= current.version:
            raise InvalidInput(
                f"Roll back to a version before the current one ({current.version}).",
                code="not_an_earlier_version",
            )
        target = self.version(request.version)
        return self._save(
            WeightsVersion(
                version=current.version + 1,
                weights=target.weights,
                reason="rollback",
                created_at=self.clock(),
                rolled_back_to=target.version,
            )
        )


class TimedCache(Generic[T]):
    """What a read gave, per repository, kept for ``seconds``: a warm Lambda reads it again only
    that often. Keyed by the repository object (weakly), so a new repository starts afresh."""

    def __init__(self, seconds: float, read: Callable[[Repository], T]) -> None:
        self._seconds = seconds
        self._read = read
        self._kept: weakref.WeakKeyDictionary[Repository, tuple[float, T]] = weakref.WeakKeyDictionary()

    def get(self, repository: Repository) -> T:
        kept = self._kept.get(repository)
        if kept is not None and kept[0] > time.monotonic():
            return kept[1]
        value = self._read(repository)
        self._kept[repository] = (time.monotonic() + self._seconds, value)
        return value

    def forget(self) -> None:
        self._kept.clear()


_weights = TimedCache(
    CACHE_SECONDS, lambda repository: {**WEIGHTS, **RankingWeights(repository).current().weights}
)


def current_weights(repository: Repository) -> dict[str, float]:
    """The weights the advisor ranks with: the newest version, read at most once a CACHE_SECONDS."""
    return _weights.get(repository)


def forget_cached_weights() -> None:
    """Read the weights again on the next turn (after a change in this process)."""
    _weights.forget()
