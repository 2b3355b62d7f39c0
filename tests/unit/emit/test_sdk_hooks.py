"""instrument() on the official SDK clients: every call answers exactly as without the emitter, and each
becomes one mirror event that decodes as the worker decodes it (three APIs, sync and async, streamed or not)."""

from __future__ import annotations

import gc
import sys

import orjson
import pytest

from shadow.emit import context, instrument
from shadow.events.models import Api
from shadow.events.output import FinishReason
from tests.unit.emit.fakes import TOOL_ANSWER, FakeProvider, chunks_of, published

CHAT = {"model": "gpt-test", "messages": [{"role": "user", "content": "Where is order 1042?"}], "tools": []}
MESSAGES = {
    "model": "claude-test",
    "max_tokens": 200,
    "messages": [{"role": "user", "content": "Where is order 1042?"}],
}
RESPONSES = {"model": "gpt-test", "input": "Where is order 1042?"}


def _check_event(decoded, api: Api, streamed: bool) -> None:
    event, production = decoded.event, decoded.production
    assert event.api is api
    assert event.stream is streamed
    assert event.error is None
    assert event.service == "support-api" and event.environment == "test"
    assert event.workflow == "support_chat" and event.tenant == "acme" and event.subject == "conv-7"
    assert event.tags == {"prompt_version": "v3"}
    assert production is not None
    assert production.text == TOOL_ANSWER.text
    assert [(c.name, orjson.loads(c.arguments)) for c in production.tool_calls] == [
        ("lookup_order", {"order_id": 1042, "fields": ["eta", "carrier"]})
    ]
    assert production.finish_reason is FinishReason.TOOL_CALLS
    assert event.latency_ms >= 0
    if streamed:
        assert event.ttft_ms is not None and 0 <= event.ttft_ms <= event.latency_ms
    else:
        assert event.ttft_ms is None


def _labels():
    return context(workflow="support_chat", tenant="acme", subject="conv-7", tags={"prompt_version": "v3"})


@pytest.mark.parametrize("streamed", [False, True], ids=["unstreamed", "streamed"])
def test_openai_chat_sync(emitter_factory, provider: FakeProvider, streamed: bool) -> None:
    emitter, producer = emitter_factory()
    plain, mirrored = provider.openai(), instrument(provider.openai(), emitter)
    with _labels():
        if streamed:
            expected = chunks_of(plain.chat.completions.create(**CHAT, stream=True))
            got = chunks_of(mirrored.chat.completions.create(**CHAT, stream=True))
        else:
            expected = plain.chat.completions.create(**CHAT).model_dump()
            got = mirrored.chat.completions.create(**CHAT).model_dump()
    assert got == expected
    (event,) = published(emitter, producer)
    _check_event(event, Api.OPENAI_CHAT, streamed)
    assert event.event.request == {**CHAT, **({"stream": True} if streamed else {})}


@pytest.mark.parametrize("streamed", [False, True], ids=["unstreamed", "streamed"])
def test_openai_responses_sync(emitter_factory, provider: FakeProvider, streamed: bool) -> None:
    emitter, producer = emitter_factory()
    plain, mirrored = provider.openai(), instrument(provider.openai(), emitter)
    with _labels():
        if streamed:
            expected = chunks_of(plain.responses.create(**RESPONSES, stream=True))
            got = chunks_of(mirrored.responses.create(**RESPONSES, stream=True))
        else:
            expected = plain.responses.create(**RESPONSES).model_dump()
            got = mirrored.responses.create(**RESPONSES).model_dump()
    assert got == expected
    (event,) = published(emitter, producer)
    _check_event(event, Api.OPENAI_RESPONSES, streamed)


@pytest.mark.parametrize("streamed", [False, True], ids=["unstreamed", "streamed"])
def test_anthropic_messages_sync(emitter_factory, provider: FakeProvider, streamed: bool) -> None:
    emitter, producer = emitter_factory()
    plain, mirrored = provider.anthropic(), instrument(provider.anthropic(), emitter)
    with _labels():
        if streamed:
            with plain.messages.stream(**MESSAGES) as stream:
                expected = [event.model_dump() for event in stream]
            with mirrored.messages.stream(**MESSAGES) as stream:
                got = [event.model_dump() for event in stream]
        else:
            expected = plain.messages.create(**MESSAGES).model_dump()
            got = mirrored.messages.create(**MESSAGES).model_dump()
    assert got == expected
    (event,) = published(emitter, producer)
    _check_event(event, Api.ANTHROPIC_MESSAGES, streamed)


@pytest.mark.parametrize("streamed", [False, True], ids=["unstreamed", "streamed"])
async def test_openai_chat_and_responses_async(emitter_factory, provider: FakeProvider, streamed: bool) -> None:
    emitter, producer = emitter_factory()
    plain, mirrored = provider.async_openai(), instrument(provider.async_openai(), emitter)
    results = {}
    with _labels():
        for name, client in (("plain", plain), ("mirrored", mirrored)):
            if streamed:
                chat = [c.model_dump() async for c in await client.chat.completions.create(**CHAT, stream=True)]
                responses = [e.model_dump() async for e in await client.responses.create(**RESPONSES, stream=True)]
            else:
                chat = (await client.chat.completions.create(**CHAT)).model_dump()
                responses = (await client.responses.create(**RESPONSES)).model_dump()
            results[name] = (chat, responses)
    assert results["mirrored"] == results["plain"]
    events = published(emitter, producer)
    assert [e.event.api for e in events] == [Api.OPENAI_CHAT, Api.OPENAI_RESPONSES]
    for event in events:
        _check_event(event, event.event.api, streamed)


@pytest.mark.parametrize("streamed", [False, True], ids=["unstreamed", "streamed"])
async def test_anthropic_messages_async(emitter_factory, provider: FakeProvider, streamed: bool) -> None:
    emitter, producer = emitter_factory()
    plain, mirrored = provider.async_anthropic(), instrument(provider.async_anthropic(), emitter)
    results = []
    with _labels():
        for client in (plain, mirrored):
            if streamed:
                async with client.messages.stream(**MESSAGES) as stream:
                    results.append([event.model_dump() async for event in stream])
            else:
                results.append((await client.messages.create(**MESSAGES)).model_dump())
    assert results[1] == results[0]
    (event,) = published(emitter, producer)
    _check_event(event, Api.ANTHROPIC_MESSAGES, streamed)


def test_instrumenting_twice_emits_once_and_copies_share_the_hooks(emitter_factory, provider: FakeProvider) -> None:
    emitter, producer = emitter_factory()
    client = instrument(instrument(provider.openai(), emitter), emitter)
    client.chat.completions.create(**CHAT)
    client.with_options(timeout=5).chat.completions.create(**CHAT)
    assert len(published(emitter, producer)) == 2


def test_other_paths_pass_untouched(emitter_factory, provider: FakeProvider) -> None:
    emitter, producer = emitter_factory()
    client = instrument(provider.openai(), emitter)
    client.models.list()
    client.embeddings.create(model="e", input="x")
    assert emitter.stats().seen == 0
    assert published(emitter, producer) == []


def test_instrument_refuses_what_it_cannot_hook(emitter_factory) -> None:
    emitter, _ = emitter_factory()
    with pytest.raises(TypeError, match="cannot instrument"):
        instrument(object(), emitter)


async def test_async_streams_leave_no_generator_of_ours_for_the_event_loop(
    emitter_factory, provider: FakeProvider
) -> None:
    """The SDKs stop reading at a stream's final event and close the response: that closes the tee's
    generator, so the event loop never has one of ours to finalize (a task per call)."""
    emitter, producer = emitter_factory()
    openai_client = instrument(provider.async_openai(), emitter)
    anthropic_client = instrument(provider.async_anthropic(), emitter)
    loop_hooks = sys.get_asyncgen_hooks()
    finalized: list[str] = []

    def finalizer(generator) -> None:  # what the loop is handed: generators dropped before they were closed
        finalized.append(generator.__qualname__)
        loop_hooks.finalizer(generator)

    sys.set_asyncgen_hooks(firstiter=loop_hooks.firstiter, finalizer=finalizer)
    try:
        with _labels():
            [c async for c in await openai_client.chat.completions.create(**CHAT, stream=True)]
            [e async for e in await openai_client.responses.create(**RESPONSES, stream=True)]
            [e async for e in await anthropic_client.messages.create(**MESSAGES, stream=True)]
            async with anthropic_client.messages.stream(**MESSAGES) as stream:
                [event async for event in stream]
        gc.collect()
    finally:
        sys.set_asyncgen_hooks(*loop_hooks)
    assert len(published(emitter, producer)) == 4
    assert [name for name in finalized if "Tee" in name] == []


@pytest.mark.parametrize("streamed", [False, True], ids=["unstreamed", "streamed"])
def test_a_raw_response_keeps_its_elapsed_and_its_streams_attributes(
    emitter_factory, provider: FakeProvider, streamed: bool
) -> None:
    """The tee stands where the response's stream stood: ``httpx2``'s ``Response.elapsed`` is read from the
    stream (once it closed), and other code finds its own attributes there (the anthropic SDK's tracing,
    its ``stream_observer``). Both answer through the tee as without the emitter."""
    emitter, producer = emitter_factory()
    seen = []
    for client in (provider.openai(), instrument(provider.openai(), emitter)):
        raw = client.chat.completions.with_raw_response.create(**CHAT, stream=streamed)
        if streamed:
            chunks_of(iter(raw.parse()))
        else:
            raw.parse()
        http_response = raw.http_response
        seen.append((type(raw.elapsed).__name__, raw.elapsed.total_seconds() >= 0, http_response.is_closed))
        inner = http_response.stream
        while hasattr(inner, "_inner"):  # the stream the tee wraps
            inner = inner._inner
        inner.marker = "set by other code"
        assert http_response.stream.marker == "set by other code"
    assert seen[1] == seen[0] == ("timedelta", True, True)
    assert len(published(emitter, producer)) == 1
