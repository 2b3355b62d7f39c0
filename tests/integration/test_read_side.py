"""The SQL pack, the summary and the report: known answers on seeded rows, and the same figures everywhere."""

from __future__ import annotations

import html.parser
import math
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from shadow.config import Settings
from shadow.report.data import report_data
from shadow.report.html import render_report
from shadow.report.queries import query_names, run_query
from shadow.report.summary import query_summary, render_markdown, render_table
from shadow.report.summary.screen import FIGURES, FLAG
from shadow.report.window import Filters, Window
from shadow.storage.rollup import refresh_rollups
from tests.seeding import T0, comparison_row, ingest_row, insert_ingest, insert_rows, rollout

pytestmark = pytest.mark.clickhouse

START, END = T0 - timedelta(hours=1), T0 + timedelta(hours=23)
ALL = {"candidate": None, "workflow": None, "tenant": None}


def seed_small(store) -> None:
    """Four comparisons of c1 with hand-picked values, two of a control lane, one of c2 elsewhere."""
    rows = [
        comparison_row("e1", candidate="c1", production_json_valid=True, candidate_json_valid=True,
                       production_latency_ms=100.0, candidate_latency_ms=200.0, production_cost_usd=0.001,
                       candidate_cost_usd=0.002, similarity=0.9, length_ratio=1.0, production_refusal=False,
                       candidate_refusal=False, new_refusal=False, production_output_tokens=10,
                       candidate_output_tokens=30),
        comparison_row("e2", candidate="c1", production_json_valid=True, candidate_json_valid=False,
                       production_latency_ms=200.0, candidate_latency_ms=400.0, production_cost_usd=0.003,
                       candidate_cost_usd=0.001, similarity=0.5, length_ratio=2.0, production_refusal=False,
                       candidate_refusal=True, new_refusal=True, truncated=True, finish_reason_changed=True,
                       json_diff_paths=["$.items[0].price", "$.total"], json_diff_kinds=["type_changed", "missing"],
                       production_output_tokens=20, candidate_output_tokens=10),
        comparison_row("e3", candidate="c1", status="candidate_error", error_kind="timeout",
                       production_latency_ms=300.0, candidate_latency_ms=5000.0, candidate_finish_reason="error"),
        comparison_row("e4", candidate="c1", production_json_valid=False, candidate_json_valid=False,
                       production_tool_calls=1, candidate_tool_calls=1, tool_names_match=True, tool_args_match=False,
                       tool_f1=0.0, tool_diff_paths=["search.dest", "search.destination"],
                       tool_diff_kinds=["extra", "missing"], production_latency_ms=400.0, candidate_latency_ms=100.0,
                       production_cost_usd=0.002, candidate_cost_usd=0.002, similarity=0.1, length_ratio=0.5,
                       production_refusal=False, candidate_refusal=False, new_refusal=False,
                       occurred_at=T0 + timedelta(hours=2)),
        comparison_row("e1", candidate="ctl", candidate_role="control", production_json_valid=True,
                       candidate_json_valid=True, similarity=1.0, length_ratio=1.0,
                       json_diff_paths=["$.total"], json_diff_kinds=["value_changed"]),
        comparison_row("e2", candidate="ctl", candidate_role="control", production_json_valid=True,
                       candidate_json_valid=True, similarity=1.0, length_ratio=1.0),
        comparison_row("x1", candidate="c2", workflow="kb_answer", tenant="globex", api="anthropic.messages"),
    ]  # fmt: skip
    insert_rows(store, rows)
    insert_ingest(
        store,
        [ingest_row(i, event_id=f"e{i}") for i in range(1, 5)]
        + [ingest_row(5, outcome="skipped", reason="sampling"), ingest_row(6, outcome="dead_letter",
                                                                          reason="invalid_json", workflow="", api="")]
        + [ingest_row(7, workflow="kb_answer", api="anthropic.messages", tenant="globex")],
    )  # fmt: skip


def q(values: list[float], p: float) -> float:
    return float(np.quantile(values, p))  # linear interpolation, as quantilesExactInclusive


def test_every_query_is_documented() -> None:
    from shadow.report.queries import load_query

    for name in query_names():
        text = load_query(name)
        assert text.startswith(f"-- {name}:"), f"{name}.sql must open with a '-- {name}: purpose' line"
        assert "Parameters:" in text


def test_scorecard_known_answers(store) -> None:
    seed_small(store)
    rows = run_query(store, "scorecard", start=START, end=END, **ALL)
    c1 = next(r for r in rows if r["candidate"] == "c1" and r["workflow"] == "")
    assert (c1["compared"], c1["ok"], c1["candidate_errors"], c1["timeouts"]) == (4, 3, 1, 1)
    assert c1["error_rate"] == 0.25 and c1["timeout_rate"] == 0.25
    # JSON in play in e1 and e2 only (e4 has no JSON and no schema).
    assert (c1["production_json_valid_rate"], c1["candidate_json_valid_rate"]) == (1.0, 0.5)
    assert (c1["json_broken"], c1["json_broken_rate"]) == (1, 0.5)
    assert (c1["tool_name_agreement"], c1["tool_args_agreement"], c1["tool_f1"]) == (1.0, 0.0, 0.0)
    assert c1["similarity_p10"] == pytest.approx(q([0.9, 0.5, 0.1], 0.1))
    assert c1["similarity_p50"] == pytest.approx(0.5)
    assert c1["length_ratio_p50"] == pytest.approx(1.0)
    assert c1["length_ratio_p90"] == pytest.approx(q([1.0, 2.0, 0.5], 0.9))
    assert (c1["truncations"], c1["finish_changes"], c1["new_refusals"]) == (1, 1, 1)
    assert c1["candidate_refusal_rate"] == pytest.approx(1 / 3) and c1["production_refusal_rate"] == 0.0
    assert c1["production_latency_p95_ms"] == pytest.approx(q([100, 200, 400], 0.95))
    assert c1["candidate_latency_p99_ms"] == pytest.approx(q([200, 400, 100], 0.99))
    assert c1["production_cost_per_request_usd"] == pytest.approx(0.002)
    assert c1["candidate_cost_per_request_usd"] == pytest.approx(0.005 / 3)
    assert c1["production_output_tokens_per_request"] == pytest.approx(15)
    assert c1["candidate_output_tokens_per_request"] == pytest.approx(20)
    ctl = next(r for r in rows if r["candidate"] == "ctl" and r["workflow"] == "support_chat")
    assert ctl["role"] == "control" and ctl["compared"] == 2
    filtered = run_query(store, "scorecard", start=START, end=END, candidate=None, workflow=None, tenant="globex")
    assert {r["candidate"] for r in filtered} == {"c2"}


def test_other_queries_known_answers(store) -> None:
    seed_small(store)
    coverage = {(r["workflow"], r["api"]): r for r in run_query(store, "coverage", start=START, end=END,
                                                                 workflow=None, tenant=None)}  # fmt: skip
    support = coverage[("support_chat", "openai.chat.completions")]
    assert (support["consumed"], support["replayed"], support["skipped_by_sampling"]) == (5, 4, 1)
    assert coverage[("", "")]["dead_lettered"] == 1

    paths = run_query(store, "difference_paths", start=START, end=END, top=10, **ALL)
    c1 = {(p["family"], p["path"]): p for p in paths if p["candidate"] == "c1"}
    assert c1[("json", "$.items[*].price")]["rows"] == 1  # indices folded
    assert c1[("json", "$.items[*].price")]["eligible"] == 3
    assert c1[("tool", "search.dest")]["kinds"] == ["extra"]
    assert c1[("json", "$.total")]["examples"] == ["e2"]
    assert {p["candidate"] for p in paths} == {"c1", "ctl"}

    regressions = run_query(store, "regressions_by_workflow_tenant", start=START, end=END, min_rows=1, **ALL)
    assert regressions[0]["candidate"] == "c1" and regressions[0]["regression_rate"] == 0.75

    worst = run_query(store, "worst_examples", start=START, end=END, per_candidate=2, **ALL)
    assert [(w["event_id"], w["reason"]) for w in worst if w["candidate"] == "c1"] == [
        ("e2", "json_broken"),
        ("e4", "tool_arguments"),
    ]

    costs = run_query(store, "cost_deltas", start=START, end=END, **ALL)
    c1_cost = next(r for r in costs if r["candidate"] == "c1")
    assert c1_cost["priced"] == 3
    assert c1_cost["relative_change"] == pytest.approx(0.005 / 0.006 - 1)

    hours = run_query(store, "timeseries", start=START, end=END, **ALL)
    c1_hours = [(h["hour"], h["compared"]) for h in hours if h["candidate"] == "c1"]
    assert c1_hours == [(T0, 3), (T0 + timedelta(hours=2), 1)]

    values = run_query(store, "comparison_values", start=START, end=END, candidate="c1", workflow=None,
                       tenant=None, limit=0)  # fmt: skip
    assert sorted(v["event_id"] for v in values) == ["e1", "e2", "e3", "e4"]
    assert len(run_query(store, "comparison_values", start=START, end=END, candidate="c1", workflow=None,
                         tenant=None, limit=2)) == 2  # fmt: skip


def test_rollups_give_the_raw_figures(store) -> None:
    seed_small(store)
    assert refresh_rollups(store, START, END) == 2
    raw = run_query(store, "scorecard", start=START, end=END, **ALL)
    for boundary in (START, T0 + timedelta(hours=1), END):
        rolled = run_query(store, "scorecard_rollup", start=START, boundary=boundary, end=END, **ALL)
        assert len(rolled) == len(raw)
        for a, b in zip(raw, rolled, strict=True):
            for key, value in a.items():
                if isinstance(value, float):
                    assert b[key] == pytest.approx(value, rel=1e-9), (a["candidate"], a["workflow"], key)
                else:
                    assert b[key] == value, (a["candidate"], a["workflow"], key)


def test_rollups_count_a_replaced_row_once(store) -> None:
    seed_small(store)
    refresh_rollups(store, START, END)
    replay = comparison_row("e1", candidate="c1", production_json_valid=True, candidate_json_valid=False,
                            row_version=5)  # fmt: skip
    insert_rows(store, [replay])
    refresh_rollups(store, START, END)
    rolled = run_query(store, "scorecard_rollup", start=START, boundary=END, end=END, **ALL)
    c1 = next(r for r in rolled if r["candidate"] == "c1" and r["workflow"] == "")
    assert c1["compared"] == 4 and c1["json_broken"] == 2


class _Values(html.parser.HTMLParser):
    """data-value of each data-metric cell, per data-candidate row, from the report."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[str, dict[str, str]] = {}
        self._candidate: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "tr" and found.get("data-candidate"):
            self._candidate = found["data-candidate"]
        if self._candidate and found.get("data-metric") and "data-value" in found:
            self.rows.setdefault(self._candidate, {}).setdefault(found["data-metric"] or "", found["data-value"] or "")


def test_summary_and_report_show_the_sql_figures(store) -> None:
    seed_small(store)
    refresh_rollups(store, START, END)
    now = END + timedelta(days=1)
    for window in (Window(START, START + timedelta(hours=3)), Window(START, END)):  # raw, then rollups
        filters = Filters(window)
        summary = query_summary(store, filters, now=now)
        read = summary["window"]["read"]
        if read["query"] == "scorecard_rollup":
            sql = run_query(store, "scorecard_rollup", start=datetime.fromisoformat(read["from"]),
                            boundary=datetime.fromisoformat(read["rollups_until"]),
                            end=datetime.fromisoformat(read["to"]), **ALL)  # fmt: skip
        else:
            sql = run_query(store, "scorecard", start=window.start, end=window.end, **ALL)
        expected = {(r["candidate"], r["workflow"]): r for r in sql}
        shown = {(r["candidate"], r["workflow"]): r for r in summary["candidates"] + summary["workflows"]}
        assert set(shown) == set(expected)
        for key, row in expected.items():
            for column, value in row.items():
                assert shown[key][column] == value, (key, column)

        page = render_report(report_data(store, filters, now=now))
        parser = _Values()
        parser.feed(page)
        for row in summary["candidates"]:
            values = parser.rows[row["candidate"]]
            for metric in ("compared", "error_rate", "candidate_json_valid_rate", "similarity_p50",
                           "candidate_latency_p95_ms", "candidate_cost_per_request_usd"):  # fmt: skip
                reported = values[metric]
                if row[metric] is None:
                    assert reported == "null"
                else:
                    assert math.isclose(float(reported), row[metric], rel_tol=1e-12), (row["candidate"], metric)


def test_coverage_flags_a_candidate_that_gets_no_traffic(store) -> None:
    seed_small(store)
    settings = Settings.model_validate(
        {
            "candidates": [
                {"name": "c1", "provider": "openai", "base_url": "http://x/v1", "model": "m"},
                {"name": "silent", "provider": "openai", "base_url": "http://x/v1", "model": "m",
                 "workflows": ["support_chat"]},
            ]
        }
    )  # fmt: skip
    summary = query_summary(store, Filters(Window(START, END)), settings, now=END)
    flags = {(c["candidate"], c["workflow"]): c for c in summary["coverage"]["candidates"]}
    assert flags[("silent", "support_chat")]["flag"] == "NO TRAFFIC"
    assert flags[("silent", "support_chat")]["replayed_events"] == 4
    assert flags[("c1", "support_chat")]["flag"] == "" and flags[("c1", "support_chat")]["coverage"] == 1.0
    assert ("silent", "kb_answer") not in flags
    table = render_table(summary, Window(START, END), width=250, color=False, layout="wide")
    assert "NO TRAFFIC" in table and "Per workflow" in table
    screen = render_table(summary, Window(START, END), width=80, color=False)
    assert "0.0% NO TRAFFIC" in screen and "support_chat — noise floor: ctl" in screen
    markdown = render_markdown(summary, Window(START, END))
    assert "**NO TRAFFIC**: silent compared 0 of 4 support_chat events" in markdown
    assert "| support_chat | ctl (control) |" in markdown


def test_paths_show_the_control_lanes_rate_as_noise(store) -> None:
    seed_small(store)
    summary = query_summary(store, Filters(Window(START, END)), now=END)
    total = next(p for p in summary["paths"] if p["candidate"] == "c1" and p["path"] == "$.total")
    assert total["rate"] == pytest.approx(1 / 3)
    assert total["control_rate"] == pytest.approx(1 / 2)  # the control lane differs there too: noise
    assert all(p["candidate"] != "ctl" for p in summary["paths"])


def test_an_empty_window_says_so(store) -> None:
    summary = query_summary(store, Filters(Window(datetime(2020, 1, 1, tzinfo=UTC), datetime(2020, 1, 2, tzinfo=UTC))))
    assert summary["candidates"] == []
    assert "No comparisons in this window" in render_table(summary, Window(), color=False)


@pytest.mark.parametrize("width", [80, 120])
def test_the_on_call_screen_fits_the_terminal_and_flags_the_injected_regressions(store, width: int) -> None:
    insert_rows(store, rollout(seed=1))
    summary = query_summary(store, Filters(Window(START, END)), now=END)
    screen = render_table(summary, Window(START, END), width=width, color=False)
    lines = screen.splitlines()
    assert max(len(line) for line in lines) <= width

    # One block per workflow (the rollout has one), each candidate on one line per band beside the control lane.
    block = screen.split("support_chat — noise floor: control\n", 1)[1].split("\n\n", 1)[0].splitlines()
    bands = [line for line in block if line.startswith("candidate ")]
    names = ["control", "identical", "aa", "json_down", "slow", "renamed", "few"]
    for name in names:
        label = name + (" (control)" if name == "control" else "")
        assert sum(line.startswith(label + " ") for line in block) == len(bands), name

    # Every figure whole on its row, flagged exactly where it is worse than the control lane's.
    rows = {r["candidate"]: r for r in summary["workflows"]}
    control = rows["control"]
    flagged: dict[str, set[str]] = {}
    for name in names:
        label = name + (" (control)" if name == "control" else "")
        tokens = " ".join(line for line in block if line.startswith(label + " ")).split()
        for figure in FIGURES:
            shown = figure.show(rows[name][figure.key])
            if shown == "–" and figure.show(control[figure.key]) == "–":
                continue  # a figure nobody has (no schema was asked for) is left out
            if figure.worse(rows[name], control) and name != "control":
                assert shown + FLAG in tokens, (name, figure.header)
                flagged.setdefault(name, set()).add(figure.header)
            else:
                assert shown in tokens, (name, figure.header)
    assert "JSON ok" in flagged["json_down"]
    assert "p95 ms" in flagged["slow"] and "p95 ms" not in flagged.get("identical", set())
    assert "tool args" in flagged["renamed"]
    overall = screen.split("Candidates, all workflows\n", 1)[1].split("\n\n", 1)[0]
    assert all(name in overall for name in names)
