"""A healthy candidate's pace in a worker beside a dead one, with and without the circuit breaker.

One worker (``shadow.pipeline.Pipeline`` on an in-memory list source and sink) replays the same
``--events`` events several times:

- ``alone``: the healthy candidate only (the baseline, measured in the same run);
- ``+dead, breaker``: the healthy candidate and a dead one — a port on 127.0.0.1 refusing
  connections for the first 0.2 s (the breaker opens within about 0.1 s), then listening without
  ever answering (timeouts);
- ``+dead, no breaker``: the same dead candidate with ``breaker_enabled: false``.

Two healthy candidates: ``paced`` answers after 20 ms with 4 calls at a time (the acceptance test's
setting, tests/integration/test_breaker.py), ``instant`` answers at once with 16 (the worker's CPU
is the limit, so the cost of writing skipped rows shows). The dead candidate: timeout_s 1, one
retry, breaker 5 of 10, open 1 s, 1 probe. The healthy lane's rows per second are counted between
the same two row indices in a run and in the baseline: from the first row stored after the dead
candidate's first row (its first failure, or its first skip) to the row at 95% of the run. Without
the breaker every event waits for the dead candidate (16 calls at a time, each taking its 1 s
timeout or more), so those runs replay only ``--slow-events``. Goal (issue 8): with the breaker
open, the healthy lane keeps at least 80% of its pace.

    python benchmarks/breaker_throughput.py [--events 1000] [--slow-events 150] [--json]

Prints a table; asserts nothing. About 30 s on a 2-core machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import socket
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from shadow.config import CandidateSettings, Settings  # noqa: E402
from shadow.demo.server import Answer, CandidateServer  # noqa: E402
from shadow.events.memory import ListDeadLetterSink, ListSource  # noqa: E402
from shadow.pipeline import Pipeline  # noqa: E402
from shadow.replay.client import CandidateClient  # noqa: E402
from shadow.replay.fanout import Replayer  # noqa: E402
from shadow.sink.memory import MemorySink  # noqa: E402
from tests.factories import event_bytes, make_event  # noqa: E402

HEALTHY = {"paced": (20.0, 4), "instant": (0.0, 16)}  # latency ms, max_concurrency


def lane(name: str, base_url: str, **options: Any) -> CandidateSettings:
    return CandidateSettings.model_validate(
        {"name": name, "provider": "openai", "base_url": base_url, "model": f"{name}-model", **options}
    )


def settings(healthy_url: str, concurrency: int, dead_port: int | None, breaker: bool) -> Settings:
    lanes = [lane("healthy", healthy_url, max_concurrency=concurrency, timeout_s=5.0, max_retries=0)]
    if dead_port is not None:
        lanes.append(
            lane("dead", f"http://127.0.0.1:{dead_port}/v1", timeout_s=1.0, max_retries=1, retry_backoff_s=0.05,
                 breaker_enabled=breaker, breaker_failures=5, breaker_window=10, breaker_open_s=1.0,
                 breaker_probes=1)
        )  # fmt: skip
    return Settings.model_validate(
        {
            "candidates": [c.model_dump() for c in lanes],
            "pipeline": {"max_in_flight": 64, "shutdown_grace_s": 5.0},
            "clickhouse": {"flush_interval_s": 0.05, "batch_rows": 200},
            "kafka": {"commit_interval_s": 0.1},
        }
    )


async def run_worker(config: Settings, events: int, dead: socket.socket | None) -> MemorySink:
    """One worker over ``events`` events; the dead port starts listening (never answering) after 0.2 s."""
    replayer = Replayer([CandidateClient(c) for c in config.candidates])
    sink = MemorySink()
    source = ListSource([(i % 4, event_bytes(make_event(event_id=f"evt_{i:05d}"))) for i in range(events)])
    pipeline = Pipeline(config, source=source, dead_letters=ListDeadLetterSink(), replayer=replayer, sink=sink)

    async def refuse_then_hang() -> None:
        await asyncio.sleep(0.2)  # refused until then (the breaker opens within the first ~0.1 s)
        if dead is not None:
            dead.listen(1024)

    switch = asyncio.create_task(refuse_then_hang())
    try:
        await pipeline.run()
    finally:
        switch.cancel()
        await asyncio.gather(switch, return_exceptions=True)
        await replayer.aclose()
    return sink


def stored(sink: MemorySink, name: str) -> list[datetime]:
    return sorted(r["compared_at"] for r in sink.comparisons if r["candidate"] == name)


def rate(times: list[datetime], first: int, last: int) -> float:
    return (last - first) / (times[last] - times[first]).total_seconds()


async def scenario(name: str, events: int, slow_events: int) -> list[dict[str, Any]]:
    latency_ms, concurrency = HEALTHY[name]
    server = CandidateServer(lambda api, body: Answer.text_answer("Your order ships tomorrow.", latency_ms=latency_ms))
    url = await server.start()
    try:
        runs: dict[str, MemorySink] = {"alone": await run_worker(settings(url, concurrency, None, True), events, None)}
        for label, breaker, count in (("+dead, breaker", True, events), ("+dead, no breaker", False, slow_events)):
            dead = socket.socket()
            dead.bind(("127.0.0.1", 0))
            try:
                config = settings(url, concurrency, dead.getsockname()[1], breaker)
                runs[label] = await run_worker(config, count, dead)
            finally:
                dead.close()
    finally:
        await server.stop()
    baseline_times = stored(runs["alone"], "healthy")
    rows = []
    for label, sink in runs.items():
        times = stored(sink, "healthy")
        last = int(len(times) * 0.95) - 1
        dead_rows = [r for r in sink.comparisons if r["candidate"] == "dead"]
        start = min((r["compared_at"] for r in dead_rows), default=None)
        first = sum(1 for t in times if start is not None and t < start)
        figure, base = rate(times, first, last), rate(baseline_times, first, last)
        rows.append(
            {
                "healthy": f"{name} ({latency_ms:.0f} ms × {concurrency})",
                "run": label,
                "rows": f"{first}..{last}",
                "healthy_rows_per_s": round(figure, 1),
                "alone_rows_per_s": round(base, 1),
                "ratio": round(figure / base, 3),
                "dead_skipped": sum(1 for r in dead_rows if r["status"] == "skipped"),
                "goal": "≥ 0.80" if label == "+dead, breaker" else "",
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--slow-events", type=int, default=150, help="events of the no-breaker runs (about 8 a second)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    rows = [row for name in HEALTHY for row in asyncio.run(scenario(name, args.events, args.slow_events))]
    if args.json:
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return
    columns = list(rows[0])
    widths = {c: max(len(c), *(len(str(r[c])) for r in rows)) for c in columns}
    lines = ["  ".join(c.ljust(widths[c]) for c in columns), "  ".join("-" * widths[c] for c in columns)]
    lines += ["  ".join(str(r[c]).ljust(widths[c]) for c in columns) for r in rows]
    sys.stdout.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
