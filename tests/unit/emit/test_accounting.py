"""The emitter's counters: every exchange accounted once, and queued == sent + send_failed + at_close +
unusable + pending at every moment; bounded buffer, per-exchange cap, drops instead of waits."""

from __future__ import annotations

import time

import httpx
import pytest

from shadow.emit import AFTER_QUEUE, EmitterStats, httpx_hooks, instrument
from shadow.emit.memory import MemoryProducer
from tests.unit.emit.fakes import FakeProvider, published

CHAT = {"model": "gpt-test", "messages": [{"role": "user", "content": "Where is order 1042?"}]}


def assert_invariant(stats: EmitterStats) -> None:
    after = sum(stats.dropped[reason] for reason in AFTER_QUEUE)
    assert stats.queued == stats.sent + after + stats.pending, stats


def wait_for(predicate, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.01)


def test_all_sent(emitter_factory, provider: FakeProvider) -> None:
    emitter, producer = emitter_factory()
    client = instrument(provider.openai(), emitter)
    for _ in range(7):
        client.chat.completions.create(**CHAT)
    assert len(published(emitter, producer)) == 7
    stats = emitter.close(2)
    assert (stats.seen, stats.queued, stats.sent, stats.pending, stats.dropped_total) == (7, 7, 7, 0, 0)
    assert_invariant(stats)


def test_unacknowledged_events_are_pending_then_dropped_at_close(emitter_factory, provider: FakeProvider) -> None:
    emitter, producer = emitter_factory(MemoryProducer(hold=True))
    client = instrument(provider.openai(), emitter)
    for _ in range(5):
        client.chat.completions.create(**CHAT)
    wait_for(lambda: len(producer.records) == 5)
    stats = emitter.stats()
    assert (stats.queued, stats.sent, stats.pending) == (5, 0, 5)
    assert_invariant(stats)
    stats = emitter.close(0.3)
    assert (stats.sent, stats.pending, stats.dropped["at_close"]) == (0, 0, 5)
    assert_invariant(stats)


def test_held_events_acknowledged_later_are_sent(emitter_factory, provider: FakeProvider) -> None:
    emitter, producer = emitter_factory(MemoryProducer(hold=True))
    client = instrument(provider.openai(), emitter)
    for _ in range(3):
        client.chat.completions.create(**CHAT)
    wait_for(lambda: len(producer.records) == 3)
    assert producer.release() == 3
    wait_for(lambda: emitter.stats().sent == 3)
    assert_invariant(emitter.close(1))


def test_a_publisher_that_cannot_connect_fills_the_buffer_then_drops(emitter_factory, provider: FakeProvider) -> None:
    emitter, _producer = emitter_factory(MemoryProducer(fail_start=True), max_buffer_events=4)
    client = instrument(provider.openai(), emitter)
    answers = [client.chat.completions.create(**CHAT) for _ in range(10)]
    assert all(a.choices[0].message.content for a in answers)
    stats = emitter.stats()
    assert (stats.queued, stats.dropped["buffer_full"], stats.pending) == (4, 6, 4)
    assert_invariant(stats)
    stats = emitter.close(0.2)
    assert (stats.sent, stats.dropped["at_close"], stats.pending) == (0, 4, 0)
    assert stats.dropped_total == 10
    assert_invariant(stats)


def test_the_buffer_is_bounded_in_bytes_too(emitter_factory, provider: FakeProvider) -> None:
    emitter, _ = emitter_factory(MemoryProducer(fail_start=True), max_buffer_bytes=4000)
    client = instrument(provider.openai(), emitter)
    for _ in range(10):
        client.chat.completions.create(**CHAT)
    stats = emitter.stats()
    assert 1 <= stats.queued < 10 and stats.dropped["buffer_full"] == 10 - stats.queued


def test_the_publisher_reconnects_by_itself(emitter_factory, provider: FakeProvider) -> None:
    producer = MemoryProducer(fail_start=True)
    emitter, _ = emitter_factory(producer, connect_backoff_max_s=0.2)
    client = instrument(provider.openai(), emitter)
    client.chat.completions.create(**CHAT)
    wait_for(lambda: producer.starts >= 2)
    assert emitter.stats().connected is False
    producer.fail_start = False
    client.chat.completions.create(**CHAT)
    wait_for(lambda: emitter.stats().sent == 2)
    assert emitter.stats().connected is True


def test_sends_the_producer_refuses_are_send_failed(emitter_factory, provider: FakeProvider) -> None:
    emitter, _ = emitter_factory(MemoryProducer(fail_send=True))
    client = instrument(provider.openai(), emitter)
    for _ in range(3):
        client.chat.completions.create(**CHAT)
    wait_for(lambda: emitter.stats().dropped["send_failed"] == 3)
    assert_invariant(emitter.close(1))


def test_an_exchange_over_the_capture_cap_is_too_large(emitter_factory, provider: FakeProvider) -> None:
    emitter, producer = emitter_factory(max_capture_bytes=1500)
    client = instrument(provider.openai(), emitter)
    big = {**CHAT, "messages": [{"role": "user", "content": "x" * 2000}]}
    client.chat.completions.create(**big)  # the request alone is over
    plain = [c.model_dump() for c in provider.openai().chat.completions.create(**CHAT, stream=True)]
    got = [c.model_dump() for c in client.chat.completions.create(**CHAT, stream=True)]  # the stream outgrows it
    assert got == plain
    client.chat.completions.create(**CHAT)  # fits
    assert len(published(emitter, producer)) == 1
    stats = emitter.stats()
    assert (stats.dropped["too_large"], stats.queued, stats.sent) == (2, 1, 1)


def test_calls_after_close_are_dropped_as_closed(emitter_factory, provider: FakeProvider) -> None:
    emitter, _ = emitter_factory()
    client = instrument(provider.openai(), emitter)
    emitter.close(1)
    assert client.chat.completions.create(**CHAT).choices
    stats = emitter.stats()
    assert (stats.seen, stats.queued, stats.dropped["closed"]) == (1, 0, 1)


def test_close_returns_in_time_when_the_broker_never_answers(emitter_factory, provider: FakeProvider) -> None:
    emitter, _ = emitter_factory(MemoryProducer(hang_start=True))
    client = instrument(provider.openai(), emitter)
    for _ in range(3):
        client.chat.completions.create(**CHAT)
    started = time.monotonic()
    stats = emitter.close(0.3)
    assert time.monotonic() - started < 5  # generous: close() is bounded by its timeout, not by the broker
    assert (stats.dropped["at_close"], stats.pending) == (3, 0)
    assert_invariant(stats)


@pytest.mark.parametrize("hold", [False, True])
def test_the_invariant_holds_under_concurrent_callers(emitter_factory, provider: FakeProvider, hold: bool) -> None:
    import threading

    emitter, _producer = emitter_factory(MemoryProducer(hold=hold), max_buffer_events=50)
    client = httpx.Client(transport=httpx.MockTransport(provider.handler(httpx)), event_hooks=httpx_hooks(emitter))
    samples: list[EmitterStats] = []

    def call(n: int) -> None:
        for _ in range(25):
            client.post("http://provider.test/v1/chat/completions", json=CHAT)
            samples.append(emitter.stats())

    threads = [threading.Thread(target=call, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    for sample in samples:
        assert_invariant(sample)
    final = emitter.close(0.5)
    assert_invariant(final)
    assert final.seen == 100 and final.pending == 0
    assert final.queued + final.dropped["buffer_full"] == 100
    assert final.sent + final.dropped_total == 100


def test_event_ids_are_unique(emitter_factory) -> None:
    emitter, _ = emitter_factory()
    seen = {emitter._ids.next() for _ in range(1000)}
    assert len(seen) == 1000 and all(len(i) == 36 for i in seen)


def test_a_forked_child_gets_its_own_publisher_and_ids(emitter_factory, provider: FakeProvider) -> None:
    """A pre-forking server (gunicorn --preload, celery) forks after the emitter started: the child's calls
    are still sent, by a publisher of its own, under other event ids."""
    import os
    import warnings

    emitter, producer = emitter_factory()
    client = httpx.Client(transport=httpx.MockTransport(provider.handler(httpx)), event_hooks=httpx_hooks(emitter))
    client.post("http://provider.test/v1/chat/completions", json=CHAT)
    assert emitter.flush(5)
    read, write = os.pipe()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # fork in a threaded process (3.12+ warns)
        pid = os.fork()
    if pid == 0:  # the child
        try:
            client.post("http://provider.test/v1/chat/completions", json=CHAT)
            flushed = emitter.flush(5)
            stats = emitter.close(2)
            last = producer.records[-1].key.decode()
            os.write(write, f"{flushed} {stats.seen} {stats.sent} {last}".encode())
        finally:
            os._exit(0)
    os.close(write)
    answer = os.read(read, 200).decode().split()
    os.waitpid(pid, 0)
    os.close(read)
    assert answer[:3] == ["True", "1", "1"]  # the child's own counters: its one call, sent
    parent_id = producer.records[0].key.decode()
    assert answer[3] != parent_id and answer[3][:23] != parent_id[:23]
    assert emitter.stats().sent == 1  # the parent's counters are its own
