"""``/healthz``, ``/readyz`` and ``/metrics`` of a worker, asked over HTTP from another thread.

The server runs in its own thread, as ``shadow run --metrics-port`` starts it, in front of a
pipeline on in-memory parts (a :class:`ListSource`, a :class:`MemorySink`). The tests block the
worker's loop, take its partitions away and make its store fail, and read what the probes say.
"""

from __future__ import annotations

import asyncio
import json
import threading
import urllib.error
import urllib.request
from typing import Any

import pytest

from shadow.errors import ConfigError
from shadow.events.memory import ListSource
from shadow.health import HealthServer
from shadow.sink.memory import MemorySink
from tests.unit.test_pipeline import build, events, settings, until

pytestmark = pytest.mark.timeout(30)


def get(port: int, path: str) -> tuple[int, Any]:
    """Status and body (JSON decoded when it is JSON) of GET ``path``; a blocking call, for a thread."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as answer:
            status, body, kind = answer.status, answer.read(), answer.headers.get("Content-Type", "")
    except urllib.error.HTTPError as error:
        status, body, kind = error.code, error.read(), error.headers.get("Content-Type", "")
    return status, json.loads(body) if kind == "application/json" else body.decode()


async def ask(server: HealthServer, path: str) -> tuple[int, Any]:
    return await asyncio.to_thread(get, server.port, path)


def test_before_the_worker_attaches_it_is_live_not_ready_and_metrics_answer() -> None:
    with HealthServer("127.0.0.1", 0) as server:
        assert get(server.port, "/healthz") == (200, {"status": "ok", "reason": "starting"})
        assert get(server.port, "/readyz") == (503, {"status": "not_ready", "reason": "starting"})
        status, text = get(server.port, "/metrics")
        assert status == 200 and "# TYPE shadow_event_loop_stall_max_seconds gauge" in text
        assert get(server.port, "/nope")[0] == 404


def test_a_probe_that_raises_answers_503_and_the_server_goes_on() -> None:
    def broken() -> tuple[bool, str]:
        raise RuntimeError("boom")

    with HealthServer("127.0.0.1", 0) as server:
        server.attach(broken, broken)
        assert get(server.port, "/healthz") == (503, {"status": "stuck", "reason": "probe failed: RuntimeError"})
        assert get(server.port, "/metrics")[0] == 200


def test_a_port_in_use_is_a_config_error_naming_it() -> None:
    with HealthServer("127.0.0.1", 0) as first, pytest.raises(ConfigError, match=f"127.0.0.1:{first.port}"):
        HealthServer("127.0.0.1", first.port)


async def test_healthz_turns_503_while_the_loop_is_blocked_and_200_after() -> None:
    pipeline, _, _ = build(settings(health_stall_s=0.2), ListSource(events(3), end_when_empty=False))
    with HealthServer("127.0.0.1", 0) as server:
        server.attach(pipeline.live, pipeline.ready)
        run = asyncio.create_task(pipeline.run())
        await until(lambda: pipeline.loop_watch.ticks >= 2)
        status, body = await ask(server, "/healthz")
        assert status == 200 and body["status"] == "ok", body

        seen: list[tuple[int, Any]] = []
        prober = threading.Timer(0.6, lambda: seen.append(get(server.port, "/healthz")))
        prober.start()
        prober.join(10)  # the worker's loop is blocked here until the other thread has its answer

        status, body = seen[0]
        assert status == 503 and body["status"] == "stuck", body
        assert "blocked for" in body["reason"] and "threshold 0.2s" in body["reason"]
        ticks = pipeline.loop_watch.ticks
        await until(lambda: pipeline.loop_watch.ticks > ticks)
        status, body = await ask(server, "/healthz")
        assert status == 200, body
        assert pipeline.loop_watch.worst_stall_s >= 0.5

        pipeline.stop()
        await run
        # A stopped worker's loop watch no longer ticks: not live.
        status, body = await ask(server, "/healthz")
        assert status == 503 and "not running" in body["reason"]


async def test_readyz_follows_the_partitions_assigned() -> None:
    source = ListSource(events(2, 0) + events(2, 1), end_when_empty=False)
    pipeline, sink, _ = build(settings(), source)
    with HealthServer("127.0.0.1", 0) as server:
        server.attach(pipeline.live, pipeline.ready)
        status, body = await ask(server, "/readyz")
        assert status == 503 and "no partitions assigned" in body["reason"], body

        run = asyncio.create_task(pipeline.run())
        await until(lambda: len(sink.ingest) == 4)
        assert await ask(server, "/readyz") == (
            200,
            {"status": "ready", "reason": "2 partition(s) assigned; the store is writable"},
        )

        await source.revoke([("memory", 0), ("memory", 1)])
        status, body = await ask(server, "/readyz")
        assert status == 503 and "no partitions assigned" in body["reason"], body

        await source.assign([("memory", 1)])
        status, body = await ask(server, "/readyz")
        assert (status, body["status"]) == (200, "ready") and body["reason"].startswith("1 partition(s)")

        pipeline.stop()
        assert await ask(server, "/readyz") == (503, {"status": "not_ready", "reason": "stopping"})
        await run


async def test_readyz_is_503_while_the_store_keeps_failing_and_200_once_it_stores() -> None:
    sink = MemorySink(fail_times=2)  # fails, retries 0.5 s later, fails, retries 1 s later, stores
    source = ListSource(events(3), end_when_empty=False)
    pipeline, _, _ = build(settings(), source, sink=sink)
    with HealthServer("127.0.0.1", 0) as server:
        server.attach(pipeline.live, pipeline.ready)
        run = asyncio.create_task(pipeline.run())
        await until(lambda: sink.failures >= 1)
        status, body = await ask(server, "/readyz")
        assert status == 503 and body["status"] == "not_ready", body
        assert body["reason"].startswith("the store is failing: ")
        assert "StoreError" not in body["reason"] and "simulated" not in body["reason"]

        await until(lambda: len(sink.ingest) == 3)
        status, body = await ask(server, "/readyz")
        assert status == 200, body
        # The loop stayed free while the store failed: the worker was never stuck, only not ready.
        assert (await ask(server, "/healthz"))[0] == 200
        pipeline.stop()
        await run
    assert sink.failures == 2
