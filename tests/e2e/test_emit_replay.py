"""From a production service to comparison rows: the example service mirrors its SDK calls with shadow.emit
to a real Kafka topic, ``shadow run`` replays them against streaming and unstreamed candidates, and the rows
show production's time to first token for streamed calls beside the candidate's."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from shadow.demo.server import serve_in_thread
from shadow.events.decode import decode_event
from shadow.storage.store import ClickHouseStore
from tests.conftest import ROOT, ClickHouseTarget, unique
from tests.integration.test_emit_kafka import EXAMPLE, read_topic

pytestmark = [pytest.mark.kafka, pytest.mark.clickhouse, pytest.mark.e2e]

sys.path.insert(0, str(EXAMPLE.parent))
from local_endpoint import answer  # noqa: E402 - the example's own endpoint logic, also the candidates'

KEY = "e2e-redaction-key-0123456789"
CANDIDATES = ("streamed-openai", "streamed-anthropic", "whole-openai")


def _config(path: Path, bootstrap: str, topic: str, ch: ClickHouseTarget, database: str, base_url: str) -> Path:
    clickhouse: dict[str, object] = {"dsn": ch.dsn, "database": database, "flush_interval_s": 0.2}
    if ch.username:
        clickhouse["username"] = ch.username
    common = {"base_url": base_url, "timeout_s": 10, "max_retries": 0}
    config = {
        "source": {"kind": "kafka"},
        "kafka": {"bootstrap_servers": bootstrap, "topic": topic, "group_id": unique("g"), "commit_interval_s": 0.2},
        "clickhouse": clickhouse,
        "sampling": {"default_rate": 1.0},
        "candidates": [
            {"name": "streamed-openai", "provider": "openai", "model": "gpt-5-mini", "stream": True, **common},
            {"name": "streamed-anthropic", "provider": "anthropic", "model": "claude-sonnet-4-5", "stream": True,
             **{**common, "base_url": base_url.removesuffix("/v1")}},
            {"name": "whole-openai", "provider": "openai", "model": "gpt-5-mini", **common},
        ],
    }  # fmt: skip
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.mark.timeout(300)
def test_emitted_events_replay_into_rows_with_both_ttfts(
    kafka_bootstrap: str, clickhouse: ClickHouseTarget, tmp_path: Path
) -> None:
    topic, database = unique("mirror"), unique("emit")
    env = {**os.environ, "SHADOW_REDACTION_KEY": KEY}
    if clickhouse.password:
        env["SHADOW_CLICKHOUSE__PASSWORD"] = clickhouse.password
    with serve_in_thread(lambda api, request: answer(api, request, 60.0)) as server:
        config = _config(tmp_path / "shadow.yaml", kafka_bootstrap, topic, clickhouse, database, server.base_url)
        # Step 1: the service emits (its own endpoint is the same local server; 8 conversations, 16 calls).
        service = subprocess.run(
            [sys.executable, str(EXAMPLE), "--worker-config", str(config), "--base-url", server.base_url,
             "--count", "8"],
            capture_output=True, text=True, timeout=120, env=env, cwd=ROOT, check=False,
        )  # fmt: skip
        assert service.returncode == 0, service.stderr[-3000:]
        report = json.loads(service.stdout)
        assert report["emitter"]["sent"] == 16
        events = {
            d.event.event_id: d.event
            for d in (decode_event(r.value, max_bytes=1 << 20) for r in asyncio.run(read_topic(kafka_bootstrap, topic, 16)))
        }  # fmt: skip
        assert len(events) == 16 and sum(e.stream for e in events.values()) == 10
        # Step 2: a worker replays them.
        run = subprocess.run(
            [sys.executable, "-m", "shadow", "run", "--config", str(config), "--stop-after-idle", "4"],
            capture_output=True, text=True, timeout=200, env=env, cwd=ROOT, check=False,
        )  # fmt: skip
        assert run.returncode == 0, run.stderr[-3000:]
    settings = clickhouse.settings(database)
    with ClickHouseStore(settings) as store:
        rows = store.query_rows(
            f"SELECT event_id, candidate, status, production_ttft_ms, candidate_ttft_ms, candidate_tool_calls "
            f"FROM {database}.comparisons FINAL ORDER BY event_id, candidate"
        )
    assert {(r[0], r[1]) for r in rows} == {(event_id, c) for event_id in events for c in CANDIDATES}
    for event_id, name, status, production_ttft, candidate_ttft, _calls in rows:
        event = events[event_id]
        assert status == "ok", (event_id, name)
        if event.stream:
            assert production_ttft == pytest.approx(event.ttft_ms, rel=1e-3) and production_ttft >= 10
        else:
            assert production_ttft is None
        if name.startswith("streamed"):
            assert candidate_ttft is not None and candidate_ttft >= 10  # the endpoint's first event leaves at 15 ms
        else:
            assert candidate_ttft is None
    assert sum(r[5] > 0 for r in rows) == 8 * len(CANDIDATES)  # the tool-call turns replayed as tool calls
