"""The ``shadow`` command as a user runs it: a worker process against real Kafka and ClickHouse.

Covers the delivery promises: events published by an independent client (kcat)
are stored; malformed, oversized and wrongly typed messages land in the
dead-letter topic while the worker goes on; after ``kill -9`` mid-stream and a
restart, every (event, candidate) is in ``FINAL`` exactly once and none is missing.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest
import yaml

from shadow.demo.server import Answer, serve_in_thread
from shadow.storage.store import ClickHouseStore
from tests.conftest import ClickHouseTarget, unique
from tests.factories import event_bytes, make_event
from tests.integration.test_kafka_pipeline import committed_offsets, create_topic, end_offsets

pytestmark = [pytest.mark.kafka, pytest.mark.clickhouse, pytest.mark.e2e]

SHADOW = [sys.executable, "-m", "shadow"]


def write_config(
    path: Path,
    *,
    bootstrap: str,
    topic: str,
    group: str,
    ch: ClickHouseTarget,
    database: str,
    base_url: str,
    **pipeline: object,
) -> Path:
    clickhouse: dict[str, object] = {"dsn": ch.dsn, "database": database, "flush_interval_s": 0.2}
    if ch.username:
        clickhouse["username"] = ch.username
    config = {
        "source": {"kind": "kafka"},
        "kafka": {"bootstrap_servers": bootstrap, "topic": topic, "group_id": group, "commit_interval_s": 0.2},
        "clickhouse": clickhouse,
        "pipeline": {"max_in_flight": 64, **pipeline},
        "candidates": [
            {
                "name": "cand-openai",
                "provider": "openai",
                "base_url": base_url,
                "model": "gpt-4.1-mini",
                "api_key_env": "SHADOW_TEST_OPENAI_KEY",
                "timeout_s": 5,
                "max_retries": 0,
            },
            {
                "name": "cand-anthropic",
                "provider": "anthropic",
                "base_url": base_url,
                "model": "claude-haiku-4-5",
                "timeout_s": 5,
                "max_retries": 0,
            },
        ],
    }
    path.write_text(yaml.safe_dump(config))
    return path


def env_for(ch: ClickHouseTarget) -> dict[str, str]:
    env = {**os.environ, "SHADOW_TEST_OPENAI_KEY": "sk-test-secret-value-123456789"}
    if ch.password:
        env["SHADOW_CLICKHOUSE__PASSWORD"] = ch.password
    return env


def query(ch: ClickHouseTarget, database: str, sql: str) -> list[tuple]:
    settings = ch.settings(database)
    with ClickHouseStore(settings) as store:
        return store.query_rows(sql.format(db=database))


def answer_slowly(api, body) -> Answer:
    return Answer.text_answer("Thanks for waiting, your parcel is on its way.", latency_ms=40)


@pytest.mark.timeout(300)
def test_kcat_published_events_are_stored_and_bad_messages_dead_lettered(
    kafka_bootstrap: str, clickhouse: ClickHouseTarget, tmp_path: Path
) -> None:
    if shutil.which("kcat") is None:
        pytest.skip("kcat is not installed (Debian: apt-get install kcat)")
    topic, group, database = unique("mirror"), unique("shadow"), unique("e2e")
    asyncio.run(create_topic(kafka_bootstrap, topic, partitions=2))
    events = [make_event(event_id=f"evt_k{i:03d}") for i in range(40)]
    wrong_type = make_event(event_id="evt_wrong_type")
    wrong_type["occurred_at"] = 1700000000
    lines = [e["event_id"].encode() + b"\t" + event_bytes(e) for e in events[:20]]
    lines += [b"bad\t{not json at all", b"evt_wrong_type\t" + event_bytes(wrong_type)]
    lines += [b"evt_big\t" + event_bytes(make_event(event_id="evt_big", text="y" * 1_500_000))]
    lines += [e["event_id"].encode() + b"\t" + event_bytes(e) for e in events[20:]]
    source = tmp_path / "kcat.txt"
    source.write_bytes(b"\n".join(lines) + b"\n")
    subprocess.run(
        [
            "kcat",
            "-b",
            kafka_bootstrap,
            "-P",
            "-t",
            topic,
            "-K",
            "\t",
            "-l",
            "-X",
            "message.max.bytes=2000000",
            str(source),
        ],
        check=True,
        timeout=60,
    )

    with serve_in_thread(answer_slowly) as server:
        config = write_config(
            tmp_path / "shadow.yaml",
            bootstrap=kafka_bootstrap,
            topic=topic,
            group=group,
            ch=clickhouse,
            database=database,
            base_url=server.base_url,
        )
        run = subprocess.run(
            [*SHADOW, "run", "--config", str(config), "--stop-after-idle", "4"],
            env=env_for(clickhouse),
            capture_output=True,
            text=True,
            timeout=240,
        )
        assert run.returncode == 0, run.stderr[-3000:]
        keys = {r.headers.get("authorization") for r in server.received if r.api.value == "openai.chat.completions"}
    assert keys == {"Bearer sk-test-secret-value-123456789"}
    assert "sk-test-secret-value" not in run.stderr
    # At the default level (INFO) the worker logs its own lines, but not one line per candidate request.
    assert "assigned partitions" in run.stderr
    assert "HTTP Request:" not in run.stderr

    rows = query(
        clickhouse,
        database,
        "SELECT event_id, candidate, count() FROM {db}.comparisons FINAL GROUP BY event_id, candidate",
    )
    assert sorted((r[0], r[1]) for r in rows) == sorted(
        (e["event_id"], c) for e in events for c in ("cand-anthropic", "cand-openai")
    )
    assert {r[2] for r in rows} == {1}

    letters = subprocess.run(
        [
            "kcat",
            "-b",
            kafka_bootstrap,
            "-C",
            "-t",
            f"{topic}.dlq",
            "-e",
            "-J",
            "-X",
            "fetch.message.max.bytes=4000000",
        ],
        check=True,
        capture_output=True,
        timeout=60,
    ).stdout.splitlines()
    found = {}
    for line in letters:
        message = orjson.loads(line)
        headers = dict(zip(message["headers"][::2], message["headers"][1::2], strict=True))
        found[message["key"]] = (headers["shadow.dlq.kind"], headers["shadow.dlq.reason"])
    assert set(found) == {"bad", "evt_wrong_type", "evt_big"}
    assert found["bad"][0] == "invalid_json"
    assert found["evt_wrong_type"][0] == "invalid_event" and "occurred_at" in found["evt_wrong_type"][1]
    assert found["evt_big"][0] == "oversized" and "over the limit" in found["evt_big"][1]


@pytest.mark.timeout(400)
def test_kill_9_mid_stream_then_restart_stores_every_pair_exactly_once(
    kafka_bootstrap: str, clickhouse: ClickHouseTarget, tmp_path: Path
) -> None:
    topic, group, database = unique("mirror"), unique("shadow"), unique("e2e")
    asyncio.run(create_topic(kafka_bootstrap, topic, partitions=3))
    events = [make_event(event_id=f"evt_{i:04d}", text=f"question {i}") for i in range(400)]
    ndjson = tmp_path / "events.ndjson"
    ndjson.write_bytes(b"\n".join(event_bytes(e) for e in events) + b"\n")
    produced = subprocess.run(
        [*SHADOW, "produce", str(ndjson), "--topic", topic, "-b", kafka_bootstrap],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert produced.returncode == 0, produced.stderr
    assert f"published 400 messages to {topic}" in produced.stdout

    with serve_in_thread(answer_slowly) as server:
        config = write_config(
            tmp_path / "shadow.yaml",
            bootstrap=kafka_bootstrap,
            topic=topic,
            group=group,
            ch=clickhouse,
            database=database,
            base_url=server.base_url,
            max_in_flight=16,
        )
        log = (tmp_path / "first.log").open("w")
        first = subprocess.Popen(
            [*SHADOW, "run", "--config", str(config)], env=env_for(clickhouse), stdout=log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 120
        while len(server.received) < 300 and time.monotonic() < deadline:
            assert first.poll() is None, (tmp_path / "first.log").read_text()[-3000:]
            time.sleep(0.05)
        first.send_signal(signal.SIGKILL)
        first.wait(30)
        log.close()
        replayed_before_kill = len(server.received)
        assert 300 <= replayed_before_kill < 800, "the kill must land mid-stream"

        second = subprocess.run(
            [*SHADOW, "run", "--config", str(config), "--stop-after-idle", "4"],
            env=env_for(clickhouse),
            capture_output=True,
            text=True,
            timeout=240,
        )
        assert second.returncode == 0, second.stderr[-3000:]

    final = query(
        clickhouse,
        database,
        "SELECT event_id, candidate, count() AS n FROM {db}.comparisons FINAL GROUP BY event_id, candidate",
    )
    assert len(final) == 800
    assert {r[2] for r in final} == {1}
    assert {(r[0], r[1]) for r in final} == {
        (e["event_id"], c) for e in events for c in ("cand-anthropic", "cand-openai")
    }
    ingest = query(clickhouse, database, "SELECT count(), uniqExact(event_id) FROM {db}.ingest_log FINAL")
    assert ingest == [(400, 400)]
    assert asyncio.run(committed_offsets(kafka_bootstrap, group, topic, 3)) == asyncio.run(
        end_offsets(kafka_bootstrap, topic, 3)
    )


@pytest.mark.timeout(120)
def test_sigterm_stops_the_worker_cleanly(kafka_bootstrap: str, clickhouse: ClickHouseTarget, tmp_path: Path) -> None:
    topic, group, database = unique("mirror"), unique("shadow"), unique("e2e")
    asyncio.run(create_topic(kafka_bootstrap, topic, partitions=1))
    with serve_in_thread(answer_slowly) as server:
        config = write_config(
            tmp_path / "shadow.yaml",
            bootstrap=kafka_bootstrap,
            topic=topic,
            group=group,
            ch=clickhouse,
            database=database,
            base_url=server.base_url,
        )
        worker = subprocess.Popen(
            [*SHADOW, "run", "--config", str(config), "--log-level", "INFO"],
            env=env_for(clickhouse),
            stderr=subprocess.PIPE,
            text=True,
        )
        time.sleep(6)
        assert worker.poll() is None
        worker.send_signal(signal.SIGTERM)
        _, stderr = worker.communicate(timeout=60)
    assert worker.returncode == 0, stderr[-3000:]
    assert "stopped (signal)" in stderr
    assert "Traceback" not in stderr


def test_run_with_a_broken_config_names_the_field(tmp_path: Path) -> None:
    config = tmp_path / "shadow.yaml"
    config.write_text("candidates:\n  - name: x\n    provider: openai\n    base_url: ftp://nope\n    model: m\n")
    run = subprocess.run([*SHADOW, "run", "--config", str(config)], capture_output=True, text=True, timeout=60)
    assert run.returncode == 2
    assert "candidates.0.base_url" in run.stderr
    assert "Traceback" not in run.stderr


def test_run_without_the_api_key_variable_says_which(tmp_path: Path, clickhouse: ClickHouseTarget) -> None:
    config = tmp_path / "shadow.yaml"
    config.write_text(
        "candidates:\n  - {name: x, provider: openai, base_url: 'http://127.0.0.1:9/v1', model: m, "
        "api_key_env: SHADOW_TEST_MISSING_KEY}\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "SHADOW_TEST_MISSING_KEY"}
    run = subprocess.run([*SHADOW, "run", "--config", str(config)], capture_output=True, text=True, env=env, timeout=60)
    assert run.returncode == 2
    assert "SHADOW_TEST_MISSING_KEY" in run.stderr and "not set" in run.stderr
