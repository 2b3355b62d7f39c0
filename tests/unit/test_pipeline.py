"""The pipeline's commit, revoke and backpressure logic, on in-memory parts: no Kafka, no ClickHouse.

The source is a :class:`ListSource` (offsets per partition as Kafka gives them), rows go to a
:class:`MemorySink`, and candidates answer through ``httpx.MockTransport`` so a test decides when
(and whether) each answer arrives.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import orjson
import pytest

from shadow.config import Settings
from shadow.events.memory import ListDeadLetterSink, ListSource
from shadow.pipeline import Pipeline
from shadow.replay.client import CandidateClient
from shadow.replay.fanout import Replayer
from tests.factories import candidate, event_bytes, make_event, openai_response, settings_for

pytestmark = pytest.mark.timeout(30)

Handler = Callable[[httpx.Request], Awaitable[httpx.Response]]
BASE_URL = "http://candidate.invalid/v1"


async def answer_at_once(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json=openai_response("Hello! How can I help you today?"))


class Gate:
    """Candidate answers for chosen events wait until the test opens the gate."""

    def __init__(self, held: set[str]) -> None:
        self.held = held
        self.opened = asyncio.Event()
        self.waiting: set[str] = set()

    async def handler(self, request: httpx.Request) -> httpx.Response:
        text = orjson.loads(request.content)["messages"][-1]["content"]
        event_id = text.rsplit(" ", 1)[-1].rstrip("?")
        if event_id in self.held:
            self.waiting.add(event_id)
            await self.opened.wait()
        return await answer_at_once(request)


def settings(candidates: int = 1, clickhouse: dict[str, Any] | None = None, **pipeline: Any) -> Settings:
    return settings_for(
        [candidate(f"c{i}", BASE_URL) for i in range(candidates)],
        pipeline={"shutdown_grace_s": 0.5, **pipeline},
        clickhouse={"flush_interval_s": 0.05, "batch_rows": 1000, **(clickhouse or {})},
        kafka={"commit_interval_s": 0.05},
    )


def build(
    config: Settings, source: ListSource, handler: Handler = answer_at_once, *, sink: Any = None
) -> tuple[Pipeline, Any, ListDeadLetterSink]:
    from shadow.sink.memory import MemorySink

    transport = httpx.MockTransport(handler)
    replayer = Replayer([CandidateClient(c, transport=transport) for c in config.candidates])
    sink = sink if sink is not None else MemorySink()
    letters = ListDeadLetterSink()
    return Pipeline(config, source=source, dead_letters=letters, replayer=replayer, sink=sink), sink, letters


def events(n: int, partition: int = 0, prefix: str = "evt") -> list[tuple[int, bytes]]:
    return [(partition, event_bytes(make_event(event_id=f"{prefix}_{partition}_{i}"))) for i in range(n)]


async def until(condition: Callable[[], bool], timeout_s: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.01)


async def test_every_record_is_stored_then_committed_per_partition() -> None:
    source = ListSource(events(30, 0) + events(20, 1) + [(1, b"{not json")])
    pipeline, sink, letters = build(settings(candidates=2), source)

    stats = await pipeline.run()

    assert stats.stopped_by == "end_of_input"
    assert (stats.consumed, stats.replayed, stats.dead_lettered) == (51, 50, 1)
    assert len(sink.comparisons) == 100 and stats.rows_written == 100
    assert {(r["event_id"], r["candidate"]) for r in sink.comparisons} == {
        (f"evt_{p}_{i}", c) for p, n in ((0, 30), (1, 20)) for i in range(n) for c in ("c0", "c1")
    }
    assert len(sink.ingest) == 51
    assert [letter.kind for letter in letters.letters] == ["invalid_json"]
    # Kafka's committed offset is the next one to read: one past the last record of each partition.
    assert source.committed == {("memory", 0): 30, ("memory", 1): 21}
    assert sink.closed and source.stopped


async def test_commit_waits_for_the_oldest_unfinished_event() -> None:
    gate = Gate({"evt_0_0"})
    source = ListSource(events(10), end_when_empty=False)
    pipeline, sink, _ = build(settings(), source, gate.handler)
    run = asyncio.create_task(pipeline.run())

    # Every event but the first is stored; the first still waits for its candidate.
    await until(lambda: len(sink.comparisons) == 9)
    await asyncio.sleep(0.2)  # several commit intervals
    assert source.committed.get(("memory", 0)) is None

    gate.opened.set()
    await until(lambda: source.committed.get(("memory", 0)) == 10)
    pipeline.stop()
    stats = await run
    assert stats.abandoned == 0 and len(sink.comparisons) == 10


async def test_a_held_store_fills_the_pending_rows_and_stops_reading_without_holding_replay_slots() -> None:
    from shadow.sink.memory import MemorySink

    sink = MemorySink()
    sink.hold()
    source = ListSource(events(50), batch_records=1, end_when_empty=False)
    # Each event hands over 2 rows (its comparison and its ingest row): 8 pending rows are 4 events.
    pipeline, _, _ = build(settings(max_in_flight=4, clickhouse={"max_pending_rows": 8}), source, sink=sink)
    run = asyncio.create_task(pipeline.run())

    await until(lambda: pipeline.checkpoint.batcher.pending_rows >= 8)
    await asyncio.sleep(0.1)
    consumed = pipeline.stats.consumed
    await asyncio.sleep(0.3)
    # Backpressure: reading stopped at the bound (events already replaying still hand over: at most a slot
    # window past it, plus the one fetched record waiting for room), and the replay slots are free: rows
    # waiting for the store hold none.
    assert pipeline.stats.consumed == consumed <= 4 + 4 and source.fetched <= consumed + 1
    assert pipeline.checkpoint.slots.used == 0
    assert source.commits == []

    sink.release()
    await until(lambda: source.committed.get(("memory", 0)) == 50)
    pipeline.stop()
    stats = await run
    assert stats.consumed == 50 and len(sink.comparisons) == 50


async def test_a_failing_store_is_retried_and_nothing_is_committed_before_it_stores() -> None:
    from shadow.sink.memory import MemorySink

    sink = MemorySink(fail_times=2)
    source = ListSource(events(5), end_when_empty=False)
    pipeline, _, _ = build(settings(), source, sink=sink)
    run = asyncio.create_task(pipeline.run())

    await until(lambda: sink.failures == 2)
    assert source.commits == []  # nothing stored yet, so nothing committed
    await until(lambda: source.committed.get(("memory", 0)) == 5)
    pipeline.stop()
    stats = await run

    assert pipeline.store_failures == 2
    assert len(sink.comparisons) == 5 and stats.rows_written == 5
    assert sum(c for c, _ in sink.batches) == 5  # the held rows were written once, none lost


async def test_revoke_commits_what_is_stored_and_ignores_late_finishers() -> None:
    gate = Gate({"evt_1_2"})
    source = ListSource(events(4, 0) + events(4, 1), end_when_empty=False)
    pipeline, sink, _ = build(settings(), source, gate.handler)
    run = asyncio.create_task(pipeline.run())
    await until(lambda: len(sink.comparisons) == 7 and "evt_1_2" in gate.waiting)

    await source.revoke([("memory", 0), ("memory", 1)])
    # Partition 0 is done; partition 1 is committed below its unfinished event only.
    assert source.commits[-1] == {("memory", 0): 4, ("memory", 1): 2}

    # The event of the revoked partition finishes late: its row is stored (rows replace each other
    # when the new owner replays it) but it cannot move a commit point of the old assignment.
    gate.opened.set()
    await until(lambda: len(sink.comparisons) == 8)
    await asyncio.sleep(0.2)
    assert source.committed == {("memory", 0): 4, ("memory", 1): 2}

    # Re-assigned, the partition starts a new generation: new records commit again.
    await source.assign([("memory", 1)])
    source.extend(events(2, 1, prefix="late"))
    await until(lambda: source.committed.get(("memory", 1)) == 6)
    pipeline.stop()
    await run


async def test_stop_abandons_a_hanging_event_and_commits_only_below_it() -> None:
    gate = Gate({"evt_0_3"})
    source = ListSource(events(8), end_when_empty=False)
    pipeline, sink, _ = build(settings(shutdown_grace_s=0.2), source, gate.handler)
    run = asyncio.create_task(pipeline.run())
    await until(lambda: len(sink.comparisons) == 7)

    pipeline.stop()
    stats = await run

    assert stats.stopped_by == "signal" and stats.abandoned == 1
    assert source.committed == {("memory", 0): 3}
    assert {r["event_id"] for r in sink.comparisons} == {f"evt_0_{i}" for i in range(8)} - {"evt_0_3"}


async def test_a_refused_commit_is_retried_later() -> None:
    gate = Gate({"evt_0_0"})
    source = ListSource(events(3), end_when_empty=False, refuse_commits=True)
    pipeline, sink, _ = build(settings(), source, gate.handler)
    gate.opened.set()
    run = asyncio.create_task(pipeline.run())
    await until(lambda: len(sink.comparisons) == 3)
    await asyncio.sleep(0.2)
    assert source.commits == []  # refused every time, so nothing was recorded as committed

    source.refuse_commits = False
    await until(lambda: source.committed.get(("memory", 0)) == 3)
    pipeline.stop()
    await run


async def test_dead_letters_are_retried_until_written_and_then_committed() -> None:
    source = ListSource([(0, b"\xff not json"), *events(2)])
    config = settings()
    pipeline, sink, letters = build(config, source)
    letters.fail_times = 1

    stats = await pipeline.run()

    assert stats.dead_lettered == 1 and len(letters.letters) == 1
    assert [r["outcome"] for r in sink.ingest].count("dead_letter") == 1
    assert source.committed == {("memory", 0): 3}


async def test_idle_source_stops_only_when_nothing_is_in_flight() -> None:
    source = ListSource(events(3), end_when_empty=False)
    pipeline, sink, _ = build(settings(stop_after_idle_s=0.3), source)

    stats = await pipeline.run()

    assert stats.stopped_by == "idle"
    assert len(sink.comparisons) == 3 and source.committed == {("memory", 0): 3}


async def test_dead_letters_are_redacted_unless_raw_ones_are_asked_for() -> None:
    # An event that does not parse carries a user's e-mail and card number: by default neither the letter's
    # payload nor its reason nor the ingest_log row keeps them; raw_dead_letters keeps the original bytes.
    poison = b'{"event_id": "e1", "request": {"messages": "mail bob@example.com, card 4111 1111 1111 1111"'
    for raw in (False, True):
        config = settings()
        config = config.model_copy(update={"redaction": config.redaction.model_copy(update={"raw_dead_letters": raw})})
        source = ListSource([(0, poison), (0, b"\xff\xfe bob@example.com")])
        pipeline, sink, letters = build(config, source)
        await pipeline.run()
        assert [letter.kind for letter in letters.letters] == ["invalid_json", "invalid_json"]
        payloads = b"".join(letter.record.value for letter in letters.letters)
        texts = " ".join(letter.reason for letter in letters.letters) + str(sink.ingest)
        assert "bob@example.com" not in texts
        if raw:
            assert letters.letters[0].record.value == poison
        else:
            assert b"bob@example.com" not in payloads and b"4111 1111" not in payloads
            assert b"[EMAIL:" in payloads and b"[CARD:" in payloads
            assert letters.letters[1].record.value.startswith(b"\\xff\\xfe")  # bad bytes escaped, not lost


async def test_store_text_false_keeps_only_the_reason_of_a_dead_letter() -> None:
    config = settings()
    config = config.model_copy(update={"redaction": config.redaction.model_copy(update={"store_text": False})})
    pipeline, _, letters = build(config, ListSource([(0, b'{"mail": "bob@example.com"')]))
    await pipeline.run()
    (letter,) = letters.letters
    assert letter.record.value == b"" and letter.kind == "invalid_json" and letter.reason


async def test_a_huge_dead_letter_keeps_its_redacted_beginning() -> None:
    from shadow.pipeline import DEAD_LETTER_CHARS
    from shadow.redaction import TRUNCATION_MARK

    huge = b'{"broken": "' + b"alice@example.com " * 200_000  # 3.6 MB, not JSON
    pipeline, _, letters = build(settings(), ListSource([(0, huge)]))
    await pipeline.run()
    (letter,) = letters.letters
    text = letter.record.value.decode()
    assert len(text) <= DEAD_LETTER_CHARS + len(TRUNCATION_MARK) and text.endswith(TRUNCATION_MARK)
    assert "alice@example.com" not in text and text.count("[EMAIL:") > 2000


async def test_disabled_redaction_is_said_at_start(caplog: pytest.LogCaptureFixture) -> None:
    config = settings()
    config = config.model_copy(update={"redaction": config.redaction.model_copy(update={"enabled": False})})
    pipeline, _, _ = build(config, ListSource(events(1)))
    await pipeline.run()
    assert any("redaction is disabled" in r.getMessage() and r.levelname == "WARNING" for r in caplog.records)


async def test_records_of_a_partition_revoked_while_they_wait_for_a_slot_are_left_to_the_new_owner() -> None:
    """Found by the fault suite (three workers, one killed): records fetched before a rebalance and
    still waiting for a slot when their partition moved must not be replayed here, nor their offsets
    committed (the group refuses them, and a refused commit held back the owned partitions' commits)."""
    gate = Gate({"evt_0_0"})
    source = ListSource(events(1, 0) + events(3, 1), end_when_empty=False)
    pipeline, sink, _ = build(settings(max_in_flight=1), source, gate.handler)
    run = asyncio.create_task(pipeline.run())
    await until(lambda: "evt_0_0" in gate.waiting)  # the only slot is taken; evt_1_0 waits for it

    await source.revoke([("memory", 1)])
    commits_before = len(source.commits)
    gate.opened.set()
    await until(lambda: source.committed.get(("memory", 0)) == 1)
    await asyncio.sleep(0.2)

    assert {row["event_id"] for row in sink.comparisons} == {"evt_0_0"}
    assert all(("memory", 1) not in commit for commit in source.commits[commits_before:])
    pipeline.stop()
    stats = await run
    assert stats.consumed == 1
