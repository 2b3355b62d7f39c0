"""``shadow summary``: the on-call view — is each candidate safe, per workflow, beside the control lane.

Every figure comes from the SQL pack (``schemas/queries/``): the scorecard (raw rows for short
windows, the hourly rollups for windows of ``ROLLUP_MIN_HOURS`` hours or more, widened to whole
hours; an hour whose rollup is older than its rows is recomputed first), coverage, and the top
differing paths. Rendered as a terminal table, JSON or Markdown.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from io import StringIO
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from shadow.config import Settings
from shadow.events.models import Api
from shadow.report.queries import run_query
from shadow.report.window import Filters, Window, ceil_hour, floor_hour
from shadow.storage.rollup import refresh_hours
from shadow.storage.store import ClickHouseStore

ROLLUP_MIN_HOURS = 6
COVERAGE_WARNING = 0.9


def scorecard(
    store: ClickHouseStore, filters: Filters, now: datetime | None = None
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Scorecard rows and a description of the window actually read (raw rows or rollups)."""
    now = now or datetime.now(UTC)
    start, end = filters.window.bounds(now)
    if end - start >= timedelta(hours=ROLLUP_MIN_HOURS):
        start_h, end_h = floor_hour(start), ceil_hour(end)
        # Hours that ended more than an hour ago are final in the rollups; newer ones are read raw.
        boundary = min(max(floor_hour(now) - timedelta(hours=1), start_h), end_h)
        stale = run_query(store, "stale_rollup_hours", start=start_h, end=boundary)
        if stale:
            # Rows reached these hours after their rollup was computed (a backfill, another writer).
            refresh_hours(store, [row["hour"] for row in stale])
        rows = run_query(store, "scorecard_rollup", start=start_h, boundary=boundary, end=end_h, **filters.params())
        source = {"query": "scorecard_rollup", "from": start_h, "to": end_h, "rollups_until": boundary}
    else:
        rows = run_query(store, "scorecard", start=start, end=end, **filters.params())
        source = {"query": "scorecard", "from": start, "to": end}
    return rows, source


def _expected_candidates(settings: Settings | None, workflow: str, api: str) -> list[str]:
    if settings is None or not api:
        return []
    try:
        production_api = Api(api)
    except ValueError:
        return []
    return [c.name for c in settings.candidates if c.replays(workflow, production_api)]


def coverage(
    store: ClickHouseStore, filters: Filters, settings: Settings | None, now: datetime | None = None
) -> dict[str, Any]:
    """What happened to consumed records, and whether each candidate got the traffic it should."""
    start, end = filters.window.bounds(now)
    workflows = run_query(store, "coverage", start=start, end=end, workflow=filters.workflow, tenant=filters.tenant)
    compared = run_query(store, "candidate_coverage", start=start, end=end, **filters.params())
    by_key = {(r["candidate"], r["workflow"], r["api"]): r for r in compared}
    replayed = {(w["workflow"], w["api"]): w["replayed"] for w in workflows}
    pairs = set(by_key)
    for (workflow, api), count in replayed.items():
        if count:
            for name in _expected_candidates(settings, workflow, api):
                if filters.candidate in (None, name):
                    pairs.add((name, workflow, api))
    candidates = []
    for name, workflow, api in sorted(pairs):
        row = by_key.get((name, workflow, api))
        expected = replayed.get((workflow, api))
        got = row["compared"] if row else 0
        share = got / expected if expected else None
        flag = ""
        if expected and got == 0:
            flag = "NO TRAFFIC"
        elif share is not None and share < COVERAGE_WARNING:
            flag = "LOW"
        candidates.append(
            {
                "candidate": name,
                "role": row["role"] if row else "candidate",
                "workflow": workflow,
                "api": api,
                "replayed_events": expected,
                "compared": got,
                "coverage": share,
                "last_compared_at": row["last_compared_at"] if row else None,
                "flag": flag,
            }
        )
    return {"workflows": workflows, "candidates": candidates}


def difference_paths(
    store: ClickHouseStore, filters: Filters, top: int = 10, now: datetime | None = None
) -> list[dict[str, Any]]:
    """Top differing paths per candidate, each with the control lane's rate for the same path (noise)."""
    start, end = filters.window.bounds(now)
    rows = run_query(store, "difference_paths", start=start, end=end, top=top, **filters.params())
    if filters.candidate is not None:
        # The noise floor needs the control lanes' paths even when one candidate is asked for.
        rows += run_query(
            store, "difference_paths", start=start, end=end, top=max(top, 50), candidate=None,
            workflow=filters.workflow, tenant=filters.tenant,
        )  # fmt: skip
    noise: dict[tuple[str, str], float] = {}
    for row in rows:
        if row["role"] == "control":
            key = (row["family"], row["path"])
            noise[key] = max(noise.get(key, 0.0), row["rate"])
    out = []
    seen: set[tuple[str, str, str]] = set()
    for row in rows:
        if row["role"] == "control" or (filters.candidate is not None and row["candidate"] != filters.candidate):
            continue
        identity = (row["candidate"], row["family"], row["path"])
        if identity in seen:
            continue
        seen.add(identity)
        out.append({**row, "control_rate": noise.get((row["family"], row["path"]))})
    return out


def query_summary(
    store: ClickHouseStore, filters: Filters, settings: Settings | None = None, now: datetime | None = None
) -> dict[str, Any]:
    """Everything ``shadow summary`` shows, as plain data (``--format json``)."""
    now = now or datetime.now(UTC)
    rows, source = scorecard(store, filters, now)
    candidates = [r for r in rows if r["workflow"] == ""]
    workflows = [r for r in rows if r["workflow"] != ""]
    controls: dict[str, dict[str, Any]] = {}
    for row in workflows:
        if row["role"] == "control":
            best = controls.get(row["workflow"])
            if best is None or row["compared"] > best["compared"]:
                controls[row["workflow"]] = row
    for row in workflows:
        control = controls.get(row["workflow"])
        row["control"] = control["candidate"] if control and control is not row else None
        _relative_changes(row)
    for row in candidates:
        _relative_changes(row)
    return {
        "window": {
            "from": filters.window.start.isoformat() if filters.window.start else None,
            "to": filters.window.end.isoformat() if filters.window.end else None,
            "read": {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in source.items()},
        },
        "filters": {"candidate": filters.candidate, "workflow": filters.workflow, "tenant": filters.tenant},
        "candidates": candidates,
        "workflows": workflows,
        "coverage": coverage(store, filters, settings, now),
        "paths": difference_paths(store, filters, now=now),
    }


def _relative(candidate: float | None, production: float | None) -> float | None:
    if candidate is None or production is None or production == 0:
        return None
    return candidate / production - 1


def _relative_changes(row: dict[str, Any]) -> None:
    for quantile in ("p50", "p95", "p99"):
        row[f"latency_{quantile}_change"] = _relative(
            row[f"candidate_latency_{quantile}_ms"], row[f"production_latency_{quantile}_ms"]
        )
    row["cost_per_request_change"] = _relative(
        row["candidate_cost_per_request_usd"], row["production_cost_per_request_usd"]
    )
    row["output_tokens_change"] = _relative(
        row["candidate_output_tokens_per_request"], row["production_output_tokens_per_request"]
    )


# --- rendering -------------------------------------------------------------------------------


def pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}%"


def num(value: float | None, digits: int = 2) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def ms(value: float | None) -> str:
    return "–" if value is None else f"{value:,.0f}"


def change(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:+.0f}%"


def usd_1k(value: float | None) -> str:
    """USD per 1,000 requests from USD per request."""
    return "–" if value is None else f"{1000 * value:.2f}"


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
    ("cost", "cost $/1k requests\nprod→cand (Δ)"),
)


def cells(row: dict[str, Any]) -> dict[str, str]:
    """One scorecard row as display strings, keyed by COLUMNS."""
    return {
        "compared": f"{row['compared']:,}",
        "errors": f"{pct(row['error_rate'])} ({pct(row['timeout_rate'])})",
        "json": f"{pct(row['production_json_valid_rate'])}→{pct(row['candidate_json_valid_rate'])}",
        "broken": f"{row['json_broken']}" + (f" ({pct(row['json_broken_rate'])})" if row["json_broken_rate"] else ""),
        "schema": f"{pct(row['production_schema_valid_rate'])}→{pct(row['candidate_schema_valid_rate'])}",
        "tools": f"{pct(row['tool_name_agreement'])} / {pct(row['tool_args_agreement'])}",
        "f1": num(row["tool_f1"]),
        "similarity": f"{num(row['similarity_p10'])} / {num(row['similarity_p50'])}",
        "length": f"{num(row['length_ratio_p50'])} / {num(row['length_ratio_p90'])}",
        "truncations": f"{row['truncations']}",
        "refusals": f"{pct(row['production_refusal_rate'])}→{pct(row['candidate_refusal_rate'])}",
        "latency": f"{ms(row['production_latency_p95_ms'])}→{ms(row['candidate_latency_p95_ms'])} "
        f"({change(row['latency_p95_change'])})",
        "latency99": f"{ms(row['candidate_latency_p50_ms'])} / {ms(row['candidate_latency_p99_ms'])}",
        "cost": f"{usd_1k(row['production_cost_per_request_usd'])}→{usd_1k(row['candidate_cost_per_request_usd'])} "
        f"({change(row['cost_per_request_change'])})",
    }


def _blank(cell: str) -> bool:
    return not cell.strip("–→/() %0.")


def _columns_with_data(rows: list[dict[str, Any]]) -> tuple[tuple[str, str], ...]:
    shown = [cells(row) for row in rows]
    return tuple((key, header) for key, header in COLUMNS if not all(_blank(s[key]) for s in shown))


def _label(row: dict[str, Any]) -> str:
    return str(row["candidate"]) + (" (control)" if row["role"] == "control" else "")


def _ordered_workflow_rows(summary: dict[str, Any]) -> list[dict[str, Any]]:
    # Per workflow: the control lane first, then the candidates, so each reads beside its noise floor.
    return sorted(summary["workflows"], key=lambda r: (r["workflow"], r["role"] != "control", r["candidate"]))


def render_table(summary: dict[str, Any], window: Window, width: int | None = None, color: bool = True) -> str:
    """The terminal view: candidates, candidates × workflow beside the control lane, coverage, paths."""
    console = Console(file=StringIO(), width=width or 250, force_terminal=color, color_system="auto" if color else None)
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
                _label(row), *(shown[key] for key, _ in columns), style="dim" if row["role"] == "control" else None
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
        for row in _ordered_workflow_rows(summary):
            shown = cells(row)
            table.add_row(row["workflow"], _label(row), *(shown[key] for key, _ in columns),
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
        for name in ("candidate", "workflow", "api", "replayed events", "compared", "coverage", "last row (UTC)", ""):
            table.add_column(name, justify="right" if name in ("replayed events", "compared", "coverage") else "left")
        for c in data["candidates"]:
            last = c["last_compared_at"].strftime("%Y-%m-%d %H:%M") if c["last_compared_at"] else "never"
            flag = Text(c["flag"], style="bold red") if c["flag"] else Text("")
            table.add_row(
                c["candidate"] + (" (control)" if c["role"] == "control" else ""), c["workflow"], c["api"],
                "–" if c["replayed_events"] is None else f"{c['replayed_events']:,}", f"{c['compared']:,}",
                pct(c["coverage"]), last, flag,
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
            p["candidate"], p["family"], p["path"], ", ".join(p["kinds"]), f"{p['rows']:,}", pct(p["rate"]),
            pct(p["control_rate"]), ", ".join(p["examples"]),
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
            out.append("| " + " | ".join([*first, _label(row), *(shown[k] for k, _ in COLUMNS)]) + " |")
        out.append("")

    if summary["candidates"]:
        out += ["### Candidates", ""]
        table(summary["candidates"], with_workflow=False)
        out += ["### Per workflow, beside the control lane", ""]
        table(_ordered_workflow_rows(summary), with_workflow=True)
    else:
        out += ["No comparisons in this window.", ""]
    flagged = [c for c in summary["coverage"]["candidates"] if c["flag"]]
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
        out.append(
            f"- **{c['flag']}**: {c['candidate']} compared {c['compared']} of {c['replayed_events']} "
            f"{c['workflow']} events ({c['api']})"
        )
    if summary["paths"]:
        out += ["", "### Top differing paths", "", "| candidate | family | path | rows | rate | control | examples |",
                "|---|---|---|---|---|---|---|"]  # fmt: skip
        for p in summary["paths"]:
            out.append(
                f"| {p['candidate']} | {p['family']} | `{p['path']}` | {p['rows']} | {pct(p['rate'])} | "
                f"{pct(p['control_rate'])} | {', '.join(p['examples'])} |"
            )
    return "\n".join(out) + "\n"
