"""``shadow serve``: the gate over HTTP, for Argo Rollouts and Flagger, with health and metrics.

- ``GET /gate?candidate=C&since=1h`` (also ``from``, ``to``, ``workflow``, ``tenant``, ``rollout``) answers
  200 with the gate result as JSON. Argo Rollouts' ``web`` metric provider reads ``{$.verdict}``:
  ``successCondition: result == "promote"``, ``failureCondition: result == "rollback"``; anything
  else (``hold``) is inconclusive.
- ``POST /gate`` takes a Flagger webhook payload (``{"name", "namespace", "phase", "checksum", "metadata":
  {"candidate": …, "since": …, "workflow": …, "rollout": …}}``) and answers 200 on promote, 503 on hold
  and 412 on rollback: Flagger halts on any non-2xx answer and rolls back after its failure threshold.
- ``DELETE /gate?rollout=R&candidate=C`` (also ``workflow``, ``tenant``) clears a rollout key's pinned
  start and latched decision.
- ``GET /healthz`` checks ClickHouse; ``GET /metrics`` serves Prometheus metrics.

A *rollout key* (rollout, candidate, workflow, tenant) makes the polls of one rollout one sequence:
its first poll pins the window's start (``since`` or ``from`` then), every later poll judges
[pinned start, now) (an explicit ``to`` still applies), and the first promote or rollback is latched:
later polls get that stored result back, with a ``latched`` block, without evaluating again (hold is
never latched). ``GET`` takes the key's rollout from ``rollout=``; ``POST`` from the payload's
``namespace/name``, with ``@checksum`` (Flagger's revision of the canary, so a new release starts a new
sequence) and ``/metadata.rollout`` when given. Without a rollout, a poll judges a window sliding with
``since``: not anytime-valid, and nothing is latched. Pins and latches live in ClickHouse
(``shadow.report.rollouts``).

With a ``token`` (``shadow serve`` reads it from ``SHADOW_SERVE_TOKEN`` or ``--token-file``), every
``/gate`` call must send ``Authorization: Bearer <token>`` (401 otherwise); ``/healthz`` and
``/metrics`` stay open for probes and scrapers. Bad input answers 400 with a sentence naming what is
wrong; a ClickHouse failure answers 503 without the database's error text (it goes to the log).
Metric labels name only the configured candidates (``candidates``: the configuration's names);
when the gate's configuration names none, candidates that have comparisons in the store (at most
``max_labels`` of them). Any other name a caller sends is counted as ``other``, so made-up names
cannot grow ``/metrics``.

Results that are not latched are cached for ``cache_s`` seconds per (candidate, window, workflow,
tenant, rollout): a rollout controller polling every few seconds does not recompute the statistics
every time. At most ``max_keys`` cached results and ``max_keys`` rollout keys are held in memory.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from shadow.errors import ConfigError, ShadowError
from shadow.redaction import NO_REDACTION, Redactor
from shadow.report.gate import EXIT_CODES, GateResult, PolicySettings, Verdict, evaluate_gate
from shadow.report.rollouts import RolloutKey, RolloutLedger, RolloutState
from shadow.report.window import EPOCH, Window
from shadow.storage.store import ClickHouseStore

log = logging.getLogger(__name__)

FLAGGER_STATUS = {Verdict.PROMOTE: 200, Verdict.HOLD: 503, Verdict.ROLLBACK: 412}
LATCHED = (Verdict.PROMOTE, Verdict.ROLLBACK)


@dataclass(frozen=True, slots=True)
class GateAnswer:
    """What a poll gets: the verdict (for Flagger's status code) and the JSON body."""

    verdict: Verdict
    body: dict[str, Any]


@dataclass
class GateService:
    """Evaluates gates for HTTP callers, a few at a time (``max_evaluations``), with a short cache.

    ``cache_s`` is also how long a rollout key's state is trusted from memory before it is read from
    ClickHouse again (so a reset through another replica reaches this one within ``cache_s``).
    """

    store: ClickHouseStore
    policy: PolicySettings
    default_since: str = "1h"
    cache_s: float = 15.0
    max_keys: int = 10_000
    token: str | None = None
    max_labels: int = 100
    max_evaluations: int = 4
    candidates: frozenset[str] = frozenset()  # the configured candidates' names: the only labels when set
    redactor: Redactor = NO_REDACTION  # the workers' redaction (same key): tenant, workflow and rollout as stored
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)
    _labelled: set[str] = field(default_factory=set)
    _cache: OrderedDict[tuple[str, ...], tuple[float, GateResult]] = field(default_factory=OrderedDict)
    _locks: OrderedDict[tuple[str, ...], asyncio.Lock] = field(default_factory=OrderedDict)

    def __post_init__(self) -> None:
        self.ledger = RolloutLedger(self.store, refresh_s=self.cache_s, max_keys=self.max_keys)
        # At most this many evaluations compute at once (first come, first served); each key has a lock
        # of its own, so callers of the same key wait for one evaluation and share it, and a slow key
        # never holds up another key, a cached answer or a latched one.
        self._evaluating = asyncio.Semaphore(self.max_evaluations)
        self.evaluations = Counter(
            "shadow_gate_evaluations_total", "Gate evaluations, by verdict", ["candidate", "verdict"],
            registry=self.registry,
        )  # fmt: skip
        self.verdict = Gauge(
            "shadow_gate_verdict", "Last verdict: 0 promote, 1 rollback, 2 hold", ["candidate"], registry=self.registry
        )
        self.score = Gauge("shadow_gate_score", "Last gate score (0-1)", ["candidate"], registry=self.registry)
        self.seconds = Histogram(
            "shadow_gate_evaluation_seconds", "Time to evaluate a gate", registry=self.registry,
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30),
        )  # fmt: skip
        # Rollout names come from callers: they are never labels, only counted.
        self.latched_answers = Counter(
            "shadow_gate_latched_answers_total", "Polls answered with a rollout's latched decision, by verdict",
            ["verdict"], registry=self.registry,
        )  # fmt: skip
        self.rollout_keys = Gauge(
            "shadow_gate_rollout_keys", "Rollout keys held in memory", registry=self.registry
        )  # fmt: skip

    async def answer(
        self,
        candidate: str,
        since: str | None,
        start: str | None,
        end: str | None,
        tenant: str | None,
        workflow: str | None = None,
        rollout: str | None = None,
    ) -> GateAnswer:
        """The gate for ``candidate``: over a sliding window, or over a rollout's pinned one, latched.

        Args:
            since, start, end: the window as ``Window.from_options`` takes it; none = ``default_since``.
                With a rollout key, ``since`` and ``start`` count at the key's first poll only.
            tenant, workflow: only this tenant's or workflow's comparisons (``None`` or ``""`` = all).
            rollout: the rollout's name; with it the answer is the key's latched decision once there is one.

        Raises:
            ConfigError: no candidate, or a malformed window.
            StoreError: ClickHouse failed (the gate or the rollout's state could not be read).
        """
        if not candidate:
            raise ConfigError("the candidate parameter is required, e.g. /gate?candidate=gpt-4.1-mini&since=1h")
        # Rows hold tenant and workflow as the redaction left them: filter and key with the same form.
        tenant, workflow, rollout = self._stored(tenant), self._stored(workflow), self._stored(rollout)
        window = Window.from_options(since or (None if start else self.default_since), start, end)
        if not rollout:
            cache_key = ("", candidate, since or "", start or "", end or "", tenant or "", workflow or "")
            async with self._lock_of(cache_key):
                begin = window.start or EPOCH
                result = await self._evaluate(cache_key, candidate, begin, window.end, tenant, workflow)
            return GateAnswer(result.verdict, result.to_dict())
        key = RolloutKey(rollout, candidate, workflow or "", tenant or "")
        async with self._lock_of(("rollout", *key.params().values())):
            answer = await self._answer_rollout(key, window)
        self.rollout_keys.set(len(self.ledger))
        return answer

    def _lock_of(self, key: tuple[str, ...]) -> asyncio.Lock:
        """The lock of one cache or rollout key (at most ``max_keys`` kept; an evicted one is not held)."""
        lock = self._locks.get(key)
        if lock is None:
            lock = self._locks[key] = asyncio.Lock()
            while len(self._locks) > self.max_keys:
                oldest, held = next(iter(self._locks.items()))
                if held.locked():
                    break
                del self._locks[oldest]
        self._locks.move_to_end(key)
        return lock

    async def reset(self, rollout: str, candidate: str, workflow: str | None, tenant: str | None) -> dict[str, Any]:
        """Clear a rollout key's pinned start and latched decision: its next poll starts a new sequence."""
        if not rollout or not candidate:
            raise ConfigError("DELETE /gate needs rollout= and candidate= (and the workflow= and tenant= polled with)")
        key = RolloutKey(self.redactor(rollout), candidate, self.redactor(workflow or ""), self.redactor(tenant or ""))
        async with self._lock_of(("rollout", *key.params().values())):
            previous = await self.ledger.reset(key)
        return {**key.params(), "reset": True, "previous": previous.describe() if previous is not None else None}

    async def _answer_rollout(self, key: RolloutKey, window: Window) -> GateAnswer:
        """The answer to a poll with a rollout key.

        Steps:
            1. A latched key answers its stored decision, without evaluating.
            2. A key polled for the first time pins its window's start (or finds another replica's pin
               or latch).
            3. Evaluate [pinned start, now or ``to``); promote or rollback is latched, and the decision
               that holds in ClickHouse is the answer (another replica's, if it decided first).
        """
        # Step 1.
        state = await self.ledger.current(key)
        if state is not None and state.latched:
            return self._latched(state)
        # Step 2.
        if state is None:
            state = await self.ledger.pin(key, window.start or EPOCH)
            if state.latched:
                return self._latched(state)
        # Step 3.
        end = window.end.isoformat() if window.end else ""
        cache_key = (key.rollout, key.candidate, "", state.window_start.isoformat(), end, key.tenant, key.workflow)
        result = await self._evaluate(
            cache_key, key.candidate, state.window_start, window.end, key.tenant, key.workflow
        )
        if result.verdict in LATCHED:
            stored = await self.ledger.latch(state, result.verdict.value, result.to_dict())
            if stored is not None:
                # Another replica's decision, when it decided first, is answered as a latched one.
                return self._latched(stored, evaluated=stored.verdict == result.verdict.value)
        return GateAnswer(result.verdict, {**result.to_dict(), "rollout": key.rollout})

    def _latched(self, state: RolloutState, evaluated: bool = False) -> GateAnswer:
        """The stored result with its ``latched`` block; counted when it was not just evaluated."""
        verdict = Verdict(state.verdict)
        body = {**(state.result or {}), "verdict": verdict.value, "rollout": state.key.rollout,
                "latched": state.describe()}  # fmt: skip
        if not evaluated:
            self.latched_answers.labels(verdict.value).inc()
            compared = int((state.result or {}).get("compared") or 0)
            self.verdict.labels(self.label(state.key.candidate, compared)).set(EXIT_CODES[verdict])
        return GateAnswer(verdict, body)

    async def _evaluate(
        self,
        cache_key: tuple[str, ...],
        candidate: str,
        begin: datetime,
        end: datetime | None,
        tenant: str | None,
        workflow: str | None,
    ) -> GateResult:
        """The gate over [begin, end or now), from the cache when fresh; every answer is counted in the metrics."""
        cached = self._cache.get(cache_key)
        if cached is not None and time.monotonic() - cached[0] < self.cache_s:
            self._cache.move_to_end(cache_key)
            result = cached[1]
            self._record(result)
            return result
        async with self._evaluating:
            started = time.monotonic()
            result = await asyncio.to_thread(
                evaluate_gate,
                self.store,
                self.policy,
                candidate,
                begin,
                end or datetime.now(UTC),
                tenant=tenant or None,
                workflow=workflow or None,
            )
            self.seconds.observe(time.monotonic() - started)
        self._cache[cache_key] = (time.monotonic(), result)
        self._cache.move_to_end(cache_key)
        while len(self._cache) > self.max_keys:
            self._cache.popitem(last=False)
        self._record(result)
        return result

    def _stored(self, value: str | None) -> str | None:
        return self.redactor(value) if value else value

    def label(self, candidate: str, compared: int) -> str:
        """The metric label of ``candidate``: its name when it is configured (or, with no candidate configured,
        once it has comparisons, up to ``max_labels`` names), else ``other`` (whatever a caller makes up)."""
        if self.candidates:
            return candidate if candidate in self.candidates else "other"
        if candidate in self._labelled:
            return candidate
        if compared > 0 and len(self._labelled) < self.max_labels:
            self._labelled.add(candidate)
            return candidate
        return "other"

    def _record(self, result: GateResult) -> None:
        name = self.label(result.candidate, result.compared)
        self.evaluations.labels(name, result.verdict.value).inc()
        self.verdict.labels(name).set(EXIT_CODES[result.verdict])
        self.score.labels(name).set(result.score)


def _json(data: Any, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(data), status=status, content_type="application/json")


STORE_FAILED = "the gate could not read ClickHouse; the server's log says why"


def _errors(
    service: GateService,
) -> Callable[[Callable[[web.Request], Awaitable[web.StreamResponse]]], Any]:
    """Wrap a ``/gate`` handler: bearer-token check, 400 for bad input, 503 without database text."""

    def wrap(handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> Any:
        async def wrapped(request: web.Request) -> web.StreamResponse:
            if service.token is not None and not _authorized(request, service.token):
                return web.Response(
                    body=orjson.dumps({"error": "send Authorization: Bearer <the gate's token>"}),
                    status=401,
                    content_type="application/json",
                    headers={"WWW-Authenticate": 'Bearer realm="shadow-gate"'},
                )
            try:
                return await handler(request)
            except ConfigError as exc:
                return _json({"error": str(exc)}, status=400)
            except ShadowError as exc:
                log.warning("gate evaluation failed: %s", exc)
                return _json({"error": STORE_FAILED}, status=503)

        return wrapped

    return wrap


def _authorized(request: web.Request, token: str) -> bool:
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())


def _text(value: Any, name: str) -> str | None:
    """A webhook field that must be text (or absent)."""
    if value is None or isinstance(value, str):
        return value or None
    raise ConfigError(f"metadata.{name} must be a string, got {type(value).__name__}")


def flagger_rollout(payload: Mapping[str, Any], rollout: str | None) -> str | None:
    """The rollout of a Flagger webhook: ``namespace/name``, ``@checksum`` when sent, then ``/rollout`` when given.

    Flagger's ``checksum`` changes with the canary's revision, so each release of a Canary is a
    sequence of its own instead of inheriting the last release's latch.
    """
    name = "/".join(str(part) for part in (payload.get("namespace"), payload.get("name")) if part)
    if name and payload.get("checksum"):
        name = f"{name}@{payload['checksum']}"
    if rollout:
        name = f"{name}/{rollout}" if name else str(rollout)
    return name or None


def build_app(service: GateService) -> web.Application:
    """The aiohttp application of ``shadow serve``."""
    guarded = _errors(service)

    @guarded
    async def get_gate(request: web.Request) -> web.StreamResponse:
        q = request.query
        answer = await service.answer(
            q.get("candidate", ""), q.get("since"), q.get("from"), q.get("to"), q.get("tenant"), q.get("workflow"),
            rollout=q.get("rollout"),
        )  # fmt: skip
        return _json(answer.body)

    @guarded
    async def post_gate(request: web.Request) -> web.StreamResponse:
        try:
            payload = await request.json(loads=orjson.loads)
        except (ValueError, orjson.JSONDecodeError):
            raise ConfigError("the body must be a JSON Flagger webhook payload") from None
        if not isinstance(payload, dict):
            raise ConfigError("the body must be a JSON object: a Flagger webhook payload")
        metadata = payload.get("metadata") or {}
        if not isinstance(metadata, dict):
            raise ConfigError("metadata must be a JSON object of strings (candidate, since, workflow, ...)")
        q = request.query

        def field(name: str, query: str | None = None) -> str | None:
            return _text(metadata.get(name), name) or q.get(query or name)

        for part in ("name", "namespace", "checksum"):
            if payload.get(part) is not None and not isinstance(payload[part], str):
                raise ConfigError(f"{part} must be a string, got {type(payload[part]).__name__}")
        answer = await service.answer(
            field("candidate") or "",
            field("since"),
            field("from"),
            field("to"),
            field("tenant"),
            field("workflow"),
            rollout=flagger_rollout(payload, field("rollout")),
        )
        return _json(answer.body, status=FLAGGER_STATUS[answer.verdict])

    @guarded
    async def delete_gate(request: web.Request) -> web.StreamResponse:
        q = request.query
        cleared = await service.reset(q.get("rollout", ""), q.get("candidate", ""), q.get("workflow"), q.get("tenant"))
        return _json(cleared)

    async def healthz(request: web.Request) -> web.StreamResponse:
        try:
            await service.store.acommand("SELECT 1")
        except ShadowError as exc:
            log.warning("health check: %s", exc)
            return _json({"ok": False, "error": STORE_FAILED}, status=503)
        return _json({"ok": True})

    async def metrics(request: web.Request) -> web.StreamResponse:
        return web.Response(body=generate_latest(service.registry), headers={"Content-Type": CONTENT_TYPE_LATEST})

    app = web.Application()
    app.router.add_get("/gate", get_gate)
    app.router.add_post("/gate", post_gate)
    app.router.add_delete("/gate", delete_gate)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    return app


async def serve(service: GateService, host: str, port: int, ready: Callable[[int], None] | None = None) -> None:
    """Serve until cancelled."""
    runner = web.AppRunner(build_app(service), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    sockets = getattr(site._server, "sockets", None)
    bound = int(sockets[0].getsockname()[1]) if sockets else port
    log.info("gate service on http://%s:%d (GET, POST and DELETE /gate, /healthz, /metrics)", host, bound)
    if ready is not None:
        ready(bound)
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
