"""Rows skipped with a candidate's circuit breaker open, in the real engine: stored, counted, shown, never compared.

A skipped row (status ``skipped``, error_kind ``circuit_open``) records an event a candidate did not
get. Every query of the SQL pack, the hourly rollups, ``shadow summary`` and the gate must leave it
out of ``compared``, error rates and every figure, while the scorecard and the candidate coverage
count it.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from shadow.config import Settings
from shadow.report.gate import evaluate_gate, load_policy
from shadow.report.queries import run_query
from shadow.report.summary import query_summary, render_markdown, render_table
from shadow.report.window import Filters, Window
from shadow.storage import migrate as migrations
from shadow.storage.rollup import refresh_rollups
from tests.seeding import T0, comparison_row, ingest_row, insert_ingest, insert_rows, rollout

pytestmark = pytest.mark.clickhouse

START, END = T0 - timedelta(hours=1), T0 + timedelta(hours=23)
POLICY = load_policy(Path(__file__).resolve().parents[2] / "deploy" / "gate-policy.yaml")
ALL = {"candidate": None, "workflow": None, "tenant": None}


def skipped_row(event_id: str, candidate: str, **values: Any) -> dict[str, Any]:
    """A skipped row as the sink writes it, poisoned with figures a skipped row never has.

    The poison (a low similarity, a cost, broken JSON, differing paths, a refusal, a huge latency)
    shows up in any query that counts skipped rows as comparisons.
    """
    return comparison_row(
        event_id, candidate=candidate, status="skipped", error_kind="circuit_open", http_status=0, attempts=0,
        error_message="circuit open: 10 of the last 20 calls failed (last: timeout); probing again in 21s",
        candidate_finish_reason="error", production_json_valid=True, candidate_json_valid=False, similarity=0.0,
        length_ratio=9.0, candidate_latency_ms=99_999.0, candidate_cost_usd=5.0, production_cost_usd=0.001,
        json_diff_paths=["$.poison"], json_diff_kinds=["missing"], candidate_refusal=True, new_refusal=True,
        tool_args_match=False, truncated=True, compared_at=T0 + timedelta(hours=5), **values,
    )  # fmt: skip


def seed(store) -> None:
    """c1: two answers and a timeout, then four events skipped; dead: only skips; ctl: the control lane."""
    rows = [
        comparison_row("e1", candidate="c1", production_json_valid=True, candidate_json_valid=True, similarity=0.9,
                       length_ratio=1.0, production_cost_usd=0.002, candidate_cost_usd=0.003,
                       candidate_latency_ms=200.0),
        comparison_row("e2", candidate="c1", production_json_valid=True, candidate_json_valid=True, similarity=0.7,
                       length_ratio=1.1, production_cost_usd=0.002, candidate_cost_usd=0.001,
                       candidate_latency_ms=400.0),
        comparison_row("e3", candidate="c1", status="candidate_error", error_kind="timeout",
                       candidate_latency_ms=5000.0, candidate_finish_reason="error"),
        *(skipped_row(f"e{i}", "c1") for i in range(4, 8)),
        *(skipped_row(f"e{i}", "dead") for i in range(1, 3)),
        comparison_row("e1", candidate="ctl", candidate_role="control", similarity=1.0, length_ratio=1.0),
        comparison_row("e2", candidate="ctl", candidate_role="control", similarity=1.0, length_ratio=1.0),
    ]  # fmt: skip
    insert_rows(store, rows)
    insert_ingest(store, [ingest_row(i, event_id=f"e{i}", candidates=2) for i in range(1, 8)])


def by(rows: list[dict[str, Any]], **key: str) -> dict[str, Any]:
    found = [r for r in rows if all(r[k] == v for k, v in key.items())]
    assert len(found) == 1, (key, found)
    return found[0]


def test_the_scorecard_counts_skips_apart_from_comparisons(store) -> None:
    seed(store)
    rows = run_query(store, "scorecard", start=START, end=END, **ALL)
    c1 = by(rows, candidate="c1", workflow="")
    assert (c1["compared"], c1["skipped"], c1["ok"], c1["candidate_errors"], c1["timeouts"]) == (3, 4, 2, 1, 1)
    assert c1["error_rate"] == pytest.approx(1 / 3) and c1["timeout_rate"] == pytest.approx(1 / 3)
    assert (c1["json_broken"], c1["truncations"], c1["new_refusals"], c1["dissimilar"]) == (0, 0, 0, 0)
    assert c1["similarity_p10"] == pytest.approx(0.72)
    assert c1["candidate_latency_p99_ms"] == pytest.approx(398.0)
    assert c1["candidate_cost_per_request_usd"] == pytest.approx(0.002)
    # A candidate that was only skipped: shown, with nothing compared and no rate at all.
    dead = by(rows, candidate="dead", workflow="")
    assert (dead["compared"], dead["skipped"], dead["ok"]) == (0, 2, 0)
    assert dead["error_rate"] is None and dead["timeout_rate"] is None
    assert dead["candidate_json_valid_rate"] is None and dead["similarity_p50"] is None


def test_the_rollups_give_the_raw_figures_with_skipped_rows(store) -> None:
    seed(store)
    insert_rows(store, [skipped_row("late", "c1", occurred_at=T0 + timedelta(hours=3))])
    assert refresh_rollups(store, START, END) == 2
    raw = run_query(store, "scorecard", start=START, end=END, **ALL)
    for boundary in (START, T0 + timedelta(hours=1), END):
        rolled = run_query(store, "scorecard_rollup", start=START, boundary=boundary, end=END, **ALL)
        assert len(rolled) == len(raw)
        for a, b in zip(raw, rolled, strict=True):
            for key, value in a.items():
                expected = pytest.approx(value, rel=1e-9) if isinstance(value, float) else value
                assert b[key] == expected, (a["candidate"], a["workflow"], key)
    assert by(raw, candidate="c1", workflow="")["skipped"] == 5


def test_the_other_queries_leave_skipped_rows_out(store) -> None:
    seed(store)
    window = {"start": START, "end": END}
    hours = run_query(store, "timeseries", **window, **ALL)
    assert [(h["compared"], h["skipped"]) for h in hours if h["candidate"] == "c1"] == [(3, 4)]
    assert by(hours, candidate="c1")["error_rate"] == pytest.approx(1 / 3)
    assert by(hours, candidate="dead")["error_rate"] is None

    regressions = run_query(store, "regressions_by_workflow_tenant", **window, min_rows=1, **ALL)
    assert {r["candidate"] for r in regressions} == {"c1", "ctl"}
    c1 = by(regressions, candidate="c1")
    assert c1["compared"] == 3 and c1["regression_rate"] == pytest.approx(1 / 3)  # the timeout only

    values = run_query(store, "comparison_values", **window, candidate="c1", workflow=None, tenant=None, limit=0)
    assert sorted(v["event_id"] for v in values) == ["e1", "e2", "e3"]

    worst = run_query(store, "worst_examples", **window, per_candidate=10, **ALL)
    assert sorted(w["event_id"] for w in worst if w["candidate"] == "c1") == ["e1", "e2"]
    assert all(w["candidate"] != "dead" for w in worst)

    costs = by(run_query(store, "cost_deltas", **window, **ALL), candidate="c1")
    assert costs["priced"] == 2 and costs["candidate_cost_per_request_usd"] == pytest.approx(0.002)

    paths = run_query(store, "difference_paths", **window, top=10, **ALL)
    assert all(p["path"] != "$.poison" for p in paths)

    coverage = run_query(store, "candidate_coverage", **window, **ALL)
    c1_coverage = by(coverage, candidate="c1")
    assert (c1_coverage["compared"], c1_coverage["skipped"], c1_coverage["circuit_open"]) == (3, 4, 4)
    # The last comparison, not the last skip (the skips were written later).
    assert c1_coverage["last_compared_at"] == T0 + timedelta(seconds=5)
    dead = by(coverage, candidate="dead")
    assert (dead["compared"], dead["circuit_open"], dead["last_compared_at"]) == (0, 2, None)


def test_summary_coverage_shows_the_skips_and_flags_the_open_circuit(store) -> None:
    seed(store)
    settings = Settings.model_validate(
        {"candidates": [{"name": n, "provider": "openai", "base_url": "http://127.0.0.1:9/v1", "model": "m"}
                        for n in ("c1", "dead")]}
    )  # fmt: skip
    window = Window(START, END)
    summary = query_summary(store, Filters(window), settings, now=END)
    coverage = {c["candidate"]: c for c in summary["coverage"]["candidates"]}
    c1, dead = coverage["c1"], coverage["dead"]
    assert (c1["replayed_events"], c1["compared"], c1["skipped"], c1["circuit_open"]) == (7, 3, 4, 4)
    assert c1["coverage"] == pytest.approx(3 / 7) and c1["flag"] == "CIRCUIT OPEN"
    assert (dead["compared"], dead["circuit_open"], dead["flag"]) == (0, 2, "CIRCUIT OPEN")
    assert by(summary["candidates"], candidate="c1")["compared"] == 3

    screen = render_table(summary, window, width=80, color=False)
    part = screen.split("Candidate coverage", 1)[1]
    assert "circuit open" in part
    c1_line = next(line for line in part.splitlines() if line.startswith("c1 "))
    assert c1_line.split()[:6] == ["c1", "support_chat", "3", "of", "7", "42.9%"]
    assert c1_line.split()[6:] == ["CIRCUIT", "OPEN", "4"]  # the flag, then the count of skips
    assert max(len(line) for line in screen.splitlines()) <= 80

    wide = render_table(summary, window, width=250, color=False, layout="wide")
    assert "circuit open" in wide and "CIRCUIT OPEN" in wide
    markdown = render_markdown(summary, window)
    assert (
        "- **CIRCUIT OPEN**: c1 compared 3 of 7 support_chat events (openai.chat.completions); "
        "4 skipped with its circuit breaker open" in markdown
    )


def test_the_gate_ignores_skipped_rows(store) -> None:
    insert_rows(store, rollout(seed=1))
    before = {name: evaluate_gate(store, POLICY, name, START, END).to_dict() for name in ("identical", "few")}
    # Many skips for both candidates and the control lane: enough to pass min_samples if they counted.
    at = T0 + timedelta(minutes=30)
    insert_rows(
        store,
        [skipped_row(f"skip-{name}-{i}", name, occurred_at=at, candidate_role="control" if name == "control" else
                     "candidate") for name in ("identical", "few", "control") for i in range(300)],
    )  # fmt: skip
    after = {name: evaluate_gate(store, POLICY, name, START, END).to_dict() for name in ("identical", "few")}
    assert after == before
    assert after["identical"]["verdict"] == "promote" and after["few"]["compared"] == 30


def test_migration_0005_on_a_store_with_rollups_refreshes_them_with_the_skips(
    clickhouse_settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A store migrated before the breaker existed: 0005 adds the column, replaces the view and the refresh."""
    from shadow.storage.store import ClickHouseStore

    every = migrations.load_migrations()
    assert [m.version for m in every][-1] >= 5
    before_breaker = [m for m in every if m.version < 5]
    store = ClickHouseStore(clickhouse_settings)
    try:
        with monkeypatch.context() as patch:
            patch.setattr(migrations, "load_migrations", lambda directory=None: before_breaker)
            migrations.migrate(store)
        now = store.query_rows("SELECT toStartOfHour(now('UTC'))")[0][0]
        recent = now.replace(tzinfo=T0.tzinfo) - timedelta(hours=2)
        old = comparison_row("old", candidate="c1", occurred_at=recent)
        present = [r[0] for r in store.query_rows(f"DESCRIBE TABLE {store.database}.comparisons")]
        store.insert("comparisons", [[old[c] for c in present]], present)  # the columns of a store before 0005
        assert refresh_rollups(store, recent, recent + timedelta(hours=1)) == 1

        applied = migrations.migrate(store)
        assert [m.version for m in applied] == [m.version for m in every if m.version >= 5]
        insert_rows(store, [skipped_row("new", "c1", occurred_at=recent)])
        # The refreshable view ClickHouse runs every few minutes, run now; and `shadow rollup`'s path.
        db = store.database
        store.command(f"SYSTEM REFRESH VIEW {db}.comparisons_hourly_refresh")
        store.command(f"SYSTEM WAIT VIEW {db}.comparisons_hourly_refresh")
        rolled = store.query_rows(f"SELECT compared, skipped FROM {db}.comparisons_hourly FINAL")
        assert rolled == [(1, 1)]
        assert refresh_rollups(store, recent, recent + timedelta(hours=1)) == 1
        assert store.query_rows(f"SELECT compared, skipped FROM {db}.comparisons_hourly FINAL") == [(1, 1)]
        boundary = recent + timedelta(hours=1)
        rows = run_query(store, "scorecard_rollup", start=recent, boundary=boundary, end=boundary, **ALL)
        assert (by(rows, workflow="")["compared"], by(rows, workflow="")["skipped"]) == (1, 1)
        assert migrations.migrate(store) == []  # applied once
    finally:
        store.close()
