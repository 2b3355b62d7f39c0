"""The data of ``shadow report``: the SQL pack's figures assembled into the renderer's input."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from shadow.report.gate import PolicySettings, evaluate_gate
from shadow.report.queries import run_query
from shadow.report.summary import scorecard
from shadow.report.window import Filters
from shadow.storage.store import ClickHouseStore

DISTRIBUTION_LIMIT = 20_000
WORST_PER_CANDIDATE = 5


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def report_data(
    store: ClickHouseStore,
    filters: Filters,
    *,
    policy: PolicySettings | None = None,
    title: str = "shadow report",
    now: datetime | None = None,
) -> dict[str, Any]:
    """Everything the HTML report shows, read with the same queries as ``shadow summary``."""
    now = now or datetime.now(UTC)
    start, end = filters.window.bounds(now)
    rows, _ = scorecard(store, filters, now)
    candidates = [{k: _iso(v) for k, v in r.items()} for r in rows if r["workflow"] == ""]
    gate = []
    if policy is not None:
        for row in candidates:
            if row["role"] != "control":
                result = evaluate_gate(store, policy, row["candidate"], start, end, tenant=filters.tenant)
                gate.append(result.to_dict())
    distributions: dict[str, dict[str, list[float]]] = {}
    for row in candidates:
        values = run_query(
            store, "comparison_values", start=start, end=end, candidate=row["candidate"], workflow=filters.workflow,
            tenant=filters.tenant, limit=DISTRIBUTION_LIMIT,
        )  # fmt: skip
        ok = [v for v in values if v["status"] == "ok"]
        distributions[row["candidate"]] = {
            key: [float(v[key]) for v in ok if v[key] is not None]
            for key in ("similarity", "length_ratio", "candidate_latency_ms", "production_latency_ms")
        }
    timeseries = [
        {k: _iso(v) for k, v in r.items()}
        for r in run_query(store, "timeseries", start=start, end=end, **filters.params())
    ]
    worst = run_query(
        store, "worst_examples", start=start, end=end, per_candidate=WORST_PER_CANDIDATE, **filters.params()
    )
    return {
        "title": title,
        "generated_at": now.isoformat(),
        "window": {
            "from": filters.window.start.isoformat() if filters.window.start else None,
            "to": filters.window.end.isoformat() if filters.window.end else None,
        },
        "candidates": candidates,
        "gate": gate,
        "distributions": distributions,
        "timeseries": timeseries,
        "worst": worst,
    }
