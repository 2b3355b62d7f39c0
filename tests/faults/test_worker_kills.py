"""A worker killed with SIGKILL at random moments of a stream, each time restarted, then stopped with
SIGTERM mid-stream: nothing lost, nothing counted twice after FINAL, and at every stop the group's
committed offsets cover only events whose rows are stored.

One store for every life of the worker (the same chDB directory, as one ClickHouse server would be).
The kill moments are drawn from a seeded generator (printed with the figures) among the candidate
requests the stream will make. CI runs 1,200 events and 3 kills; ``python -m tests.faults`` runs the
figures' 5,000 events and 10 kills.
"""

from __future__ import annotations

import asyncio
import random
import signal
import time
from pathlib import Path

import pytest

from shadow.demo.server import Answer, serve_in_thread
from tests.conftest import unique
from tests.factories import make_event
from tests.faults.harness import (
    CANDIDATES,
    HEAVY,
    Figures,
    WorkerProcess,
    committed_is_stored,
    committed_offsets,
    create_topic,
    dead_letters,
    end_offsets,
    produce,
    record,
    stored,
    wait_until,
    worker_config,
)

pytestmark = [pytest.mark.kafka, pytest.mark.clickhouse, pytest.mark.e2e]

EVENTS, KILLS = (5_000, 10) if HEAVY else (1_200, 3)
PARTITIONS = 3
GRACE_S = 5.0
SESSION_TIMEOUT_MS = 6_000  # the broker's minimum: a restarted worker waits this long for its dead self
SEED = 20261201


def answer(api, body) -> Answer:
    return Answer.text_answer("Thanks for waiting, your parcel is on its way.", latency_ms=15)


@pytest.mark.timeout(1800 if HEAVY else 420)
def test_kill_9_at_random_moments_then_sigterm_loses_nothing_and_counts_nothing_twice(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    topic, group, database = unique("faults"), unique("shadow"), unique("kills")
    asyncio.run(create_topic(kafka_bootstrap, topic, partitions=PARTITIONS))
    events = [make_event(event_id=f"evt_{i:05d}", text=f"question {i}") for i in range(EVENTS)]
    positions = asyncio.run(produce(kafka_bootstrap, topic, events))
    store = tmp_path / "store"
    requests = EVENTS * len(CANDIDATES)
    rng = random.Random(SEED)
    # Kill moments: a sorted draw among the stream's candidate requests (the first life gets going first).
    moments = sorted(rng.sample(range(requests // 20, requests * 9 // 10), KILLS))
    lives: list[WorkerProcess] = []
    recoveries: list[float] = []
    committed_at_stops: list[int] = []

    with serve_in_thread(answer) as server:
        config = worker_config(
            tmp_path / "shadow.yaml",
            bootstrap=kafka_bootstrap,
            topic=topic,
            group=group,
            store=store,
            database=database,
            base_url=server.base_url,
            kafka={"session_timeout_ms": SESSION_TIMEOUT_MS},
            max_in_flight=32,
            shutdown_grace_s=GRACE_S,
        )

        def reached(count: int):
            return lambda: len(server.received) >= count

        def life(n: int, *args: str) -> WorkerProcess:
            worker = WorkerProcess(config, store, tmp_path / f"life-{n}.log", *args)
            lives.append(worker)
            return worker

        for n, moment in enumerate(moments):
            worker = life(n)
            before = len(server.received)
            if n:  # recovery: from the restart to the first replay of the new life
                recoveries.append(wait_until(reached(before + 1), 120, worker, what="a replay"))
            wait_until(reached(max(moment, before + 1)), 300, worker, what=f"request {moment}")
            worker.kill(signal.SIGKILL)
            assert worker.wait(30) == -signal.SIGKILL
            committed_at_stops.append(
                committed_is_stored(kafka_bootstrap, group, topic, PARTITIONS, store, database, positions)
            )

        # SIGTERM mid-stream: a clean stop within the grace period; only stored work is committed.
        worker = life(len(moments))
        before = len(server.received)
        recoveries.append(wait_until(reached(before + 1), 120, worker, what="a replay"))
        wait_until(reached(before + 50), 120, worker, what="50 replays")
        stop_sent = time.monotonic()
        worker.kill(signal.SIGTERM)
        code = worker.wait(GRACE_S + 30)
        stop_s = time.monotonic() - stop_sent
        assert code == 0, worker.tail()
        assert stop_s < GRACE_S + 10, f"SIGTERM took {stop_s:.1f} s (grace {GRACE_S} s)"
        assert "Traceback" not in worker.tail(100_000)
        committed_at_stops.append(
            committed_is_stored(kafka_bootstrap, group, topic, PARTITIONS, store, database, positions)
        )

        # The last life drains the rest.
        final = life(len(moments) + 1, "--stop-after-idle", "4")
        assert final.wait(600) == 0, final.tail()

    tally = stored([store], database)
    ids = [e["event_id"] for e in events]
    letters = dead_letters(kafka_bootstrap, f"{topic}.dlq")
    figures = Figures(
        scenario="worker kill -9 (random moments) + SIGTERM",
        runs=len(lives),
        events=EVENTS,
        lost=tally.lost(ids),
        duplicates_after_final=tally.duplicates_after_final,
        dead_letters=len(letters),
        max_rss_mib=round(max(w.max_rss_mib for w in lives), 1),
        recovery_s=round(max(recoveries), 2),
        faults=KILLS + 1,
        note=f"seed {SEED}; SIGTERM stop {stop_s:.1f} s (grace {GRACE_S:g} s)",
        extra={"kill_moments": moments, "committed_at_stops": committed_at_stops, "requests": len(server.received)},
    )
    record(figures)
    assert figures.lost == 0
    assert figures.duplicates_after_final == 0
    assert figures.dead_letters == 0
    assert len(tally.pairs) == EVENTS * len(CANDIDATES)
    assert {status for status, _ in tally.pairs.values()} == {"ok"}
    assert asyncio.run(committed_offsets(kafka_bootstrap, group, topic, PARTITIONS)) == asyncio.run(
        end_offsets(kafka_bootstrap, topic, PARTITIONS)
    )
    # Replays after a kill are the price of at-least-once delivery: at most what was uncommitted per kill.
    assert EVENTS * len(CANDIDATES) <= len(server.received)
