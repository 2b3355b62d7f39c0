"""The event loop's pulse: a task that asks to wake every 50 ms and measures how late it wakes.

Also what keeps the pulse regular: :func:`off_loop` runs the CPU-heavy steps of big events (decoding,
parsing a big answer, comparing) in one thread beside the loop, and :func:`settle_worker_process`
takes the startup heap out of the garbage collector's full passes and shortens the GIL switch interval.

A blocked loop stops Kafka heartbeats, commits and ClickHouse writes all at once. How late a
periodic wake-up comes is how long the loop was held by something else (a stall); the watch keeps
the worst since start and the time of its last tick and exports both as metrics. The ``/healthz``
probe runs in a thread, off the loop, and reads :meth:`LoopWatch.check`: a loop that stopped
ticking is stuck, whatever ``/metrics`` still answers.

A busy loop also inflates the latencies the worker measures: an answer that has arrived waits in
its socket until the loop gets to it. :meth:`LoopWatch.lag_s` says how late the loop was during one
call (a binary search over the few ticks a :class:`LagHistory` keeps), and the replay client stores
it beside the candidate's latency. The client finds the watch with :func:`current_watch`: a running
watch is the current one for the code that started it and every task started from there (a context
variable, so two workers in one process, or two tests, each see their own, and none outlives its run).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import sys
import time
from bisect import bisect_left
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextvars import ContextVar
from typing import ParamSpec, TypeVar

from shadow.metrics import LOOP_LAST_TICK, LOOP_STALL, LOOP_STALL_MAX

log = logging.getLogger(__name__)

TICK_INTERVAL_S = 0.05
WARN_STALL_S = 1.0

P = ParamSpec("P")
T = TypeVar("T")

# One thread for the CPU-heavy steps of big events: the GIL runs one of them at a time anyway, and a
# single thread keeps the loop's share of the GIL predictable (the loop waits at most one switch
# interval for it, not one per busy thread).
CPU_THREAD = ThreadPoolExecutor(max_workers=1, thread_name_prefix="shadow-cpu")


async def off_loop(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """``fn(*args, **kwargs)`` in the CPU thread; the loop goes on serving Kafka, ClickHouse and probes."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(CPU_THREAD, lambda: fn(*args, **kwargs))


SWITCH_INTERVAL_S = 0.001


def settle_worker_process() -> None:
    """Make the process kind to its event loop once it has started, before the first event.

    - Freeze the startup heap: a full (generation 2) collection walks every tracked object, and a
      worker's startup heap (aiokafka, pydantic, chDB, the HTTP stack) makes that 50-75 ms with the
      GIL held, a stall of the loop from whichever thread triggers it. Frozen objects are never
      walked again (``gc.freeze``), so later collections cost only what the worker allocated since.
    - A 1 ms GIL switch interval (Python's default is 5 ms): each time the loop releases the GIL for
      a socket call while the CPU thread works, it waits up to one interval to win it back; a loop
      turn makes dozens of such calls.
    """
    gc.collect()
    gc.freeze()
    sys.setswitchinterval(SWITCH_INTERVAL_S)


class LagHistory:
    """The loop's stalls, kept so that "the worst since ``t``" costs one binary search.

    Each tick adds ``(ran, lag)``: it ran at ``ran``, ``lag`` seconds after it was due, so the loop was
    busy elsewhere over ``[ran - lag, ran]``. Ticks come in time order and these spans do not overlap
    (a tick is due only after the one before it ran). Kept are the ticks no later tick outdoes: their
    lags fall from the oldest to the newest, and each new tick drops those it equals or outdoes
    (amortized O(1) per tick). The worst stall since ``t`` is then the first kept tick that ran at or
    after ``t`` (its stall counted from ``t`` on when it began before ``t``), or the kept tick after it,
    which outdoes every later one.

    A loop whose stalls keep falling for ``max_kept`` ticks in a row would keep them all; the oldest
    then fold into a floor charged to any span that starts before them: an overestimate, never less.
    """

    __slots__ = ("_floor_lag", "_floor_ran", "_lags", "_rans", "max_kept")

    def __init__(self, max_kept: int = 1024) -> None:
        self.max_kept = max_kept
        self._rans: list[float] = []
        self._lags: list[float] = []
        self._floor_ran = float("-inf")
        self._floor_lag = 0.0

    def __len__(self) -> int:
        return len(self._rans)

    def add(self, ran: float, lag: float) -> None:
        """Record a tick that ran at ``ran``, ``lag`` seconds late (not before the last one added)."""
        rans, lags = self._rans, self._lags
        while lags and lags[-1] <= lag:
            rans.pop()
            lags.pop()
        rans.append(ran)
        lags.append(lag)
        if len(rans) > self.max_kept:
            self._floor_ran = rans.pop(0)
            self._floor_lag = max(self._floor_lag, lags.pop(0))

    def worst_since(self, start: float) -> float:
        """The longest part after ``start`` of any recorded stall, in seconds (0 when none reached past it)."""
        rans, lags = self._rans, self._lags
        worst = self._floor_lag if start < self._floor_ran else 0.0
        i = bisect_left(rans, start)
        if i < len(rans):
            worst = max(worst, min(lags[i], rans[i] - start))
            if i + 1 < len(rans):
                worst = max(worst, lags[i + 1])
        return worst


_CURRENT: ContextVar[LoopWatch | None] = ContextVar("shadow_loop_watch", default=None)


def current_watch() -> LoopWatch | None:
    """The running watch of the code that calls this (see the module docstring); ``None`` when none runs."""
    return _CURRENT.get()


class LoopWatch:
    """Measures the stalls of the event loop it runs on; readable from any thread.

    ``worst_stall_s`` is the longest stall since :meth:`start`, in seconds; ``last_tick`` the
    ``time.perf_counter()`` of the last tick (the clock of the replay client's latencies, so that
    :meth:`lag_s` takes its readings). A stall still under way shows in :meth:`since_last_tick_s`
    (and in :meth:`check`), not in ``worst_stall_s``, which is only known once the loop is free again.
    """

    def __init__(self, interval_s: float = TICK_INTERVAL_S, *, warn_stall_s: float = WARN_STALL_S) -> None:
        self.interval_s = interval_s
        self.warn_stall_s = warn_stall_s
        self.worst_stall_s = 0.0
        self.ticks = 0
        self.last_tick = time.perf_counter()
        self.history = LagHistory()
        self._due = self.last_tick
        self._task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        """Start ticking on the running loop (again after :meth:`stop`; a no-op while running).

        The watch becomes :func:`current_watch` for the caller and the tasks it starts from now on.
        """
        if self.running:
            return
        self.last_tick = time.perf_counter()
        self._due = self.last_tick + self.interval_s
        self._task = asyncio.get_running_loop().create_task(self._tick_forever(), name="shadow-loopwatch")
        _CURRENT.set(self)

    async def stop(self) -> None:
        """Stop ticking; the figures stay readable (and :meth:`check` turns false after its threshold).

        A stall the loop had just before (a tick that is due and not run yet) still counts.
        The caller's :func:`current_watch` is none again if it was this one.
        """
        if _CURRENT.get() is self:
            _CURRENT.set(None)
        task, self._task = self._task, None
        if task is not None:
            now = time.perf_counter()
            self._tick(now, max(0.0, now - self._due))
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def since_last_tick_s(self) -> float:
        """Seconds since the last tick (about ``interval_s`` on a free loop; grows while it is blocked)."""
        return max(0.0, time.perf_counter() - self.last_tick)

    def lag_s(self, start: float, end: float) -> float | None:
        """How late the loop was at worst between ``start`` and ``end`` (``time.perf_counter()`` readings), in s.

        Counts the stalls of the ticks run since ``start`` (one under way at ``start`` from ``start`` on)
        and the tick due and not run at ``end``: the loop has been busy since it was due. ``end`` is meant
        to be now, read with no ``await`` since (stalls after it would count too). A loop blocked for D
        seconds shows as at least D minus one tick interval (the block may begin before a tick is due).
        A binary search over the kept ticks (a handful on a healthy loop). ``None`` when not running.
        """
        if not self.running:
            return None
        worst = self.history.worst_since(start)
        pending = end - (self._due if self._due > start else start)
        return pending if pending > worst else worst

    def check(self, threshold_s: float) -> tuple[bool, str]:
        """Whether the loop ticked within ``threshold_s`` seconds, and a sentence saying so."""
        age = self.since_last_tick_s()
        figures = f"last tick {age:.3f}s ago, worst stall {self.worst_stall_s:.3f}s"
        if not self.running:
            return False, f"the event loop watch is not running ({figures})"
        if age > threshold_s:
            return False, f"the event loop has been blocked for {age:.1f}s (threshold {threshold_s:g}s; {figures})"
        return True, figures

    async def _tick_forever(self) -> None:
        while True:
            self._due = time.perf_counter() + self.interval_s
            await asyncio.sleep(self.interval_s)
            now = time.perf_counter()
            self._tick(now, max(0.0, now - self._due))

    def _tick(self, now: float, stall_s: float) -> None:
        self.ticks += 1
        self.last_tick = now
        self.history.add(now, stall_s)
        LOOP_LAST_TICK.set_to_current_time()
        LOOP_STALL.observe(stall_s)
        if stall_s > self.worst_stall_s:
            self.worst_stall_s = stall_s
            LOOP_STALL_MAX.set(stall_s)
        if stall_s >= self.warn_stall_s:
            log.warning("the event loop was blocked for %.2fs; Kafka heartbeats, commits and writes waited", stall_s)
