"""Worker fleets (issue 15): events/s of 1, 2 and 3 ``shadow run`` processes in one consumer group.

A 6-partition topic holds a backlog of ~2.2 KB mirror events (``end_to_end.make_events``, spread
evenly over the partitions). A fleet of K workers (K = 1, the baseline, then 2 and 3) starts at once
in a fresh consumer group, each worker with its own embedded chDB store, and works the backlog
against three OpenAI-compatible candidates served by one aiohttp server in its own process on
127.0.0.1. No process is pinned: workers, the candidate server and the Kafka broker share the
machine's cores, as they would on one host. Two scenarios:

- ``instant``: the candidates answer at once (``max_in_flight`` 256 and each candidate's
  ``max_concurrency`` 256, the defaults' CPU-bound rate): what a worker's core can do, and how far
  more workers go on this machine's cores;
- ``latency``: every answer takes 50 ms ± 20% and ``max_in_flight`` is 8, so a worker is bound by its
  slots (Little's law: at most 8 / 0.05 s = 160 events/s), not by its core: more workers should add
  throughput linearly while cores are left.

Figures are taken in a window: from when every worker holds its share of the partitions (the group
settled) and 5% of the rows are stored, to 85% of the rows (the start-up and the tail excluded).
Per worker, from its ``/metrics`` and ``/proc``: rows stored per second (its insert rate), CPU
seconds per replay (the worker and its diff process), in-flight slots used (``shadow_events_in_flight``,
sampled every 100 ms). The fleet's events/s is the sum of rows stored / 3 candidates / window. After
the window each fleet runs until the group has committed every partition's end, then gets SIGTERM;
the stores are unioned and deduplicated as one ClickHouse table's FINAL would
(``tests.faults.harness.stored``): lost (event, candidate) pairs and duplicates after FINAL are
counted for every run, and a run with either is reported as such.

Goals (a 2-core machine): with instant candidates, 2 workers >= 1.5 x 1 worker, 3 workers >= 0.9 x
2 workers (only 2 cores: a third worker cannot add a core); with 50 ms candidates (slot-bound, ~0.5
core a worker), 2 workers >= 1.8 x 1 worker and 3 workers >= 2.7 x 1 worker; a fleet's replays per
CPU second >= 0.9 x one worker's (no coordination cost: what more cores would give); nothing lost or
doubled. The table also shows where the machine's cores went in each window (the workers and the
candidate server, this script, everything else: the Kafka broker and other work), since the scaling
goals need free cores.

    python benchmarks/worker_fleet.py [--quick] [--scenarios instant,latency] [--goals-json FILE] [--keep]

About 4 minutes (``--quick`` about 2). Kafka: ``KAFKA_BOOTSTRAP_SERVERS``, else a local broker from
``scripts/kafka-local.sh``. Run it alone: other work on the machine moves the figures.
"""

from __future__ import annotations

import argparse
import ast
import asyncio
import json
import multiprocessing
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import orjson  # noqa: E402
from aiokafka import AIOKafkaProducer  # noqa: E402

from benchmarks.end_to_end import (  # noqa: E402
    _serve,
    candidate,
    free_port,
    kafka,
    make_events,
)
from benchmarks.goals import (  # noqa: E402
    GoalRow,
    add_goals_argument,
    bound_row,
    machine_facts,
    ratio_row,
    render_table,
    write_goals,
)
from tests.faults.harness import stored  # noqa: E402
from tests.integration.test_kafka_pipeline import committed_offsets, create_topic, end_offsets  # noqa: E402

BENCH = "worker fleet"
PARTITIONS = 6
CANDIDATES = ("c1", "c2", "c3")
DATABASE = "shadow"
FLEETS = (1, 2, 3)
SCENARIOS = ("instant", "latency")
LATENCY_MS, LATENCY_SPREAD, SLOW_IN_FLIGHT = 50.0, 0.2, 8


# --- the candidate server (its own process, not pinned) ------------------------------------------


@contextmanager
def candidate_server(latency_ms: float, spread: float) -> Iterator[tuple[str, int]]:
    """An OpenAI-compatible server in its own process: (base URL, pid)."""
    ctx = multiprocessing.get_context("spawn")
    port, ready = free_port(), ctx.Event()
    process = ctx.Process(target=_serve, args=(port, latency_ms, ready, spread, None), daemon=True)
    process.start()
    if not ready.wait(30) or process.pid is None:
        process.kill()
        raise RuntimeError("the candidate server did not start")
    try:
        yield f"http://127.0.0.1:{port}/v1", process.pid
    finally:
        process.kill()
        process.join()


# --- the backlog --------------------------------------------------------------------------------


def publish_backlog(bootstrap: str, topic: str, events: list[bytes]) -> list[str]:
    """Creates the 6-partition topic and publishes the events round-robin over its partitions; their ids."""
    ids = [orjson.loads(e)["event_id"] for e in events]

    async def run() -> None:
        await create_topic(bootstrap, topic, PARTITIONS)
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=20, max_batch_size=1 << 20)
        await producer.start()
        try:
            sent = [
                await producer.send(topic, value, key=event_id.encode(), partition=i % PARTITIONS)
                for i, (event_id, value) in enumerate(zip(ids, events, strict=True))
            ]
            await asyncio.gather(*sent)
        finally:
            await producer.stop()

    asyncio.run(run())
    return ids


def cpu_of_trees(pids: list[int]) -> list[float]:
    """CPU seconds (user + system) of each process and its live descendants, from one pass over ``/proc``."""
    tick = os.sysconf("SC_CLK_TCK")
    parent: dict[int, int] = {}
    own: dict[int, float] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parent[int(entry)], own[int(entry)] = int(fields[1]), (int(fields[11]) + int(fields[12])) / tick
    totals = dict.fromkeys(pids, 0.0)
    for pid, seconds in own.items():
        p = pid
        while p > 1 and p not in totals:
            p = parent.get(p, 0)
        if p in totals:
            totals[p] += seconds
    return [totals[p] for p in pids]


def machine_busy_s() -> float:
    """CPU seconds every process of the machine has used since boot (``/proc/stat``: all but idle and iowait)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    tick = os.sysconf("SC_CLK_TCK")
    return (sum(fields[:8]) - fields[3] - fields[4]) / tick


# --- one worker of a fleet ----------------------------------------------------------------------

_ASSIGNED = re.compile(r"assigned partitions (\[.*?\])\s*$", re.MULTILINE)


def metrics(port: int) -> dict[str, float] | None:
    """The worker's rows stored and slots in use, from its ``/metrics``; None while it does not answer."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as response:
            text = response.read().decode()
    except OSError:
        return None
    out = {"rows": 0.0, "in_flight": 0.0}
    for line in text.splitlines():
        if line.startswith("shadow_rows_written_total "):
            out["rows"] = float(line.split()[1])
        elif line.startswith("shadow_events_in_flight "):
            out["in_flight"] = float(line.split()[1])
    return out


@dataclass
class Worker:
    """``shadow run`` as a process with its own chDB store and metrics port."""

    name: str
    store: Path
    log_path: Path
    port: int
    process: subprocess.Popen[bytes]
    in_flight: list[float] = field(default_factory=list)  # samples inside the window

    @classmethod
    def start(
        cls, name: str, *, workdir: Path, bootstrap: str, topic: str, group: str, base_url: str, slow: bool
    ) -> Worker:
        store = workdir / f"chdb-{name}"
        extra: dict[str, Any] = {} if slow else {"max_concurrency": 256}
        config: dict[str, Any] = {
            "log_level": "INFO",  # the assignment lines
            "kafka": {"bootstrap_servers": bootstrap, "topic": topic, "group_id": group},
            "clickhouse": {"dsn": f"chdb:{store}", "database": DATABASE},
            "candidates": [candidate(c, base_url, **extra) for c in CANDIDATES],
            "pipeline": {"max_in_flight": SLOW_IN_FLIGHT if slow else 256},
        }
        config_path = workdir / f"{name}.yaml"
        config_path.write_text(json.dumps(config))  # JSON is YAML
        port, log_path = free_port(), workdir / f"{name}.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "shadow", "run", "-c", str(config_path), "--metrics-port", str(port)],
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=workdir,
            )
        return cls(name, store, log_path, port, process)

    def assignment(self, topic: str) -> list[int] | None:
        """Its partitions after its last rebalance (aiokafka rebalances eagerly), None before the first."""
        found = _ASSIGNED.findall(self.log_path.read_text(errors="replace"))
        return sorted(p for t, p in ast.literal_eval(found[-1]) if t == topic) if found else None

    def check_alive(self) -> None:
        if self.process.poll() is not None:
            raise RuntimeError(f"{self.name} exited with {self.process.returncode}; see {self.log_path}")

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()


@dataclass
class WorkerFigures:
    name: str
    partitions: list[int]
    rows: float  # comparison rows stored in the window
    cpu_s: float  # CPU of the worker and its children in the window
    in_flight_mean: float
    in_flight_max: float


@dataclass
class FleetRun:
    scenario: str
    workers: int
    seconds: float  # the window
    replays: float  # comparison rows stored in the window, all workers
    cpu_s: float  # all workers
    server_cpu_s: float  # the candidate server, in the window
    machine_cpu_s: float  # every process of the machine (the broker and other people's work too), in the window
    script_cpu_s: float  # this script (polling /metrics and /proc), in the window
    settle_s: float  # from the start to the group's even assignment
    lost: int
    duplicates_after_final: int
    per_worker: list[WorkerFigures]

    @property
    def events_per_s(self) -> float:
        return self.replays / len(CANDIDATES) / self.seconds

    @property
    def cpu_ms_per_replay(self) -> float:
        return self.cpu_s / self.replays * 1000

    @property
    def cores(self) -> float:
        return (self.cpu_s + self.server_cpu_s) / self.seconds

    @property
    def other_cores(self) -> float:
        """Cores busy with everything else: the broker, other work on the machine (this script excluded)."""
        return (self.machine_cpu_s - self.script_cpu_s) / self.seconds - self.cores

    @property
    def script_cores(self) -> float:
        return self.script_cpu_s / self.seconds


def even(assignment: list[list[int] | None]) -> bool:
    if any(not a for a in assignment):
        return False
    flat = sorted(p for a in assignment for p in a or [])
    sizes = [len(a or []) for a in assignment]
    return flat == list(range(PARTITIONS)) and max(sizes) - min(sizes) <= 1


def run_fleet(
    scenario: str,
    k: int,
    *,
    bootstrap: str,
    topic: str,
    ids: list[str],
    base_url: str,
    server_pid: int,
    workdir: Path,
    timeout_s: float = 240.0,
) -> FleetRun:
    """K workers in a fresh group work the whole backlog; figures in the window, then SIGTERM and the union."""
    group = f"bench-fleet-{scenario}-{k}-{time.time_ns()}"
    expected = len(ids) * len(CANDIDATES)
    start_rows, end_rows = 0.05 * expected, 0.85 * expected
    here = workdir / f"{scenario}-{k}"
    here.mkdir()
    started = time.monotonic()
    deadline = started + timeout_s
    workers = [
        Worker.start(
            f"w{i}",
            workdir=here,
            bootstrap=bootstrap,
            topic=topic,
            group=group,
            base_url=base_url,
            slow=scenario == "latency",
        )
        for i in range(k)
    ]
    try:
        settle_s: float | None = None
        t0: float | None = None
        first: dict[str, tuple[float, float]] = {}  # per worker: rows, CPU at the window's start
        server0 = machine0 = script0 = 0.0
        while True:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{scenario}, {k} workers: not done after {timeout_s:.0f} s; logs in {here}")
            for w in workers:
                w.check_alive()
            now = time.monotonic()
            seen = [metrics(w.port) for w in workers]
            *cpus, server_now = cpu_of_trees([*(w.process.pid for w in workers), server_pid])
            if any(s is None for s in seen):
                time.sleep(0.25)
                continue
            rows = sum(s["rows"] for s in seen if s)
            if settle_s is None and even([w.assignment(topic) for w in workers]):
                settle_s = now - started
            if t0 is None and settle_s is not None and rows >= start_rows:
                t0, server0, machine0, script0 = now, server_now, machine_busy_s(), time.process_time()
                first = {w.name: (s["rows"], c) for w, s, c in zip(workers, seen, cpus, strict=True) if s}
            elif t0 is not None:
                for w, s in zip(workers, seen, strict=True):
                    if s:
                        w.in_flight.append(s["in_flight"])
                if rows >= end_rows:
                    server_cpu = server_now - server0
                    machine_cpu = machine_busy_s() - machine0
                    script_cpu = time.process_time() - script0
                    per_worker = [
                        WorkerFigures(
                            w.name,
                            w.assignment(topic) or [],
                            s["rows"] - first[w.name][0],
                            c - first[w.name][1],
                            statistics.mean(w.in_flight),
                            max(w.in_flight),
                        )
                        for w, s, c in zip(workers, seen, cpus, strict=True)
                        if s
                    ]
                    window = now - t0
                    break
            time.sleep(0.25)
        assert settle_s is not None
        # The rest of the backlog: until the group has committed every partition's end.
        ends = asyncio.run(end_offsets(bootstrap, topic, PARTITIONS))
        while asyncio.run(committed_offsets(bootstrap, group, topic, PARTITIONS)) != ends:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{scenario}, {k} workers: backlog not committed after {timeout_s:.0f} s")
            for w in workers:
                w.check_alive()
            time.sleep(0.5)
    finally:
        codes = [w.stop() for w in workers]
    if any(codes):
        raise RuntimeError(f"{scenario}, {k} workers: exit codes {codes} after SIGTERM; logs in {here}")
    tally = stored([w.store for w in workers], DATABASE)
    return FleetRun(
        scenario,
        k,
        window,
        sum(w.rows for w in per_worker),
        sum(w.cpu_s for w in per_worker),
        server_cpu,
        machine_cpu,
        script_cpu,
        settle_s,
        tally.lost(ids, CANDIDATES),
        tally.duplicates_after_final,
        per_worker,
    )


# --- report -------------------------------------------------------------------------------------


def print_tables(runs: list[FleetRun]) -> None:
    print()
    print(
        "| scenario | workers | events/s | vs 1 worker | window s | CPU ms per replay | cores busy: workers + server "
        "| this script | other (broker, other work) | settle s | lost | duplicates after FINAL |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in runs:
        one = next(x for x in runs if x.scenario == r.scenario and x.workers == 1)
        print(
            f"| {r.scenario} | {r.workers} | {r.events_per_s:,.0f} | {r.events_per_s / one.events_per_s:.2f} "
            f"| {r.seconds:.1f} | {r.cpu_ms_per_replay:.2f} | {r.cores:.2f} | {r.script_cores:.2f} "
            f"| {r.other_cores:.2f} | {r.settle_s:.1f} "
            f"| {r.lost} "
            f"| {r.duplicates_after_final} |"
        )
    print()
    print(
        "| scenario | workers | worker | partitions | rows/s stored (= replays/s) | CPU ms per replay | CPU cores "
        "| in-flight slots mean | max |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for r in runs:
        for w in r.per_worker:
            print(
                f"| {r.scenario} | {r.workers} | {w.name} | {','.join(map(str, w.partitions))} "
                f"| {w.rows / r.seconds:,.0f} | {w.cpu_s / max(w.rows, 1) * 1000:.2f} "
                f"| {w.cpu_s / r.seconds:.2f} | {w.in_flight_mean:.1f} | {w.in_flight_max:.0f} |"
            )


def goal_rows(runs: list[FleetRun]) -> list[GoalRow]:
    by = {(r.scenario, r.workers): r for r in runs}
    goals: list[GoalRow] = []
    targets = {
        "instant": (("2 workers vs 1", 2, 1, 1.5), ("3 workers vs 2", 3, 2, 0.9)),
        "latency": (("2 workers vs 1", 2, 1, 1.8), ("3 workers vs 1", 3, 1, 2.7)),
    }
    labels = {"instant": "instant candidates", "latency": f"{LATENCY_MS:.0f} ms candidates, {SLOW_IN_FLIGHT} slots"}
    for scenario, rows in targets.items():
        for label, k, base, at_least in rows:
            if (scenario, k) in by and (scenario, base) in by:
                goals.append(
                    ratio_row(
                        BENCH,
                        f"fleet events/s, {label}, {labels[scenario]}",
                        baseline_label=f"{base} worker{'s' if base > 1 else ''}",
                        baseline=by[(scenario, base)].events_per_s,
                        figure=by[(scenario, k)].events_per_s,
                        unit="events/s",
                        at_least=at_least,
                    )
                )
    # A fleet costs no more per replay than one worker: what each worker's core does is not spent on
    # coordinating with the others (on a machine whose cores other work also takes, this is the
    # figure that shows whether more cores would give more events/s).
    for k in FLEETS[1:]:
        if ("instant", k) in by and ("instant", 1) in by:
            goals.append(
                ratio_row(
                    BENCH,
                    f"replays per CPU second, {k} workers vs 1, instant candidates",
                    baseline_label="1 worker",
                    baseline=1000 / by[("instant", 1)].cpu_ms_per_replay,
                    figure=1000 / by[("instant", k)].cpu_ms_per_replay,
                    unit="replays/CPU-s",
                    at_least=0.9,
                )
            )
    if runs:
        goals.append(
            bound_row(
                BENCH,
                "lost + duplicates after FINAL, every run",
                figure=float(sum(r.lost + r.duplicates_after_final for r in runs)),
                unit="pairs",
                at_most=0,
            )
        )
    return goals


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=6000, help="backlog of the instant runs (default 6,000)")
    parser.add_argument("--slow-events", type=int, default=4000, help="backlog of the 50 ms runs (default 4,000)")
    parser.add_argument("--quick", action="store_true", help="1,500 and 1,000 events")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS), help=f"comma-separated, from {','.join(SCENARIOS)}")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (logs, chDB stores)")
    add_goals_argument(parser)
    args = parser.parse_args()
    scenarios = [s for s in args.scenarios.split(",") if s]
    if set(scenarios) - set(SCENARIOS):
        parser.error(f"unknown scenarios: {', '.join(sorted(set(scenarios) - set(SCENARIOS)))}")
    sizes = {"instant": 1500 if args.quick else args.events, "latency": 1000 if args.quick else args.slow_events}

    print(machine_facts())
    print(
        f"6 partitions; {len(CANDIDATES)} candidates per event; fleets of {', '.join(map(str, FLEETS))} workers, "
        "each its own chDB store; nothing pinned",
        flush=True,
    )
    workdir = Path(tempfile.mkdtemp(prefix="shadow-bench-fleet-"))
    runs: list[FleetRun] = []
    started = time.monotonic()
    try:
        with kafka() as bootstrap:
            for scenario in scenarios:
                latency = LATENCY_MS if scenario == "latency" else 0.0
                topic = f"bench.fleet.{scenario}.{time.time_ns()}"
                ids = publish_backlog(bootstrap, topic, make_events(sizes[scenario]))
                with candidate_server(latency, LATENCY_SPREAD if latency else 0.0) as (base_url, server_pid):
                    for k in FLEETS:
                        print(f"  {scenario}: {k} worker(s), {len(ids):,} events ...", file=sys.stderr, flush=True)
                        runs.append(
                            run_fleet(
                                scenario,
                                k,
                                bootstrap=bootstrap,
                                topic=topic,
                                ids=ids,
                                base_url=base_url,
                                server_pid=server_pid,
                                workdir=workdir,
                            )
                        )
    finally:
        if args.keep:
            print(f"work directory kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)

    print_tables(runs)
    goals = goal_rows(runs)
    print()
    print(render_table(goals))
    lost = [r for r in runs if r.lost or r.duplicates_after_final]
    for r in lost:
        print(f"{r.scenario}, {r.workers} workers: LOST {r.lost}, DUPLICATES AFTER FINAL {r.duplicates_after_final}")
    print(f"\n{sum(g.met for g in goals)} of {len(goals)} goals met; {time.monotonic() - started:.0f} s")
    write_goals(args.goals_json, goals)
    return 1 if lost else 0


if __name__ == "__main__":
    sys.exit(main())
