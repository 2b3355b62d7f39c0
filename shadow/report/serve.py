"""``shadow serve``: the gate over HTTP, for Argo Rollouts and Flagger, with health and metrics.

- ``GET /gate?candidate=C&since=1h`` (also ``from``, ``to``, ``workflow``, ``tenant``) answers 200
  with the gate result as JSON. Argo Rollouts' ``web`` metric provider reads ``{$.verdict}``:
  ``successCondition: result == "promote"``, ``failureCondition: result == "rollback"``; anything
  else (``hold``) is inconclusive.
- ``POST /gate`` takes a Flagger webhook payload (``{"name", "namespace", "phase", "metadata":
  {"candidate": …, "since": …, "workflow": …}}``) and answers 200 on promote, 503 on hold and 412
  on rollback: Flagger halts on any non-2xx answer and rolls back after its failure threshold.
- ``GET /healthz`` checks ClickHouse; ``GET /metrics`` serves Prometheus metrics.

Results are cached for ``cache_s`` seconds per (candidate, window, workflow, tenant): a rollout
controller polling every few seconds does not recompute the statistics every time.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from shadow.errors import ConfigError, ShadowError
from shadow.report.gate import EXIT_CODES, GateResult, PolicySettings, Verdict, evaluate_gate
from shadow.report.window import Window
from shadow.storage.store import ClickHouseStore

log = logging.getLogger(__name__)

FLAGGER_STATUS = {Verdict.PROMOTE: 200, Verdict.HOLD: 503, Verdict.ROLLBACK: 412}


@dataclass
class GateService:
    """Evaluates gates for HTTP callers, one at a time on the store's thread, with a short cache."""

    store: ClickHouseStore
    policy: PolicySettings
    default_since: str = "1h"
    cache_s: float = 15.0
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)
    _cache: dict[tuple[str, ...], tuple[float, GateResult]] = field(default_factory=dict)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def __post_init__(self) -> None:
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

    async def evaluate(
        self,
        candidate: str,
        since: str | None,
        start: str | None,
        end: str | None,
        tenant: str | None,
        workflow: str | None = None,
    ) -> GateResult:
        """The gate for ``candidate`` over a window, from the cache when it is fresh.

        Args:
            since, start, end: the window as ``Window.from_options`` takes it; none = ``default_since``.
            tenant, workflow: only this tenant's or workflow's comparisons (``None`` or ``""`` = all).
        """
        if not candidate:
            raise ConfigError("the candidate parameter is required, e.g. /gate?candidate=gpt-4.1-mini&since=1h")
        key = (candidate, since or "", start or "", end or "", tenant or "", workflow or "")
        async with self._lock:
            cached = self._cache.get(key)
            if cached is not None and time.monotonic() - cached[0] < self.cache_s:
                return cached[1]
            window = Window.from_options(since or (None if start else self.default_since), start, end)
            begin = window.start or datetime(1970, 1, 1, tzinfo=UTC)
            finish = window.end or datetime.now(UTC)
            started = time.monotonic()
            result = await asyncio.to_thread(
                evaluate_gate,
                self.store,
                self.policy,
                candidate,
                begin,
                finish,
                tenant=tenant,
                workflow=workflow or None,
            )
            self.seconds.observe(time.monotonic() - started)
            self._cache[key] = (time.monotonic(), result)
        self.evaluations.labels(candidate, result.verdict.value).inc()
        self.verdict.labels(candidate).set(EXIT_CODES[result.verdict])
        self.score.labels(candidate).set(result.score)
        return result


def _json(data: Any, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(data), status=status, content_type="application/json")


def _errors(handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> Any:
    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except ConfigError as exc:
            return _json({"error": str(exc)}, status=400)
        except ShadowError as exc:
            log.warning("gate evaluation failed: %s", exc)
            return _json({"error": str(exc)}, status=503)

    return wrapped


def build_app(service: GateService) -> web.Application:
    """The aiohttp application of ``shadow serve``."""

    @_errors
    async def get_gate(request: web.Request) -> web.StreamResponse:
        q = request.query
        result = await service.evaluate(
            q.get("candidate", ""), q.get("since"), q.get("from"), q.get("to"), q.get("tenant"), q.get("workflow")
        )
        return _json(result.to_dict())

    @_errors
    async def post_gate(request: web.Request) -> web.StreamResponse:
        try:
            payload = await request.json(loads=orjson.loads)
        except (ValueError, orjson.JSONDecodeError):
            raise ConfigError("the body must be a JSON Flagger webhook payload") from None
        metadata = (payload or {}).get("metadata") or {}
        q = request.query
        result = await service.evaluate(
            str(metadata.get("candidate") or q.get("candidate", "")),
            metadata.get("since") or q.get("since"),
            metadata.get("from") or q.get("from"),
            metadata.get("to") or q.get("to"),
            metadata.get("tenant") or q.get("tenant"),
            metadata.get("workflow") or q.get("workflow"),
        )
        return _json(result.to_dict(), status=FLAGGER_STATUS[result.verdict])

    async def healthz(request: web.Request) -> web.StreamResponse:
        try:
            await service.store.acommand("SELECT 1")
        except ShadowError as exc:
            return _json({"ok": False, "error": str(exc)}, status=503)
        return _json({"ok": True})

    async def metrics(request: web.Request) -> web.StreamResponse:
        return web.Response(body=generate_latest(service.registry), headers={"Content-Type": CONTENT_TYPE_LATEST})

    app = web.Application()
    app.router.add_get("/gate", get_gate)
    app.router.add_post("/gate", post_gate)
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
    log.info("gate service on http://%s:%d (GET /gate, POST /gate, /healthz, /metrics)", host, bound)
    if ready is not None:
        ready(bound)
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
