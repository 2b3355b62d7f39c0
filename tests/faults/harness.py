"""What every fault scenario needs: real Kafka topics, ``shadow run`` worker processes each on its own
embedded ClickHouse (chDB) store, the union of those stores as ClickHouse would see them, the
dead-letter topic's contents, and the figures each scenario reports.

chDB allows one process per store directory, so a scenario with several worker processes (or several
lives of one worker) gives each process its own store and reads them all after the processes end. In
one shared ClickHouse the rows of all stores would be one ``ReplacingMergeTree`` table: rows with the
same sorting key ``(workflow, candidate, toStartOfHour(occurred_at), event_id)`` collapse under
``FINAL``. :func:`stored` applies exactly that rule to the union, so "duplicates after FINAL" counts
the (event, candidate) pairs that would still be there twice: rows whose sorting keys differ.
"""

from __future__ import annotations

import ast
import asyncio
import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from shadow.storage.store import ClickHouseStore
from tests.conftest import ClickHouseTarget
from tests.e2e.test_worker_process import env_for, write_config
from tests.factories import event_bytes
from tests.integration.test_kafka_pipeline import committed_offsets, create_topic, end_offsets, publish

SHADOW = [sys.executable, "-m", "shadow"]
CANDIDATES = ("cand-anthropic", "cand-openai")  # the two candidates write_config() declares
HEAVY = os.environ.get("SHADOW_FAULTS_HEAVY") == "1"
"""The figures' sizes (``python -m tests.faults``); the CI subset runs smaller streams of the same
scenarios."""

__all__ = [
    "CANDIDATES",
    "HEAVY",
    "Figures",
    "Tally",
    "WorkerProcess",
    "assigned_partitions",
    "committed_are_stored",
    "committed_is_stored",
    "committed_offsets",
    "create_topic",
    "dead_letters",
    "end_offsets",
    "partitions_by_store",
    "positions",
    "produce",
    "publish",
    "record",
    "stored",
    "topics",
    "wait_until",
    "worker_config",
]


# --- figures -------------------------------------------------------------------------------------


@dataclass
class Figures:
    """One scenario's figures (one line of ``tests/faults/figures.json``)."""

    scenario: str
    runs: int  # worker lives (starts) in the scenario
    events: int  # events published
    lost: int  # expected (event, candidate) pairs with no row, plus events neither stored nor dead-lettered
    duplicates_after_final: int
    dead_letters: int
    max_rss_mib: float  # the largest resident memory of any worker process, sampled every 100 ms
    recovery_s: float | None  # from the fault's end to the worker making progress again (None: no outage)
    faults: int = 0  # faults injected (kills, broker stops, failing insert periods…)
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def record(figures: Figures) -> None:
    """Append the figures to ``$SHADOW_FAULT_FIGURES`` (JSON lines) when set, and print them."""
    line = json.dumps(asdict(figures), ensure_ascii=False)
    print(f"\nfigures: {line}")
    target = os.environ.get("SHADOW_FAULT_FIGURES")
    if target:
        with open(target, "a", encoding="utf-8") as out:
            out.write(line + "\n")


# --- worker processes ------------------------------------------------------------------------------


def worker_config(
    path: Path,
    *,
    bootstrap: str,
    topic: str,
    group: str,
    store: Path,
    database: str,
    base_url: str,
    kafka: dict[str, object] | None = None,
    **pipeline: object,
) -> Path:
    """A worker's YAML: the topic and group, its own chDB store, the two local candidates; ``kafka``
    adds to its ``kafka:`` section."""
    write_config(
        path,
        bootstrap=bootstrap,
        topic=topic,
        group=group,
        ch=ClickHouseTarget(f"chdb:///{store}"),
        database=database,
        base_url=base_url,
        **pipeline,
    )
    if kafka:
        config = yaml.safe_load(path.read_text())
        config["kafka"].update(kafka)
        path.write_text(yaml.safe_dump(config))
    return path


class WorkerProcess:
    """``shadow run`` as a subprocess, its log in a file, its resident memory sampled every 100 ms."""

    _started: list[WorkerProcess] = []  # noqa: RUF012 - every process started, for kill_leftovers()

    @classmethod
    def kill_leftovers(cls) -> None:
        """SIGKILL every worker still running (a failed scenario leaves its workers behind otherwise)."""
        while cls._started:
            worker = cls._started.pop()
            if worker.alive():
                worker.process.kill()
                worker.process.wait(30)

    def __init__(
        self,
        config: Path,
        store: Path,
        log: Path,
        *extra_args: str,
        env: dict[str, str] | None = None,
        command: list[str] | None = None,
    ):
        """``command`` replaces ``python -m shadow`` (e.g. a launcher that injects a fault first); ``env``
        adds to the worker's environment."""
        self.config, self.store, self.log_path = config, store, log
        self._log = log.open("a")
        environment = env_for(ClickHouseTarget(f"chdb:///{store}"))
        if env:
            environment.update(env)
        self.started = time.monotonic()
        self.process = subprocess.Popen(
            [*(command or SHADOW), "run", "--config", str(config), "--log-level", "INFO", *extra_args],
            env=environment,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        WorkerProcess._started.append(self)
        self.max_rss_kib = 0
        self._sampler = threading.Thread(target=self._sample, daemon=True)
        self._sampler.start()

    def _sample(self) -> None:
        status = Path(f"/proc/{self.process.pid}/status")
        while self.process.poll() is None:
            try:
                for line in status.read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        self.max_rss_kib = max(self.max_rss_kib, int(line.split()[1]))
            except (OSError, ValueError):
                pass
            time.sleep(0.1)

    @property
    def max_rss_mib(self) -> float:
        return self.max_rss_kib / 1024

    def alive(self) -> bool:
        return self.process.poll() is None

    def check_alive(self) -> None:
        assert self.alive(), f"worker exited with {self.process.returncode}:\n{self.tail()}"

    def kill(self, sig: int = signal.SIGKILL) -> None:
        self.process.send_signal(sig)

    def wait(self, timeout_s: float) -> int:
        code = self.process.wait(timeout_s)
        self._sampler.join(1)
        self._log.close()
        return code

    def tail(self, chars: int = 3000) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(errors="replace")[-chars:]


def wait_until(condition: Callable[[], bool], timeout_s: float, *workers: WorkerProcess, what: str = "") -> float:
    """Poll ``condition`` every 50 ms; the seconds it took. Fails naming ``what`` (with the workers' logs)
    after ``timeout_s``, or at once when a worker died."""
    start = time.monotonic()
    while not condition():
        for worker in workers:
            worker.check_alive()
        if time.monotonic() - start > timeout_s:
            logs = "\n---\n".join(w.tail(2000) for w in workers)
            raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what}\n{logs}")
        time.sleep(0.05)
    return time.monotonic() - start


# --- publishing, and what the group committed -------------------------------------------------------


async def produce(bootstrap: str, topic: str, events: list[dict]) -> dict[str, tuple[int, int]]:
    """Publish the events; each event's (partition, offset)."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    await producer.start()
    try:
        sent = [await producer.send(topic, event_bytes(e), key=e["event_id"].encode()) for e in events]
        metadata = await asyncio.gather(*sent)
    finally:
        await producer.stop()
    return {e["event_id"]: (m.partition, m.offset) for e, m in zip(events, metadata, strict=True)}


def committed_is_stored(
    bootstrap: str,
    group: str,
    topic: str,
    partitions: int,
    store: Path,
    database: str,
    positions: dict[str, tuple[int, int]],
) -> int:
    """Check that every event below a committed offset has all its rows (the worker must have ended);
    how many events are committed."""
    return committed_are_stored(bootstrap, group, topic, partitions, [store], database, positions)


def committed_are_stored(
    bootstrap: str,
    group: str,
    topic: str,
    partitions: int,
    stores: Iterable[Path],
    database: str,
    positions: dict[str, tuple[int, int]],
) -> int:
    """:func:`committed_is_stored` over the union of several workers' stores (their processes must have
    ended): every event below the group's committed offset of its partition has all its rows in one of
    them; how many events are committed."""
    committed = asyncio.run(committed_offsets(bootstrap, group, topic, partitions))
    below = [e for e, (p, o) in positions.items() if committed[p] is not None and o < committed[p]]
    tally = stored(stores, database)
    missing = {(e, c) for e in below for c in CANDIDATES} - tally.pairs.keys()
    assert not missing, f"{len(missing)} committed (event, candidate) pairs have no row, e.g. {sorted(missing)[:3]}"
    return len(below)


def positions(bootstrap: str, topic: str, partitions: int, timeout_s: float = 60.0) -> dict[str, tuple[int, int]]:
    """Every message of ``topic`` read from the start to its end: its key (the event id) → (partition, offset).

    For a stream published by a producer that does not report where each event went (a live producer).
    """

    async def read() -> dict[str, tuple[int, int]]:
        consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
        await consumer.start()
        try:
            tps = [TopicPartition(topic, p) for p in range(partitions)]
            consumer.assign(tps)
            await consumer.seek_to_beginning(*tps)
            ends = await consumer.end_offsets(tps)
            out: dict[str, tuple[int, int]] = {}
            deadline = time.monotonic() + timeout_s
            while [tp for tp in tps if await consumer.position(tp) < ends[tp]]:
                assert time.monotonic() < deadline, f"could not read {topic} to its end"
                batch = await consumer.getmany(*tps, timeout_ms=500)
                for tp, records in batch.items():
                    out.update((r.key.decode(), (tp.partition, r.offset)) for r in records if r.key is not None)
            return out
        finally:
            with contextlib.suppress(asyncio.CancelledError):  # as in dead_letters()
                await consumer.stop()

    return asyncio.run(read())


_ASSIGNED = re.compile(r"assigned partitions (\[.*?\])\s*$", re.MULTILINE)


def assigned_partitions(worker: WorkerProcess, topic: str) -> list[int] | None:
    """The partitions of ``topic`` the worker's last assignment gave it, from its log (``--log-level INFO``);
    None before its first one. aiokafka rebalances eagerly (every partition revoked, then the whole new
    assignment given), so the last ``assigned partitions`` line is the worker's assignment until the
    group rebalances again."""
    found = _ASSIGNED.findall(worker.tail(1_000_000))
    if not found:
        return None
    return sorted(p for t, p in ast.literal_eval(found[-1]) if t == topic)


def partitions_by_store(stores: Iterable[Path], database: str) -> dict[str, set[int]]:
    """The Kafka partitions each store's ``ingest_log`` holds events of (the worker processes must have
    ended): which partitions each worker stored work from over the run, by store directory name."""
    out: dict[str, set[int]] = {}
    for path in stores:
        out[path.name] = set()
        if not path.exists():
            continue
        with ClickHouseStore(ClickHouseTarget(f"chdb:///{path}").settings(database)) as store:
            tables = {
                row[0] for row in store.query_rows(f"SELECT name FROM system.tables WHERE database = '{database}'")
            }
            if "ingest_log" in tables:
                out[path.name] = {
                    int(row[0]) for row in store.query_rows(f"SELECT DISTINCT partition FROM {database}.ingest_log")
                }
    return out


# --- what the stores hold ---------------------------------------------------------------------------


@dataclass
class Tally:
    """The union of the stores, deduplicated as one ReplacingMergeTree table's FINAL would."""

    pairs: dict[tuple[str, str], tuple[str, str]]  # (event, candidate) → (status, error_kind) of the newest row
    duplicates_after_final: int  # pairs with rows under two or more distinct sorting keys
    ingested: set[str]  # event ids in ingest_log
    per_store: dict[str, int]  # rows (after the store's own FINAL) per store directory name

    def lost(self, event_ids: Iterable[str], candidates: Iterable[str] = CANDIDATES) -> int:
        expected = {(e, c) for e in event_ids for c in candidates}
        return len(expected - self.pairs.keys())


def stored(stores: Iterable[Path], database: str) -> Tally:
    """Read every store (their worker processes must have ended) and union them."""
    keys: dict[tuple[str, str], set[tuple[str, str]]] = {}
    newest: dict[tuple[str, str], tuple[int, str, str]] = {}
    ingested: set[str] = set()
    per_store: dict[str, int] = {}
    for path in stores:
        if not path.exists():
            continue
        settings = ClickHouseTarget(f"chdb:///{path}").settings(database)
        with ClickHouseStore(settings) as store:
            tables = {
                row[0] for row in store.query_rows(f"SELECT name FROM system.tables WHERE database = '{database}'")
            }
            if "comparisons" not in tables:
                continue
            rows = store.query_rows(
                f"SELECT event_id, candidate, workflow, toString(toStartOfHour(occurred_at)), status, error_kind,"
                f" row_version FROM {database}.comparisons FINAL"
            )
            ingested |= {row[0] for row in store.query_rows(f"SELECT event_id FROM {database}.ingest_log FINAL")}
        per_store[path.name] = len(rows)
        for event_id, candidate, workflow, hour, status, kind, version in rows:
            pair = (event_id, candidate)
            keys.setdefault(pair, set()).add((workflow, hour))
            if pair not in newest or version > newest[pair][0]:
                newest[pair] = (version, status, kind)
    duplicates = sum(len(k) - 1 for k in keys.values())
    return Tally({p: (s, k) for p, (_, s, k) in newest.items()}, duplicates, ingested, per_store)


def topics(bootstrap: str) -> set[str]:
    """The broker's topics (a dead-letter topic exists only once a letter was sent)."""

    async def names() -> set[str]:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
        await admin.start()
        try:
            return set(await admin.list_topics())
        finally:
            await admin.close()

    return asyncio.run(names())


def dead_letters(bootstrap: str, topic: str, timeout_s: float = 30.0) -> list[tuple[bytes | None, dict[str, bytes]]]:
    """Every message of the dead-letter topic ``topic`` (key, headers), read from the start to its end."""

    async def read() -> list[tuple[bytes | None, dict[str, bytes]]]:
        consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
        await consumer.start()
        try:
            if topic not in await consumer.topics():  # never created: nothing was dead-lettered
                return []
            partitions = consumer.partitions_for_topic(topic) or set()
            tps = [TopicPartition(topic, p) for p in sorted(partitions)]
            if not tps:
                return []
            consumer.assign(tps)
            await consumer.seek_to_beginning(*tps)
            ends = await consumer.end_offsets(tps)
            out: list[tuple[bytes | None, dict[str, bytes]]] = []
            deadline = time.monotonic() + timeout_s
            while [tp for tp in tps if await consumer.position(tp) < ends[tp]]:
                assert time.monotonic() < deadline, f"could not read {topic} to its end"
                batch = await consumer.getmany(*tps, timeout_ms=500)
                for records in batch.values():
                    out.extend((r.key, dict(r.headers)) for r in records)
            return out
        finally:
            with contextlib.suppress(asyncio.CancelledError):  # aiokafka's stop, seen once cancelling itself
                await consumer.stop()

    return asyncio.run(read())
