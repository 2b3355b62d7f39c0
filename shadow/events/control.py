"""The control plane: each candidate's state (enabled, disabled, paused), shared by every worker.

The state lives in a compacted Kafka topic (``kafka.control_topic``, ``shadow.control`` by default),
one record per candidate keyed by its name (``*`` for every candidate at once), the newest record
of a key being the state. Why a topic: every worker already talks to Kafka, so the control plane
adds no service to run; a compacted topic keeps the last state of every key for ever, so a worker
that starts reads the whole current state before it replays anything; and every worker reads it
without a consumer group, so all workers of all groups see each change, within about one fetch
wait (``CONTROL_POLL_MS``). ``shadow ctl`` writes the records (``publish_control``) and reads them
back (``read_control``); each carries who changed it, why and when.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from shadow.errors import SourceError
from shadow.events.kafka import connection_options, map_kafka_errors
from shadow.events.settings import KafkaSettings
from shadow.metrics import CONTROL_CHANGES, CONTROL_STATE

log = logging.getLogger(__name__)

ALL = "*"
"""The key of the global switch: its state applies to every candidate."""
CONTROL_POLL_MS = 500
State = Literal["enabled", "disabled", "paused"]
STATES: tuple[State, ...] = ("enabled", "disabled", "paused")


class Limits(BaseModel):
    """Limits set at run time (``shadow ctl limit``); each one set replaces the candidate's configured one."""

    model_config = ConfigDict(extra="forbid")

    rate_limit_rpm: float | None = Field(default=None, gt=0)
    rate_limit_tpm: int | None = Field(default=None, gt=0)
    budget_usd_per_hour: float | None = Field(default=None, gt=0)
    budget_usd_per_day: float | None = Field(default=None, gt=0)

    def describe(self) -> str:
        return ", ".join(f"{name} {value:g}" for name, value in self if value is not None)


class ControlRecord(BaseModel):
    """One candidate's state (or every candidate's, for ``*``), as the control topic keeps it."""

    candidate: str = Field(min_length=1, max_length=200)
    state: State
    reason: str = Field(default="", max_length=1000)
    by: str = Field(default="", max_length=200)
    at: AwareDatetime = Field(default_factory=lambda: datetime.now(UTC))
    limits: Limits = Field(default_factory=Limits)

    def describe(self) -> str:
        who = f" by {self.by}" if self.by else ""
        why = f": {self.reason}" if self.reason else ""
        scope = "every candidate" if self.candidate == ALL else self.candidate
        limits = self.limits.describe()
        limited = f" (limits: {limits})" if limits else ""
        return f"{scope} {self.state}{who} at {self.at.isoformat(timespec='seconds')}{why}{limited}"


WORKER_PREFIX = "worker:"
"""Keys of worker reports: ``worker:<group>:<worker id>``, beside the candidates' states."""
REPORT_INTERVAL_S = 1.0
FORGET_AFTER = timedelta(days=2)
FAREWELL_TIMEOUT_S = 3.0
REPORT_TTL_S = 6.0
MAX_CLOCK_SKEW_S = 300.0
CACHE_S = 0.1
"""A worker whose last report is older than this is gone (killed without its farewell tombstone)."""


class PeriodSpend(BaseModel):
    """What one candidate cost one worker in the current UTC hour and day."""

    hour: str
    hour_usd: float = Field(ge=0)
    day: str
    day_usd: float = Field(ge=0)
    pending_usd: float = Field(default=0.0, ge=0)
    """The worker's calls to the candidate in flight when it reported, at their expected cost."""


class WorkerReport(BaseModel):
    """A worker's heartbeat on the control topic: it is alive, in this group, and spent this much."""

    group: str
    worker: str
    at: AwareDatetime = Field(default_factory=lambda: datetime.now(UTC))
    spend: dict[str, PeriodSpend] = Field(default_factory=dict)
    left: bool = False
    """Its last report, written as it stopped: no longer a member of the group, its spend still counts."""

    @property
    def key(self) -> str:
        return f"{WORKER_PREFIX}{self.group}:{self.worker}"


Blocked = tuple[Literal["killed", "paused"], str]
"""Why calls to a candidate are not made: ``killed`` (disabled) or ``paused``, and the sentence saying so."""


class ControlState:
    """The current state of every candidate; listeners hear about each change."""

    def __init__(self) -> None:
        self.records: dict[str, ControlRecord] = {}
        self.workers: dict[str, WorkerReport] = {}
        self._rates: dict[str, dict[str, float]] = {}  # worker key → candidate → USD per second, from its reports
        self._arrived: dict[str, float] = {}  # worker key → time.monotonic() its last report was read here
        self._cache: dict[tuple[object, ...], tuple[float, object]] = {}  # per-call figures, kept CACHE_S
        self._listeners: list[Callable[[ControlRecord], None]] = []
        self.publish: Callable[[ControlRecord], Coroutine[Any, Any, None]] | None = None
        """Writes a state to the control topic for every worker (set by the feed; None without one)."""

    def report(self, key: str, report: WorkerReport | None) -> None:
        """A worker's heartbeat (None: it left); two in a row give its spending rate per candidate."""
        previous = self.workers.get(key)
        self._cache.clear()
        if report is None:
            self.workers.pop(key, None)
            self._rates.pop(key, None)
            self._arrived.pop(key, None)
            return
        self.workers[key] = report
        self._arrived[key] = time.monotonic()
        if previous is None or previous.at >= report.at:
            return
        seconds = (report.at - previous.at).total_seconds()
        rates = self._rates.setdefault(key, {})
        for candidate, spend in report.spend.items():
            before = previous.spend.get(candidate)
            if before is not None and before.day == spend.day and seconds > 0:
                rates[candidate] = max(0.0, spend.day_usd - before.day_usd) / seconds

    def live_workers(self, group: str, now: datetime | None = None) -> list[WorkerReport]:
        """The workers of ``group`` whose last report arrived here within ``REPORT_TTL_S``.

        Arrival is measured on this worker's clock, so another worker's clock skew does not drop it; a
        report whose own time is far in the past (read back from history at start) is not live either.
        """
        now = now or datetime.now(UTC)
        arrived_after = time.monotonic() - REPORT_TTL_S
        return [
            r
            for r in self.workers.values()
            if r.group == group
            and not r.left
            and self._arrived.get(r.key, 0.0) >= arrived_after
            and (now - r.at).total_seconds() <= MAX_CLOCK_SKEW_S
        ]

    def _cached(self, key: tuple[object, ...], compute: Callable[[], Any]) -> Any:
        """``compute()``, kept ``CACHE_S``: asked per call, it walks every report."""
        now = time.monotonic()
        hit = self._cache.get(key)
        if hit is not None and now - hit[0] < CACHE_S:
            return hit[1]
        value = compute()
        self._cache[key] = (now, value)
        return value

    def group_size(self, group: str) -> int:
        """Live workers of ``group``, at least 1 (this one, before its first report is read back)."""
        size: int = self._cached(("size", group), lambda: max(1, len(self.live_workers(group))))
        return size

    def spent_by_others(self, group: str, me: str, candidate: str, hour: str, day: str) -> tuple[float, float]:
        """USD ``candidate`` cost the other workers of ``group`` in this hour and this day, reported and estimated."""
        spent: tuple[float, float] = self._cached(
            ("spent", group, me, candidate, hour, day), lambda: self._spent_by_others(group, me, candidate, hour, day)
        )
        return spent

    def _spent_by_others(self, group: str, me: str, candidate: str, hour: str, day: str) -> tuple[float, float]:
        hour_usd = day_usd = 0.0
        now = datetime.now(UTC)
        live = {r.key for r in self.live_workers(group, now)}
        # Every worker's report counts, gone ones too (stopped, restarted, killed): what they spent stays spent.
        for report in self.workers.values():
            spend = report.spend.get(candidate)
            if report.group != group or report.worker == me or spend is None:
                continue
            unknown = 0.0
            if report.key in live:
                # What it spent since its report is not known yet: estimate it from its recent rate.
                age = min(max(0.0, (now - report.at).total_seconds()), 2 * REPORT_INTERVAL_S)
                unknown = self._rates.get(report.key, {}).get(candidate, 0.0) * age + spend.pending_usd
            hour_usd += (spend.hour_usd if spend.hour == hour else 0.0) + unknown
            day_usd += (spend.day_usd if spend.day == day else 0.0) + unknown
        return hour_usd, day_usd

    def listen(self, listener: Callable[[ControlRecord], None]) -> None:
        self._listeners.append(listener)

    def apply(self, record: ControlRecord) -> None:
        previous = self.records.get(record.candidate)
        self.records[record.candidate] = record
        for state in STATES:
            CONTROL_STATE.labels(record.candidate, state).set(1 if state == record.state else 0)
        if previous is None or previous.state != record.state or previous.reason != record.reason:
            CONTROL_CHANGES.labels(record.candidate, record.state).inc()
            log.warning("control: %s", record.describe())
        for listener in self._listeners:
            listener(record)

    def limits(self, candidate: str) -> Limits | None:
        """The limits set at run time for ``candidate`` (None: only its configured ones apply)."""
        record = self.records.get(candidate)
        return record.limits if record is not None else None

    def forget(self, candidate: str) -> None:
        """A tombstone for ``candidate``'s record: back to enabled with the configured limits."""
        if self.records.pop(candidate, None) is not None:
            self.apply(ControlRecord(candidate=candidate, state="enabled", reason="record deleted"))
            self.records.pop(candidate, None)

    def blocked(self, candidate: str) -> Blocked | None:
        """Whether calls to ``candidate`` stop, and why; the global switch comes first."""
        for key in (ALL, candidate):
            record = self.records.get(key)
            if record is None or record.state == "enabled":
                continue
            kind: Literal["killed", "paused"] = "killed" if record.state == "disabled" else "paused"
            return kind, record.describe()
        return None


def decode_report(key: bytes | None, value: bytes | None) -> tuple[str, WorkerReport | None] | None:
    """A worker's report (key, report; report None for its farewell tombstone), or None when the key is no worker's."""
    name = (key or b"").decode("utf-8", "replace")
    if not name.startswith(WORKER_PREFIX):
        return None
    if value is None:
        return name, None
    try:
        report = WorkerReport.model_validate_json(value)
    except ValidationError as exc:
        log.warning("control: ignoring a worker report that is not one (key %r): %s", name, exc)
        return None
    return (name, report) if report.key == name else None


def decode_control(key: bytes | None, value: bytes | None) -> ControlRecord | None:
    """A control topic record as a state; None for a tombstone or a record that is not one (logged)."""
    if value is None or (key or b"").startswith(WORKER_PREFIX.encode()):
        return None
    try:
        record = ControlRecord.model_validate_json(value)
    except ValidationError as exc:
        log.warning("control: ignoring a record that is not a candidate state (key %r): %s", key, exc)
        return None
    if key is not None and key.decode("utf-8", "replace") != record.candidate:
        log.warning("control: ignoring a record whose key %r names another candidate than %r", key, record.candidate)
        return None
    return record


TOPIC_CONFIGS = {
    "cleanup.policy": "compact",
    # Each worker reports every second: roll a segment an hour and clean early, so that a starting
    # worker reads about the last hour of reports, not every report since the topic was made.
    "segment.ms": str(3_600_000),
    "min.cleanable.dirty.ratio": "0.1",
    "max.compaction.lag.ms": str(3_600_000),
}


async def ensure_control_topic(settings: KafkaSettings, *, create: bool = True) -> list[int]:
    """Create the control topic, compacted, when it does not exist (one partition keeps changes in order).

    Returns the topic's partitions (a topic just created may take a moment to list them).
    """
    topic = settings.control_topic
    admin = AIOKafkaAdminClient(**connection_options(settings))
    with map_kafka_errors(f"creating the control topic {topic!r}"):
        await admin.start()
        try:
            if topic not in await admin.list_topics():
                if not create:
                    return []
                new = NewTopic(
                    topic,
                    num_partitions=1,
                    replication_factor=settings.control_replication_factor,
                    topic_configs=TOPIC_CONFIGS,
                )
                with contextlib.suppress(TopicAlreadyExistsError):
                    await admin.create_topics([new])
            for _ in range(50):
                [described] = await admin.describe_topics([topic])
                partitions = sorted(p["partition"] for p in described.get("partitions", []))
                if described.get("error_code", 0) == 0 and partitions:
                    return partitions
                await asyncio.sleep(0.2)
            raise SourceError(f"the control topic {topic!r} has no partitions (kafka.control_topic)")
        finally:
            await admin.close()


async def publish_control(settings: KafkaSettings, record: ControlRecord) -> None:
    """Write one candidate's new state to the control topic and wait for the broker's ack."""
    await ensure_control_topic(settings)
    producer = AIOKafkaProducer(acks="all", **connection_options(settings))
    with map_kafka_errors(f"writing to the control topic {settings.control_topic!r}"):
        await producer.start()
        try:
            value = record.model_dump_json().encode()
            await producer.send_and_wait(settings.control_topic, value, key=record.candidate.encode())
        finally:
            await producer.stop()


async def _stop_quietly(consumer: AIOKafkaConsumer) -> None:
    # aiokafka's consumer without a group can let the cancellation of its own internal task escape stop().
    task = asyncio.ensure_future(consumer.stop())
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.shield(task)
    if not task.cancelled() and task.exception() is not None:
        log.warning("control: closing the control topic reader failed: %s", task.exception())


class ControlFeed:
    """Keeps a :class:`ControlState` current from the control topic, in every worker."""

    def __init__(
        self,
        settings: KafkaSettings,
        state: ControlState | None = None,
        *,
        worker: str | None = None,
        spend: Callable[[], dict[str, PeriodSpend]] | None = None,
    ) -> None:
        self.settings = settings
        self.state = state or ControlState()
        self.worker = worker or f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self.spend = spend
        """This worker's spend per candidate, for its reports (set by the replayer's ledger)."""
        self._consumer: AIOKafkaConsumer | None = None
        self._producer: AIOKafkaProducer | None = None
        self._task: asyncio.Task[None] | None = None
        self._reporter: asyncio.Task[None] | None = None

    @property
    def group(self) -> str:
        return self.settings.group_id

    def _report(self) -> WorkerReport:
        return WorkerReport(group=self.group, worker=self.worker, spend=self.spend() if self.spend else {})

    async def publish(self, record: ControlRecord) -> None:
        """Write a state for every worker (auto-pause) and apply it here at once."""
        self.state.apply(record)
        if self._producer is not None:
            value = record.model_dump_json().encode()
            try:
                await self._producer.send_and_wait(self.settings.control_topic, value, key=record.candidate.encode())
            except KafkaError as exc:
                log.warning("control: could not publish %s: %s", record.describe(), exc)

    async def _report_forever(self) -> None:
        assert self._producer is not None
        while True:
            report = self._report()
            try:
                await self._producer.send_and_wait(
                    self.settings.control_topic, report.model_dump_json().encode(), key=report.key.encode()
                )
                self.state.report(report.key, report)  # this worker knows itself before the read-back
                await self._forget_old_reports()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 (a report must never stop for good: budgets and group sizes need it)
                log.warning("control: reporting this worker failed (%s: %s); retrying", type(exc).__name__, exc)
            await asyncio.sleep(REPORT_INTERVAL_S)

    async def _forget_old_reports(self) -> None:
        """Tombstones for reports older than ``FORGET_AFTER`` (workers long gone; no budget period reads them)."""
        assert self._producer is not None
        cutoff = datetime.now(UTC) - FORGET_AFTER
        for key, report in list(self.state.workers.items()):
            if report.at < cutoff:
                await self._producer.send_and_wait(self.settings.control_topic, None, key=key.encode())
                self.state.report(key, None)

    async def read_only(self, *, create: bool = True) -> None:
        """Read the topic to its end into :attr:`state`, and close: no report, no following.

        Without ``create``, a missing topic reads as empty (every candidate enabled) and stays missing.
        """
        await self._read_to_end(create=create, reports=False)
        consumer, self._consumer = self._consumer, None
        if consumer is not None:
            await _stop_quietly(consumer)

    async def start(self) -> None:
        """Read the whole current state (to the end of the topic), then report and follow it in the background."""
        await self._read_to_end()
        topic = self.settings.control_topic
        self._producer = AIOKafkaProducer(acks="all", **connection_options(self.settings))
        with map_kafka_errors(f"writing to the control topic {topic!r}"):
            await self._producer.start()
        self.state.publish = self.publish
        self._reporter = asyncio.create_task(self._report_forever(), name="shadow-control-report")
        self._task = asyncio.create_task(self._follow(), name="shadow-control")
        blocked = {k: r.state for k, r in self.state.records.items() if r.state != "enabled"}
        log.info("control: read the state from %r (%s)", topic, blocked or "every candidate enabled")

    async def _read_to_end(self, *, create: bool = True, reports: bool = True) -> None:
        partitions = await ensure_control_topic(self.settings, create=create)
        if not partitions:
            return
        consumer = AIOKafkaConsumer(
            group_id=None,
            enable_auto_commit=False,
            fetch_max_wait_ms=CONTROL_POLL_MS,
            **connection_options(self.settings),
        )
        topic = self.settings.control_topic
        try:
            with map_kafka_errors(f"reading the control topic {topic!r}"):
                await consumer.start()
                tps = [TopicPartition(topic, p) for p in partitions]
                consumer.assign(tps)
                await consumer.seek_to_beginning(*tps)
                ends = await consumer.end_offsets(tps)
                for tp, end in ends.items():
                    while await consumer.position(tp) < end:
                        self._apply(await consumer.getmany(tp, timeout_ms=CONTROL_POLL_MS), reports=reports)
        except BaseException:
            await asyncio.shield(_stop_quietly(consumer))
            raise
        self._consumer = consumer

    def _apply(self, batches: dict[TopicPartition, list[object]], *, reports: bool = True) -> None:
        for records in batches.values():
            for message in records:
                key, value = getattr(message, "key", None), getattr(message, "value", None)
                if not reports and (key or b"").startswith(WORKER_PREFIX.encode()):
                    continue  # a reader of the states only (ctl, summary): the workers' reports are not its business
                report = decode_report(key, value)
                if report is not None:
                    self.state.report(*report)
                    continue
                if value is None and key is not None:
                    self.state.forget(key.decode("utf-8", "replace"))
                    continue
                record = decode_control(key, value)
                if record is not None:
                    self.state.apply(record)

    async def _follow(self) -> None:
        assert self._consumer is not None
        while True:
            try:
                self._apply(await self._consumer.getmany(timeout_ms=CONTROL_POLL_MS))
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 (following must never stop for good: the kill switch needs it)
                log.warning(
                    "control: reading %r failed (%s: %s); retrying",
                    self.settings.control_topic,
                    type(exc).__name__,
                    exc,
                )
                await asyncio.sleep(1.0)

    async def stop(self) -> None:
        for task in (self._reporter, self._task):
            if task is not None:
                task.cancel()
                with contextlib.suppress(Exception, asyncio.CancelledError):
                    await task
        self._reporter = self._task = None
        self.state.publish = None
        producer, self._producer = self._producer, None
        if producer is not None:
            # The farewell: its last report, marked left, so the group shrinks at once (not after the TTL)
            # while its spend in the period still counts against the budgets.
            farewell = self._report().model_copy(update={"left": True})
            with contextlib.suppress(KafkaError, TimeoutError):
                await asyncio.wait_for(
                    producer.send_and_wait(
                        self.settings.control_topic, farewell.model_dump_json().encode(), key=farewell.key.encode()
                    ),
                    FAREWELL_TIMEOUT_S,
                )
            with contextlib.suppress(KafkaError):
                await producer.stop()
        consumer, self._consumer = self._consumer, None
        if consumer is not None:
            await _stop_quietly(consumer)


async def read_control(settings: KafkaSettings, *, create: bool = True) -> dict[str, ControlRecord]:
    """The current state of every candidate named in the control topic (``shadow ctl show``, ``shadow summary``)."""
    state = await read_state(settings, create=create)
    return dict(state.records)


async def read_state(settings: KafkaSettings, *, create: bool = True) -> ControlState:
    """The control topic read to its end once: candidates' states and workers' reports (no report written)."""
    feed = ControlFeed(settings)
    await feed.read_only(create=create)
    return feed.state
