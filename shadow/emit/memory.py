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
    """Records every send. ``fail_start``/``fail_send`` raise ``ConnectionError``; ``hang_start`` never
    returns from ``start`` (a broker that never answers); ``hold`` keeps sends unacknowledged until
    :meth:`release` (or forever)."""

    records: list[PublishedRecord] = field(default_factory=list)
    fail_start: bool = False
    fail_send: bool = False
    hold: bool = False
    hang_start: bool = False
    starts: int = 0
    _held: list[asyncio.Future[Any]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def factory(self) -> Callable[[EmitterSettings], MemoryProducer]:
        """A producer factory that always hands out this producer."""
        return lambda settings: self

    async def start(self) -> None:
        self.starts += 1
        if self.hang_start:
            await asyncio.Event().wait()  # a broker that accepts and never answers
        if self.fail_start:
            raise ConnectionError("memory producer: start refused")

    async def send(self, topic: str, value: bytes, key: bytes | None = None) -> asyncio.Future[Any]:
        if self.fail_send:
            raise ConnectionError("memory producer: send refused")
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        with self._lock:
            self.records.append(PublishedRecord(topic, key, value))
            held = self.hold
            if held:
                self._held.append(future)
        if not held:
            future.set_result(None)
        return future

    def release(self) -> int:
        """Acknowledge every held send (from any thread); how many."""
        with self._lock:
            held, self._held = self._held, []
            self.hold = False
        for future in held:
            future.get_loop().call_soon_threadsafe(_acknowledge, future)
        return len(held)

    async def flush(self) -> None:
        while self.hold and any(not f.done() for f in self._held):  # noqa: ASYNC110 - a test stand-in
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        return None

    def values(self) -> list[bytes]:
        with self._lock:
            return [r.value for r in self.records]


def _acknowledge(future: asyncio.Future[Any]) -> None:
    if not future.done():
        future.set_result(None)
