"""Microseconds per comparison: shadow's comparator against the obvious stdlib approach, in the same run.

Answer pairs come from the bundled demo data (production answers and a candidate's
recorded answers to the same requests), concatenated to 300 characters, 2 KB and
8 KB, each side with one tool call; plus Chinese 2 KB and 8 KB pairs and a pair of
tool calls with 20 arguments. The baseline is what one writes with the standard
library: ``difflib.SequenceMatcher`` for similarity, ``json.loads`` for validity and
argument equality, ``str.split`` for words.

    python benchmarks/diff_speed.py [--repeat 3000] [--cpu 0] [--json] [--quick] [--goals-json FILE]

Prints a table; asserts nothing. Goals (median, one core): the 2 KB pair with one tool
call in at most 100 µs, the 8 KB English and Chinese pairs in at most 2 ms.
"""

from __future__ import annotations

import argparse
import difflib
import gc
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.goals import GoalRow, add_goals_argument, bound_row, write_goals  # noqa: E402
from shadow.demo.server import recording_key  # noqa: E402
from shadow.diff import DiffContext, compare  # noqa: E402
from shadow.diff.compare import measure_side  # noqa: E402
from shadow.events.models import Api  # noqa: E402
from shadow.events.output import Output, ToolCall, Usage  # noqa: E402
from shadow.events.wire import parse_response  # noqa: E402

DATA = ROOT / "shadow" / "demo" / "data"


def demo_pairs(workflows: set[str], model: str) -> list[tuple[str, str]]:
    """(production text, candidate text) of demo events, from the bundled recordings."""
    recordings = orjson.loads((DATA / "recordings.json").read_bytes())["models"][model]
    pairs = []
    for line in (DATA / "events.ndjson").read_bytes().splitlines():
        event = orjson.loads(line)
        if event["workflow"] not in workflows or event["response"] is None:
            continue
        production = parse_response(Api(event["api"]), event["response"]).text
        answer = recordings.get(recording_key(Api(event["api"]), event["request"]))
        if production and answer and answer.get("kind") == "ok" and answer.get("text"):
            pairs.append((production, answer["text"]))
    return pairs


def sized(pairs: list[tuple[str, str]], chars: int, chinese: bool) -> tuple[str, str]:
    def is_chinese(text: str) -> bool:
        return sum("\u4e00" <= ch <= "\u9fff" for ch in text) > len(text) / 4

    chosen = [(a, b) for a, b in pairs if is_chinese(a) == chinese]
    left: list[str] = []
    right: list[str] = []
    i = 0
    while sum(map(len, left)) < chars:
        a, b = chosen[i % len(chosen)]
        left.append(a)
        right.append(b)
        i += 1
    return "\n\n".join(left)[:chars], "\n\n".join(right)[: int(chars * len("".join(right)) / len("".join(left)))]


FLIGHT_PROD = '{"origin": "SFO", "destination": "NRT", "date": "2026-12-01", "passengers": 2, "cabin": "economy"}'
FLIGHT_CAND = '{"origin": "SFO", "dest": "NRT", "date": "2026-12-01", "passengers": "2", "cabin": "economy"}'


def wide_arguments(changed: bool) -> str:
    args: dict[str, Any] = {f"field_{i:02d}": f"value {i}" for i in range(14)}
    args.update({"count": 3, "ratio": 0.25, "enabled": True, "tags": ["a", "b"], "nested": {"x": 1, "y": [1, 2]}})
    args["note"] = "deliver to the back door"
    if changed:
        args["count"] = "3"
        args["field_03"] = "value three"
        args.pop("field_07")
        args["nested"]["y"] = [1, 2, 3]
    assert len(args) in (19, 20)
    return json.dumps(args)


def baseline(production: Output, candidate: Output) -> dict[str, Any]:
    """The obvious stdlib comparison of the same families."""

    def valid(text: str) -> bool:
        try:
            json.loads(text)
        except ValueError:
            return False
        return True

    def args(call: ToolCall) -> Any:
        try:
            return json.loads(call.arguments)
        except ValueError:
            return None

    return {
        "similarity": difflib.SequenceMatcher(None, production.text, candidate.text).ratio(),
        "json_valid": (valid(production.text), valid(candidate.text)),
        "chars": (len(production.text), len(candidate.text)),
        "words": (len(production.text.split()), len(candidate.text.split())),
        "names_match": sorted(c.name for c in production.tool_calls) == sorted(c.name for c in candidate.tool_calls),
        "args_match": [args(c) for c in production.tool_calls] == [args(c) for c in candidate.tool_calls],
        "finish_changed": production.finish_reason != candidate.finish_reason,
    }


def timings(fn: Callable[[], Any], repeat: int, budget_s: float) -> list[float]:
    # Warm up with up to 50 calls, within a quarter of the budget (the stdlib baseline is slow on long texts).
    deadline = time.perf_counter() + budget_s / 4
    for _ in range(min(50, repeat)):
        fn()
        if time.perf_counter() > deadline:
            break
    samples = []
    deadline = time.perf_counter() + budget_s
    gc.disable()
    try:
        for _ in range(repeat):
            start = time.perf_counter()
            fn()
            samples.append((time.perf_counter() - start) * 1e6)
            if time.perf_counter() > deadline:
                break
    finally:
        gc.enable()
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3000, help="comparisons per case and method")
    parser.add_argument("--cpu", type=int, default=0, help="pin to this CPU (one core)")
    parser.add_argument("--budget-s", type=float, default=20.0, help="time cap per case and method")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--quick", action="store_true", help="300 calls and 1 s per case and method (about 20 s)")
    add_goals_argument(parser)
    args = parser.parse_args()
    if args.quick:
        args.repeat, args.budget_s = min(args.repeat, 300), min(args.budget_s, 1.0)
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {args.cpu})

    english = demo_pairs({"support_chat", "kb_answer"}, "claude-haiku-4-5")
    flights = (ToolCall("search_flights", FLIGHT_PROD),), (ToolCall("search_flights", FLIGHT_CAND),)
    cases: list[tuple[str, Output, Output]] = []
    for label, chars, chinese in (
        ("300 chars", 300, False),
        ("2 KB", 2048, False),
        ("8 KB English", 8192, False),
        ("2 KB Chinese", 2048, True),
        ("8 KB Chinese", 8192, True),
    ):
        a, b = sized(english, chars, chinese)
        cases.append((
            f"{label} + 1 tool call",
            Output(a, flights[0], usage=Usage(900, len(a) // 4), model="gpt-4o"),
            Output(b, flights[1], usage=Usage(900, len(b) // 4), model="gpt-4.1-mini"),
        ))  # fmt: skip
    cases.append((
        "tool call, 20 arguments",
        Output("", (ToolCall("create_shipment", wide_arguments(False)),)),
        Output("", (ToolCall("create_shipment", wide_arguments(True)),)),
    ))  # fmt: skip

    context = DiffContext()
    rows = []
    for name, production, candidate in cases:
        side = measure_side(production, context)
        ours = timings(lambda p=production, c=candidate: compare(p, c, context), args.repeat, args.budget_s)
        shared = timings(
            lambda p=production, c=candidate, s=side: compare(p, c, context, production_side=s),
            args.repeat,
            args.budget_s,
        )
        base = timings(lambda p=production, c=candidate: baseline(p, c), args.repeat, args.budget_s)
        rows.append({
            "case": name,
            "chars": (len(production.text), len(candidate.text)),
            "shadow_median_us": statistics.median(ours),
            "shadow_p90_us": statistics.quantiles(ours, n=10)[-1],
            "shadow_shared_production_median_us": statistics.median(shared),
            "baseline_median_us": statistics.median(base),
            "speedup": statistics.median(base) / statistics.median(ours),
            "samples": (len(ours), len(base)),
        })  # fmt: skip

    start = time.perf_counter()
    sum(range(10_000_000))
    calibration_ms = (time.perf_counter() - start) * 1000
    meta = {
        "calibration_sum_range_1e7_ms": round(calibration_ms, 1),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "pinned_cpu": args.cpu if hasattr(os, "sched_setaffinity") else None,
    }
    goals = goal_rows(rows)
    write_goals(args.goals_json, goals)
    if args.json:
        print(json.dumps({"meta": meta, "rows": rows}, indent=2))
        return
    print(f"python {meta['python']} on {meta['machine']}, {meta['cpus']} CPUs, pinned to CPU {meta['pinned_cpu']}")
    print(f"machine speed: sum(range(10**7)) took {calibration_ms:.0f} ms in this run (compare across machines)")
    header = (
        f"{'case':<26} {'chars':>12} {'shadow p50':>11} {'p90':>8} {'shared prod':>12} {'stdlib p50':>11} "
        f"{'speedup':>8}"
    )
    print(header)
    print("-" * len(header))
    for r in rows:
        chars = f"{r['chars'][0]}/{r['chars'][1]}"
        print(
            f"{r['case']:<26} {chars:>12} {r['shadow_median_us']:>9.1f}µs {r['shadow_p90_us']:>6.1f}µs "
            f"{r['shadow_shared_production_median_us']:>10.1f}µs {r['baseline_median_us']:>9.1f}µs "
            f"{r['speedup']:>7.1f}x"
        )
    print()
    for goal in goals:
        print(
            f"goal, {goal.goal.removeprefix('diff ')}: median {goal.figure:.1f} µs ({goal.target}): "
            f"{'met' if goal.met else 'NOT met'}; {goal.baseline or 0:.1f} µs for the stdlib baseline"
        )


# Goal rows: (case, most µs for its median comparison).
GOALS = (("2 KB + 1 tool call", 100.0), ("8 KB English + 1 tool call", 2000.0), ("8 KB Chinese + 1 tool call", 2000.0))


def goal_rows(rows: list[dict[str, Any]]) -> list[GoalRow]:
    by_case = {r["case"]: r for r in rows}
    return [
        bound_row(
            "diff_speed",
            f"diff {case}",
            figure=by_case[case]["shadow_median_us"],
            unit="µs",
            at_most=at_most,
            baseline_label="stdlib (difflib + json)",
            baseline=by_case[case]["baseline_median_us"],
        )
        for case, at_most in GOALS
    ]


if __name__ == "__main__":
    main()
