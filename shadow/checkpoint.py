"""Flush-then-commit in one place: rows of finished events are stored before their offsets are committed.

The checkpoint owns the three pieces that decide when an offset may move: the in-flight slots
(how many consumed events are still being replayed), the row batcher (rows waiting for the store,
bounded by count and bytes apart from the slots) and
the offset tracker (per partition, the offset below which every event is stored). The pipeline
hands it records as they are consumed and rows as events finish; nothing else commits.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from dataclasses import replace

from shadow.events.offsets import OffsetTracker
from shadow.events.records import PartitionId, Position, Source, SourceRecord
from shadow.metrics import COMMITS, IN_FLIGHT
from shadow.sink.base import RowSink
from shadow.sink.batch import RowBatcher
from shadow.sink.rows import Row

log = logging.getLogger(__name__)


class InFlightSlots:
    """Counts events in flight (consumed, rows not handed over yet); waits for a free slot."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.used = 0
        self._freed = asyncio.Event()

    async def acquire(self, stop: asyncio.Event) -> bool:
        """Take a slot; False if ``stop`` was set while every slot was taken."""
        while self.used >= self.size:
            if stop.is_set():
                return False
            self._freed.clear()
            waiters = [asyncio.ensure_future(self._freed.wait()), asyncio.ensure_future(stop.wait())]
            try:
                await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for waiter in waiters:
                    waiter.cancel()
        self.used += 1
        IN_FLIGHT.set(self.used)
        return True

    def release(self, count: int = 1) -> None:
        self.used -= count
        IN_FLIGHT.set(self.used)
        self._freed.set()


class Checkpoint:
    """Stores finished events' rows, then commits the offsets below them, per partition.

    A checkpoint (:meth:`checkpoint`) runs these steps; the background loops of :meth:`run` do
    step 1-2 by batch size or age and step 3 every ``commit_interval_s``:

        1. Flush: write every buffered row to the sink (retrying while the store fails).
        2. Mark the stored events finished in the offset tracker (their slots were freed when they
           handed their rows over: :meth:`add`).
        3. Commit to the source the commit points that moved.

    Events whose rows are not stored by the end (abandoned at shutdown, a store that never came
    back) keep their offsets uncommitted and are replayed by the next owner of the partition.
    """

    def __init__(
        self,
        source: Source,
        sink: RowSink,
        *,
        max_in_flight: int,
        batch_rows: int,
        flush_interval_s: float,
        commit_interval_s: float,
        max_pending_rows: int = 20_000,
        max_pending_bytes: int = 64 * 1024 * 1024,
    ) -> None:
        self.source = source
        self.sink = sink
        self.slots = InFlightSlots(max_in_flight)
        self.tracker = OffsetTracker()
        self.batcher = RowBatcher(
            sink,
            batch_rows=batch_rows,
            flush_interval_s=flush_interval_s,
            max_pending_rows=max_pending_rows,
            max_pending_bytes=max_pending_bytes,
        )
        self.assigned: set[PartitionId] = set()  # what the source assigned and did not revoke (for /readyz)
        self._commit_interval_s = commit_interval_s

    # --- what the pipeline hands over ----------------------------------------------------------

    def track(self, record: SourceRecord) -> SourceRecord | None:
        """Note a consumed record as in flight (in arrival order); its position gains the partition's
        generation. None for a record of a partition revoked since it was fetched: its new owner reads it,
        and its offset must not be committed here (the group refuses it, and the refusal would hold back
        the commits of the partitions still owned)."""
        tp = (record.position.source, record.position.partition)
        generation = self.tracker.generation(tp)
        if generation is None:
            return None
        position = replace(record.position, generation=generation)
        self.tracker.track(position)
        return replace(record, position=position)

    def add(self, position: Position, comparisons: Sequence[Row], ingest: Row) -> None:
        """Hand over a finished event's rows and free its slot; its offset may be committed once they are stored.

        The slot is for replaying: rows waiting for a flush do not hold it (they are bounded apart, by
        ``max_pending_rows`` and ``max_pending_bytes``: :meth:`wait_for_room`).
        """
        self.batcher.add(position, comparisons, ingest)
        self.slots.release()

    async def wait_for_room(self, stop: asyncio.Event) -> bool:
        """Wait while too many rows wait to be stored (backpressure on reading); False on stop."""
        return await self.batcher.wait_for_room(stop)

    def abandon(self) -> None:
        """Free the slot of an event that will not be stored in this run; its offset stays uncommitted."""
        self.slots.release()

    def request_flush(self) -> None:
        self.batcher.request_flush()

    # --- partitions ------------------------------------------------------------------------------

    def assign(self, tps: Sequence[PartitionId]) -> None:
        for tp in tps:
            self.tracker.assign(tp)
        self.assigned |= set(tps)

    async def revoke(self, tps: Sequence[PartitionId]) -> dict[PartitionId, int]:
        """Store what is finished and commit it before the partitions move to another worker.

        Events still in flight will be replayed by the new owner (their rows replace each other).
        Returns the offsets committed.
        """
        # Step 1-2.
        await self._flush()
        # Step 3, for the partitions that leave.
        offsets = self.tracker.commit_points(list(tps))
        if offsets:
            await self.source.commit(offsets)
        for tp in tps:
            self.tracker.revoke(tp)
        self.assigned -= set(tps)
        return offsets

    # --- the steps ----------------------------------------------------------------------------

    async def _flush(self, stop: asyncio.Event | None = None) -> None:
        # Step 1.
        stored = await self.batcher.flush(stop)
        if not stored:
            return
        # Step 2.
        for position in stored:
            self.tracker.finish(position)

    async def commit(self) -> None:
        """Step 3: commit the commit points that moved since the last commit."""
        offsets = self.tracker.to_commit()
        if not offsets:
            return
        if await self.source.commit(offsets):
            self.tracker.mark_committed(offsets)
            COMMITS.labels("ok").inc()
        else:
            COMMITS.labels("failed").inc()

    async def checkpoint(self, stop: asyncio.Event | None = None) -> None:
        """Steps 1-3 now; with ``stop`` set, a failing store is given up on rather than retried."""
        await self._flush(stop)
        await self.commit()

    # --- background loops -----------------------------------------------------------------------

    async def run(self, halt: asyncio.Event) -> None:
        """Flush by size or age and commit on an interval until ``halt`` is set (then call :meth:`close`)."""
        await asyncio.gather(self._flush_loop(halt), self._commit_loop(halt))

    async def _flush_loop(self, halt: asyncio.Event) -> None:
        while not halt.is_set():
            await self.batcher.wait_until_due()
            if self.batcher.buffered_events:
                await self._flush(halt)

    async def _commit_loop(self, halt: asyncio.Event) -> None:
        while not halt.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(halt.wait(), self._commit_interval_s)
            await self.commit()

    async def close(self, halt: asyncio.Event) -> None:
        """The last checkpoint (a failing store is given up on: ``halt`` is set)."""
        await self.checkpoint(halt)
