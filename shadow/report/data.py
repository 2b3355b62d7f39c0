"""The data of ``shadow report``: the SQL pack's figures read into the renderer's typed input."""

from __future__ import annotations

from datetime import UTC, datetime

from shadow.redaction import NO_REDACTION, Redactor
from shadow.report.gate import PolicySettings, evaluate_gate
from shadow.report.html.model import (
    CandidateScore,
    Distribution,
    GateVerdict,
    HourlyRates,
    ReportData,
    WorstExample,
)
from shadow.report.queries import run_query
from shadow.report.summary.query import scorecard
from shadow.report.window import Filters
from shadow.storage.store import ClickHouseStore

DISTRIBUTION_LIMIT = 20_000
WORST_PER_CANDIDATE = 5


def report_data(
    store: ClickHouseStore,
    filters: Filters,
    *,
    policy: PolicySettings | None = None,
    title: str = "shadow report",
    now: datetime | None = None,
    redactor: Redactor = NO_REDACTION,
) -> ReportData:
    """Everything the HTML report shows, read with the same queries as ``shadow summary``.

    Gate verdicts are evaluated only when a ``policy`` is given, for every candidate that is not
    a control lane. Distributions hold at most ``DISTRIBUTION_LIMIT`` successful comparisons per
    candidate; the worst examples ``WORST_PER_CANDIDATE`` per candidate.
    """
    now = now or datetime.now(UTC)
    start, end = filters.window.bounds(now)
    rows, _ = scorecard(store, filters, now)
    rows = redactor.value(rows)
    candidates = tuple(CandidateScore.from_dict(row) for row in rows if row["workflow"] == "")
    gate: list[GateVerdict] = []
    if policy is not None:
        for row in candidates:
            if not row.is_control:
                result = evaluate_gate(
                    store, policy, row.candidate, start, end, tenant=filters.tenant, workflow=filters.workflow
                )
                # The gate's JSON form, so the report shows what `shadow gate --format json` says.
                gate.append(GateVerdict.from_dict(redactor.value(result.to_dict())))
    distributions: dict[str, Distribution] = {}
    for row in candidates:
        values = run_query(
            store, "comparison_values", start=start, end=end, candidate=row.candidate, workflow=filters.workflow,
            tenant=filters.tenant, limit=DISTRIBUTION_LIMIT,
        )  # fmt: skip
        ok = [v for v in values if v["status"] == "ok"]
        distributions[row.candidate] = Distribution.from_dict(
            {
                key: [float(v[key]) for v in ok if v[key] is not None]
                for key in ("similarity", "length_ratio", "candidate_latency_ms", "production_latency_ms")
            }
        )
    timeseries = run_query(store, "timeseries", start=start, end=end, **filters.params())
    worst = redactor.value(
        run_query(store, "worst_examples", start=start, end=end, per_candidate=WORST_PER_CANDIDATE, **filters.params())
    )
    return ReportData(
        title=title,
        generated_at=now,
        window_start=filters.window.start,
        window_end=filters.window.end,
        candidates=candidates,
        gate=tuple(gate),
        distributions=distributions,
        timeseries=tuple(HourlyRates.from_dict(row) for row in timeseries),
        worst=tuple(WorstExample.from_dict(row) for row in worst),
    )
