"""Which offsets are safe to commit when events finish out of order.

Per partition, offsets are tracked in arrival order; the commit point (the next
offset to read, as Kafka defines a committed offset) is the lowest offset whose
rows are not stored yet, or one past the last offset when all are stored.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from shadow.events.records import PartitionId, Position


@dataclass(slots=True)
class _Partition:
    generation: int
    pending: deque[int] = field(default_factory=deque)
    finished: set[int] = field(default_factory=set)
    commit_point: int | None = None
    committed: int | None = None


class OffsetTracker:
    """Tracks in-flight offsets per partition and yields safe commit points."""

    def __init__(self) -> None:
        self._partitions: dict[PartitionId, _Partition] = {}
        self._revoked: set[PartitionId] = set()
        self._generation = 0

    def assign(self, tp: PartitionId) -> int:
        """Start tracking a newly assigned partition; returns its generation."""
        self._generation += 1
        self._partitions[tp] = _Partition(self._generation)
        self._revoked.discard(tp)
        return self._generation

    def revoke(self, tp: PartitionId) -> None:
        """Forget a partition; late completions of its events are ignored, and its records are no longer
        tracked until it is assigned again (they belong to its new owner)."""
        self._partitions.pop(tp, None)
        self._revoked.add(tp)

    def generation(self, tp: PartitionId) -> int | None:
        """The partition's generation; a partition never assigned (a source without a group) starts one;
        None for a partition revoked and not assigned again."""
        part = self._partitions.get(tp)
        if part is None:
            return None if tp in self._revoked else self.assign(tp)
        return part.generation

    def track(self, position: Position) -> None:
        """Record that an event at ``position`` is in flight (call in arrival order)."""
        part = self._partitions.get((position.source, position.partition))
        if part is None or part.generation != position.generation:
            return
        part.pending.append(position.offset)

    def finish(self, position: Position) -> None:
        """Record that the event's rows (or dead letter) are stored."""
        part = self._partitions.get((position.source, position.partition))
        if part is None or part.generation != position.generation:
            return
        part.finished.add(position.offset)
        while part.pending and part.pending[0] in part.finished:
            offset = part.pending.popleft()
            part.finished.discard(offset)
            part.commit_point = offset + 1

    def in_flight(self) -> int:
        return sum(len(p.pending) for p in self._partitions.values())

    def to_commit(self) -> dict[PartitionId, int]:
        """Commit points that moved since the last :meth:`mark_committed`."""
        return {
            tp: p.commit_point
            for tp, p in self._partitions.items()
            if p.commit_point is not None and p.commit_point != p.committed
        }

    def commit_points(self, tps: list[PartitionId] | None = None) -> dict[PartitionId, int]:
        """Current commit points (moved or not) of the given partitions (default all)."""
        chosen = self._partitions if tps is None else {tp: self._partitions[tp] for tp in tps if tp in self._partitions}
        return {tp: p.commit_point for tp, p in chosen.items() if p.commit_point is not None}

    def mark_committed(self, offsets: dict[PartitionId, int]) -> None:
        for tp, offset in offsets.items():
            part = self._partitions.get(tp)
            if part is not None:
                part.committed = offset
