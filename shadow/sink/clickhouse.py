"""The production row sink: batches of rows into ClickHouse, a server or embedded chDB."""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import UTC, datetime

from shadow.sink.rows import COMPARISON_COLUMNS, INGEST_COLUMNS, Row
from shadow.storage.rollup import refresh_statement, settled_hours
from shadow.storage.store import ClickHouseStore


class ClickHouseSink:
    """Inserts comparison rows, then ingest-log rows, into the configured database.

    Rows for hours that summaries already read from the rollups (a backfill, a replay backlog)
    mark those hours dirty; they are recomputed at most every ``rollup_debounce_s`` and at close.
    """

    def __init__(self, store: ClickHouseStore, rollup_debounce_s: float = 30.0) -> None:
        self.store = store
        self._dirty: set[datetime] = set()
        self._debounce_s = rollup_debounce_s
        self._last_refresh = time.monotonic()

    async def write(self, comparisons: Sequence[Row], ingest: Sequence[Row]) -> None:
        # Comparison rows first: an ingest row claiming "replayed" must never precede its rows. Both
        # inserts go in one trip to the store's thread, which also puts the rows in column order.
        await self.store.ainsert_rows(
            [("comparisons", comparisons, COMPARISON_COLUMNS), ("ingest_log", ingest, INGEST_COLUMNS)]
        )
        self._dirty |= settled_hours((r["occurred_at"] for r in comparisons), datetime.now(UTC))
        if self._dirty and time.monotonic() - self._last_refresh >= self._debounce_s:
            await self.refresh_rollups()

    async def refresh_rollups(self) -> None:
        """Recompute the rollups of the dirty hours."""
        hours, self._dirty = sorted(self._dirty), set()
        for hour in hours:
            await self.store.acommand(refresh_statement(self.store), {"hour": hour})
        self._last_refresh = time.monotonic()

    async def close(self) -> None:
        if self._dirty:
            await self.refresh_rollups()
