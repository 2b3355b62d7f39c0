"""ClickHouse inserts failing for a period while events keep flowing, then failing again until a SIGTERM:
nothing is committed while they fail, resident memory stays bounded, the worker resumes by itself, the
stop is clean and a restart loses nothing.

The fault sits at the clickhouse-connect boundary (``tests.faults.inject``: ``Client.insert`` raises the
driver's ``DatabaseError`` while a flag file exists), under a real ``shadow run`` on its own chDB store.
The worker's inserts are also written to a ledger by that launcher; the test samples the group's
committed offsets every few hundred milliseconds and checks each sample against the ledger as it was
just after the sample: every event below a committed offset had all its rows stored by then (a chDB
store cannot be read while the worker holds it; the ledger is checked against the store at the end).

One stream, one store, two worker lives:

1. Events are published at a steady pace. Once some are committed, inserts fail for ``FAILING_S``:
   the committed offsets stay at or below what was stored before the failure began; the worker logs
   the failures, keeps running, and stops reading once ``clickhouse.max_pending_rows`` rows wait
   (backpressure), so its memory stays under ``RSS_BOUND_MIB``. The flag is removed: recovery_s is
   the time until the committed offsets move again.
2. Inserts fail again; ``SIGTERM_AFTER_S`` into that failure the worker gets SIGTERM: it exits 0
   within ``pipeline.shutdown_grace_s`` + ``STOP_MARGIN_S``, with only stored work committed.
3. A second life without the fault drains the rest: lost = 0, no duplicates after FINAL, the committed
   offsets equal the end offsets.

A real ClickHouse server stopped and started instead of the injected fault: :func:`docker_server_scenario`
runs the same sequence against ``clickhouse/clickhouse-server`` in a container (testcontainers) when a
Docker engine answers, the outage being ``docker stop`` / ``docker start`` of the server (the fault
launcher then only keeps the ledger). It is not a pytest test, since no test may skip in CI and CI has
no Docker engine: ``python -m tests.faults`` calls it, and it raises ``RuntimeError("not run: no Docker
engine answered")`` where none answers.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml
from aiokafka import AIOKafkaProducer

from shadow.demo.server import Answer, serve_in_thread
from shadow.storage.store import ClickHouseStore
from tests.conftest import ClickHouseTarget, _docker_answers, unique
from tests.factories import event_bytes, make_event
from tests.faults.harness import (
    CANDIDATES,
    HEAVY,
    Figures,
    Tally,
    WorkerProcess,
    committed_offsets,
    create_topic,
    dead_letters,
    end_offsets,
    record,
    stored,
    worker_config,
)
from tests.faults.inject import FAIL_FILE_ENV, LEDGER_ENV

pytestmark = [pytest.mark.kafka, pytest.mark.clickhouse, pytest.mark.e2e]

SCENARIO = "ClickHouse inserts failing for a period (+ SIGTERM)"
EVENTS, PER_S, FAILING_S = (5_000, 100.0, 30.0) if HEAVY else (1_000, 40.0, 12.0)
PARTITIONS = 3
MAX_IN_FLIGHT = 16  # pipeline.max_in_flight
MAX_PENDING_ROWS = 300  # clickhouse.max_pending_rows: 100 events' rows (2 comparison rows + 1 ingest row each)
ROWS_PER_EVENT = len(CANDIDATES) + 1
GRACE_S = 5.0  # pipeline.shutdown_grace_s
STOP_MARGIN_S = 5.0  # leaving the group, closing Kafka clients and the chDB engine
SIGTERM_AFTER_S = 18.0
RSS_BOUND_MIB = 600
"""The worker's resident memory may not pass this. A healthy worker of this configuration peaks at about
410 MiB before the failure (Python, aiokafka, httpx and the embedded chDB engine with its caches; measured
on a 2-core machine). What a failing store adds is bounded by the worker's own limits: at most
``clickhouse.max_pending_rows`` rows wait to be stored (and at most ``clickhouse.max_pending_bytes``,
64 MiB by default, of their texts), at most ``pipeline.max_in_flight`` events are being replayed, and
aiokafka prefetches at most 1 MiB per partition (``max_partition_fetch_bytes``). 600 MiB is the healthy
peak plus those 64 + 3 MiB, with about 120 MiB for allocator slack and the engine's caches. A worker that
held every event of an outage in memory would pass it on a long one."""
LOOP_S = 0.25  # committed offsets sampling period


def answer(api, body) -> Answer:
    return Answer.text_answer("Your refund was approved this morning.", latency_ms=15)


# --- the stream ------------------------------------------------------------------------------------


class Producer(threading.Thread):
    """Publishes the events at ``per_s`` in its own thread; each event's (partition, offset)."""

    def __init__(self, bootstrap: str, topic: str, events: list[dict], per_s: float) -> None:
        super().__init__(daemon=True)
        self.bootstrap, self.topic, self.events, self.per_s = bootstrap, topic, events, per_s
        self.positions: dict[str, tuple[int, int]] = {}
        self.published = 0
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            asyncio.run(self._publish())
        except BaseException as exc:  # reported by finish()
            self.error = exc

    async def _publish(self) -> None:
        producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap, acks="all", linger_ms=5)
        await producer.start()
        try:
            start = time.monotonic()
            for i in range(0, len(self.events), 10):
                chunk = self.events[i : i + 10]
                sent = [await producer.send(self.topic, event_bytes(e), key=e["event_id"].encode()) for e in chunk]
                for event, metadata in zip(chunk, await asyncio.gather(*sent), strict=True):
                    self.positions[event["event_id"]] = (metadata.partition, metadata.offset)
                self.published += len(chunk)
                await asyncio.sleep(max(0.0, start + self.published / self.per_s - time.monotonic()))
        finally:
            await producer.stop()

    def finish(self, timeout_s: float) -> dict[tuple[int, int], str]:
        """Wait for the last event; the event id at each (partition, offset)."""
        self.join(timeout_s)
        assert not self.is_alive(), "the producer did not finish"
        assert self.error is None, f"the producer failed: {self.error!r}"
        return {position: event_id for event_id, position in self.positions.items()}


# --- what the worker stored and committed ------------------------------------------------------------


class Ledger:
    """The worker's inserts as ``tests.faults.inject`` wrote them down (one JSON line per insert)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def size(self) -> int:
        return self.path.stat().st_size if self.path.exists() else 0

    def entries(self, upto: int | None = None) -> list[dict]:
        if not self.path.exists():
            return []
        data = self.path.read_bytes()[:upto]
        return [json.loads(line) for line in data.splitlines(keepends=True) if line.endswith(b"\n")]

    @staticmethod
    def stored_events(entries: list[dict], before: float = float("inf")) -> set[str]:
        """Events whose comparison rows (one per candidate) and ingest row were stored by inserts begun before ``before``."""
        pairs: set[tuple[str, str]] = set()
        ingested: set[str] = set()
        for entry in entries:
            if not entry["ok"] or entry["t0"] >= before or entry["event_ids"] is None:
                continue
            table = entry["table"].replace("`", "").replace('"', "").rsplit(".", 1)[-1]
            if table == "comparisons":
                pairs.update(zip(entry["event_ids"], entry["candidates"], strict=True))
            elif table == "ingest_log":
                ingested.update(entry["event_ids"])
        return {e for e in ingested if all((e, c) in pairs for c in CANDIDATES)}


def commit_points(by_position: dict[tuple[int, int], str], events: set[str]) -> dict[int, int]:
    """Per partition, the highest offset a worker may commit when ``events`` are what is stored."""
    points = {}
    for partition in range(PARTITIONS):
        offset = 0
        while (partition, offset) in by_position and by_position[partition, offset] in events:
            offset += 1
        points[partition] = offset
    return points


@dataclass
class Sample:
    """The group's committed offsets at ``t`` (``time.monotonic()``), and what had happened by then."""

    t: float
    committed: dict[int, int]
    ledger_bytes: int  # the ledger's size just after the offsets were read
    requests: int  # candidate requests received
    published: int


@dataclass
class Run:
    """One scenario's moving parts and what the test saw of them."""

    bootstrap: str
    topic: str
    group: str
    ledger: Ledger
    producer: Producer
    received: Callable[[], int]
    samples: list[Sample] = field(default_factory=list)

    def sample(self) -> Sample:
        found = asyncio.run(asyncio.wait_for(committed_offsets(self.bootstrap, self.group, self.topic, PARTITIONS), 10))
        now = Sample(
            time.monotonic(),
            {p: o or 0 for p, o in found.items()},
            self.ledger.size(),
            self.received(),
            self.producer.published,
        )
        self.samples.append(now)
        return now

    def sample_until(self, done: Callable[[Sample], bool], timeout_s: float, worker: WorkerProcess, what: str) -> float:
        """Sample every ``LOOP_S`` until ``done``; the seconds it took. Fails if the worker dies or time runs out."""
        start = time.monotonic()
        while not done(self.sample()):
            worker.check_alive()
            assert time.monotonic() - start < timeout_s, f"timed out waiting for {what}\n{worker.tail()}"
            time.sleep(LOOP_S)
        return time.monotonic() - start

    def sample_for(self, seconds: float, worker: WorkerProcess) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.sample()
            worker.check_alive()
            time.sleep(LOOP_S)

    def between(self, start: float, end: float) -> list[Sample]:
        return [s for s in self.samples if start <= s.t <= end]


def committed_total(sample: Sample) -> int:
    return sum(sample.committed.values())


# --- where the rows go and how inserts fail -------------------------------------------------------


@dataclass
class Target:
    """The ClickHouse the worker writes to: its DSN, and how the test reads it once the worker ended."""

    ch: ClickHouseTarget
    store_dir: Path  # the chDB directory (a scratch directory for a server)
    tally: Callable[[str], Tally]


@dataclass
class Outage:
    """How inserts are made to fail (``begin``) and work again (``end``), and what the worker needs for it."""

    name: str
    begin: Callable[[], None]
    end: Callable[[], None]
    env: dict[str, str] = field(default_factory=dict)


def flag_outage(flag: Path) -> Outage:
    return Outage(
        "inserts refused at the clickhouse-connect boundary (tests.faults.inject)",
        begin=flag.touch,
        end=lambda: flag.unlink(missing_ok=True),
        env={FAIL_FILE_ENV: str(flag)},
    )


def server_tally(ch: ClickHouseTarget, database: str) -> Tally:
    """A ClickHouse server's rows as :func:`tests.faults.harness.stored` reads chDB stores: one table, its FINAL."""
    with ClickHouseStore(ch.settings(database)) as store:
        rows = store.query_rows(f"SELECT event_id, candidate, status, error_kind FROM {database}.comparisons FINAL")
        ingested = {r[0] for r in store.query_rows(f"SELECT event_id FROM {database}.ingest_log FINAL")}
    pairs: dict[tuple[str, str], tuple[str, str]] = {}
    duplicates = 0
    for event_id, candidate, status, kind in rows:
        duplicates += (event_id, candidate) in pairs
        pairs[event_id, candidate] = (status, kind)
    return Tally(pairs, duplicates, ingested, {"server": len(rows)})


# --- the scenario -----------------------------------------------------------------------------------


def failing_inserts(bootstrap: str, target: Target, outage: Outage, tmp: Path) -> Figures:
    """Run the scenario (module docstring) against ``target`` with ``outage``; record and check its figures."""
    topic, group, database = unique("faults"), unique("shadow"), unique("chfail")
    asyncio.run(create_topic(bootstrap, topic, partitions=PARTITIONS))
    events = [make_event(event_id=f"evt_{i:05d}", text=f"refund request {i}") for i in range(EVENTS)]
    ledger = Ledger(tmp / "inserts.jsonl")
    env = {**outage.env, LEDGER_ENV: str(ledger.path)}
    if target.ch.password:
        env["SHADOW_CLICKHOUSE__PASSWORD"] = target.ch.password
    lives: list[WorkerProcess] = []

    with serve_in_thread(answer) as server:
        config = worker_config(
            tmp / "shadow.yaml",
            bootstrap=bootstrap,
            topic=topic,
            group=group,
            store=target.store_dir,
            database=database,
            base_url=server.base_url,
            max_in_flight=MAX_IN_FLIGHT,
            shutdown_grace_s=GRACE_S,
        )
        settings = yaml.safe_load(config.read_text())
        settings["clickhouse"].update(dsn=target.ch.dsn, max_pending_rows=MAX_PENDING_ROWS)
        if target.ch.username:
            settings["clickhouse"]["username"] = target.ch.username
        config.write_text(yaml.safe_dump(settings))

        def life(*args: str) -> WorkerProcess:
            command = [sys.executable, "-m", "tests.faults.inject"]
            worker = WorkerProcess(
                config, target.store_dir, tmp / f"life-{len(lives)}.log", *args, env=env, command=command
            )
            lives.append(worker)
            return worker

        producer = Producer(bootstrap, topic, events, PER_S)
        run = Run(bootstrap, topic, group, ledger, producer, lambda: len(server.received))
        worker = life()
        producer.start()

        # Phase 1: progress, then inserts fail for FAILING_S while events keep coming.
        run.sample_until(lambda s: committed_total(s) >= EVENTS // 8, 120, worker, "the first commits")
        rss_before_mib = worker.max_rss_mib
        outage.begin()
        on_1 = time.monotonic()
        run.sample_for(FAILING_S, worker)
        off_1 = time.monotonic()  # before the end: nothing can be stored earlier (a server takes a while to start)
        outage.end()
        frozen_at = max(committed_total(s) for s in run.between(on_1, off_1))
        # Recovery: from the end of the outage (the flag removed, the server answering) to the committed
        # offsets moving again; the worker's backoff between retries is part of it (up to 30 s).
        recovery_s = run.sample_until(lambda s: committed_total(s) > frozen_at, 90, worker, "commits after the failure")

        # Phase 2: inserts fail again; SIGTERM arrives SIGTERM_AFTER_S into the failure.
        run.sample_until(lambda s: committed_total(s) > frozen_at + 30, 60, worker, "progress after recovery")
        outage.begin()
        on_2 = time.monotonic()
        run.sample_for(SIGTERM_AFTER_S, worker)
        worker.kill(signal.SIGTERM)
        term_at = time.monotonic()
        stop_code = worker.wait(GRACE_S + 60)
        stop_s = time.monotonic() - term_at
        after_stop = run.sample()
        outage.end()
        stop_log = worker.log_path.read_text(errors="replace")

        # Phase 3: a life without the fault drains the rest.
        by_position = producer.finish(120)
        final = life("--stop-after-idle", "4")
        drained = final.wait(300)
        run.sample()

    tally = target.tally(database)
    ids = [e["event_id"] for e in events]
    letters = dead_letters(bootstrap, f"{topic}.dlq")
    ledger_entries = ledger.entries()
    window_1 = run.between(on_1, off_1)
    figures = Figures(
        scenario=SCENARIO,
        runs=len(lives),
        events=EVENTS,
        lost=tally.lost(ids),
        duplicates_after_final=tally.duplicates_after_final,
        dead_letters=len(letters),
        max_rss_mib=round(max(w.max_rss_mib for w in lives), 1),
        recovery_s=round(recovery_s, 2),
        faults=2,
        note=(
            f"{outage.name}: {FAILING_S:g} s while {PER_S:g} events/s kept coming, then again until a SIGTERM "
            f"{SIGTERM_AFTER_S:g} s in (stopped in {stop_s:.1f} s, exit {stop_code}; grace {GRACE_S:g} s); "
            f"RSS bound {RSS_BOUND_MIB} MiB (max_pending_rows {MAX_PENDING_ROWS}, max_in_flight {MAX_IN_FLIGHT})"
        ),
        extra={
            "rss_before_failure_mib": round(rss_before_mib, 1),
            "rss_growth_mib": round(max(w.max_rss_mib for w in lives) - rss_before_mib, 1),
            "rss_bound_mib": RSS_BOUND_MIB,
            "stop_s": round(stop_s, 2),
            "requests_in_failure_1": window_1[-1].requests - window_1[0].requests,
            "events_published_in_failure_1": window_1[-1].published - window_1[0].published,
            "failed_inserts": sum(not e["ok"] for e in ledger_entries),
            "commit_samples": len(run.samples),
            "requests": len(server.received),
        },
    )
    record(figures)

    # Only stored work is ever committed: each sample against the ledger as it was right after it.
    for sample in run.samples:
        stored_then = Ledger.stored_events(ledger.entries(sample.ledger_bytes))
        points = commit_points(by_position, stored_then)
        over = {p: (o, points[p]) for p, o in sample.committed.items() if o > points[p]}
        assert not over, f"committed past the stored rows at {sample.t - on_1:+.1f} s: {over} (committed, stored)"
    # Nothing committed while failing: not past what was stored before each failure began.
    for start, end in ((on_1, off_1), (on_2, after_stop.t)):
        before = commit_points(by_position, Ledger.stored_events(ledger_entries, before=start))
        for sample in run.between(start, end):
            over = {p: (o, before[p]) for p, o in sample.committed.items() if o > before[p]}
            assert not over, f"committed while inserts failed ({sample.t - start:.1f} s in): {over}"
        refused = [e for e in ledger_entries if start < e["t0"] < end]
        assert refused and not any(e["ok"] for e in refused), "inserts were not all refused during the failure"
    # The worker logged the failures and kept running; reading stopped once MAX_PENDING_ROWS rows waited.
    assert "store write failed" in stop_log
    half = run.between(on_1 + FAILING_S / 2, off_1)
    assert half[-1].requests == half[0].requests, "the worker kept reading with its rows unstored"
    assert window_1[-1].published * len(CANDIDATES) > window_1[-1].requests, "no backlog: backpressure untested"
    assert figures.max_rss_mib < RSS_BOUND_MIB, f"resident memory {figures.max_rss_mib} MiB ≥ {RSS_BOUND_MIB} MiB"
    # The stream in the end.
    assert drained == 0, final.log_path.read_text(errors="replace")[-3000:]
    assert figures.lost == 0
    assert figures.duplicates_after_final == 0
    assert figures.dead_letters == 0
    assert len(tally.pairs) == EVENTS * len(CANDIDATES)
    assert {status for status, _ in tally.pairs.values()} == {"ok"}
    assert after_stop.committed != run.samples[-1].committed, "the restart had nothing left to drain"
    assert run.samples[-1].committed == asyncio.run(end_offsets(bootstrap, topic, PARTITIONS))
    # The ledger agrees with the store: every row it saw stored is there.
    assert Ledger.stored_events(ledger_entries) <= tally.ingested
    # SIGTERM while failing: a clean stop, in time.
    assert stop_code == 0, stop_log[-3000:]
    assert "Traceback" not in stop_log
    assert stop_s < GRACE_S + STOP_MARGIN_S, (
        f"SIGTERM while inserts failed took {stop_s:.1f} s to stop (shutdown_grace_s {GRACE_S:g} s)"
    )
    return figures


@pytest.mark.timeout(900 if HEAVY else 240)
def test_inserts_failing_for_a_period_commit_nothing_stay_bounded_and_resume_then_sigterm_stops_cleanly(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    store = tmp_path / "store"
    target = Target(ClickHouseTarget(f"chdb:///{store}"), store, lambda database: stored([store], database))
    failing_inserts(kafka_bootstrap, target, flag_outage(tmp_path / "inserts-fail"), tmp_path)


# --- a real ClickHouse server stopped and started (Docker) ---------------------------------------------


SERVER_IMAGE = "clickhouse/clickhouse-server:25.8"  # as tests/conftest.py's clickhouse fixture


@contextmanager
def _kafka() -> Iterator[str]:
    configured = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if configured:
        yield configured
        return
    from tests.conftest import _kafka_container

    yield from _kafka_container()


def docker_server_scenario(tmp: Path | None = None) -> Figures:
    """The scenario against a ClickHouse server in a container, stopped (``docker stop``) and started again.

    Kafka: ``KAFKA_BOOTSTRAP_SERVERS``, else a container. The server's HTTP port is bound to a fixed host
    port so that the worker finds it again after the restart.

    Raises:
        RuntimeError: ``"not run: no Docker engine answered"``.
        AssertionError: a property of the scenario does not hold (the figures are printed first).
    """
    if not _docker_answers():
        raise RuntimeError("not run: no Docker engine answered")
    import socket
    import tempfile
    import urllib.request

    from testcontainers.community.clickhouse import ClickHouseContainer

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    container = ClickHouseContainer(SERVER_IMAGE).with_bind_ports(8123, port)
    with container, _kafka() as bootstrap, tempfile.TemporaryDirectory() as scratch:
        work = tmp or Path(scratch)
        ch = ClickHouseTarget(f"http://127.0.0.1:{port}", container.username, container.password)
        docker = container.get_wrapped_container()

        def start() -> None:
            docker.start()
            deadline = time.monotonic() + 120
            while True:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=2) as answer:
                        if answer.status == 200:
                            return
                except OSError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError("the ClickHouse container did not come back within 120 s")
                time.sleep(0.5)

        outage = Outage("a ClickHouse server stopped (docker stop) and started", begin=docker.stop, end=start)
        target = Target(ch, work / "unused-store", lambda database: server_tally(ch, database))
        figures = failing_inserts(bootstrap, target, outage, work)
    figures.scenario = "ClickHouse server stopped and started (Docker) (+ SIGTERM)"
    return figures
