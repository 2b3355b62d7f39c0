"""The replay client's guards against a real HTTP server on 127.0.0.1: what a request may carry, what an answer may cost.

Request guards: only allow-listed parameters reach the candidate, one choice, a capped output limit, a control lane
replays only its listed models, timeouts are not retried unless configured. Response guards: answers are read within
a size limit on the wire and once decompressed (a gzip bomb, a 100 MB body, a trickling body), and token counts that
cannot be true never become costs. The stored row shows what was changed.
"""

from __future__ import annotations

import asyncio
import gzip
import time
import tracemalloc
import zlib
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
import pytest
from aiohttp import web

from shadow.demo.server import Answer
from shadow.events.memory import ListDeadLetterSink, ListSource
from shadow.events.models import Api, MirrorEvent
from shadow.pipeline import Pipeline
from shadow.replay.client import CandidateClient
from shadow.replay.fanout import Replayer
from shadow.replay.result import ErrorKind
from shadow.sink.memory import MemorySink
from tests.e2e.hostile import gzip_bomb
from tests.factories import (
    anthropic_request,
    candidate,
    event_bytes,
    make_event,
    openai_request,
    openai_response,
    settings_for,
)

pytestmark = pytest.mark.timeout(60)

MiB = 1 << 20
PRICEY = {
    "n": 50,
    "max_tokens": 10**7,
    "service_tier": "priority",
    "store": True,
    "reasoning_effort": "high",
    "logprobs": True,
    "top_logprobs": 20,
    "metadata": {"team": "support"},
    "user": "u-42",
    "x_unknown_knob": {"level": 9},
}
FORBIDDEN = set(PRICEY) - {"max_tokens"} | {"stream", "stream_options"}


def mirror_event(**options: Any) -> MirrorEvent:
    return MirrorEvent.model_validate(make_event(**options))


def always(answer: Answer) -> Callable[[Api, dict[str, Any]], Answer]:
    return lambda api, body: answer


async def replay_rows(settings: Any, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Run the pipeline over ``events`` with real candidate clients; the comparison rows it stored."""
    replayer = Replayer([CandidateClient(c) for c in settings.candidates])
    sink = MemorySink()
    source = ListSource([(0, event_bytes(e)) for e in events])
    pipeline = Pipeline(settings, source=source, dead_letters=ListDeadLetterSink(), replayer=replayer, sink=sink)
    try:
        await pipeline.run()
    finally:
        await replayer.aclose()
    return list(sink.comparisons)


# --- request guards -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
async def test_forbidden_parameters_never_reach_the_candidate_and_the_row_lists_them(
    server_factory, provider: str
) -> None:
    server, base_url = await server_factory(always(Answer.text_answer("Your order ships tomorrow.")))
    settings = settings_for(
        [candidate("cand", base_url, provider=provider, max_output_tokens=2048)],
        clickhouse={"flush_interval_s": 0.05},
    )
    request = openai_request("Where is my order?", **PRICEY, stream=True, stream_options={"include_usage": True})
    [row] = await replay_rows(settings, [make_event(event_id="evt_pricey", request=request)])

    [received] = server.received
    assert not FORBIDDEN & set(received.body), sorted(FORBIDDEN & set(received.body))
    assert received.body.get("n", 1) == 1
    assert received.body["max_tokens"] == 2048 and "max_completion_tokens" not in received.body
    assert row["status"] == "ok"
    dropped = ["n", "service_tier", "store", "reasoning_effort", "logprobs", "top_logprobs", "metadata", "user",
               "x_unknown_knob", "stream", "stream_options"]  # fmt: skip
    assert row["request_changes"] == [*dropped, "max_tokens:capped"]


async def test_anthropic_event_with_huge_max_tokens_and_thinking(server_factory, client_factory) -> None:
    server, base_url = await server_factory(always(Answer.text_answer("ok")))
    client = client_factory(base_url, provider="anthropic", max_output_tokens=1000)
    request = anthropic_request("Hi", max_tokens=10**7, thinking={"type": "enabled", "budget_tokens": 60_000},
                                service_tier="auto")  # fmt: skip
    result = await client.replay(mirror_event(api="anthropic.messages", request=request))
    assert result.ok, result.error_message
    body = server.received[0].body
    assert body["max_tokens"] == 1000 and "thinking" not in body and "service_tier" not in body
    assert result.request_changes == ("thinking", "service_tier", "max_tokens:capped")


async def test_allowed_parameters_reach_the_candidate(server_factory, client_factory) -> None:
    server, base_url = await server_factory(always(Answer.text_answer("ok")))
    client = client_factory(base_url, allow_params=["service_tier", "reasoning_effort"], max_output_tokens=512)
    result = await client.replay(mirror_event(request=openai_request("Hi", **PRICEY)))
    body = server.received[0].body
    assert (body["service_tier"], body["reasoning_effort"], body["max_tokens"]) == ("priority", "high", 512)
    assert "service_tier" not in result.request_changes and "n" in result.request_changes


async def test_control_lane_replays_only_its_listed_models(server_factory) -> None:
    server, base_url = await server_factory(always(Answer.text_answer("ok")))
    control = candidate("control", base_url, model=None, role="control", control_models=["gpt-4o-2024-08-06"])
    settings = settings_for([control, candidate("cand", base_url)], clickhouse={"flush_interval_s": 0.05})
    listed = make_event(event_id="evt_listed")
    unlisted = make_event(event_id="evt_unlisted", request={**openai_request("Hi"), "model": "o1-pro"})
    rows = await replay_rows(settings, [listed, unlisted])

    assert sorted(r.body["model"] for r in server.received) == ["cand-model", "cand-model", "gpt-4o-2024-08-06"]
    by_key = {(r["event_id"], r["candidate"]): r for r in rows}
    assert len(by_key) == 4  # one row per (event, candidate): nothing lost silently
    skipped = by_key["evt_unlisted", "control"]
    assert (skipped["status"], skipped["error_kind"], skipped["attempts"]) == ("skipped", "model_not_allowed", 0)
    assert skipped["candidate_model"] == "o1-pro" and "control_models" in skipped["error_message"]
    assert by_key["evt_listed", "control"]["status"] == "ok"
    assert by_key["evt_unlisted", "cand"]["status"] == "ok"


@pytest.mark.parametrize(("retry_timeouts", "attempts"), [(False, 1), (True, 3)])
async def test_timeouts_are_retried_only_when_configured(
    server_factory, client_factory, retry_timeouts: bool, attempts: int
) -> None:
    server, base_url = await server_factory(always(Answer.failing("timeout")), timeout_s=2.0)
    client = client_factory(base_url, timeout_s=0.2, max_retries=2, retry_backoff_s=0.0, retry_timeouts=retry_timeouts)
    result = await client.replay(mirror_event())
    assert result.error_kind is ErrorKind.TIMEOUT
    assert result.attempts == attempts and len(server.received) == attempts


async def test_server_errors_are_still_retried_when_timeouts_are_not(server_factory, client_factory) -> None:
    server, base_url = await server_factory(always(Answer.failing("server_error")))
    client = client_factory(base_url, max_retries=2, retry_backoff_s=0.0)
    result = await client.replay(mirror_event())
    assert result.error_kind is ErrorKind.HTTP_5XX and result.attempts == 3 and len(server.received) == 3


async def test_a_request_too_deep_to_serialize_is_not_sent(server_factory, client_factory) -> None:
    server, base_url = await server_factory(always(Answer.text_answer("ok")))
    deep: Any = "leaf"
    for _ in range(600):
        deep = {"x": deep}
    request = openai_request("Hi", response_format={"type": "json_schema", "json_schema": {"schema": deep}})
    result = await client_factory(base_url).replay(mirror_event(request=request))
    assert result.error_kind is ErrorKind.TRANSLATION_ERROR and result.attempts == 0
    assert server.received == []


# --- response guards ------------------------------------------------------------------------------------------------


def test_the_gzip_bomb_is_a_real_gzip_body() -> None:
    assert gzip.decompress(gzip_bomb(3)) == bytes(3 * MiB)


def json_body(size: int) -> bytes:
    """An OpenAI answer of exactly ``size`` bytes (JSON padded with trailing spaces)."""
    body = orjson.dumps(openai_response("Your order ships tomorrow."))
    assert len(body) <= size
    return body + b" " * (size - len(body))


def serve(body: bytes, status: int = 200, **headers: str) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def handler(request: web.Request) -> web.StreamResponse:
        await request.read()
        return web.Response(status=status, body=body, headers={"Content-Type": "application/json", **headers})

    return handler


async def test_a_gzip_bomb_stops_at_the_decompressed_limit_in_bounded_memory(
    raw_server_factory, client_factory
) -> None:
    bomb = gzip_bomb(1024)  # 1 MiB on the wire, 1 GiB decompressed
    base_url = await raw_server_factory(serve(bomb, **{"Content-Encoding": "gzip"}))
    client = client_factory(base_url)  # defaults: 4 MiB on the wire, 8 MiB decompressed
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        result = await client.replay(mirror_event())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.error_kind is ErrorKind.RESPONSE_TOO_LARGE
    assert "max_response_decompressed_bytes" in result.error_message and result.http_status == 200
    assert result.attempts == 1  # an answer too large is not asked for again
    assert peak < 16 * MiB, f"peak {peak / MiB:.1f} MiB"  # about the 8 MiB limit, not 1 GiB


async def test_a_100_mb_body_is_refused_by_its_content_length_without_reading_it(
    raw_server_factory, client_factory
) -> None:
    written = 0

    async def handler(request: web.Request) -> web.StreamResponse:
        nonlocal written
        await request.read()
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        response.content_length = 100 * MiB
        await response.prepare(request)
        try:
            for _ in range(100):
                await response.write(b"a" * MiB)
                written += MiB
        except ConnectionError:
            pass  # the client stopped reading
        return response

    base_url = await raw_server_factory(handler)
    result = await client_factory(base_url).replay(mirror_event())
    assert result.error_kind is ErrorKind.RESPONSE_TOO_LARGE
    assert "Content-Length 104857600" in result.error_message
    assert written < 100 * MiB


async def test_a_100_mb_chunked_body_is_cut_off_while_it_arrives(raw_server_factory, client_factory) -> None:
    written = 0
    stopped = asyncio.Event()

    async def handler(request: web.Request) -> web.StreamResponse:
        nonlocal written
        await request.read()
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        try:
            for _ in range(100):
                await response.write(b"a" * MiB)
                written += MiB
        except ConnectionError:
            pass
        finally:
            stopped.set()
        return response

    base_url = await raw_server_factory(handler)
    result = await client_factory(base_url).replay(mirror_event())
    assert result.error_kind is ErrorKind.RESPONSE_TOO_LARGE
    assert "max_response_bytes (4194304) on the wire" in result.error_message
    await asyncio.wait_for(stopped.wait(), 10)
    assert written < 100 * MiB  # the connection was closed, not drained


@pytest.mark.parametrize(("size", "ok"), [(10_000, True), (10_001, False)])
async def test_a_body_just_under_or_over_max_response_bytes(raw_server_factory, client_factory, size, ok) -> None:
    base_url = await raw_server_factory(serve(json_body(size)))
    result = await client_factory(base_url, max_response_bytes=10_000).replay(mirror_event())
    if ok:
        assert result.ok and result.output is not None and result.output.text == "Your order ships tomorrow."
    else:
        assert result.error_kind is ErrorKind.RESPONSE_TOO_LARGE
        assert "Content-Length 10001 is over max_response_bytes (10000)" in result.error_message


@pytest.mark.parametrize(("size", "ok"), [(50_000, True), (50_001, False)])
@pytest.mark.parametrize("encoding", ["gzip", "deflate", "raw-deflate"])
async def test_a_compressed_body_just_under_or_over_the_decompressed_limit(
    raw_server_factory, client_factory, size, ok, encoding
) -> None:
    body = json_body(size)
    if encoding == "gzip":
        packed = gzip.compress(body)
    elif encoding == "deflate":
        packed = zlib.compress(body)
    else:  # what some servers send as "deflate": no zlib header
        packer = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
        packed = packer.compress(body) + packer.flush()
    header = "gzip" if encoding == "gzip" else "deflate"
    base_url = await raw_server_factory(serve(packed, **{"Content-Encoding": header}))
    client = client_factory(base_url, max_response_decompressed_bytes=50_000)
    result = await client.replay(mirror_event())
    if ok:
        assert result.ok, result.error_message
    else:
        assert result.error_kind is ErrorKind.RESPONSE_TOO_LARGE
        assert "max_response_decompressed_bytes (50000)" in result.error_message


async def test_an_unsupported_content_encoding_is_an_invalid_response(raw_server_factory, client_factory) -> None:
    base_url = await raw_server_factory(serve(b"\x8b\x02\x80{}\x03", **{"Content-Encoding": "br"}))
    result = await client_factory(base_url).replay(mirror_event())
    assert result.error_kind is ErrorKind.INVALID_RESPONSE and "Content-Encoding 'br'" in result.error_message


async def test_a_corrupt_gzip_body_is_an_invalid_response(raw_server_factory, client_factory) -> None:
    base_url = await raw_server_factory(serve(b"\x1f\x8b\x08\x00garbage-not-deflate", **{"Content-Encoding": "gzip"}))
    result = await client_factory(base_url).replay(mirror_event())
    assert result.error_kind is ErrorKind.INVALID_RESPONSE and "decompressed" in result.error_message


async def test_a_trickling_body_ends_as_a_timeout_within_timeout_s(raw_server_factory, client_factory) -> None:
    async def handler(request: web.Request) -> web.StreamResponse:
        await request.read()
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        response.content_length = 10_000
        await response.prepare(request)
        try:
            for _ in range(100):  # at most 10 s: a byte every 100 ms
                await response.write(b" ")
                await asyncio.sleep(0.1)
        except ConnectionError:
            pass
        return response

    base_url = await raw_server_factory(handler)
    client = client_factory(base_url, timeout_s=0.5, max_retries=2)
    started = time.monotonic()
    result = await client.replay(mirror_event())
    assert result.error_kind is ErrorKind.TIMEOUT
    assert result.attempts == 1  # timeouts are not retried by default
    assert time.monotonic() - started < 2.0


async def test_a_huge_error_body_is_read_only_for_its_message(raw_server_factory, client_factory) -> None:
    message = orjson.dumps({"error": {"message": "The server had an error", "type": "server_error"}})
    base_url = await raw_server_factory(serve(message + b" " * (50 * MiB), status=500))
    result = await client_factory(base_url, max_retries=0).replay(mirror_event())
    assert result.error_kind is ErrorKind.HTTP_5XX and result.http_status == 500
    assert "The server had an error" in result.error_message


# --- token counts ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("production_usage", "candidate_usage"),
    [
        pytest.param((-5, -1_000_000), (-40, -(10**9)), id="negative"),
        pytest.param((10**15, 10**15), (10**18, 10**18), id="huge"),
    ],
)
async def test_implausible_token_counts_never_become_costs(
    server_factory, production_usage: tuple[int, int], candidate_usage: tuple[int, int]
) -> None:
    answer = Answer(
        text="Your order ships tomorrow.", input_tokens=candidate_usage[0], output_tokens=candidate_usage[1]
    )
    _, base_url = await server_factory(always(answer))
    settings = settings_for(
        [candidate("cand", base_url, model="gpt-4o")],
        prices={"gpt-4o": {"input_per_mtok": 2.5, "output_per_mtok": 10.0}},
        clickhouse={"flush_interval_s": 0.05},
    )
    response = openai_response(
        "Your order ships tomorrow.", prompt_tokens=production_usage[0], completion_tokens=production_usage[1]
    )
    sane = make_event(event_id="evt_sane")
    [bad_row] = await replay_rows(settings, [make_event(event_id="evt_bad", response=response)])
    assert bad_row["status"] == "ok"  # the answers are still compared
    for side in ("production", "candidate"):
        assert bad_row[f"{side}_cost_usd"] is None
        assert bad_row[f"{side}_input_tokens"] is None and bad_row[f"{side}_output_tokens"] is None
    assert bad_row["cost_ratio"] is None

    # The same answers with believable counts have finite costs.
    server_answer = Answer.text_answer("Your order ships tomorrow.")
    _, sane_url = await server_factory(always(server_answer))
    sane_settings = settings.model_copy(update={"candidates": [candidate("cand", sane_url, model="gpt-4o")]})
    [sane_row] = await replay_rows(sane_settings, [sane])
    assert sane_row["production_cost_usd"] == pytest.approx((42 * 2.5 + 9 * 10.0) / 1e6)
    assert sane_row["candidate_cost_usd"] == pytest.approx((50 * 2.5 + 6 * 10.0) / 1e6)
