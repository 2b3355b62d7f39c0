"""The complete renderings of ``shadow summary``: every scorecard column, as a wide terminal table
(``layout="wide"``, about 230 columns) and as Markdown for incident notes and pull requests."""

from __future__ import annotations

from collections.abc import Callable
from io import StringIO
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from shadow.report.formatting import (
    format_change,
    format_ms,
    format_number,
    format_rate,
    format_usd_per_1k,
)
from shadow.report.summary.query import NOT_SENT
from shadow.report.window import Window

__all__ = ["COLUMNS", "cells", "label", "ordered_workflow_rows", "render_markdown", "render_wide", "skip_reasons"]

COLUMNS: tuple[tuple[str, str], ...] = (
    ("compared", "compared"),
    ("errors", "errors\n(timeouts)"),
    ("json", "JSON valid\nprod→cand"),
    ("broken", "JSON\nbroken"),
    ("schema", "schema valid\nprod→cand"),
    ("tools", "tool names /\nargs agree"),
    ("f1", "tool\nF1"),
    ("similarity", "similarity\np10 / p50"),
    ("length", "length ratio\np50 / p90"),
    ("truncations", "trunc-\nated"),
    ("refusals", "refusals\nprod→cand"),
    ("latency", "latency p95 ms\nprod→cand (Δ)"),
    ("latency99", "p50 / p99\ncand ms"),
    ("ttft", "TTFT p95 ms\nprod→cand (Δ)"),
    ("tps", "tokens/s\nprod→cand"),
    ("cost", "cost $/1k requests\nprod→cand (Δ)"),
)


def _two_decimals(value: Any) -> str:
    return format_number(value, digits=2)


def _arrow(row: dict[str, Any], production: str, candidate: str, show: Callable[[Any], str]) -> str:
    """``production→candidate``."""
    return f"{show(row[production])}→{show(row[candidate])}"


def _slash(row: dict[str, Any], first: str, second: str, show: Callable[[Any], str]) -> str:
    return f"{show(row[first])} / {show(row[second])}"


def cells(row: dict[str, Any]) -> dict[str, str]:
    """One scorecard row as display strings, keyed by COLUMNS."""
    broken_rate = f" ({format_rate(row['json_broken_rate'])})" if row["json_broken_rate"] else ""
    cost = _arrow(row, "production_cost_per_request_usd", "candidate_cost_per_request_usd", format_usd_per_1k)
    return {
        "compared": f"{row['compared']:,}",
        "errors": f"{format_rate(row['error_rate'])} ({format_rate(row['timeout_rate'])})",
        "json": _arrow(row, "production_json_valid_rate", "candidate_json_valid_rate", format_rate),
        "broken": f"{row['json_broken']}{broken_rate}",
        "schema": _arrow(row, "production_schema_valid_rate", "candidate_schema_valid_rate", format_rate),
        "tools": _slash(row, "tool_name_agreement", "tool_args_agreement", format_rate),
        "f1": _two_decimals(row["tool_f1"]),
        "similarity": _slash(row, "similarity_p10", "similarity_p50", _two_decimals),
        "length": _slash(row, "length_ratio_p50", "length_ratio_p90", _two_decimals),
        "truncations": f"{row['truncations']}",
        "refusals": _arrow(row, "production_refusal_rate", "candidate_refusal_rate", format_rate),
        "latency": f"{_arrow(row, 'production_latency_p95_ms', 'candidate_latency_p95_ms', format_ms)} "
        f"({format_change(row['latency_p95_change'])})",
        "latency99": _slash(row, "candidate_latency_p50_ms", "candidate_latency_p99_ms", format_ms),
        "cost": f"{cost} ({format_change(row['cost_per_request_change'])})",
        "ttft": f"{_arrow(row, 'production_ttft_p95_ms', 'candidate_ttft_p95_ms', format_ms)} "
        f"({format_change(row.get('ttft_p95_change'))})",
        "tps": _arrow(row, "production_tokens_per_s", "candidate_tokens_per_s", format_ms),
    }


def _blank(cell: str) -> bool:
    return not cell.strip("–→/() %0.")


def _columns_with_data(rows: list[dict[str, Any]]) -> tuple[tuple[str, str], ...]:
    shown = [cells(row) for row in rows]
    return tuple((key, header) for key, header in COLUMNS if not all(_blank(s[key]) for s in shown))


def label(row: dict[str, Any]) -> str:
    """The candidate's name, marked when it is a control lane."""
    return str(row["candidate"]) + (" (control)" if row["role"] == "control" else "")


def skip_reasons(candidates: list[dict[str, Any]]) -> list[str]:
    """The reasons for not comparing events that any coverage row has: skipped rows' error kinds
    (circuit_open, killed, paused, …) first, then why events were not sent (sampled_out, out_of_scope, …)."""
    found = {reason for c in candidates for reason in c.get("skips", {})}
    return sorted(found, key=lambda r: (r in NOT_SENT, NOT_SENT.index(r) if r in NOT_SENT else 0, r))


def _skip_text(row: dict[str, Any]) -> str:
    """``; 4 skipped with its circuit breaker open; 3 killed; 950 out of scope`` (empty without skips)."""
    parts = []
    for reason, count in row.get("skips", {}).items():
        if reason == "circuit_open":
            parts.append(f"{count} skipped with its circuit breaker open")
        else:
            parts.append(f"{count} {reason.replace('_', ' ')}")
    return "".join(f"; {part}" for part in parts)


def ordered_workflow_rows(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """Per workflow: the control lane first, then the candidates, so each reads beside its noise floor."""
    return sorted(summary["workflows"], key=lambda r: (r["workflow"], r["role"] != "control", r["candidate"]))


def render_wide(summary: dict[str, Any], window: Window, width: int | None = None, color: bool = True) -> str:
    """Every column: candidates, candidates × workflow beside the control lane, coverage, paths.

    ``width`` defaults to 300 characters, what the widest table needs without wrapping.
    """
    console = Console(file=StringIO(), width=width or 300, force_terminal=color, color_system="auto" if color else None)
    read = summary["window"]["read"]
    source = "hourly rollups" if read["query"] == "scorecard_rollup" else "comparison rows"
    console.print(f"[bold]shadow summary[/bold] — {window.describe()} (read from {source})")
    if not summary["candidates"]:
        console.print("No comparisons in this window. Is a worker running, and are candidates enabled?")
    else:
        # Columns with nothing to say (no schema asked for, no tool calls) are left out of the table.
        columns = _columns_with_data(summary["candidates"])
        table = Table(title="Candidates (all workflows)", title_justify="left", header_style="bold", pad_edge=False)
        table.add_column("candidate", no_wrap=True)
        for _, header in columns:
            table.add_column(header, justify="right")
        for row in summary["candidates"]:
            shown = cells(row)
            table.add_row(
                label(row), *(shown[key] for key, _ in columns), style="dim" if row["role"] == "control" else None
            )
        console.print(table)
        table = Table(
            title="Per workflow, each candidate beside the control lane (production replayed: the noise floor)",
            title_justify="left", header_style="bold", pad_edge=False,
        )  # fmt: skip
        table.add_column("workflow", no_wrap=True)
        table.add_column("candidate", no_wrap=True)
        for _, header in columns:
            table.add_column(header, justify="right")
        for row in ordered_workflow_rows(summary):
            shown = cells(row)
            table.add_row(row["workflow"], label(row), *(shown[key] for key, _ in columns),
                          style="dim" if row["role"] == "control" else None)  # fmt: skip
        console.print(table)
    _render_coverage(console, summary["coverage"])
    _render_paths(console, summary["paths"])
    return str(console.file.getvalue())  # type: ignore[attr-defined]


def _render_coverage(console: Console, data: dict[str, Any]) -> None:
    if data["workflows"]:
        table = Table(title="Coverage: what became of every consumed record", title_justify="left", header_style="bold")
        for name in ("workflow", "api", "consumed", "replayed", "skipped (sampling)", "skipped (no candidate)",
                     "dead letters"):  # fmt: skip
            table.add_column(name, justify="left" if name in ("workflow", "api") else "right")
        for w in data["workflows"]:
            table.add_row(
                w["workflow"] or "(undecodable)", w["api"] or "–", f"{w['consumed']:,}", f"{w['replayed']:,}",
                f"{w['skipped_by_sampling']:,}", f"{w['skipped_no_candidate']:,}", f"{w['dead_lettered']:,}",
            )  # fmt: skip
        console.print(table)
    if data["candidates"]:
        table = Table(title="Candidate coverage: compared ÷ replayed events it should see", title_justify="left",
                      header_style="bold")  # fmt: skip
        # A column per reason any candidate skipped events for, so that a silent no-op shows.
        reasons = skip_reasons(data["candidates"])
        counts = ("replayed events", "compared", *(r.replace("_", " ") for r in reasons), "coverage")
        for name in ("candidate", "workflow", "api", *counts, "last compared (UTC)", ""):
            table.add_column(name, justify="right" if name in counts else "left")
        for c in data["candidates"]:
            last = c["last_compared_at"].strftime("%Y-%m-%d %H:%M") if c["last_compared_at"] else "never"
            flag = Text(c["flag"], style="bold red") if c["flag"] else Text("")
            table.add_row(
                c["candidate"] + (" (control)" if c["role"] == "control" else ""), c["workflow"], c["api"],
                "–" if c["replayed_events"] is None else f"{c['replayed_events']:,}", f"{c['compared']:,}",
                *(f"{c.get('skips', {}).get(r, 0):,}" for r in reasons), format_rate(c["coverage"]), last, flag,
            )  # fmt: skip
        console.print(table)


def _render_paths(console: Console, paths: list[dict[str, Any]]) -> None:
    if not paths:
        return
    table = Table(title="Top differing paths (share of a candidate's comparisons; control = noise floor)",
                  title_justify="left", header_style="bold")  # fmt: skip
    for name in ("candidate", "family", "path", "kinds", "rows", "rate", "control", "examples"):
        table.add_column(name, justify="right" if name in ("rows", "rate", "control") else "left",
                         overflow="fold")  # fmt: skip
    for p in paths:
        table.add_row(
            p["candidate"], p["family"], p["path"], ", ".join(p["kinds"]), f"{p['rows']:,}", format_rate(p["rate"]),
            format_rate(p["control_rate"]), ", ".join(p["examples"]),
        )  # fmt: skip
    console.print(table)


def render_markdown(summary: dict[str, Any], window: Window) -> str:
    """The same content as Markdown tables, for incident notes and pull requests."""
    read = summary["window"]["read"]
    source = "hourly rollups" if read["query"] == "scorecard_rollup" else "comparison rows"
    out = [f"## shadow summary — {window.describe()}", "", f"Read from {source}.", ""]
    headers = [h.replace("\n", " ") for _, h in COLUMNS]

    def table(rows: list[dict[str, Any]], with_workflow: bool) -> None:
        head = (["workflow"] if with_workflow else []) + ["candidate", *headers]
        out.append("| " + " | ".join(head) + " |")
        out.append("|" + "---|" * len(head))
        for row in rows:
            shown = cells(row)
            first = [row["workflow"]] if with_workflow else []
            out.append("| " + " | ".join([*first, label(row), *(shown[k] for k, _ in COLUMNS)]) + " |")
        out.append("")

    if summary["candidates"]:
        out += ["### Candidates", ""]
        table(summary["candidates"], with_workflow=False)
        out += ["### Per workflow, beside the control lane", ""]
        table(ordered_workflow_rows(summary), with_workflow=True)
    else:
        out += ["No comparisons in this window.", ""]
    # Candidates that missed traffic: flagged, or with events skipped (breaker open, killed, out of scope, …).
    flagged = [c for c in summary["coverage"]["candidates"] if c["flag"] or c.get("skips")]
    out += ["### Coverage", ""]
    out.append("| workflow | api | consumed | replayed | skipped (sampling) | skipped (no candidate) | dead letters |")
    out.append("|---|---|---|---|---|---|---|")
    for w in summary["coverage"]["workflows"]:
        out.append(
            f"| {w['workflow'] or '(undecodable)'} | {w['api'] or '–'} | {w['consumed']} | {w['replayed']} | "
            f"{w['skipped_by_sampling']} | {w['skipped_no_candidate']} | {w['dead_lettered']} |"
        )
    out.append("")
    for c in flagged:
        flag = f"**{c['flag']}**: " if c["flag"] else ""
        out.append(
            f"- {flag}{c['candidate']} compared {c['compared']} of {c['replayed_events']} "
            f"{c['workflow']} events ({c['api']}){_skip_text(c)}"
        )
    if summary["paths"]:
        out += ["", "### Top differing paths", "", "| candidate | family | path | rows | rate | control | examples |",
                "|---|---|---|---|---|---|---|"]  # fmt: skip
        for p in summary["paths"]:
            out.append(
                f"| {p['candidate']} | {p['family']} | `{p['path']}` | {p['rows']} | {format_rate(p['rate'])} | "
                f"{format_rate(p['control_rate'])} | {', '.join(p['examples'])} |"
            )
    return "\n".join(out) + "\n"
