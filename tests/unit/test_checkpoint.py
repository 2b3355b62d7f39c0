"""Flush-then-commit, step by step: rows are stored before any offset below them is committed."""

from __future__ import annotations

import asyncio

from shadow.checkpoint import Checkpoint, InFlightSlots
from shadow.events.memory import ListSource
from shadow.events.records import Position, SourceRecord
from shadow.sink.memory import MemorySink

TP = ("memory", 0)


class RecordingSink(MemorySink):
    """Notes, at each write, what the source had committed by then."""

    def __init__(self, source: ListSource) -> None:
        super().__init__()
        self.source = source
        self.committed_at_write: list[dict[tuple[str, int], int]] = []

    async def write(self, comparisons, ingest) -> None:
        self.committed_at_write.append(dict(self.source.committed))
        await super().write(comparisons, ingest)


async def started(source: ListSource, sink: MemorySink, **options) -> Checkpoint:
    checkpoint = Checkpoint(
        source,
        sink,
        max_in_flight=options.get("max_in_flight", 10),
        batch_rows=1000,
        flush_interval_s=60,
        commit_interval_s=60,
    )

    async def assigned(tps) -> None:
        checkpoint.assign(tps)

    async def revoked(tps) -> None:
        await checkpoint.revoke(tps)

    await source.start(assigned, revoked)
    return checkpoint


def record(offset: int) -> SourceRecord:
    return SourceRecord(b"{}", Position("kafka", TP[0], TP[1], offset))


async def finish(checkpoint: Checkpoint, offset: int) -> Position:
    await checkpoint.slots.acquire(asyncio.Event())
    tracked = checkpoint.track(record(offset))
    checkpoint.add(tracked.position, [{"event_id": str(offset)}], {"offset": offset})
    return tracked.position


async def test_a_checkpoint_stores_then_commits_below_the_stored() -> None:
    source = ListSource([b"{}"] * 3)
    sink = RecordingSink(source)
    checkpoint = await started(source, sink)
    for offset in range(3):
        await finish(checkpoint, offset)
    # Handed over: the slots are free for replaying while the rows wait for the flush; nothing committed yet.
    assert checkpoint.slots.used == 0 and checkpoint.batcher.pending_rows == 6 and source.commits == []

    await checkpoint.checkpoint()

    assert sink.committed_at_write == [{}]  # the write came first
    assert source.committed == {TP: 3}
    assert checkpoint.batcher.pending_rows == 0 and checkpoint.batcher.pending_bytes == 0


async def test_an_unfinished_event_holds_the_commit_point() -> None:
    source = ListSource([b"{}"] * 3)
    checkpoint = await started(source, MemorySink())
    await finish(checkpoint, 0)
    await checkpoint.slots.acquire(asyncio.Event())
    checkpoint.track(record(1))  # consumed, still in flight
    await finish(checkpoint, 2)

    await checkpoint.checkpoint()
    assert source.committed == {TP: 1}
    assert checkpoint.slots.used == 1  # the event still being replayed keeps its slot

    checkpoint.abandon()  # given up on: its slot frees, its offset stays uncommitted
    await checkpoint.checkpoint()
    assert source.committed == {TP: 1} and checkpoint.slots.used == 0


async def test_revoke_commits_the_leaving_partitions_and_forgets_them() -> None:
    source = ListSource([b"{}"] * 2)
    checkpoint = await started(source, MemorySink())
    old = await finish(checkpoint, 0)

    assert await checkpoint.revoke([TP]) == {TP: 1}
    assert source.commits == [{TP: 1}]
    # A late finisher of the old assignment cannot move the commit point of a new one.
    checkpoint.assign([TP])
    checkpoint.add(old, [], {"offset": 0})
    await checkpoint.checkpoint()
    assert source.commits == [{TP: 1}]


async def test_a_store_that_never_answers_is_given_up_on_at_close() -> None:
    source = ListSource([b"{}"])
    sink = MemorySink(fail_times=100)
    checkpoint = await started(source, sink)
    await finish(checkpoint, 0)
    halt = asyncio.Event()
    halt.set()

    await checkpoint.close(halt)

    assert sink.failures == 1 and source.commits == []
    # Never stored: the offset stays uncommitted and is replayed by the next owner.
    assert checkpoint.tracker.to_commit() == {} and checkpoint.batcher.pending_rows == 0


async def test_a_stop_during_the_stores_backoff_ends_the_flush_at_once() -> None:
    """Found by the fault suite: SIGTERM while inserts failed waited out the retry backoff (up to 30 s),
    past ``shutdown_grace_s``. The flush now gives up as soon as the stop comes."""
    source = ListSource([b"{}"])
    sink = MemorySink(fail_times=100)
    checkpoint = await started(source, sink)
    await finish(checkpoint, 0)
    halt = asyncio.Event()
    flushing = asyncio.create_task(checkpoint.checkpoint(halt))
    await asyncio.sleep(2.0)  # the first retries (0.5 s, then 1 s); the next waits 2 s
    failures = sink.failures
    halt.set()
    await asyncio.wait_for(flushing, 0.5)  # not the rest of the backoff

    assert sink.failures == failures and source.commits == []
    assert checkpoint.tracker.to_commit() == {} and checkpoint.batcher.pending_rows == 0


async def test_slots_wait_for_room_and_give_up_on_stop() -> None:
    slots, stop = InFlightSlots(1), asyncio.Event()
    assert await slots.acquire(stop)
    waiting = asyncio.create_task(slots.acquire(stop))
    await asyncio.sleep(0.01)
    assert not waiting.done()
    slots.release()
    assert await waiting
    stopped = asyncio.create_task(slots.acquire(stop))
    await asyncio.sleep(0.01)
    stop.set()
    assert await stopped is False


async def test_rows_waiting_for_the_store_are_bounded_apart_from_the_slots() -> None:
    source = ListSource([b"{}"] * 10)
    sink = MemorySink()
    sink.hold()
    checkpoint = await started(source, sink)
    checkpoint.batcher.max_pending_rows = 4
    stop = asyncio.Event()
    await finish(checkpoint, 0)
    assert checkpoint.batcher.has_room()  # 2 rows of 4
    await finish(checkpoint, 1)
    assert not checkpoint.batcher.has_room()  # 4 rows: reading waits, though every slot is free
    assert checkpoint.slots.used == 0
    waiting = asyncio.create_task(checkpoint.wait_for_room(stop))
    flushing = asyncio.create_task(checkpoint.checkpoint())
    await asyncio.sleep(0.05)
    assert not waiting.done()  # the write is under way, its rows still count
    sink.release()
    await flushing
    assert await asyncio.wait_for(waiting, 1) is True
    assert source.committed == {TP: 2}
    # By bytes too: one row with a long text fills a small byte budget.
    checkpoint.batcher.max_pending_bytes = 10_000
    await checkpoint.slots.acquire(stop)
    tracked = checkpoint.track(record(2))
    checkpoint.add(tracked.position, [{"event_id": "2", "candidate_output": "x" * 20_000}], {"offset": 2})
    assert not checkpoint.batcher.has_room() and checkpoint.batcher.pending_bytes > 20_000
    stop.set()
    assert await checkpoint.wait_for_room(stop) is False
