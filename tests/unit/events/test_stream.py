"""Streamed answers assembled back into bodies: against the answer streamed, and against the official SDKs' own
accumulators (``openai``'s ChatCompletionStreamState, ``anthropic``'s accumulate_event) as references."""

from __future__ import annotations

import itertools
import random

import orjson
import pytest
from anthropic.lib.streaming._messages import accumulate_event
from anthropic.types import RawMessageStreamEvent
from hypothesis import given, settings
from hypothesis import strategies as st
from openai.lib.streaming.chat import ChatCompletionStreamState
from openai.types.chat import ChatCompletionChunk
from pydantic import TypeAdapter

from shadow.demo.server import Answer, RecordedToolCall, render_anthropic, render_openai
from shadow.demo.sse import anthropic_events, openai_chat_events, responses_events
from shadow.errors import ResponseFormatError
from shadow.events.models import Api
from shadow.events.output import FinishReason
from shadow.events.stream import SseDecoder, StreamAssembler
from shadow.events.wire import parse_response

REQUEST = {"model": "m-1", "messages": [{"role": "user", "content": "Where is my order 1042?"}]}

ANSWERS = {
    "text": Answer(text="Your order ships tomorrow — ça va? 日本語も", input_tokens=20, output_tokens=14),
    "json": Answer(text='{"status": "shipped", "eta_days": 2, "items": [1, 2]}', input_tokens=20, output_tokens=18),
    "tools": Answer(
        text=None,
        tool_calls=(
            RecordedToolCall("lookup_order", {"order_id": 1042, "fields": ["eta", "carrier"]}),
            RecordedToolCall("notify", {"channel": "email"}),
        ),
        finish_reason="tool_calls",
        input_tokens=30,
        output_tokens=25,
    ),
    "text_and_tool": Answer(
        text="Let me check.",
        tool_calls=(RecordedToolCall("lookup_order", {"order_id": 7}),),
        finish_reason="tool_calls",
        input_tokens=30,
        output_tokens=20,
    ),
    "length": Answer(text="A long answer cut", finish_reason="length", input_tokens=5, output_tokens=5),
}


def _stream(events) -> bytes:
    return b"".join(events)


def _assemble(api: Api, data: bytes, cuts: list[int]) -> tuple[StreamAssembler, list[int]]:
    """Feed ``data`` cut at ``cuts``; the indexes of the pieces that reported the first token."""
    assembler = StreamAssembler(api)
    firsts = []
    bounds = [0, *sorted(set(cuts)), len(data)]
    for number, (start, end) in enumerate(itertools.pairwise(bounds)):
        if assembler.feed(data[start:end]):
            firsts.append(number)
    if assembler.close():
        firsts.append(len(bounds))
    return assembler, firsts


def _same_output(api: Api, a: dict, b: dict) -> None:
    left, right = parse_response(api, a), parse_response(api, b)
    assert left == right  # raw bodies are not compared (Output.raw has compare=False)


@pytest.mark.parametrize("name", sorted(ANSWERS))
def test_openai_chat_stream_assembles_to_the_body_and_to_what_the_sdk_accumulates(name):
    body = render_openai(ANSWERS[name], REQUEST)
    data = _stream(openai_chat_events(body))
    assembler, firsts = _assemble(Api.OPENAI_CHAT, data, [])
    assert assembler.complete and assembler.error is None
    assembled = assembler.body()
    _same_output(Api.OPENAI_CHAT, assembled, body)
    assert assembled["usage"] == body["usage"]
    assert firsts == [0]

    state = ChatCompletionStreamState()
    for _, payload in SseDecoder().feed(data):
        if payload != "[DONE]":
            state.handle_chunk(ChatCompletionChunk.model_validate(orjson.loads(payload)))
    # get_final_completion() refuses a length-cut answer; the snapshot is the same accumulation.
    reference = state.current_completion_snapshot.model_dump(mode="json")
    _same_output(Api.OPENAI_CHAT, assembled, reference)


_ANTHROPIC_EVENT = TypeAdapter(RawMessageStreamEvent)


@pytest.mark.parametrize("name", sorted(ANSWERS))
def test_anthropic_stream_assembles_to_the_body_and_to_what_the_sdk_accumulates(name):
    body = render_anthropic(ANSWERS[name], REQUEST)
    data = _stream(anthropic_events(body))
    assembler, firsts = _assemble(Api.ANTHROPIC_MESSAGES, data, [])
    assert assembler.complete
    assembled = assembler.body()
    _same_output(Api.ANTHROPIC_MESSAGES, assembled, body)
    assert assembled["usage"]["output_tokens"] == body["usage"]["output_tokens"]
    assert firsts == [0]

    snapshot, buffers = None, {}
    for name, payload in SseDecoder().feed(data):
        if name == "ping":  # the SDK skips pings before accumulating
            continue
        event = _ANTHROPIC_EVENT.validate_python(orjson.loads(payload))
        snapshot = accumulate_event(event=event, current_snapshot=snapshot, json_bufs=buffers)
    _same_output(Api.ANTHROPIC_MESSAGES, assembled, snapshot.model_dump(mode="json"))


def _responses_body(answer: Answer) -> dict:
    output = []
    if answer.text:
        output.append(
            {
                "type": "message",
                "id": "msg_1",
                "role": "assistant",
                "status": "completed",
                "content": [{"type": "output_text", "text": answer.text, "annotations": []}],
            }
        )
    for i, call in enumerate(answer.tool_calls):
        output.append(
            {
                "type": "function_call",
                "id": f"fc_{i}",
                "call_id": f"call_{i}",
                "name": call.name,
                "arguments": call.arguments_text(),
                "status": "completed",
            }
        )
    return {
        "id": "resp_1",
        "object": "response",
        "created_at": 1,
        "model": "m-1",
        "status": "completed",
        "output": output,
        "usage": {"input_tokens": answer.input_tokens, "output_tokens": answer.output_tokens, "total_tokens": 1},
    }


@pytest.mark.parametrize("name", sorted(ANSWERS))
def test_responses_stream_assembles_from_the_terminal_event_or_from_the_items(name):
    body = _responses_body(ANSWERS[name])
    data = _stream(responses_events(body))
    assembler, firsts = _assemble(Api.OPENAI_RESPONSES, data, [])
    assert assembler.complete and assembler.body() == body
    assert firsts == [0]
    # A server whose terminal event carries no output: the items and deltas rebuild it.
    lines = data.split(b"\n\n")
    trimmed = [line for line in lines if b"response.completed" not in line]
    rebuilt = StreamAssembler(Api.OPENAI_RESPONSES)
    rebuilt.feed(b"\n\n".join(trimmed) + b"\n\n")
    assert not rebuilt.complete
    assert rebuilt.body()["output"] == body["output"]
    # Only the deltas (no output_item.done): text and arguments come from the deltas.
    deltas_only = [line for line in trimmed if b"output_item.done" not in line]
    partial = StreamAssembler(Api.OPENAI_RESPONSES)
    partial.feed(b"\n\n".join(deltas_only) + b"\n\n")
    texts = [part["text"] for item in partial.body()["output"] if item["type"] == "message" for part in item["content"]]
    assert "".join(texts) == (ANSWERS[name].text or "")
    arguments = [item["arguments"] for item in partial.body()["output"] if item["type"] == "function_call"]
    assert arguments == [call.arguments_text() for call in ANSWERS[name].tool_calls]


@settings(max_examples=60, deadline=None)
@given(
    name=st.sampled_from(sorted(ANSWERS)),
    api=st.sampled_from([Api.OPENAI_CHAT, Api.ANTHROPIC_MESSAGES, Api.OPENAI_RESPONSES]),
    seed=st.integers(0, 2**32),
    crlf=st.booleans(),
)
def test_any_cutting_of_the_bytes_gives_the_same_body_and_one_first_token(name, api, seed, crlf):
    """Pieces end anywhere: inside a line, between a CR and its LF, inside a multi-byte character."""
    answer = ANSWERS[name]
    body = {
        Api.OPENAI_CHAT: lambda: render_openai(answer, REQUEST),
        Api.ANTHROPIC_MESSAGES: lambda: render_anthropic(answer, REQUEST),
        Api.OPENAI_RESPONSES: lambda: _responses_body(answer),
    }[api]()
    events = {Api.OPENAI_CHAT: openai_chat_events, Api.ANTHROPIC_MESSAGES: anthropic_events}.get(api, responses_events)
    data = _stream(events(body))
    if crlf:
        data = data.replace(b"\n", b"\r\n")
    rng = random.Random(seed)
    cuts = [rng.randrange(1, len(data)) for _ in range(rng.randrange(0, 60))]
    whole, whole_firsts = _assemble(api, data, [])
    cut, cut_firsts = _assemble(api, data, cuts)
    assert cut.body() == whole.body()
    assert len(cut_firsts) == len(whole_firsts) == 1


def test_the_first_token_is_the_first_visible_output_not_the_role_or_thinking():
    chat = StreamAssembler(Api.OPENAI_CHAT)
    assert not chat.feed(b'data: {"id":"x","choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}\n\n')
    assert chat.feed(b'data: {"choices":[{"index":0,"delta":{"content":"Hi"}}]}\n\n')
    assert not chat.feed(b'data: {"choices":[{"index":0,"delta":{"content":" there"}}]}\n\n')

    anthropic = StreamAssembler(Api.ANTHROPIC_MESSAGES)
    start = {"type": "message_start", "message": {"id": "m", "type": "message", "role": "assistant", "content": []}}
    assert not anthropic.feed(b"data: " + orjson.dumps(start) + b"\n\n")
    thinking_block = {"type": "content_block_start", "index": 0, "content_block": {"type": "thinking", "thinking": ""}}
    assert not anthropic.feed(b"data: " + orjson.dumps(thinking_block) + b"\n\n")
    thought = {"type": "content_block_delta", "index": 0, "delta": {"type": "thinking_delta", "thinking": "hmm"}}
    assert not anthropic.feed(b"data: " + orjson.dumps(thought) + b"\n\n")
    text = {"type": "content_block_delta", "index": 1, "delta": {"type": "text_delta", "text": "Answer"}}
    assert anthropic.feed(b"data: " + orjson.dumps(text) + b"\n\n")
    assembled = anthropic.body()
    assert [block["type"] for block in assembled["content"]] == ["thinking", "text"]
    assert assembled["content"][0]["thinking"] == "hmm"


def test_stream_errors_and_bad_data_are_named():
    chat = StreamAssembler(Api.OPENAI_CHAT)
    chat.feed(b'data: {"error": {"message": "overloaded", "type": "server_error"}}\n\n')
    assert chat.error == {"message": "overloaded", "type": "server_error"}
    with pytest.raises(ResponseFormatError, match="held no chunk"):
        chat.body()
    with pytest.raises(ResponseFormatError, match="not JSON"):
        StreamAssembler(Api.OPENAI_CHAT).feed(b"data: {not json\n\n")
    anthropic = StreamAssembler(Api.ANTHROPIC_MESSAGES)
    anthropic.feed(b'event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"busy"}}\n\n')
    assert anthropic.error == {"type": "overloaded_error", "message": "busy"}
    with pytest.raises(ResponseFormatError, match="message_start"):
        anthropic.body()
    with pytest.raises(ResponseFormatError, match="longer than 64 bytes"):
        StreamAssembler(Api.OPENAI_CHAT, max_line_bytes=64).feed(b"data: " + b"x" * 100)


def test_a_stream_cut_short_gives_what_arrived_and_says_it_is_incomplete():
    body = render_openai(ANSWERS["text"], REQUEST)
    data = _stream(openai_chat_events(body))
    head = data[: len(data) // 2]
    assembler = StreamAssembler(Api.OPENAI_CHAT)
    assembler.feed(head)
    assert not assembler.complete
    assert body["choices"][0]["message"]["content"].startswith(assembler.body()["choices"][0]["message"]["content"])


def test_anthropic_tool_arguments_that_are_not_json_stay_visible():
    anthropic = StreamAssembler(Api.ANTHROPIC_MESSAGES)
    start = {"type": "message_start", "message": {"id": "m", "type": "message", "role": "assistant", "content": []}}
    block = {"type": "content_block_start", "index": 0, "content_block": {"type": "tool_use", "id": "t", "name": "f"}}
    broken = {"type": "content_block_delta", "index": 0, "delta": {"type": "input_json_delta", "partial_json": '{"a":'}}
    for payload in (start, block, broken):
        anthropic.feed(b"data: " + orjson.dumps(payload) + b"\n\n")
    output = parse_response(Api.ANTHROPIC_MESSAGES, anthropic.body())
    assert output.tool_calls[0].arguments == '{"a":'
    assert output.finish_reason is FinishReason.TOOL_CALLS


def test_decoding_is_linear_in_the_bytes_fed():
    """A long line arriving byte by byte is kept in one buffer, not re-scanned from its start on every piece."""
    decoder = SseDecoder()
    line = b"data: " + b"a" * 200_000
    for i in range(0, len(line), 1):
        assert decoder.feed(line[i : i + 1]) == []
    assert decoder.feed(b"\n\n") == [("", "a" * 200_000)]
