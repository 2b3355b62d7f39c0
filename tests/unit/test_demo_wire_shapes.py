"""The bundled demo sample holds all three APIs and streamed calls, in shapes the official SDKs accept."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import orjson
from openai.types.chat import ChatCompletion
from openai.types.responses import Response
from openai.types.responses.response_create_params import ResponseCreateParamsNonStreaming
from pydantic import TypeAdapter

from shadow.events.decode import decode_event
from shadow.events.models import Api

SAMPLE = Path(__file__).resolve().parents[2] / "shadow" / "demo" / "data" / "events.ndjson"
RESPONSES_REQUEST = TypeAdapter(ResponseCreateParamsNonStreaming)


def _events() -> list[dict]:
    return [orjson.loads(line) for line in SAMPLE.read_bytes().splitlines()]


def test_the_sample_has_every_api_and_streamed_calls():
    events = _events()
    assert Counter(e["api"] for e in events).keys() == {api.value for api in Api}
    streamed = [e for e in events if e.get("stream")]
    assert len(streamed) >= 100 and all(0 < e["ttft_ms"] < e["latency_ms"] for e in streamed)
    assert {e["api"] for e in streamed} == {"openai.chat.completions", "anthropic.messages"}


def test_responses_events_are_what_the_openai_sdk_sends_and_receives():
    responses = [e for e in _events() if e["api"] == "openai.responses"]
    assert len(responses) == 40
    for event in responses:
        RESPONSES_REQUEST.validate_python({**event["request"], "stream": False})
        if event["response"] is not None:
            body = Response.model_validate(event["response"])
            assert body.status in ("completed", "incomplete")
    calls = sum(item["type"] == "function_call" for e in responses if e["response"] for item in e["response"]["output"])
    assert calls >= 30  # the travel agent calls tools


def test_chat_events_are_chat_completions_and_every_event_decodes():
    for event in _events():
        if event["api"] == "openai.chat.completions" and event["response"] is not None:
            ChatCompletion.model_validate(event["response"])
        decode_event(orjson.dumps(event), max_bytes=1 << 20)
