"""Fan one event out to every candidate whose scope admits it, concurrently.

Which candidates an event reaches is each candidate's scope (``CandidateSettings.scope_skip``:
workflows, APIs, tenants, services, environments, its own sample rate); :meth:`Replayer.route` also
says why each other candidate is left out, for the event's ``ingest_log`` row.

One failing candidate never cancels its siblings: each call's failure is a :class:`ReplayResult`.
A candidate whose circuit breaker (``shadow.replay.breaker``) is open is not waited for: its
result is a skip (``ErrorKind.CIRCUIT_OPEN``, stored with status ``skipped``) made at once.

When a breaker opens, the calls to that candidate still in flight are cancelled and become skips
too: they are queued behind its concurrency limit or waiting on a candidate just judged
unavailable, and an event that waited for them would hold its slot for up to ``timeout_s`` per
queued call. The cost: an answer that would still have arrived is dropped — at most
``max_concurrency`` calls each time the breaker opens.

The control plane (``shadow.events.control``) works the same way: a candidate disabled or paused
there (``shadow ctl``) is skipped at once (``ErrorKind.KILLED`` or ``PAUSED``), and its calls in
flight when the change arrives are cancelled into skips of that kind: the event's other candidates
still complete, and its offset is committed once its rows are stored.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field

from shadow.config import ScopeSkip
from shadow.events.control import ControlRecord, ControlState, Limits
from shadow.events.models import MirrorEvent
from shadow.metrics import CIRCUIT_SKIPPED, CONTROL_SKIPPED
from shadow.replay.breaker import CircuitBreaker, Clock, Permit
from shadow.replay.client import MAX_ERROR_CHARS, CandidateClient
from shadow.replay.limits import SpendLedger
from shadow.replay.result import ErrorKind, ReplayResult

log = logging.getLogger(__name__)

AUTH_STATUSES = frozenset({401, 403, 429})


@dataclass(slots=True, eq=False)
class _Lane:
    """One candidate's client, its breaker (None when disabled) and its calls in flight."""

    client: CandidateClient
    breaker: CircuitBreaker | None
    in_flight: set[asyncio.Task[object]] = field(default_factory=set)
    abandoned: dict[asyncio.Task[object], tuple[ErrorKind, str]] = field(default_factory=dict)
    """Calls cancelled by this module (the breaker opened, the candidate was disabled), with the skip they become."""
    auth_errors: int = 0
    """401/403/429 answers in a row (``auto_pause_auth_errors``)."""

    def skip(
        self, event: MirrorEvent, reason: str, kind: ErrorKind = ErrorKind.CIRCUIT_OPEN, *, count: bool = True
    ) -> ReplayResult:
        settings = self.client.settings
        if count and kind is ErrorKind.CIRCUIT_OPEN:
            CIRCUIT_SKIPPED.labels(settings.name).inc()
        elif count:
            CONTROL_SKIPPED.labels(settings.name, kind.value).inc()
        return ReplayResult(
            candidate=settings.name,
            model=settings.model or event.production_model,
            output=None,
            error_kind=kind,
            error_message=reason[:MAX_ERROR_CHARS],
            attempts=0,
        )

    def abandon(self, kind: ErrorKind, reason: str) -> None:
        """Cancel every call in flight that is not cancelled yet; each becomes a skip of ``kind``."""
        for task in self.in_flight:
            if task not in self.abandoned:
                self.abandoned[task] = (kind, reason)
                task.cancel()


class Replayer:
    """Fans one event out to every candidate that replays its workflow and API."""

    def __init__(
        self,
        clients: list[CandidateClient],
        *,
        clock: Clock = time.monotonic,
        control: ControlState | None = None,
        ledger: SpendLedger | None = None,
        worker: str = "",
    ) -> None:
        self.clients = clients
        self._clock = clock
        self._lanes = {client: self._lane(client) for client in clients}
        self.control = control
        self.ledger = ledger
        self._background: set[asyncio.Task[None]] = set()
        self.worker = worker or "a shadow worker"
        if control is not None:
            control.listen(self._on_control)

    def _on_control(self, record: ControlRecord) -> None:
        """A state change from the control topic: cancel the calls in flight to whatever it stops."""
        assert self.control is not None
        for client, lane in self._lanes.items():
            blocked = self.control.blocked(client.settings.name)
            if blocked is not None and lane.in_flight:
                kind, reason = blocked
                log.warning("cancelling %d call(s) in flight to %s: %s", len(lane.in_flight), client.settings.name,
                            reason)  # fmt: skip
                lane.abandon(ErrorKind(kind), f"cancelled in flight: {reason}")

    def _lane(self, client: CandidateClient) -> _Lane:
        settings = client.settings
        breaker = CircuitBreaker.from_settings(settings, self._clock) if settings.breaker_enabled else None
        return _Lane(client, breaker)

    @property
    def breakers(self) -> dict[str, CircuitBreaker]:
        """Each candidate's breaker, by name (candidates with the breaker disabled are absent)."""
        return {c.settings.name: lane.breaker for c, lane in self._lanes.items() if lane.breaker is not None}

    def route(self, event: MirrorEvent, salt: str = "") -> tuple[list[CandidateClient], dict[str, ScopeSkip]]:
        """The candidates whose scope admits ``event`` (``CandidateSettings.scope_skip``), and why each other
        candidate is not sent it (``out_of_scope``, ``sampled_out``, ``disabled``); ``salt`` is ``sampling.salt``."""
        targets: list[CandidateClient] = []
        skips: dict[str, ScopeSkip] = {}
        for client in self.clients:
            skip = client.settings.scope_skip(event, salt)
            if skip is None:
                targets.append(client)
            else:
                skips[client.settings.name] = skip
        return targets, skips

    def targets(self, event: MirrorEvent, salt: str = "") -> list[CandidateClient]:
        """The candidates whose scope admits ``event``: a candidate out of scope or sampled out is never called."""
        return self.route(event, salt)[0]

    async def replay(self, event: MirrorEvent, targets: list[CandidateClient] | None = None) -> list[ReplayResult]:
        """Replay against all targets concurrently; one result per target, in order.

        Targets whose breaker admits no call get their skip at once; only the admitted calls are awaited.
        """
        targets = self.targets(event) if targets is None else targets
        results: list[ReplayResult | None] = []
        calls = []
        for client in targets:
            lane = self._lanes.get(client)
            if lane is None:
                lane = self._lanes[client] = self._lane(client)
            blocked = self.control.blocked(client.settings.name) if self.control is not None else None
            if blocked is not None:
                kind, reason = blocked
                results.append(lane.skip(event, reason, ErrorKind(kind)))
                continue
            spent = self.ledger.over_budget(client.settings.name) if self.ledger is not None else None
            if spent is not None:
                results.append(lane.skip(event, spent, ErrorKind.BUDGET))
                continue
            permit = lane.breaker.admit() if lane.breaker is not None else None
            if lane.breaker is not None and permit is None:
                results.append(lane.skip(event, lane.breaker.describe()))
            else:
                results.append(None)
                calls.append((len(results) - 1, self._call(lane, event, permit)))
        if len(calls) == 1:
            # One call: awaited in the event's own task (gather would start a task for it). Cancelling
            # it in flight (Lane.abandon) cancels this task at that await, which _tracked turns into a skip.
            i, call = calls[0]
            results[i] = await call
        elif calls:
            answered = await asyncio.gather(*(call for _, call in calls))
            for (i, _), result in zip(calls, answered, strict=True):
                results[i] = result
        return [r for r in results if r is not None]

    async def _call(self, lane: _Lane, event: MirrorEvent, permit: Permit | None) -> ReplayResult:
        name = lane.client.settings.name
        if self.ledger is None:
            result = await self._tracked(lane, event, permit)
        else:
            self.ledger.start(name)
            finished: ReplayResult | None = None
            try:
                result = finished = await self._tracked(lane, event, permit)
            finally:
                # A cancellation from outside (shutdown) still ends the call in the ledger, as not answered.
                self.ledger.finish(
                    name, finished or lane.skip(event, "cancelled", ErrorKind.INTERNAL_ERROR, count=False)
                )
        if result.error_kind is ErrorKind.THROTTLED:
            CONTROL_SKIPPED.labels(name, ErrorKind.THROTTLED.value).inc()
        self._watch_auth(lane, result)
        return result

    def _watch_auth(self, lane: _Lane, result: ReplayResult) -> None:
        """Pause the candidate for every worker after a run of 401/403/429 answers (``auto_pause_auth_errors``)."""
        settings = lane.client.settings
        if result.http_status in AUTH_STATUSES and not result.ok:
            lane.auth_errors += 1
        elif result.ok or result.http_status:
            lane.auth_errors = 0
        if not settings.auto_pause_auth_errors or lane.auth_errors < settings.auto_pause_auth_errors:
            return
        lane.auth_errors = 0
        reason = (
            f"auto-paused: {settings.auto_pause_auth_errors} answers in a row were 401, 403 or 429 "
            f"(last: {result.error_message[:120]}); check the key and quota, then `shadow ctl enable {settings.name}`"
        )
        if self.control is None:
            # No control topic (NDJSON input, kafka.control false): the pause holds in this worker.
            self.control = ControlState()
            self.control.listen(self._on_control)
        if self.control.blocked(settings.name) is not None:
            return  # already disabled or paused: a late 401 must not turn a kill into a pause
        limits = self.control.limits(settings.name) or Limits()  # the pause keeps the limits set at run time
        record = ControlRecord(candidate=settings.name, state="paused", reason=reason, by=self.worker, limits=limits)
        log.error("pausing candidate %s for every worker: %s", settings.name, reason)
        if self.control.publish is not None:
            task = asyncio.get_running_loop().create_task(self.control.publish(record))
            self._background.add(task)
            task.add_done_callback(self._background.discard)
        else:
            self.control.apply(record)

    async def _tracked(self, lane: _Lane, event: MirrorEvent, permit: Permit | None) -> ReplayResult:
        if self.control is None and (lane.breaker is None or permit is None):
            return await self._safe(lane.client, event)
        me = asyncio.current_task()
        assert me is not None  # the call runs in a task: its own (gather) or its event's (one call)
        lane.in_flight.add(me)
        try:
            result = await self._safe(lane.client, event)
        except asyncio.CancelledError:
            # Cancelled by this module (the breaker opened, the candidate was disabled): a skip, not a cancellation.
            abandoned = lane.abandoned.get(me)
            if abandoned is None or me.cancelling() != 1:
                raise
            me.uncancel()
            result = lane.skip(event, abandoned[1], abandoned[0])
        finally:
            lane.in_flight.discard(me)
            lane.abandoned.pop(me, None)
        breaker = lane.breaker
        if breaker is not None and permit is not None and breaker.record(permit, result):
            # The breaker just opened: no event waits any longer for this candidate.
            lane.abandon(ErrorKind.CIRCUIT_OPEN, f"abandoned in flight: circuit opened ({breaker.reason})")
        return result

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
