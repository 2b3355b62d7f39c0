"""Rows per second into ClickHouse: shadow's sink against raw clickhouse-connect inserts, in the same run.

Rows are built the way the worker builds them: the bundled demo events (``shadow/demo/data``), each
replayed to two candidates whose answers are the recorded ones (faults become error rows), compared
and turned into rows by ``shadow.rowbuilder.RowBuilder``, with ``occurred_at`` set to a few seconds
ago (live traffic). A batch is 1,000 comparison rows (500 events x 2 candidates), the default
``clickhouse.batch_rows``; the pipeline also writes one ``ingest_log`` row per event. Everything goes
into one temporary chDB directory migrated by ``shadow.storage.migrate``:

- ``raw insert`` (the baseline): ``client.insert("comparisons", values, column_names=...)`` on a
  clickhouse-connect chDB client of its own, the rows already lists in column order (built before
  timing), comparison rows only;
- ``sink, comparisons only``: ``ClickHouseSink.write(rows, [])`` from the row dicts: the same rows
  and table as the baseline, through the sink's whole path (thread hop included);
- ``sink + ingest_log``: ``ClickHouseSink.write(rows, ingest)`` as the pipeline calls it: the 1,000
  comparison rows, then the batch's 500 ingest-log rows (a second insert);
- ``batcher + sink``: ``RowBatcher.add`` for each of the 500 events, then ``RowBatcher.flush``
  (what the checkpoint does) into the same sink.

rows/s is comparison rows over the variant's total time (what the batcher reports as written); the
ingest column says how many ingest-log rows each batch writes besides; mean and p50 ms are per batch;
"vs raw" is rows/s over the raw insert's rows/s. Variants take turns, one batch each per round (the
order rotating), until the time is up, so background merges and other load fall on all of them alike.
Goal (issue 10): the pipeline's write (``sink + ingest_log``) at >= 0.70 x the raw insert's rows/s.

    python benchmarks/sink_throughput.py [--seconds 60] [--quick] [--goals-json FILE] [--json]

Prints a table; asserts nothing. ``--quick`` measures for about 20 s (about 30 s in all).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import clickhouse_connect  # noqa: E402

from benchmarks.goals import add_goals_argument, machine_facts, ratio_row, write_goals  # noqa: E402
from shadow.config import ClickHouseSettings, load_settings  # noqa: E402
from shadow.demo.run import DEMO_CONFIG, DEMO_EVENTS, DEMO_RECORDINGS  # noqa: E402
from shadow.demo.server import Answer, Recordings, recording_key  # noqa: E402
from shadow.events.decode import decode_event  # noqa: E402
from shadow.events.output import FinishReason, Output, ToolCall, Usage  # noqa: E402
from shadow.events.records import Position  # noqa: E402
from shadow.replay.result import ErrorKind, ReplayResult  # noqa: E402
from shadow.rowbuilder import RowBuilder  # noqa: E402
from shadow.sink.batch import RowBatcher  # noqa: E402
from shadow.sink.clickhouse import ClickHouseSink  # noqa: E402
from shadow.sink.rows import COMPARISON_COLUMNS, Row, as_values, build_ingest_row  # noqa: E402
from shadow.storage.migrate import migrate  # noqa: E402
from shadow.storage.store import ClickHouseStore  # noqa: E402

BATCH_ROWS = ClickHouseSettings().batch_rows  # the default flush size: 1,000
CANDIDATES = ("gpt-4.1-mini", "claude-haiku-4-5")  # two of the demo's candidates, with recorded answers
EVENTS_PER_BATCH = BATCH_ROWS // len(CANDIDATES)
_FAULT_KINDS = {
    "timeout": ErrorKind.TIMEOUT,
    "rate_limit": ErrorKind.RATE_LIMITED,
    "server_error": ErrorKind.HTTP_5XX,
    "bad_request": ErrorKind.HTTP_4XX,
}


@dataclass
class Batch:
    """One flush's worth: each event's position, comparison rows and ingest row."""

    events: list[tuple[Position, list[Row], Row]]
    comparisons: list[Row] = field(default_factory=list)
    ingest: list[Row] = field(default_factory=list)
    values: list[list[Any]] = field(default_factory=list)  # the raw baseline's input, built before timing

    def __post_init__(self) -> None:
        self.comparisons = [row for _, rows, _ in self.events for row in rows]
        self.ingest = [ingest for _, _, ingest in self.events]
        self.values = [as_values(row, COMPARISON_COLUMNS) for row in self.comparisons]


def _result(candidate: str, answer: Answer | None) -> ReplayResult:
    if answer is None or answer.kind != "ok":
        fault = answer.fault if answer is not None else "timeout"
        kind = _FAULT_KINDS.get(fault or "", ErrorKind.INVALID_RESPONSE)
        status = {ErrorKind.RATE_LIMITED: 429, ErrorKind.HTTP_5XX: 503, ErrorKind.HTTP_4XX: 400}.get(kind, 0)
        return ReplayResult(
            candidate=candidate, model=candidate, output=None, error_kind=kind, http_status=status,
            error_message=f"{fault}: the candidate did not answer in time", latency_ms=4000.0, attempts=2,
        )  # fmt: skip
    output = Output(
        text=answer.text or "",
        tool_calls=tuple(ToolCall(c.name, c.arguments_text(), f"call_{i}") for i, c in enumerate(answer.tool_calls)),
        finish_reason=FinishReason(answer.finish_reason),
        raw_finish_reason=answer.finish_reason,
        usage=Usage(answer.input_tokens, answer.output_tokens),
        model=candidate,
    )
    return ReplayResult(candidate=candidate, model=candidate, output=output, http_status=200,
                        latency_ms=answer.latency_ms)  # fmt: skip


def build_batches(count: int) -> list[Batch]:
    """``count`` batches of rows built as the worker builds them, from the demo events (cycled)."""
    settings = load_settings(DEMO_CONFIG)  # its workflows' schemas, redaction and diff options
    candidates = [c for c in settings.candidates if c.name in CANDIDATES]
    builder = RowBuilder(settings)
    recordings = Recordings.load(DEMO_RECORDINGS)
    lines = DEMO_EVENTS.read_bytes().splitlines()
    now = datetime.now(UTC)
    batches = []
    offset = 0
    for b in range(count):
        events = []
        for i in range(EVENTS_PER_BATCH):
            data = orjson.loads(lines[offset % len(lines)])
            data["event_id"] = f"{data['event_id']}-{b}-{i}"
            data["occurred_at"] = (now - timedelta(seconds=5 + i % 60)).isoformat().replace("+00:00", "Z")
            decoded = decode_event(orjson.dumps(data), max_bytes=10 * 1024 * 1024)
            event = decoded.event
            position = Position("kafka", "mirror", offset % 12, offset)
            key = recording_key(event.api, event.request)
            results = [_result(c.name, recordings.models[c.name].get(key)) for c in candidates]
            rows = builder.rows(position, decoded, results, candidates)
            ingest = build_ingest_row(position=position, outcome="replayed", event=event, candidates=len(rows))
            events.append((position, rows, ingest))
            offset += 1
        batches.append(Batch(events))
    return batches


@dataclass
class Variant:
    name: str
    ingest_rows: int
    run: Callable[[Batch], Awaitable[None]]
    rows: int = 0
    seconds: float = 0.0
    batch_seconds: list[float] = field(default_factory=list)

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


async def measure(seconds: float, batches: list[Batch], only: set[str] | None) -> tuple[list[Variant], dict[str, Any]]:
    with tempfile.TemporaryDirectory(prefix="shadow-sink-bench-") as directory:
        settings = ClickHouseSettings(dsn=f"chdb://{directory}/chdb", database="bench")
        store = ClickHouseStore(settings)
        await asyncio.to_thread(migrate, store)
        raw = clickhouse_connect.get_client(interface="chdb", path=f"{directory}/chdb")
        table = f"{settings.database}.comparisons"
        columns = list(COMPARISON_COLUMNS)
        sink = ClickHouseSink(store)

        async def raw_insert(batch: Batch) -> None:
            raw.insert(table, batch.values, column_names=columns)

        async def sink_comparisons(batch: Batch) -> None:
            await sink.write(batch.comparisons, [])

        async def sink_ingest(batch: Batch) -> None:
            await sink.write(batch.comparisons, batch.ingest)

        batcher = RowBatcher(sink, batch_rows=10**9, flush_interval_s=3600.0)

        async def batcher_flush(batch: Batch) -> None:
            for position, rows, ingest in batch.events:
                batcher.add(position, rows, ingest)
            await batcher.flush()

        variants = [
            Variant("raw insert", 0, raw_insert),
            Variant("sink, comparisons only", 0, sink_comparisons),
            Variant("sink + ingest_log", EVENTS_PER_BATCH, sink_ingest),
            Variant("batcher + sink", EVENTS_PER_BATCH, batcher_flush),
        ]
        variants = [v for v in variants if only is None or v.name in only or v is variants[0]]
        try:
            for variant in variants:  # warm-up: first inserts, imports, caches
                await variant.run(batches[0])
            started = time.perf_counter()
            round_ = 0
            while time.perf_counter() - started < seconds or round_ < 3:
                for k in range(len(variants)):
                    variant = variants[(round_ + k) % len(variants)]
                    batch = batches[(round_ + k) % len(batches)]
                    t0 = time.perf_counter()
                    await variant.run(batch)
                    variant.batch_seconds.append(time.perf_counter() - t0)
                    variant.seconds += variant.batch_seconds[-1]
                    variant.rows += len(batch.comparisons)
                round_ += 1
            stored = await store.aquery_dicts(f"SELECT count() AS n FROM {settings.database}.comparisons")
            meta = {"rounds": round_, "rows_in_table": stored[0]["n"]}
        finally:
            await sink.close()
            raw.close()
            store.close()
    return variants, meta


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60.0, help="how long the variants take turns")
    parser.add_argument("--quick", action="store_true", help="measure for 20 s (about 30 s in all)")
    parser.add_argument("--variants", help="comma-separated variant names to run besides the baseline (profiling)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    add_goals_argument(parser)
    args = parser.parse_args()
    if args.quick:
        args.seconds = min(args.seconds, 20.0)
    logging.basicConfig(level=logging.WARNING)
    built = time.perf_counter()
    batches = build_batches(2)
    build_s = time.perf_counter() - built
    only = set(args.variants.split(",")) if args.variants else None
    variants, meta = asyncio.run(measure(args.seconds, batches, only))
    base = variants[0].rows_per_s
    table = [
        {
            "variant": v.name,
            "batch": BATCH_ROWS,
            "ingest": v.ingest_rows,
            "rows": v.rows,
            "seconds": round(v.seconds, 2),
            "rows_per_s": round(v.rows_per_s),
            "mean_ms": round(statistics.mean(v.batch_seconds) * 1000, 1),
            "median_ms": round(statistics.median(v.batch_seconds) * 1000, 1),
            "ratio": v.rows_per_s / base if base else None,
        }
        for v in variants
    ]
    by_name = {v.name: v for v in variants}
    figure = by_name.get("sink + ingest_log")
    goals = []
    if figure is not None:
        goals.append(
            ratio_row(
                "sink",
                "sink rows/s at batch 1,000",
                baseline_label="raw clickhouse-connect insert",
                baseline=base,
                figure=figure.rows_per_s,
                unit="rows/s",
                at_least=0.70,
            )
        )
    write_goals(args.goals_json, goals)
    if args.json:
        print(json.dumps({"meta": {**meta, "machine": machine_facts()}, "rows": table}, indent=2))
        return
    print(machine_facts())
    print(
        f"rows built from the demo events in {build_s:.1f} s; {meta['rounds']} rounds; "
        f"{meta['rows_in_table']:,} comparison rows in the table at the end (each round writes the same "
        f"{len(batches) * BATCH_ROWS:,} (event, candidate) rows again: merges keep the newest)"
    )
    header = (
        f"{'variant':<24} {'batch':>6} {'ingest':>6} {'rows':>8} {'seconds':>8} {'rows/s':>8} {'mean ms':>8} "
        f"{'p50 ms':>7} {'vs raw':>7}"
    )
    print(header)
    print("-" * len(header))
    for r in table:
        print(
            f"{r['variant']:<24} {r['batch']:>6} {r['ingest']:>6} {r['rows']:>8,} {r['seconds']:>8.2f} "
            f"{r['rows_per_s']:>8,} {r['mean_ms']:>8.1f} {r['median_ms']:>7.1f} {r['ratio']:>6.2f}x"
        )
    for goal in goals:
        print(
            f"\ngoal: sink + ingest_log at {goal.target} ({goal.baseline_label}): "
            f"{goal.ratio:.2f} x, {'met' if goal.met else 'NOT met'}"
        )


if __name__ == "__main__":
    main()
