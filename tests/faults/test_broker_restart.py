"""The Kafka broker stopped and restarted mid-stream, then killed with SIGKILL and restarted: the worker
rides both outages out and reconnects by itself. Between them SIGTERM stops it cleanly with only stored
work committed, and the restarted worker rides out the crash and drains the rest; nothing is lost,
nothing is counted twice.

The scenario runs its own broker (``scripts/kafka-local.sh`` on free ports, its own data directory),
so stopping it touches no other test. ``resume`` restarts it on the same data, as a production broker
comes back.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from shadow.demo.server import Answer, serve_in_thread
from tests.conftest import ROOT, unique
from tests.factories import make_event
from tests.faults.harness import (
    CANDIDATES,
    HEAVY,
    Figures,
    WorkerProcess,
    committed_is_stored,
    committed_offsets,
    create_topic,
    end_offsets,
    produce,
    record,
    stored,
    topics,
    wait_until,
    worker_config,
)

pytestmark = [pytest.mark.kafka, pytest.mark.clickhouse, pytest.mark.e2e]

EVENTS = 3_000 if HEAVY else 600  # about 20 a second (2 in flight, 100 ms answers): the stream outlasts an outage
PARTITIONS = 3
OUTAGE_S = 8.0
GRACE_S = 5.0
SCRIPT = ROOT / "scripts" / "kafka-local.sh"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Broker:
    """A broker of this scenario's own."""

    def __init__(self, home: Path) -> None:
        self.env = {
            **os.environ,
            "SHADOW_KAFKA_HOME": str(home),
            "KAFKA_PORT": str(_free_port()),
            "KAFKA_CONTROLLER_PORT": str(_free_port()),
            "KAFKA_STOP_TIMEOUT": "60",
        }
        self.bootstrap = f"127.0.0.1:{self.env['KAFKA_PORT']}"

    def run(self, command: str) -> float:
        """``kafka-local.sh command``; the seconds it took."""
        start = time.monotonic()
        done = subprocess.run([str(SCRIPT), command], env=self.env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, f"kafka-local.sh {command} failed:\n{done.stderr[-3000:]}"
        return time.monotonic() - start


@pytest.fixture
def broker(tmp_path: Path, kafka_bootstrap: str) -> Iterator[Broker]:
    """Its own broker (``kafka_bootstrap`` only makes sure Java and the jars are there, as for every test)."""
    own = Broker(tmp_path / "kafka")
    own.run("start")
    try:
        yield own
    finally:
        own.run("stop")


def answer(api, body) -> Answer:
    return Answer.text_answer("Your order ships tomorrow.", latency_ms=100)


@pytest.mark.timeout(1500 if HEAVY else 480)
def test_broker_stopped_and_killed_mid_stream_the_worker_reconnects_and_loses_nothing(
    broker: Broker, tmp_path: Path
) -> None:
    bootstrap = broker.bootstrap
    topic, group, database = unique("faults"), unique("shadow"), unique("broker")
    asyncio.run(create_topic(bootstrap, topic, partitions=PARTITIONS))
    events = [make_event(event_id=f"evt_{i:05d}", text=f"order {i}") for i in range(EVENTS)]
    positions = asyncio.run(produce(bootstrap, topic, events))
    total = EVENTS * len(CANDIDATES)
    store = tmp_path / "store"
    recoveries: list[float] = []

    def committed_total() -> int:
        try:
            found = asyncio.run(asyncio.wait_for(committed_offsets(bootstrap, group, topic, PARTITIONS), 10))
        except Exception:  # the broker is still coming back
            return -1
        return sum(v or 0 for v in found.values())

    with serve_in_thread(answer) as server:
        config = worker_config(
            tmp_path / "shadow.yaml",
            bootstrap=bootstrap,
            topic=topic,
            group=group,
            store=store,
            database=database,
            base_url=server.base_url,
            max_in_flight=2,
            shutdown_grace_s=GRACE_S,
        )
        lives: list[WorkerProcess] = []

        def outage(worker: WorkerProcess, fraction: float, how: str) -> None:
            """At ``fraction`` of the stream, the broker goes down (``how``) for OUTAGE_S and comes back."""
            wait_until(lambda: len(server.received) >= total * fraction, 300, worker, what=f"{fraction:.0%}")
            before = committed_total()
            broker.run(how)
            time.sleep(OUTAGE_S)
            worker.check_alive()  # it waits for the broker; it does not give up
            resumed_in = broker.run("resume")
            back = time.monotonic()
            # Recovery: from the broker answering again to the group's committed offsets moving on.
            wait_until(lambda: committed_total() > before, 180, worker, what=f"commits after the {how}")
            recoveries.append(time.monotonic() - back)
            print(f"broker {how}: resumed in {resumed_in:.1f} s, commits moved {recoveries[-1]:.1f} s later")

        first = WorkerProcess(config, store, tmp_path / "first.log")
        lives.append(first)
        outage(first, 0.25, "stop")

        # SIGTERM mid-stream: a clean stop within the grace period, only stored work committed.
        stop_sent = time.monotonic()
        first.kill(signal.SIGTERM)
        assert first.wait(GRACE_S + 30) == 0, first.tail()
        stop_s = time.monotonic() - stop_sent
        assert stop_s < GRACE_S + 10, f"SIGTERM took {stop_s:.1f} s (grace {GRACE_S} s)"
        committed_at_stop = committed_is_stored(bootstrap, group, topic, PARTITIONS, store, database, positions)
        assert committed_at_stop < EVENTS, "the SIGTERM must land mid-stream"

        # The next life rides out a broker crash and drains the rest (idle only once the stream is done:
        # the outage and the broker's restart take less than the idle limit).
        second = WorkerProcess(config, store, tmp_path / "second.log", "--stop-after-idle", "30")
        lives.append(second)
        restarted = len(server.received)
        # Running first (a worker that cannot reach Kafka while it starts exits, for its supervisor to retry).
        wait_until(lambda: len(server.received) > restarted, 120, second, what="the restarted worker's first replay")
        outage(second, min(max(0.8, (len(server.received) + 20) / total), 0.98), "kill")
        assert second.wait(900) == 0, second.tail()

    tally = stored([store], database)
    figures = Figures(
        scenario="Kafka broker stopped, then SIGKILLed, mid-stream (+ SIGTERM)",
        runs=2,
        events=EVENTS,
        lost=tally.lost(e["event_id"] for e in events),
        duplicates_after_final=tally.duplicates_after_final,
        dead_letters=0,  # checked below: the dead-letter topic was never created
        max_rss_mib=round(max(w.max_rss_mib for w in lives), 1),
        recovery_s=round(max(recoveries), 2),
        faults=3,
        note=(
            f"outages of {OUTAGE_S:g} s plus the broker's restart; between them SIGTERM (stopped in "
            f"{stop_s:.1f} s, grace {GRACE_S:g} s, {committed_at_stop} events committed) and a restart"
        ),
    )
    record(figures)
    assert figures.lost == 0 and figures.duplicates_after_final == 0
    assert len(tally.pairs) == total
    offsets = asyncio.run(committed_offsets(bootstrap, group, topic, PARTITIONS))
    assert offsets == asyncio.run(end_offsets(bootstrap, topic, PARTITIONS))
    assert f"{topic}.dlq" not in topics(bootstrap)
