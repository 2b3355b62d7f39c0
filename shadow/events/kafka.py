"""Kafka source (aiokafka consumer group) and Kafka dead-letter topic.

Offsets are never auto-committed: the pipeline commits, per partition, only
below the lowest event whose rows are not stored yet. Dead letters carry the
original bytes and key as the Kafka value and key, and the reason and the
original topic/partition/offset as headers (``shadow.dlq.*``).
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import CommitFailedError, KafkaError, MessageSizeTooLargeError
from aiokafka.helpers import create_ssl_context

from shadow.errors import DeadLetterError, SourceError
from shadow.events.dead_letters import DeadLetter
from shadow.events.records import PartitionId, PartitionsCallback, Position, SourceRecord
from shadow.events.settings import KafkaSettings

log = logging.getLogger(__name__)


@contextmanager
def map_kafka_errors(action: str) -> Iterator[None]:
    """Translate aiokafka errors into shadow's tree."""
    try:
        yield
    except KafkaError as exc:
        raise SourceError(f"Kafka {action} failed: {type(exc).__name__}: {exc}") from exc


def connection_options(settings: KafkaSettings) -> dict[str, Any]:
    """aiokafka keyword arguments for bootstrap and security (shared by consumer, producer, admin)."""
    options: dict[str, Any] = {
        "bootstrap_servers": settings.bootstrap_servers,
        "client_id": settings.client_id,
        "security_protocol": settings.security_protocol,
    }
    if settings.security_protocol in ("SSL", "SASL_SSL"):
        context: ssl.SSLContext = create_ssl_context(
            cafile=settings.ssl_cafile, certfile=settings.ssl_certfile, keyfile=settings.ssl_keyfile
        )
        options["ssl_context"] = context
    if settings.security_protocol.startswith("SASL"):
        options["sasl_mechanism"] = settings.sasl_mechanism or "PLAIN"
        options["sasl_plain_username"] = settings.sasl_username
        options["sasl_plain_password"] = settings.sasl_password_value()
    return options


class _Listener(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, on_assigned: PartitionsCallback, on_revoked: PartitionsCallback) -> None:
        self._on_assigned = on_assigned
        self._on_revoked = on_revoked

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        await self._on_revoked([(tp.topic, tp.partition) for tp in revoked])

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        await self._on_assigned([(tp.topic, tp.partition) for tp in assigned])


class KafkaSource:
    """The mirror topic, read by a consumer group with manual commits."""

    def __init__(self, settings: KafkaSettings) -> None:
        self.settings = settings
        self._consumer: AIOKafkaConsumer | None = None

    async def start(self, on_assigned: PartitionsCallback, on_revoked: PartitionsCallback) -> None:
        s = self.settings
        self._consumer = AIOKafkaConsumer(
            group_id=s.group_id,
            enable_auto_commit=False,
            auto_offset_reset=s.auto_offset_reset,
            max_poll_records=s.max_poll_records,
            session_timeout_ms=s.session_timeout_ms,
            max_poll_interval_ms=s.max_poll_interval_ms,
            **connection_options(s),
        )
        self._consumer.subscribe([s.topic], listener=_Listener(on_assigned, on_revoked))
        with map_kafka_errors(f"connecting to {s.bootstrap_servers}"):
            await self._consumer.start()
        log.info("consuming %s as group %s from %s", s.topic, s.group_id, s.bootstrap_servers)

    async def fetch(self, timeout_s: float) -> list[SourceRecord] | None:
        """The next records (possibly none within ``timeout_s``); never None: a topic does not end."""
        assert self._consumer is not None, "start() first"
        with map_kafka_errors("fetch"):
            batches = await self._consumer.getmany(timeout_ms=int(timeout_s * 1000))
        records = []
        for tp, messages in batches.items():
            for message in messages:
                records.append(
                    SourceRecord(
                        value=message.value if message.value is not None else b"",
                        key=message.key,
                        position=Position("kafka", tp.topic, tp.partition, message.offset),
                        timestamp_ms=message.timestamp,
                    )
                )
        return records

    async def commit(self, offsets: dict[PartitionId, int]) -> bool:
        """Commit offsets (next offset to read, per partition); False if the group moved on."""
        if not offsets or self._consumer is None:
            return True
        try:
            await self._consumer.commit({TopicPartition(t, p): o for (t, p), o in offsets.items()})
        except CommitFailedError as exc:
            log.warning("commit of %s refused after a rebalance; the new owner replays them: %s", offsets, exc)
            return False
        except KafkaError as exc:
            log.warning("commit of %s failed, will retry: %s", offsets, exc)
            return False
        log.debug("committed %s", offsets)
        return True

    async def stop(self) -> None:
        if self._consumer is not None:
            try:
                await self._consumer.stop()
            finally:
                self._consumer = None


class KafkaDeadLetterSink:
    """Publishes dead letters to ``kafka.dead_letter_topic`` and waits for the broker's ack."""

    def __init__(self, settings: KafkaSettings, max_bytes: int = 8 * 1024 * 1024) -> None:
        self.settings = settings
        self.topic = settings.dlq_topic
        self._max_bytes = max_bytes
        self._producer: AIOKafkaProducer | None = None

    async def start(self) -> None:
        self._producer = AIOKafkaProducer(
            acks="all",
            enable_idempotence=True,
            max_request_size=self._max_bytes,
            **connection_options(self.settings),
        )
        with map_kafka_errors("starting the dead-letter producer"):
            await self._producer.start()

    @staticmethod
    def headers(letter: DeadLetter, truncated_from: int | None = None) -> list[tuple[str, bytes]]:
        position = letter.record.position
        headers = [
            ("shadow.dlq.reason", letter.reason.encode()),
            ("shadow.dlq.kind", letter.kind.encode()),
            ("shadow.dlq.source.topic", position.source.encode()),
            ("shadow.dlq.source.partition", str(position.partition).encode()),
            ("shadow.dlq.source.offset", str(position.offset).encode()),
            ("shadow.dlq.failed_at", datetime.now(UTC).isoformat().encode()),
        ]
        if truncated_from is not None:
            headers.append(("shadow.dlq.original_bytes", str(truncated_from).encode()))
        return headers

    async def send(self, letter: DeadLetter) -> None:
        assert self._producer is not None, "start() first"
        value = letter.record.value
        try:
            await self._producer.send_and_wait(self.topic, value, key=letter.record.key, headers=self.headers(letter))
        except MessageSizeTooLargeError:
            # The original does not fit the dead-letter topic: keep its head, say so, never block.
            head = value[: self._max_bytes // 2]
            try:
                await self._producer.send_and_wait(
                    self.topic,
                    head,
                    key=letter.record.key,
                    headers=self.headers(letter, truncated_from=len(value)),
                )
            except KafkaError as exc:
                raise DeadLetterError(f"cannot publish dead letter for {letter.record.position}: {exc}") from exc
        except KafkaError as exc:
            raise DeadLetterError(f"cannot publish dead letter for {letter.record.position}: {exc}") from exc

    async def close(self) -> None:
        if self._producer is not None:
            try:
                await self._producer.stop()
            finally:
                self._producer = None
