"""The figures of ``shadow summary``: the summary as plain data, read with the SQL pack.

Every figure comes from the SQL pack (``schemas/queries/``): the scorecard (raw rows for short
windows, the hourly rollups for windows of ``ROLLUP_MIN_HOURS`` hours or more, widened to whole
hours; an hour whose rollup is older than its rows is recomputed first), coverage, and the top
differing paths. ``shadow.report.summary.render`` and ``.screen`` show it; ``--format json`` prints it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from shadow.config import Settings
from shadow.events.models import Api
from shadow.report.queries import run_query
from shadow.report.window import Filters, ceil_hour, floor_hour
from shadow.storage.rollup import refresh_hours
from shadow.storage.store import ClickHouseStore

__all__ = [
    "COVERAGE_WARNING",
    "NOT_SENT",
    "ROLLUP_MIN_HOURS",
    "coverage",
    "difference_paths",
    "query_summary",
    "scorecard",
]

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
    """What happened to consumed records, and whether each candidate got the traffic it should.

    Per candidate: ``compared`` of the ``replayed_events`` it should see (the workflow's replayed
    events less those its scope or sample left out), and ``skips``: every event it did not compare,
    by reason — rows skipped by ``error_kind`` (``circuit_open``: its circuit breaker was open;
    ``killed``, ``paused``: the control plane) and events it was not sent (``sampled_out``,
    ``out_of_scope``, ``disabled``, from ``ingest_log``), so that a silent no-op shows.
    ``flag``: the skip kind (``CIRCUIT OPEN``, ``KILLED``, …) when skipped rows left its coverage low,
    ``NO TRAFFIC`` when it compared nothing, ``LOW`` under ``COVERAGE_WARNING``.
    """
    start, end = filters.window.bounds(now)
    workflows = run_query(store, "coverage", start=start, end=end, workflow=filters.workflow, tenant=filters.tenant)
    compared = run_query(store, "candidate_coverage", start=start, end=end, **filters.params())
    not_sent = run_query(store, "candidate_skips", start=start, end=end, **filters.params())
    by_key = {(r["candidate"], r["workflow"], r["api"]): r for r in compared}
    skips_by_key = {(r["candidate"], r["workflow"], r["api"]): r for r in not_sent}
    replayed = {(w["workflow"], w["api"]): w["replayed"] for w in workflows}
    pairs = set(by_key)
    for (workflow, api), count in replayed.items():
        if count:
            for name in _expected_candidates(settings, workflow, api):
                if filters.candidate in (None, name):
                    pairs.add((name, workflow, api))
    # A candidate that was sent nothing still shows, unless only its workflows or APIs leave it out.
    pairs |= {key for key, r in skips_by_key.items() if r["skipped"] > r["out_of_scope"]}
    candidates = []
    for name, workflow, api in sorted(pairs):
        row = by_key.get((name, workflow, api))
        skipped = skips_by_key.get((name, workflow, api))
        expected = replayed.get((workflow, api))
        if expected is not None and skipped is not None:
            expected -= skipped["of_replayed"]
        got = row["compared"] if row else 0
        skips = _skips(row, skipped)
        share = got / expected if expected else None
        row_skips = {kind: n for kind, n in skips.items() if kind not in NOT_SENT}
        flag = ""
        if row_skips and (share is None or share < COVERAGE_WARNING):
            # The events it missed were skipped on purpose: its breaker was open, the control plane stopped it.
            flag = max(row_skips, key=lambda kind: row_skips[kind]).replace("_", " ").upper()
        elif expected and got == 0:
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
                "skipped": row["skipped"] if row else 0,
                "circuit_open": skips.get("circuit_open", 0),
                "not_sent": skipped["skipped"] if skipped else 0,
                "skips": skips,
                "coverage": share,
                "last_compared_at": row["last_compared_at"] if row else None,
                "flag": flag,
            }
        )
    return {"workflows": workflows, "candidates": candidates}


NOT_SENT = ("sampled_out", "out_of_scope", "disabled")
"""Why a candidate was not sent an event (``ingest_log.candidate_skips``); the other skips are rows."""


def _skips(row: dict[str, Any] | None, not_sent: dict[str, Any] | None) -> dict[str, int]:
    """Every reason a candidate did not compare events, with its count (non-zero only): skipped rows by
    error_kind first, then the events it was not sent."""
    skips = {str(kind): int(n) for kind, n in sorted((row or {}).get("skipped_by_kind", {}).items()) if n}
    for reason in NOT_SENT:
        if not_sent and not_sent[reason]:
            skips[reason] = int(not_sent[reason])
    return skips


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
    for quantile in ("p50", "p95"):
        row[f"ttft_{quantile}_change"] = _relative(
            row.get(f"candidate_ttft_{quantile}_ms"), row.get(f"production_ttft_{quantile}_ms")
        )
    row["cost_per_request_change"] = _relative(
        row["candidate_cost_per_request_usd"], row["production_cost_per_request_usd"]
    )
    row["output_tokens_change"] = _relative(
        row["candidate_output_tokens_per_request"], row["production_output_tokens_per_request"]
    )
