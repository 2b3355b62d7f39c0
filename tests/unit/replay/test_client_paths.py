"""The replay client's two ways out read answers alike: aiohttp to a real server on 127.0.0.1 (production) and
httpx on an injected transport (``httpx.MockTransport``, the seam other tests use). Same bytes in, same result out:
output, error kind, status, message, the same limits. Plus what only the aiohttp path meets: chunked answers,
cookies, a session opened on first use.
"""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson
import pytest
from aiohttp import web
from pydantic import SecretStr

from shadow.events.models import MirrorEvent
from shadow.replay.client import CandidateClient
from shadow.replay.result import ErrorKind, ReplayResult
from tests.factories import candidate, make_event, openai_response

pytestmark = pytest.mark.timeout(30)

API_KEY = "sk-test-paths-0123456789abcdef"


def mirror_event() -> MirrorEvent:
    return MirrorEvent.model_validate(make_event())


def padded(size: int) -> bytes:
    """An OpenAI answer of exactly ``size`` bytes (JSON padded with trailing spaces)."""
    body = orjson.dumps(openai_response("Your order ships tomorrow."))
    return body + b" " * (size - len(body))


@dataclass(frozen=True)
class Canned:
    """One answer as bytes on the wire, and the candidate options it is read with."""

    body: bytes
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)


ERROR = orjson.dumps({"error": {"message": "The server had an error", "type": "server_error"}})
CASES = {
    "ok": Canned(padded(2_000)),
    "ok-gzip": Canned(gzip.compress(padded(20_000)), headers={"Content-Encoding": "gzip"}),
    "over-max-response-bytes": Canned(padded(10_001), options={"max_response_bytes": 10_000}),
    # Uncompressed, declared within max_response_bytes, over the decompressed limit: the one-read path must not take it.
    "over-decompressed-uncompressed": Canned(
        padded(6_000), options={"max_response_bytes": 10_000, "max_response_decompressed_bytes": 5_000}
    ),
    "over-decompressed-gzip": Canned(
        gzip.compress(padded(60_000)),
        headers={"Content-Encoding": "gzip"},
        options={"max_response_decompressed_bytes": 50_000},
    ),
    "corrupt-gzip": Canned(b"\x1f\x8b\x08\x00garbage", headers={"Content-Encoding": "gzip"}),
    "br": Canned(b"\x8b\x02\x80{}\x03", headers={"Content-Encoding": "br"}),
    "not-json": Canned(b'{"id": "chatcmpl-x", "choices": ['),
    "http-500": Canned(ERROR, status=500),
    "http-500-huge": Canned(ERROR + b" " * 200_000, status=500),
    "http-429": Canned(ERROR, status=429, headers={"Retry-After": "0"}),
    "http-400": Canned(ERROR, status=400),
}


def summary(result: ReplayResult) -> tuple[Any, ...]:
    text = result.output.text if result.output is not None else None
    return result.error_kind, result.http_status, text, result.error_message, result.attempts


async def via_aiohttp(canned: Canned, raw_server_factory: Callable[..., Awaitable[str]]) -> ReplayResult:
    async def handler(request: web.Request) -> web.StreamResponse:
        await request.read()
        headers = {"Content-Type": "application/json", **canned.headers}
        return web.Response(status=canned.status, body=canned.body, headers=headers)

    base_url = await raw_server_factory(handler)
    client = CandidateClient(candidate("cand", base_url, **canned.options), SecretStr(API_KEY))
    try:
        return await client.replay(mirror_event())
    finally:
        await client.aclose()


async def via_mock_transport(canned: Canned) -> ReplayResult:
    def handler(request: httpx.Request) -> httpx.Response:
        # As a stream, the body stays as on the wire: httpx would read (and decompress) a content= body at once.
        headers = {"Content-Type": "application/json", "Content-Length": str(len(canned.body)), **canned.headers}
        return httpx.Response(canned.status, stream=httpx.ByteStream(canned.body), headers=headers)

    settings = candidate("cand", "http://candidate.test/v1", **canned.options)
    client = CandidateClient(settings, SecretStr(API_KEY), transport=httpx.MockTransport(handler))
    try:
        return await client.replay(mirror_event())
    finally:
        await client.aclose()


@pytest.mark.parametrize("case", list(CASES))
async def test_both_paths_read_the_same_answer_alike(raw_server_factory, case: str) -> None:
    canned = CASES[case]
    production = await via_aiohttp(canned, raw_server_factory)
    seam = await via_mock_transport(canned)
    assert summary(production) == summary(seam)
    if case.startswith("ok"):
        assert production.ok and production.output is not None
        assert production.output.text == "Your order ships tomorrow."
    elif case.startswith("over-"):
        assert production.error_kind is ErrorKind.RESPONSE_TOO_LARGE
        limit = "max_response_bytes" if case == "over-max-response-bytes" else "max_response_decompressed_bytes"
        assert limit in production.error_message
    elif case in ("corrupt-gzip", "br"):
        assert (production.error_kind, production.http_status) == (ErrorKind.INVALID_RESPONSE, 200)
    elif case.startswith("http-500"):
        assert production.error_kind is ErrorKind.HTTP_5XX
        assert "The server had an error" in production.error_message


async def test_a_chunked_answer_without_content_length_is_read_within_limits(raw_server_factory) -> None:
    body = padded(30_000)

    async def handler(request: web.Request) -> web.StreamResponse:
        await request.read()
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        for start in range(0, len(body), 7_000):
            await response.write(body[start : start + 7_000])
            await asyncio.sleep(0.001)
        await response.write_eof()
        return response

    base_url = await raw_server_factory(handler)
    for limit, ok in ((30_000, True), (29_999, False)):
        client = CandidateClient(candidate("cand", base_url, max_response_bytes=limit))
        try:
            result = await client.replay(mirror_event())
        finally:
            await client.aclose()
        if ok:
            assert result.ok and result.output is not None and result.output.text == "Your order ships tomorrow."
        else:
            assert result.error_kind is ErrorKind.RESPONSE_TOO_LARGE
            assert "max_response_bytes (29999) on the wire" in result.error_message


async def test_a_cookie_a_candidate_sets_is_never_sent_back(raw_server_factory) -> None:
    cookies: list[str | None] = []

    async def handler(request: web.Request) -> web.StreamResponse:
        await request.read()
        cookies.append(request.headers.get("Cookie"))
        response = web.Response(body=padded(1_000), content_type="application/json")
        response.set_cookie("session", "from-the-candidate")
        return response

    base_url = await raw_server_factory(handler)
    client = CandidateClient(candidate("cand", base_url))
    try:
        results = [await client.replay(mirror_event()) for _ in range(2)]
    finally:
        await client.aclose()
    assert all(r.ok for r in results)
    assert cookies == [None, None]


def test_a_client_is_built_outside_an_event_loop_and_closed_unused() -> None:
    # Workers build their clients before the loop runs; the aiohttp session opens on first use.
    client = CandidateClient(candidate("cand", "http://127.0.0.1:9/v1"))
    asyncio.run(client.aclose())
