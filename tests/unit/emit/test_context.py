"""context(): labels of the calls made inside it, nested, per thread and per asyncio task; the emitter's defaults."""

from __future__ import annotations

import asyncio
import threading

from shadow.emit import context, current_context, instrument
from tests.unit.emit.fakes import FakeProvider, published

CHAT = {"model": "gpt-test", "messages": [{"role": "user", "content": "hi"}]}


def test_nested_contexts_inherit_and_override() -> None:
    with context(workflow="a", tenant="t1", tags={"x": "1", "y": "1"}):
        with context(subject="s", tags={"y": "2"}) as inner:
            assert (inner.workflow, inner.tenant, inner.subject) == ("a", "t1", "s")
            assert dict(inner.tags) == {"x": "1", "y": "2"}
        assert current_context().subject is None
    assert current_context().workflow is None


def test_calls_outside_a_context_get_the_emitters_defaults(emitter_factory, provider: FakeProvider) -> None:
    emitter, producer = emitter_factory(workflow="general", environment="staging", service="billing")
    instrument(provider.openai(), emitter).chat.completions.create(**CHAT)
    (event,) = published(emitter, producer)
    assert (event.event.workflow, event.event.environment, event.event.service) == ("general", "staging", "billing")
    assert (event.event.tenant, event.event.subject, event.event.tags) == (None, None, {})


def test_each_thread_labels_its_own_calls(emitter_factory, provider: FakeProvider) -> None:
    emitter, producer = emitter_factory()
    client = instrument(provider.openai(), emitter)
    barrier = threading.Barrier(4)

    def work(n: int) -> None:
        with context(workflow=f"wf{n}", subject=f"s{n}"):
            barrier.wait(5)  # all four inside their contexts at once
            client.chat.completions.create(**CHAT)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    pairs = {(e.event.workflow, e.event.subject) for e in published(emitter, producer)}
    assert pairs == {(f"wf{n}", f"s{n}") for n in range(4)}


async def test_each_task_labels_its_own_calls(emitter_factory, provider: FakeProvider) -> None:
    emitter, producer = emitter_factory()
    client = instrument(provider.async_openai(), emitter)
    both_inside = asyncio.Barrier(3)

    async def work(n: int) -> None:
        with context(workflow=f"wf{n}", tenant=f"t{n}"):
            await both_inside.wait()
            await client.chat.completions.create(**CHAT)

    await asyncio.gather(*(work(n) for n in range(3)))
    pairs = {(e.event.workflow, e.event.tenant) for e in published(emitter, producer)}
    assert pairs == {(f"wf{n}", f"t{n}") for n in range(3)}
