"""NDJSON source: mirror events from a file or stdin, one per line (embedded default, backfills)."""

from __future__ import annotations

import asyncio
import sys
from typing import BinaryIO

from shadow.errors import SourceError
from shadow.events.records import PartitionId, PartitionsCallback, Position, SourceRecord


class NdjsonSource:
    """Reads lines in batches; positions are ``file:line`` (1-based). Blank lines are skipped."""

    def __init__(self, path: str, batch_lines: int = 500) -> None:
        self.path = path
        self.name = "<stdin>" if path == "-" else path
        self._batch_lines = batch_lines
        self._handle: BinaryIO | None = None
        self._line = 0
        self._done = False

    async def start(self, on_assigned: PartitionsCallback, on_revoked: PartitionsCallback) -> None:
        try:
            self._handle = sys.stdin.buffer if self.path == "-" else open(self.path, "rb")  # noqa: SIM115, ASYNC230 - one open at start
        except OSError as exc:
            raise SourceError(f"cannot read {self.path}: {exc.strerror}") from exc
        await on_assigned([(self.name, 0)])

    def _read(self) -> list[SourceRecord] | None:
        assert self._handle is not None
        records: list[SourceRecord] = []
        while len(records) < self._batch_lines:
            line = self._handle.readline()
            if not line:
                self._done = True
                break
            self._line += 1
            value = line.rstrip(b"\r\n")
            if value.strip():
                records.append(SourceRecord(value, Position("file", self.name, 0, self._line)))
        if not records and self._done:
            return None
        return records

    async def fetch(self, timeout_s: float) -> list[SourceRecord] | None:
        """The next lines; None once the input is exhausted."""
        if self._done:
            return None
        try:
            return await asyncio.to_thread(self._read)
        except OSError as exc:
            raise SourceError(f"cannot read {self.name}: {exc}") from exc

    async def commit(self, offsets: dict[PartitionId, int]) -> bool:
        return True

    async def stop(self) -> None:
        if self._handle is not None and self.path != "-":
            self._handle.close()
        self._handle = None
