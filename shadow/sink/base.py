"""The seam between batching and storage: what a row sink promises."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from shadow.sink.rows import Row


class RowSink(Protocol):
    """Stores rows durably; returns only once they are stored (or raises StoreError)."""

    async def write(self, comparisons: Sequence[Row], ingest: Sequence[Row]) -> None: ...

    async def close(self) -> None:
        """Finish deferred work (after the last write)."""
