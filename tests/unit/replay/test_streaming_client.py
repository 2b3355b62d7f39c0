"""Candidates called streaming: the request asks for a stream, the answer is assembled and compared as a whole,
and the row gets the time to first token; broken streams fail the attempt with the right kind."""

from __future__ import annotations

import asyncio

import httpx
import orjson
import pytest
from aiohttp import web

from shadow.demo.server import Answer, RecordedToolCall
from shadow.demo.sse import openai_chat_events
from shadow.events.models import MirrorEvent
from shadow.events.output import FinishReason
from shadow.replay.client import CandidateClient
from shadow.replay.result import ErrorKind
from tests.factories import anthropic_request, candidate, make_event

TOOL = RecordedToolCall("lookup_order", {"order_id": 1042})


def _event(api: str = "openai.chat.completions", text: str = "Where is my order?") -> MirrorEvent:
    request = None if api == "openai.chat.completions" else anthropic_request(text)
    return MirrorEvent.model_validate(make_event(api=api, text=text, request=request))


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
async def test_streamed_candidate_gets_the_whole_answer_and_its_time_to_first_token(
    provider, server_factory, client_factory
):
    def responder(api, request):
        return Answer(
            text="Your order ships tomorrow, carrier DHL, tracking follows by e-mail.",
            tool_calls=(TOOL,),
            finish_reason="tool_calls",
            input_tokens=40,
            output_tokens=30,
            ttft_ms=60,
            latency_ms=200,
        )

    server, base_url = await server_factory(responder)
    client = client_factory(base_url, provider=provider, stream=True)
    result = await client.replay(_event())
    assert result.ok, result.error_message
    sent = server.received[-1].body
    assert sent["stream"] is True
    if provider == "openai":
        assert sent["stream_options"] == {"include_usage": True}
    output = result.output
    assert output.text == "Your order ships tomorrow, carrier DHL, tracking follows by e-mail."
    assert [(c.name, orjson.loads(c.arguments)) for c in output.tool_calls] == [("lookup_order", {"order_id": 1042})]
    assert output.finish_reason is FinishReason.TOOL_CALLS
    assert (output.usage.input_tokens, output.usage.output_tokens) == (40, 30)
    # The server sends its first event after 60 ms and the rest over the next 140 ms (lower bounds only).
    assert result.ttft_ms is not None and result.ttft_ms >= 55
    assert result.latency_ms >= 190 and result.ttft_ms < result.latency_ms


async def test_unstreamed_candidate_has_no_ttft_and_sends_no_stream_flag(server_factory, client_factory):
    server, base_url = await server_factory(lambda api, request: Answer.text_answer("fine"))
    result = await client_factory(base_url).replay(_event())
    assert result.ok and result.ttft_ms is None
    assert "stream" not in server.received[-1].body


async def test_a_candidate_that_ignores_stream_and_answers_json_is_read_as_json(raw_server_factory, client_factory):
    async def handler(request: web.Request) -> web.Response:
        body = {
            "id": "x",
            "object": "chat.completion",
            "model": "m",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "plain"}, "finish_reason": "stop"}],
        }
        return web.json_response(body)

    base_url = await raw_server_factory(handler)
    result = await client_factory(base_url, stream=True).replay(_event())
    assert result.ok and result.output.text == "plain" and result.ttft_ms is None


def _sse_handler(events: list[bytes], *, close_early: bool = False):
    async def handler(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"content-type": "text/event-stream"})
        await response.prepare(request)
        for event in events:
            await response.write(event)
        if close_early:
            request.transport.close()
            return response
        await response.write_eof()
        return response

    return handler


def _chat_body(text: str) -> dict:
    return {
        "id": "c1",
        "object": "chat.completion",
        "created": 1,
        "model": "m",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 5, "completion_tokens": 5, "total_tokens": 10},
    }


async def test_a_stream_cut_before_its_final_event_is_a_transport_error(raw_server_factory, client_factory):
    events = list(openai_chat_events(_chat_body("a fairly long answer that is cut")))
    base_url = await raw_server_factory(_sse_handler(events[:3], close_early=True))
    result = await client_factory(base_url, stream=True).replay(_event())
    assert result.error_kind in (ErrorKind.TRANSPORT_ERROR, ErrorKind.INVALID_RESPONSE)
    assert result.output is None


async def test_a_stream_without_its_final_event_is_a_transport_error_naming_it(raw_server_factory, client_factory):
    events = [e for e in openai_chat_events(_chat_body("no done marker")) if b"[DONE]" not in e]
    base_url = await raw_server_factory(_sse_handler(events))
    result = await client_factory(base_url, stream=True).replay(_event())
    assert result.error_kind is ErrorKind.TRANSPORT_ERROR
    assert "ended before its final event" in result.error_message


async def test_an_error_event_mid_stream_fails_the_attempt_and_rate_limits_are_retriable(
    raw_server_factory, client_factory
):
    head = list(openai_chat_events(_chat_body("partial")))[:2]
    overloaded = b'data: {"error": {"type": "server_error", "message": "The server is overloaded"}}\n\n'
    base_url = await raw_server_factory(_sse_handler([*head, overloaded]))
    result = await client_factory(base_url, stream=True).replay(_event())
    assert result.error_kind is ErrorKind.HTTP_5XX and "overloaded" in result.error_message

    limited = b'event: error\ndata: {"type":"error","error":{"type":"rate_limit_error","message":"slow down"}}\n\n'
    start = b'event: message_start\ndata: {"type":"message_start","message":{"id":"m","type":"message","role":"assistant","content":[],"model":"m","usage":{"input_tokens":1,"output_tokens":1}}}\n\n'
    base_url = await raw_server_factory(_sse_handler([start, limited]))
    result = await client_factory(base_url, provider="anthropic", stream=True).replay(_event())
    assert result.error_kind is ErrorKind.RATE_LIMITED


async def test_garbage_in_a_stream_is_an_invalid_response(raw_server_factory, client_factory):
    base_url = await raw_server_factory(_sse_handler([b"data: {this is not json}\n\n"]))
    result = await client_factory(base_url, stream=True).replay(_event())
    assert result.error_kind is ErrorKind.INVALID_RESPONSE and "not JSON" in result.error_message


async def test_a_stream_over_the_size_limit_stops_at_the_limit(raw_server_factory, client_factory):
    events = list(openai_chat_events(_chat_body("x" * 200_000)))
    base_url = await raw_server_factory(_sse_handler(events))
    result = await client_factory(base_url, stream=True, max_response_bytes=64 * 1024).replay(_event())
    assert result.error_kind is ErrorKind.RESPONSE_TOO_LARGE


async def test_a_stream_that_trickles_past_the_timeout_is_a_timeout(raw_server_factory, client_factory):
    async def handler(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"content-type": "text/event-stream"})
        await response.prepare(request)
        for event in openai_chat_events(_chat_body("slow " * 50)):
            await response.write(event)
            await asyncio.sleep(0.1)
        await response.write_eof()
        return response

    base_url = await raw_server_factory(handler)
    result = await client_factory(base_url, stream=True, timeout_s=1.0).replay(_event())
    assert result.error_kind is ErrorKind.TIMEOUT
    assert result.ttft_ms is not None  # the first token came before the deadline


async def test_streaming_through_the_httpx_seam_assembles_the_same_answer():
    events = b"".join(openai_chat_events(_chat_body("through httpx")))

    def handle(request: httpx.Request) -> httpx.Response:
        assert orjson.loads(request.content)["stream"] is True
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=events)

    client = CandidateClient(
        candidate("c", "http://candidate.test/v1", stream=True), transport=httpx.MockTransport(handle)
    )
    try:
        result = await client.replay(_event())
    finally:
        await client.aclose()
    assert result.ok and result.output.text == "through httpx" and result.ttft_ms is not None
