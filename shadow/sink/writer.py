"""Where batches of rows go: ClickHouse (server or chDB), or a list in memory for tests."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from shadow.sink.rows import COMPARISON_COLUMNS, INGEST_COLUMNS, Row, as_values
from shadow.sink.store import ClickHouseStore


class RowSink(Protocol):
    """Stores rows durably; returns only once they are stored (or raises StoreError)."""

    async def write(self, comparisons: Sequence[Row], ingest: Sequence[Row]) -> None: ...


class ClickHouseSink:
    """Inserts comparison rows, then ingest-log rows, into the configured database."""

    def __init__(self, store: ClickHouseStore) -> None:
        self.store = store

    async def write(self, comparisons: Sequence[Row], ingest: Sequence[Row]) -> None:
        # Comparison rows first: an ingest row claiming "replayed" must never precede its rows.
        await self.store.ainsert(
            "comparisons", [as_values(r, COMPARISON_COLUMNS) for r in comparisons], COMPARISON_COLUMNS
        )
        await self.store.ainsert("ingest_log", [as_values(r, INGEST_COLUMNS) for r in ingest], INGEST_COLUMNS)


class ListSink:
    """Keeps rows in memory (tests and dry runs)."""

    def __init__(self) -> None:
        self.comparisons: list[Row] = []
        self.ingest: list[Row] = []
        self.writes = 0

    async def write(self, comparisons: Sequence[Row], ingest: Sequence[Row]) -> None:
        self.comparisons.extend(comparisons)
        self.ingest.extend(ingest)
        self.writes += 1
