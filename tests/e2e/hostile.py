"""A hostile OpenAI/Anthropic-compatible candidate on 127.0.0.1: it answers each request as its case says.

The case is named in the request's first user turn as ``[case:NAME]``. Besides ordinary answers it
serves gzip bombs, 100 MB bodies, trickling bodies, absurd token counts and pathological texts,
and it keeps every request body it received, so a test can prove what reached the candidate.
"""

from __future__ import annotations

import asyncio
import re
import threading
import zlib
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import orjson
from aiohttp import web

MiB = 1 << 20
CASE = re.compile(rb"\[case:([a-z0-9_]+)\]")


@dataclass(frozen=True, slots=True)
class Reply:
    """An ordinary answer, shaped for whichever API was called."""

    text: str | None = "All set, your order ships tomorrow."
    tool_calls: tuple[tuple[str, Any], ...] = ()
    input_tokens: int = 40
    output_tokens: int = 12


Special = Callable[[web.Request], Awaitable[web.StreamResponse]]


@cache
def gzip_bomb(decompressed_mib: int) -> bytes:
    """A valid gzip body of ``decompressed_mib`` MiB of zeros, about a thousandth of that on the wire.

    Each MiB is one deflate segment ending in a full flush, so the segments are identical and the bomb
    is built in a fraction of a second instead of compressing a gibibyte.
    """
    chunk = bytes(MiB)
    packer = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    segment = packer.compress(chunk) + packer.flush(zlib.Z_FULL_FLUSH)
    end = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS).flush()
    crc = 0
    for _ in range(decompressed_mib):
        crc = zlib.crc32(chunk, crc)
    size = (decompressed_mib * MiB) & 0xFFFFFFFF
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    return header + segment * decompressed_mib + end + crc.to_bytes(4, "little") + size.to_bytes(4, "little")


async def serve_gzip_bomb(request: web.Request) -> web.StreamResponse:
    body = gzip_bomb(256)
    return web.Response(body=body, headers={"Content-Type": "application/json", "Content-Encoding": "gzip"})


async def serve_100_mb(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": "application/json"})
    response.content_length = 100 * (1 << 20)
    await response.prepare(request)
    chunk = b"a" * (1 << 20)
    try:
        for _ in range(100):
            await response.write(chunk)
    except (ConnectionResetError, ConnectionError):
        pass  # the client stopped reading: what a size guard does
    return response


async def serve_trickle(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": "application/json"})
    response.content_length = 10_000
    await response.prepare(request)
    try:
        for _ in range(300):  # at most 60 s, a byte every 200 ms
            await response.write(b" ")
            await asyncio.sleep(0.2)
    except (ConnectionResetError, ConnectionError):
        pass
    return response


async def serve_not_json(request: web.Request) -> web.StreamResponse:
    return web.Response(body=b"<html>upstream proxy error</html>", content_type="application/json")


def openai_body(model: str, reply: Reply) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": reply.text}
    if reply.tool_calls:
        message["tool_calls"] = [
            {
                "id": f"call_{i}",
                "type": "function",
                "function": {"name": name, "arguments": args if isinstance(args, str) else orjson.dumps(args).decode()},
            }
            for i, (name, args) in enumerate(reply.tool_calls)
        ]
    return {
        "id": "chatcmpl-hostile",
        "object": "chat.completion",
        "created": 1763900000,
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls" if reply.tool_calls else "stop"}],
        "usage": {
            "prompt_tokens": reply.input_tokens,
            "completion_tokens": reply.output_tokens,
            "total_tokens": reply.input_tokens + reply.output_tokens,
        },
    }


def anthropic_body(model: str, reply: Reply) -> dict[str, Any]:
    content: list[dict[str, Any]] = []
    if reply.text is not None:
        content.append({"type": "text", "text": reply.text})
    for i, (name, args) in enumerate(reply.tool_calls):
        content.append(
            {"type": "tool_use", "id": f"toolu_{i}", "name": name, "input": args if isinstance(args, dict) else {}}
        )
    return {
        "id": "msg_hostile",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": "tool_use" if reply.tool_calls else "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": reply.input_tokens, "output_tokens": reply.output_tokens},
    }


@dataclass
class HostileCandidate:
    """Answers per case; ``replies`` and ``specials`` map case names to behaviour."""

    replies: dict[str, Reply] = field(default_factory=dict)
    specials: dict[str, Special] = field(default_factory=dict)
    received: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)  # (path, case, body)
    port: int = 0
    _runner: web.AppRunner | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        match = CASE.search(raw[:4096]) or CASE.search(raw)
        case = match.group(1).decode() if match else ""
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError:
            body = {"_unparsable": True}
        self.received.append((request.path, case, body))
        if case in self.specials:
            return await self.specials[case](request)
        reply = self.replies.get(case, Reply())
        model = str(body.get("model", ""))
        shaped = anthropic_body(model, reply) if request.path.endswith("/messages") else openai_body(model, reply)
        return web.Response(body=orjson.dumps(shaped), content_type="application/json")

    async def start(self) -> None:
        app = web.Application(client_max_size=64 * (1 << 20))
        app.router.add_post("/v1/chat/completions", self._handle)
        app.router.add_post("/v1/messages", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


@contextmanager
def running(candidate: HostileCandidate) -> Iterator[HostileCandidate]:
    """Serve ``candidate`` on its own event loop in a thread (the worker under test is another process)."""
    loop = asyncio.new_event_loop()
    started = threading.Event()

    def run() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(candidate.start())
        started.set()
        loop.run_forever()

    thread = threading.Thread(target=run, name="hostile-candidate", daemon=True)
    thread.start()
    if not started.wait(10):
        raise RuntimeError("hostile candidate did not start")
    try:
        yield candidate
    finally:
        asyncio.run_coroutine_threadsafe(candidate.stop(), loop).result(30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
