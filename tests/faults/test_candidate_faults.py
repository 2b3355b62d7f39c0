"""Six faulty candidates beside a healthy one: every (event, candidate) gets a row whose error kind is the
one its fault produces, the healthy candidate keeps at least half its throughput, and a SIGTERM amid the
faults stops the worker cleanly with only stored work committed.

The candidates are local HTTP servers on 127.0.0.1, one fault each (``FAULTS``): an answer later than
``timeout_s``, 429 with ``Retry-After``, 500, a connection reset (RST, before the answer or in the middle
of its body), a body trickled a byte at a time, and a 200 whose body is not the API's JSON (not JSON at
all, or JSON of another shape). The healthy candidate answers in 25 ms, on its own server and event loop, two calls at a time: at most
80 replays/s, under what the worker's CPU allows with all seven candidates, so its rate shows whether the
faulty lanes hold it up, not what six more candidates cost the worker per event.

Three settings, one topic each run reads with its own group and store:

1. **Baseline**: the healthy candidate alone; its replays per second (from its server's answer times).
2. **Faults, defaults**: all seven candidates, circuit breakers as shipped (``breaker_open_s`` shortened
   to 2 s so half-open probes happen during the run) and ``auto_pause_auth_errors`` as shipped. An event
   is finished only when every candidate answered, so without breakers the slowest lane would set
   everyone's pace; the breakers are what keep the healthy lane going. Rows of a faulty candidate carry
   its fault's kind, or the skip that stands for it once the worker stood it down (``circuit_open``; for
   the 429 candidate also ``paused``: ten 429s in a row pause it, read as a quota used up).
3. **Faults, every call made** (breakers off, no auto-pause), on a second, smaller topic: every row of a
   faulty candidate carries exactly its fault's kind and the attempts its retry rule allows. A SIGTERM
   mid-stream, with ``shutdown_grace_s`` shorter than the stuck calls, abandons in-flight events: the
   worker exits 0 within the grace, every event below a committed offset has all its rows, and a restart
   finishes the rest.

``kafka.control`` is off: the control topic is shared by every test on the broker, and the 429
candidate's auto-pause must not reach other runs. CI runs 600 events through settings 1 and 2 and
120 through 3; ``python -m tests.faults`` runs 3,000 and 400.
"""

from __future__ import annotations

import asyncio
import re
import resource
import signal
import socket
import struct
import threading
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml
from aiohttp import web

from shadow.replay.result import ErrorKind
from shadow.storage.store import ClickHouseStore
from tests.conftest import ClickHouseTarget, unique
from tests.e2e.hostile import Reply, openai_body
from tests.factories import make_event
from tests.faults.harness import (
    HEAVY,
    Figures,
    WorkerProcess,
    committed_offsets,
    create_topic,
    dead_letters,
    end_offsets,
    produce,
    record,
    stored,
    wait_until,
)

pytestmark = [pytest.mark.kafka, pytest.mark.clickhouse, pytest.mark.e2e]

EVENTS, SIGTERM_EVENTS = (3_000, 400) if HEAVY else (600, 120)
PARTITIONS = 3
MAX_IN_FLIGHT = 64
HEALTHY = "healthy"
HEALTHY_LATENCY_S = 0.025
HEALTHY_CONCURRENCY = 2
"""With 25 ms answers its ceiling is 80 replays/s, below what the worker's CPU allows even with all seven
candidates: the rate measures the candidate lane, not the extra work six more candidates cost the loop."""
SLOW_TIMEOUT_S = 2.5  # timeout_s of the timeout and trickle candidates
LATE_S = 20.0  # how late the timeout candidate answers (well past timeout_s)
RETRY_AFTER_S = 1
GRACE_S = 1.0  # shutdown_grace_s: shorter than a timing-out call, so SIGTERM abandons some
MIN_RATIO = 0.5
"""The bound: beside the six faulty candidates, the healthy one keeps at least this share of its baseline
rate (steady part of the run). Head-of-line blocking costs far more: with the breakers off, every event
waits for its timing-out calls and the healthy lane kept about a quarter of its rate (0.23 measured)."""
MAX_STALL_S = SLOW_TIMEOUT_S + 1.5
"""Longest pause allowed between two healthy answers in the faulty run: the first timeouts are waited
for once (until the breaker has seen enough of them), then the lane is skipped."""
EVENT_ID = re.compile(rb"evt_\d{5}")


@dataclass(frozen=True)
class Fault:
    """What one faulty candidate does, the error kind its rows must carry, and the attempts per row."""

    kind: ErrorKind
    attempts: int  # 1 + max_retries for retriable kinds; timeouts and bad bodies are not retried
    settings: dict[str, Any] = field(default_factory=dict)
    http_status: int = 0
    stand_down: frozenset[ErrorKind] = frozenset({ErrorKind.CIRCUIT_OPEN})
    """Skips allowed in its rows with the shipped breaker and auto-pause (setting 2)."""


FAULTS = {
    "timeout": Fault(ErrorKind.TIMEOUT, 1, {"timeout_s": SLOW_TIMEOUT_S}),
    "rate-limited": Fault(
        ErrorKind.RATE_LIMITED, 2, http_status=429, stand_down=frozenset({ErrorKind.CIRCUIT_OPEN, ErrorKind.PAUSED})
    ),
    "server-error": Fault(ErrorKind.HTTP_5XX, 2, {"retry_backoff_s": 0.05}, http_status=500),
    "reset": Fault(ErrorKind.TRANSPORT_ERROR, 2, {"retry_backoff_s": 0.05}),
    "trickle": Fault(ErrorKind.TIMEOUT, 1, {"timeout_s": SLOW_TIMEOUT_S}),
    "garbage": Fault(ErrorKind.INVALID_RESPONSE, 1, http_status=200, stand_down=frozenset()),
}


# --- the candidates ----------------------------------------------------------------------------------


@dataclass
class Served:
    """One request a candidate server received: which lane, which event, when it came and when it ended."""

    lane: str
    event_id: str
    arrived: float
    done: float = 0.0


Handler = Callable[[web.Request, Served], Awaitable[web.StreamResponse]]


def chat_completion(request_body: bytes) -> web.Response:
    try:
        model = str(orjson.loads(request_body).get("model", ""))
    except orjson.JSONDecodeError:
        model = ""
    return web.Response(body=orjson.dumps(openai_body(model, Reply())), content_type="application/json")


def reset(request: web.Request) -> None:
    """Close the connection with an RST (SO_LINGER 0), not an orderly FIN."""
    transport = request.transport
    assert transport is not None
    sock = transport.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()


async def answer_healthy(request: web.Request, served: Served) -> web.StreamResponse:
    await asyncio.sleep(HEALTHY_LATENCY_S)
    return chat_completion(await request.read())


async def answer_late(request: web.Request, served: Served) -> web.StreamResponse:
    await asyncio.sleep(LATE_S)
    return chat_completion(await request.read())


async def answer_429(request: web.Request, served: Served) -> web.StreamResponse:
    error = {"error": {"type": "rate_limit_exceeded", "message": "Rate limit reached, retry later."}}
    return web.json_response(error, status=429, headers={"Retry-After": str(RETRY_AFTER_S)})


async def answer_500(request: web.Request, served: Served) -> web.StreamResponse:
    return web.json_response({"error": {"type": "server_error", "message": "The server had an error."}}, status=500)


async def answer_reset(request: web.Request, served: Served) -> web.StreamResponse:
    """Even events: reset before any answer; odd events: reset in the middle of a declared 2,000-byte body."""
    if int(served.event_id[4:] or 0) % 2:
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        response.content_length = 2_000
        await response.prepare(request)
        await response.write(b'{"id": "chatcmpl-cut", "choices": [')
        await asyncio.sleep(0.02)
    reset(request)
    return web.Response()


async def answer_trickle(request: web.Request, served: Served) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": "application/json"})
    response.content_length = 10_000
    await response.prepare(request)
    for _ in range(300):  # a byte every 100 ms, at most 30 s
        await response.write(b" ")
        await asyncio.sleep(0.1)
    return response


async def answer_garbage(request: web.Request, served: Served) -> web.StreamResponse:
    """Even events: not JSON (a proxy's error page); odd events: JSON, but not a chat completion."""
    if int(served.event_id[4:] or 0) % 2:
        return web.json_response({"status": "ok", "result": [1, 2, 3]})
    return web.Response(body=b"<html>502 upstream proxy error</html>", content_type="application/json")


HANDLERS: dict[str, Handler] = {
    HEALTHY: answer_healthy,
    "timeout": answer_late,
    "rate-limited": answer_429,
    "server-error": answer_500,
    "reset": answer_reset,
    "trickle": answer_trickle,
    "garbage": answer_garbage,
}


class CandidateServer:
    """OpenAI-compatible lanes on 127.0.0.1, each under its own prefix (``/<lane>/v1/chat/completions``);
    every request is kept as :class:`Served`. A handler is cancelled when its client goes away."""

    def __init__(self, *lanes: str) -> None:
        self.lanes = lanes
        self.served: list[Served] = []
        self.port = 0
        self._runner: web.AppRunner | None = None

    def base_url(self, lane: str) -> str:
        return f"http://127.0.0.1:{self.port}/{lane}/v1"

    def of(self, lane: str) -> list[Served]:
        return [s for s in list(self.served) if s.lane == lane]

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        lane = request.match_info["lane"]
        body = await request.read()
        match = EVENT_ID.search(body)
        served = Served(lane, match.group().decode() if match else "", time.monotonic())
        self.served.append(served)
        try:
            return await HANDLERS[lane](request, served)
        finally:
            served.done = time.monotonic()

    async def start(self) -> None:
        app = web.Application()
        for lane in self.lanes:
            app.router.add_post(f"/{{lane:{lane}}}/v1/chat/completions", self._handle)
        self._runner = web.AppRunner(app, access_log=None, handler_cancellation=True, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


@contextmanager
def serving(server: CandidateServer) -> Iterator[CandidateServer]:
    """Serve on its own event loop in a thread (the worker under test is another process)."""
    loop = asyncio.new_event_loop()
    started = threading.Event()

    def run() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(server.start())
        started.set()
        loop.run_forever()

    thread = threading.Thread(target=run, name=f"candidates-{'-'.join(server.lanes)}", daemon=True)
    thread.start()
    assert started.wait(10), "candidate server did not start"
    try:
        yield server
    finally:
        asyncio.run_coroutine_threadsafe(server.stop(), loop).result(30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


def candidate(name: str, base_url: str, **settings: Any) -> dict[str, Any]:
    return {
        "name": name,
        "provider": "openai",
        "base_url": base_url,
        "model": "gpt-4.1-mini",
        "api_key_env": "SHADOW_TEST_OPENAI_KEY",  # set by env_for()
        "timeout_s": 5,
        "max_retries": 1,
        **settings,
    }


def healthy_candidate(server: CandidateServer) -> dict[str, Any]:
    return candidate(HEALTHY, server.base_url(HEALTHY), max_concurrency=HEALTHY_CONCURRENCY)


def faulty_candidates(server: CandidateServer, *, every_call: bool) -> list[dict[str, Any]]:
    """The six faulty candidates: shipped breaker and auto-pause (``breaker_open_s`` 2 s), or, with
    ``every_call``, neither, and 32 calls in flight each so the run stays short."""
    stand_down: dict[str, Any] = (
        {"breaker_enabled": False, "auto_pause_auth_errors": 0, "max_concurrency": 32}
        if every_call
        else {"breaker_open_s": 2.0}
    )
    return [
        candidate(f"fault-{name}", server.base_url(name), **fault.settings, **stand_down)
        for name, fault in FAULTS.items()
    ]


# --- the worker ---------------------------------------------------------------------------------------


def write_config(
    path: Path, *, bootstrap: str, topic: str, group: str, store: Path, database: str, candidates: list[dict[str, Any]]
) -> Path:
    config = {
        "source": {"kind": "kafka"},
        "kafka": {
            "bootstrap_servers": bootstrap,
            "topic": topic,
            "group_id": group,
            "commit_interval_s": 0.2,
            "control": False,
        },
        "clickhouse": {"dsn": ClickHouseTarget(f"chdb:///{store}").dsn, "database": database, "flush_interval_s": 0.2},
        "pipeline": {"max_in_flight": MAX_IN_FLIGHT, "shutdown_grace_s": GRACE_S},
        "candidates": candidates,
    }
    path.write_text(yaml.safe_dump(config))
    return path


def attempts_and_status(stores: list[Path], database: str) -> dict[tuple[str, str], tuple[int, int]]:
    """(event, candidate) → (attempts, http_status) of its stored row, the later store's when both hold one
    (their worker processes must have ended)."""
    found: dict[tuple[str, str], tuple[int, int]] = {}
    for store in stores:
        with ClickHouseStore(ClickHouseTarget(f"chdb:///{store}").settings(database)) as db:
            rows = db.query_rows(f"SELECT event_id, candidate, attempts, http_status FROM {database}.comparisons FINAL")
        found.update({(e, c): (a, s or 0) for e, c, a, s in rows})
    return found


def children_cpu_s() -> float:
    """CPU seconds (user + system) of this process's ended children: the worker runs, one after another."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


# --- throughput ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pace:
    """The healthy candidate's answers in one run."""

    answers: int
    steady_per_s: float  # between its middle answer and the one at 90 %: past the start, before the tail
    whole_per_s: float  # first to last answer
    longest_gap_s: float

    @classmethod
    def of(cls, served: list[Served]) -> Pace:
        done = sorted(s.done for s in served)
        n = len(done)
        low, high = n // 2, n - n // 10 - 1
        gaps = [b - a for a, b in pairwise(done)]
        return cls(
            answers=n,
            steady_per_s=(high - low) / (done[high] - done[low]),
            whole_per_s=(n - 1) / (done[-1] - done[0]),
            longest_gap_s=max(gaps),
        )


# --- the scenario -----------------------------------------------------------------------------------


@pytest.mark.timeout(900 if HEAVY else 240)
def test_faulty_candidates_get_their_error_kinds_and_do_not_stall_the_healthy_one(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    topic, stop_topic = unique("faults"), unique("faults")
    database = unique("cand")
    for name in (topic, stop_topic):
        asyncio.run(create_topic(kafka_bootstrap, name, partitions=PARTITIONS))
    events = [make_event(event_id=f"evt_{i:05d}") for i in range(EVENTS)]
    asyncio.run(produce(kafka_bootstrap, topic, events))
    stop_events = [make_event(event_id=f"evt_{i:05d}") for i in range(SIGTERM_EVENTS)]
    positions = asyncio.run(produce(kafka_bootstrap, stop_topic, stop_events))
    ids, stop_ids = [e["event_id"] for e in events], [e["event_id"] for e in stop_events]
    names = [HEALTHY, *(f"fault-{f}" for f in FAULTS)]
    workers: list[WorkerProcess] = []

    def run(label: str, run_topic: str, group: str, candidates: list[dict[str, Any]], *args: str) -> WorkerProcess:
        store = tmp_path / f"store-{label}"
        config = write_config(
            tmp_path / f"{label}.yaml",
            bootstrap=kafka_bootstrap,
            topic=run_topic,
            group=group,
            store=store,
            database=database,
            candidates=candidates,
        )
        worker = WorkerProcess(config, store, tmp_path / f"{label}.log", *args)
        workers.append(worker)
        return worker

    with (
        serving(CandidateServer(HEALTHY)) as healthy,
        serving(CandidateServer(*FAULTS)) as faulty,
    ):
        # 1. Baseline: the healthy candidate alone.
        cpu_before = children_cpu_s()
        baseline_worker = run(
            "baseline", topic, unique("shadow"), [healthy_candidate(healthy)], "--stop-after-idle", "1.5"
        )
        assert baseline_worker.wait(120) == 0, baseline_worker.tail()
        baseline = Pace.of(healthy.of(HEALTHY))
        baseline_cpu_s, cpu_before = children_cpu_s() - cpu_before, children_cpu_s()
        healthy.served.clear()

        # 2. The six faulty candidates beside it, breakers and auto-pause as shipped.
        mixed = [healthy_candidate(healthy), *faulty_candidates(faulty, every_call=False)]
        faults_worker = run("faults", topic, unique("shadow"), mixed, "--stop-after-idle", "1.5")
        assert faults_worker.wait(180) == 0, faults_worker.tail()
        beside = Pace.of(healthy.of(HEALTHY))
        beside_cpu_s = children_cpu_s() - cpu_before
        served_beside = Counter(s.lane for s in faulty.served)
        rate_limited = faulty.of("rate-limited")
        healthy.served.clear()
        faulty.served.clear()

        # 3. Every call made (no breaker, no auto-pause); SIGTERM mid-stream, then a restart finishes.
        strict = [healthy_candidate(healthy), *faulty_candidates(faulty, every_call=True)]
        stop_group = unique("shadow")

        def committed() -> int:
            offsets = asyncio.run(committed_offsets(kafka_bootstrap, stop_group, stop_topic, PARTITIONS))
            return sum(o or 0 for o in offsets.values())

        first = run("sigterm", stop_topic, stop_group, strict)
        wait_until(lambda: committed() > 0, 60, first, what="a first commit")
        stop_sent = time.monotonic()
        first.kill(signal.SIGTERM)
        code = first.wait(GRACE_S + 30)
        stop_s = time.monotonic() - stop_sent
        log = first.tail(10_000_000)
        assert code == 0, log[-3000:]
        assert "Traceback" not in log
        abandoned = re.search(r"abandoning (\d+) in-flight events", log)
        committed_at_stop = asyncio.run(committed_offsets(kafka_bootstrap, stop_group, stop_topic, PARTITIONS))
        below = [e for e, (p, o) in positions.items() if o < (committed_at_stop[p] or 0)]
        at_stop = stored([first.store], database)
        unstored = {(e, c) for e in below for c in names} - at_stop.pairs.keys()

        restart = run("restart", stop_topic, stop_group, strict, "--stop-after-idle", "1.5")
        restarted = time.monotonic()
        recovery_s = wait_until(
            lambda: any(s.arrived > restarted for s in healthy.of(HEALTHY)), 60, restart, what="a replay"
        )
        assert restart.wait(120) == 0, restart.tail()

    tally_baseline = stored([tmp_path / "store-baseline"], database)
    tally_faults = stored([tmp_path / "store-faults"], database)
    tally_strict = stored([tmp_path / "store-sigterm", tmp_path / "store-restart"], database)
    strict_attempts = attempts_and_status([tmp_path / "store-sigterm", tmp_path / "store-restart"], database)
    letters = dead_letters(kafka_bootstrap, f"{topic}.dlq") + dead_letters(kafka_bootstrap, f"{stop_topic}.dlq")
    kinds_beside = {
        name: dict(Counter(kind or status for (_, c), (status, kind) in tally_faults.pairs.items() if c == name))
        for name in names
    }
    ratio = beside.steady_per_s / baseline.steady_per_s
    lost = tally_baseline.lost(ids, [HEALTHY]) + tally_faults.lost(ids, names) + tally_strict.lost(stop_ids, names)
    figures = Figures(
        scenario="candidate faults: timeout, 429, 500, reset, trickle, garbage",
        runs=len(workers),
        events=EVENTS + SIGTERM_EVENTS,
        lost=lost,
        duplicates_after_final=tally_baseline.duplicates_after_final
        + tally_faults.duplicates_after_final
        + tally_strict.duplicates_after_final,
        dead_letters=len(letters),
        max_rss_mib=round(max(w.max_rss_mib for w in workers), 1),
        recovery_s=round(recovery_s, 2),
        faults=len(FAULTS) + 1,
        note=(
            f"healthy keeps {ratio:.2f} of its baseline rate beside 6 faulty candidates (bound {MIN_RATIO}); "
            f"{EVENTS} events with and without them, {SIGTERM_EVENTS} with every call made and a SIGTERM "
            f"(stop {stop_s:.1f} s, grace {GRACE_S:g} s, {abandoned.group(1) if abandoned else 0} abandoned)"
        ),
        extra={
            "healthy_baseline_per_s": round(baseline.steady_per_s, 1),
            "healthy_beside_faults_per_s": round(beside.steady_per_s, 1),
            "ratio": round(ratio, 3),
            "healthy_whole_run_per_s": [round(baseline.whole_per_s, 1), round(beside.whole_per_s, 1)],
            "healthy_longest_gap_s": [round(baseline.longest_gap_s, 2), round(beside.longest_gap_s, 2)],
            "kinds_beside_faults": kinds_beside,
            "requests_beside_faults": dict(served_beside),
            "worker_cpu_ms_per_event": [
                round(1000 * baseline_cpu_s / EVENTS, 2),
                round(1000 * beside_cpu_s / EVENTS, 2),
            ],
            "sigterm_stop_s": round(stop_s, 2),
            "committed_at_sigterm": len(below),
        },
    )
    record(figures)

    # Every (event, candidate) has a row, once, in every run; nothing dead-lettered.
    assert figures.lost == 0
    assert figures.duplicates_after_final == 0
    assert figures.dead_letters == 0

    # The healthy candidate: all ok everywhere, at least MIN_RATIO of its rate, stalled once at most.
    for tally, run_ids in ((tally_baseline, ids), (tally_faults, ids), (tally_strict, stop_ids)):
        assert {tally.pairs[(e, HEALTHY)] for e in run_ids} == {("ok", "")}
    assert ratio >= MIN_RATIO, (
        f"healthy rate {beside.steady_per_s:.0f}/s beside faults, {baseline.steady_per_s:.0f}/s alone"
    )
    assert beside.longest_gap_s <= MAX_STALL_S, f"the healthy candidate stalled {beside.longest_gap_s:.1f} s"

    # Setting 2: each faulty candidate's rows carry its fault's kind, or the skip that stood it down.
    for name, fault in FAULTS.items():
        rows = [tally_faults.pairs[(e, f"fault-{name}")] for e in ids]
        allowed = {("candidate_error", fault.kind.value)} | {("skipped", kind.value) for kind in fault.stand_down}
        assert set(rows) <= allowed, f"fault-{name}: {Counter(rows)}"
        assert ("candidate_error", fault.kind.value) in rows, (
            f"fault-{name} never produced {fault.kind}: {Counter(rows)}"
        )
    # 429 with Retry-After: the retry waits what the candidate asked.
    by_event: dict[str, list[float]] = {}
    for served in rate_limited:
        by_event.setdefault(served.event_id, []).append(served.arrived)
    retried = [sorted(times) for times in by_event.values() if len(times) > 1]
    assert retried, "no 429 was retried"
    waits = [b - a for times in retried for a, b in pairwise(times)]
    assert min(waits) >= RETRY_AFTER_S - 0.05, (
        f"a retry came {min(waits):.2f} s after a 429 (Retry-After {RETRY_AFTER_S})"
    )

    # Setting 3: every faulty row is exactly its fault's kind, after exactly the attempts its retry rule allows.
    for name, fault in FAULTS.items():
        rows = Counter(tally_strict.pairs[(e, f"fault-{name}")] for e in stop_ids)
        assert rows == {("candidate_error", fault.kind.value): len(stop_ids)}, f"fault-{name}: {rows}"
        tries = Counter(v for (e, c), v in strict_attempts.items() if c == f"fault-{name}")
        assert set(tries) == {(fault.attempts, fault.http_status)}, f"fault-{name} (attempts, http_status): {tries}"

    # SIGTERM: a clean stop within the grace, in-flight events abandoned, only stored work committed.
    assert stop_s < GRACE_S + 5, f"SIGTERM took {stop_s:.1f} s (grace {GRACE_S} s)"
    assert abandoned and int(abandoned.group(1)) > 0, "SIGTERM came when nothing was in flight"
    assert 0 < len(below) < SIGTERM_EVENTS, f"{len(below)} of {SIGTERM_EVENTS} committed at SIGTERM: not mid-stream"
    assert not unstored, f"{len(unstored)} committed (event, candidate) pairs had no row, e.g. {sorted(unstored)[:3]}"
    assert asyncio.run(committed_offsets(kafka_bootstrap, stop_group, stop_topic, PARTITIONS)) == asyncio.run(
        end_offsets(kafka_bootstrap, stop_topic, PARTITIONS)
    )
