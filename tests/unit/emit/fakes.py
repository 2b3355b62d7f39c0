"""A provider stand-in the official SDKs talk to through their own httpx flavour, and emitter helpers.

``FakeProvider`` answers chat completions, Responses and Anthropic messages like the providers do:
unstreamed bodies, or server-sent events in separate chunks (one event each, so a body arrives in
pieces as on a network and the tee sees each one). Answers are rendered once, so two calls get the
same bytes: a call with the emitter can be compared with the same call without it.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Iterator
from types import ModuleType
from typing import Any

import anthropic
import openai
import orjson

from shadow.demo.server import Answer, RecordedToolCall, render_anthropic, render_openai, render_responses
from shadow.demo.sse import stream_events
from shadow.emit import Emitter
from shadow.emit.memory import MemoryProducer
from shadow.events.decode import DecodedEvent, decode_event
from shadow.events.models import Api


def sdk_httpx(client_class: type) -> ModuleType:
    """The httpx module (``httpx`` or ``httpx2``) an SDK client class sends through."""
    client = client_class(api_key="k", base_url="http://provider.test")
    roots = (kind.__module__.split(".", 1)[0] for kind in type(client._client).__mro__)
    return sys.modules[next(root for root in roots if root.startswith("httpx"))]


OPENAI_HTTPX = sdk_httpx(openai.OpenAI)
ANTHROPIC_HTTPX = sdk_httpx(anthropic.Anthropic)

TOOL_ANSWER = Answer(
    text="Let me look that order up.",
    tool_calls=(RecordedToolCall("lookup_order", {"order_id": 1042, "fields": ["eta", "carrier"]}),),
    finish_reason="tool_calls",
    input_tokens=31,
    output_tokens=22,
)
_FIXED_REQUEST = {"model": "gpt-test", "messages": [{"role": "user", "content": "Where is order 1042?"}]}
_RENDER = {
    Api.OPENAI_CHAT: render_openai,
    Api.ANTHROPIC_MESSAGES: render_anthropic,
    Api.OPENAI_RESPONSES: render_responses,
}
_PATHS = {
    "/v1/chat/completions": Api.OPENAI_CHAT,
    "/v1/messages": Api.ANTHROPIC_MESSAGES,
    "/v1/responses": Api.OPENAI_RESPONSES,
}


def error_body(api: Api, kind: str, message: str) -> bytes:
    if api is Api.ANTHROPIC_MESSAGES:
        return orjson.dumps({"type": "error", "error": {"type": kind, "message": message}})
    return orjson.dumps({"error": {"message": message, "type": kind, "param": None, "code": kind}})


class FakeProvider:
    """Answers every call with ``answer``; ``statuses`` are answered first, one per call (e.g. [429])."""

    def __init__(self, answer: Answer = TOOL_ANSWER, statuses: list[int] | None = None) -> None:
        self.bodies = {api: render(answer, _FIXED_REQUEST) for api, render in _RENDER.items()}
        self.statuses = list(statuses or [])
        self.requests: list[dict[str, Any]] = []

    def _answer(self, request: Any) -> tuple[int, dict[str, str], Any]:
        api = _PATHS.get(request.url.path)
        body = orjson.loads(request.content) if request.content else {}
        self.requests.append(body)
        if api is None:
            listing = {
                "object": "list",
                "data": [{"object": "embedding", "index": 0, "embedding": [0.5]}],
                "model": "e",
                "usage": {"prompt_tokens": 1, "total_tokens": 1},
            }
            return 200, {"content-type": "application/json"}, orjson.dumps(listing)
        if self.statuses:
            status = self.statuses.pop(0)
            headers = {"content-type": "application/json", "retry-after-ms": "1"}  # the SDKs wait 1 ms
            return status, headers, error_body(api, "rate_limit_error", "slow down")
        rendered = self.bodies[api]
        if body.get("stream") is True:
            return 200, {"content-type": "text/event-stream"}, list(stream_events(api, rendered))
        encoded = orjson.dumps(rendered)
        return 200, {"content-type": "application/json"}, [encoded[:40], encoded[40:]]  # in pieces, as from a socket

    def handler(self, module: ModuleType) -> Any:
        def handle(request: Any) -> Any:
            status, headers, content = self._answer(request)
            if isinstance(content, list):
                return module.Response(status, headers=headers, content=iter(content))
            return module.Response(status, headers=headers, content=content)

        return handle

    def async_handler(self, module: ModuleType) -> Any:
        async def handle(request: Any) -> Any:
            status, headers, content = self._answer(request)
            if isinstance(content, list):

                async def chunks() -> AsyncIterator[bytes]:
                    for chunk in content:
                        yield chunk

                return module.Response(status, headers=headers, content=chunks())
            return module.Response(status, headers=headers, content=content)

        return handle

    def openai(self, **options: Any) -> openai.OpenAI:
        http = OPENAI_HTTPX.Client(transport=OPENAI_HTTPX.MockTransport(self.handler(OPENAI_HTTPX)))
        return openai.OpenAI(api_key="k", base_url="http://provider.test/v1", http_client=http, **options)

    def async_openai(self, **options: Any) -> openai.AsyncOpenAI:
        http = OPENAI_HTTPX.AsyncClient(transport=OPENAI_HTTPX.MockTransport(self.async_handler(OPENAI_HTTPX)))
        return openai.AsyncOpenAI(api_key="k", base_url="http://provider.test/v1", http_client=http, **options)

    def anthropic(self, **options: Any) -> anthropic.Anthropic:
        http = ANTHROPIC_HTTPX.Client(transport=ANTHROPIC_HTTPX.MockTransport(self.handler(ANTHROPIC_HTTPX)))
        return anthropic.Anthropic(api_key="k", base_url="http://provider.test", http_client=http, **options)

    def async_anthropic(self, **options: Any) -> anthropic.AsyncAnthropic:
        http = ANTHROPIC_HTTPX.AsyncClient(transport=ANTHROPIC_HTTPX.MockTransport(self.async_handler(ANTHROPIC_HTTPX)))
        return anthropic.AsyncAnthropic(api_key="k", base_url="http://provider.test", http_client=http, **options)


def memory_emitter(producer: MemoryProducer | None = None, **overrides: Any) -> tuple[Emitter, MemoryProducer]:
    """An emitter publishing into memory (no redaction unless asked: tests compare values)."""
    producer = producer or MemoryProducer()
    defaults = {} if "settings" in overrides else {"service": "support-api", "environment": "test", "redact": False}
    options: dict[str, Any] = {**defaults, **overrides}
    return Emitter(producer_factory=producer.factory(), **options), producer


def published(emitter: Emitter, producer: MemoryProducer) -> list[DecodedEvent]:
    """Every event published so far, decoded as the worker decodes them (after a flush)."""
    assert emitter.flush(10), f"events still pending: {emitter.stats()}"
    return [decode_event(value, max_bytes=16 * 1024 * 1024) for value in producer.values()]


def chunks_of(stream: Iterator[Any]) -> list[dict[str, Any]]:
    return [item.model_dump() for item in stream]
