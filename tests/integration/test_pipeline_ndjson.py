"""NDJSON source → replay against a local endpoint → diff → ClickHouse (chDB or server)."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

from shadow.demo.server import Answer, CandidateServer, serve_in_thread
from shadow.events.models import Api
from shadow.loopwatch import TICK_INTERVAL_S
from shadow.pipeline import run_worker
from shadow.report.queries import run_query
from tests.factories import candidate, event_bytes, make_event, openai_response, settings_for

pytestmark = pytest.mark.clickhouse


async def test_every_line_ends_as_rows_or_a_dead_letter(tmp_path: Path, store, clickhouse_settings) -> None:
    events = [make_event(event_id=f"evt_{i}") for i in range(20)]
    lines = [event_bytes(e) for e in events]
    lines.insert(5, b'{"schema_version": 1, "event_id": "broken"')  # truncated JSON
    wrong_type = make_event(event_id="evt_wrong_type")
    wrong_type["latency_ms"] = "slow"
    lines.insert(9, event_bytes(wrong_type))
    path = tmp_path / "events.ndjson"
    path.write_bytes(b"\n".join(lines) + b"\n")

    def answer(api: Api, body: dict) -> Answer:
        return Answer.text_answer("Hello! How may I help you today?")

    server = CandidateServer(answer)
    base_url = await server.start()
    try:
        settings = settings_for(
            [candidate("fast", base_url), candidate("other", base_url, provider="anthropic")],
            source={"kind": "ndjson", "path": str(path), "dead_letter_path": str(tmp_path / "dlq.ndjson")},
            clickhouse=clickhouse_settings.model_dump(),
        )
        stats = await run_worker(settings, store=store, handle_signals=False)
    finally:
        await server.stop()

    assert stats.stopped_by == "end_of_input"
    assert (stats.consumed, stats.replayed, stats.dead_lettered) == (22, 20, 2)
    rows = store.query_rows(
        f"SELECT event_id, candidate, status, count() FROM {store.database}.comparisons FINAL "
        "GROUP BY event_id, candidate, status ORDER BY event_id, candidate"
    )
    assert len(rows) == 40
    assert {r[3] for r in rows} == {1}
    assert {r[2] for r in rows} == {"ok"}
    assert {r[1] for r in rows} == {"fast", "other"}

    letters = [orjson.loads(line) for line in (tmp_path / "dlq.ndjson").read_bytes().splitlines()]
    assert [(d["line"], d["kind"]) for d in letters] == [(6, "invalid_json"), (10, "invalid_event")]
    assert "latency_ms" in letters[1]["reason"]
    assert letters[0]["raw"].startswith('{"schema_version": 1')

    ingest = store.query_rows(
        f"SELECT outcome, reason, count() FROM {store.database}.ingest_log FINAL GROUP BY outcome, reason ORDER BY 1, 2"
    )
    assert ingest == [("dead_letter", "invalid_event", 1), ("dead_letter", "invalid_json", 1), ("replayed", "", 20)]


async def test_a_slow_candidate_answer_does_not_stall_other_events(tmp_path: Path, store, clickhouse_settings) -> None:
    """One event's candidate takes 3 s; the other events are stored long before it finishes."""
    events = [make_event(event_id=f"evt_{i}", text=f"question {i}") for i in range(30)]
    path = tmp_path / "events.ndjson"
    path.write_bytes(b"\n".join(event_bytes(e) for e in events) + b"\n")

    async def answer(api: Api, body: dict) -> Answer:
        if "question 0" in body["messages"][-1]["content"]:
            await asyncio.sleep(3.0)
        return Answer.text_answer("ok")

    server = CandidateServer(answer)
    base_url = await server.start()
    settings = settings_for(
        [candidate("c", base_url, timeout_s=10)],
        source={"kind": "ndjson", "path": str(path)},
        clickhouse={**clickhouse_settings.model_dump(), "flush_interval_s": 0.1},
    )
    worker = asyncio.create_task(run_worker(settings, store=store, handle_signals=False))
    started = time.monotonic()
    try:
        stored_early = 0
        while time.monotonic() - started < 2.5:
            await asyncio.sleep(0.2)
            rows = await store.aquery_dicts(f"SELECT count() AS n FROM {store.database}.comparisons")
            stored_early = rows[0]["n"]
            if stored_early == 29:
                break
        assert stored_early == 29, "the other 29 events should be stored while event 0 is still in flight"
        await worker
    finally:
        await server.stop()
    assert time.monotonic() - started >= 2.9
    assert store.query_rows(f"SELECT count() FROM {store.database}.comparisons FINAL")[0][0] == 30


async def test_candidate_failures_become_rows(tmp_path: Path, store, clickhouse_settings) -> None:
    faults = {
        "q-timeout": "timeout",
        "q-429": "rate_limit",
        "q-500": "server_error",
        "q-body": "invalid_body",
        "q-400": "bad_request",
    }
    events = [make_event(event_id=f"evt_{k}", text=k) for k in [*faults, "q-ok"]]
    path = tmp_path / "events.ndjson"
    path.write_bytes(b"\n".join(event_bytes(e) for e in events) + b"\n")

    def answer(api: Api, body: dict) -> Answer:
        text = body["messages"][-1]["content"]
        return Answer.failing(faults[text]) if text in faults else Answer.text_answer("fine")

    server = CandidateServer(answer, timeout_s=5)
    base_url = await server.start()
    try:
        settings = settings_for(
            [candidate("c", base_url, timeout_s=0.5, max_retries=1, retry_backoff_s=0.01, max_backoff_s=0.05)],
            source={"kind": "ndjson", "path": str(path)},
            clickhouse=clickhouse_settings.model_dump(),
        )
        await run_worker(settings, store=store, handle_signals=False)
    finally:
        await server.stop()
    rows = store.query_dicts(
        f"SELECT event_id, status, error_kind, http_status, attempts, candidate_finish_reason "
        f"FROM {store.database}.comparisons FINAL ORDER BY event_id"
    )
    got = {r["event_id"]: (r["status"], r["error_kind"], r["http_status"], r["attempts"]) for r in rows}
    assert got == {
        "evt_q-400": ("candidate_error", "http_4xx", 400, 1),
        "evt_q-429": ("candidate_error", "rate_limited", 429, 2),
        "evt_q-500": ("candidate_error", "http_5xx", 500, 2),
        "evt_q-body": ("candidate_error", "invalid_response", 200, 1),
        "evt_q-ok": ("ok", "", 200, 1),
        "evt_q-timeout": ("candidate_error", "timeout", 0, 1),  # timeouts are not retried (retry_timeouts: false)
    }
    assert all(r["candidate_finish_reason"] == "error" for r in rows if r["status"] != "ok")


async def test_production_failures_are_compared_too(tmp_path: Path, store, clickhouse_settings) -> None:
    failed = make_event(event_id="evt_prod_failed", error={"status": 500, "type": "server_error", "message": "boom"})
    failed["response"] = None
    ok = make_event(event_id="evt_ok", response=openai_response('{"a": 1}'))
    path = tmp_path / "events.ndjson"
    path.write_bytes(event_bytes(failed) + b"\n" + event_bytes(ok) + b"\n")
    server = CandidateServer(lambda api, body: Answer.text_answer('{"a": 1.0}'))
    base_url = await server.start()
    try:
        settings = settings_for(
            [candidate("c", base_url)],
            source={"kind": "ndjson", "path": str(path)},
            clickhouse=clickhouse_settings.model_dump(),
        )
        await run_worker(settings, store=store, handle_signals=False)
    finally:
        await server.stop()
    rows = {
        r["event_id"]: r
        for r in store.query_dicts(
            f"SELECT event_id, status, candidate_json_valid, production_json_valid, json_equal "
            f"FROM {store.database}.comparisons FINAL"
        )
    }
    assert rows["evt_prod_failed"]["status"] == "production_error"
    assert rows["evt_prod_failed"]["candidate_json_valid"] is True
    assert rows["evt_prod_failed"]["production_json_valid"] is None
    assert rows["evt_ok"]["json_equal"] is True  # 1 == 1.0


# --- how late the worker's own loop was during each candidate call ----------------------------------------------------

LOOP_BLOCK_S = 0.6
IN_FLIGHT = 4


async def _run_with_calls_in_flight(
    tmp_path: Path, store, clickhouse_settings, *, block_s: float = 0.0, wait_s: float = 0.0
) -> list[dict]:
    """IN_FLIGHT events whose answers the candidate (in its own thread, on its own loop) holds until all of
    them are in flight and ``wait_s`` more; then the worker's loop is blocked for ``block_s`` as they arrive."""
    path = tmp_path / "events.ndjson"
    path.write_bytes(b"\n".join(event_bytes(make_event(event_id=f"evt_{i}")) for i in range(IN_FLIGHT)) + b"\n")
    release = threading.Event()

    async def answer(api: Api, body: dict) -> Answer:
        await asyncio.to_thread(release.wait, 15)
        return Answer.text_answer("Hello! How may I help you today?")

    with serve_in_thread(answer) as server:
        settings = settings_for(
            [candidate("c", server.base_url, timeout_s=20)],
            source={"kind": "ndjson", "path": str(path)},
            clickhouse=clickhouse_settings.model_dump(),
        )
        worker = asyncio.create_task(run_worker(settings, store=store, handle_signals=False))
        try:
            deadline = time.monotonic() + 15
            while len(server.received) < IN_FLIGHT:
                assert time.monotonic() < deadline and not worker.done(), "the calls never were all in flight"
                await asyncio.sleep(0.01)
            await asyncio.sleep(wait_s)  # the loop stays free: the watch ticks on time while the calls wait
            release.set()
            if block_s:
                time.sleep(block_s)  # noqa: ASYNC251 - the worker's loop held (a slow synchronous step) as answers arrive
        finally:
            release.set()
            await worker
    return store.query_dicts(
        f"SELECT event_id, status, candidate_latency_ms, candidate_loop_lag_ms "
        f"FROM {store.database}.comparisons FINAL ORDER BY event_id"
    )


async def test_rows_say_how_long_the_worker_s_own_loop_held_the_answers(
    tmp_path: Path, store, clickhouse_settings
) -> None:
    rows = await _run_with_calls_in_flight(tmp_path, store, clickhouse_settings, block_s=LOOP_BLOCK_S)

    assert [r["status"] for r in rows] == ["ok"] * IN_FLIGHT
    # The answers waited in their sockets for the loop: the latencies are inflated by the block, and
    # the lag says so (a block of D shows as at least D minus the watch's 50 ms tick).
    assert all(r["candidate_latency_ms"] >= LOOP_BLOCK_S * 1000 for r in rows)
    assert all(r["candidate_loop_lag_ms"] >= (LOOP_BLOCK_S - TICK_INTERVAL_S) * 1000 for r in rows), rows
    window = {"start": datetime(2026, 11, 1, tzinfo=UTC), "end": datetime(2026, 12, 1, tzinfo=UTC)}
    values = run_query(store, "comparison_values", **window, candidate="c", workflow=None, tenant=None, limit=0)
    assert sorted(v["candidate_loop_lag_ms"] for v in values) == sorted(r["candidate_loop_lag_ms"] for r in rows)


async def test_on_a_free_worker_the_loop_lag_is_small(tmp_path: Path, store, clickhouse_settings) -> None:
    rows = await _run_with_calls_in_flight(tmp_path, store, clickhouse_settings, wait_s=LOOP_BLOCK_S)

    assert [r["status"] for r in rows] == ["ok"] * IN_FLIGHT
    lags = [r["candidate_loop_lag_ms"] for r in rows]
    assert all(lag is not None for lag in lags)
    # A few ms here (the ticks' own timer slack); the bound leaves room for a machine under load and is still
    # well below what the block above shows.
    assert max(lags) < 250, lags
