"""The goal rows every benchmark reports, and the table ``make bench`` prints from them.

A benchmark measures a figure and, in the same run, a baseline (the raw part it is compared with). A
goal row says what the goal is (``">= 0.50 x baseline"`` or ``"<= 100 µs"``), the baseline, the
figure and their ratio, and whether the goal is met. Benchmarks print their own detailed tables and,
with ``--goals-json FILE``, write their goal rows to FILE for ``benchmarks/run_all.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass(frozen=True)
class GoalRow:
    """One goal: ``figure`` against ``baseline`` (both in ``unit``), ``ratio`` = figure / baseline."""

    benchmark: str
    goal: str  # what is measured, e.g. "replay client req/s at 256 in flight"
    target: str  # e.g. ">= 0.50 x baseline", "<= 100 µs"
    baseline_label: str  # what the baseline is, e.g. "raw aiohttp"
    baseline: float | None
    figure: float
    unit: str
    met: bool

    @property
    def ratio(self) -> float | None:
        if self.baseline is None or self.baseline == 0:
            return None
        return self.figure / self.baseline


def ratio_row(
    benchmark: str, goal: str, *, baseline_label: str, baseline: float, figure: float, unit: str, at_least: float
) -> GoalRow:
    """A goal met when figure / baseline >= at_least (higher is better)."""
    met = baseline > 0 and figure / baseline >= at_least
    return GoalRow(benchmark, goal, f">= {at_least:.2f} x baseline", baseline_label, baseline, figure, unit, met)


def bound_row(
    benchmark: str,
    goal: str,
    *,
    figure: float,
    unit: str,
    at_most: float | None = None,
    at_least: float | None = None,
    baseline_label: str = "",
    baseline: float | None = None,
) -> GoalRow:
    """A goal on the figure itself (``<= at_most`` or ``>= at_least``), with an optional baseline for the ratio."""
    if (at_most is None) == (at_least is None):
        raise ValueError("give exactly one of at_most and at_least")
    if at_most is not None:
        target, met = f"<= {at_most:g} {unit}", figure <= at_most
    else:
        assert at_least is not None
        target, met = f">= {at_least:g} {unit}", figure >= at_least
    return GoalRow(benchmark, goal, target, baseline_label, baseline, figure, unit, met)


def add_goals_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--goals-json", type=Path, help="also write the goal rows to this JSON file (for run_all.py)")


def write_goals(path: Path | None, rows: list[GoalRow]) -> None:
    if path is None:
        return
    data = [dict(asdict(r), ratio=r.ratio) for r in rows]
    path.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def read_goals(path: Path) -> list[GoalRow]:
    rows = []
    for item in json.loads(path.read_text(encoding="utf-8")):
        item.pop("ratio", None)
        rows.append(GoalRow(**item))
    return rows


def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if abs(value) >= 100:
        return f"{value:,.0f} {unit}"
    return f"{value:.3g} {unit}"


def render_table(rows: list[GoalRow]) -> str:
    """A Markdown table: benchmark, goal, target, baseline, figure, ratio, met."""
    lines = [
        "| benchmark | goal | target | baseline | figure | ratio | met |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        base = f"{r.baseline_label}: {_fmt(r.baseline, r.unit)}" if r.baseline_label else "-"
        ratio = f"{r.ratio:.2f}" if r.ratio is not None else "-"
        lines.append(
            f"| {r.benchmark} | {r.goal} | {r.target} | {base} | {_fmt(r.figure, r.unit)} | {ratio} | "
            f"{'yes' if r.met else '**no**'} |"
        )
    return "\n".join(lines)


def machine_facts() -> str:
    """One line naming the machine, so a table can be compared across machines."""
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{platform.python_implementation()} {platform.python_version()} on {platform.system()} "
        f"{platform.release()} {platform.machine()}, {os.cpu_count()} CPUs ({cpu})"
    )
