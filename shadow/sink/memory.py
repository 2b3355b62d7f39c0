"""An in-memory row sink: the real stand-in for ClickHouse in unit tests of batching and commits.

It keeps what it is given in lists, and can fail (``fail_times``, a ClickHouse outage) or hold
writes until released (``hold()``/``release()``, a slow store) so that retry and backpressure
paths run without a database.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from shadow.errors import StoreError
from shadow.sink.rows import Row


class MemorySink:
    """Collects comparison and ingest rows; every ``write`` call is one batch."""

    def __init__(self, fail_times: int = 0) -> None:
        self.comparisons: list[Row] = []
        self.ingest: list[Row] = []
        self.batches: list[tuple[int, int]] = []
        self.fail_times = fail_times
        self.failures = 0
        self.closed = False
        self._open = asyncio.Event()
        self._open.set()

    def hold(self) -> None:
        """Make writes wait until :meth:`release` (a store that stopped answering)."""
        self._open.clear()

    def release(self) -> None:
        self._open.set()

    async def write(self, comparisons: Sequence[Row], ingest: Sequence[Row]) -> None:
        await self._open.wait()
        if self.fail_times > 0:
            self.fail_times -= 1
            self.failures += 1
            raise StoreError("store unavailable (simulated)")
        self.comparisons.extend(comparisons)
        self.ingest.extend(ingest)
        self.batches.append((len(comparisons), len(ingest)))

    async def close(self) -> None:
        self.closed = True
