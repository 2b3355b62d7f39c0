"""Three workers in one consumer group on a 6-partition topic; one is killed with SIGKILL mid-stream and
a fourth joins later, then one gets SIGTERM: every partition keeps being consumed, nothing is lost,
nothing is counted twice.

The stream is live (a producer publishes all along, as production does), so the worker that joins finds
work on every partition it is given.

Each worker process has its own embedded chDB store (chDB allows one process per directory); the
stores are unioned and deduplicated as one ClickHouse table's FINAL would (``harness.stored``).
"""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path

import pytest

from shadow.demo.server import Answer, serve_in_thread
from tests.conftest import unique
from tests.e2e.test_kill_switch import Producer
from tests.faults.harness import (
    CANDIDATES,
    HEAVY,
    Figures,
    WorkerProcess,
    committed_offsets,
    create_topic,
    dead_letters,
    end_offsets,
    record,
    stored,
    wait_until,
    worker_config,
)

pytestmark = [pytest.mark.kafka, pytest.mark.clickhouse, pytest.mark.e2e]

EVENTS = 6_000 if HEAVY else 2_000  # at least this many are published, at about 100 a second
PARTITIONS = 6
SESSION_TIMEOUT_MS = 6_000
GRACE_S = 5.0


def answer(api, body) -> Answer:
    return Answer.text_answer("Your refund was issued today.", latency_ms=60)


@pytest.mark.timeout(1200 if HEAVY else 420)
def test_three_workers_one_killed_one_added_every_partition_consumed_nothing_lost(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    topic, group, database = unique("faults"), unique("shadow"), unique("churn")
    asyncio.run(create_topic(kafka_bootstrap, topic, partitions=PARTITIONS))

    def committed() -> dict[int, int]:
        found = asyncio.run(committed_offsets(kafka_bootstrap, group, topic, PARTITIONS))
        return {p: found[p] or 0 for p in range(PARTITIONS)}

    workers: list[WorkerProcess] = []
    with serve_in_thread(answer) as server:

        def start(name: str) -> WorkerProcess:
            store = tmp_path / f"store-{name}"
            config = worker_config(
                tmp_path / f"{name}.yaml",
                bootstrap=kafka_bootstrap,
                topic=topic,
                group=group,
                store=store,
                database=database,
                base_url=server.base_url,
                kafka={"session_timeout_ms": SESSION_TIMEOUT_MS},
                max_in_flight=8,
                shutdown_grace_s=GRACE_S,
            )
            worker = WorkerProcess(config, store, tmp_path / f"{name}.log", "--stop-after-idle", "8")
            workers.append(worker)
            return worker

        with Producer(kafka_bootstrap, topic, interval_s=0.005) as producer:
            a, b, c = start("a"), start("b"), start("c")
            wait_until(lambda: len(server.received) >= 600, 300, a, b, c, what="300 events replayed")
            c.kill(signal.SIGKILL)
            assert c.wait(30) == -signal.SIGKILL
            killed_at, at_kill = time.monotonic(), committed()
            time.sleep(3)
            d = start("d")  # joins mid-stream: the group spreads the partitions over a, b and d

            # Every partition keeps being consumed: each one's committed offset moves past where it stood
            # at the kill (the killed worker's partitions once the group notices it is gone).
            def all_moving() -> bool:
                now = committed()
                return all(now[p] > at_kill[p] for p in range(PARTITIONS))

            wait_until(all_moving, 120, a, b, d, what="every partition to move on after the kill")
            recovery_s = time.monotonic() - killed_at
            # The joiner gets partitions, and the stream goes on long enough for it to do a share.
            wait_until(lambda: "assigned partitions [(" in d.tail(100_000), 120, a, b, d, what="d's partitions")
            more = len(producer.ids) + 600
            wait_until(lambda: len(producer.ids) >= max(EVENTS, more), 300, a, b, d, what="the rest of the stream")

            # SIGTERM to one worker mid-stream: a clean stop within the grace period; its partitions move
            # to the others, which resume at its commits (a commit past its stored rows would show as lost).
            stop_sent = time.monotonic()
            a.kill(signal.SIGTERM)
            assert a.wait(GRACE_S + 30) == 0, a.tail()
            stop_s = time.monotonic() - stop_sent
            assert stop_s < GRACE_S + 10, f"SIGTERM took {stop_s:.1f} s (grace {GRACE_S} s)"
            more = len(producer.ids) + 300
            wait_until(lambda: len(producer.ids) >= more, 300, b, d, what="the stream after the SIGTERM")
        ends = asyncio.run(end_offsets(kafka_bootstrap, topic, PARTITIONS))
        for worker in (b, d):
            assert worker.wait(600) == 0, worker.tail()
        events = list(producer.ids)

    tally = stored([w.store for w in workers], database)
    letters = dead_letters(kafka_bootstrap, f"{topic}.dlq")
    figures = Figures(
        scenario="3 workers, 6 partitions: one kill -9, one joins, one SIGTERM",
        runs=len(workers),
        events=len(events),
        lost=tally.lost(events),
        duplicates_after_final=tally.duplicates_after_final,
        dead_letters=len(letters),
        max_rss_mib=round(max(w.max_rss_mib for w in workers), 1),
        recovery_s=round(recovery_s, 2),
        faults=3,
        note=(
            f"each worker its own chDB store, unioned as FINAL would; session timeout {SESSION_TIMEOUT_MS} ms; "
            f"SIGTERM stop {stop_s:.1f} s (grace {GRACE_S:g} s)"
        ),
        extra={"rows_per_store": tally.per_store},
    )
    record(figures)
    assert figures.lost == 0 and figures.duplicates_after_final == 0 and figures.dead_letters == 0
    assert committed() == ends
    assert len(tally.pairs) == len(events) * len(CANDIDATES)
    # The survivors and the joiner each did a share (the killed one may have died before its first flush).
    assert all(tally.per_store[w.store.name] > 0 for w in (a, b, d)), tally.per_store
    logs = "\n".join(w.log_path.read_text(errors="replace") for w in workers)
    assert "is not assigned" not in logs  # no commit of a partition that moved away (fixed in 8352932)
    assert "Traceback" not in logs
