"""``shadow run --metrics-port`` as a process on the real broker: ``/healthz``, ``/readyz``, ``/metrics``.

What a Kubernetes probe and a Prometheus scrape see: a worker that joined its group and stores rows
is live and ready and exports its event loop's stall; of two workers sharing one partition, the one
left without a partition says so on ``/readyz`` while staying live.
"""

from __future__ import annotations

import asyncio
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from shadow.demo.server import serve_in_thread
from tests.conftest import ClickHouseTarget, unique
from tests.e2e.test_worker_process import SHADOW, answer_slowly, env_for, write_config
from tests.factories import event_bytes, make_event
from tests.integration.test_kafka_pipeline import create_topic, publish
from tests.unit.test_health import get

pytestmark = [pytest.mark.kafka, pytest.mark.clickhouse, pytest.mark.e2e]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def answer(port: int, path: str) -> tuple[int, Any]:
    """Like :func:`get`, but 0 while nothing listens yet."""
    try:
        return get(port, path)
    except OSError:
        return 0, None


def metric_values(port: int) -> dict[str, float]:
    status, text = get(port, "/metrics")
    assert status == 200
    return {sample.name: sample.value for family in text_string_to_metric_families(text) for sample in family.samples}


def wait_for(
    condition: Callable[[], bool], workers: list[tuple[subprocess.Popen[bytes], Path]], timeout_s: float
) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        for worker, log in workers:
            assert worker.poll() is None, log.read_text()[-3000:]
        assert time.monotonic() < deadline, "\n---\n".join(log.read_text()[-2000:] for _, log in workers)
        time.sleep(0.2)


@contextmanager
def worker_process(config: Path, port: int, ch: ClickHouseTarget, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """``shadow run --metrics-port`` in the background; SIGTERM at the end, and it must exit cleanly."""
    out: IO[bytes] = log.open("wb")
    worker = subprocess.Popen(
        [*SHADOW, "run", "--config", str(config), "--metrics-port", str(port), "--metrics-host", "127.0.0.1"],
        env=env_for(ch),
        stdout=out,
        stderr=subprocess.STDOUT,
    )
    try:
        yield worker
    finally:
        if worker.poll() is None:
            worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(60)
        finally:
            if worker.poll() is None:
                worker.kill()
            out.close()
    assert worker.returncode == 0, log.read_text()[-3000:]


@pytest.mark.timeout(180)
def test_a_running_worker_is_live_and_ready_and_exports_its_loop_stall(
    kafka_bootstrap: str, clickhouse: ClickHouseTarget, tmp_path: Path
) -> None:
    topic, group, database = unique("mirror"), unique("shadow"), unique("health")
    asyncio.run(create_topic(kafka_bootstrap, topic, partitions=2))
    events = [make_event(event_id=f"evt_h{i:02d}") for i in range(10)]
    asyncio.run(publish(kafka_bootstrap, topic, [(e["event_id"].encode(), event_bytes(e)) for e in events]))
    port = free_port()

    with serve_in_thread(answer_slowly) as candidate:
        config = write_config(tmp_path / "shadow.yaml", bootstrap=kafka_bootstrap, topic=topic, group=group,
                              ch=clickhouse, database=database, base_url=candidate.base_url)  # fmt: skip
        log = tmp_path / "worker.log"
        with worker_process(config, port, clickhouse, log) as worker:
            procs = [(worker, log)]
            wait_for(lambda: answer(port, "/readyz")[0] == 200, procs, 90)
            assert get(port, "/readyz") == (
                200,
                {"status": "ready", "reason": "2 partition(s) assigned; the store is writable"},
            )
            status, body = get(port, "/healthz")
            assert status == 200 and body["status"] == "ok", body
            wait_for(lambda: metric_values(port).get("shadow_rows_written_total", 0) >= 20, procs, 90)

            values = metric_values(port)
            assert 0 <= values["shadow_event_loop_stall_max_seconds"] < 10
            assert values["shadow_event_loop_stall_seconds_count"] > 0
            assert abs(values["shadow_event_loop_last_tick_timestamp_seconds"] - time.time()) < 10
    assert "metrics and probes on http://127.0.0.1" in log.read_text()


@pytest.mark.timeout(240)
def test_of_two_workers_on_one_partition_the_one_without_it_is_live_but_not_ready(
    kafka_bootstrap: str, clickhouse: ClickHouseTarget, tmp_path: Path
) -> None:
    topic, group, database = unique("mirror"), unique("shadow"), unique("health")
    asyncio.run(create_topic(kafka_bootstrap, topic, partitions=1))
    ports = [free_port(), free_port()]
    # Two processes cannot share one embedded chDB directory; each gets its own (a server is shared).
    targets = [clickhouse, ClickHouseTarget(f"chdb:///{tmp_path / 'chdb-b'}") if clickhouse.embedded else clickhouse]

    with serve_in_thread(answer_slowly) as candidate:
        configs = [
            write_config(
                tmp_path / f"shadow-{i}.yaml",
                bootstrap=kafka_bootstrap,
                topic=topic,
                group=group,
                ch=target,
                database=database,
                base_url=candidate.base_url,
            )
            for i, target in enumerate(targets)
        ]
        logs = [tmp_path / "a.log", tmp_path / "b.log"]
        with (
            worker_process(configs[0], ports[0], targets[0], logs[0]) as first,
            worker_process(configs[1], ports[1], targets[1], logs[1]) as second,
        ):
            procs = [(first, logs[0]), (second, logs[1])]

            def settled() -> bool:
                # Both started and in the group: one holds the partition, the other has none.
                answers = sorted((answer(port, "/readyz") for port in ports), key=lambda a: a[0])
                return [a[0] for a in answers] == [200, 503] and answers[1][1]["reason"] != "starting"

            wait_for(settled, procs, 120)
            idle = next(port for port in ports if get(port, "/readyz")[0] == 503)
            status, body = get(idle, "/readyz")
            assert status == 503 and body["status"] == "not_ready", body
            assert body["reason"].startswith("no partitions assigned"), body
            # Not ready is not dead: both event loops tick, so neither gets restarted.
            assert [get(port, "/healthz")[0] for port in ports] == [200, 200]
