"""Dead letters: records that could not become events, kept with the reason and the original bytes."""

from __future__ import annotations

import asyncio
import base64
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

import orjson

from shadow.errors import DeadLetterError
from shadow.events.records import SourceRecord


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A record that failed, why (``reason`` for people, ``kind`` for grouping)."""

    record: SourceRecord
    kind: str
    reason: str


class DeadLetterSink(Protocol):
    async def start(self) -> None: ...

    async def send(self, letter: DeadLetter) -> None:
        """Store the letter durably; raises DeadLetterError if it cannot."""

    async def close(self) -> None: ...


def dead_letter_json(letter: DeadLetter) -> dict[str, object]:
    """The NDJSON form: position, reason and the original line (text if UTF-8, else base64)."""
    position = letter.record.position
    out: dict[str, object] = {
        "position": str(position),
        "source": position.source,
        "line" if position.kind == "file" else "offset": position.offset,
        "kind": letter.kind,
        "reason": letter.reason,
        "failed_at": datetime.now(UTC).isoformat(),
    }
    try:
        out["raw"] = letter.record.value.decode("utf-8")
    except UnicodeDecodeError:
        out["raw_base64"] = base64.b64encode(letter.record.value).decode()
    return out


class FileDeadLetterSink:
    """Appends dead letters to an NDJSON file (for NDJSON sources)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self.count = 0

    async def start(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)

    def _append(self, line: bytes) -> None:
        with self._lock, self.path.open("ab") as handle:
            handle.write(line)
            handle.flush()

    async def send(self, letter: DeadLetter) -> None:
        line = orjson.dumps(dead_letter_json(letter)) + b"\n"
        try:
            await asyncio.to_thread(self._append, line)
        except OSError as exc:
            raise DeadLetterError(f"cannot write dead letter to {self.path}: {exc}") from exc
        self.count += 1

    async def close(self) -> None:
        return None
