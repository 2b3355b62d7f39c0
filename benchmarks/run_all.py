"""The throughput suite (issue 10): runs each benchmark alone, one after the other, and prints one goal table.

Each benchmark runs in its own process, prints its own detailed table (shown here as it runs), and
writes its goal rows (``--goals-json``); this script collects them into one table: goal, target,
baseline measured in the same run, figure, ratio, met. Everything runs on 127.0.0.1: a local Kafka
broker (``scripts/kafka-local.sh`` unless ``KAFKA_BOOTSTRAP_SERVERS`` is set), embedded chDB in
temporary directories, candidate servers in local processes.

    python benchmarks/run_all.py [--quick] [--only end_to_end,diff_speed,...] [--markdown FILE]

``make bench`` runs it. The full run takes about 26 minutes on a 2-CPU machine, ``--quick`` about 11
(estimates from the parts: the emitter benchmark alone is about 20 and 6).
Run it alone: other work on the machine moves the figures.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.goals import GoalRow, machine_facts, read_goals, render_table  # noqa: E402

# (script, arguments of a full run, arguments of a quick run)
SUITE: tuple[tuple[str, list[str], list[str]], ...] = (
    ("diff_speed", [], ["--quick"]),
    ("redaction_speed", [], ["--quick"]),
    (
        "replay_transport",
        ["--requests", "12000", "--concurrency", "16,256", "--variants", "httpx-aiohttp,aiohttp-raw,shadow-client"],
        ["--quick"],
    ),
    ("sink_throughput", [], ["--quick"]),
    ("end_to_end", [], ["--quick"]),
    ("emitter_overhead", [], ["--quick"]),  # issue 13: latency shadow.emit adds to a production call
    ("worker_fleet", [], ["--quick"]),  # issue 15: 1, 2 and 3 worker processes in one consumer group
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="shorter runs of every benchmark")
    parser.add_argument("--only", help="comma-separated benchmark names (default: all)")
    parser.add_argument("--markdown", type=Path, help="also write the goal table and machine facts to this file")
    args = parser.parse_args()
    names = [name for name, _, _ in SUITE]
    only = args.only.split(",") if args.only else names
    unknown = set(only) - set(names)
    if unknown:
        parser.error(f"unknown benchmarks: {', '.join(sorted(unknown))} (known: {', '.join(names)})")

    rows: list[GoalRow] = []
    failed: list[str] = []
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="shadow-bench-") as tmp:
        for name, full, quick in SUITE:
            if name not in only:
                continue
            goals = Path(tmp) / f"{name}.json"
            command = [sys.executable, str(ROOT / "benchmarks" / f"{name}.py"), *(quick if args.quick else full)]
            print(f"\n=== {name}: {' '.join(command[1:])}", flush=True)
            t = time.monotonic()
            done = subprocess.run([*command, "--goals-json", str(goals)], cwd=ROOT, check=False)
            print(f"=== {name}: {time.monotonic() - t:.0f} s, exit {done.returncode}", flush=True)
            if done.returncode != 0 or not goals.exists():
                failed.append(name)
                continue
            rows.extend(read_goals(goals))

    facts = machine_facts()
    table = render_table(rows)
    met = sum(r.met for r in rows)
    quick = " (--quick)" if args.quick else ""
    summary = f"{met} of {len(rows)} goals met; {time.monotonic() - started:.0f} s{quick}"
    print(f"\n{facts}\n\n{table}\n\n{summary}")
    if failed:
        print(f"benchmarks that failed: {', '.join(failed)}", file=sys.stderr)
    if args.markdown:
        args.markdown.write_text(f"{facts}\n\n{table}\n\n{summary}\n", encoding="utf-8")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
