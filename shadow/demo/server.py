"""A local OpenAI/Anthropic-compatible candidate endpoint serving recorded or scripted answers and faults.

Used by ``shadow demo``, ``shadow candidate-server`` (docker-compose) and the tests.
It listens on 127.0.0.1 only. An :class:`Answer` is provider-neutral and is rendered
into whichever wire format was called: ``POST /v1/chat/completions`` (OpenAI),
``POST /v1/responses`` (OpenAI Responses) or ``POST /v1/messages`` (Anthropic).
"""

from __future__ import annotations

import asyncio
import hashlib
import inspect
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from aiohttp import web

from shadow.demo.sse import stream_events
from shadow.events.models import Api
from shadow.events.stream import StreamAssembler

TRICKLE_STEPS = 8
"""A streamed answer after its first event is written in this many pieces (timed apart), not event by event."""

FAULTS = ("timeout", "rate_limit", "server_error", "invalid_body", "bad_request", "disconnect")


@dataclass(frozen=True, slots=True)
class RecordedToolCall:
    name: str
    arguments: dict[str, Any] | None = None
    arguments_raw: str | None = None  # arguments that are not valid JSON

    def arguments_text(self) -> str:
        if self.arguments_raw is not None:
            return self.arguments_raw
        return orjson.dumps(self.arguments or {}).decode()


@dataclass(frozen=True, slots=True)
class Answer:
    """What the endpoint answers: an ok response, or a fault (``timeout``, ``rate_limit``, …)."""

    kind: str = "ok"
    text: str | None = None
    tool_calls: tuple[RecordedToolCall, ...] = ()
    finish_reason: str = "stop"
    input_tokens: int = 0
    output_tokens: int = 0
    latency_ms: float = 0.0
    fault: str | None = None
    ttft_ms: float | None = None
    """For a streamed answer: when its first event is sent (the rest follows over the remaining ``latency_ms``)."""

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Answer:
        usage = data.get("usage") or {}
        return cls(
            kind=data.get("kind", "ok"),
            text=data.get("text"),
            tool_calls=tuple(
                RecordedToolCall(c["name"], c.get("arguments"), c.get("arguments_raw"))
                for c in data.get("tool_calls") or ()
            ),
            finish_reason=data.get("finish_reason", "stop"),
            input_tokens=int(usage.get("input_tokens", 0)),
            output_tokens=int(usage.get("output_tokens", 0)),
            latency_ms=float(data.get("latency_ms", 0)),
            ttft_ms=float(data["ttft_ms"]) if data.get("ttft_ms") is not None else None,
            fault=data.get("fault"),
        )

    @classmethod
    def text_answer(cls, text: str, **kwargs: Any) -> Answer:
        return cls(
            text=text, output_tokens=max(1, len(text) // 4), input_tokens=kwargs.pop("input_tokens", 50), **kwargs
        )

    @classmethod
    def failing(cls, fault: str, latency_ms: float = 0.0) -> Answer:
        if fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r}; one of {', '.join(FAULTS)}")
        return cls(kind="fault", fault=fault, latency_ms=latency_ms)


def user_texts(api: Api, request: dict[str, Any]) -> list[str]:
    """The texts of the user turns of a request, in order (system prompts and tool results excluded).

    Chat and Anthropic ``messages``, or Responses ``input`` (a string is one user turn; message items
    with role user, their ``input_text`` parts).
    """
    texts: list[str] = []
    turns = request.get("input") if api is Api.OPENAI_RESPONSES else request.get("messages")
    if isinstance(turns, str):
        return [turns]
    for message in turns if isinstance(turns, list) else ():
        if not isinstance(message, dict) or message.get("role") != "user":
            continue
        content = message.get("content")
        if isinstance(content, str):
            texts.append(content)
        elif isinstance(content, list):
            texts.extend(
                part["text"]
                for part in content
                if isinstance(part, dict)
                and part.get("type") in ("text", "input_text")
                and isinstance(part.get("text"), str)
            )
    return texts


def recording_key(api: Api, request: dict[str, Any]) -> str:
    """The key recordings are stored under: sha256 of the user texts joined by newlines, 16 hex chars.

    User texts survive translation between chat completions, Responses and Anthropic formats, so the
    same recording answers a candidate whatever wire format it speaks.
    """
    return hashlib.sha256("\n".join(user_texts(api, request)).encode()).hexdigest()[:16]


class Recordings:
    """Answers recorded per (model, key), loaded from ``recordings.json``."""

    def __init__(self, models: dict[str, dict[str, Answer]]) -> None:
        self.models = models

    @classmethod
    def load(cls, path: Path) -> Recordings:
        data = orjson.loads(path.read_bytes())
        return cls(
            {
                model: {key: Answer.from_json(answer) for key, answer in answers.items()}
                for model, answers in data["models"].items()
            }
        )

    def __call__(self, api: Api, request: dict[str, Any]) -> Answer | None:
        answers = self.models.get(str(request.get("model")))
        if answers is None:
            return None
        return answers.get(recording_key(api, request))


Responder = Callable[[Api, dict[str, Any]], "Answer | Awaitable[Answer | None] | None"]

_OPENAI_FINISH = {"stop": "stop", "length": "length", "tool_calls": "tool_calls", "content_filter": "content_filter"}
_ANTHROPIC_FINISH = {"stop": "end_turn", "length": "max_tokens", "tool_calls": "tool_use", "content_filter": "refusal"}


def _short_id(request: dict[str, Any], salt: str) -> str:
    turns = request.get("messages", request.get("input"))
    return hashlib.sha1(orjson.dumps(turns) + salt.encode()).hexdigest()[:24]


def render_openai(answer: Answer, request: dict[str, Any]) -> dict[str, Any]:
    """An OpenAI ``chat.completion`` body for an ok answer."""
    message: dict[str, Any] = {"role": "assistant", "content": answer.text, "refusal": None}
    if answer.tool_calls:
        message["tool_calls"] = [
            {
                "id": f"call_{_short_id(request, str(i))}",
                "type": "function",
                "function": {"name": call.name, "arguments": call.arguments_text()},
            }
            for i, call in enumerate(answer.tool_calls)
        ]
    return {
        "id": f"chatcmpl-{_short_id(request, 'id')}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": request.get("model"),
        "choices": [
            {"index": 0, "message": message, "logprobs": None, "finish_reason": _OPENAI_FINISH[answer.finish_reason]}
        ],
        "usage": {
            "prompt_tokens": answer.input_tokens,
            "completion_tokens": answer.output_tokens,
            "total_tokens": answer.input_tokens + answer.output_tokens,
        },
    }


def render_anthropic(answer: Answer, request: dict[str, Any]) -> dict[str, Any]:
    """An Anthropic ``message`` body for an ok answer."""
    content: list[dict[str, Any]] = []
    if answer.text:
        content.append({"type": "text", "text": answer.text})
    for i, call in enumerate(answer.tool_calls):
        if call.arguments is not None:
            arguments = call.arguments
        else:
            try:
                parsed = orjson.loads(call.arguments_raw or "{}")
            except orjson.JSONDecodeError:
                parsed = {}
            arguments = parsed if isinstance(parsed, dict) else {}
        content.append(
            {"type": "tool_use", "id": f"toolu_{_short_id(request, str(i))}", "name": call.name, "input": arguments}
        )
    return {
        "id": f"msg_{_short_id(request, 'id')}",
        "type": "message",
        "role": "assistant",
        "model": request.get("model"),
        "content": content,
        "stop_reason": _ANTHROPIC_FINISH[answer.finish_reason],
        "stop_sequence": None,
        "usage": {"input_tokens": answer.input_tokens, "output_tokens": answer.output_tokens},
    }


def render_responses(answer: Answer, request: dict[str, Any]) -> dict[str, Any]:
    """An OpenAI Responses ``response`` body for an ok answer: a message item with the text, one
    ``function_call`` item per tool call; a length answer is ``incomplete`` (``max_output_tokens``), a
    content-filtered one ``incomplete`` (``content_filter``)."""
    reason = {"length": "max_output_tokens", "content_filter": "content_filter"}.get(answer.finish_reason)
    status = "incomplete" if reason else "completed"
    output: list[dict[str, Any]] = []
    if answer.text:
        text = {"type": "output_text", "text": answer.text, "annotations": [], "logprobs": []}
        output.append(
            {
                "id": f"msg_{_short_id(request, 'msg')}",
                "type": "message",
                "role": "assistant",
                "status": status,
                "content": [text],
            }
        )
    for i, call in enumerate(answer.tool_calls):
        output.append(
            {
                "id": f"fc_{_short_id(request, f'fc{i}')}",
                "type": "function_call",
                "call_id": f"call_{_short_id(request, str(i))}",
                "name": call.name,
                "arguments": call.arguments_text(),
                "status": "completed",
            }
        )
    text_config = request.get("text") if isinstance(request.get("text"), dict) else {"format": {"type": "text"}}
    return {
        "id": f"resp_{_short_id(request, 'id')}",
        "object": "response",
        "created_at": int(time.time()),
        "status": status,
        "error": None,
        "incomplete_details": {"reason": reason} if reason else None,
        "instructions": request.get("instructions"),
        "max_output_tokens": request.get("max_output_tokens"),
        "model": request.get("model"),
        "output": output,
        "parallel_tool_calls": request.get("parallel_tool_calls", True),
        "previous_response_id": None,
        "reasoning": {"effort": None, "summary": None},
        "store": request.get("store", True),
        "temperature": request.get("temperature", 1.0),
        "text": text_config,
        "tool_choice": request.get("tool_choice", "auto"),
        "tools": request.get("tools", []),
        "top_p": request.get("top_p", 1.0),
        "truncation": "disabled",
        "usage": {
            "input_tokens": answer.input_tokens,
            "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
            "output_tokens": answer.output_tokens,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": answer.input_tokens + answer.output_tokens,
        },
        "user": None,
        "metadata": {},
    }


_RENDERERS = {Api.OPENAI_CHAT: render_openai, Api.OPENAI_RESPONSES: render_responses}


def _error_body(api: Api, kind: str, message: str) -> bytes:
    if api is not Api.ANTHROPIC_MESSAGES:
        return orjson.dumps({"error": {"message": message, "type": kind, "param": None, "code": kind}})
    return orjson.dumps({"type": "error", "error": {"type": kind, "message": message}})


@dataclass(slots=True)
class ReceivedRequest:
    """What the endpoint saw (tests assert on it)."""

    api: Api
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


@dataclass(slots=True)
class CandidateServer:
    """An aiohttp server answering from a responder (recordings or a test script).

    It listens on 127.0.0.1 unless ``host`` says otherwise (docker-compose).

    ``latency_scale`` multiplies recorded latencies (0 answers at once); ``timeout_s`` is how
    long a ``timeout`` fault hangs before answering anyway.
    """

    responder: Responder
    port: int = 0
    host: str = "127.0.0.1"
    latency_scale: float = 1.0
    timeout_s: float = 30.0
    received: list[ReceivedRequest] = field(default_factory=list)
    _runner: web.AppRunner | None = None
    _site_port: int = 0

    @property
    def base_url(self) -> str:
        """OpenAI-style base URL (``…/v1``); Anthropic clients append ``/messages`` to it."""
        return f"http://127.0.0.1:{self._site_port}/v1"

    async def start(self) -> str:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/v1/chat/completions", self._openai)
        app.router.add_post("/v1/responses", self._responses)
        app.router.add_post("/v1/messages", self._anthropic)
        app.router.add_get("/healthz", self._health)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port, reuse_address=True)
        await site.start()
        sockets = getattr(site._server, "sockets", None)
        assert sockets, "the site has no listening socket"
        self._site_port = int(sockets[0].getsockname()[1])
        return self.base_url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _health(self, request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    async def _openai(self, request: web.Request) -> web.StreamResponse:
        return await self._answer(Api.OPENAI_CHAT, request)

    async def _anthropic(self, request: web.Request) -> web.StreamResponse:
        return await self._answer(Api.ANTHROPIC_MESSAGES, request)

    async def _responses(self, request: web.Request) -> web.StreamResponse:
        return await self._answer(Api.OPENAI_RESPONSES, request)

    async def _answer(self, api: Api, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return web.Response(status=400, body=_error_body(api, "invalid_request_error", "body is not JSON"))
        headers = {name.lower(): value for name, value in request.headers.items()}
        self.received.append(ReceivedRequest(api, request.path, headers, body))
        answer = self.responder(api, body)
        if inspect.isawaitable(answer):
            answer = await answer
        if answer is None:
            message = f"no recorded answer for model {body.get('model')!r} and key {recording_key(api, body)}"
            return web.Response(
                status=404, body=_error_body(api, "not_found_error", message), content_type="application/json"
            )
        streamed = body.get("stream") is True and answer.kind != "fault"
        wait_ms = answer.ttft_ms if streamed and answer.ttft_ms is not None else answer.latency_ms
        if wait_ms and self.latency_scale:
            await asyncio.sleep(wait_ms * self.latency_scale / 1000)
        if answer.kind == "fault":
            return await self._fault(api, answer.fault or "server_error", request)
        rendered = _RENDERERS.get(api, render_anthropic)(answer, body)
        if streamed:
            trickle_ms = (
                max(0.0, answer.latency_ms - wait_ms) * self.latency_scale if answer.ttft_ms is not None else 0.0
            )
            return await self._stream(api, body, rendered, trickle_ms, request)
        return web.Response(body=orjson.dumps(rendered), content_type="application/json")

    async def _stream(
        self, api: Api, body: dict[str, Any], rendered: dict[str, Any], trickle_ms: float, request: web.Request
    ) -> web.StreamResponse:
        """Send ``rendered`` as the provider streams it; ``trickle_ms`` spreads the events after the first."""
        options = body.get("stream_options")
        include_usage = api is not Api.OPENAI_CHAT or (
            isinstance(options, dict) and options.get("include_usage") is True
        )
        events = list(stream_events(api, rendered, include_usage=include_usage))
        response = web.StreamResponse(headers={"content-type": "text/event-stream", "cache-control": "no-cache"})
        await response.prepare(request)
        # The events up to the first token go out at once; the rest follows in up to TRICKLE_STEPS writes spread
        # over trickle_ms.
        first = StreamAssembler(api)
        head = next((n + 1 for n, event in enumerate(events) if first.feed(event)), 1)
        await response.write(b"".join(events[:head]))
        rest = events[head:]
        steps = min(TRICKLE_STEPS, len(rest))
        for step in range(steps):
            if trickle_ms:
                await asyncio.sleep(trickle_ms / 1000 / steps)
            await response.write(b"".join(rest[step * len(rest) // steps : (step + 1) * len(rest) // steps]))
        await response.write_eof()
        return response

    async def _fault(self, api: Api, fault: str, request: web.Request) -> web.StreamResponse:
        if fault == "timeout":
            await asyncio.sleep(self.timeout_s)
            return web.Response(status=504, body=_error_body(api, "timeout", "answered too late"))
        if fault == "rate_limit":
            return web.Response(
                status=429,
                body=_error_body(api, "rate_limit_error", "Rate limit reached for requests"),
                headers={"retry-after": "1"},
                content_type="application/json",
            )
        if fault == "server_error":
            return web.Response(
                status=500,
                body=_error_body(api, "server_error", "The server had an error"),
                content_type="application/json",
            )
        if fault == "bad_request":
            return web.Response(
                status=400,
                body=_error_body(api, "invalid_request_error", "Unsupported parameter"),
                content_type="application/json",
            )
        if fault == "invalid_body":
            return web.Response(status=200, body=b'{"id": "chatcmpl-x", "choices": [', content_type="application/json")
        # disconnect: drop the connection without an answer
        transport = request.transport
        if transport is not None:
            transport.close()
        raise asyncio.CancelledError


@contextmanager
def serve_in_thread(responder: Responder, **options: Any) -> Iterator[CandidateServer]:
    """Run a :class:`CandidateServer` on its own event loop in a thread (for subprocess tests)."""
    server = CandidateServer(responder, **options)
    loop = asyncio.new_event_loop()
    started = threading.Event()

    def run() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(server.start())
        started.set()
        loop.run_forever()

    thread = threading.Thread(target=run, name="candidate-server", daemon=True)
    thread.start()
    if not started.wait(10):
        raise RuntimeError("candidate server did not start")
    try:
        yield server
    finally:
        asyncio.run_coroutine_threadsafe(server.stop(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
