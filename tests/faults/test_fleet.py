"""A fleet of worker processes in one consumer group on a 6-partition topic: workers join one after
another while events flow (a backlog, and a producer publishing all along), so the group rebalances
mid-stream; the partitions end up spread evenly; the whole fleet is then stopped with SIGTERM
mid-stream and started again to drain the rest. Every partition is consumed, every worker stores a
share, nothing is lost, nothing is counted twice, and the stopped fleet's commits cover only stored
work.

Each worker process has its own embedded chDB store (chDB allows one process per directory; a
restarted worker reopens its own); the stores are unioned and deduplicated as one ClickHouse table's
FINAL would (``harness.stored``), which is what one shared ClickHouse server or cluster would show.

Two cases: 2 and 3 workers (issue 15). Group churn (``test_group_churn``) covers a worker killed with
SIGKILL; this is the plain fleet. Throughput with 1, 2 and 3 workers is ``benchmarks/worker_fleet.py``.
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
from tests.factories import make_event
from tests.faults.harness import (
    CANDIDATES,
    HEAVY,
    Figures,
    WorkerProcess,
    assigned_partitions,
    committed_are_stored,
    committed_offsets,
    create_topic,
    dead_letters,
    end_offsets,
    partitions_by_store,
    positions,
    produce,
    record,
    stored,
    wait_until,
    worker_config,
)

pytestmark = [pytest.mark.kafka, pytest.mark.clickhouse, pytest.mark.e2e]

PARTITIONS = 6
BACKLOG = 3_000 if HEAVY else 900  # published before the first worker starts
JOIN_EVERY = 300 if HEAVY else 120  # events replayed by the fleet before the next worker joins
SETTLED_MORE = 600 if HEAVY else 200  # events replayed after the last join before the fleet is stopped
SESSION_TIMEOUT_MS = 6_000
GRACE_S = 5.0


def answer(api, body) -> Answer:
    # 30 ms, like a fast candidate: with 8 events in flight a worker does at most ~250 events/s, so the
    # backlog outlasts the joins.
    return Answer.text_answer("Your refund was issued today.", latency_ms=30)


def even(assignment: dict[str, list[int] | None]) -> bool:
    """Every worker has partitions, together they are the topic's partitions once each, in shares that
    differ by at most one."""
    shares = list(assignment.values())
    if any(not share for share in shares):
        return False
    flat = sorted(p for share in shares if share for p in share)
    sizes = [len(share or []) for share in shares]
    return flat == list(range(PARTITIONS)) and max(sizes) - min(sizes) <= 1


@pytest.mark.timeout(900 if HEAVY else 300)
@pytest.mark.parametrize("fleet", [2, 3])
def test_a_fleet_joining_mid_stream_spreads_the_partitions_and_loses_nothing(
    kafka_bootstrap: str, tmp_path: Path, fleet: int
) -> None:
    topic, group, database = unique("faults"), unique("shadow"), unique("fleet")
    asyncio.run(create_topic(kafka_bootstrap, topic, partitions=PARTITIONS))
    backlog = [make_event(event_id=f"pre_{i:05d}", text=f"question {i}") for i in range(BACKLOG)]
    asyncio.run(produce(kafka_bootstrap, topic, backlog))
    names = [f"w{i}" for i in range(fleet)]
    lives: list[WorkerProcess] = []

    with serve_in_thread(answer) as server:

        def start(name: str, *args: str) -> WorkerProcess:
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
            worker = WorkerProcess(config, store, tmp_path / f"{name}-{len(lives)}.log", *args)
            lives.append(worker)
            return worker

        def replayed(events: int):
            return lambda: len(server.received) >= events * len(CANDIDATES)

        with Producer(kafka_bootstrap, topic, interval_s=0.01) as producer:
            # Step 1. Workers join one after another while the backlog is being worked through: each
            # join rebalances the group mid-stream.
            workers = {names[0]: start(names[0])}
            for n, name in enumerate(names[1:], start=1):
                wait_until(replayed(n * JOIN_EVERY), 120, *workers.values(), what=f"{n * JOIN_EVERY} events")
                workers[name] = start(name)

            # Step 2. The group settles: each worker holds its even share of the partitions.
            def assignment() -> dict[str, list[int] | None]:
                return {name: assigned_partitions(w, topic) for name, w in workers.items()}

            wait_until(lambda: even(assignment()), 120, *workers.values(), what="an even assignment")
            settled = assignment()
            more = len(server.received) // len(CANDIDATES) + SETTLED_MORE
            wait_until(replayed(more), 120, *workers.values(), what="the fleet to work on")
            still_pending = sum(asyncio.run(end_offsets(kafka_bootstrap, topic, PARTITIONS)).values()) - more

            # Step 3. SIGTERM to the whole fleet mid-stream (a deploy): each stops within its grace,
            # committing only what it stored.
            stop_sent = time.monotonic()
            for worker in workers.values():
                worker.kill(signal.SIGTERM)
            for worker in workers.values():
                assert worker.wait(GRACE_S + 30) == 0, worker.tail()
            stop_s = time.monotonic() - stop_sent
        ids = [e["event_id"] for e in backlog] + list(producer.ids)
        where = positions(kafka_bootstrap, topic, PARTITIONS)
        assert set(where) == set(ids)
        stores = [tmp_path / f"store-{name}" for name in names]
        committed_at_stop = committed_are_stored(kafka_bootstrap, group, topic, PARTITIONS, stores, database, where)
        assert committed_at_stop < len(ids), "the fleet was stopped after the stream ended: nothing mid-stream"

        # Step 4. The fleet starts again, each worker on its own store, and drains the rest.
        again = [start(name, "--stop-after-idle", "5") for name in names]
        for worker in again:
            assert worker.wait(300) == 0, worker.tail()

    ends = asyncio.run(end_offsets(kafka_bootstrap, topic, PARTITIONS))
    committed = asyncio.run(committed_offsets(kafka_bootstrap, group, topic, PARTITIONS))
    tally = stored(stores, database)
    shares = partitions_by_store(stores, database)
    letters = dead_letters(kafka_bootstrap, f"{topic}.dlq")
    figures = Figures(
        scenario=f"{fleet} workers join a 6-partition stream one by one; the fleet SIGTERMed mid-stream, restarted",
        runs=len(lives),
        events=len(ids),
        lost=tally.lost(ids),
        duplicates_after_final=tally.duplicates_after_final,
        dead_letters=len(letters),
        max_rss_mib=round(max(w.max_rss_mib for w in lives), 1),
        recovery_s=None,
        faults=fleet - 1 + fleet,  # rebalances by joins, and SIGTERMs
        note=(
            f"each worker its own chDB store, unioned as FINAL would; settled assignment {settled}; "
            f"SIGTERM stop {stop_s:.1f} s (grace {GRACE_S:g} s); {committed_at_stop} of {len(ids)} events "
            f"committed at the stop, about {still_pending} still to do"
        ),
        extra={"rows_per_store": tally.per_store, "partitions_per_store": {k: sorted(v) for k, v in shares.items()}},
    )
    record(figures)

    # Every partition consumed to its end, by the group.
    assert committed == ends, (committed, ends)
    assert all(ends[p] > 0 for p in range(PARTITIONS))
    # Nothing lost, nothing twice after FINAL over the union, nothing dead-lettered.
    assert figures.lost == 0 and figures.duplicates_after_final == 0 and figures.dead_letters == 0
    assert len(tally.pairs) == len(ids) * len(CANDIDATES)
    assert tally.ingested == set(ids)
    # Every worker did a share, and the union of what they stored covers every partition.
    assert all(tally.per_store[s.name] > 0 for s in stores), tally.per_store
    assert all(shares[s.name] for s in stores), shares
    assert set().union(*shares.values()) == set(range(PARTITIONS)), shares
    logs = "\n".join(w.log_path.read_text(errors="replace") for w in lives)
    assert "is not assigned" not in logs  # no commit of a partition that had moved away
    assert "Traceback" not in logs
