"""What sources yield: raw record bytes and where they came from."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal, Protocol


@dataclass(frozen=True, slots=True)
class Position:
    """Where a record came from: a Kafka topic/partition/offset or a file line.

    ``generation`` counts partition assignments so that an event finished after
    its partition was revoked and re-assigned cannot move the new commit point.
    """

    kind: Literal["kafka", "file"]
    source: str
    partition: int
    offset: int
    generation: int = 0

    def __str__(self) -> str:
        if self.kind == "file":
            return f"{self.source}:{self.offset}"
        return f"{self.source}/{self.partition}@{self.offset}"


@dataclass(frozen=True, slots=True)
class SourceRecord:
    """One undecoded message: the bytes, its key and its position."""

    value: bytes
    position: Position
    key: bytes | None = None
    timestamp_ms: int | None = None


PartitionId = tuple[str, int]
"""A partition as (topic or file, partition number); named apart from aiokafka's ``TopicPartition``."""

PartitionsCallback = Callable[[list[PartitionId]], Awaitable[None]]


class Source(Protocol):
    """What the pipeline reads from: a Kafka consumer group or an NDJSON input."""

    async def start(self, on_assigned: PartitionsCallback, on_revoked: PartitionsCallback) -> None: ...

    async def fetch(self, timeout_s: float) -> list[SourceRecord] | None:
        """Records available within ``timeout_s`` (maybe none); None when the input has ended."""

    async def commit(self, offsets: dict[PartitionId, int]) -> bool:
        """Commit next-offsets-to-read; False when the commit was refused."""

    async def stop(self) -> None: ...
