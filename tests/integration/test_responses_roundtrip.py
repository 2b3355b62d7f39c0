"""Acceptance (issue 13): Responses API events round-trip through decode, replay and diff with the same metrics
as chat completions.

Four production calls — a plain text answer, a JSON-schema answer, tool calls with arguments, a length-truncated
answer — are written twice, once as chat completions events and once as Responses events (the same request in
each API's shape; production's answer rendered by each API's renderer from one :class:`Answer`). All eight go
through the real worker (NDJSON source, decode, replay over HTTP to the local candidate server, diff, ClickHouse
or chDB) against three candidates that answer the same: one speaking chat completions, one the Responses API,
one Anthropic messages. For every scenario and candidate, the chat row and the Responses row must agree on
every metric column: :data:`COMPARED` is every comparison column but

- identity: :data:`IDENTITY` (the event, its API, times, positions, versions);
- latency: every ``*_ms`` column and ``latency_ratio`` (wall clock);
- wire-specific: ``production_output``/``candidate_output`` (the stored outputs keep the API's raw finish
  reason and call ids), ``request_changes`` (names each API's own limit parameter), ``error_message``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from openai.types.responses import Response

from shadow.demo.server import (
    Answer,
    CandidateServer,
    RecordedToolCall,
    render_openai,
    render_responses,
    user_texts,
)
from shadow.events.models import Api
from shadow.pipeline import run_worker
from shadow.sink.rows import COMPARISON_COLUMNS
from tests.factories import WEATHER_TOOL, candidate, event_bytes, make_event, settings_for
from tests.responses_factories import FLAT_WEATHER_TOOL

pytestmark = pytest.mark.clickhouse

PRODUCTION_MODEL = "gpt-4.1-2025-04-14"
SYSTEM = "You are a support agent for an online shop."
ORDER_SCHEMA = {
    "type": "object",
    "properties": {"order_id": {"type": "string"}, "status": {"type": "string", "enum": ["pending", "shipped"]}},
    "required": ["order_id", "status"],
    "additionalProperties": False,
}

# scenario: (user text, what the request adds, production's answer, every candidate's answer)
SCENARIOS: dict[str, tuple[str, dict[str, Any], Answer, Answer]] = {
    "text": (
        "Where is my order A-1024? 我的订单在哪里?",
        {},
        Answer.text_answer("Your order A-1024 shipped on Monday and arrives Thursday.", input_tokens=61),
        Answer.text_answer("Order A-1024 left our warehouse on Monday; expect it on Thursday.", input_tokens=61),
    ),
    "json": (
        "Extract the order as JSON: 'A-1024 has shipped'",
        {"schema": ORDER_SCHEMA},
        Answer.text_answer('{"order_id": "A-1024", "status": "shipped"}', input_tokens=88),
        Answer.text_answer('{"order_id": "A-1024", "status": "sent"}', input_tokens=88),
    ),
    "tools": (
        "What's the weather in Paris and 北京?",
        {"tools": True},
        Answer(text=None, finish_reason="tool_calls", input_tokens=120, output_tokens=40,
               tool_calls=(RecordedToolCall("get_weather", {"city": "Paris"}),
                           RecordedToolCall("get_weather", {"city": "北京", "unit": "celsius"}))),
        Answer(text=None, finish_reason="tool_calls", input_tokens=120, output_tokens=44,
               tool_calls=(RecordedToolCall("get_weather", {"city": "Paris", "unit": "fahrenheit"}),
                           RecordedToolCall("get_weather", {"town": "Beijing"}))),
    ),
    "length": (
        "Explain the refund policy in full detail.",
        {"limit": 64},
        Answer(text="Refunds are accepted within thirty days of delivery when the item is", finish_reason="length",
               input_tokens=40, output_tokens=64),
        Answer(text="Refunds: within 30 days of delivery, unused, with the receipt.", input_tokens=40,
               output_tokens=20),
    ),
}  # fmt: skip

IDENTITY = {
    "event_id", "candidate", "candidate_role", "candidate_provider", "candidate_model", "production_model", "api",
    "workflow", "service", "environment", "tenant", "subject", "occurred_at", "compared_at", "config_version",
    "prompt_version", "tags", "source_position", "row_version",
}  # fmt: skip
WIRE_SPECIFIC = {"production_output", "candidate_output", "request_changes", "error_message"}
COMPARED = [
    column
    for column in COMPARISON_COLUMNS
    if column not in IDENTITY | WIRE_SPECIFIC and not column.endswith("_ms") and column != "latency_ratio"
]


def chat_request(text: str, extra: dict[str, Any]) -> dict[str, Any]:
    request: dict[str, Any] = {
        "model": PRODUCTION_MODEL,
        "messages": [{"role": "system", "content": SYSTEM}, {"role": "user", "content": text}],
        "temperature": 0.2,
    }
    if "schema" in extra:
        request["response_format"] = {
            "type": "json_schema", "json_schema": {"name": "order", "schema": extra["schema"], "strict": True}
        }  # fmt: skip
    if "tools" in extra:
        request["tools"] = [WEATHER_TOOL]
    if "limit" in extra:
        request["max_completion_tokens"] = extra["limit"]
    return request


def responses_request(text: str, extra: dict[str, Any]) -> dict[str, Any]:
    request: dict[str, Any] = {
        "model": PRODUCTION_MODEL,
        "instructions": SYSTEM,
        "input": [{"role": "user", "content": text}],
        "temperature": 0.2,
        "store": True,
    }
    if "schema" in extra:
        request["text"] = {
            "format": {"type": "json_schema", "name": "order", "schema": extra["schema"], "strict": True}
        }
    if "tools" in extra:
        request["tools"] = [FLAT_WEATHER_TOOL]
    if "limit" in extra:
        request["max_output_tokens"] = extra["limit"]
    return request


def events() -> list[dict[str, Any]]:
    made = []
    for name, (text, extra, production, _) in SCENARIOS.items():
        chat = chat_request(text, extra)
        made.append(make_event(event_id=f"chat-{name}", request=chat, response=render_openai(production, chat),
                               latency_ms=900.0))  # fmt: skip
        responses = responses_request(text, extra)
        body = render_responses(production, responses)
        Response.model_validate(body)
        made.append(make_event(event_id=f"responses-{name}", api="openai.responses", request=responses,
                               response=body, latency_ms=900.0))  # fmt: skip
    return made


def candidate_answer(api: Api, body: dict[str, Any]) -> Answer:
    texts = user_texts(api, body)
    [answer] = [answer for text, _, _, answer in SCENARIOS.values() if texts and texts[-1] == text]
    return answer


async def test_responses_events_give_the_same_metrics_as_chat_completions(
    tmp_path: Path, store, clickhouse_settings
) -> None:
    path = tmp_path / "events.ndjson"
    path.write_bytes(b"\n".join(event_bytes(e) for e in events()) + b"\n")
    server = CandidateServer(candidate_answer)
    base_url = await server.start()
    try:
        stats, rows = await _run(tmp_path, path, base_url, store, clickhouse_settings)
    finally:
        await server.stop()
    assert (stats.consumed, stats.replayed, stats.dead_lettered) == (8, 8, 0)
    assert {r.api for r in server.received} == set(Api)
    assert all(r.body["store"] is False for r in server.received if r.api is Api.OPENAI_RESPONSES)
    assert len(rows) == 24
    _check(rows)


async def _run(tmp_path: Path, path: Path, base_url: str, store: Any, clickhouse_settings: Any) -> tuple[Any, Any]:
    prices = {model: {"input_per_mtok": 2.0, "output_per_mtok": 8.0}
              for model in (PRODUCTION_MODEL, "chat-model", "responses-model", "claude-model")}  # fmt: skip
    settings = settings_for(
        [
            candidate("chat", base_url),
            candidate("responses", base_url, api="openai.responses"),
            candidate("claude", base_url, provider="anthropic"),
        ],
        source={"kind": "ndjson", "path": str(path), "dead_letter_path": str(tmp_path / "dlq.ndjson")},
        clickhouse=clickhouse_settings.model_dump(),
        prices=prices,
    )
    stats = await run_worker(settings, store=store, handle_signals=False)
    rows = {
        (r["event_id"], r["candidate"]): r
        for r in store.query_dicts(f"SELECT * FROM {store.database}.comparisons FINAL")
    }
    return stats, rows


def _check(rows: dict[tuple[str, str], dict[str, Any]]) -> None:
    assert {r["status"] for r in rows.values()} == {"ok"}, "every replay succeeded: nothing was untranslatable"
    assert {"similarity", "tool_args_match", "candidate_schema_valid", "production_finish_reason", "cost_ratio",
            "production_output_tokens", "request_context"} <= set(COMPARED)  # fmt: skip

    for name in SCENARIOS:
        for cand in ("chat", "responses", "claude"):
            chat, responses = rows[(f"chat-{name}", cand)], rows[(f"responses-{name}", cand)]
            differing = {c: (chat[c], responses[c]) for c in COMPARED if chat[c] != responses[c]}
            assert not differing, f"{name} against {cand}: chat and Responses rows differ in {differing}"
            assert responses["api"] == "openai.responses" and chat["api"] == "openai.chat.completions"

    # The metrics compared are real ones, not empty columns that agree by being empty.
    text, json_row = rows[("responses-text", "responses")], rows[("responses-json", "claude")]
    assert 0 < text["similarity"] < 1 and text["production_cost_usd"] > 0 and text["cost_ratio"] is not None
    assert json_row["production_schema_valid"] is True and json_row["candidate_schema_valid"] is False
    assert json_row["json_diff_paths"] == ["$.status"]
    tools = rows[("responses-tools", "chat")]
    assert (tools["production_tool_calls"], tools["tool_names_match"], tools["tool_args_match"]) == (2, True, False)
    assert tools["candidate_tool_schema_valid"] is False and tools["tool_diff_paths"]
    length = rows[("responses-length", "responses")]
    assert (length["production_finish_reason"], length["candidate_finish_reason"]) == ("length", "stop")
    assert length["finish_reason_changed"] is True
