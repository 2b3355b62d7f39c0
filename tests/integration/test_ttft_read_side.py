"""Time to first token on the read side: the SQL pack's figures against numpy on seeded rows, the hourly rollups
giving the raw figures, the summary's columns, and the gate's ttft rules deciding on them."""

from __future__ import annotations

import random
from datetime import timedelta

import numpy as np
import pytest

from shadow.report.gate import Outcome, evaluate_gate
from shadow.report.gate.policy import PolicySettings
from shadow.report.queries import run_query
from shadow.report.summary import query_summary, render_table
from shadow.report.window import Filters, Window
from shadow.storage.rollup import refresh_rollups
from tests.seeding import T0, comparison_row, insert_rows

pytestmark = pytest.mark.clickhouse

START, END = T0 - timedelta(hours=1), T0 + timedelta(hours=5)
ALL = {"candidate": None, "workflow": None, "tenant": None}


def _seed(store) -> dict[str, dict[str, list[float]]]:
    """Per candidate: 300 streamed rows (TTFT on both sides) over four hours and 40 unstreamed ones (no TTFT).
    'fast' answers its first token in half production's time, 'slow' in twice; both generate at 50 tokens/s."""
    rng = random.Random(7)
    seen: dict[str, dict[str, list[float]]] = {}
    rows = []
    for name, factor in (("fast", 0.5), ("slow", 2.0)):
        values = seen.setdefault(name, {"production": [], "candidate": [], "tokens": [], "seconds": []})
        for i in range(340):
            streamed = i < 300
            production_ttft = rng.uniform(200, 400)
            candidate_ttft = production_ttft * factor
            tokens = rng.randrange(20, 200)
            generation_ms = tokens / 50 * 1000
            if streamed:
                # Float32 columns: compare against what is stored.
                values["production"].append(float(np.float32(production_ttft)))
                values["candidate"].append(float(np.float32(candidate_ttft)))
                values["tokens"].append(tokens)
                values["seconds"].append(generation_ms / 1000)
            rows.append(comparison_row(
                f"e{i}", candidate=name, occurred_at=T0 + timedelta(hours=i % 4, minutes=i % 60),
                production_latency_ms=production_ttft + generation_ms,
                candidate_latency_ms=candidate_ttft + generation_ms,
                production_output_tokens=tokens, candidate_output_tokens=tokens,
                production_ttft_ms=production_ttft if streamed else None,
                candidate_ttft_ms=candidate_ttft if streamed else None,
            ))  # fmt: skip
    insert_rows(store, rows)
    return seen


def test_scorecard_ttft_quantiles_and_tokens_per_second_match_numpy_and_the_rollups(store) -> None:
    seen = _seed(store)
    raw = {r["candidate"]: r for r in run_query(store, "scorecard", start=START, end=END, **ALL) if not r["workflow"]}
    for name, values in seen.items():
        row = raw[name]
        for side in ("production", "candidate"):
            for q, key in ((0.5, "p50"), (0.95, "p95"), (0.99, "p99")):
                expected = np.quantile(values[side], q)  # linear interpolation = quantileExactInclusive
                assert row[f"{side}_ttft_{key}_ms"] == pytest.approx(expected, rel=1e-6), (name, side, key)
        expected_tps = sum(values["tokens"]) / sum(values["seconds"])
        assert row["candidate_tokens_per_s"] == pytest.approx(expected_tps, rel=1e-4)
        assert row["candidate_tokens_per_s"] == pytest.approx(50, rel=1e-3)

    assert refresh_rollups(store, START, END) == 4
    rolled = run_query(store, "scorecard_rollup", start=START, boundary=END, end=END, **ALL)
    for row in rolled:
        if row["workflow"]:
            continue
        for key, value in raw[row["candidate"]].items():
            if "ttft" in key or "tokens_per_s" in key:
                assert row[key] == pytest.approx(value, rel=1e-9), (row["candidate"], key)


def test_unstreamed_rows_leave_ttft_empty_not_zero(store) -> None:
    insert_rows(store, [comparison_row("u1", candidate="plain"), comparison_row("u2", candidate="plain")])
    row = next(r for r in run_query(store, "scorecard", start=START, end=END, **ALL) if not r["workflow"])
    assert row["candidate_ttft_p95_ms"] is None and row["production_ttft_p50_ms"] is None
    assert row["candidate_tokens_per_s"] is None


def test_summary_shows_ttft_and_its_change(store) -> None:
    _seed(store)
    filters = Filters(Window(START, END))
    summary = query_summary(store, filters)
    fast = next(r for r in summary["candidates"] if r["candidate"] == "fast")
    assert fast["ttft_p95_change"] == pytest.approx(-0.5, abs=0.01)
    wide = render_table(summary, filters.window, color=False, layout="wide")
    assert "TTFT p95 ms" in wide and "tokens/s" in wide
    compact = render_table(summary, filters.window, width=200, color=False)
    assert "TTFT p95" in compact


def test_gate_ttft_rule_passes_the_faster_candidate_and_rolls_back_the_slower(store) -> None:
    _seed(store)
    policy = PolicySettings.model_validate(
        {
            "min_samples": 100,
            "rules": [{"name": "p95 TTFT", "metric": "ttft_p95", "against": "production", "max_regression": 0.10}],
        }
    )
    fast = evaluate_gate(store, policy, "fast", START, END)
    slow = evaluate_gate(store, policy, "slow", START, END)
    assert [r.outcome for r in fast.rules] == [Outcome.PASS], fast.to_dict()
    assert [r.outcome for r in slow.rules] == [Outcome.FAIL], slow.to_dict()
    # Only the 300 streamed pairs count: unstreamed rows have no TTFT on either side.
    assert fast.rules[0].n == 300
