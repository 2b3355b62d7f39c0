"""Streamed answers (server-sent events) assembled into the body the same call returns unstreamed.

Production services stream most answers, and a candidate may be called streaming to measure its time
to first token. Both ends need one thing: the chunks, read as they arrive, turned into the final body
of the API (an OpenAI ``chat.completion``, an Anthropic ``message``, a Responses ``response``), which the
parsers in :mod:`shadow.events.wire` then read like any other answer; and the moment the first token
arrived.

:class:`StreamAssembler` is fed the raw bytes in whatever pieces the network delivers. The work is
linear in the bytes fed: lines are found in each new piece only, texts and argument fragments are
collected as lists and joined once, and each event's JSON is parsed once. A line (one event's data)
longer than ``max_line_bytes`` fails the stream instead of growing without bound; the caller bounds the
whole stream (the worker's ``max_response_bytes``, the emitter's capture cap).

The *first token* is the first visible output: a text or refusal delta that is not empty, or a tool
call (its name or an argument fragment). Reasoning (thinking) deltas do not count: a user sees nothing
while a model thinks.
"""

from __future__ import annotations

from typing import Any

import orjson

from shadow.errors import ResponseFormatError
from shadow.events.models import Api

MAX_LINE_BYTES = 16 * 1024 * 1024
"""The longest line (one event's data) a stream may hold before it is refused."""


class SseDecoder:
    """Server-sent events from bytes in arbitrary pieces: ``(event name, data)`` per complete event.

    Follows the HTML living standard's parsing: lines end at CRLF, LF or CR; ``data:`` lines of one
    event are joined with a newline; a line starting with ``:`` is a comment; an empty line ends an
    event. Only ``event`` and ``data`` fields matter here (``id`` and ``retry`` are ignored).
    """

    __slots__ = ("_data", "_event", "_max_line", "_pending", "_skip_lf")

    def __init__(self, max_line_bytes: int = MAX_LINE_BYTES) -> None:
        self._pending = bytearray()
        self._event = ""
        self._data: list[str] = []
        self._skip_lf = False
        self._max_line = max_line_bytes

    def feed(self, chunk: bytes) -> list[tuple[str, str]]:
        """The events completed by ``chunk``."""
        events: list[tuple[str, str]] = []
        start = 0
        size = len(chunk)
        if self._skip_lf and size and chunk[0] == 0x0A:
            start = 1  # the LF of a CRLF split across two pieces
        self._skip_lf = False
        while start < size:
            lf = chunk.find(b"\n", start)
            cr = chunk.find(b"\r", start, lf if lf >= 0 else size)
            end = cr if cr >= 0 else lf
            if end < 0:
                self._pending += chunk[start:]
                if len(self._pending) > self._max_line:
                    raise ResponseFormatError(f"a stream line is longer than {self._max_line} bytes")
                break
            if self._pending:
                self._pending += chunk[start:end]
                line = bytes(self._pending)
                self._pending.clear()
            else:
                line = chunk[start:end]
            if len(line) > self._max_line:
                raise ResponseFormatError(f"a stream line is longer than {self._max_line} bytes")
            start = end + 1
            if end == cr:
                if start < size and chunk[start] == 0x0A:
                    start += 1
                elif start >= size:
                    self._skip_lf = True
            self._line(line, events)
        return events

    def close(self) -> list[tuple[str, str]]:
        """Events a stream without a final blank line leaves (an unterminated last line counts as one)."""
        events: list[tuple[str, str]] = []
        if self._pending:
            self._line(bytes(self._pending), events)
            self._pending.clear()
        self._line(b"", events)
        return events

    def _line(self, line: bytes, events: list[tuple[str, str]]) -> None:
        if not line:
            if self._data:
                events.append((self._event, "\n".join(self._data)))
            self._event, self._data = "", []
            return
        if line[:1] == b":":
            return
        colon = line.find(b":")
        if colon < 0:
            name, value = line, b""
        else:
            name, value = line[:colon], line[colon + 1 :]
            if value[:1] == b" ":
                value = value[1:]
        if name == b"data":
            self._data.append(value.decode("utf-8", errors="replace"))
        elif name == b"event":
            self._event = value.decode("utf-8", errors="replace")


def _object(data: str, where: str) -> dict[str, Any]:
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise ResponseFormatError(f"{where}: an event's data is not JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise ResponseFormatError(f"{where}: an event's data must be a JSON object, got {type(value).__name__}")
    return value


def _int_key(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 1_000_000 else None


class _Assembly:
    """One API's assembly: ``event`` consumes one decoded event, returning whether it carried the first token."""

    complete = False
    error: dict[str, Any] | None = None

    def event(self, name: str, data: str) -> bool:  # pragma: no cover - overridden
        raise NotImplementedError

    def body(self) -> dict[str, Any]:  # pragma: no cover - overridden
        raise NotImplementedError


class _ChatAssembly(_Assembly):
    """OpenAI chat completions: ``chat.completion.chunk`` objects, then ``[DONE]``; choice 0 is kept."""

    def __init__(self) -> None:
        self.head: dict[str, Any] = {}
        self.role = "assistant"
        self.texts: list[str] = []
        self.refusals: list[str] = []
        self.calls: dict[int, dict[str, Any]] = {}
        self.arguments: dict[int, list[str]] = {}
        self.finish: Any = None
        self.usage: Any = None
        self.seen = False

    def event(self, name: str, data: str) -> bool:
        if data.strip() == "[DONE]":
            self.complete = True
            return False
        chunk = _object(data, "openai.chat.completions stream")
        if "error" in chunk and "choices" not in chunk:
            self.error = chunk["error"] if isinstance(chunk["error"], dict) else {"message": str(chunk["error"])}
            return False
        self.seen = True
        for key in ("id", "created", "model", "system_fingerprint", "service_tier"):
            if key in chunk and key not in self.head:
                self.head[key] = chunk[key]
        if isinstance(chunk.get("usage"), dict):
            self.usage = chunk["usage"]
        token = False
        for choice in chunk.get("choices") or ():
            if not isinstance(choice, dict) or choice.get("index", 0) != 0:
                continue
            if choice.get("finish_reason") is not None:
                self.finish = choice["finish_reason"]
            delta = choice.get("delta")
            if not isinstance(delta, dict):
                continue
            if isinstance(delta.get("role"), str):
                self.role = delta["role"]
            content = delta.get("content")
            if isinstance(content, str) and content:
                self.texts.append(content)
                token = True
            refusal = delta.get("refusal")
            if isinstance(refusal, str) and refusal:
                self.refusals.append(refusal)
                token = True
            for call in delta.get("tool_calls") or ():
                if isinstance(call, dict):
                    token = self._call(call) or token
        return token

    def _call(self, call: dict[str, Any]) -> bool:
        index = _int_key(call.get("index", 0))
        if index is None:
            raise ResponseFormatError("openai.chat.completions stream: tool_calls[].index must be a small integer")
        entry = self.calls.setdefault(index, {"id": None, "name": []})
        if isinstance(call.get("id"), str):
            entry["id"] = call["id"]
        function = call.get("function")
        if not isinstance(function, dict):
            return bool(entry["name"])
        if isinstance(function.get("name"), str):
            entry["name"].append(function["name"])
        arguments = function.get("arguments")
        if isinstance(arguments, str):
            self.arguments.setdefault(index, []).append(arguments)
        return True

    def body(self) -> dict[str, Any]:
        if not self.seen:
            raise ResponseFormatError("openai.chat.completions stream held no chunk")
        message: dict[str, Any] = {
            "role": self.role,
            "content": "".join(self.texts) if self.texts or not self.calls else None,
            "refusal": "".join(self.refusals) if self.refusals else None,
        }
        if self.calls:
            message["tool_calls"] = [
                {
                    "id": entry["id"],
                    "type": "function",
                    "function": {"name": "".join(entry["name"]), "arguments": "".join(self.arguments.get(index, ()))},
                }
                for index, entry in sorted(self.calls.items())
            ]
        body: dict[str, Any] = {"object": "chat.completion", **self.head}
        body["choices"] = [{"index": 0, "message": message, "finish_reason": self.finish}]
        if self.usage is not None:
            body["usage"] = self.usage
        return body


class _AnthropicAssembly(_Assembly):
    """Anthropic messages: ``message_start``, content block start/delta/stop, ``message_delta``, ``message_stop``."""

    def __init__(self) -> None:
        self.message: dict[str, Any] | None = None
        self.blocks: dict[int, dict[str, Any]] = {}
        self.parts: dict[int, list[str]] = {}
        self.signatures: dict[int, list[str]] = {}
        self.usage: dict[str, Any] = {}

    def event(self, name: str, data: str) -> bool:
        payload = _object(data, "anthropic.messages stream")
        kind = payload.get("type", name)
        if kind == "message_start":
            message = payload.get("message")
            if not isinstance(message, dict):
                raise ResponseFormatError("anthropic.messages stream: message_start.message must be an object")
            self.message = {key: value for key, value in message.items() if key != "content"}
            if isinstance(message.get("usage"), dict):
                self.usage.update(message["usage"])
            return False
        if kind == "content_block_start":
            index = _int_key(payload.get("index"))
            block = payload.get("content_block")
            if index is None or not isinstance(block, dict):
                raise ResponseFormatError("anthropic.messages stream: content_block_start needs an index and a block")
            self.blocks[index] = dict(block)
            text = block.get("text")
            return block.get("type") in ("tool_use", "server_tool_use") or (isinstance(text, str) and text != "")
        if kind == "content_block_delta":
            return self._delta(payload)
        if kind == "message_delta":
            delta = payload.get("delta")
            if isinstance(delta, dict) and self.message is not None:
                for key in ("stop_reason", "stop_sequence"):
                    if key in delta:
                        self.message[key] = delta[key]
            if isinstance(payload.get("usage"), dict):
                self.usage.update({k: v for k, v in payload["usage"].items() if v is not None})
            return False
        if kind == "message_stop":
            self.complete = True
        elif kind == "error":
            error = payload.get("error")
            self.error = error if isinstance(error, dict) else {"message": str(error)}
        return False

    def _delta(self, payload: dict[str, Any]) -> bool:
        index = _int_key(payload.get("index"))
        delta = payload.get("delta")
        if index is None or not isinstance(delta, dict):
            raise ResponseFormatError("anthropic.messages stream: content_block_delta needs an index and a delta")
        kind = delta.get("type")
        self.blocks.setdefault(index, {"type": "tool_use" if kind == "input_json_delta" else "text"})
        if kind == "signature_delta":
            if isinstance(delta.get("signature"), str):
                self.signatures.setdefault(index, []).append(delta["signature"])
            return False
        piece = next(
            (delta[key] for key in ("text", "partial_json", "thinking") if isinstance(delta.get(key), str)), None
        )
        if piece is None:
            return False
        self.parts.setdefault(index, []).append(piece)
        return kind != "thinking_delta" and piece != ""

    def body(self) -> dict[str, Any]:
        if self.message is None:
            raise ResponseFormatError("anthropic.messages stream held no message_start")
        content: list[dict[str, Any]] = []
        for index, started in sorted(self.blocks.items()):
            joined = "".join(self.parts.get(index, ()))
            block = dict(started)
            kind = block.get("type")
            if kind in ("tool_use", "server_tool_use"):
                if joined:
                    try:
                        block["input"] = orjson.loads(joined)
                    except orjson.JSONDecodeError:
                        block["input"] = joined  # arguments that are not JSON stay visible as such
                else:
                    block.setdefault("input", {})
            elif kind == "thinking":
                block["thinking"] = block.get("thinking", "") + joined
                if index in self.signatures:
                    block["signature"] = block.get("signature", "") + "".join(self.signatures[index])
            elif kind == "text":
                block["text"] = block.get("text", "") + joined
            content.append(block)
        body = dict(self.message)
        body["content"] = content
        if self.usage:
            body["usage"] = self.usage
        return body


_RESPONSES_TERMINAL = ("response.completed", "response.incomplete", "response.failed")
_RESPONSES_TOKEN_DELTAS = (
    "response.output_text.delta",
    "response.refusal.delta",
    "response.function_call_arguments.delta",
)


class _ResponsesAssembly(_Assembly):
    """OpenAI Responses: typed events; the terminal ``response.completed`` (or incomplete/failed) holds the whole
    response, and otherwise the items are rebuilt from ``output_item.done`` and the deltas."""

    def __init__(self) -> None:
        self.response: dict[str, Any] | None = None
        self.final: dict[str, Any] | None = None
        self.items: dict[int, dict[str, Any]] = {}
        self.done_items: dict[int, dict[str, Any]] = {}
        self.texts: dict[tuple[int, int], list[str]] = {}
        self.arguments: dict[int, list[str]] = {}

    def event(self, name: str, data: str) -> bool:
        payload = _object(data, "openai.responses stream")
        kind = payload.get("type", name)
        if kind in ("response.created", "response.in_progress") and isinstance(payload.get("response"), dict):
            self.response = payload["response"]
            return False
        if kind in _RESPONSES_TERMINAL:
            if isinstance(payload.get("response"), dict):
                self.final = payload["response"]
            self.complete = True
            return False
        if kind == "error":
            self.error = {key: payload.get(key) for key in ("code", "message", "param") if key in payload}
            return False
        index = _int_key(payload.get("output_index"))
        if kind == "response.output_item.added" and index is not None and isinstance(payload.get("item"), dict):
            item: dict[str, Any] = payload["item"]
            self.items[index] = item
            return item.get("type") == "function_call"
        if kind == "response.output_item.done" and index is not None and isinstance(payload.get("item"), dict):
            self.done_items[index] = payload["item"]
            return False
        if kind in _RESPONSES_TOKEN_DELTAS and index is not None:
            delta = payload.get("delta")
            if not isinstance(delta, str):
                return False
            if kind == "response.function_call_arguments.delta":
                self.arguments.setdefault(index, []).append(delta)
                return True
            part = _int_key(payload.get("content_index")) or 0
            self.texts.setdefault((index, part), []).append(delta)
            return delta != ""
        return False

    def body(self) -> dict[str, Any]:
        if self.final is not None and (self.final.get("output") or not (self.items or self.done_items)):
            return self.final
        base = self.final or self.response
        if base is None and not (self.items or self.done_items):
            raise ResponseFormatError("openai.responses stream held no response event")
        body = dict(base or {"object": "response", "status": "completed" if self.complete else "incomplete"})
        output = []
        for index in sorted(self.items.keys() | self.done_items.keys()):
            item = self.done_items.get(index)
            if item is None:
                item = self._rebuilt(index, dict(self.items[index]))
            output.append(item)
        body["output"] = output
        return body

    def _rebuilt(self, index: int, item: dict[str, Any]) -> dict[str, Any]:
        if item.get("type") == "function_call":
            item["arguments"] = item.get("arguments") or "".join(self.arguments.get(index, ()))
        elif item.get("type") == "message":
            parts = sorted(part for (owner, part) in self.texts if owner == index)
            item["content"] = [
                {"type": "output_text", "text": "".join(self.texts[(index, part)]), "annotations": []} for part in parts
            ]
        return item


_ASSEMBLIES: dict[Api, type[_Assembly]] = {
    Api.OPENAI_CHAT: _ChatAssembly,
    Api.ANTHROPIC_MESSAGES: _AnthropicAssembly,
    Api.OPENAI_RESPONSES: _ResponsesAssembly,
}


class StreamAssembler:
    """Assembles one streamed answer of ``api`` from its raw bytes.

    ``feed`` returns True for the piece that carried the first token (once); ``body()`` is the final
    body in the unstreamed shape; ``complete`` says whether the stream's final event arrived; ``error``
    holds an error event the stream carried (its object, as the provider sent it).
    """

    __slots__ = ("_assembly", "_decoder", "_token_seen", "api")

    def __init__(self, api: Api, *, max_line_bytes: int = MAX_LINE_BYTES) -> None:
        self.api = api
        self._decoder = SseDecoder(max_line_bytes)
        self._assembly = _ASSEMBLIES[api]()
        self._token_seen = False

    @property
    def complete(self) -> bool:
        return self._assembly.complete

    @property
    def error(self) -> dict[str, Any] | None:
        return self._assembly.error

    @property
    def first_token_seen(self) -> bool:
        return self._token_seen

    def feed(self, chunk: bytes) -> bool:
        """Consume ``chunk``; True when it carried the stream's first token.

        Raises:
            ResponseFormatError: an event's data is not a JSON object of the expected shape, or a line is too long.
        """
        return self._events(self._decoder.feed(chunk))

    def close(self) -> bool:
        """The end of the stream: an event left without its final blank line is consumed."""
        return self._events(self._decoder.close())

    def _events(self, events: list[tuple[str, str]]) -> bool:
        first = False
        for name, data in events:
            if self._assembly.event(name, data) and not self._token_seen:
                self._token_seen = first = True
        return first

    def body(self) -> dict[str, Any]:
        """The final body, as the same call unstreamed returns it (a stream cut short gives what arrived).

        Raises:
            ResponseFormatError: the stream held no answer at all.
        """
        return self._assembly.body()
