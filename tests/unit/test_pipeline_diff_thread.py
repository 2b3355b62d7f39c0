"""Big comparisons leave the event loop, and hostile answers still end as rows with their caps.

A worker on a :class:`ListSource` and a :class:`MemorySink`, with a candidate on
``httpx.MockTransport`` that answers what the test chooses: no Kafka, no ClickHouse.
"""

from __future__ import annotations

import threading
from typing import Any

import httpx
import orjson
import pytest

import shadow.pipeline
from shadow.config import Settings
from shadow.events.memory import ListDeadLetterSink, ListSource
from shadow.pipeline import Pipeline
from shadow.replay.client import CandidateClient
from shadow.replay.fanout import Replayer
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
    real = shadow.pipeline.compare

    def spy(production: Any, *args: Any, **kwargs: Any) -> Any:
        names[production.text] = threading.current_thread().name
        return real(production, *args, **kwargs)

    monkeypatch.setattr(shadow.pipeline, "compare", spy)
    return names


async def test_a_big_event_is_compared_in_the_diff_thread_and_a_small_one_on_the_loop(
    compare_threads: dict[str, str],
) -> None:
    big, small = "word " * 10_000, "Your refund was processed."
    sink, _ = await run_worker(
        {"big": openai_response(big), "small": openai_response(small)},
        [event("small", small), event("big", big)],
        diff_thread_min_chars=20_000,
    )
    assert compare_threads[small] == threading.main_thread().name
    assert compare_threads[big].startswith("shadow-diff")
    rows = {row["event_id"]: row for row in sink.comparisons}
    assert rows["big"]["production_words"] == 10_000 and rows["big"]["similarity"] == 1.0
    assert rows["small"]["status"] == "ok"


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
