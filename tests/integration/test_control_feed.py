"""The control topic on the real broker: created compacted, read whole at start, followed within a second."""

from __future__ import annotations

import asyncio
import time

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from shadow.events.control import ALL, ControlFeed, ControlRecord, publish_control, read_control
from shadow.events.settings import KafkaSettings
from tests.conftest import unique

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(120)]


def settings(bootstrap: str) -> KafkaSettings:
    return KafkaSettings(bootstrap_servers=bootstrap, control_topic=unique("control"))


def state(candidate: str, value: str, reason: str = "") -> ControlRecord:
    return ControlRecord.model_validate({"candidate": candidate, "state": value, "reason": reason, "by": "test"})


async def cleanup_policy(bootstrap: str, topic: str) -> str:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        [response] = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])
        entries = {entry[0]: entry[1] for entry in response.resources[0][4]}
        return str(entries["cleanup.policy"])
    finally:
        await admin.close()


async def test_a_feed_reads_the_whole_state_at_start_then_follows_changes(kafka_bootstrap: str) -> None:
    kafka = settings(kafka_bootstrap)
    await publish_control(kafka, state("cand-a", "disabled", "first"))
    await publish_control(kafka, state("cand-b", "paused", "budget"))
    await publish_control(kafka, state("cand-a", "disabled", "second"))  # the newest record of a key wins
    assert await cleanup_policy(kafka_bootstrap, kafka.control_topic) == "compact"

    feed = ControlFeed(kafka)
    heard: list[ControlRecord] = []
    feed.state.listen(heard.append)
    await feed.start()
    try:
        # Before start returns, the whole current state is known.
        assert feed.state.blocked("cand-a") == ("killed", feed.state.records["cand-a"].describe())
        assert feed.state.records["cand-a"].reason == "second"
        assert feed.state.blocked("cand-b") is not None and feed.state.blocked("cand-b")[0] == "paused"  # type: ignore[index]
        assert feed.state.blocked("cand-c") is None

        # A record that is not a state is ignored, not fatal; the next change arrives within a second or two.
        producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
        await producer.start()
        await producer.send_and_wait(kafka.control_topic, b"garbage", key=b"cand-a")
        await producer.stop()
        changed_at = time.monotonic()
        await publish_control(kafka, state(ALL, "disabled", "incident"))
        while feed.state.blocked("cand-c") is None:
            assert time.monotonic() - changed_at < 5, "the change did not arrive"
            await asyncio.sleep(0.05)
        assert time.monotonic() - changed_at < 2.5
        assert heard[-1].candidate == ALL and feed.state.records["cand-a"].reason == "second"
    finally:
        await feed.stop()

    # What `shadow ctl show` reads.
    records = await read_control(kafka)
    assert {k: r.state for k, r in records.items()} == {"cand-a": "disabled", "cand-b": "paused", ALL: "disabled"}


async def test_a_missing_control_topic_is_created_and_reads_as_everything_enabled(kafka_bootstrap: str) -> None:
    kafka = settings(kafka_bootstrap)
    assert await read_control(kafka) == {}
    assert await cleanup_policy(kafka_bootstrap, kafka.control_topic) == "compact"
