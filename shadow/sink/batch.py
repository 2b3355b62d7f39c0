"""Batch rows of finished events and write them, retrying a failing store.

Events finish in any order and hand over all their rows at once; a flush writes every buffered
row and returns the positions of the events it stored, so that the checkpoint can commit their
offsets. A failing store is retried with backoff while events keep buffering; once the rows not
stored yet pass ``max_pending_rows`` or ``max_pending_bytes`` the pipeline stops reading:
backpressure, not a crash. Rows waiting here hold no replay slot.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

from shadow.errors import StoreError
from shadow.events.records import Position
from shadow.metrics import ROWS, STORE_FAILURES
from shadow.sink.base import RowSink
from shadow.sink.rows import Row

log = logging.getLogger(__name__)


@dataclass(slots=True)
class _Pending:
    position: Position
    comparisons: Sequence[Row]
    ingest: Row
    size: int


_is_str = str.__instancecheck__


def _size(row: Row) -> int:
    """About what a row weighs: its texts (stored outputs, paths, messages) plus a fixed part for the rest."""
    # map/filter keep the loop over a row's ~90 values in C: this runs for every row handed over.
    return 256 + sum(map(len, filter(_is_str, row.values())))


class RowBatcher:
    """Buffers finished events' rows; a flush is due by size (``batch_rows``) or age (``flush_interval_s``)."""

    def __init__(
        self,
        sink: RowSink,
        *,
        batch_rows: int,
        flush_interval_s: float,
        max_backoff_s: float = 30.0,
        max_pending_rows: int = 20_000,
        max_pending_bytes: int = 64 * 1024 * 1024,
    ) -> None:
        self._sink = sink
        self.max_pending_rows = max_pending_rows
        self.max_pending_bytes = max_pending_bytes
        self.pending_rows = 0  # handed over and not stored yet: buffered, or in the write under way
        self.pending_bytes = 0
        self._room = asyncio.Event()
        self._room.set()
        self._batch_rows = batch_rows
        self._flush_interval_s = flush_interval_s
        self._max_backoff_s = max_backoff_s
        self._pending: list[_Pending] = []
        self._rows = 0
        self._lock = asyncio.Lock()
        self._wakeup = asyncio.Event()
        self._oldest: float | None = None
        self.rows_written = 0
        self.flushes = 0
        self.store_failures = 0
        self.failing_writes = 0  # failed writes since the last one that succeeded (read by /readyz)
        self.failing_since: float | None = None  # time.monotonic() of the first of them

    @property
    def buffered_events(self) -> int:
        return len(self._pending)

    def add(self, position: Position, comparisons: Sequence[Row], ingest: Row) -> None:
        """Hand over one finished event's rows (comparison rows may be empty)."""
        size = _size(ingest) + sum(_size(row) for row in comparisons)
        self._pending.append(_Pending(position, comparisons, ingest, size))
        self._rows += len(comparisons) + 1
        self.pending_rows += len(comparisons) + 1
        self.pending_bytes += size
        if not self.has_room():
            self._room.clear()
            self._wakeup.set()  # full: write now rather than at the next interval
        if self._oldest is None:
            self._oldest = time.monotonic()
        if self._rows >= self._batch_rows:
            self._wakeup.set()

    def request_flush(self) -> None:
        self._wakeup.set()

    def has_room(self) -> bool:
        return self.pending_rows < self.max_pending_rows and self.pending_bytes < self.max_pending_bytes

    async def wait_for_room(self, stop: asyncio.Event) -> bool:
        """Wait while the rows not stored yet are over ``max_pending_rows`` or ``max_pending_bytes``; False on stop."""
        while not self.has_room():
            if stop.is_set():
                return False
            waiters = [asyncio.ensure_future(self._room.wait()), asyncio.ensure_future(stop.wait())]
            try:
                await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for waiter in waiters:
                    waiter.cancel()
        return True

    def _settle(self, batch: Sequence[_Pending]) -> None:
        """The batch left the buffer for good (stored, or given up on at shutdown): room for more."""
        self.pending_rows -= sum(len(p.comparisons) + 1 for p in batch)
        self.pending_bytes -= sum(p.size for p in batch)
        if self.has_room():
            self._room.set()

    async def wait_until_due(self) -> None:
        """Return when a flush is due: enough rows, the oldest row old enough, or a requested flush."""
        timeout = self._flush_interval_s
        if self._oldest is not None:
            timeout = max(0.0, self._flush_interval_s - (time.monotonic() - self._oldest))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wakeup.wait(), timeout)
        self._wakeup.clear()

    async def flush(self, stop: asyncio.Event | None = None) -> list[Position] | None:
        """Write everything buffered; the positions of the events stored (maybe none).

        Returns None when ``stop`` was set while the store kept failing: those events are dropped
        from the buffer unstored, and their offsets must stay uncommitted.
        """
        async with self._lock:
            if not self._pending:
                return []
            batch, self._pending, self._rows, self._oldest = self._pending, [], 0, None
            comparisons = [row for p in batch for row in p.comparisons]
            ingest = [p.ingest for p in batch]
            backoff = 0.5
            while True:
                try:
                    await self._sink.write(comparisons, ingest)
                    self.failing_writes, self.failing_since = 0, None
                    break
                except StoreError as exc:
                    self.store_failures += 1
                    self.failing_writes += 1
                    if self.failing_since is None:
                        self.failing_since = time.monotonic()
                    STORE_FAILURES.inc()
                    if stop is not None and stop.is_set():
                        log.error("giving up on %d buffered events at shutdown: %s", len(batch), exc)
                        self._settle(batch)
                        return None
                    log.warning(
                        "store write failed (%s); retrying in %.1fs with %d events held",
                        exc,
                        backoff,
                        len(batch),
                    )
                    if stop is None:
                        await asyncio.sleep(backoff)
                    else:  # a stop ends the wait: shutdown_grace_s must hold while the store is down
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(stop.wait(), backoff)
                        if stop.is_set():
                            log.error("giving up on %d buffered events at shutdown: %s", len(batch), exc)
                            self._settle(batch)
                            return None
                    backoff = min(backoff * 2, self._max_backoff_s)
            self.rows_written += len(comparisons)
            ROWS.inc(len(comparisons))
            self.flushes += 1
            self._settle(batch)
            return [p.position for p in batch]
