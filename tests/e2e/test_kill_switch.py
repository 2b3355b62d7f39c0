"""The kill switch on real parts: ``shadow ctl disable`` stops two workers' calls to a candidate within 5 s.

Two ``shadow run`` processes share one consumer group on a 4-partition topic of the real broker
while events keep arriving; a local candidate server logs every call with its time. ``shadow ctl
disable`` writes the compacted control topic; from 5 s after it returns, the candidate server
receives no call to the disabled candidate from either worker, while the other candidate keeps
being called. ``enable`` resumes it. In the end every event has a row for both candidates:
compared, or skipped with ``killed`` (the calls cancelled in flight and those never made).

Each worker has its own embedded chDB store (one process per chDB directory); the test unions the
two stores and deduplicates by (event, candidate) keeping the newest ``row_version``, as
ClickHouse's ReplacingMergeTree does with ``FINAL``.
"""

from __future__ import annotations

import asyncio
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from shadow.demo.server import Answer, serve_in_thread
from shadow.events.models import Api
from tests.conftest import ClickHouseTarget, unique
from tests.e2e.test_health import free_port, wait_for, worker_process
from tests.e2e.test_worker_process import SHADOW, query
from tests.factories import event_bytes, make_event
from tests.integration.test_kafka_pipeline import create_topic

pytestmark = [pytest.mark.kafka, pytest.mark.clickhouse, pytest.mark.e2e]

KILL_WITHIN_S = 5.0
LATENCY_MS = 400  # answers take this long, so calls are in flight when the switch flips


class CallLog:
    """Every call the candidate server received: (monotonic time, model)."""

    def __init__(self) -> None:
        self.calls: list[tuple[float, str]] = []
        self._lock = threading.Lock()

    def __call__(self, api: Api, body: dict[str, Any]) -> Answer:
        with self._lock:
            self.calls.append((time.monotonic(), str(body.get("model"))))
        return Answer(text="Your order ships tomorrow.", latency_ms=LATENCY_MS, input_tokens=20, output_tokens=8)

    def times(self, model: str, after: float = 0.0) -> list[float]:
        with self._lock:
            return [t for t, m in self.calls if m == model and t > after]


def config(path: Path, *, bootstrap: str, topic: str, group: str, control: str, ch: ClickHouseTarget, database: str,
           base_url: str, extra: dict[str, dict[str, Any]] | None = None, **top: Any) -> Path:  # fmt: skip
    """Two candidates, cand-a (model-a) and cand-b (model-b), on one local server; ``extra`` adds settings per candidate."""
    clickhouse: dict[str, object] = {"dsn": ch.dsn, "database": database, "flush_interval_s": 0.2}
    if ch.username:
        clickhouse["username"] = ch.username
    lane = {"provider": "openai", "base_url": base_url, "timeout_s": 10, "max_retries": 0}
    extra = extra or {}
    path.write_text(
        yaml.safe_dump({
            "source": {"kind": "kafka"},
            "kafka": {"bootstrap_servers": bootstrap, "topic": topic, "group_id": group, "control_topic": control,
                      "commit_interval_s": 0.2},
            "clickhouse": clickhouse,
            "pipeline": {"max_in_flight": 64},
            "candidates": [{"name": "cand-a", "model": "model-a", **lane, **extra.get("cand-a", {})},
                           {"name": "cand-b", "model": "model-b", **lane, **extra.get("cand-b", {})}],
            **top,
        })
    )  # fmt: skip
    return path


@dataclass
class Drill:
    """One test's names (topic, group, control topic, database) and the two workers' stores and configs."""

    bootstrap: str
    tmp_path: Path
    topic: str
    group: str
    control: str
    database: str
    targets: list[ClickHouseTarget]

    @classmethod
    def make(cls, bootstrap: str, clickhouse: ClickHouseTarget, tmp_path: Path, name: str) -> Drill:
        """Names of its own and a 4-partition topic; the second worker's embedded store in a directory of its own."""
        drill = cls(bootstrap, tmp_path, unique("mirror"), unique("shadow"), unique("control"), unique(name),
                    [clickhouse, ClickHouseTarget(f"chdb:///{tmp_path / 'chdb-b'}") if clickhouse.embedded else clickhouse])  # fmt: skip
        asyncio.run(create_topic(bootstrap, drill.topic, partitions=4))
        return drill

    def configs(self, base_url: str, **extra: Any) -> list[Path]:
        """One configuration per worker (see :func:`config`)."""
        return [
            config(
                self.tmp_path / f"shadow-{i}.yaml",
                bootstrap=self.bootstrap,
                topic=self.topic,
                group=self.group,
                control=self.control,
                ch=target,
                database=self.database,
                base_url=base_url,
                **extra,
            )
            for i, target in enumerate(self.targets)
        ]


class Producer:
    """Publishes one event every ``interval_s`` from a thread until stopped; remembers the ids."""

    def __init__(self, bootstrap: str, topic: str, interval_s: float = 0.04) -> None:
        self.bootstrap, self.topic, self.interval_s = bootstrap, topic, interval_s
        self.ids: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)

    async def _run(self) -> None:
        from aiokafka import AIOKafkaProducer

        producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap, acks="all")
        await producer.start()
        try:
            n = 0
            while not self._stop.is_set():
                event_id = f"evt_{n:05d}"
                await producer.send_and_wait(self.topic, event_bytes(make_event(event_id=event_id)),
                                             key=event_id.encode())  # fmt: skip
                self.ids.append(event_id)
                n += 1
                await asyncio.sleep(self.interval_s)
        finally:
            await producer.stop()

    def __enter__(self) -> Producer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(30)


def ctl(config_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    run = subprocess.run([*SHADOW, "ctl", *args, "--config", str(config_path)], capture_output=True, text=True,
                         timeout=60)  # fmt: skip
    assert run.returncode == 0, run.stderr
    return run


def union_rows(targets: list[ClickHouseTarget], database: str) -> dict[tuple[str, str], tuple[str, str]]:
    """(event, candidate) → (status, error_kind) over both stores, newest row_version first, as FINAL does."""
    newest: dict[tuple[str, str], tuple[int, str, str]] = {}
    for target in targets:
        sql = "SELECT event_id, candidate, status, error_kind, row_version FROM {db}.comparisons FINAL"
        for event_id, candidate, status, kind, version in query(target, database, sql):
            key = (event_id, candidate)
            if key not in newest or version > newest[key][0]:
                newest[key] = (version, status, kind)
    return {key: (status, kind) for key, (_, status, kind) in newest.items()}


@pytest.mark.timeout(300)
def test_ctl_disable_stops_both_workers_within_five_seconds_and_enable_resumes(
    kafka_bootstrap: str, clickhouse: ClickHouseTarget, tmp_path: Path
) -> None:
    drill = Drill.make(kafka_bootstrap, clickhouse, tmp_path, "kill")
    topic, database, targets = drill.topic, drill.database, drill.targets
    calls = CallLog()

    with serve_in_thread(calls) as candidate:
        configs = drill.configs(candidate.base_url)
        logs = [tmp_path / "a.log", tmp_path / "b.log"]
        with (
            worker_process(configs[0], free_port(), targets[0], logs[0]) as first,
            worker_process(configs[1], free_port(), targets[1], logs[1]) as second,
            Producer(kafka_bootstrap, topic) as producer,
        ):
            procs = [(first, logs[0]), (second, logs[1])]

            def both_consuming() -> bool:
                # Each worker holds partitions of its own (2 of 4) and the candidate is being called.
                texts = [log.read_text() for log in logs]
                split = all("assigned partitions [('" in t and "revoked" not in t.split("assigned")[-1] for t in texts)
                return split and len(calls.times("model-b")) >= 20

            wait_for(both_consuming, procs, 120)
            assert all(log.read_text().count("assigned partitions [(") >= 1 for log in logs)

            ctl(configs[0], "disable", "cand-b", "--reason", "kill switch drill", "--by", "e2e")
            disabled_at = time.monotonic()
            time.sleep(KILL_WITHIN_S + 3)
            late = calls.times("model-b", after=disabled_at + KILL_WITHIN_S)
            assert late == [], f"{len(late)} calls to the disabled candidate more than {KILL_WITHIN_S}s after ctl"
            stopped_after = max(calls.times("model-b"), default=disabled_at) - disabled_at
            print(f"last call to the disabled candidate {stopped_after:.2f}s after `shadow ctl disable` returned")
            # The other candidate never paused.
            assert len(calls.times("model-a", after=disabled_at + KILL_WITHIN_S)) >= 20

            ctl(configs[1], "enable", "cand-b")
            enabled_at = time.monotonic()
            wait_for(lambda: len(calls.times("model-b", after=enabled_at)) >= 10, procs, 30)

            producer.stop()
            published = len(producer.ids)
            # Every event reached cand-a (never disabled); then give the workers a moment to store the last rows.
            wait_for(lambda: len(calls.times("model-a")) >= published, procs, 60)
            time.sleep(LATENCY_MS / 1000 + 1.5)

    rows = union_rows(targets, database)
    ids = set(producer.ids)
    assert {event_id for event_id, _ in rows} == ids
    for event_id in ids:
        assert rows[(event_id, "cand-a")] == ("ok", ""), event_id
        assert rows[(event_id, "cand-b")] in {("ok", ""), ("skipped", "killed")}, rows[(event_id, "cand-b")]
    killed = sum(1 for (_, name), row in rows.items() if name == "cand-b" and row == ("skipped", "killed"))
    # About 8 s of events at 25 per second were skipped while disabled (and the calls then in flight).
    assert killed >= 100, killed
    # Calls made to cand-b but not compared are only those cancelled in flight when the switch flipped:
    # at most one in-flight window per worker (max_in_flight 64), never one per skipped event.
    compared_b = sum(1 for (_, name), row in rows.items() if name == "cand-b" and row[0] == "ok")
    cancelled = len(calls.times("model-b")) - compared_b
    assert 0 <= cancelled <= 2 * 64, (cancelled, compared_b, killed)


@pytest.mark.timeout(300)
def test_a_worker_that_starts_reads_the_state_first_and_never_calls_a_disabled_candidate(
    kafka_bootstrap: str, clickhouse: ClickHouseTarget, tmp_path: Path
) -> None:
    topic, group, control, database = unique("mirror"), unique("shadow"), unique("control"), unique("killed")
    asyncio.run(create_topic(kafka_bootstrap, topic, partitions=2))
    calls = CallLog()
    with serve_in_thread(calls) as candidate:
        path = config(tmp_path / "shadow.yaml", bootstrap=kafka_bootstrap, topic=topic, group=group, control=control,
                      ch=clickhouse, database=database, base_url=candidate.base_url)  # fmt: skip
        ctl(path, "disable", "cand-b", "--reason", "disabled before the worker started")
        # Events already waiting when the worker starts: the very first ones must not reach cand-b.
        with Producer(kafka_bootstrap, topic, interval_s=0.0) as producer:
            while len(producer.ids) < 40:
                time.sleep(0.05)
        log = tmp_path / "worker.log"
        with worker_process(path, free_port(), clickhouse, log) as worker:
            wait_for(lambda: len(calls.times("model-a")) >= len(producer.ids), [(worker, log)], 120)
            time.sleep(LATENCY_MS / 1000 + 1.5)
    assert calls.times("model-b") == []
    rows = union_rows([clickhouse], database)
    assert {rows[(event_id, "cand-b")] for event_id in producer.ids} == {("skipped", "killed")}
    assert {rows[(event_id, "cand-a")] for event_id in producer.ids} == {("ok", "")}
