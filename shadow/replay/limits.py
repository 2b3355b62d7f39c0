"""Limits a consumer group shares: requests and tokens per minute, and USD per hour and day, per candidate.

Workers learn about each other from the control topic (``shadow.events.control``): each reports
every second that it is alive and what each candidate cost it in the current UTC hour and day.

- **Rate limits** (``rate_limit_rpm``, ``rate_limit_tpm``): each worker spaces its calls so that
  it takes ``1 / N`` of the group's rate, ``N`` being the live workers of its group. Adding a
  replica shrinks every share within a report or two instead of multiplying the provider's load.
- **Budgets** (``budget_usd_per_hour``, ``budget_usd_per_day``): before each call, a worker adds
  what it spent itself, its calls in flight (at the candidate's mean cost per call so far), and
  for each other worker of the group what it reported, its calls in flight then, and what it
  spent since (its spending rate between its last two reports, times the report's age); at the
  budget it skips the candidate (rows ``skipped`` with ``error_kind`` budget) until the period
  turns. The group goes over by what these estimates miss: at most the calls in flight everywhere
  when the limit is reached (one in-flight window), plus the error of the rate estimate.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from shadow.config import CandidateSettings
from shadow.diff.cost import Price, request_cost_usd
from shadow.events.control import ControlState, PeriodSpend
from shadow.replay.result import ReplayResult

Clock = Callable[[], float]
MAX_TOKEN_DELAY_S = 60.0


class GroupLimiter:
    """This worker's share of a group's requests and tokens per minute for one candidate."""

    def __init__(
        self,
        limits: Callable[[], tuple[float | None, int | None]],
        workers: Callable[[], int],
        *,
        clock: Clock = time.monotonic,
        sleep: Callable[[float], object] = asyncio.sleep,
        max_wait_s: float = float("inf"),
    ) -> None:
        """``limits`` gives the group's (requests, tokens) per minute now: configured, or set by ``shadow ctl``.

        A call whose turn is more than ``max_wait_s`` away is not made (:meth:`acquire` says False)."""
        self._limits = limits
        self.max_wait_s = max_wait_s
        self._workers = workers
        self._clock = clock
        self._sleep = sleep
        self._next_request = 0.0
        self._tokens_ready = 0.0
        self._lock = asyncio.Lock()

    async def acquire(self) -> float | None:
        """Wait for this worker's turn to send the next request; None (no wait), or the wait in seconds it would
        take when that is over ``max_wait_s``: then the call is not made and takes no turn."""
        rpm, tpm = self._limits()
        if not rpm and not tpm:
            return None
        async with self._lock:
            now = self._clock()
            start = max(now, self._next_request, self._tokens_ready if tpm else now)
            delay = start - now
            if delay > self.max_wait_s:
                return delay
            if rpm:
                self._next_request = start + 60.0 * self._workers() / rpm
        if delay > 0:
            await self._sleep(delay)  # type: ignore[misc]
        return None

    def debit(self, tokens: int) -> None:
        """A call used ``tokens``: the next ones wait until this worker's share of the minute pays for them."""
        _, tpm = self._limits()
        if tpm and tokens > 0:
            now = self._clock()
            # One call delays the next ones by at most a minute (a long context, or an absurd usage figure,
            # must not hold the candidate's slots, and the events waiting on them, for hours).
            delay = min(tokens * 60.0 * self._workers() / tpm, MAX_TOKEN_DELAY_S)
            self._tokens_ready = max(now, self._tokens_ready) + delay


_PERIODS: dict[tuple[int, int, int, int], tuple[str, str]] = {}


def periods(now: datetime | None = None) -> tuple[str, str]:
    """The current UTC hour and day, as the reports name them.

    The ledger asks twice per call; the names are formatted once per hour (``strftime`` costs more
    than the rest of the ledger's work).
    """
    now = now or datetime.now(UTC)
    key = (now.year, now.month, now.day, now.hour)
    names = _PERIODS.get(key)
    if names is None:
        if len(_PERIODS) >= 48:
            _PERIODS.clear()
        names = _PERIODS[key] = (now.strftime("%Y-%m-%dT%H"), now.strftime("%Y-%m-%d"))
    return names


@dataclass(slots=True)
class _Spend:
    hour: str = ""
    hour_usd: float = 0.0
    day: str = ""
    day_usd: float = 0.0
    calls: int = 0
    total_usd: float = 0.0
    in_flight: int = 0

    def roll(self, hour: str, day: str) -> None:
        if self.hour != hour:
            self.hour, self.hour_usd = hour, 0.0
        if self.day != day:
            self.day, self.day_usd = day, 0.0


@dataclass(slots=True)
class SpendLedger:
    """What each candidate cost this worker per UTC hour and day, and the budget check across the group."""

    candidates: Mapping[str, CandidateSettings]
    prices: Mapping[str, Price]
    control: ControlState | None = None
    group: str = ""
    worker: str = ""
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    _spend: dict[str, _Spend] = field(default_factory=dict)

    def _of(self, name: str) -> _Spend:
        spend = self._spend.setdefault(name, _Spend())
        spend.roll(*periods(self.now()))
        return spend

    def cost(self, result: ReplayResult) -> float:
        """USD of one answered call (0 when the model has no price or the usage is unknown)."""
        if result.output is None:
            return 0.0
        # The name the provider answered with, else the one asked for (an alias, an Azure deployment name).
        for model in (result.output.model, result.model):
            cost = request_cost_usd(result.output.usage, model, self.prices)
            if cost is not None:
                return cost
        return 0.0

    def over_budget(self, name: str) -> str | None:
        """Why ``name`` must not be called now (its hour's or day's budget is used up), or None."""
        settings = self.candidates.get(name)
        if settings is None:
            return None
        override = self.control.limits(name) if self.control is not None else None
        per_hour = (override.budget_usd_per_hour if override else None) or settings.budget_usd_per_hour
        per_day = (override.budget_usd_per_day if override else None) or settings.budget_usd_per_day
        if per_hour is None and per_day is None:
            return None
        spend = self._of(name)
        others_hour, others_day = (0.0, 0.0)
        if self.control is not None:
            others_hour, others_day = self.control.spent_by_others(self.group, self.worker, name, spend.hour, spend.day)
        pending = self._pending(spend)
        for limit, period, mine, others in (
            (per_hour, f"hour {spend.hour}", spend.hour_usd, others_hour),
            (per_day, f"day {spend.day}", spend.day_usd, others_day),
        ):
            if limit is not None and mine + others + pending >= limit:
                return (
                    f"budget of ${limit:g} for the {period} UTC used up: ${mine + others:.4f} spent by the group "
                    f"(${others:.4f} by other workers), ${pending:.4f} in flight here"
                )
        return None

    def start(self, name: str) -> None:
        self._of(name).in_flight += 1

    def finish(self, name: str, result: ReplayResult) -> None:
        spend = self._of(name)
        spend.in_flight = max(0, spend.in_flight - 1)
        if result.output is None:
            return
        cost = self.cost(result)
        spend.hour_usd += cost
        spend.day_usd += cost
        spend.calls += 1
        spend.total_usd += cost

    def snapshot(self) -> dict[str, PeriodSpend]:
        """This worker's spend per candidate, for its report on the control topic."""
        return {
            name: PeriodSpend(
                hour=s.hour, hour_usd=s.hour_usd, day=s.day, day_usd=s.day_usd, pending_usd=self._pending(s)
            )
            for name in list(self._spend)
            for s in [self._of(name)]
        }

    @staticmethod
    def _pending(spend: _Spend) -> float:
        """The calls in flight at their expected cost: the mean cost per answered call so far."""
        return spend.in_flight * (spend.total_usd / spend.calls if spend.calls else 0.0)
