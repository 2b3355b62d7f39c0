"""The event loop's pulse: a task that asks to wake every 50 ms and measures how late it wakes.

A blocked loop stops Kafka heartbeats, commits and ClickHouse writes all at once. How late a
periodic wake-up comes is how long the loop was held by something else (a stall); the watch keeps
the worst since start and the time of its last tick and exports both as metrics. The ``/healthz``
probe runs in a thread, off the loop, and reads :meth:`LoopWatch.check`: a loop that stopped
ticking is stuck, whatever ``/metrics`` still answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from shadow.metrics import LOOP_LAST_TICK, LOOP_STALL, LOOP_STALL_MAX

log = logging.getLogger(__name__)

TICK_INTERVAL_S = 0.05
WARN_STALL_S = 1.0


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
