"""``shadow summary`` on a terminal: the on-call screen, fitted to the width it is given.

Per workflow, each candidate takes one line under that workflow's control lane (production's
model replayed against itself: the noise floor), with the figures a rollout is decided on:
errors, JSON and schema validity, tool agreement, similarity, refusals, p95 latency and cost. A
candidate figure worse than the floor beyond noise is marked ``!`` (red when colour is on). Columns that
do not fit the width continue in a band below, the names repeated; a figure is never cut or
wrapped. ``render_table`` is the entry point of ``--format table``; ``layout="wide"`` prints every
column instead (``shadow.report.summary.wide``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from io import StringIO
from typing import Any, Literal

from rich.cells import cell_len
from rich.console import Console, JustifyMethod
from rich.table import Table
from rich.text import Text

from shadow.report.formatting import (
    finite,
    format_count,
    format_ms,
    format_number,
    format_rate,
    format_usd_per_1k,
)
from shadow.report.stats import newcombe_independent
from shadow.report.summary.wide import label, ordered_workflow_rows, render_wide, skip_reasons
from shadow.report.window import Window

__all__ = ["FIGURES", "FLAG", "Figure", "Layout", "render_screen", "render_table"]

Layout = Literal["compact", "wide"]

FLAG = "!"
_FLAG_STYLE = "bold red"
_GAP = 2  # between two columns: the table's padding of one on each side
_FLEX_MIN = 24  # a folding key column (a path) keeps at least this many characters a line


def _two_decimals(value: Any) -> str:
    return format_number(value, digits=2)


@dataclass(frozen=True, slots=True)
class Figure:
    """A key figure of the screen, and when it counts as worse than the control lane's (the noise floor)."""

    key: str  # scorecard column
    header: str
    show: Callable[[Any], str]
    higher_is_worse: bool
    n: str | None = None  # a rate: the column counting the rows it is over, for a two-proportion test
    tolerance: float = 0.0  # otherwise: how much worse, absolute or (``relative``) a share of the lane's value
    relative: bool = False

    def worse(self, row: dict[str, Any], floor: dict[str, Any]) -> bool:
        """Whether ``row``'s figure is worse than the control lane's ``floor`` beyond noise.

        A rate is worse when the difference is significant, one-sided at ``CONFIDENCE``
        (Newcombe's interval for independent samples); another figure when it is worse by more
        than its tolerance. Missing figures or counts are never worse.
        """
        mine, base = finite(row[self.key]), finite(floor[self.key])
        if mine is None or base is None:
            return False
        if self.n is not None:
            n_mine, n_base = int(row[self.n] or 0), int(floor[self.n] or 0)
            if n_mine <= 0 or n_base <= 0:
                return False
            # A two-sided interval at 1 - 2α is the one-sided test at α.
            gap = newcombe_independent(round(mine * n_mine), n_mine, round(base * n_base), n_base, 2 * CONFIDENCE - 1)
            return gap.low > 0 if self.higher_is_worse else gap.high < 0
        gap_value = mine - base if self.higher_is_worse else base - mine
        return gap_value > (self.tolerance * abs(base) if self.relative else self.tolerance)


# Rates are tested against the lane's with their counts: errors are over every comparison, tool
# agreement over the rows with tool calls, JSON, schema and refusals over the successful ones (the
# rows where JSON was in play are not counted apart: ``ok`` is an upper bound, so the test leans
# towards flagging). Quantiles come without their values: similarity counts as worse by more than
# 0.02, p95 latency, p95 TTFT and cost by more than 10% (two runs of the same model differ that much).
CONFIDENCE = 0.95
_SIMILARITY, _SPREAD = 0.02, 0.10
FIGURES: tuple[Figure, ...] = (
    Figure("error_rate", "errors", format_rate, True, n="compared"),
    Figure("candidate_json_valid_rate", "JSON ok", format_rate, False, n="ok"),
    Figure("candidate_schema_valid_rate", "schema ok", format_rate, False, n="ok"),
    Figure("tool_name_agreement", "tool names", format_rate, False, n="tool_rows"),
    Figure("tool_args_agreement", "tool args", format_rate, False, n="tool_rows"),
    Figure("similarity_p10", "sim p10", _two_decimals, False, tolerance=_SIMILARITY),
    Figure("similarity_p50", "sim p50", _two_decimals, False, tolerance=_SIMILARITY),
    Figure("candidate_refusal_rate", "refusals", format_rate, True, n="ok"),
    Figure("candidate_latency_p95_ms", "p95 ms", format_ms, True, tolerance=_SPREAD, relative=True),
    Figure("candidate_ttft_p95_ms", "TTFT p95", format_ms, True, tolerance=_SPREAD, relative=True),
    Figure("candidate_cost_per_request_usd", "$/1k req", format_usd_per_1k, True, tolerance=_SPREAD, relative=True),
)
_LEGEND = (
    f"{FLAG} marks a candidate's figure worse than its workflow's control lane (production's model replayed "
    "against itself: the noise floor) beyond noise: rates significantly (one-sided, 95%), similarity by more "
    "than 0.02, p95 latency, p95 time to first token (streamed calls) and cost by more than 10%."
)


def render_table(
    summary: dict[str, Any],
    window: Window,
    width: int | None = None,
    color: bool = True,
    *,
    layout: Layout = "compact",
) -> str:
    """The terminal view of ``shadow summary`` (``--format table``).

    Args:
        summary: what ``query_summary`` returns.
        window: the window asked for, described in the first line.
        width: characters per line; None is the terminal's width (80 when there is no terminal)
            for the compact layout, 300 for the wide one.
        color: ANSI colours and bold; off, flags still show as ``!``.
        layout: ``"compact"``, the on-call screen fitted to ``width``; ``"wide"``, every column of
            the scorecard in one wide table per section.
    """
    if layout == "wide":
        return render_wide(summary, window, width=width, color=color)
    return render_screen(summary, window, width=width, color=color)


def render_screen(summary: dict[str, Any], window: Window, width: int | None = None, color: bool = True) -> str:
    """The on-call screen: candidates, each workflow beside its control lane, coverage and paths, in ``width``."""
    console = Console(
        file=StringIO(), width=width, force_terminal=color, color_system="auto" if color else None, highlight=False
    )
    read = summary["window"]["read"]
    source = "hourly rollups" if read["query"] == "scorecard_rollup" else "comparison rows"
    console.print(Text.assemble(("shadow summary", "bold"), f" — {window.describe()} (read from {source})"))
    if not summary["candidates"]:
        console.print("No comparisons in this window. Is a worker running, and are candidates enabled?")
    else:
        flags = _flags(summary["workflows"])
        console.print(Text(_LEGEND, style="dim"))
        _candidates(console, summary["candidates"], summary["workflows"], flags)
        _workflows(console, summary, flags)
    _coverage(console, summary["coverage"])
    _paths(console, summary["paths"])
    return str(console.file.getvalue())  # type: ignore[attr-defined]


# --- figures beside the control lane ------------------------------------------------------------


def _flags(workflows: list[dict[str, Any]]) -> dict[tuple[str, str], list[str]]:
    """Per (workflow, candidate) compared with a control lane: the keys of its figures worse than the lane's."""
    rows = {(r["workflow"], r["candidate"]): r for r in workflows}
    flags = {}
    for row in workflows:
        control = rows.get((row["workflow"], row["control"])) if row["role"] != "control" and row["control"] else None
        if control is not None:
            flags[(row["workflow"], row["candidate"])] = [f.key for f in FIGURES if f.worse(row, control)]
    return flags


def _worse_in(name: str, flags: dict[tuple[str, str], list[str]]) -> Text:
    compared = [keys for (_, candidate), keys in flags.items() if candidate == name]
    if not compared:
        return Text("–")
    worse = sum(1 for keys in compared if keys)
    text = f"{worse} of {len(compared)} workflow{'s' if len(compared) > 1 else ''}"
    return Text(text, style=_FLAG_STYLE if worse else "")


def _figures_with_data(rows: list[dict[str, Any]]) -> list[Figure]:
    # A figure no row has (no JSON asked for, no tool calls) is left out.
    return [f for f in FIGURES if any(finite(row.get(f.key)) is not None for row in rows)]


def _candidates(
    console: Console,
    rows: list[dict[str, Any]],
    workflows: list[dict[str, Any]],
    flags: dict[tuple[str, str], list[str]],
) -> None:
    console.print()
    console.print(Text("Candidates, all workflows", style="bold"))
    columns = [_Column("compared", [Text(format_count(r["compared"])) for r in rows])]
    if any(r["control"] for r in workflows):
        columns.append(
            _Column("worse in", [Text("") if _is_control(r) else _worse_in(r["candidate"], flags) for r in rows])
        )
    columns += [_Column(f.header, [Text(f.show(r[f.key])) for r in rows]) for f in _figures_with_data(rows)]
    _print_bands(console, [_Column("candidate", [Text(label(r)) for r in rows], "left")], columns, _styles(rows))


def _workflows(console: Console, summary: dict[str, Any], flags: dict[tuple[str, str], list[str]]) -> None:
    ordered = ordered_workflow_rows(summary)
    for workflow in dict.fromkeys(r["workflow"] for r in ordered):
        rows = [r for r in ordered if r["workflow"] == workflow]
        control = next((r["control"] for r in rows if r["control"]), None)
        floor = f" — noise floor: {control}" if control else " — no control lane: nothing to compare with"
        console.print()
        console.print(Text.assemble((workflow, "bold"), floor))
        columns = [_Column("compared", [Text(format_count(r["compared"])) for r in rows])]
        for figure in _figures_with_data(rows):
            cells = []
            for row in rows:
                worse = figure.key in flags.get((workflow, row["candidate"]), ())
                shown = figure.show(row[figure.key])
                # Every cell keeps room for the flag, so figures stay aligned on their last digit.
                cells.append(Text(shown + FLAG, style=_FLAG_STYLE) if worse else Text(shown + (" " if control else "")))
            columns.append(_Column(figure.header, cells))
        _print_bands(console, [_Column("candidate", [Text(label(r)) for r in rows], "left")], columns, _styles(rows))


def _is_control(row: dict[str, Any]) -> bool:
    return bool(row["role"] == "control")


def _styles(rows: list[dict[str, Any]]) -> list[str | None]:
    return ["dim" if _is_control(r) else None for r in rows]


# --- coverage and paths ---------------------------------------------------------------------------


def _coverage(console: Console, data: dict[str, Any]) -> None:
    workflows = data["workflows"]
    if workflows:
        console.print()
        console.print(Text("Coverage: what became of every consumed record", style="bold"))
        keys = [
            _Column("workflow", [Text(w["workflow"] or "(undecodable)") for w in workflows], "left"),
            _Column("api", [Text(w["api"] or "–") for w in workflows], "left"),
        ]
        values = [
            _Column(header, [Text(format_count(w[key])) for w in workflows])
            for key, header in (("consumed", "consumed"), ("replayed", "replayed"),
                                ("skipped_by_sampling", "sampled out"), ("skipped_no_candidate", "no candidate"),
                                ("dead_lettered", "dead letters"))
        ]  # fmt: skip
        _print_bands(console, keys, values, [None] * len(workflows))
    candidates = data["candidates"]
    if candidates:
        console.print()
        console.print(Text("Candidate coverage: compared ÷ replayed events it should see", style="bold"))
        names = [label(c) for c in candidates]
        keys = [
            _Column("candidate", [Text(_unless_repeated(names, i)) for i in range(len(names))], "left"),
            _Column("workflow", [Text(c["workflow"]) for c in candidates], "left"),
        ]
        values = [
            _Column("compared", [Text(f"{format_count(c['compared'])} of {format_count(c['replayed_events'])}")
                                 for c in candidates]),
            _Column("coverage", [_coverage_cell(c) for c in candidates]),
        ]  # fmt: skip
        # The events each candidate did not compare, by reason (breaker open, killed, sampled out, out of
        # scope, …): a column per reason any candidate has, so a candidate that does nothing says why.
        for reason in skip_reasons(candidates):
            counts = [Text(format_count(c.get("skips", {}).get(reason, 0))) for c in candidates]
            values.append(_Column(reason.replace("_", " "), counts))
        values += [
            _Column("last compared (UTC)", [Text(_last(c["last_compared_at"])) for c in candidates], "left"),
            _Column("api", [Text(c["api"]) for c in candidates], "left", optional=True),
        ]
        _print_bands(console, keys, values, _styles(candidates))


def _coverage_cell(row: dict[str, Any]) -> Text:
    shown = format_rate(row["coverage"])
    return Text(f"{shown} {row['flag']}", style=_FLAG_STYLE) if row["flag"] else Text(shown)


def _last(moment: Any) -> str:
    return moment.strftime("%Y-%m-%d %H:%M") if moment else "never"


def _unless_repeated(values: Sequence[str], i: int) -> str:
    return "" if i and values[i] == values[i - 1] else values[i]


def _paths(console: Console, paths: list[dict[str, Any]]) -> None:
    if not paths:
        return
    console.print()
    console.print(Text("Top differing paths, each beside the control lane's rate (the noise)", style="bold"))
    names = [p["candidate"] for p in paths]
    keys = [
        _Column("candidate", [Text(_unless_repeated(names, i)) for i in range(len(names))], "left"),
        _Column("path", [Text(p["path"]) for p in paths], "left", flex=True),
    ]
    values = [
        _Column("rate", [Text(format_rate(p["rate"])) for p in paths]),
        _Column("control", [Text(format_rate(p["control_rate"])) for p in paths]),
        _Column("rows", [Text(format_count(p["rows"])) for p in paths]),
        _Column("family", [Text(p["family"]) for p in paths], "left"),
        _Column("kinds", [Text(", ".join(p["kinds"])) for p in paths], "left", optional=True),
        _Column("examples", [Text(", ".join(p["examples"])) for p in paths], "left", optional=True),
    ]
    dropped = _print_bands(console, keys, values, [None] * len(paths))
    if dropped:
        console.print(Text(f"Not shown at this width: {', '.join(dropped)} (shadow summary --wide).", style="dim"))


# --- layout ---------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Column:
    header: str
    cells: list[Text]
    justify: JustifyMethod = "right"
    optional: bool = False  # left out when it does not fit beside the others, rather than starting a band
    flex: bool = False  # a key column that folds to make room (a path), rather than pushing columns to a band
    width: int = field(init=False)

    def __post_init__(self) -> None:
        self.width = max([cell_len(self.header), *(cell.cell_len for cell in self.cells)])


def _print_bands(
    console: Console, keys: list[_Column], values: list[_Column], row_styles: Sequence[str | None]
) -> list[str]:
    """Print ``keys`` and ``values`` as a table within the console's width, in as many bands as it takes.

    Each band repeats the key columns (names), then as many value columns as fit, in order; value
    columns never wrap. A ``flex`` key column (a path) folds first, down to ``_FLEX_MIN``, so that
    every value column fits in one band; any key column folds when the keys leave no room for
    the widest value column. Returns the headers of the optional columns left out.
    """
    room = console.width
    required = [v for v in values if not v.optional]
    widths = [k.width for k in keys]

    def keys_total() -> int:
        return sum(widths) + _GAP * (len(keys) - 1)

    folds = [False] * len(keys)
    over = keys_total() + sum(_GAP + v.width for v in required) - room
    for i, key in enumerate(keys):
        if key.flex and over > 0 and widths[i] > _FLEX_MIN:
            cut = min(over, widths[i] - _FLEX_MIN)
            widths[i], folds[i], over = widths[i] - cut, True, over - cut
    widest = max((v.width for v in required), default=0)
    over = keys_total() + _GAP + widest - room
    if over > 0:
        widths[-1], folds[-1] = max(widths[-1] - over, 4), True
    bands: list[list[_Column]] = [[]]
    used = keys_total()
    for column in required:
        if bands[-1] and used + _GAP + column.width > room:
            bands.append([])
            used = keys_total()
        bands[-1].append(column)
        used += _GAP + column.width
    dropped = []
    for column in (v for v in values if v.optional):
        if used + _GAP + column.width <= room:
            bands[-1].append(column)
            used += _GAP + column.width
        else:
            dropped.append(column.header)
    for band in bands:
        table = Table(box=None, padding=(0, 1), pad_edge=False, show_edge=False, header_style="bold")
        for key, width, fold in zip(keys, widths, folds, strict=True):
            table.add_column(key.header, justify=key.justify, width=width, no_wrap=not fold, overflow="fold")
        for column in band:
            table.add_column(column.header, justify=column.justify, width=column.width, no_wrap=True)
        for i, style in enumerate(row_styles):
            table.add_row(*(k.cells[i] for k in keys), *(c.cells[i] for c in band), style=style)
        console.print(table)
    return dropped
