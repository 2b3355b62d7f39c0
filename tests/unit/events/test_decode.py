"""Decoding raw bytes into a MirrorEvent and production Output, with a reason naming the field on failure."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from shadow.errors import DecodeError, OversizedEventError
from shadow.events.decode import decode_event
from shadow.events.output import Usage
from tests.factories import anthropic_request, anthropic_response, make_event, openai_request, openai_response
from tests.unit.events.values import event_with

MAX_BYTES = 1_048_576


def encode(event: dict[str, Any]) -> bytes:
    return orjson.dumps(event)


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
        pytest.param(encode(event_with(api="openai.assistants")), "invalid_event", ["api"], id="unknown-api"),
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


@pytest.mark.parametrize("depth", [255, 300, 1000])
def test_a_rejected_value_nested_deeper_than_orjson_writes_is_still_named(depth: int) -> None:
    """orjson reads 1,024 levels but writes 254: quoting such a value in the reason must not fail
    (it raised orjson's TypeError, an internal error naming no field)."""
    event = make_event()
    raw = orjson.dumps({**event, "tags": "__deep__"}).replace(b'"__deep__"', b"[" * depth + b"]" * depth)
    with pytest.raises(DecodeError) as caught:
        decode_event(raw, max_bytes=1 << 20)
    assert caught.value.kind == "invalid_event"
    assert "field 'tags'" in caught.value.reason and "got list" in caught.value.reason
