"""Streamed production events and streaming candidates through the whole worker: rows carry both TTFTs, and a
streamed candidate's comparison equals the unstreamed one's."""

from __future__ import annotations

from pathlib import Path

import pytest

from shadow.demo.server import Answer, CandidateServer, RecordedToolCall, user_texts
from shadow.pipeline import run_worker
from tests.factories import candidate, event_bytes, make_event, settings_for

pytestmark = pytest.mark.clickhouse

COMPARED = (
    "status", "candidate_text", "candidate_output", "similarity", "candidate_tool_calls", "tool_args_match",
    "candidate_finish_reason", "candidate_output_tokens", "candidate_input_tokens", "candidate_json_valid",
    "length_ratio",
)  # fmt: skip


async def test_rows_carry_production_and_candidate_ttft_and_streaming_changes_no_metric(
    tmp_path: Path, store, clickhouse_settings
) -> None:
    events = []
    for i in range(12):
        streamed = i % 2 == 0
        extra = {"stream": True, "ttft_ms": 100.0 + i} if streamed else {}
        events.append(make_event(event_id=f"evt_{i}", text=f"question {i}", **extra))
    path = tmp_path / "events.ndjson"
    path.write_bytes(b"\n".join(event_bytes(e) for e in events) + b"\n")

    def answer(api, body) -> Answer:
        text = user_texts(api, body)[-1]
        if text.endswith(("3", "7")):
            return Answer(
                text=None,
                tool_calls=(RecordedToolCall("lookup_order", {"order_id": text[-1]}),),
                finish_reason="tool_calls",
                input_tokens=20,
                output_tokens=12,
                ttft_ms=30,
                latency_ms=60,
            )
        return Answer.text_answer(f'{{"answer": "{text} is answered", "ok": true}}', ttft_ms=30, latency_ms=60)

    server = CandidateServer(answer)
    base_url = await server.start()
    try:
        settings = settings_for(
            [candidate("streamed", base_url, stream=True, model="m"), candidate("whole", base_url, model="m"),
             candidate("streamed-anthropic", base_url, provider="anthropic", stream=True)],
            source={"kind": "ndjson", "path": str(path), "dead_letter_path": str(tmp_path / "dlq.ndjson")},
            clickhouse=clickhouse_settings.model_dump(),
        )  # fmt: skip
        stats = await run_worker(settings, store=store, handle_signals=False)
    finally:
        await server.stop()
    assert (stats.consumed, stats.replayed) == (12, 12)

    columns = ", ".join(("event_id", "candidate", "production_ttft_ms", "candidate_ttft_ms", *COMPARED))
    rows = store.query_rows(f"SELECT {columns} FROM {store.database}.comparisons FINAL ORDER BY event_id, candidate")
    by = {(r[0], r[1]): dict(zip(("event_id", "candidate", "production_ttft_ms", "candidate_ttft_ms", *COMPARED), r,
                                 strict=True)) for r in rows}  # fmt: skip
    assert len(by) == 36
    for i in range(12):
        event_id = f"evt_{i}"
        expected_production = pytest.approx(100.0 + i) if i % 2 == 0 else None
        for name in ("streamed", "whole", "streamed-anthropic"):
            row = by[(event_id, name)]
            assert row["status"] == "ok", row
            assert row["production_ttft_ms"] == expected_production
        # The server sends the first token after 30 ms: a streaming candidate's TTFT is at least that.
        assert by[(event_id, "streamed")]["candidate_ttft_ms"] >= 25
        assert by[(event_id, "streamed-anthropic")]["candidate_ttft_ms"] >= 25
        assert by[(event_id, "whole")]["candidate_ttft_ms"] is None
        # Streaming changes how the answer travels, not what is compared.
        for column in COMPARED:
            assert by[(event_id, "streamed")][column] == by[(event_id, "whole")][column], (event_id, column)
    assert server.received and {r.body.get("stream") for r in server.received} == {True, None}
