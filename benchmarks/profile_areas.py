"""Where a worker's CPU goes, by area, from py-spy's collapsed stacks (``end_to_end.py --profile DIR``).

Each sample is charged to the deepest frame in shadow's own code, so the time a library spends on
shadow's behalf counts to the stage that called it; samples with no shadow frame go to the library
at their leaf. With ``--cpu-us`` (the run's CPU per replay) the shares are also given in µs per replay.

    python benchmarks/profile_areas.py DIR/one.txt [--cpu-us 1515] [--top 15]
"""

from __future__ import annotations

import argparse
import collections
import re
from pathlib import Path

# The first pattern that matches the deepest shadow frame's file names the area.
AREAS: tuple[tuple[str, str], ...] = (
    ("diff: text similarity and units", r"shadow/diff/text\.py|shadow/cjk\.py"),
    ("diff: the rest (JSON, tools, refusals, cost)", r"shadow/diff/"),
    ("redaction", r"shadow/redaction/"),
    ("replay client (HTTP, request, answer)", r"shadow/replay/(client|translate|result)\.py|shadow/events/wire\.py"),
    ("fan-out, breaker, limits, control", r"shadow/replay/|shadow/events/control\.py"),
    ("rows and the sink (build, batch, insert)", r"shadow/sink/|shadow/storage/"),
    ("decode events", r"shadow/events/(decode|models)\.py"),
    ("Kafka source and commits", r"shadow/events/|shadow/checkpoint\.py"),
    ("pipeline (tasks, slots, counters)", r"shadow/pipeline\.py|shadow/rowbuilder\.py|shadow/metrics\.py"),
    ("event loop and probes", r"shadow/cli/|shadow/loopwatch\.py|shadow/health\.py|^asyncio/|^selectors"),
)


def area_of(frames: list[str]) -> str:
    own = [f for f in frames if "shadow/" in f]
    where = own[-1] if own else frames[-1] if frames else ""
    path = where[where.rfind("(") + 1 :]
    for name, pattern in AREAS:
        if re.search(pattern, path):
            return name
    return "other: " + path.split("/")[0].split(":")[0]


def shares(path: Path) -> tuple[collections.Counter[str], int]:
    counts: collections.Counter[str] = collections.Counter()
    total = 0
    for line in path.read_text(encoding="utf-8").splitlines():
        stack, _, n = line.rpartition(" ")
        if not stack or not n.isdigit():
            continue
        frames = [f for f in stack.split(";") if not f.startswith(("process ", "thread "))]
        counts[area_of(frames)] += int(n)
        total += int(n)
    return counts, total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("profile", type=Path, nargs="+", help="py-spy raw output files (one column each)")
    parser.add_argument("--cpu-us", type=float, nargs="*", help="CPU µs per replay of each run, in order")
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args()
    runs = [shares(p) for p in args.profile]
    cpu = args.cpu_us or []
    areas = collections.Counter[str]()
    for counts, total in runs:
        for name, n in counts.items():
            areas[name] += n / total
    header = "| area | " + " | ".join(p.stem for p in args.profile) + " |"
    print(header)
    print("|---|" + "---|" * len(runs))
    for name, _ in areas.most_common(args.top):
        cells = []
        for i, (counts, total) in enumerate(runs):
            share = counts[name] / total
            cells.append(f"{share:.0%}" + (f" ({share * cpu[i]:,.0f} µs)" if i < len(cpu) else ""))
        print(f"| {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
