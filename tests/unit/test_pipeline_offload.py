"""Big comparisons leave the event loop (for the diff process, or the CPU thread), and hostile answers
still end as rows with their caps.

A worker on a :class:`ListSource` and a :class:`MemorySink`, with a candidate on
``httpx.MockTransport`` that answers what the test chooses: no Kafka, no ClickHouse.
"""

from __future__ import annotations

import os
import signal
import threading
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson
import pytest

import shadow.rowbuilder
from shadow.config import Settings
from shadow.events.decode import decode_event
from shadow.events.memory import ListDeadLetterSink, ListSource
from shadow.events.output import Output
from shadow.events.records import Position
from shadow.pipeline import Pipeline
from shadow.replay.client import CandidateClient
from shadow.replay.fanout import Replayer
from shadow.replay.result import ReplayResult
from shadow.rowbuilder import DiffProcesses, RowBuilder
from shadow.sink.memory import MemorySink
from tests.factories import candidate, event_bytes, make_event, openai_response, settings_for

pytestmark = pytest.mark.timeout(60)

BASE_URL = "http://candidate.invalid/v1"


def nested(depth: int, leaf: str) -> str:
    return "[" * depth + leaf + "]" * depth


async def run_worker(
    answers: dict[str, dict[str, Any]], events: list[dict[str, Any]], **pipeline: Any
) -> tuple[MemorySink, ListDeadLetterSink]:
    """Replay ``events``; the candidate answers each with ``answers[event_id]``."""
    config: Settings = settings_for(
        [candidate("c0", BASE_URL, timeout_s=30.0)],
        pipeline={"shutdown_grace_s": 5.0, **pipeline},
        clickhouse={"flush_interval_s": 0.05},
        kafka={"commit_interval_s": 0.05},
    )

    async def handler(request: httpx.Request) -> httpx.Response:
        text = orjson.loads(request.content)["messages"][-1]["content"]
        return httpx.Response(200, json=answers[text.rsplit(" ", 1)[-1].rstrip("?")])

    transport = httpx.MockTransport(handler)
    replayer = Replayer([CandidateClient(c, transport=transport) for c in config.candidates])
    sink, letters = MemorySink(), ListDeadLetterSink()
    source = ListSource([event_bytes(e) for e in events])
    try:
        await Pipeline(config, source=source, dead_letters=letters, replayer=replayer, sink=sink).run()
    finally:
        await replayer.aclose()
    return sink, letters


def event(event_id: str, production_text: str, **response: Any) -> dict[str, Any]:
    return make_event(event_id=event_id, response=openai_response(production_text, **response))


@pytest.fixture
def compare_threads(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The thread each comparison ran in, by production's answer text."""
    names: dict[str, str] = {}
    real = shadow.rowbuilder.compare

    def spy(production: Any, *args: Any, **kwargs: Any) -> Any:
        names[production.text] = threading.current_thread().name
        return real(production, *args, **kwargs)

    monkeypatch.setattr(shadow.rowbuilder, "compare", spy)
    return names


async def test_without_diff_processes_a_big_event_is_compared_in_the_cpu_thread_and_a_small_one_on_the_loop(
    compare_threads: dict[str, str],
) -> None:
    big, small = "word " * 10_000, "Your refund was processed."
    sink, _ = await run_worker(
        {"big": openai_response(big), "small": openai_response(small)},
        [event("small", small), event("big", big)],
        offload_min_chars=20_000,
        diff_processes=0,
    )
    assert compare_threads[small] == threading.main_thread().name
    assert compare_threads[big].startswith("shadow-cpu")
    rows = {row["event_id"]: row for row in sink.comparisons}
    assert rows["big"]["production_words"] == 10_000 and rows["big"]["similarity"] == 1.0
    assert rows["small"]["status"] == "ok"


def comparable(row: dict[str, Any]) -> dict[str, Any]:
    """A row without what differs between two runs (when it was written, how long the call took, how late the
    loop was meanwhile: on a busy machine the two runs' loop lags differ)."""
    varying = {"compared_at", "row_version", "replayed_at", "candidate_latency_ms", "latency_delta_ms", "latency_ratio",
               "candidate_loop_lag_ms", "candidate_ttft_ms"}  # fmt: skip
    return {k: v for k, v in row.items() if k not in varying}


async def test_a_big_event_is_compared_in_the_diff_process_into_the_same_rows(
    compare_threads: dict[str, str],
) -> None:
    big, small = "word " * 10_000, "Your refund was processed."
    answers = {"big": openai_response(big.replace("word", "term", 50)), "small": openai_response(small)}
    events = [event("small", small), event("big", big)]
    sink, _ = await run_worker(answers, events, offload_min_chars=20_000, diff_processes=1)
    # The small event was compared here; the big one never ran this process's compare: it was the diff process's.
    assert set(compare_threads) == {small}
    in_process, _ = await run_worker(answers, events, offload_min_chars=10**9)
    assert set(compare_threads) == {small, big}  # the same run in this process: it compared both
    rows = {row["event_id"]: comparable(row) for row in sink.comparisons}
    expected = {row["event_id"]: comparable(row) for row in in_process.comparisons}
    assert rows == expected
    assert 0.9 < rows["big"]["similarity"] < 1.0


async def test_a_dead_diff_process_is_replaced_and_its_event_compared_anyway() -> None:
    settings = settings_for([candidate("c0", BASE_URL)])
    builder = RowBuilder(settings)
    decoded = decode_event(event_bytes(event("e1", "word " * 5_000)), max_bytes=1 << 20)
    result = ReplayResult(candidate="c0", model="m", output=Output("word " * 4_000), latency_ms=12.0,
                          started_at=datetime.now(UTC))  # fmt: skip
    position = Position("kafka", "t", 0, 7)
    expected = comparable(builder.rows(position, decoded, [result], settings.candidates)[0])
    processes = DiffProcesses(settings, builder, processes=1)
    processes.start()
    try:
        first = await processes.rows(position, decoded, [result], settings.candidates)
        assert comparable(first[0]) == expected and processes.restarts == 0
        pool = processes._pool
        assert pool is not None
        for process in list(pool._processes.values()):  # what the OS's OOM killer would do
            os.kill(process.pid, signal.SIGKILL)
        again = await processes.rows(position, decoded, [result], settings.candidates)
        assert comparable(again[0]) == expected and processes.restarts == 1
        assert processes._pool is not None and processes._pool is not pool
        after = await processes.rows(position, decoded, [result], settings.candidates)
        assert comparable(after[0]) == expected and processes.restarts == 1
        # A process that keeps dying is given up after MAX_RESTARTS: the CPU thread compares from then on.
        while processes._pool is not None:
            for process in list(processes._pool._processes.values()):
                os.kill(process.pid, signal.SIGKILL)
            last = await processes.rows(position, decoded, [result], settings.candidates)
            assert comparable(last[0]) == expected
        assert processes.restarts == DiffProcesses.MAX_RESTARTS
        processes.start()
        assert processes._pool is None
        assert comparable((await processes.rows(position, decoded, [result], settings.candidates))[0]) == expected
    finally:
        processes.close()


async def test_hostile_answers_end_as_rows_with_their_caps() -> None:
    calls = [("lookup", {"order_id": f"A{i}"}) for i in range(2_000)]
    answers = {
        "deep": openai_response(nested(1000, "2")),
        "calls": openai_response(None, tool_calls=calls[::-1]),
        "words": openai_response(" ".join(f"w{i % 977}" for i in range(150_000))),
        "ticks": openai_response("`" * 200_000),
    }
    events = [
        event("deep", nested(1000, "1")),
        event("calls", None, tool_calls=calls),
        event("words", " ".join(f"w{i % 1009}" for i in range(150_000))),
        event("ticks", "```\n" * 50_000),
    ]
    sink, letters = await run_worker(answers, events)
    assert letters.letters == []
    rows = {row["event_id"]: row for row in sink.comparisons}
    assert set(rows) == {"deep", "calls", "words", "ticks"}
    assert all(row["status"] == "ok" for row in rows.values())
    assert "json_depth" in rows["deep"]["caps"] and rows["deep"]["json_equal"] is False
    assert "tool_calls" in rows["calls"]["caps"] and rows["calls"]["candidate_tool_calls"] == 2_000
    assert len(orjson.loads(rows["calls"]["candidate_output"])["tool_calls"]) == 32
    assert "text_cut" in rows["words"]["caps"] and rows["words"]["candidate_words"] == 150_000
    assert rows["ticks"]["candidate_json_valid"] is False


async def test_an_event_too_deep_to_pickle_is_compared_in_the_cpu_thread() -> None:
    settings = settings_for([candidate("c0", BASE_URL)])
    builder = RowBuilder(settings)
    # 600 levels: orjson reads it (up to 1,024), pickle cannot write it (Python's recursion limit).
    deep = b"[" * 600 + b'"leaf"' + b"]" * 600
    value = event_bytes(make_event(event_id="deep", response=openai_response("a" * 20_000)))
    value = value.replace(b'"messages":', b'"x_deep":' + deep + b',"messages":', 1)
    decoded = decode_event(value, max_bytes=1 << 20)
    result = ReplayResult(candidate="c0", model="m", output=Output("a" * 20_000), latency_ms=5.0)
    position = Position("kafka", "t", 0, 1)
    processes = DiffProcesses(settings, builder, processes=1)
    processes.start()
    try:
        rows = await processes.rows(position, decoded, [result], settings.candidates)
    finally:
        processes.close()
    assert rows[0]["event_id"] == "deep" and rows[0]["similarity"] == 1.0
    assert processes.restarts == 0  # not a dead process: a pickling limit
