"""Time windows and filters of the read side (summary, gate, report, serve and the demo).

``--since 6h`` / ``--from``/``--to`` become a :class:`Window`; a :class:`Filters` adds the
candidate, workflow and tenant that the SQL pack's queries take as parameters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from shadow.errors import ConfigError

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
FAR_FUTURE = datetime(2100, 1, 1, tzinfo=UTC)
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)\s*([smhdw])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str) -> timedelta:
    """``90s``, ``15m``, ``1h``, ``7d``, ``2w`` → timedelta."""
    match = _DURATION.match(text.strip())
    if match is None:
        raise ConfigError(f"duration {text!r} must look like 30m, 1h, 7d or 2w")
    return timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2)])


def parse_time(text: str) -> datetime:
    """An ISO 8601 timestamp; naive values are UTC."""
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise ConfigError(f"time {text!r} must be ISO 8601, e.g. 2026-11-23T08:00:00Z") from exc
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Window:
    """A time window over ``occurred_at`` (open-ended when a bound is None)."""

    start: datetime | None = None
    end: datetime | None = None

    @classmethod
    def from_options(
        cls, since: str | None = None, start: str | None = None, end: str | None = None, now: datetime | None = None
    ) -> Window:
        if since and start:
            raise ConfigError("give --since or --from, not both")
        now = now or datetime.now(UTC)
        if since:
            return cls(now - parse_duration(since), parse_time(end) if end else None)
        window = cls(parse_time(start) if start else None, parse_time(end) if end else None)
        if window.start and window.end and window.start >= window.end:
            raise ConfigError("--from must be before --to")
        return window

    def bounds(self, now: datetime | None = None) -> tuple[datetime, datetime]:
        """Concrete [start, end): all time starts at the epoch, an open end is now (plus a margin)."""
        now = now or datetime.now(UTC)
        return self.start or EPOCH, self.end or (now + timedelta(minutes=1))

    def describe(self) -> str:
        if self.start is None and self.end is None:
            return "all time"
        left = self.start.strftime("%Y-%m-%d %H:%M UTC") if self.start else "the beginning"
        right = self.end.strftime("%Y-%m-%d %H:%M UTC") if self.end else "now"
        return f"{left} → {right}"


@dataclass(frozen=True, slots=True)
class Filters:
    """What a read-side query looks at: a window and optional candidate, workflow and tenant."""

    window: Window = Window()
    candidate: str | None = None
    workflow: str | None = None
    tenant: str | None = None

    def params(self) -> dict[str, Any]:
        return {"candidate": self.candidate, "workflow": self.workflow, "tenant": self.tenant}


def floor_hour(value: datetime) -> datetime:
    return value.replace(minute=0, second=0, microsecond=0)


def ceil_hour(value: datetime) -> datetime:
    floored = floor_hour(value)
    return floored if floored == value else floored + timedelta(hours=1)
