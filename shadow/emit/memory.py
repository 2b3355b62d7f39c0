"""An in-memory producer: what the emitter would publish, kept in a list (tests, a service's own tests).

``MemoryProducer`` stands in for the Kafka producer behind :class:`shadow.emit.Emitter`
(``producer_factory=MemoryProducer.factory()``); it can be told to fail starting or sending, or to hold
acknowledgements back, to exercise the emitter's drop accounting without a broker.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from shadow.emit.settings import EmitterSettings

__all__ = ["MemoryProducer", "PublishedRecord"]


@dataclass(frozen=True, slots=True)
class PublishedRecord:
    topic: str
    key: bytes | None
    value: bytes


@dataclass
class MemoryProducer:
    """Records every send. ``fail_start``/``fail_send`` raise ``ConnectionError``; ``hold`` keeps sends
    unacknowledged until :meth:`release` (or forever)."""

    records: list[PublishedRecord] = field(default_factory=list)
    fail_start: bool = False
    fail_send: bool = False
    hold: bool = False
    starts: int = 0
    _held: list[asyncio.Future[Any]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def factory(self) -> Callable[[EmitterSettings], MemoryProducer]:
        """A producer factory that always hands out this producer."""
        return lambda settings: self

    async def start(self) -> None:
        self.starts += 1
        if self.fail_start:
            raise ConnectionError("memory producer: start refused")

    async def send(self, topic: str, value: bytes, key: bytes | None = None) -> asyncio.Future[Any]:
        if self.fail_send:
            raise ConnectionError("memory producer: send refused")
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        with self._lock:
            self.records.append(PublishedRecord(topic, key, value))
        if self.hold:
            self._held.append(future)
        else:
            future.set_result(None)
        return future

    async def flush(self) -> None:
        while self.hold and any(not f.done() for f in self._held):  # noqa: ASYNC110 - a test stand-in
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        return None

    def values(self) -> list[bytes]:
        with self._lock:
            return [r.value for r in self.records]
