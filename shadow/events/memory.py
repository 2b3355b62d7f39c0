"""In-memory stand-ins of the source and dead-letter seams: records from a list, letters into a list.

They let the pipeline's commit, revoke and backpressure logic run in unit tests without Kafka, and
let a caller feed events it already holds. A :class:`ListSource` behaves like one Kafka consumer:
partitions are assigned at start, records come in partition order, commits are recorded, and a
test can revoke or re-assign partitions between fetches.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Iterable

from shadow.errors import DeadLetterError
from shadow.events.dead_letters import DeadLetter
from shadow.events.records import PartitionId, PartitionsCallback, Position, SourceRecord


class ListSource:
    """Yields records given as ``(partition, value)`` pairs (or plain values, partition 0).

    Offsets count from 0 per partition in the order given. Records of a partition not assigned
    when they come up are not delivered here (another consumer of the group owns them). With
    ``end_when_empty`` (the default) the input ends once every record was fetched; otherwise fetch
    waits, as an idle topic does.
    """

    def __init__(
        self,
        values: Iterable[bytes | tuple[int, bytes]],
        *,
        topic: str = "memory",
        batch_records: int = 100,
        end_when_empty: bool = True,
        refuse_commits: bool = False,
    ) -> None:
        self.topic = topic
        self._batch = batch_records
        self._end_when_empty = end_when_empty
        self.refuse_commits = refuse_commits
        self._queue: deque[SourceRecord] = deque()
        self._next_offset: dict[int, int] = {}
        self._on_assigned: PartitionsCallback | None = None
        self._on_revoked: PartitionsCallback | None = None
        self._arrived = asyncio.Event()
        self.assigned: set[PartitionId] = set()
        self.commits: list[dict[PartitionId, int]] = []
        self.committed: dict[PartitionId, int] = {}
        self.fetched = 0
        self.stopped = False
        self.extend(values)

    def extend(self, values: Iterable[bytes | tuple[int, bytes]]) -> None:
        """Append records (to an idle source, say); they get the next offsets of their partitions."""
        for item in values:
            partition, value = item if isinstance(item, tuple) else (0, item)
            offset = self._next_offset.get(partition, 0)
            self._next_offset[partition] = offset + 1
            self._queue.append(SourceRecord(value, Position("kafka", self.topic, partition, offset)))
        self._arrived.set()

    def partitions(self) -> list[PartitionId]:
        return sorted((self.topic, p) for p in self._next_offset) or [(self.topic, 0)]

    async def start(self, on_assigned: PartitionsCallback, on_revoked: PartitionsCallback) -> None:
        self._on_assigned, self._on_revoked = on_assigned, on_revoked
        await self.assign(self.partitions())

    async def assign(self, tps: list[PartitionId]) -> None:
        """Hand partitions to the consumer, as a group rebalance does."""
        assert self._on_assigned is not None, "start() first"
        self.assigned |= set(tps)
        await self._on_assigned(tps)

    async def revoke(self, tps: list[PartitionId]) -> None:
        """Take partitions away: the consumer's revoke callback runs before they are gone."""
        assert self._on_revoked is not None, "start() first"
        await self._on_revoked(tps)
        self.assigned -= set(tps)

    async def fetch(self, timeout_s: float) -> list[SourceRecord] | None:
        if not self._queue:
            if self._end_when_empty:
                return None
            self._arrived.clear()
            try:
                await asyncio.wait_for(self._arrived.wait(), timeout_s)
            except TimeoutError:
                return []
        batch: list[SourceRecord] = []
        while self._queue and len(batch) < self._batch:
            record = self._queue.popleft()
            if (record.position.source, record.position.partition) in self.assigned:
                batch.append(record)
        self.fetched += len(batch)
        return batch

    async def commit(self, offsets: dict[PartitionId, int]) -> bool:
        if self.refuse_commits:
            return False
        self.commits.append(dict(offsets))
        self.committed.update(offsets)
        return True

    async def stop(self) -> None:
        self.stopped = True


class ListDeadLetterSink:
    """Keeps dead letters in a list; ``fail_times`` makes the next sends fail (a broker outage)."""

    def __init__(self, fail_times: int = 0) -> None:
        self.letters: list[DeadLetter] = []
        self.fail_times = fail_times

    async def start(self) -> None:
        return None

    async def send(self, letter: DeadLetter) -> None:
        if self.fail_times > 0:
            self.fail_times -= 1
            raise DeadLetterError("dead-letter sink unavailable (simulated)")
        self.letters.append(letter)

    async def close(self) -> None:
        return None
