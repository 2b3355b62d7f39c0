"""``shadow summary``: per candidate (and per candidate × workflow) counts and rates, read back from ClickHouse.

Every query is parameterized and reads ``FINAL`` so a replayed event counts once.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from io import StringIO
from typing import Any

from rich.console import Console
from rich.table import Table

from shadow.errors import ConfigError
from shadow.sink.store import ClickHouseStore

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)\s*([smhdw])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str) -> timedelta:
    """``90s``, ``15m``, ``1h``, ``7d``, ``2w`` → timedelta."""
    match = _DURATION.match(text.strip())
    if match is None:
        raise ConfigError(f"duration {text!r} must look like 30m, 1h, 7d or 2w")
    return timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2)])


def parse_time(text: str) -> datetime:
    """An ISO 8601 timestamp; naive values are UTC."""
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise ConfigError(f"time {text!r} must be ISO 8601, e.g. 2026-11-23T08:00:00Z") from exc
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Window:
    """A time window over ``occurred_at`` (open-ended when a bound is None)."""

    start: datetime | None = None
    end: datetime | None = None

    @classmethod
    def from_options(
        cls, since: str | None = None, start: str | None = None, end: str | None = None, now: datetime | None = None
    ) -> Window:
        if since and start:
            raise ConfigError("give --since or --from, not both")
        now = now or datetime.now(UTC)
        if since:
            return cls(now - parse_duration(since), None)
        window = cls(parse_time(start) if start else None, parse_time(end) if end else None)
        if window.start and window.end and window.start >= window.end:
            raise ConfigError("--from must be before --to")
        return window

    def describe(self) -> str:
        if self.start is None and self.end is None:
            return "all time"
        left = self.start.strftime("%Y-%m-%d %H:%M:%S UTC") if self.start else "the beginning"
        right = self.end.strftime("%Y-%m-%d %H:%M:%S UTC") if self.end else "now"
        return f"{left} → {right}"


@dataclass(frozen=True, slots=True)
class Filters:
    window: Window = Window()
    candidate: str | None = None
    workflow: str | None = None
    tenant: str | None = None
    config_version: str | None = None

    def where(self, table: str = "comparisons") -> tuple[str, dict[str, Any]]:
        """A WHERE clause and its parameters for ``comparisons`` or ``ingest_log`` (no candidate there)."""
        time_column = "occurred_at"
        clauses, params = ["1"], {}
        if self.window.start is not None:
            clauses.append(f"{time_column} >= {{start:DateTime64(3, 'UTC')}}")
            params["start"] = self.window.start.astimezone(UTC).replace(tzinfo=None)
        if self.window.end is not None:
            clauses.append(f"{time_column} < {{end:DateTime64(3, 'UTC')}}")
            params["end"] = self.window.end.astimezone(UTC).replace(tzinfo=None)
        columns = (
            ("candidate", "workflow", "tenant", "config_version") if table == "comparisons" else ("workflow", "tenant")
        )
        for column in columns:
            value = getattr(self, column)
            if value is not None:
                clauses.append(f"{column} = {{{column}:String}}")
                params[column] = value
        return " AND ".join(clauses), params


_METRICS = """
    count() AS compared,
    countIf(status = 'ok') AS ok,
    countIf(status IN ('candidate_error', 'both_error')) AS candidate_errors,
    countIf(error_kind = 'timeout') AS timeouts,
    countIf(error_kind = 'rate_limited') AS rate_limited,
    countIf(status IN ('production_error', 'both_error')) AS production_errors,
    countIf(production_json_valid) AS production_json_valid_count,
    countIf(candidate_json_valid) AS candidate_json_valid_count,
    countIf(candidate_json_extracted) AS candidate_json_wrapped,
    countIf(production_json_valid AND NOT candidate_json_valid) AS json_broken,
    countIf(candidate_schema_valid = false) AS candidate_schema_failures,
    countIf(production_schema_valid = false) AS production_schema_failures,
    countIf(json_equal = false) AS json_changed,
    countIf(production_tool_calls > 0 OR candidate_tool_calls > 0) AS with_tool_calls,
    countIf(tool_names_match = false) AS tool_name_mismatches,
    countIf(tool_args_match = false) AS tool_argument_mismatches,
    avgIf(tool_f1, production_tool_calls > 0 OR candidate_tool_calls > 0) AS tool_f1_mean,
    quantileExactIf(0.5)(length_ratio, status = 'ok' AND length_ratio IS NOT NULL) AS length_ratio_p50,
    countIf(length_ratio > 1.2) AS longer,
    countIf(length_ratio < 0.8) AS shorter,
    quantileExactIf(0.1)(similarity, similarity IS NOT NULL) AS similarity_p10,
    quantileExactIf(0.5)(similarity, similarity IS NOT NULL) AS similarity_p50,
    countIf(similarity < 0.5) AS dissimilar,
    countIf(finish_reason_changed) AS finish_reason_changes,
    countIf(truncated) AS truncations,
    countIf(candidate_refusal) AS candidate_refusals,
    countIf(production_refusal) AS production_refusals,
    countIf(new_refusal) AS new_refusals,
    quantileExactIf(0.5)(production_latency_ms, status = 'ok') AS production_latency_p50_ms,
    quantileExactIf(0.95)(production_latency_ms, status = 'ok') AS production_latency_p95_ms,
    quantileExactIf(0.5)(candidate_latency_ms, status = 'ok') AS candidate_latency_p50_ms,
    quantileExactIf(0.95)(candidate_latency_ms, status = 'ok') AS candidate_latency_p95_ms,
    countIf(status = 'ok' AND candidate_latency_ms > production_latency_ms) AS slower,
    avgIf(production_output_tokens, status = 'ok') AS production_output_tokens_avg,
    avgIf(candidate_output_tokens, status = 'ok') AS candidate_output_tokens_avg,
    avgIf(production_cost_usd, status = 'ok') AS production_cost_usd_avg,
    avgIf(candidate_cost_usd, status = 'ok') AS candidate_cost_usd_avg
"""


def _clean(row: dict[str, Any]) -> dict[str, Any]:
    # An empty quantile/avg is NaN; JSON and people want null.
    return {k: None if isinstance(v, float) and math.isnan(v) else v for k, v in row.items()}


def query_summary(store: ClickHouseStore, filters: Filters) -> dict[str, Any]:
    """Per candidate and per candidate × workflow metrics, plus ingest coverage."""
    db = store.database
    where, params = filters.where()
    by_candidate = store.query_dicts(
        f"SELECT candidate, any(candidate_role) AS role, {_METRICS} FROM {db}.comparisons FINAL "
        f"WHERE {where} GROUP BY candidate ORDER BY role DESC, candidate",
        params,
    )
    by_workflow = store.query_dicts(
        f"SELECT candidate, any(candidate_role) AS role, workflow, {_METRICS} FROM {db}.comparisons FINAL "
        f"WHERE {where} GROUP BY candidate, workflow ORDER BY role DESC, candidate, workflow",
        params,
    )
    ingest_where, ingest_params = filters.where("ingest_log")
    coverage = store.query_dicts(
        f"SELECT workflow, outcome, reason, count() AS records FROM {db}.ingest_log FINAL "
        f"WHERE {ingest_where} GROUP BY workflow, outcome, reason ORDER BY workflow, outcome, reason",
        ingest_params,
    )
    return {
        "window": {
            "from": filters.window.start.isoformat() if filters.window.start else None,
            "to": filters.window.end.isoformat() if filters.window.end else None,
        },
        "candidates": [_clean(r) for r in by_candidate],
        "workflows": [_clean(r) for r in by_workflow],
        "coverage": coverage,
    }


def _pct(part: int | None, whole: int | None) -> str:
    if not whole:
        return "–"
    return f"{100.0 * (part or 0) / whole:.1f}%"


def _num(value: float | None, digits: int = 2) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value:,.0f}"


def _delta(candidate: float | None, production: float | None) -> str:
    if candidate is None or production is None or production == 0:
        return "–"
    return f"{100.0 * (candidate - production) / production:+.0f}%"


def _table(title: str, rows: list[dict[str, Any]], with_workflow: bool) -> Table:
    table = Table(title=title, title_justify="left", header_style="bold", show_lines=False, pad_edge=False)
    table.add_column("candidate", no_wrap=True)
    if with_workflow:
        table.add_column("workflow", no_wrap=True)
    for name in (
        "compared",
        "errors\n(timeout/429)",
        "JSON\nvalid→invalid",
        "schema\nfail",
        "tool name≠\n/ args≠",
        "tool F1",
        "length\np50 (±20%)",
        "similarity\np10/p50",
        "finish≠\n/ truncated",
        "refusals\n(new)",
        "latency p95 ms\nprod→cand",
        "cost/request\nΔ",
    ):
        table.add_column(name, justify="right")
    for r in rows:
        cells = [f"{r['candidate']}" + (" (control)" if r.get("role") == "control" else "")]
        if with_workflow:
            cells.append(r["workflow"])
        cells += [
            str(r["compared"]),
            f"{r['candidate_errors']} ({r['timeouts']}/{r['rate_limited']})",
            f"{r['json_broken']}",
            f"{r['candidate_schema_failures']}",
            f"{r['tool_name_mismatches']} / {r['tool_argument_mismatches']}",
            _num(r["tool_f1_mean"]),
            f"{_num(r['length_ratio_p50'])} (+{r['longer']}/-{r['shorter']})",
            f"{_num(r['similarity_p10'])}/{_num(r['similarity_p50'])}",
            f"{r['finish_reason_changes']} / {r['truncations']}",
            f"{r['candidate_refusals']} ({r['new_refusals']})",
            f"{_ms(r['production_latency_p95_ms'])}→{_ms(r['candidate_latency_p95_ms'])}",
            _delta(r["candidate_cost_usd_avg"], r["production_cost_usd_avg"]),
        ]
        table.add_row(*cells)
    return table


def render_table(summary: dict[str, Any], window: Window, width: int | None = None, color: bool = True) -> str:
    """The on-call view: one line per candidate, then one per candidate × workflow, then coverage."""
    console = Console(file=StringIO(), width=width or 200, force_terminal=color, color_system="auto" if color else None)
    console.print(f"[bold]shadow summary[/bold] — window: {window.describe()}")
    if not summary["candidates"]:
        console.print("No comparison rows in this window. Is a worker running, and are candidates enabled?")
    else:
        console.print(_table("Per candidate", summary["candidates"], with_workflow=False))
        console.print(_table("Per candidate × workflow", summary["workflows"], with_workflow=True))
    if summary["coverage"]:
        coverage = Table(title="Coverage (records consumed)", title_justify="left", header_style="bold")
        for name in ("workflow", "outcome", "reason", "records"):
            coverage.add_column(name, justify="right" if name == "records" else "left")
        for row in summary["coverage"]:
            coverage.add_row(
                row["workflow"] or "(undecodable)", row["outcome"], row["reason"] or "", str(row["records"])
            )
        console.print(coverage)
    output = console.file.getvalue()  # type: ignore[attr-defined]
    return str(output)
