"""A broken emitter never breaks a call: each hook path fails on purpose and the caller gets exactly what it
gets without the emitter, while the fault is counted (hook_errors)."""

from __future__ import annotations

import httpx
import pytest

from shadow.emit import capture, hooks, instrument
from shadow.emit.build import EventBuilder
from shadow.emit.capture import Exchange
from shadow.emit.emitter import Outbox
from shadow.emit.sampling import SourceSampler
from tests.unit.emit.fakes import FakeProvider, chunks_of

CHAT = {"model": "gpt-test", "messages": [{"role": "user", "content": "Where is order 1042?"}]}


class Broken(RuntimeError):
    pass


def _boom(*args, **kwargs):
    raise Broken("emitter bug")


class _BrokenRates(dict):
    def get(self, *args, **kwargs):
        raise Broken("emitter bug")


def _broken_end() -> property:
    """``Exchange.ended`` that cannot be set: marking a body's end fails (in the tee and in Exchange.end)."""
    return property(lambda self: 0.0, _boom)


BREAKAGES = {
    "sampling": lambda emitter, mp: mp.setattr(emitter, "sampler", SourceSampler(_BrokenRates(), 0.5)),
    "response hook": lambda emitter, mp: mp.setattr(hooks, "Exchange", _boom),
    "recording a chunk": lambda emitter, mp: mp.setattr(capture, "perf_counter", _boom),
    "handing over": lambda emitter, mp: mp.setattr(Outbox, "put", _boom),
    "marking the end": lambda emitter, mp: mp.setattr(Exchange, "ended", _broken_end()),
    "counting": lambda emitter, mp: mp.setattr(Outbox, "count", _boom),
}


@pytest.mark.parametrize("breakage", sorted(BREAKAGES))
@pytest.mark.parametrize("streamed", [False, True], ids=["unstreamed", "streamed"])
def test_sync_calls_survive(emitter_factory, provider: FakeProvider, monkeypatch, breakage: str, streamed: bool):
    emitter, _ = emitter_factory()
    client = instrument(provider.openai(), emitter)
    expected = _call(provider.openai(), streamed)
    BREAKAGES[breakage](emitter, monkeypatch)
    assert _call(client, streamed) == expected
    monkeypatch.undo()
    assert emitter.stats().hook_errors >= (0 if breakage == "counting" else 1)


@pytest.mark.parametrize("breakage", sorted(BREAKAGES))
async def test_async_streams_survive(emitter_factory, provider: FakeProvider, monkeypatch, breakage: str):
    emitter, _ = emitter_factory()
    client = instrument(provider.async_openai(), emitter)
    plain = provider.async_openai()
    expected = [c.model_dump() async for c in await plain.chat.completions.create(**CHAT, stream=True)]
    BREAKAGES[breakage](emitter, monkeypatch)
    got = [c.model_dump() async for c in await client.chat.completions.create(**CHAT, stream=True)]
    assert got == expected


def test_a_failing_build_drops_the_event_and_the_publisher_goes_on(emitter_factory, provider, monkeypatch):
    emitter, _producer = emitter_factory()
    client = instrument(provider.openai(), emitter)
    monkeypatch.setattr(EventBuilder, "__call__", _boom)
    client.chat.completions.create(**CHAT)
    assert emitter.flush(5)
    monkeypatch.undo()
    client.chat.completions.create(**CHAT)
    assert emitter.flush(5)
    stats = emitter.stats()
    assert (stats.dropped["unusable"], stats.sent) == (1, 1)


def test_the_callers_own_errors_reach_it_unchanged(emitter_factory) -> None:
    emitter, _ = emitter_factory()

    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    client = httpx.Client(transport=httpx.MockTransport(handler))
    instrument(client, emitter)
    with pytest.raises(httpx.ConnectError, match="refused"):
        client.post("http://provider.test/v1/chat/completions", json=CHAT)
    assert emitter.stats().hook_errors == 0


def _call(client, streamed: bool):
    if streamed:
        return chunks_of(client.chat.completions.create(**CHAT, stream=True))
    return client.chat.completions.create(**CHAT).model_dump()
