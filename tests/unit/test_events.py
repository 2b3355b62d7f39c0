"""The events stage: the mirror event contract, decoding, wire formats, offsets and sampling."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from pydantic import ValidationError

from shadow.config import Settings
from shadow.errors import DecodeError, OversizedEventError, ResponseFormatError
from shadow.events.decode import decode_event
from shadow.events.models import Api, MirrorEvent, mirror_event_json_schema
from shadow.events.offsets import OffsetTracker
from shadow.events.output import FinishReason, ToolCall, Usage
from shadow.events.records import Position
from shadow.events.wire import check_request, parse_anthropic_response, parse_openai_response, parse_response
from shadow.sample import Sampler, sample_point
from tests.factories import anthropic_request, anthropic_response, make_event, openai_request, openai_response

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_FILE = ROOT / "schemas" / "mirror_event.v1.schema.json"
MAX_BYTES = 1_048_576


def encode(event: dict[str, Any]) -> bytes:
    return orjson.dumps(event)


def event_with(**changes: Any) -> dict[str, Any]:
    """A valid event with top-level fields replaced (a value of ``...`` deletes the field)."""
    event = make_event(event_id="evt_0001")
    for key, value in changes.items():
        if value is ...:
            event.pop(key)
        else:
            event[key] = value
    return event


# --- MirrorEvent --------------------------------------------------------------------------------------------------


def test_committed_json_schema_matches_the_model() -> None:
    assert SCHEMA_FILE.is_file(), "run `shadow schema > schemas/mirror_event.v1.schema.json` and commit it"
    committed = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    assert committed == mirror_event_json_schema(), "regenerate with `shadow schema` after changing MirrorEvent"


def test_json_schema_states_the_contract() -> None:
    schema = mirror_event_json_schema()
    assert set(schema["required"]) >= {
        "schema_version",
        "event_id",
        "occurred_at",
        "service",
        "environment",
        "workflow",
        "api",
        "request",
        "response",
        "latency_ms",
    }
    assert schema["$defs"]["Api"]["enum"] == ["openai.chat.completions", "anthropic.messages"]
    assert schema["properties"]["schema_version"]["const"] == 1


@pytest.mark.parametrize(
    ("changes", "check"),
    [
        ({}, lambda e: e.api is Api.OPENAI_CHAT and e.schema_version == 1),
        ({"api": "anthropic.messages", "request": anthropic_request(), "response": anthropic_response()},
         lambda e: e.api is Api.ANTHROPIC_MESSAGES),
        ({"tenant": ..., "subject": ..., "tags": ...}, lambda e: e.tenant is None and e.subject is None and e.tags == {}),
        ({"occurred_at": "2026-11-23T18:00:00+08:00"}, lambda e: e.occurred_at.utcoffset().total_seconds() == 8 * 3600),
        ({"latency_ms": 0}, lambda e: e.latency_ms == 0.0),
        ({"latency_ms": 1234.5}, lambda e: e.latency_ms == 1234.5),
        ({"producer_hostname": "pod-7"}, lambda e: not hasattr(e, "producer_hostname")),
        ({"response": None, "error": {"status": 529, "type": "overloaded_error", "message": "Overloaded"}},
         lambda e: e.response is None and e.error is not None and e.error.status == 529),
        ({"workflow": "客服_chat", "tags": {"release": "2026.11", "语言": "中文"}}, lambda e: e.tags["语言"] == "中文"),
    ],
    ids=["openai", "anthropic", "optional-fields-absent", "offset-timestamp", "zero-latency", "float-latency",
         "unknown-field-ignored", "production-error", "chinese-labels"],
)  # fmt: skip
def test_valid_events(changes: dict[str, Any], check: Callable[[MirrorEvent], bool]) -> None:
    assert check(MirrorEvent.model_validate(event_with(**changes)))


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"schema_version": True}, "schema_version"),
        ({"schema_version": 1.0}, "schema_version"),
        ({"schema_version": 2}, "schema_version"),
        ({"event_id": ""}, "event_id"),
        ({"event_id": "e" * 257}, "event_id"),
        ({"occurred_at": 1763900000}, "occurred_at"),
        ({"occurred_at": "2026-11-23T10:00:00"}, "occurred_at"),
        ({"latency_ms": "850"}, "latency_ms"),
        ({"latency_ms": -0.5}, "latency_ms"),
        ({"api": "google.gemini"}, "api"),
        ({"tags": {"attempt": 2}}, "tags"),
        ({"response": None, "error": None}, "response"),
    ],
    ids=lambda v: str(v) if isinstance(v, str) else None,
)
def test_invalid_events_name_the_field(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as info:
        MirrorEvent.model_validate(event_with(**changes))
    assert field in str(info.value)


@pytest.mark.parametrize(
    ("request_body", "response", "expected"),
    [
        ({"model": "gpt-4o-mini", "messages": []}, openai_response(model="gpt-4o-mini-2024-07-18"), "gpt-4o-mini"),
        ({"messages": []}, openai_response(model="gpt-4o-mini-2024-07-18"), "gpt-4o-mini-2024-07-18"),
        ({"model": "", "messages": []}, None, ""),
    ],
)
def test_production_model(request_body: dict[str, Any], response: dict[str, Any] | None, expected: str) -> None:
    error = None if response else {"status": 500}
    event = MirrorEvent.model_validate(event_with(request=request_body, response=response, error=error))
    assert event.production_model == expected


# --- decode_event ---------------------------------------------------------------------------------------------------


def test_decode_valid_openai_event_yields_production_output() -> None:
    body = openai_response("您好！您的订单 #A-1024 已发货。", prompt_tokens=120, completion_tokens=18)
    decoded = decode_event(encode(event_with(response=body)), max_bytes=MAX_BYTES)
    assert decoded.event.event_id == "evt_0001"
    assert decoded.production is not None
    assert decoded.production.text == "您好！您的订单 #A-1024 已发货。"
    assert decoded.production.usage == Usage(120, 18)


def test_decode_production_failure_has_no_output() -> None:
    raw = encode(event_with(response=None, error={"status": 500, "type": "server_error", "message": "boom"}))
    decoded = decode_event(raw, max_bytes=MAX_BYTES)
    assert decoded.production is None
    assert decoded.event.error is not None and decoded.event.error.type == "server_error"


def _without_event_id() -> bytes:
    return encode(event_with(event_id=...))


@pytest.mark.parametrize(
    ("raw", "kind", "needles"),
    [
        pytest.param(b"", "invalid_json", ["empty"], id="empty"),
        pytest.param(b"  \n\t", "invalid_json", ["empty"], id="whitespace"),
        pytest.param(b'{"schema_version": 1,', "invalid_json", ["JSON"], id="truncated-json"),
        pytest.param(b"\xff\xfe{}", "invalid_json", ["UTF-8"], id="non-utf8-bytes"),
        pytest.param('{"event_id": "订单\udc80"}'.encode("utf-8", "surrogatepass"), "invalid_json", ["UTF-8"],
                     id="lone-surrogate"),
        pytest.param(b"[1, 2]", "invalid_event", ["object", "list"], id="array"),
        pytest.param(b"null", "invalid_event", ["object"], id="null"),
        pytest.param(b'"hello"', "invalid_event", ["object", "str"], id="string"),
        pytest.param(_without_event_id(), "invalid_event", ["event_id", "missing"], id="missing-event-id"),
        pytest.param(encode(event_with(schema_version=True)), "invalid_event", ["schema_version", "bool"],
                     id="schema-version-true"),
        pytest.param(encode(event_with(schema_version=1.0)), "invalid_event", ["schema_version", "float"],
                     id="schema-version-float"),
        pytest.param(encode(event_with(schema_version=2)), "invalid_event", ["schema_version"], id="schema-version-2"),
        pytest.param(encode(event_with(schema_version="1")), "invalid_event", ["schema_version"],
                     id="schema-version-string"),
        pytest.param(encode(event_with(occurred_at=1763900000)), "invalid_event", ["occurred_at", "RFC 3339"],
                     id="epoch-seconds"),
        pytest.param(encode(event_with(occurred_at=1763900000123.0)), "invalid_event", ["occurred_at"],
                     id="epoch-millis"),
        pytest.param(encode(event_with(occurred_at="2026-11-23T10:00:00")), "invalid_event",
                     ["occurred_at", "timezone"], id="naive-timestamp"),
        pytest.param(encode(event_with(occurred_at="昨天下午")), "invalid_event", ["occurred_at"],
                     id="chinese-timestamp"),
        pytest.param(encode(event_with(occurred_at="9999-12-31T23:59:59Z")), "invalid_event",
                     ["occurred_at", "9999"], id="implausible-year"),
        pytest.param(encode(event_with(latency_ms="850")), "invalid_event", ["latency_ms", "850"],
                     id="latency-string"),
        pytest.param(encode(event_with(latency_ms=True)), "invalid_event", ["latency_ms"], id="latency-bool"),
        pytest.param(encode(event_with(latency_ms=-3)), "invalid_event", ["latency_ms"], id="latency-negative"),
        pytest.param(encode(event_with(api="openai.responses")), "invalid_event", ["api"], id="unknown-api"),
        pytest.param(encode(event_with(request="Hello")), "invalid_event", ["request"], id="request-string"),
        pytest.param(encode(event_with(response=None, error=None)), "invalid_event", ["response", "error"],
                     id="neither-response-nor-error"),
        pytest.param(encode(event_with(response={"choices": []})), "invalid_body", ["response.choices"],
                     id="openai-empty-choices"),
        pytest.param(encode(event_with(response={"choices": [{"index": 0, "finish_reason": "stop"}]})),
                     "invalid_body", ["response.choices[0].message"], id="openai-choice-without-message"),
        pytest.param(encode(event_with(response={**openai_response(), "usage": {"prompt_tokens": "42"}})),
                     "invalid_body", ["response.usage.prompt_tokens"], id="openai-usage-string"),
        pytest.param(encode(event_with(api="anthropic.messages", request=anthropic_request(),
                                       response={"type": "message", "content": "Hi"})),
                     "invalid_body", ["response.content"], id="anthropic-content-string"),
        pytest.param(encode(event_with(request={"model": "gpt-4o", "messages": []})), "invalid_body",
                     ["request.messages"], id="request-without-messages"),
        pytest.param(encode(event_with(request={"model": "gpt-4o", "messages": [{"content": "Hi"}]})), "invalid_body",
                     ["request.messages[0].role"], id="message-without-role"),
        pytest.param(encode(event_with(api="anthropic.messages", request=anthropic_request(system=42),
                                       response=anthropic_response())),
                     "invalid_body", ["request.system"], id="anthropic-system-number"),
        pytest.param(encode(event_with(request=openai_request(tools={"name": "x"}))), "invalid_body",
                     ["request.tools"], id="tools-object"),
    ],
)  # fmt: skip
def test_decode_rejects_with_a_reason_naming_the_field(raw: bytes, kind: str, needles: list[str]) -> None:
    with pytest.raises(DecodeError) as info:
        decode_event(raw, max_bytes=MAX_BYTES)
    assert info.value.kind == kind
    for needle in needles:
        assert needle in info.value.reason
    assert str(info.value) == info.value.reason


def test_decode_rejects_oversized_before_parsing() -> None:
    raw = b"{" + b" " * 2000 + b"not even json"
    with pytest.raises(OversizedEventError) as info:
        decode_event(raw, max_bytes=1024)
    assert info.value.kind == "oversized"
    assert "max_event_bytes" in info.value.reason and "1024" in info.value.reason


@pytest.mark.parametrize(("slack", "oversized"), [(1, False), (0, False), (-1, True)])
def test_decode_size_limit_is_inclusive(slack: int, oversized: bool) -> None:
    raw = encode(event_with())
    if oversized:
        with pytest.raises(OversizedEventError):
            decode_event(raw, max_bytes=len(raw) + slack)
    else:
        assert decode_event(raw, max_bytes=len(raw) + slack).event.event_id == "evt_0001"


def test_decode_reports_at_most_three_problems() -> None:
    raw = encode(event_with(event_id="", service="", environment="", workflow="", latency_ms="x"))
    with pytest.raises(DecodeError) as info:
        decode_event(raw, max_bytes=MAX_BYTES)
    assert "and 2 more" in info.value.reason


# --- wire: OpenAI chat.completion -----------------------------------------------------------------------------------


def _openai_with_message(message: dict[str, Any], finish_reason: str | None = "stop", **body: Any) -> dict[str, Any]:
    return {
        "id": "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT",
        "object": "chat.completion",
        "created": 1763900000,
        "model": "gpt-4o-2024-08-06",
        "choices": [{"index": 0, "message": {"role": "assistant", **message}, "logprobs": None,
                     "finish_reason": finish_reason}],
        **body,
    }  # fmt: skip


@pytest.mark.parametrize(
    ("body", "text", "calls", "finish", "raw_finish"),
    [
        pytest.param(openai_response("Your refund was issued on Monday."), "Your refund was issued on Monday.", [],
                     FinishReason.STOP, "stop", id="plain-text"),
        pytest.param(openai_response("退款已于周一处理，请留意银行通知。"), "退款已于周一处理，请留意银行通知。", [],
                     FinishReason.STOP, "stop", id="chinese-text"),
        pytest.param(openai_response("Sure — 我会 check the order 状态."), "Sure — 我会 check the order 状态.", [],
                     FinishReason.STOP, "stop", id="mixed-text"),
        pytest.param(openai_response("The answer is", finish_reason="length"), "The answer is", [],
                     FinishReason.LENGTH, "length", id="length"),
        pytest.param(openai_response("", finish_reason="content_filter"), "", [], FinishReason.CONTENT_FILTER,
                     "content_filter", id="content-filter"),
        pytest.param(_openai_with_message({"content": [{"type": "text", "text": "Hello, "},
                                                       {"type": "text", "text": "世界"}]}),
                     "Hello, 世界", [], FinishReason.STOP, "stop", id="content-parts"),
        pytest.param(openai_response(None, tool_calls=[("get_weather", {"city": "Paris"})]), "",
                     [("get_weather", '{"city":"Paris"}')], FinishReason.TOOL_CALLS, "tool_calls", id="tool-call"),
        pytest.param(openai_response(None, tool_calls=[("get_weather", {"city": "北京"}),
                                                       ("get_weather", {"city": "上海", "unit": "celsius"})]),
                     "", [("get_weather", '{"city":"北京"}'), ("get_weather", '{"city":"上海","unit":"celsius"}')],
                     FinishReason.TOOL_CALLS, "tool_calls", id="parallel-tool-calls"),
        pytest.param(openai_response(None, tool_calls=[("lookup_order", '{"order_id": "A-1024"')]), "",
                     [("lookup_order", '{"order_id": "A-1024"')], FinishReason.TOOL_CALLS, "tool_calls",
                     id="invalid-json-arguments-kept-verbatim"),
        pytest.param(_openai_with_message({"content": None, "function_call": {"name": "get_weather",
                                                                              "arguments": '{"city": "Berlin"}'}},
                                          finish_reason="function_call"),
                     "", [("get_weather", '{"city": "Berlin"}')], FinishReason.TOOL_CALLS, "function_call",
                     id="legacy-function-call"),
        pytest.param(_openai_with_message({"content": "Hi"}, finish_reason=None), "Hi", [], FinishReason.STOP, None,
                     id="null-finish"),
        pytest.param(_openai_with_message({"content": None, "tool_calls": [
            {"id": "call_2", "type": "function", "function": {"name": "get_weather", "arguments": '{"city":"Oslo"}'}}]},
                                          finish_reason=None), "",
                     [("get_weather", '{"city":"Oslo"}')], FinishReason.TOOL_CALLS, None, id="null-finish-with-calls"),
        pytest.param(_openai_with_message({"content": "Hi"}, finish_reason="insufficient_system_resource"), "Hi", [],
                     FinishReason.OTHER, "insufficient_system_resource", id="unknown-finish"),
        pytest.param(_openai_with_message({"content": None, "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": {"city": "Rome"}}}]}),
                     "", [("get_weather", '{"city":"Rome"}')], FinishReason.STOP, "stop", id="object-arguments"),
    ],
)  # fmt: skip
def test_parse_openai_response(
    body: dict[str, Any], text: str, calls: list[tuple[str, str]], finish: FinishReason, raw_finish: str | None
) -> None:
    output = parse_openai_response(body)
    assert output.text == text
    assert [(c.name, c.arguments) for c in output.tool_calls] == calls
    assert output.finish_reason is finish
    assert output.raw_finish_reason == raw_finish
    assert output.model == body["model"]
    assert output.raw is body


def test_parse_openai_keeps_tool_call_ids_and_usage() -> None:
    body = openai_response(None, tool_calls=[("a", {}), ("b", {})], prompt_tokens=321, completion_tokens=45)
    output = parse_openai_response(body)
    ids = [call["id"] for call in body["choices"][0]["message"]["tool_calls"]]
    assert [c.id for c in output.tool_calls] == ids
    assert output.usage == Usage(321, 45)


@pytest.mark.parametrize(
    ("refusal", "expected"),
    [("I'm sorry, I can't help with that.", "I'm sorry, I can't help with that."), ("抱歉，我无法协助此请求。", "抱歉，我无法协助此请求。"),
     (None, None), ("", None)],
)  # fmt: skip
def test_parse_openai_refusal(refusal: str | None, expected: str | None) -> None:
    output = parse_openai_response(openai_response(None, refusal=refusal))
    assert output.refusal == expected
    assert output.text == ""


@pytest.mark.parametrize(
    ("usage", "expected"),
    [
        ({"prompt_tokens": 10, "completion_tokens": 2, "total_tokens": 12}, Usage(10, 2)),
        ({"prompt_tokens": 10}, Usage(10, None)),
        (None, Usage(None, None)),
        ({"prompt_tokens": 10.0, "completion_tokens": 3.0}, Usage(10, 3)),
    ],
)
def test_parse_openai_usage(usage: dict[str, Any] | None, expected: Usage) -> None:
    body = _openai_with_message({"content": "ok"})
    if usage is not None:
        body["usage"] = usage
    assert parse_openai_response(body).usage == expected


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        pytest.param([], "JSON object", id="array-body"),
        pytest.param({"object": "chat.completion", "choices": []}, "response.choices", id="empty-choices"),
        pytest.param({"choices": {"0": {}}}, "response.choices", id="choices-object"),
        pytest.param({"choices": [{"index": 0, "text": "legacy completion"}]}, "response.choices[0].message",
                     id="legacy-completion-choice"),
        pytest.param(_openai_with_message({"content": 42}), "response.choices[0].message.content", id="content-number"),
        pytest.param(_openai_with_message({"content": ["Hello"]}), "response.choices[0].message.content[0]",
                     id="content-part-string"),
        pytest.param(_openai_with_message({"content": None, "tool_calls": {"id": "x"}}),
                     "response.choices[0].message.tool_calls", id="tool-calls-object"),
        pytest.param(_openai_with_message({"content": None, "tool_calls": [{"id": "call_1", "type": "function",
                                                                            "function": {"arguments": "{}"}}]}),
                     "response.choices[0].message.tool_calls[0].function.name", id="tool-call-without-name"),
        pytest.param(_openai_with_message({"content": "ok"}, usage=[1, 2]), "response.usage", id="usage-array"),
        pytest.param(_openai_with_message({"content": "ok"}, usage={"prompt_tokens": "12"}),
                     "response.usage.prompt_tokens", id="usage-string"),
        pytest.param(_openai_with_message({"content": "ok"}, usage={"prompt_tokens": 1, "completion_tokens": True}),
                     "response.usage.completion_tokens", id="usage-bool"),
        pytest.param({"error": {"message": "Rate limit reached for gpt-4o", "type": "requests", "code": "rate_limit_exceeded"}},
                     "error body", id="error-body"),
    ],
)  # fmt: skip
def test_parse_openai_malformed_names_the_field(body: Any, needle: str) -> None:
    with pytest.raises(ResponseFormatError) as info:
        parse_openai_response(body)
    assert needle in str(info.value)


def test_openai_error_body_keeps_the_provider_message() -> None:
    body = {
        "error": {
            "message": "您的账户余额不足",
            "type": "insufficient_quota",
            "param": None,
            "code": "insufficient_quota",
        }
    }
    with pytest.raises(ResponseFormatError, match="您的账户余额不足"):
        parse_response(Api.OPENAI_CHAT, body)


# --- wire: Anthropic message ----------------------------------------------------------------------------------------


def _anthropic_with(content: list[dict[str, Any]], stop_reason: str | None = "end_turn", **body: Any) -> dict[str, Any]:
    return {
        "id": "msg_01XFDUDYJgAACzvnptvVoYEL",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-5-20250929",
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": {"input_tokens": 25, "output_tokens": 14},
        **body,
    }


@pytest.mark.parametrize(
    ("body", "text", "calls", "finish"),
    [
        pytest.param(anthropic_response("Your parcel ships tomorrow."), "Your parcel ships tomorrow.", [],
                     FinishReason.STOP, id="text"),
        pytest.param(anthropic_response("您的包裹明天发货。"), "您的包裹明天发货。", [], FinishReason.STOP, id="chinese"),
        pytest.param(_anthropic_with([{"type": "text", "text": "First paragraph."},
                                      {"type": "text", "text": "第二段。"}]),
                     "First paragraph.\n第二段。", [], FinishReason.STOP, id="two-text-blocks"),
        pytest.param(anthropic_response("The capital of France is", stop_reason="max_tokens"),
                     "The capital of France is", [], FinishReason.LENGTH, id="max-tokens"),
        pytest.param(anthropic_response("Done", stop_reason="stop_sequence"), "Done", [], FinishReason.STOP,
                     id="stop-sequence"),
        pytest.param(_anthropic_with([], stop_reason="refusal"), "", [], FinishReason.CONTENT_FILTER, id="refusal"),
        pytest.param(anthropic_response(None, tool_uses=[("get_weather", {"city": "Tokyo"})]), "",
                     [("get_weather", '{"city":"Tokyo"}')], FinishReason.TOOL_CALLS, id="tool-use"),
        pytest.param(anthropic_response(None, tool_uses=[("get_weather", {"city": "東京"}),
                                                         ("get_time", {"timezone": "Asia/Tokyo"})]),
                     "", [("get_weather", '{"city":"東京"}'), ("get_time", '{"timezone":"Asia/Tokyo"}')],
                     FinishReason.TOOL_CALLS, id="two-tool-uses"),
        pytest.param(anthropic_response("I'll check the weather for you.", tool_uses=[("get_weather", {"city": "Paris"})]),
                     "I'll check the weather for you.", [("get_weather", '{"city":"Paris"}')],
                     FinishReason.TOOL_CALLS, id="text-before-tool-use"),
        pytest.param(_anthropic_with([{"type": "thinking", "thinking": "The user wants…", "signature": "EqQB"},
                                      {"type": "text", "text": "42"}]),
                     "42", [], FinishReason.STOP, id="thinking-block-ignored"),
        pytest.param(_anthropic_with([{"type": "text", "text": "Hi"}], stop_reason=None), "Hi", [], FinishReason.STOP,
                     id="null-stop-reason"),
        pytest.param(_anthropic_with([{"type": "text", "text": "Hi"}], stop_reason="pause_turn"), "Hi", [],
                     FinishReason.OTHER, id="pause-turn"),
    ],
)  # fmt: skip
def test_parse_anthropic_response(
    body: dict[str, Any], text: str, calls: list[tuple[str, str]], finish: FinishReason
) -> None:
    output = parse_anthropic_response(body)
    assert output.text == text
    assert [(c.name, c.arguments) for c in output.tool_calls] == calls
    assert output.finish_reason is finish
    assert output.raw_finish_reason == body["stop_reason"]
    assert output.model == body["model"]


def test_parse_anthropic_keeps_ids_and_usage() -> None:
    body = anthropic_response(None, tool_uses=[("a", {"x": 1}), ("b", {})], input_tokens=1500, output_tokens=77)
    output = parse_anthropic_response(body)
    assert [c.id for c in output.tool_calls] == [block["id"] for block in body["content"]]
    assert output.tool_calls[1] == ToolCall("b", "{}", body["content"][1]["id"])
    assert output.usage == Usage(1500, 77)


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        pytest.param("Hello", "JSON object", id="string-body"),
        pytest.param({**_anthropic_with([]), "content": "Hello"}, "response.content", id="content-string"),
        pytest.param({"type": "message", "role": "assistant"}, "response.content", id="content-missing"),
        pytest.param(_anthropic_with(["Hello"]), "response.content[0]", id="block-string"),
        pytest.param(_anthropic_with([{"type": "text", "text": "ok"}, {"type": "text", "text": None}]),
                     "response.content[1].text", id="text-null"),
        pytest.param(_anthropic_with([{"type": "tool_use", "id": "toolu_1", "input": {}}]), "response.content[0].name",
                     id="tool-use-without-name"),
        pytest.param(_anthropic_with([{"type": "text", "text": "ok"}], usage="25/14"), "response.usage",
                     id="usage-string"),
        pytest.param(_anthropic_with([{"type": "text", "text": "ok"}], usage={"input_tokens": "25"}),
                     "response.usage.input_tokens", id="input-tokens-string"),
        pytest.param({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}},
                     "overloaded_error", id="error-body"),
    ],
)  # fmt: skip
def test_parse_anthropic_malformed_names_the_field(body: Any, needle: str) -> None:
    with pytest.raises(ResponseFormatError) as info:
        parse_response(Api.ANTHROPIC_MESSAGES, body)
    assert needle in str(info.value)


@pytest.mark.parametrize(
    ("api", "request_body", "needle"),
    [
        (Api.OPENAI_CHAT, {"model": "gpt-4o"}, "request.messages"),
        (Api.OPENAI_CHAT, {"messages": "Hello"}, "request.messages"),
        (Api.OPENAI_CHAT, {"messages": [{"role": "user", "content": "Hi"}, "Hello"]}, "request.messages[1].role"),
        (Api.OPENAI_CHAT, openai_request(tools="get_weather"), "request.tools"),
        (Api.ANTHROPIC_MESSAGES, anthropic_request(system={"text": "You are"}), "request.system"),
    ],
)
def test_check_request_names_the_field(api: Api, request_body: dict[str, Any], needle: str) -> None:
    with pytest.raises(ResponseFormatError) as info:
        check_request(api, request_body)
    assert needle in str(info.value)


@pytest.mark.parametrize(
    ("api", "request_body"),
    [
        (Api.OPENAI_CHAT, openai_request("你好，我的订单在哪里？")),
        (Api.ANTHROPIC_MESSAGES, anthropic_request(system=[{"type": "text", "text": "You are helpful."}])),
        (Api.OPENAI_CHAT, {"messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "u"}]}),
    ],
)
def test_check_request_accepts_real_requests(api: Api, request_body: dict[str, Any]) -> None:
    check_request(api, request_body)  # raises on failure


# --- OffsetTracker --------------------------------------------------------------------------------------------------

TP = ("llm.mirror.v1", 0)


def at(offset: int, generation: int, partition: int = 0) -> Position:
    return Position("kafka", TP[0], partition, offset, generation)


@pytest.fixture
def tracker_factory() -> Callable[..., tuple[OffsetTracker, int]]:
    def make(offsets: range = range(10, 15)) -> tuple[OffsetTracker, int]:
        tracker = OffsetTracker()
        generation = tracker.assign(TP)
        for offset in offsets:
            tracker.track(at(offset, generation))
        return tracker, generation

    return make


@pytest.fixture
def tracker(tracker_factory: Callable[..., tuple[OffsetTracker, int]]) -> tuple[OffsetTracker, int]:
    return tracker_factory()


@pytest.mark.parametrize(
    ("finished", "commit_point"),
    [
        ([], None),
        ([11, 12], None),
        ([10], 11),
        ([12, 10], 11),
        ([11, 10], 12),
        ([13, 12, 11, 10], 14),
        ([14, 13, 12, 11, 10], 15),
        ([10, 11, 12, 13, 14], 15),
        ([10, 12, 14], 11),
    ],
)
def test_commit_point_is_lowest_unfinished(
    tracker: tuple[OffsetTracker, int], finished: list[int], commit_point: int | None
) -> None:
    offsets, generation = tracker
    for offset in finished:
        offsets.finish(at(offset, generation))
    expected = {} if commit_point is None else {TP: commit_point}
    assert offsets.commit_points() == expected
    assert offsets.in_flight() == 5 - (0 if commit_point is None else commit_point - 10)


def test_to_commit_reports_only_moved_points(tracker: tuple[OffsetTracker, int]) -> None:
    offsets, generation = tracker
    offsets.finish(at(10, generation))
    assert offsets.to_commit() == {TP: 11}
    offsets.mark_committed({TP: 11})
    assert offsets.to_commit() == {}
    offsets.finish(at(12, generation))
    assert offsets.to_commit() == {}
    offsets.finish(at(11, generation))
    assert offsets.to_commit() == {TP: 13}
    assert offsets.commit_points() == {TP: 13}


def test_partitions_are_independent() -> None:
    offsets = OffsetTracker()
    other = ("llm.mirror.v1", 1)
    g0, g1 = offsets.assign(TP), offsets.assign(other)
    for offset in (0, 1):
        offsets.track(at(offset, g0, 0))
        offsets.track(at(offset, g1, 1))
    offsets.finish(at(1, g0, 0))
    offsets.finish(at(0, g1, 1))
    assert offsets.to_commit() == {other: 1}
    assert offsets.commit_points([TP]) == {}
    assert offsets.in_flight() == 3


def test_revoked_partition_ignores_late_completions(tracker: tuple[OffsetTracker, int]) -> None:
    offsets, old = tracker
    offsets.revoke(TP)
    offsets.finish(at(10, old))
    assert offsets.to_commit() == {}
    assert offsets.in_flight() == 0


def test_reassigned_partition_ignores_completions_of_the_old_generation(tracker: tuple[OffsetTracker, int]) -> None:
    offsets, old = tracker
    offsets.finish(at(10, old))
    offsets.revoke(TP)
    new = offsets.assign(TP)
    assert new != old
    # The new owner starts again from the committed offset 11.
    for offset in (11, 12, 13):
        offsets.track(at(offset, new))
    offsets.track(at(20, old))  # a stale arrival is not tracked
    for offset in (11, 12, 13):
        offsets.finish(at(offset, old))  # late completions from before the revoke
    assert offsets.to_commit() == {}
    assert offsets.in_flight() == 3
    offsets.finish(at(11, new))
    assert offsets.to_commit() == {TP: 12}


def test_generation_assigns_unknown_partitions() -> None:
    offsets = OffsetTracker()
    first = offsets.generation(TP)
    assert offsets.generation(TP) == first
    offsets.revoke(TP)
    assert offsets.generation(TP) > first


def test_mark_committed_ignores_unknown_partitions(tracker: tuple[OffsetTracker, int]) -> None:
    offsets, generation = tracker
    offsets.mark_committed({("other.topic", 3): 99})
    offsets.finish(at(10, generation))
    assert offsets.to_commit() == {TP: 11}


# --- Sampler --------------------------------------------------------------------------------------------------------


@pytest.fixture
def sampler_factory() -> Callable[..., Sampler]:
    def make(default_rate: float = 1.0, salt: str = "", **workflow_rates: float) -> Sampler:
        settings = Settings.model_validate(
            {
                "sampling": {"default_rate": default_rate, "salt": salt},
                "workflows": {name: {"sample_rate": rate} for name, rate in workflow_rates.items()},
            }
        )
        return Sampler(settings)

    return make


@pytest.fixture
def base_event() -> MirrorEvent:
    return MirrorEvent.model_validate(make_event(event_id="evt_base", workflow="support_chat"))


def events_for(base: MirrorEvent, keys: range | list[str], *, by: str = "subject") -> list[MirrorEvent]:
    if by == "subject":
        return [base.model_copy(update={"subject": f"conv_{k}", "event_id": f"evt_{k}"}) for k in keys]
    return [base.model_copy(update={"subject": None, "event_id": f"evt_{k}"}) for k in keys]


@pytest.mark.parametrize(("rate", "expected"), [(0.0, 0), (1.0, 500)])
def test_rate_zero_and_one(
    sampler_factory: Callable[..., Sampler], base_event: MirrorEvent, rate: float, expected: int
) -> None:
    sampler = sampler_factory(support_chat=rate)
    assert sum(sampler.sampled(e) for e in events_for(base_event, range(500))) == expected


def test_workflow_rate_overrides_default(sampler_factory: Callable[..., Sampler], base_event: MirrorEvent) -> None:
    sampler = sampler_factory(default_rate=0.0, support_chat=1.0)
    assert sampler.rate("support_chat") == 1.0
    assert sampler.rate("checkout_assistant") == 0.0
    other = base_event.model_copy(update={"workflow": "checkout_assistant"})
    assert sampler.sampled(base_event) is True
    assert sampler.sampled(other) is False


def test_sticky_by_subject(sampler_factory: Callable[..., Sampler], base_event: MirrorEvent) -> None:
    sampler = sampler_factory(support_chat=0.5)
    decisions = set()
    for conversation in ["conv_alice", "会话_张三", "conv_mixed_李四_bob", *(f"conv_{i}" for i in range(40))]:
        turns = [base_event.model_copy(update={"subject": conversation, "event_id": f"evt_{conversation}_{turn}"})
                 for turn in range(6)]  # fmt: skip
        outcomes = {sampler.sampled(turn) for turn in turns}
        assert len(outcomes) == 1, f"conversation {conversation} is split across the sample"
        decisions |= outcomes
    assert decisions == {True, False}


def test_falls_back_to_event_id(sampler_factory: Callable[..., Sampler], base_event: MirrorEvent) -> None:
    sampler = sampler_factory(support_chat=0.5)
    without_subject = events_for(base_event, range(200), by="event_id")
    outcomes = [sampler.sampled(e) for e in without_subject]
    assert outcomes == [sample_point("", "support_chat", e.event_id) < 0.5 for e in without_subject]
    assert 0 < sum(outcomes) < 200
    # The same event decoded twice (an at-least-once redelivery) gets the same decision.
    assert [sampler.sampled(e.model_copy()) for e in without_subject] == outcomes


@pytest.mark.parametrize("rate", [0.01, 0.1, 0.25, 0.5, 0.9])
def test_rate_is_approximate_over_10k_keys(
    sampler_factory: Callable[..., Sampler], base_event: MirrorEvent, rate: float
) -> None:
    sampler = sampler_factory(support_chat=rate)
    n = 10_000
    hits = sum(sampler.sampled(e) for e in events_for(base_event, range(n)))
    sigma = (n * rate * (1 - rate)) ** 0.5
    assert abs(hits - n * rate) <= 5 * sigma + 1


def test_raising_the_rate_only_adds_conversations(
    sampler_factory: Callable[..., Sampler], base_event: MirrorEvent
) -> None:
    events = events_for(base_event, range(2000))
    low_sampler, high_sampler = sampler_factory(support_chat=0.2), sampler_factory(support_chat=0.6)
    low = {e.subject for e in events if low_sampler.sampled(e)}
    high = {e.subject for e in events if high_sampler.sampled(e)}
    assert low < high


def test_salt_changes_the_sample(sampler_factory: Callable[..., Sampler], base_event: MirrorEvent) -> None:
    events = events_for(base_event, range(2000))
    first_sampler = sampler_factory(support_chat=0.5, salt="2026-q4")
    second_sampler = sampler_factory(support_chat=0.5, salt="2027-q1")
    first = {e.subject for e in events if first_sampler.sampled(e)}
    second = {e.subject for e in events if second_sampler.sampled(e)}
    assert abs(len(first) - len(second)) < 200
    overlap = len(first & second) / len(first)
    assert 0.35 < overlap < 0.65  # independent draws overlap by about the rate


def test_sample_point_is_stable_and_in_unit_interval() -> None:
    points = [sample_point("salt", "support_chat", f"conv_{i}") for i in range(1000)]
    assert all(0.0 <= p < 1.0 for p in points)
    assert points == [sample_point("salt", "support_chat", f"conv_{i}") for i in range(1000)]
    assert sample_point("salt", "support_chat", "k") != sample_point("salt", "refund_flow", "k")
