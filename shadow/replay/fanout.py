"""Fan one event out to every candidate that replays its workflow and API, concurrently.

One failing candidate never cancels its siblings: each call's failure is a :class:`ReplayResult`.
"""

from __future__ import annotations

import asyncio
import logging

from shadow.events.models import MirrorEvent
from shadow.replay.client import MAX_ERROR_CHARS, CandidateClient
from shadow.replay.result import ErrorKind, ReplayResult

log = logging.getLogger(__name__)


class Replayer:
    """Fans one event out to every candidate that replays its workflow and API."""

    def __init__(self, clients: list[CandidateClient]) -> None:
        self.clients = clients

    def targets(self, event: MirrorEvent) -> list[CandidateClient]:
        return [c for c in self.clients if c.settings.replays(event.workflow, event.api)]

    async def replay(self, event: MirrorEvent, targets: list[CandidateClient] | None = None) -> list[ReplayResult]:
        """Replay against all targets concurrently; one result per target, in order."""
        targets = self.targets(event) if targets is None else targets
        return list(await asyncio.gather(*(self._safe(c, event) for c in targets)))

    @staticmethod
    async def _safe(client: CandidateClient, event: MirrorEvent) -> ReplayResult:
        try:
            return await client.replay(event)
        except Exception as exc:
            log.exception("internal error replaying event %s against %s", event.event_id, client.settings.name)
            return ReplayResult(
                candidate=client.settings.name,
                model=client.settings.model or event.production_model,
                output=None,
                error_kind=ErrorKind.INTERNAL_ERROR,
                error_message=f"{type(exc).__name__}: {exc}"[:MAX_ERROR_CHARS],
            )

    async def aclose(self) -> None:
        await asyncio.gather(*(c.aclose() for c in self.clients))
