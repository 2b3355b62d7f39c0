"""The only module that wires the stages: source → decode → sample → replay → diff → sink → commit.

Events are processed concurrently inside a bounded number of in-flight slots, not
in lock-step batches: each record becomes a task as soon as a slot is free, so one
slow candidate answer holds one slot, not the stream. The checkpoint
(``shadow.checkpoint``) frees a slot when the event's rows are stored; then its
offset may be committed.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from shadow.checkpoint import Checkpoint
from shadow.config import ScopeSkip, Settings, read_api_key, read_secret_headers
from shadow.errors import ConfigError, DeadLetterError, DecodeError, ShadowError
from shadow.events.control import ControlFeed, Limits
from shadow.events.dead_letters import DeadLetter, DeadLetterSink, FileDeadLetterSink
from shadow.events.decode import DecodedEvent, decode_event
from shadow.events.kafka import KafkaDeadLetterSink, KafkaSource
from shadow.events.ndjson import NdjsonSource
from shadow.events.records import PartitionId, Position, Source, SourceRecord
from shadow.health import HealthServer
from shadow.loopwatch import LoopWatch, off_loop, settle_worker_process
from shadow.metrics import CANDIDATE_SKIPPED, RECORDS, REPLAY_LATENCY, REPLAY_TTFT, REPLAYS
from shadow.redaction import KEY_ENV
from shadow.replay.client import CandidateClient
from shadow.replay.fanout import Replayer
from shadow.replay.limits import SpendLedger
from shadow.replay.result import ReplayResult
from shadow.rowbuilder import DiffProcesses, RowBuilder, comparator_options
from shadow.sample import Sampler
from shadow.sink.base import RowSink
from shadow.sink.clickhouse import ClickHouseSink
from shadow.sink.rows import build_ingest_row
from shadow.storage.migrate import migrate
from shadow.storage.store import ClickHouseStore

log = logging.getLogger(__name__)

FETCH_TIMEOUT_S = 0.5


def _answer_chars(decoded: DecodedEvent, results: list[ReplayResult]) -> int:
    """Characters of text and tool arguments in production's and every candidate's answer."""
    outputs = [decoded.production, *(result.output for result in results)]
    return sum(len(o.text) + sum(len(c.arguments) for c in o.tool_calls) for o in outputs if o is not None)


@dataclass(slots=True)
class RunStats:
    """What one run did (also logged at the end)."""

    consumed: int = 0
    replayed: int = 0
    skipped: int = 0
    dead_lettered: int = 0
    rows_written: int = 0
    abandoned: int = 0
    stopped_by: str = ""
    worst_loop_stall_s: float = 0.0
    by_outcome: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "consumed": self.consumed,
            "replayed": self.replayed,
            "skipped": self.skipped,
            "dead_lettered": self.dead_lettered,
            "rows_written": self.rows_written,
            "abandoned": self.abandoned,
            "stopped_by": self.stopped_by,
            "worst_loop_stall_s": round(self.worst_loop_stall_s, 4),
        }


# A dead letter's reason and key are cut to this many characters (after redaction).
DEAD_LETTER_REASON_CHARS = 4096
# A redacted dead letter keeps this many characters of the event (then the truncation mark).
DEAD_LETTER_CHARS = 64 * 1024


def _is_utf8(value: bytes) -> bool:
    try:
        value.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


class Pipeline:
    """Runs one worker: reads a source until it ends, is idle long enough, or is stopped."""

    def __init__(
        self,
        settings: Settings,
        *,
        source: Source,
        dead_letters: DeadLetterSink,
        replayer: Replayer,
        sink: RowSink,
    ) -> None:
        self.settings = settings
        self.source = source
        self.dead_letters = dead_letters
        self.replayer = replayer
        self.sampler = Sampler(settings)
        # Candidates with enabled: false have no client: each event still accounts for them.
        self._disabled = {c.name: ScopeSkip.DISABLED for c in settings.candidates if not c.enabled}
        self.stats = RunStats()
        self.sink = sink
        self.checkpoint = Checkpoint(
            source,
            sink,
            max_in_flight=settings.pipeline.max_in_flight,
            batch_rows=settings.clickhouse.batch_rows,
            flush_interval_s=settings.clickhouse.flush_interval_s,
            commit_interval_s=settings.kafka.commit_interval_s,
            max_pending_rows=settings.clickhouse.max_pending_rows,
            max_pending_bytes=settings.clickhouse.max_pending_bytes,
        )
        self._slots = self.checkpoint.slots
        self._tasks: set[asyncio.Task[None]] = set()
        self._rows = RowBuilder(settings)
        self._row_context = self._rows.context
        self._diff_processes = DiffProcesses(settings, self._rows, settings.pipeline.diff_processes)
        self._stop = asyncio.Event()
        self._halt = asyncio.Event()  # stops the batcher and committer loops at the very end
        self.loop_watch = LoopWatch()  # measures the loop's stalls while :meth:`run` runs

    def stop(self) -> None:
        """Ask the worker to stop (SIGTERM/SIGINT): stop reading, let in-flight events finish within the grace."""
        if not self.stats.stopped_by:
            self.stats.stopped_by = "signal"
        self._stop.set()

    # --- partitions -----------------------------------------------------------------------

    async def _on_assigned(self, tps: list[PartitionId]) -> None:
        self.checkpoint.assign(tps)
        log.info("assigned partitions %s", sorted(tps))

    async def _on_revoked(self, tps: list[PartitionId]) -> None:
        offsets = await self.checkpoint.revoke(tps)
        log.info("revoked partitions %s (committed %s)", sorted(tps), offsets)

    # --- the loop ---------------------------------------------------------------------------

    async def run(self) -> RunStats:
        """Consume until the input ends, the idle limit passes, or :meth:`stop` is called.

        Steps:
            1. Start the source, the dead-letter sink and the checkpoint's flush and commit loops.
            2. Read records; for each, wait for a free in-flight slot, then process it in its own task.
            3. On stop: stop reading; give in-flight events ``shutdown_grace_s`` (all the time they
               need when the input ended or went idle), then abandon the rest uncommitted.
            4. The last checkpoint (flush, then commit what is stored); close everything.
        """
        # Step 1.
        if not self.settings.redaction.enabled:
            log.warning(
                "redaction is disabled (redaction.enabled: false): answers, requests and dead letters are stored "
                "as production sent them, personal data included"
            )
        elif self._row_context.redactor.key_drawn:
            log.warning(
                "no redaction key (%s or redaction.key_file): this worker drew a random one, so its tokens "
                "([EMAIL:...]) match only each other, not those of other workers or of its next run",
                KEY_ENV,
            )
        self.loop_watch.start()
        self._diff_processes.start()
        await self.dead_letters.start()
        await self.source.start(self._on_assigned, self._on_revoked)
        checkpoint_task = asyncio.create_task(self.checkpoint.run(self._halt), name="shadow-checkpoint")
        graceful = True
        try:
            # Step 2.
            await self._consume()
            graceful = self.stats.stopped_by in ("end_of_input", "idle")
            # Step 3.
            await self._drain(None if graceful else self.settings.pipeline.shutdown_grace_s)
        finally:
            # Step 4.
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            self._halt.set()
            self.checkpoint.request_flush()
            await asyncio.gather(checkpoint_task, return_exceptions=True)
            await self.checkpoint.close(self._halt)
            await self._close_sink()
            await self.source.stop()
            await self.dead_letters.close()
            await self.loop_watch.stop()
            self._diff_processes.close()
            self.stats.worst_loop_stall_s = self.loop_watch.worst_stall_s
        self.stats.rows_written = self.checkpoint.batcher.rows_written
        log.info("stopped (%s): %s", self.stats.stopped_by, self.stats.as_dict())
        return self.stats

    async def _consume(self) -> None:
        idle_limit = self.settings.pipeline.stop_after_idle_s
        last_record = time.monotonic()
        while not self._stop.is_set():
            records = await self.source.fetch(FETCH_TIMEOUT_S)
            if records is None:
                self.stats.stopped_by = "end_of_input"
                return
            if not records:
                idle = time.monotonic() - last_record
                if idle_limit is not None and idle >= idle_limit and self._slots.used == 0:
                    self.stats.stopped_by = "idle"
                    return
                continue
            last_record = time.monotonic()
            for record in records:
                if self._stop.is_set() or not await self.checkpoint.wait_for_room(self._stop):
                    return
                if not await self._slots.acquire(self._stop):
                    return
                tracked = self.checkpoint.track(record)
                if tracked is None:  # its partition was revoked while this worker waited for room
                    self._slots.release()
                    continue
                self.stats.consumed += 1
                task = asyncio.create_task(self._process(tracked))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
            if self._slots.used >= self._slots.size // 2:
                self.checkpoint.request_flush()

    async def _drain(self, grace_s: float | None) -> None:
        if not self._tasks:
            return
        _, pending = await asyncio.wait(set(self._tasks), timeout=grace_s)
        if pending:
            log.warning("abandoning %d in-flight events after %.1fs; they stay uncommitted", len(pending), grace_s)
            self.stats.abandoned = len(pending)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

    async def _close_sink(self) -> None:
        try:
            await self.sink.close()
        except ShadowError as exc:
            log.warning("finishing the sink's deferred work failed: %s", exc)

    # --- one event ----------------------------------------------------------------------------

    async def _process(self, record: SourceRecord) -> None:
        handed_over = False
        try:
            handed_over = await self._handle(record)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.exception("internal error on %s; sending it to the dead letters", record.position)
            handed_over = await self._dead_letter(
                record, "internal_error", f"internal error: {type(exc).__name__}: {exc}"
            )
        finally:
            if not handed_over:
                # Not stored and never will be in this run: free the slot, leave the offset uncommitted.
                self.checkpoint.abandon()

    async def _handle(self, record: SourceRecord) -> bool:
        """Process one record; True once its rows are handed to the batcher."""
        position = record.position
        max_bytes = self.settings.pipeline.max_event_bytes
        try:
            if self.settings.pipeline.offload_min_chars <= len(record.value) <= max_bytes:
                # A big event takes milliseconds to parse and validate: the CPU thread does it.
                decoded = await off_loop(decode_event, record.value, max_bytes=max_bytes)
            else:
                decoded = decode_event(record.value, max_bytes=max_bytes)
        except DecodeError as exc:
            return await self._dead_letter(record, exc.kind, exc.reason)
        event = decoded.event
        # Each candidate not sent the event says why, on its ingest_log row (candidate_skips).
        targets, skips = self.replayer.route(event, self.settings.sampling.salt)
        if not self.sampler.sampled(event):
            # Outside the workflow's sample: sampled out for every candidate whose scope admits it.
            sampled_out = {client.settings.name: ScopeSkip.SAMPLED_OUT for client in targets}
            return self._skip(position, event, "sampling", {**sampled_out, **skips})
        if not targets:
            return self._skip(position, event, "no_candidate", skips)
        results = await self.replayer.replay(event, targets)
        candidates = [client.settings for client in targets]
        if _answer_chars(decoded, results) >= self.settings.pipeline.offload_min_chars:
            # Comparing big answers takes tens of milliseconds even within the diff caps: the diff
            # process does it, and the loop keeps heartbeats, commits and writes going meanwhile.
            rows = await self._diff_processes.rows(position, decoded, results, candidates)
        else:
            rows = self._rows.rows(position, decoded, results, candidates)
        self._count(results)
        self.checkpoint.add(
            position,
            rows,
            build_ingest_row(
                redactor=self._row_context.redactor,
                position=position,
                outcome="replayed",
                event=event,
                candidates=len(rows),
                candidate_skips=self._candidate_skips(skips),
            ),
        )
        self.stats.replayed += 1
        RECORDS.labels("replayed", "").inc()
        return True

    def _count(self, results: list[ReplayResult]) -> None:
        for result in results:
            outcome = "ok" if result.ok else "skipped" if result.skipped else "error"
            REPLAYS.labels(result.candidate, outcome, result.error_kind or "").inc()
            if result.ok:
                REPLAY_LATENCY.labels(result.candidate).observe(result.latency_ms / 1000)
                if result.ttft_ms is not None:
                    REPLAY_TTFT.labels(result.candidate).observe(result.ttft_ms / 1000)

    def _candidate_skips(self, skips: dict[str, ScopeSkip]) -> dict[str, ScopeSkip]:
        """Every candidate not sent the event, with why (candidates disabled in the config too), counted."""
        every = {**self._disabled, **skips}
        for name, reason in every.items():
            CANDIDATE_SKIPPED.labels(name, reason.value).inc()
        return every

    def _skip(self, position: Position, event: Any, reason: str, skips: dict[str, ScopeSkip]) -> bool:
        row = build_ingest_row(
            redactor=self._row_context.redactor,
            position=position,
            outcome="skipped",
            reason=reason,
            event=event,
            candidate_skips=self._candidate_skips(skips),
        )
        self.checkpoint.add(position, [], row)
        self.stats.skipped += 1
        RECORDS.labels("skipped", reason).inc()
        return True

    async def _dead_letter(self, record: SourceRecord, kind: str, reason: str) -> bool:
        # Every text that leaves the process is redacted: the reason (letter headers, ingest_log, the log)
        # always, the payload and key unless redaction.raw_dead_letters keeps the original bytes. In the
        # CPU thread: a payload dense with matches (64 KiB of e-mail addresses) takes tens of ms.
        record, reason = await off_loop(self._redacted_letter, record, reason)
        letter = DeadLetter(record, kind, reason)
        backoff = 0.5
        while True:
            try:
                await self.dead_letters.send(letter)
                break
            except DeadLetterError as exc:
                if self._stop.is_set():
                    log.error("dead letter for %s not written at shutdown: %s", record.position, exc)
                    return False
                log.warning("%s; retrying in %.1fs", exc, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 30.0)
        log.warning("dead letter %s (%s): %s", record.position, kind, reason)
        self.checkpoint.add(
            record.position,
            [],
            build_ingest_row(
                redactor=self._row_context.redactor,
                position=record.position,
                outcome="dead_letter",
                reason=kind,
                detail=reason,
                timestamp_ms=record.timestamp_ms,
            ),
        )
        self.stats.dead_lettered += 1
        RECORDS.labels("dead_letter", kind).inc()
        return True

    def _redacted_letter(self, record: SourceRecord, reason: str) -> tuple[SourceRecord, str]:
        """The record and reason of a dead letter as they may leave the process."""
        redact = self._row_context.redactor
        reason = redact.cut(reason, DEAD_LETTER_REASON_CHARS)
        raw = self.settings.redaction.raw_dead_letters
        if record.key and not raw and redact.active:
            key = record.key[:DEAD_LETTER_REASON_CHARS].decode("utf-8", "backslashreplace")
            redacted_key = redact.cut(key, DEAD_LETTER_REASON_CHARS)
            if redacted_key != key or len(record.key) > DEAD_LETTER_REASON_CHARS:
                record = dataclasses.replace(record, key=redacted_key.encode())
        if not redact.store_text:
            return dataclasses.replace(record, value=b""), reason  # redaction.store_text false: no text at all
        if not raw and redact.active:
            # The first DEAD_LETTER_CHARS characters, redacted.
            payload = record.value[: 4 * DEAD_LETTER_CHARS].decode("utf-8", "backslashreplace")
            redacted = redact.cut(payload, DEAD_LETTER_CHARS)
            # (the UTF-8 check last: it reads the whole value, which is short by then)
            if len(record.value) > 4 * DEAD_LETTER_CHARS or redacted != payload or not _is_utf8(record.value):
                record = dataclasses.replace(record, value=redacted.encode())
        return record, reason

    @property
    def store_failures(self) -> int:
        return self.checkpoint.batcher.store_failures

    # --- probes (called from the HTTP server's thread: they only read) ---------------------------

    def live(self) -> tuple[bool, str]:
        """The ``/healthz`` probe: the event loop ticked within ``pipeline.health_stall_s``."""
        return self.loop_watch.check(self.settings.pipeline.health_stall_s)

    def ready(self) -> tuple[bool, str]:
        """The ``/readyz`` probe: not stopping, partitions (or the NDJSON input) assigned, the store writable."""
        if self._stop.is_set() or self._halt.is_set():
            return False, "stopping"
        partitions = len(self.checkpoint.assigned)
        if not partitions:
            return False, "no partitions assigned (joining the consumer group, or more workers than partitions)"
        batcher = self.checkpoint.batcher
        failing, since = batcher.failing_writes, batcher.failing_since
        if failing:
            for_s = time.monotonic() - since if since is not None else 0.0
            return False, f"the store is failing: {failing} writes in a row over {for_s:.1f}s (rows held, retrying)"
        return True, f"{partitions} partition(s) assigned; the store is writable"


def build_replayer(settings: Settings, control: ControlFeed | None = None) -> Replayer:
    """One client per enabled candidate; API keys come from the environment variables they name.

    ``control`` is the control topic's feed when the worker follows it: candidates' states, and the
    group's live workers and spend, which group rate limits and budgets share. The feed reports this
    worker's spend from the replayer's ledger.
    """
    state = control.state if control is not None else None
    group = settings.kafka.group_id

    def workers() -> int:
        return state.group_size(group) if state is not None else 1

    def limits_of(name: str) -> Callable[[], Limits | None] | None:
        return (lambda: state.limits(name)) if state is not None else None

    clients = [
        CandidateClient(
            c, read_api_key(c), workers=workers, limits=limits_of(c.name), secret_headers=read_secret_headers(c)
        )
        for c in settings.candidates
        if c.enabled
    ]
    if not clients:
        raise ConfigError("no enabled candidates: configure at least one under 'candidates:'")
    _, prices, _ = comparator_options(settings)
    worker = control.worker if control is not None else ""
    ledger = SpendLedger({c.name: c for c in settings.candidates}, prices, control=state, group=group, worker=worker)
    if control is not None:
        control.spend = ledger.snapshot
    return Replayer(clients, control=state, ledger=ledger, worker=f"shadow worker {worker}".strip())


def build_control(settings: Settings) -> ControlFeed | None:
    """The control topic's feed when the worker reads Kafka and follows the control plane (``kafka.control``)."""
    if settings.source.kind != "kafka" or not settings.kafka.control:
        return None
    return ControlFeed(settings.kafka)


def build_source(settings: Settings) -> tuple[Source, DeadLetterSink]:
    """The configured source and its dead-letter sink."""
    if settings.source.kind == "kafka":
        return KafkaSource(settings.kafka), KafkaDeadLetterSink(settings.kafka)
    if not settings.source.path:
        raise ConfigError("source.path is required when source.kind is ndjson ('-' reads stdin)")
    return NdjsonSource(settings.source.path), FileDeadLetterSink(settings.source.dead_letter_path)


async def run_worker(
    settings: Settings,
    *,
    store: ClickHouseStore | None = None,
    handle_signals: bool = True,
    auto_migrate: bool = True,
    health: HealthServer | None = None,
) -> RunStats:
    """Run one worker with the configured source, candidates and ClickHouse until it stops.

    SIGTERM and SIGINT stop it cleanly: in-flight events get ``pipeline.shutdown_grace_s``
    and whatever is not stored by then stays uncommitted, to be replayed. ``health`` (the
    ``--metrics-port`` server) answers its probes from the pipeline once it exists.
    """
    control = build_control(settings)
    replayer = build_replayer(settings, control)
    own_store = store is None
    store = store or ClickHouseStore(settings.clickhouse)
    try:
        if control is not None:
            # The whole current state first: a candidate disabled before this worker started is never called.
            await control.start()
        if auto_migrate:
            await asyncio.to_thread(migrate, store)
        source, dead_letters = build_source(settings)
        pipeline = Pipeline(
            settings, source=source, dead_letters=dead_letters, replayer=replayer, sink=ClickHouseSink(store)
        )
        if health is not None:
            health.attach(pipeline.live, pipeline.ready)
        loop = asyncio.get_running_loop()
        signals = (signal.SIGTERM, signal.SIGINT) if handle_signals else ()
        for sig in signals:
            loop.add_signal_handler(sig, pipeline.stop)
        settle_worker_process()
        try:
            return await pipeline.run()
        finally:
            for sig in signals:
                loop.remove_signal_handler(sig)
    finally:
        if control is not None:
            await control.stop()
        await replayer.aclose()
        if own_store:
            store.close()
