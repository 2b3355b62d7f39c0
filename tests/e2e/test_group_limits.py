"""Limits the group shares, on real parts: requests per minute and a budget hold across worker processes.

``shadow run`` processes in one consumer group on a 4-partition topic of the real broker, events
arriving all along, a local candidate server logging every call with its time and answering with
a known usage. Workers learn the group's size and spend from each other's reports on the control
topic. Each worker has its own embedded chDB store; the stores are unioned and deduplicated as
ClickHouse's ReplacingMergeTree does with ``FINAL`` (see ``tests/e2e/test_kill_switch.py``).
"""

from __future__ import annotations

import json
import subprocess
import time
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

import pytest

from shadow.demo.server import serve_in_thread
from tests.conftest import ClickHouseTarget
from tests.e2e.test_health import free_port, wait_for, worker_process
from tests.e2e.test_kill_switch import LATENCY_MS, CallLog, Drill, Producer, union_rows
from tests.e2e.test_worker_process import SHADOW, env_for

pytestmark = [pytest.mark.kafka, pytest.mark.clickhouse, pytest.mark.e2e]

RPM = 300  # 5 calls a second for the whole group


def rate(calls: CallLog, model: str, start: float, end: float) -> float:
    return len([t for t in calls.times(model, after=start) if t <= end]) / (end - start)


@pytest.mark.timeout(300)
def test_a_requests_per_minute_limit_holds_for_the_group_with_one_worker_and_with_two(
    kafka_bootstrap: str, clickhouse: ClickHouseTarget, tmp_path: Path
) -> None:
    drill = Drill.make(kafka_bootstrap, clickhouse, tmp_path, "rpm")
    topic, targets = drill.topic, drill.targets
    calls = CallLog()
    with serve_in_thread(calls) as candidate, ExitStack() as stack:
        configs = drill.configs(
            candidate.base_url, extra={"cand-b": {"rate_limit_rpm": RPM}}, pipeline={"max_in_flight": 16}
        )
        logs = [tmp_path / "a.log", tmp_path / "b.log"]
        first = stack.enter_context(worker_process(configs[0], free_port(), targets[0], logs[0]))
        stack.enter_context(Producer(kafka_bootstrap, topic, interval_s=0.02))  # 50 events a second: a backlog
        procs = [(first, logs[0])]
        wait_for(lambda: len(calls.times("model-b")) >= 10, procs, 120)
        start = time.monotonic()
        time.sleep(10)
        alone = rate(calls, "model-b", start, time.monotonic())

        second = stack.enter_context(worker_process(configs[1], free_port(), targets[1], logs[1]))
        procs.append((second, logs[1]))
        # Both hold partitions and each has seen the other's report (reports every second).
        wait_for(lambda: all("assigned partitions [('" in log.read_text() for log in logs), procs, 120)
        time.sleep(4)
        start = time.monotonic()
        time.sleep(12)
        together = rate(calls, "model-b", start, time.monotonic())
        unlimited = rate(calls, "model-a", start, time.monotonic())

    print(f"group rate of cand-b: {alone:.2f}/s with one worker, {together:.2f}/s with two (limit {RPM / 60:.2f}/s); "
          f"cand-a, unlimited: {unlimited:.2f}/s")  # fmt: skip
    limit = RPM / 60
    assert abs(alone - limit) <= 0.1 * limit, alone
    assert abs(together - limit) <= 0.1 * limit, together
    # Calls past the limit are skipped (throttled), not queued: the other candidate keeps the stream's pace.
    assert unlimited >= 5 * limit, unlimited


@pytest.mark.timeout(300)
def test_a_budget_holds_across_two_workers_within_one_in_flight_window(
    kafka_bootstrap: str, clickhouse: ClickHouseTarget, tmp_path: Path
) -> None:
    drill = Drill.make(kafka_bootstrap, clickhouse, tmp_path, "budget")
    topic, database, targets = drill.topic, drill.database, drill.targets
    calls = CallLog()  # every answer reports 20 input and 8 output tokens
    # $250 and $625 per million tokens: 20 * 250e-6 + 8 * 625e-6 = $0.01 a call; a budget of $0.50 is 50 calls.
    prices = {"model-b": {"input_per_mtok": 250, "output_per_mtok": 625}}
    budget, per_call, concurrency = 0.50, 0.01, 8
    # A budget per UTC hour: the drill takes about 30 s, so it must not straddle the turn of an hour.
    now = datetime.now(UTC)
    if now.minute >= 58:
        time.sleep((60 - now.minute) * 60 - now.second + 1)
    hour = datetime.now(UTC).hour
    with serve_in_thread(calls) as candidate:
        configs = drill.configs(
            candidate.base_url,
            prices=prices,
            extra={"cand-b": {"budget_usd_per_hour": budget, "max_concurrency": concurrency}},
        )
        logs = [tmp_path / "a.log", tmp_path / "b.log"]
        with (
            worker_process(configs[0], free_port(), targets[0], logs[0]) as first,
            worker_process(configs[1], free_port(), targets[1], logs[1]) as second,
        ):
            procs = [(first, logs[0]), (second, logs[1])]
            wait_for(lambda: all("assigned partitions [('" in log.read_text() for log in logs), procs, 120)
            with Producer(kafka_bootstrap, topic) as producer:
                wait_for(lambda: len(calls.times("model-a")) >= 300, procs, 120)
                producer.stop()
                published = len(producer.ids)
                wait_for(lambda: len(calls.times("model-a")) >= published, procs, 60)
            time.sleep(LATENCY_MS / 1000 + 1.5)

    assert datetime.now(UTC).hour == hour, "the drill straddled the turn of an hour"
    rows = union_rows(targets, database)
    assert {event_id for event_id, _ in rows} == set(producer.ids)
    answered = sum(1 for (_, name), row in rows.items() if name == "cand-b" and row == ("ok", ""))
    over_budget = sum(1 for (_, name), row in rows.items() if name == "cand-b" and row == ("skipped", "budget"))
    assert answered + over_budget == published, (answered, over_budget, published)
    spent = answered * per_call
    window = 2 * concurrency * per_call  # the calls one in-flight window holds across the two workers
    print(f"budget ${budget:.2f}: the group spent ${spent:.2f} ({answered} calls; over by ${max(0.0, spent - budget):.2f},"
          f" the bound is one in-flight window, ${window:.2f}); {over_budget} events skipped(budget)")  # fmt: skip
    assert budget - window <= spent <= budget + window
    assert len(calls.times("model-b")) == answered  # no call made for a skipped event
    # On-call sees it: each worker's summary counts its skipped(budget) rows for cand-b.
    shown = 0
    for path, target in zip(configs, targets, strict=True):
        done = subprocess.run([*SHADOW, "summary", "--config", str(path), "--format", "json", "--no-control"],
                              env=env_for(target), capture_output=True, text=True, timeout=120)  # fmt: skip
        assert done.returncode == 0, done.stderr
        coverage = {c["candidate"]: c for c in json.loads(done.stdout)["coverage"]["candidates"]}
        shown += coverage["cand-b"]["skips"].get("budget", 0)
    assert shown == over_budget
    assert all(rows[(event_id, "cand-a")] == ("ok", "") for event_id in producer.ids)
