"""The event loop's pulse: a task that asks to wake every 50 ms and measures how late it wakes.

Also what keeps the pulse regular: :func:`off_loop` runs the CPU-heavy steps of big events (decoding,
parsing a big answer, comparing) in one thread beside the loop, and :func:`settle_worker_process`
takes the startup heap out of the garbage collector's full passes and shortens the GIL switch interval.

A blocked loop stops Kafka heartbeats, commits and ClickHouse writes all at once. How late a
periodic wake-up comes is how long the loop was held by something else (a stall); the watch keeps
the worst since start and the time of its last tick and exports both as metrics. The ``/healthz``
probe runs in a thread, off the loop, and reads :meth:`LoopWatch.check`: a loop that stopped
ticking is stuck, whatever ``/metrics`` still answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
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


class LoopWatch:
    """Measures the stalls of the event loop it runs on; readable from any thread.

    ``worst_stall_s`` is the longest stall since :meth:`start`, in seconds; ``last_tick`` the
    ``time.monotonic()`` of the last tick. A stall still under way shows in :meth:`since_last_tick_s`
    (and in :meth:`check`), not in ``worst_stall_s``, which is only known once the loop is free again.
    """

    def __init__(self, interval_s: float = TICK_INTERVAL_S, *, warn_stall_s: float = WARN_STALL_S) -> None:
        self.interval_s = interval_s
        self.warn_stall_s = warn_stall_s
        self.worst_stall_s = 0.0
        self.ticks = 0
        self.last_tick = time.monotonic()
        self._due = self.last_tick
        self._task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        """Start ticking on the running loop (again after :meth:`stop`; a no-op while running)."""
        if self.running:
            return
        self.last_tick = time.monotonic()
        self._task = asyncio.get_running_loop().create_task(self._tick_forever(), name="shadow-loopwatch")

    async def stop(self) -> None:
        """Stop ticking; the figures stay readable (and :meth:`check` turns false after its threshold).

        A stall the loop had just before (a tick that is due and not run yet) still counts.
        """
        task, self._task = self._task, None
        if task is not None:
            now = time.monotonic()
            self._tick(now, max(0.0, now - self._due))
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def since_last_tick_s(self) -> float:
        """Seconds since the last tick (about ``interval_s`` on a free loop; grows while it is blocked)."""
        return max(0.0, time.monotonic() - self.last_tick)

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
            self._due = time.monotonic() + self.interval_s
            await asyncio.sleep(self.interval_s)
            now = time.monotonic()
            self._tick(now, max(0.0, now - self._due))

    def _tick(self, now: float, stall_s: float) -> None:
        self.ticks += 1
        self.last_tick = now
        LOOP_LAST_TICK.set_to_current_time()
        LOOP_STALL.observe(stall_s)
        if stall_s > self.worst_stall_s:
            self.worst_stall_s = stall_s
            LOOP_STALL_MAX.set(stall_s)
        if stall_s >= self.warn_stall_s:
            log.warning("the event loop was blocked for %.2fs; Kafka heartbeats, commits and writes waited", stall_s)
