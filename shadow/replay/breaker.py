"""A circuit breaker per candidate: a candidate that keeps failing is skipped for a while, not waited for.

An event finishes only when every candidate it was sent to has answered, so without a breaker a
dead candidate costs each event ``timeout_s × (max_retries + 1)`` and slows every lane. The
fan-out (``shadow.replay.fanout``) asks :meth:`CircuitBreaker.admit` before each call and reports
the result with :meth:`CircuitBreaker.record`; a call that is not admitted becomes a row with
status ``skipped`` and ``error_kind = circuit_open`` at once.

States (``CircuitState``, also the value of the ``shadow_candidate_circuit_state`` gauge):

1. **closed** (0): every call goes through. The outcomes of the last ``breaker_window`` calls are
   kept; when ``breaker_failures`` of them are failures the breaker opens. A count among the last
   calls, rather than N failures in a row, because calls to one candidate finish interleaved (up
   to ``max_concurrency`` at once): one lucky answer among timeouts must not reset the count, and
   a failure rate below ``breaker_failures / breaker_window`` (sporadic 5xx) never opens it. The
   minimum count is built in: with fewer calls seen, ``breaker_failures`` failures are still needed.
2. **open** (2): nothing goes through for ``breaker_open_s`` seconds.
3. **half-open** (1): entered at the first :meth:`admit` after the cool-down. Up to
   ``breaker_probes`` calls go through as probes, the other events skip the candidate meanwhile.
   When every probe succeeded the breaker closes (with an empty window); the first probe that
   fails opens it again for another ``breaker_open_s``.

What counts (:func:`outcome_of`): a **failure** says the candidate is unavailable — a timeout, a
refused or broken connection, a 5xx, or a 429 that outlasted the retries (the provider refuses
our traffic; more of it only makes that worse). A **success** is any answer, including a 4xx and
a body that does not parse or breaks a guard: the endpoint is up and answering, the fault is in
our request or in the content, and skipping it would hide that from the rows. A call that was
**not sent** (the request could not be translated, an internal error, a skip of any kind) says
nothing about the candidate and is not counted; a probe that was not sent frees its probe slot.

Every transition starts a new *generation*: results of calls admitted in an earlier one (calls
still in flight when the breaker opened, a straggling probe) are ignored. The breaker is plain
state with an injected clock, no I/O and no asyncio, so each transition is tested with a fake clock.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum, IntEnum

from shadow.config import CandidateSettings
from shadow.metrics import CIRCUIT_OPENED, CIRCUIT_STATE
from shadow.replay.result import ErrorKind, ReplayResult

__all__ = [
    "FAILURE_KINDS",
    "NOT_SENT_KINDS",
    "CircuitBreaker",
    "CircuitState",
    "Clock",
    "Outcome",
    "Permit",
    "outcome_of",
]

log = logging.getLogger(__name__)

Clock = Callable[[], float]


class CircuitState(IntEnum):
    """A breaker's state; the value is what the ``shadow_candidate_circuit_state`` gauge shows."""

    CLOSED = 0
    HALF_OPEN = 1
    OPEN = 2

    @property
    def label(self) -> str:
        return self.name.lower().replace("_", "-")


class Outcome(Enum):
    SUCCESS = "success"
    FAILURE = "failure"
    NOT_SENT = "not_sent"


FAILURE_KINDS = frozenset(
    {ErrorKind.TIMEOUT, ErrorKind.CONNECT_ERROR, ErrorKind.TRANSPORT_ERROR, ErrorKind.HTTP_5XX, ErrorKind.RATE_LIMITED}
)
"""Final results (after the client's retries) that say the candidate is unavailable."""

NOT_SENT_KINDS = frozenset({ErrorKind.TRANSLATION_ERROR, ErrorKind.INTERNAL_ERROR})
"""Calls that never reached the candidate or failed on our side; skips (``ReplayResult.skipped``) too."""


def outcome_of(result: ReplayResult) -> Outcome:
    """How one call's final result counts for the breaker (see the module docstring)."""
    if result.error_kind is None:
        return Outcome.SUCCESS
    if result.error_kind in FAILURE_KINDS:
        return Outcome.FAILURE
    if result.error_kind in NOT_SENT_KINDS or result.skipped:
        return Outcome.NOT_SENT
    return Outcome.SUCCESS  # answered: a 4xx, an unparsable or over-limit body


@dataclass(frozen=True, slots=True)
class Permit:
    """Leave to make one call, from :meth:`CircuitBreaker.admit`; handed back with its result."""

    generation: int
    probe: bool = False


class CircuitBreaker:
    """The breaker of one candidate. Not thread-safe: it lives on the worker's event loop."""

    def __init__(
        self,
        name: str,
        *,
        failures: int = 10,
        window: int = 20,
        open_s: float = 30.0,
        probes: int = 3,
        clock: Clock = time.monotonic,
    ) -> None:
        if not 0 < failures <= window:
            raise ValueError("need 0 < failures <= window")
        if open_s <= 0 or probes <= 0:
            raise ValueError("open_s and probes must be positive")
        self.name = name
        self.failures, self.window, self.open_s, self.probes = failures, window, open_s, probes
        self._clock = clock
        self._state = CircuitState.CLOSED
        self._generation = 0
        self._recent: deque[bool] = deque(maxlen=window)  # True = failure
        self._failed = 0  # failures in _recent
        self._last_failure = ""
        self._open_until = 0.0
        self._probes_out = 0  # probes admitted in this half-open spell (minus those not sent)
        self._probes_ok = 0
        self.reason = ""
        """Why the breaker last opened, e.g. ``10 of the last 20 calls failed (last: timeout)``."""
        self.opened = 0
        """How many times it opened."""
        CIRCUIT_STATE.labels(name).set(CircuitState.CLOSED)

    @classmethod
    def from_settings(cls, settings: CandidateSettings, clock: Clock = time.monotonic) -> CircuitBreaker:
        return cls(
            settings.name,
            failures=settings.breaker_failures,
            window=settings.breaker_window,
            open_s=settings.breaker_open_s,
            probes=settings.breaker_probes,
            clock=clock,
        )

    @property
    def state(self) -> CircuitState:
        """The state now (an open breaker whose cool-down has passed is half-open)."""
        self._tick()
        return self._state

    def admit(self) -> Permit | None:
        """Leave for one call, or ``None``: skip the candidate for this event."""
        self._tick()
        if self._state is CircuitState.CLOSED:
            return Permit(self._generation)
        if self._state is CircuitState.HALF_OPEN and self._probes_out < self.probes:
            self._probes_out += 1
            return Permit(self._generation, probe=True)
        return None

    def record(self, permit: Permit, result: ReplayResult) -> bool:
        """Count the result of a call admitted with ``permit``; True when it opened the breaker."""
        if permit.generation != self._generation:
            return False  # admitted before the last transition: says nothing about the current state
        outcome = outcome_of(result)
        if outcome is Outcome.NOT_SENT:
            if permit.probe:
                self._probes_out -= 1
            return False
        failed = outcome is Outcome.FAILURE
        if failed:
            self._last_failure = str(result.error_kind)
        if self._state is CircuitState.HALF_OPEN:
            if failed:
                self._open(f"a probe failed ({self._last_failure})")
                return True
            self._probes_ok += 1
            if self._probes_ok >= self.probes:
                self._enter(CircuitState.CLOSED)
                log.info("circuit of candidate %s closed: %d probe(s) answered", self.name, self._probes_ok)
            return False
        if len(self._recent) == self.window and self._recent[0]:
            self._failed -= 1
        self._recent.append(failed)
        self._failed += failed
        if self._failed >= self.failures:
            self._open(f"{self._failed} of the last {len(self._recent)} calls failed (last: {self._last_failure})")
            return True
        return False

    def describe(self) -> str:
        """Why a call is skipped now (stored in the skipped row's ``error_message``)."""
        state = self.state
        if state is CircuitState.OPEN:
            wait_s = max(0.0, self._open_until - self._clock())
            return f"circuit open: {self.reason}; probing again in {wait_s:.0f}s"
        if state is CircuitState.HALF_OPEN:
            return f"circuit half-open after {self.reason}: {self._probes_out} probe call(s) in flight"
        return "circuit closed"

    # --- transitions --------------------------------------------------------------------------

    def _tick(self) -> None:
        if self._state is CircuitState.OPEN and self._clock() >= self._open_until:
            self._enter(CircuitState.HALF_OPEN)
            log.info("circuit of candidate %s half-open: letting %d probe call(s) through", self.name, self.probes)

    def _open(self, reason: str) -> None:
        self.reason = reason
        self.opened += 1
        self._open_until = self._clock() + self.open_s
        self._enter(CircuitState.OPEN)
        CIRCUIT_OPENED.labels(self.name).inc()
        log.warning("circuit of candidate %s opened: %s; skipping it for %.0fs", self.name, reason, self.open_s)

    def _enter(self, state: CircuitState) -> None:
        self._state = state
        self._generation += 1
        self._recent.clear()
        self._failed = 0
        self._probes_out = self._probes_ok = 0
        CIRCUIT_STATE.labels(self.name).set(state)
