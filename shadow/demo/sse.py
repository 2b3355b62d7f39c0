"""Stream a rendered answer the way each provider streams it (server-sent events), for the local candidate server.

Each function takes the final, unstreamed body the server would answer with and yields the SSE events
(as bytes) that carry the same answer: texts and tool-call arguments cut into small deltas, usage and
the finish reason where each provider puts them. The official ``openai`` and ``anthropic`` SDKs read
these streams (their tests check it), and :class:`shadow.events.stream.StreamAssembler` turns them back
into the body.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson

from shadow.events.models import Api

DELTA_CHARS = 8
"""Characters per text or argument delta: small, so a stream has many pieces, as real ones do."""


def _pieces(text: str, size: int = DELTA_CHARS) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


def _data(payload: Any, event: str | None = None) -> bytes:
    head = f"event: {event}\n".encode() if event else b""
    return head + b"data: " + orjson.dumps(payload) + b"\n\n"


def stream_events(api: Api, body: dict[str, Any], *, include_usage: bool = True) -> Iterator[bytes]:
    """The SSE events that stream ``body`` (an answer of ``api``), in order."""
    if api is Api.OPENAI_CHAT:
        return openai_chat_events(body, include_usage=include_usage)
    if api is Api.ANTHROPIC_MESSAGES:
        return anthropic_events(body)
    return responses_events(body)


def openai_chat_events(body: dict[str, Any], *, include_usage: bool = True) -> Iterator[bytes]:
    """``chat.completion.chunk`` objects, then ``data: [DONE]`` (usage in a last chunk when asked for)."""
    head = {key: body.get(key) for key in ("id", "created", "model")}
    head["object"] = "chat.completion.chunk"
    choice = body["choices"][0]
    message = choice["message"]

    def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
        return _data({**head, "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]})

    yield chunk({"role": "assistant", "content": ""})
    for piece in _pieces(message.get("content") or "") if message.get("content") else ():
        yield chunk({"content": piece})
    if message.get("refusal"):
        for piece in _pieces(message["refusal"]):
            yield chunk({"refusal": piece})
    for index, call in enumerate(message.get("tool_calls") or ()):
        function = call["function"]
        start = {"index": index, "id": call["id"], "type": "function", "function": {"name": function["name"]}}
        yield chunk({"tool_calls": [{**start, "function": {**start["function"], "arguments": ""}}]})
        for piece in _pieces(function.get("arguments") or ""):
            yield chunk({"tool_calls": [{"index": index, "function": {"arguments": piece}}]})
    yield chunk({}, choice.get("finish_reason"))
    if include_usage and body.get("usage") is not None:
        yield _data({**head, "choices": [], "usage": body["usage"]})
    yield b"data: [DONE]\n\n"


def anthropic_events(body: dict[str, Any]) -> Iterator[bytes]:
    """``message_start``, each content block's start, deltas and stop, ``message_delta``, ``message_stop``."""
    usage = body.get("usage") or {}
    start = {key: value for key, value in body.items() if key not in ("content", "stop_reason", "stop_sequence")}
    start.update(content=[], stop_reason=None, stop_sequence=None, usage={**usage, "output_tokens": 1})
    yield _data({"type": "message_start", "message": start}, "message_start")
    yield _data({"type": "ping"}, "ping")
    for index, block in enumerate(body.get("content") or ()):
        kind = block.get("type")
        if kind == "text":
            yield _data(
                {"type": "content_block_start", "index": index, "content_block": {"type": "text", "text": ""}},
                "content_block_start",
            )
            for piece in _pieces(block.get("text") or ""):
                delta = {"type": "text_delta", "text": piece}
                yield _data({"type": "content_block_delta", "index": index, "delta": delta}, "content_block_delta")
        elif kind == "tool_use":
            opened = {"type": "tool_use", "id": block["id"], "name": block["name"], "input": {}}
            yield _data({"type": "content_block_start", "index": index, "content_block": opened}, "content_block_start")
            arguments = orjson.dumps(block.get("input") or {}).decode()
            for piece in _pieces(arguments):
                delta = {"type": "input_json_delta", "partial_json": piece}
                yield _data({"type": "content_block_delta", "index": index, "delta": delta}, "content_block_delta")
        else:
            continue
        yield _data({"type": "content_block_stop", "index": index}, "content_block_stop")
    stop = {"stop_reason": body.get("stop_reason"), "stop_sequence": body.get("stop_sequence")}
    yield _data(
        {"type": "message_delta", "delta": stop, "usage": {"output_tokens": usage.get("output_tokens", 0)}},
        "message_delta",
    )
    yield _data({"type": "message_stop"}, "message_stop")


def responses_events(body: dict[str, Any]) -> Iterator[bytes]:
    """Responses API events: created, each output item added, its deltas and done, then completed (or incomplete)."""
    sequence = 0

    def event(kind: str, **fields: Any) -> bytes:
        nonlocal sequence
        sequence += 1
        return _data({"type": kind, "sequence_number": sequence, **fields}, kind)

    pending = {**body, "status": "in_progress", "output": [], "usage": None, "incomplete_details": None}
    yield event("response.created", response=pending)
    yield event("response.in_progress", response=pending)
    for index, item in enumerate(body.get("output") or ()):
        kind = item.get("type")
        if kind == "message":
            yield event("response.output_item.added", output_index=index, item={**item, "content": []})
            for part_index, part in enumerate(item.get("content") or ()):
                key = "text" if part.get("type") == "output_text" else "refusal"
                empty = {**part, key: ""}
                common = {"item_id": item.get("id"), "output_index": index, "content_index": part_index}
                yield event("response.content_part.added", **common, part=empty)
                delta_kind = "response.output_text.delta" if key == "text" else "response.refusal.delta"
                for piece in _pieces(part.get(key) or ""):
                    extra: dict[str, Any] = {"logprobs": []} if key == "text" else {}
                    yield event(delta_kind, **common, delta=piece, **extra)
                done_kind = "response.output_text.done" if key == "text" else "response.refusal.done"
                done_extra: dict[str, Any] = {"logprobs": []} if key == "text" else {}
                yield event(done_kind, **common, **{key: part.get(key) or ""}, **done_extra)
                yield event("response.content_part.done", **common, part=part)
        elif kind == "function_call":
            yield event("response.output_item.added", output_index=index, item={**item, "arguments": ""})
            for piece in _pieces(item.get("arguments") or ""):
                yield event(
                    "response.function_call_arguments.delta", item_id=item.get("id"), output_index=index, delta=piece
                )
            yield event(
                "response.function_call_arguments.done",
                item_id=item.get("id"),
                output_index=index,
                arguments=item.get("arguments") or "",
                name=item.get("name"),
            )
        else:
            yield event("response.output_item.added", output_index=index, item=item)
        yield event("response.output_item.done", output_index=index, item=item)
    terminal = "response.incomplete" if body.get("status") == "incomplete" else "response.completed"
    yield event(terminal, response=body)
