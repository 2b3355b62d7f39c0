"""httpx_hooks()/async_httpx_hooks() for services calling the APIs with httpx directly: the caller reads the
same bytes in the same pieces; which exchanges become events (paths, methods, errors, retried attempts)."""

from __future__ import annotations

import asyncio
import time

import httpx
import orjson
import pytest

from shadow.emit import async_httpx_hooks, context, httpx_hooks, instrument
from shadow.emit.build import RETRIES_TAG
from shadow.events.models import Api
from tests.unit.emit.fakes import FakeProvider, published

CHAT = {"model": "gpt-test", "messages": [{"role": "user", "content": "Where is order 1042?"}]}
URL = "http://provider.test/v1/chat/completions"


def _client(provider: FakeProvider, hooks=None) -> httpx.Client:
    return httpx.Client(transport=httpx.MockTransport(provider.handler(httpx)), event_hooks=hooks)


@pytest.mark.parametrize("streamed", [False, True], ids=["unstreamed", "streamed"])
def test_the_caller_reads_the_same_pieces(emitter_factory, provider: FakeProvider, streamed: bool) -> None:
    emitter, producer = emitter_factory()
    body = {**CHAT, "stream": streamed}
    pieces = []
    for client in (_client(provider), _client(provider, httpx_hooks(emitter))):
        with client.stream("POST", URL, json=body) as response:
            pieces.append((response.status_code, dict(response.headers), list(response.iter_raw())))
    assert pieces[1] == pieces[0]
    if streamed:
        assert len(pieces[0][2]) > 10  # one SSE event a piece
    (event,) = published(emitter, producer)
    assert event.event.stream is streamed and event.event.request == body
    assert event.production is not None and event.production.text


@pytest.mark.parametrize("streamed", [False, True], ids=["unstreamed", "streamed"])
async def test_async_client_reads_the_same_pieces(emitter_factory, provider: FakeProvider, streamed: bool) -> None:
    emitter, producer = emitter_factory()
    body = {**CHAT, "stream": streamed}
    pieces = []
    for hooks in (None, async_httpx_hooks(emitter)):
        async with (
            httpx.AsyncClient(
                transport=httpx.MockTransport(provider.async_handler(httpx)), event_hooks=hooks
            ) as client,
            client.stream("POST", URL, json=body) as response,
        ):
            pieces.append([piece async for piece in response.aiter_raw()])
    assert pieces[1] == pieces[0]
    (event,) = published(emitter, producer)
    assert event.event.stream is streamed


def test_a_body_read_before_the_hooks_is_recorded_too(emitter_factory) -> None:
    """A transport answering from memory (MockTransport with bytes) hands over a body already read."""
    emitter, producer = emitter_factory()
    body = {
        "id": "c",
        "object": "chat.completion",
        "model": "m",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi"}, "finish_reason": "stop"}],
    }

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=body)

    client = httpx.Client(transport=httpx.MockTransport(handler), event_hooks=httpx_hooks(emitter))
    assert client.post(URL, json=CHAT).json() == body
    (event,) = published(emitter, producer)
    assert event.event.response == body


def test_only_posts_to_the_three_apis_are_seen(emitter_factory, provider: FakeProvider) -> None:
    emitter, producer = emitter_factory()
    client = _client(provider, httpx_hooks(emitter))
    client.get("http://provider.test/v1/models")
    client.post("http://provider.test/v1/embeddings", json={"model": "e", "input": "x"})
    client.get("http://provider.test/v1/responses")
    client.post("http://provider.test/v1/messages/count_tokens", json={"model": "c", "messages": []})
    assert emitter.stats().seen == 0
    client.post("http://provider.test/v1/messages", json={**CHAT, "max_tokens": 10})
    client.post("http://provider.test/v1/responses", json={"model": "gpt-test", "input": "hi"})
    client.post(URL, json=CHAT)
    assert [e.event.api for e in published(emitter, producer)] == [
        Api.ANTHROPIC_MESSAGES,
        Api.OPENAI_RESPONSES,
        Api.OPENAI_CHAT,
    ]


@pytest.mark.parametrize(("status", "kind"), [(400, "invalid_request_error"), (401, "authentication_error")])
def test_a_final_error_is_an_error_event(emitter_factory, status: int, kind: str) -> None:
    emitter, producer = emitter_factory()

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json={"error": {"message": "no such parameter: foo", "type": kind}})

    client = httpx.Client(transport=httpx.MockTransport(handler), event_hooks=httpx_hooks(emitter))
    assert client.post(URL, json=CHAT).status_code == status
    (event,) = published(emitter, producer)
    assert event.event.response is None and event.production is None
    assert event.event.error is not None
    assert (event.event.error.status, event.event.error.type) == (status, kind)
    assert event.event.error.message == "no such parameter: foo"


def test_an_sdk_call_retried_after_429_and_500_is_one_event(emitter_factory) -> None:
    """The SDK retries 429 and 500 (its own backoff); only the answered attempt is emitted, tagged."""
    emitter, producer = emitter_factory()
    provider = FakeProvider(statuses=[429, 500])
    client = instrument(provider.openai(max_retries=2), emitter)
    with context(tags={"release": "r1"}):
        answer = client.with_options(timeout=10).chat.completions.create(**CHAT)
    assert answer.choices[0].message.content
    assert len(provider.requests) == 3
    (event,) = published(emitter, producer)
    assert event.event.tags == {"release": "r1", RETRIES_TAG: "2"}
    assert event.production is not None
    stats = emitter.stats()
    assert (stats.seen, stats.retried, stats.queued, stats.sent) == (3, 2, 1, 1)


def test_retries_run_out_nothing_is_emitted_by_default(emitter_factory) -> None:
    emitter, producer = emitter_factory()
    provider = FakeProvider(statuses=[429, 429])
    client = instrument(provider.openai(max_retries=1), emitter)
    with pytest.raises(Exception, match="slow down"):
        client.chat.completions.create(**CHAT)
    assert published(emitter, producer) == []
    assert emitter.stats().retried == 2


def test_emit_retriable_errors_emits_each_failed_attempt(emitter_factory) -> None:
    emitter, producer = emitter_factory(emit_retriable_errors=True)
    provider = FakeProvider(statuses=[429])
    client = instrument(provider.openai(max_retries=1), emitter)
    client.chat.completions.create(**CHAT)
    events = published(emitter, producer)
    assert [e.event.error.status if e.event.error else None for e in events] == [429, None]
    assert events[0].event.error.type == "rate_limit_error"
    assert events[1].event.tags == {RETRIES_TAG: "1"}


def test_a_body_that_is_not_json_is_productions_error(emitter_factory) -> None:
    emitter, producer = emitter_factory()

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b'{"id": "chatcmpl-x", "choices": [')

    client = httpx.Client(transport=httpx.MockTransport(handler), event_hooks=httpx_hooks(emitter))
    client.post(URL, json=CHAT)
    (event,) = published(emitter, producer)
    assert event.event.error is not None and event.event.error.type == "invalid_response"


def test_a_request_that_is_not_json_is_dropped_as_unusable(emitter_factory, provider: FakeProvider) -> None:
    emitter, producer = emitter_factory()
    client = _client(provider, httpx_hooks(emitter))
    with pytest.raises(orjson.JSONDecodeError):
        client.post(URL, content=b"not json")  # the fake provider itself parses it
    client2 = httpx.Client(
        transport=httpx.MockTransport(lambda request: httpx.Response(200, json={"ok": True})),
        event_hooks=httpx_hooks(emitter),
    )
    client2.post(URL, content=b"not json")
    assert published(emitter, producer) == []
    assert emitter.stats().dropped["unusable"] == 1


def test_a_stream_the_caller_leaves_early_is_not_emitted(emitter_factory, provider: FakeProvider) -> None:
    emitter, producer = emitter_factory()
    client = _client(provider, httpx_hooks(emitter))
    with client.stream("POST", URL, json={**CHAT, "stream": True}) as response:
        first = next(response.iter_raw())
    assert first
    assert published(emitter, producer) == []
    assert emitter.stats().dropped["unusable"] == 1


def test_a_stream_cut_by_the_network_is_productions_error(emitter_factory) -> None:
    emitter, producer = emitter_factory()

    def pieces():
        yield b'data: {"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"Hel"}}]}\n\n'
        raise httpx.ReadError("connection reset")

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=pieces())

    client = httpx.Client(transport=httpx.MockTransport(handler), event_hooks=httpx_hooks(emitter))
    with pytest.raises(httpx.ReadError), client.stream("POST", URL, json={**CHAT, "stream": True}) as response:
        list(response.iter_raw())
    (event,) = published(emitter, producer)
    assert event.event.error is not None
    assert event.event.error.type == "stream_interrupted" and "connection reset" in event.event.error.message
    assert event.event.ttft_ms is not None  # the first token did arrive


def _async_client(handler, emitter) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.MockTransport(handler), event_hooks=async_httpx_hooks(emitter))


async def test_an_async_stream_the_caller_leaves_early_is_not_emitted(emitter_factory, provider: FakeProvider) -> None:
    emitter, producer = emitter_factory()
    async with (
        _async_client(provider.async_handler(httpx), emitter) as client,
        client.stream("POST", URL, json={**CHAT, "stream": True}) as response,
    ):
        pieces = response.aiter_raw()
        first = await pieces.__anext__()
        tee = response.stream._iterator  # the tee's generator, suspended at its first chunk
        assert tee.ag_frame is not None  # suspended
    assert first
    # Closing the response closed the tee's generator: the event loop has nothing of ours to finalize.
    assert tee.ag_frame is None
    assert published(emitter, producer) == []
    assert emitter.stats().dropped["unusable"] == 1


async def test_an_async_stream_cut_by_the_network_is_productions_error(emitter_factory) -> None:
    emitter, producer = emitter_factory()

    async def pieces():
        yield b'data: {"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"Hel"}}]}\n\n'
        raise httpx.ReadError("connection reset")

    async def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=pieces())

    async with _async_client(handler, emitter) as client:
        with pytest.raises(httpx.ReadError):
            async with client.stream("POST", URL, json={**CHAT, "stream": True}) as response:
                [piece async for piece in response.aiter_raw()]
    (event,) = published(emitter, producer)
    assert event.event.error is not None
    assert event.event.error.type == "stream_interrupted" and "connection reset" in event.event.error.message


async def test_an_async_stream_whose_task_is_cancelled_is_not_emitted(emitter_factory) -> None:
    emitter, producer = emitter_factory()
    first_read = asyncio.Event()

    async def pieces():
        yield b'data: {"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"Hel"}}]}\n\n'
        first_read.set()
        await asyncio.sleep(30)  # the provider stalls: the caller's task gives up
        yield b"data: [DONE]\n\n"

    async def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=pieces())

    async def call() -> None:
        async with (
            _async_client(handler, emitter) as client,
            client.stream("POST", URL, json={**CHAT, "stream": True}) as response,
        ):
            [piece async for piece in response.aiter_raw()]

    task = asyncio.create_task(call())
    await first_read.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert published(emitter, producer) == []
    stats = emitter.stats()
    assert stats.dropped["unusable"] == 1 and stats.hook_errors == 0


def test_an_error_event_inside_a_stream_is_productions_error(emitter_factory) -> None:
    emitter, producer = emitter_factory()
    stream = (
        b'event: message_start\ndata: {"type":"message_start","message":{"id":"m","type":"message","role":"assistant",'
        b'"model":"c","content":[],"usage":{"input_tokens":3,"output_tokens":1}}}\n\n'
        b'event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n'
    )

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=iter([stream]))

    client = httpx.Client(transport=httpx.MockTransport(handler), event_hooks=httpx_hooks(emitter))
    client.post("http://provider.test/v1/messages", json={**CHAT, "max_tokens": 5, "stream": True})
    (event,) = published(emitter, producer)
    assert event.event.error is not None
    assert (event.event.error.type, event.event.error.message) == ("overloaded_error", "Overloaded")


@pytest.mark.parametrize("streamed", [False, True], ids=["unstreamed", "streamed"])
@pytest.mark.parametrize("coding", ["gzip", "deflate"])
def test_a_compressed_body_is_decoded_off_the_request_path(
    emitter_factory, provider: FakeProvider, streamed: bool, coding: str
) -> None:
    """Providers compress (gzip for JSON, often); the tee records the body as it travels, compressed."""
    import zlib

    emitter, producer = emitter_factory()
    body = {**CHAT, "stream": streamed}
    pieces = list(provider.handler(httpx)(httpx.Request("POST", URL, json=body)).iter_raw())
    compressor = zlib.compressobj(wbits=16 + zlib.MAX_WBITS if coding == "gzip" else zlib.MAX_WBITS)
    compressed = [compressor.compress(piece) + compressor.flush(zlib.Z_SYNC_FLUSH) for piece in pieces]
    compressed.append(compressor.flush())

    def handler(request: httpx.Request) -> httpx.Response:
        kind = "text/event-stream" if streamed else "application/json"
        return httpx.Response(200, headers={"content-type": kind, "content-encoding": coding}, content=iter(compressed))

    client = httpx.Client(transport=httpx.MockTransport(handler), event_hooks=httpx_hooks(emitter))
    with client.stream("POST", URL, json=body) as response:
        assert b"".join(response.iter_bytes()) == b"".join(pieces)  # the caller reads it decoded, as ever
    (event,) = published(emitter, producer)
    assert event.event.error is None and event.production is not None
    assert event.production.tool_calls[0].name == "lookup_order"
    assert (event.event.ttft_ms is not None) == streamed


def test_a_compression_bomb_costs_the_cap_not_its_expansion(emitter_factory) -> None:
    import gzip

    emitter, producer = emitter_factory(max_capture_bytes=64 * 1024)
    bomb = gzip.compress(b'{"pad": "' + b"0" * 10_000_000 + b'"}')  # 10 MB from about 10 KB

    def handler(request: httpx.Request) -> httpx.Response:
        headers = {"content-type": "application/json", "content-encoding": "gzip"}
        return httpx.Response(200, headers=headers, content=iter([bomb]))

    client = httpx.Client(transport=httpx.MockTransport(handler), event_hooks=httpx_hooks(emitter))
    with client.stream("POST", URL, json=CHAT) as response:
        for _ in response.iter_raw():
            pass
    assert published(emitter, producer) == []
    assert emitter.stats().dropped["unusable"] == 1


@pytest.mark.parametrize("flavour", ["httpx", "httpx2"])
@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
def test_latency_starts_when_httpx_sends_the_request(emitter_factory, flavour: str, is_async: bool) -> None:
    """There is no request hook: the call's start is the ``perf_counter()`` httpx (and its fork httpx2, the
    SDKs') keeps on the response's stream just before sending. A provider slow to answer the headers
    (80 ms here) is in the event's latency; were that clock gone (the hook then falls back to the moment
    the headers arrived), the latency would be a few ms."""
    module = __import__(flavour)
    emitter, producer = emitter_factory()
    body = orjson.dumps(
        {
            "id": "c1",
            "object": "chat.completion",
            "model": "m",
            "choices": [
                {"index": 0, "message": {"role": "assistant", "content": "On its way."}, "finish_reason": "stop"}
            ],
        }
    )
    hooks = async_httpx_hooks(emitter) if is_async else httpx_hooks(emitter)
    if is_async:

        async def chunks():
            yield body

        async def slow_async(request):
            await asyncio.sleep(0.08)
            return module.Response(200, headers={"content-type": "application/json"}, content=chunks())

        async def call() -> None:
            async with module.AsyncClient(transport=module.MockTransport(slow_async), event_hooks=hooks) as client:
                (await client.post(URL, json=CHAT)).raise_for_status()

        asyncio.run(call())
    else:

        def slow(request):
            time.sleep(0.08)
            return module.Response(200, headers={"content-type": "application/json"}, content=iter([body]))

        with module.Client(transport=module.MockTransport(slow), event_hooks=hooks) as client:
            client.post(URL, json=CHAT).raise_for_status()
    (event,) = published(emitter, producer)
    assert 80 <= event.event.latency_ms < 5_000
