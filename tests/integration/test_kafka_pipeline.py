"""Kafka consumer group → replay → ClickHouse, with dead letters and committed offsets, on a real broker."""

from __future__ import annotations

import asyncio

import orjson
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from shadow.demo.server import Answer, CandidateServer
from shadow.events.models import Api
from shadow.pipeline import DEAD_LETTER_CHARS, run_worker
from shadow.redaction import TRUNCATION_MARK
from tests.conftest import unique
from tests.factories import candidate, event_bytes, make_event, settings_for

pytestmark = [pytest.mark.kafka, pytest.mark.clickhouse]

MAX_EVENT_BYTES = 256 * 1024


async def create_topic(bootstrap: str, topic: str, partitions: int) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, num_partitions=partitions, replication_factor=1)])
    finally:
        await admin.close()


async def publish(bootstrap: str, topic: str, messages: list[tuple[bytes | None, bytes]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, max_request_size=2 * 1024 * 1024, acks="all")
    await producer.start()
    try:
        for key, value in messages:
            await producer.send_and_wait(topic, value, key=key)
    finally:
        await producer.stop()


async def read_all(bootstrap: str, topic: str, expected: int, timeout_s: float = 20.0) -> list:
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        group_id=unique("reader"),
        fetch_max_bytes=4 * 1024 * 1024,
        max_partition_fetch_bytes=4 * 1024 * 1024,
    )
    await consumer.start()
    messages: list = []
    try:
        deadline = asyncio.get_running_loop().time() + timeout_s
        while len(messages) < expected and asyncio.get_running_loop().time() < deadline:
            batch = await consumer.getmany(timeout_ms=500)
            for records in batch.values():
                messages.extend(records)
    finally:
        await consumer.stop()
    return messages


async def committed_offsets(bootstrap: str, group: str, topic: str, partitions: int) -> dict[int, int | None]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        return {p: await consumer.committed(TopicPartition(topic, p)) for p in range(partitions)}
    finally:
        await consumer.stop()


async def end_offsets(bootstrap: str, topic: str, partitions: int) -> dict[int, int]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        tps = [TopicPartition(topic, p) for p in range(partitions)]
        ends = await consumer.end_offsets(tps)
        return {tp.partition: offset for tp, offset in ends.items()}
    finally:
        await consumer.stop()


@pytest.mark.timeout(180)
async def test_kafka_events_become_rows_bad_messages_dead_letters_offsets_committed(
    kafka_bootstrap: str, store, clickhouse_settings
) -> None:
    topic, group = unique("mirror"), unique("shadow")
    await create_topic(kafka_bootstrap, topic, partitions=3)
    events = [make_event(event_id=f"evt_{i:03d}") for i in range(60)]
    messages: list[tuple[bytes | None, bytes]] = [(e["event_id"].encode(), event_bytes(e)) for e in events]
    wrong_type = make_event(event_id="evt_wrong_type")
    wrong_type["workflow"] = 42
    messages.insert(10, (b"evt_wrong_type", event_bytes(wrong_type)))
    messages.insert(20, (b"broken", b'{"schema_version": 1, "event_id": '))
    oversized = make_event(event_id="evt_oversized", text="x" * (MAX_EVENT_BYTES + 10))
    messages.insert(30, (b"evt_oversized", event_bytes(oversized)))
    await publish(kafka_bootstrap, topic, messages)

    server = CandidateServer(lambda api, body: Answer.text_answer("Your order ships tomorrow."))
    base_url = await server.start()
    try:
        settings = settings_for(
            [candidate("cand-a", base_url), candidate("cand-b", base_url, provider="anthropic")],
            source={"kind": "kafka"},
            kafka={"bootstrap_servers": kafka_bootstrap, "topic": topic, "group_id": group, "commit_interval_s": 0.2},
            clickhouse=clickhouse_settings.model_dump(),
            pipeline={"stop_after_idle_s": 3, "max_event_bytes": MAX_EVENT_BYTES},
        )
        stats = await run_worker(settings, store=store, handle_signals=False)
    finally:
        await server.stop()

    assert stats.stopped_by == "idle"
    assert (stats.consumed, stats.replayed, stats.dead_lettered) == (63, 60, 3)

    rows = store.query_rows(
        f"SELECT event_id, candidate FROM {store.database}.comparisons FINAL ORDER BY event_id, candidate"
    )
    assert rows == sorted((e["event_id"], c) for e in events for c in ("cand-a", "cand-b"))

    letters = await read_all(kafka_bootstrap, f"{topic}.dlq", expected=3)
    by_kind = {dict(m.headers)["shadow.dlq.kind"].decode(): m for m in letters}
    assert set(by_kind) == {"invalid_event", "invalid_json", "oversized"}
    assert b"workflow" in dict(by_kind["invalid_event"].headers)["shadow.dlq.reason"]
    assert by_kind["invalid_json"].value == b'{"schema_version": 1, "event_id": '
    # Redacted dead letters keep the event's first 64 KiB characters (redaction.raw_dead_letters keeps it whole).
    assert by_kind["oversized"].value == event_bytes(oversized)[:DEAD_LETTER_CHARS] + TRUNCATION_MARK.encode()
    for message in letters:
        headers = dict(message.headers)
        assert headers["shadow.dlq.source.topic"].decode() == topic
        assert int(headers["shadow.dlq.source.offset"]) >= 0

    committed = await committed_offsets(kafka_bootstrap, group, topic, 3)
    assert committed == await end_offsets(kafka_bootstrap, topic, 3)


@pytest.mark.timeout(180)
async def test_sigterm_like_stop_commits_only_finished_work(kafka_bootstrap: str, store, clickhouse_settings) -> None:
    """Stop while one event hangs at its candidate: offsets before it commit, it and later ones do not."""
    topic, group = unique("mirror"), unique("shadow")
    await create_topic(kafka_bootstrap, topic, partitions=1)
    events = [make_event(event_id=f"evt_{i:03d}", text=f"question {i}") for i in range(10)]
    await publish(kafka_bootstrap, topic, [(e["event_id"].encode(), event_bytes(e)) for e in events])
    release = asyncio.Event()

    async def answer(api: Api, body: dict) -> Answer:
        if body["messages"][-1]["content"] == "question 4":
            await release.wait()
        return Answer.text_answer("ok")

    server = CandidateServer(answer)
    base_url = await server.start()
    try:
        settings = settings_for(
            [candidate("c", base_url, timeout_s=30)],
            kafka={"bootstrap_servers": kafka_bootstrap, "topic": topic, "group_id": group, "commit_interval_s": 0.2},
            clickhouse={**clickhouse_settings.model_dump(), "flush_interval_s": 0.1},
            pipeline={"shutdown_grace_s": 0.5},
        )
        from shadow.events.kafka import KafkaDeadLetterSink, KafkaSource
        from shadow.pipeline import Pipeline, build_replayer
        from shadow.sink.clickhouse import ClickHouseSink

        replayer = build_replayer(settings)
        pipeline = Pipeline(
            settings,
            source=KafkaSource(settings.kafka),
            dead_letters=KafkaDeadLetterSink(settings.kafka),
            replayer=replayer,
            sink=ClickHouseSink(store),
        )
        worker = asyncio.create_task(pipeline.run())
        for _ in range(100):
            await asyncio.sleep(0.2)
            if store.query_rows(f"SELECT count() FROM {store.database}.comparisons")[0][0] == 9:
                break
        pipeline.stop()
        stats = await worker
        await replayer.aclose()
    finally:
        release.set()
        await server.stop()

    assert stats.abandoned == 1
    assert await committed_offsets(kafka_bootstrap, group, topic, 1) == {0: 4}
    stored = {r[0] for r in store.query_rows(f"SELECT event_id FROM {store.database}.comparisons FINAL")}
    assert stored == {e["event_id"] for e in events} - {"evt_004"}


def test_dead_letter_headers_name_the_source() -> None:
    from shadow.events.dead_letters import DeadLetter
    from shadow.events.kafka import KafkaDeadLetterSink
    from shadow.events.records import Position, SourceRecord

    letter = DeadLetter(SourceRecord(b"x", Position("kafka", "t", 2, 17)), "invalid_json", "not valid JSON")
    headers = dict(KafkaDeadLetterSink.headers(letter))
    assert headers["shadow.dlq.source.partition"] == b"2"
    assert headers["shadow.dlq.source.offset"] == b"17"
    assert orjson.loads(b'"' + headers["shadow.dlq.reason"] + b'"') == "not valid JSON"
