"""Check deploy/grafana/dashboards/shadow.json against a real ClickHouse engine.

Every query of the dashboard (panels and template variables) is expanded the way Grafana and the
grafana-clickhouse-datasource plugin expand it, then run:

1. ``$__conditionalAll(condition, $var)`` (plugin, in the browser): ``1=1`` when the variable is All;
2. template variables (Grafana): ``${var:singlequote}`` -> ``'a','b'``, ``$var`` -> ``'a','b'`` (lists) or
   the value;
3. time macros (plugin backend): ``$__timeFilter(c)`` -> ``c >= toDateTime(F) AND c <= toDateTime(T)``,
   ``$__fromTime``/``$__toTime`` -> ``toDateTime(F)``, ``$__timeInterval(c)`` ->
   ``toStartOfInterval(toDateTime(c), INTERVAL N second)``, ``$__interval_s`` -> ``N``, and the ``_ms`` forms.

Each panel runs twice: with every variable on All, and with a narrow selection (the first two
candidates, then the first workflow and the first tenant those offer). It also checks the dashboard's
shape: uid, schemaVersion, the data source of every query, the query format of each panel type, that
panels read ``comparisons`` and ``ingest_log`` with FINAL, and that time series start with a ``time``
column in ascending order.

    .venv/bin/shadow demo                  # in a scratch directory: writes ./.shadow/chdb
    .venv/bin/python deploy/grafana/check_dashboard.py --dsn chdb:///abs/path/.shadow/chdb
    .venv/bin/python deploy/grafana/check_dashboard.py --dsn http://localhost:8123 --user shadow
    .venv/bin/python deploy/grafana/check_dashboard.py --dsn ... --select candidate=gpt-4.1-mini --select tenant=acme

The password of a server comes from --password or $SHADOW_CLICKHOUSE__PASSWORD. The window defaults to
the hours that hold comparisons. Exit status: 0 when every query ran (and, with every variable on All,
returned rows), 1 otherwise.
"""

# ruff: noqa: T201  (the report is printed: this is a command-line check)
from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from shadow.config import ClickHouseSettings
from shadow.storage.store import ClickHouseStore

DASHBOARD = Path(__file__).resolve().parent / "dashboards" / "shadow.json"
DATASOURCE = {"type": "grafana-clickhouse-datasource", "uid": "clickhouse"}
FORMATS = {"timeseries": 0, "table": 1}  # the plugin's query formats: 0 time series, 1 table
ALL = "$__all"
# Raw tables hold one row per (event, candidate) version or per consumption: read them with FINAL.
NEEDS_FINAL = re.compile(r"\bshadow\.(comparisons|ingest_log)\b(?!\s+FINAL\b)")


# --- expansion ----------------------------------------------------------------------------------


def _macro_args(sql: str, open_paren: int) -> tuple[list[str], int]:
    """The comma-separated arguments of the macro whose '(' is at open_paren, and the index after ')'."""
    depth, start, args = 0, open_paren + 1, []
    for i in range(open_paren, len(sql)):
        ch = sql[i]
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                args.append(sql[start:i])
                return args, i + 1
        elif ch == "," and depth == 1:
            args.append(sql[start:i])
            start = i + 1
    raise ValueError(f"unbalanced parentheses after {sql[open_paren - 20 : open_paren + 1]!r}")


def conditional_all(sql: str, selection: dict[str, Any]) -> str:
    """$__conditionalAll(condition, $var): the condition, or 1=1 when $var is All (the plugin's rule)."""
    macro = "$__conditionalAll("
    while (at := sql.rfind(macro)) != -1:
        args, end = _macro_args(sql, at + len(macro) - 1)
        if len(args) != 2:
            raise ValueError(f"$__conditionalAll takes 2 arguments, got {len(args)}")
        name = re.search(r"\$\{?(\w+)", args[1])
        value = selection.get(name.group(1)) if name else None
        phrase = "1=1" if value in (ALL, "", [ALL]) else args[0]
        sql = sql[:at] + phrase + sql[end:]
    return sql


def _quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def interpolate(sql: str, selection: dict[str, Any], options: dict[str, list[str]]) -> str:
    """Grafana's template variables: All stands for every option (no custom all value is set)."""

    def values(name: str) -> list[str]:
        value = selection[name]
        if value in (ALL, [ALL]):
            return options[name]
        return value if isinstance(value, list) else [value]

    def replace(match: re.Match[str]) -> str:
        name = match.group("braced") or match.group("bare")
        fmt = match.group("fmt")
        if name not in selection:
            return match.group(0)
        vals = values(name)
        if fmt == "singlequote" or len(vals) != 1 or isinstance(selection[name], list):
            return ",".join(_quote(v) for v in vals)
        if fmt in (None, "raw"):
            return vals[0]
        raise ValueError(f"format {fmt!r} of ${{{name}}} is not handled by this check")

    pattern = re.compile(r"\$\{(?P<braced>\w+)(?::(?P<fmt>\w+))?\}|\$(?P<bare>(?!__)\w+)")
    return pattern.sub(replace, sql)


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime
    interval_s: int

    def expand(self, sql: str) -> str:
        """The plugin backend's time macros (pkg/macros/macros.go)."""
        f, t = int(self.start.timestamp()), int(self.end.timestamp())
        fm, tm = int(self.start.timestamp() * 1000), int(self.end.timestamp() * 1000)

        def with_column(name: str, render: Any) -> None:
            nonlocal sql
            macro = f"$__{name}("
            while (at := sql.find(macro)) != -1:
                args, end = _macro_args(sql, at + len(macro) - 1)
                sql = sql[:at] + render(*[a.strip() for a in args]) + sql[end:]

        with_column(
            "timeFilter_ms",
            lambda c: f"{c} >= fromUnixTimestamp64Milli({fm}) AND {c} <= fromUnixTimestamp64Milli({tm})",
        )
        with_column("timeFilter", lambda c: f"{c} >= toDateTime({f}) AND {c} <= toDateTime({t})")
        with_column(
            "timeInterval_ms",
            lambda c: f"toStartOfInterval(toDateTime64({c}, 3), INTERVAL {self.interval_s * 1000} millisecond)",
        )
        with_column("timeInterval", lambda c: f"toStartOfInterval(toDateTime({c}), INTERVAL {self.interval_s} second)")
        with_column(
            "dateFilter", lambda c: f"{c} >= toDate('{self.start:%Y-%m-%d}') AND {c} <= toDate('{self.end:%Y-%m-%d}')"
        )
        for name, text in (
            ("fromTime_ms", f"fromUnixTimestamp64Milli({fm})"),
            ("toTime_ms", f"fromUnixTimestamp64Milli({tm})"),
            ("fromTime", f"toDateTime({f})"),
            ("toTime", f"toDateTime({t})"),
            ("interval_s", str(self.interval_s)),
        ):
            sql = re.sub(rf"\$__{name}\b", text, sql)
        return sql


def expand(sql: str, selection: dict[str, Any], options: dict[str, list[str]], window: Window) -> str:
    sql = window.expand(interpolate(conditional_all(sql, selection), selection, options))
    left = re.search(r"\$\w+|\$\{", sql)
    if left:
        raise ValueError(f"unexpanded {left.group(0)!r} left in the query")
    return sql


# --- the dashboard's shape ----------------------------------------------------------------------


@dataclass
class Query:
    where: str  # "panel 3 'Candidate scorecard'" or "variable candidate"
    sql: str
    kind: str  # timeseries | table | variable


@dataclass
class Dashboard:
    variables: list[dict[str, Any]]
    queries: list[Query]
    problems: list[str] = field(default_factory=list)


def load(path: Path) -> Dashboard:
    data = json.loads(path.read_text())
    problems = []
    if data.get("uid") != "shadow-rollouts":
        problems.append(f"uid is {data.get('uid')!r}, expected 'shadow-rollouts'")
    if int(data.get("schemaVersion", 0)) < 39:
        problems.append(f"schemaVersion {data.get('schemaVersion')} < 39")
    variables = data.get("templating", {}).get("list", [])
    names = [v["name"] for v in variables]
    for wanted in ("candidate", "workflow", "tenant"):
        if wanted not in names:
            problems.append(f"template variable {wanted!r} is missing")
    queries = []
    for v in variables:
        if v.get("datasource") != DATASOURCE:
            problems.append(f"variable {v['name']}: data source {v.get('datasource')}, expected {DATASOURCE}")
        sql = (v.get("query") or {}).get("rawSql") if isinstance(v.get("query"), dict) else v.get("query")
        queries.append(Query(f"variable {v['name']}", sql or "", "variable"))
    ids = set()
    for p in data.get("panels", []):
        if p["id"] in ids:
            problems.append(f"panel id {p['id']} is used twice")
        ids.add(p["id"])
        if p["type"] == "row":
            continue
        where = f"panel {p['id']} {p.get('title', '')!r}"
        if p["type"] not in FORMATS:
            problems.append(f"{where}: type {p['type']!r} is not checked by this script")
            continue
        for t in p.get("targets", []):
            if t.get("datasource") != DATASOURCE:
                problems.append(f"{where}: data source {t.get('datasource')}, expected {DATASOURCE}")
            if t.get("editorType") != "sql":
                problems.append(f"{where}: editorType {t.get('editorType')!r}, expected 'sql'")
            if t.get("format") != FORMATS[p["type"]]:
                problems.append(
                    f"{where}: format {t.get('format')} for a {p['type']} panel, expected {FORMATS[p['type']]}"
                )
            for match in NEEDS_FINAL.finditer(t.get("rawSql", "")):
                problems.append(f"{where}: reads shadow.{match.group(1)} without FINAL")
            queries.append(Query(where, t.get("rawSql", ""), p["type"]))
    return Dashboard(variables, queries, problems)


# --- running ------------------------------------------------------------------------------------


def open_store(args: argparse.Namespace) -> ClickHouseStore:
    password = args.password if args.password is not None else os.environ.get("SHADOW_CLICKHOUSE__PASSWORD")
    settings = ClickHouseSettings(dsn=args.dsn, database="shadow", username=args.user, password=password)
    return ClickHouseStore(settings)


def default_window(store: ClickHouseStore, interval_s: int | None) -> Window:
    row = store.query_rows("SELECT min(occurred_at), max(occurred_at), count() FROM shadow.comparisons")[0]
    if row[2]:
        start = row[0].replace(minute=0, second=0, microsecond=0, tzinfo=UTC)
        end = row[1].replace(minute=0, second=0, microsecond=0, tzinfo=UTC) + timedelta(hours=1)
    else:
        end = datetime.now(UTC).replace(microsecond=0)
        start = end - timedelta(hours=24)
    return Window(start, end, interval_s or _interval(start, end))


def _interval(start: datetime, end: datetime) -> int:
    """About what Grafana picks for a wide panel: the range over ~500 points, in whole minutes."""
    return max(60, round((end - start).total_seconds() / 500 / 60) * 60)


def run(store: ClickHouseStore, sql: str) -> tuple[list[str], list[tuple[Any, ...]], float]:
    started = time.monotonic()
    rows = store.query_dicts(sql)
    elapsed = (time.monotonic() - started) * 1000
    names = list(rows[0]) if rows else []
    return names, [tuple(r.values()) for r in rows], elapsed


def check_timeseries(names: list[str], rows: list[tuple[Any, ...]]) -> str | None:
    if not rows:
        return None
    if names[0] != "time":
        return f"a time series must start with a 'time' column, not {names[0]!r}"
    times = [r[0] for r in rows]
    if times != sorted(times):
        return "rows are not in ascending time order (the plugin's long-to-wide conversion needs them sorted)"
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dsn", required=True, help="chdb:///abs/path or http(s)://host:8123")
    parser.add_argument("--user", default=None, help="ClickHouse user (servers)")
    parser.add_argument("--password", default=None, help="default: $SHADOW_CLICKHOUSE__PASSWORD")
    parser.add_argument("--dashboard", type=Path, default=DASHBOARD)
    parser.add_argument("--from", dest="start", type=datetime.fromisoformat, help="window start (ISO 8601, UTC)")
    parser.add_argument("--to", dest="end", type=datetime.fromisoformat, help="window end (ISO 8601, UTC)")
    parser.add_argument("--interval-s", type=int, default=None, help="$__timeInterval bucket (default: range/500)")
    parser.add_argument(
        "--select",
        action="append",
        default=[],
        metavar="VAR=V1,V2",
        help="the narrowed run's value(s) of a variable, e.g. --select candidate=gpt-4.1-mini (default: first offered)",
    )
    parser.add_argument("--allow-empty", action="store_true", help="do not fail on queries that return no rows")
    parser.add_argument("--show-sql", action="store_true", help="print every expanded query")
    args = parser.parse_args(argv)

    dashboard = load(args.dashboard)
    failures = [f"shape: {p}" for p in dashboard.problems]
    chosen = {}
    for item in args.select:
        name, _, values = item.partition("=")
        chosen[name.strip()] = [v.strip() for v in values.split(",") if v.strip()]
    store = open_store(args)
    try:
        window = default_window(store, args.interval_s)
        if args.start or args.end:
            start = (args.start or window.start).replace(tzinfo=UTC)
            end = (args.end or window.end).replace(tzinfo=UTC)
            window = Window(start, end, args.interval_s or _interval(start, end))
        print(f"dashboard {args.dashboard}")
        span = f"{window.start:%Y-%m-%d %H:%M:%S} .. {window.end:%Y-%m-%d %H:%M:%S} UTC"
        print(f"window    {span}, interval {window.interval_s}s")

        variable_queries = [q for q in dashboard.queries if q.kind == "variable"]
        panel_queries = [q for q in dashboard.queries if q.kind != "variable"]

        # Every variable on All: the options come from the variable queries, in dashboard order.
        everything = {v["name"]: ALL for v in dashboard.variables}
        options: dict[str, list[str]] = {}
        narrow: dict[str, Any] = dict(everything)
        narrow_options: dict[str, list[str]] = {}
        print("\nvariables (All / narrowed)")
        for v, q in zip(dashboard.variables, variable_queries, strict=True):
            name = v["name"]
            for label, selection, opts in (("all", everything, options), ("narrow", narrow, narrow_options)):
                try:
                    _, rows, ms = run(store, expand(q.sql, selection, opts, window))
                except Exception as exc:  # noqa: BLE001 - report every failing query
                    failures.append(f"{q.where} ({label}): {exc}")
                    opts[name] = []
                    continue
                opts[name] = [str(r[0]) for r in rows]
                print(f"  {name:<10} {label:<6} {len(rows):>4} values {ms:7.1f} ms  {opts[name][:4]}")
                if not rows and not args.allow_empty:
                    failures.append(f"{q.where} ({label}): no values")
            pick = chosen.get(name) or narrow_options.get(name) or options.get(name) or []
            if pick:
                narrow[name] = (pick if name in chosen else pick[:2]) if v.get("multi") else pick[0]
        print(f"  narrowed selection: { {k: v for k, v in narrow.items()} }")

        print("\npanels")
        for label, selection, opts in (("all", everything, options), ("narrow", narrow, {**options, **narrow_options})):
            for q in panel_queries:
                try:
                    sql = expand(q.sql, selection, opts, window)
                    if args.show_sql:
                        print(f"--- {q.where} ({label})\n{sql}\n")
                    names, rows, ms = run(store, sql)
                except Exception as exc:  # noqa: BLE001
                    failures.append(f"{q.where} ({label}): {exc}")
                    print(f"  ERROR  {label:<6} {q.where}: {str(exc).splitlines()[0][:160]}")
                    continue
                problem = check_timeseries(names, rows) if q.kind == "timeseries" else None
                if problem:
                    failures.append(f"{q.where} ({label}): {problem}")
                status = "ok" if rows and not problem else ("EMPTY" if not rows else "BAD")
                if not rows and label == "all" and not args.allow_empty:
                    failures.append(f"{q.where} ({label}): no rows")
                print(f"  {status:<6} {label:<6} {len(rows):>5} rows {ms:8.1f} ms  {q.where}")
    finally:
        store.close()

    if failures:
        print(f"\n{len(failures)} problem(s):")
        for f in failures:
            print(f"  - {f}")
        return 1
    print(
        f"\nall {len(dashboard.queries)} queries ran"
        + ("" if args.allow_empty else "; panels returned rows with every variable on All")
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
