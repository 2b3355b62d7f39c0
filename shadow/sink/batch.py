"""Batch rows of finished events and write them; report which events are stored.

Events finish in any order and hand over all their rows at once; a flush writes
every buffered row and only then reports the events' positions as stored (so
their offsets can be committed). A failing store is retried with backoff while
events keep buffering; the pipeline's in-flight window then fills and the
source stops reading: backpressure, not a crash.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from shadow.errors import StoreError
from shadow.events.records import Position
from shadow.metrics import ROWS, STORE_FAILURES
from shadow.sink.rows import Row
from shadow.sink.writer import RowSink

log = logging.getLogger(__name__)


@dataclass(slots=True)
class _Pending:
    position: Position
    comparisons: Sequence[Row]
    ingest: Row


class RowBatcher:
    """Buffers finished events' rows and flushes them by size or age."""

    def __init__(
        self,
        sink: RowSink,
        *,
        batch_rows: int,
        flush_interval_s: float,
        on_stored: Callable[[list[Position]], None],
        max_backoff_s: float = 30.0,
    ) -> None:
        self._sink = sink
        self._batch_rows = batch_rows
        self._flush_interval_s = flush_interval_s
        self._on_stored = on_stored
        self._max_backoff_s = max_backoff_s
        self._pending: list[_Pending] = []
        self._rows = 0
        self._lock = asyncio.Lock()
        self._wakeup = asyncio.Event()
        self._oldest: float | None = None
        self.rows_written = 0
        self.flushes = 0
        self.store_failures = 0

    @property
    def buffered_events(self) -> int:
        return len(self._pending)

    def add(self, position: Position, comparisons: Sequence[Row], ingest: Row) -> None:
        """Hand over one finished event's rows (comparison rows may be empty)."""
        self._pending.append(_Pending(position, comparisons, ingest))
        self._rows += len(comparisons) + 1
        if self._oldest is None:
            self._oldest = time.monotonic()
        if self._rows >= self._batch_rows:
            self._wakeup.set()

    def request_flush(self) -> None:
        self._wakeup.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Flush by size or age until ``stop`` is set (the owner flushes one last time)."""
        while not stop.is_set():
            timeout = self._flush_interval_s
            if self._oldest is not None:
                timeout = max(0.0, self._flush_interval_s - (time.monotonic() - self._oldest))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), timeout)
            self._wakeup.clear()
            if self._pending:
                await self.flush(stop)

    async def flush(self, stop: asyncio.Event | None = None) -> bool:
        """Write everything buffered; returns False if ``stop`` was set while the store kept failing."""
        async with self._lock:
            if not self._pending:
                return True
            batch, self._pending, self._rows, self._oldest = self._pending, [], 0, None
            comparisons = [row for p in batch for row in p.comparisons]
            ingest = [p.ingest for p in batch]
            backoff = 0.5
            while True:
                try:
                    await self._sink.write(comparisons, ingest)
                    break
                except StoreError as exc:
                    self.store_failures += 1
                    STORE_FAILURES.inc()
                    if stop is not None and stop.is_set():
                        log.error("giving up on %d buffered events at shutdown: %s", len(batch), exc)
                        return False
                    log.warning(
                        "store write failed (%s); retrying in %.1fs with %d events held",
                        exc,
                        backoff,
                        len(batch),
                    )
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, self._max_backoff_s)
            self.rows_written += len(comparisons)
            ROWS.inc(len(comparisons))
            self.flushes += 1
            self._on_stored([p.position for p in batch])
            return True
