"""shadow.emit on a real broker: the example service's events reach Kafka and decode; with Kafka refusing,
or accepting and never answering, every call still succeeds and the drops equal the events not sent; the
emitter connects by itself once Kafka comes up."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from aiokafka import AIOKafkaConsumer

from shadow.emit import AFTER_QUEUE, Emitter, instrument
from shadow.events.decode import decode_event
from shadow.events.models import Api
from tests.conftest import ROOT, _free_port, unique
from tests.unit.emit.fakes import FakeProvider

pytestmark = [pytest.mark.kafka]

EXAMPLE = ROOT / "examples" / "support_service" / "service.py"
CONVERSATIONS = 8  # one of each flow of the example: 16 LLM calls


def run_example(bootstrap: str, topic: str, *extra: str, timeout_s: float = 90) -> dict:
    env = {**os.environ, "SHADOW_REDACTION_KEY": "emit-test-key"}
    done = subprocess.run(
        [sys.executable, str(EXAMPLE), "--bootstrap", bootstrap, "--topic", topic, "--count", str(CONVERSATIONS),
         "--latency-ms", "20", *extra],
        capture_output=True, text=True, timeout=timeout_s, env=env, cwd=ROOT, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


async def read_topic(bootstrap: str, topic: str, expected: int, timeout_s: float = 30.0) -> list:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=unique("g"))
    await consumer.start()
    records: list = []
    try:
        deadline = time.monotonic() + timeout_s
        while len(records) < expected and time.monotonic() < deadline:
            for batch in (await consumer.getmany(timeout_ms=500)).values():
                records.extend(batch)
    finally:
        await consumer.stop()
    return records


def assert_accounted(stats: dict) -> None:
    after = sum(stats["dropped"][reason] for reason in AFTER_QUEUE)
    assert stats["queued"] == stats["sent"] + after + stats["pending"]


def test_the_example_service_emits_events_that_decode(kafka_bootstrap: str) -> None:
    topic = unique("mirror")
    report = run_example(kafka_bootstrap, topic)
    assert report["failed"] == [] and report["conversations"] == CONVERSATIONS
    stats = report["emitter"]
    assert (stats["seen"], stats["sent"], stats["pending"]) == (16, 16, 0)
    assert sum(stats["dropped"].values()) == 0
    records = asyncio.run(read_topic(kafka_bootstrap, topic, 16))
    assert len(records) == 16
    decoded = [decode_event(record.value, max_bytes=1 << 20) for record in records]
    assert all(record.key == d.event.event_id.encode() for record, d in zip(records, decoded, strict=True))
    assert {(d.event.api, d.event.stream) for d in decoded} == {
        (Api.OPENAI_CHAT, False),
        (Api.OPENAI_CHAT, True),
        (Api.OPENAI_RESPONSES, False),
        (Api.OPENAI_RESPONSES, True),
        (Api.ANTHROPIC_MESSAGES, False),
        (Api.ANTHROPIC_MESSAGES, True),
    }
    tool_turns = [d for d in decoded if d.production is not None and d.production.tool_calls]
    assert len(tool_turns) == 8 and all(d.production.tool_calls[0].name == "lookup_order" for d in tool_turns)
    assert all(d.production is not None and d.production.text for d in decoded if d not in tool_turns)
    for d in decoded:
        event = d.event
        assert event.service == "support-api" and event.workflow == "support_chat"
        assert event.subject is not None and event.subject.startswith("conversation-")
        assert event.tags["prompt_version"] == "v7"
        assert (event.ttft_ms is not None) == event.stream
        assert b"@example.com" not in json.dumps(event.request).encode()  # redacted at the source


def test_with_kafka_refusing_every_call_succeeds_and_every_event_is_counted_dropped(kafka_bootstrap: str) -> None:
    closed_port = _free_port()  # nothing listens there: connections are refused
    report = run_example(f"127.0.0.1:{closed_port}", unique("mirror"), "--close-timeout", "1")
    assert report["failed"] == [] and report["conversations"] == CONVERSATIONS
    served, stats = report["emitter_when_served"], report["emitter"]
    assert served["connected"] is False and served["sent"] == 0
    assert (stats["seen"], stats["sent"], stats["pending"]) == (16, 0, 0)
    assert sum(stats["dropped"].values()) == 16  # every event it could not send
    assert_accounted(served)
    assert_accounted(stats)


class SilentBroker:
    """A TCP server that accepts connections and reads what clients send, and never answers a byte."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.connections = 0
        self.received = 0
        self._open: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        self.server.settimeout(0.1)
        while not self._stop.is_set():
            try:
                conn, _ = self.server.accept()
            except TimeoutError:
                for conn in self._open:
                    conn.setblocking(False)
                    try:
                        self.received += len(conn.recv(65536))
                    except BlockingIOError:
                        pass
                    except OSError:
                        continue
                continue
            self.connections += 1
            self._open.append(conn)

    @contextmanager
    def running(self) -> Iterator[SilentBroker]:
        self._thread.start()
        try:
            yield self
        finally:
            self._stop.set()
            self._thread.join(5)
            for conn in self._open:
                conn.close()
            self.server.close()


def test_with_a_broker_that_never_answers_no_call_waits_on_it(kafka_bootstrap: str) -> None:
    """The broker accepts the emitter's connection and reads its request but never answers anything: every
    call of the service completes meanwhile, so none waited on Kafka (structurally, not by a timing)."""
    with SilentBroker().running() as broker:
        report = run_example(f"127.0.0.1:{broker.port}", unique("mirror"), "--close-timeout", "1")
        assert broker.connections >= 1 and broker.received > 0  # the publisher is stuck waiting for an answer
    assert report["failed"] == [] and report["conversations"] == CONVERSATIONS
    served, stats = report["emitter_when_served"], report["emitter"]
    assert served["connected"] is False and served["sent"] == 0
    assert served["queued"] + served["dropped"]["buffer_full"] == 16
    assert (stats["sent"], stats["pending"]) == (0, 0)
    assert sum(stats["dropped"].values()) == 16
    assert_accounted(stats)
    assert report["slowest_conversation_s"] < 30  # generous guard: a call waiting on this broker would never end


class GatedProxy:
    """A TCP proxy to the real broker on a port that refuses connections until :meth:`open` is called."""

    def __init__(self, target: str) -> None:
        host, _, port = target.rpartition(":")
        self.target = (host, int(port))
        self.port = _free_port()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.AbstractServer | None = None

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except OSError:
            pass
        finally:
            writer.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self.target)
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))

    def open(self) -> None:
        async def start() -> None:
            self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)

        asyncio.run_coroutine_threadsafe(start(), self._loop).result(10)

    @contextmanager
    def running(self) -> Iterator[GatedProxy]:
        self._thread.start()
        try:
            yield self
        finally:

            async def stop() -> None:
                if self._server is not None:
                    self._server.close()
                tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)

            asyncio.run_coroutine_threadsafe(stop(), self._loop).result(10)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(5)
            self._loop.close()


def test_the_emitter_connects_by_itself_when_kafka_comes_up(kafka_bootstrap: str) -> None:
    """Events of calls made while Kafka was unreachable wait in the buffer and are sent once it answers."""
    topic = unique("mirror")
    provider = FakeProvider()
    with GatedProxy(kafka_bootstrap).running() as proxy:
        emitter = Emitter(
            service="support-api",
            redact=False,
            connect_backoff_max_s=0.5,
            kafka={"bootstrap_servers": f"127.0.0.1:{proxy.port}", "topic": topic},
        )
        try:
            client = instrument(provider.openai(), emitter)
            for _ in range(3):
                client.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}])
            time.sleep(0.5)  # a few refused attempts
            assert emitter.stats().connected is False and emitter.stats().pending == 3
            proxy.open()
            for _ in range(2):
                client.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}])
            assert emitter.flush(30), emitter.stats()
        finally:
            stats = emitter.close(5)
    assert (stats.sent, stats.dropped_total) == (5, 0)
    records = asyncio.run(read_topic(kafka_bootstrap, topic, 5))
    assert len(records) == 5
