"""``shadow summary`` on a terminal: the on-call screen at 80 and 120 columns, and the wide table on request."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest

from shadow.report.summary import render_markdown, render_table
from shadow.report.summary.screen import FIGURES, FLAG
from shadow.report.window import Window

WINDOW = Window(datetime(2026, 11, 22, 9, tzinfo=UTC), datetime(2026, 11, 23, 9, tzinfo=UTC))
LAST = datetime(2026, 11, 23, 8, 59, tzinfo=UTC)
HEADERS = ["compared", *(f.header for f in FIGURES)]


def score(candidate: str, workflow: str = "", role: str = "candidate", **figures: Any) -> dict[str, Any]:
    """A scorecard row as ``query_summary`` returns it: a healthy answer unless ``figures`` say otherwise."""
    row: dict[str, Any] = {
        "candidate": candidate, "workflow": workflow, "role": role, "compared": 1200, "ok": 1195,
        "candidate_errors": 5, "timeouts": 2, "rate_limited": 0, "production_errors": 1,
        "error_rate": 0.0042, "timeout_rate": 0.0017,
        "production_json_valid_rate": None, "candidate_json_valid_rate": None, "candidate_json_wrapped": 0,
        "json_broken": 0, "json_broken_rate": None, "json_changed": 0,
        "production_schema_valid_rate": None, "candidate_schema_valid_rate": None, "candidate_schema_failures": 0,
        "tool_rows": 0, "tool_name_agreement": None, "tool_args_agreement": None, "tool_name_mismatches": 0,
        "tool_argument_mismatches": 0, "tool_f1": None,
        "similarity_p10": 0.91, "similarity_p50": 0.99, "length_ratio_p50": 1.0, "length_ratio_p90": 1.12,
        "longer": 3, "shorter": 2, "dissimilar": 1, "truncations": 0, "finish_changes": 1,
        "production_refusal_rate": 0.004, "candidate_refusal_rate": 0.004, "production_refusals": 5,
        "candidate_refusals": 5, "new_refusals": 0,
        "production_latency_p50_ms": 1210.0, "production_latency_p95_ms": 2140.0, "production_latency_p99_ms": 3388.0,
        "candidate_latency_p50_ms": 1250.5, "candidate_latency_p95_ms": 2210.4, "candidate_latency_p99_ms": 3490.1,
        "production_output_tokens_per_request": 180.0, "candidate_output_tokens_per_request": 176.0,
        "production_cost_per_request_usd": 0.00229, "candidate_cost_per_request_usd": 0.00231,
        "last_compared_at": LAST, "latency_p50_change": 0.033, "latency_p95_change": 0.033,
        "latency_p99_change": 0.03, "cost_per_request_change": 0.0087, "output_tokens_change": -0.022,
        # Nothing streamed: no time to first token, no tokens per second (the columns stay off the screen).
        **{f"{side}_ttft_{q}_ms": None for side in ("production", "candidate") for q in ("p50", "p95", "p99")},
        "production_tokens_per_s": None, "candidate_tokens_per_s": None, "ttft_p50_change": None,
        "ttft_p95_change": None,
    }  # fmt: skip
    row.update(figures)
    if workflow:
        row.setdefault("control", None)
    return row


JSON = {"production_json_valid_rate": 1.0, "candidate_json_valid_rate": 0.998,
        "production_schema_valid_rate": 1.0, "candidate_schema_valid_rate": 0.997}  # fmt: skip
TOOLS = {"tool_rows": 410, "tool_name_agreement": 0.995, "tool_args_agreement": 0.981, "tool_f1": 0.99}

# Per workflow: the control lane, then candidates, and the headers of the figures worse than the lane.
WORKFLOWS: dict[str, list[tuple[dict[str, Any], set[str]]]] = {
    "support_chat": [
        (score("control-gpt-4o", "support_chat", "control", error_rate=0.014), set()),
        (score("gpt-4.1-mini", "support_chat", control="control-gpt-4o", error_rate=0.069, candidate_refusal_rate=0.03,
               similarity_p10=0.73, similarity_p50=0.84, candidate_latency_p95_ms=1730.0), {"errors", "refusals",
                                                                                            "sim p10", "sim p50"}),
        (score("claude-haiku-4-5-20251001-with-a-long-name", "support_chat", control="control-gpt-4o",
               error_rate=0.012, candidate_latency_p95_ms=2494.0, candidate_cost_per_request_usd=0.0029),
         {"p95 ms", "$/1k req"}),
    ],
    "invoice_extraction": [
        (score("control-gpt-4o", "invoice_extraction", "control", **JSON), set()),
        (score("gpt-4.1-mini", "invoice_extraction", control="control-gpt-4o", **{**JSON,
               "candidate_json_valid_rate": 0.917, "candidate_schema_valid_rate": 0.875}), {"JSON ok", "schema ok"}),
        # Within the floor's tolerance: 9% slower, one displayed step of similarity better.
        (score("claude-haiku-4-5-20251001-with-a-long-name", "invoice_extraction", control="control-gpt-4o",
               **JSON, candidate_latency_p95_ms=2409.0, similarity_p50=0.994), set()),
    ],
    "travel_agent": [
        (score("control-gpt-4o", "travel_agent", "control", **TOOLS), set()),
        (score("gpt-4.1-mini", "travel_agent", control="control-gpt-4o", **{**TOOLS, "tool_args_agreement": 0.533,
               "tool_name_agreement": 0.9}), {"tool names", "tool args"}),
    ],
    "kb_answer": [  # no control lane replays this workflow
        (score("gpt-4.1-mini", "kb_answer", error_rate=0.2), set()),
    ],
}  # fmt: skip
CANDIDATES = ["control-gpt-4o", "gpt-4.1-mini", "claude-haiku-4-5-20251001-with-a-long-name"]
LONG_PATH = "$.line_items[*].tax_breakdown.jurisdictions[*].exemptions[*].certificate.issuing_authority.name"


def summary() -> dict[str, Any]:
    workflows = [row for rows in WORKFLOWS.values() for row, _ in rows]
    coverage_rows = [
        {"candidate": c, "role": "control" if c.startswith("control") else "candidate", "workflow": "support_chat",
         "api": "openai.chat.completions", "replayed_events": 1200, "compared": n, "coverage": n / 1200,
         "last_compared_at": LAST if n else None, "flag": flag}
        for c, n, flag in (("control-gpt-4o", 1200, ""), ("gpt-4.1-mini", 1000, "LOW"), ("silent", 0, "NO TRAFFIC"))
    ]  # fmt: skip
    paths = [
        {"candidate": "gpt-4.1-mini", "role": "candidate", "family": "json", "path": LONG_PATH, "rows": 31,
         "eligible": 1200, "rate": 0.0258, "kinds": ["type_changed", "missing"],
         "examples": ["evt_01M8403Z9X23CYFR9K4AZRPR9A", "evt_01M83QRZBKJMRZ80DE9G94ZWDH"], "control_rate": 0.0008},
        {"candidate": "gpt-4.1-mini", "role": "candidate", "family": "tool", "path": "search_flights.destination",
         "rows": 12, "eligible": 410, "rate": 0.0293, "kinds": ["missing"], "examples": ["evt_01M8"],
         "control_rate": None},
    ]  # fmt: skip
    return {
        "window": {"from": None, "to": None, "read": {"query": "scorecard", "from": "x", "to": "y"}},
        "filters": {"candidate": None, "workflow": None, "tenant": None},
        "candidates": [score("control-gpt-4o", "", "control", compared=3600, **JSON, **TOOLS),
                       score("gpt-4.1-mini", error_rate=0.041, **JSON, **TOOLS),
                       score("claude-haiku-4-5-20251001-with-a-long-name", **JSON)],
        "workflows": workflows,
        "coverage": {
            "workflows": [{"workflow": "support_chat", "api": "openai.chat.completions", "consumed": 1250,
                           "replayed": 1200, "skipped": 50, "skipped_by_sampling": 50, "skipped_no_candidate": 0,
                           "dead_lettered": 0, "last_ingested_at": LAST},
                          {"workflow": "", "api": "", "consumed": 3, "replayed": 0, "skipped": 0,
                           "skipped_by_sampling": 0, "skipped_no_candidate": 0, "dead_lettered": 3,
                           "last_ingested_at": LAST}],
            "candidates": coverage_rows,
        },
        "paths": paths,
    }  # fmt: skip


def sections(screen: str) -> dict[str, list[str]]:
    """The screen's sections by their heading (the line after a blank line)."""
    found = {}
    for block in screen.split("\n\n"):
        lines = block.splitlines()
        found[lines[0]] = lines[1:]
    return found


def label(row: dict[str, Any]) -> str:
    return row["candidate"] + (" (control)" if row["role"] == "control" else "")


def cells(lines: list[str], name: str) -> dict[str, str]:
    """A row's cells by header, across the bands of one table (figures are right-aligned under their header)."""
    found: dict[str, str] = {}
    header = ""
    for line in lines:
        if line.startswith("candidate "):
            header = line
        elif line.startswith(name + " ") or line == name:
            for title in HEADERS:
                at = header.find(f"  {title}")
                if at >= 0 and (at + 2 + len(title) == len(header.rstrip()) or header[at + 2 + len(title)] == " "):
                    found[title] = line[: at + 2 + len(title) + 1].split()[-1]
    return found


@pytest.fixture(params=[80, 120])
def width(request: pytest.FixtureRequest) -> int:
    return int(request.param)


@pytest.fixture
def screen(width: int) -> str:
    return render_table(summary(), WINDOW, width=width, color=False)


def test_no_line_is_wider_than_the_terminal(screen: str, width: int) -> None:
    lines = screen.splitlines()
    assert max(len(line) for line in lines) <= width
    assert len(lines) < {80: 140, 120: 90}[width], "the screen should stay short enough to read"


def test_every_candidate_is_on_the_screen_in_each_of_its_workflows(screen: str) -> None:
    found = sections(screen)
    overall = found["Candidates, all workflows"]
    for name in CANDIDATES:
        assert any(line.startswith(name) for line in overall), name
    for workflow, rows in WORKFLOWS.items():
        [heading] = [h for h in found if h.startswith(f"{workflow} — ")]
        for row, _ in rows:
            assert any(line.startswith(label(row)) for line in found[heading]), (workflow, row["candidate"])


def test_figures_worse_than_the_control_lane_are_flagged_and_only_those(screen: str) -> None:
    found = sections(screen)
    for workflow, rows in WORKFLOWS.items():
        [heading] = [h for h in found if h.startswith(f"{workflow} — ")]
        for row, worse in rows:
            shown = cells(found[heading], label(row))
            flagged = {title for title, cell in shown.items() if cell.endswith(FLAG)}
            assert flagged == worse, (workflow, row["candidate"], shown)
            figures = {f.header: f for f in FIGURES}
            for title, cell in shown.items():  # every figure whole, exactly as formatted: nothing wrapped or cut
                value = f"{row['compared']:,}" if title == "compared" else figures[title].show(row[figures[title].key])
                assert cell.removesuffix(FLAG) == value, (workflow, row["candidate"], title)


def test_a_workflow_without_a_control_lane_says_so_and_flags_nothing(screen: str) -> None:
    [heading] = [h for h in sections(screen) if h.startswith("kb_answer")]
    assert "no control lane" in heading
    assert FLAG not in "".join(sections(screen)[heading][1:])


def test_the_overall_table_counts_the_workflows_where_a_candidate_is_worse(screen: str) -> None:
    overall = " ".join(sections(screen)["Candidates, all workflows"])
    assert re.search(r"gpt-4\.1-mini +\d[\d,]* +3 of 3 workflows", overall)
    assert re.search(r"claude-haiku-4-5-20251001-with-a-long-name +\d[\d,]* +1 of 2 workflows", overall)


def test_coverage_and_paths_fit_with_their_flags(screen: str, width: int) -> None:
    found = sections(screen)
    coverage = "\n".join(found["Candidate coverage: compared ÷ replayed events it should see"])
    assert "83.3% LOW" in coverage and "0.0% NO TRAFFIC" in coverage and "0 of 1,200" in coverage
    assert "(undecodable)" in "\n".join(found["Coverage: what became of every consumed record"])
    [heading] = [h for h in found if h.startswith("Top differing paths")]
    paths = found[heading]
    assert "".join(line.strip() for line in paths).count("search_flights.destination") == 1
    assert "2.6%" in "\n".join(paths) and "0.1%" in "\n".join(paths)
    if width == 80:  # the long path folds inside its column, the examples are left to --wide
        assert LONG_PATH not in "\n".join(paths)
        assert any("examples" in line and "--wide" in line for line in paths)


def test_colour_marks_flags_in_red() -> None:
    screen = render_table(summary(), WINDOW, width=120, color=True)
    assert re.search(r"\x1b\[1;31m *6\.9%!", screen)
    assert not re.search(r"\x1b\[1;31m *1\.4%", screen), "the control lane is never flagged"


def test_an_empty_window_says_so_at_any_width() -> None:
    empty = summary() | {"candidates": [], "workflows": [], "paths": []}
    screen = render_table(empty, WINDOW, width=80, color=False)
    assert "No comparisons in this window" in screen
    assert max(len(line) for line in screen.splitlines()) <= 80


def test_the_wide_layout_keeps_every_column() -> None:
    wide = render_table(summary(), WINDOW, color=False, layout="wide")
    assert "Per workflow, each candidate beside the control lane" in wide
    for header in ("latency p95 ms", "cost $/1k requests", "length ratio", "examples"):
        assert header in wide
    assert max(len(line) for line in wide.splitlines()) > 120
    markdown = render_markdown(summary(), WINDOW)
    assert "| travel_agent | gpt-4.1-mini |" in markdown and "**NO TRAFFIC**: silent" in markdown


FIGURE = {f.header: f for f in FIGURES}


@pytest.mark.parametrize(
    ("header", "mine", "floor", "worse"),
    [
        # Rates: a one-sided test at 95% on the counts the rate is over.
        ("errors", {"error_rate": 0.069, "compared": 72}, {"error_rate": 0.014, "compared": 72}, False),
        ("errors", {"error_rate": 0.069, "compared": 1200}, {"error_rate": 0.014, "compared": 1200}, True),
        ("tool args", {"tool_args_agreement": 0.990, "tool_rows": 500},
         {"tool_args_agreement": 0.992, "tool_rows": 500}, False),  # an A/A lane: noise
        ("tool args", {"tool_args_agreement": 0.759, "tool_rows": 500},
         {"tool_args_agreement": 0.992, "tool_rows": 500}, True),
        ("JSON ok", {"candidate_json_valid_rate": 1.0, "ok": 50}, {"candidate_json_valid_rate": 0.9, "ok": 50}, False),
        ("refusals", {"candidate_refusal_rate": 0.5, "ok": 0}, {"candidate_refusal_rate": 0.0, "ok": 10}, False),
        # Quantiles: a fixed tolerance.
        ("sim p50", {"similarity_p50": 0.975}, {"similarity_p50": 0.99}, False),
        ("sim p50", {"similarity_p50": 0.96}, {"similarity_p50": 0.99}, True),
        ("p95 ms", {"candidate_latency_p95_ms": 2650.0}, {"candidate_latency_p95_ms": 2400.0}, True),  # 10.4% slower
        ("p95 ms", {"candidate_latency_p95_ms": 2630.0}, {"candidate_latency_p95_ms": 2400.0}, False),  # 9.6%
        ("$/1k req", {"candidate_cost_per_request_usd": None}, {"candidate_cost_per_request_usd": 0.002}, False),
    ],
)  # fmt: skip
def test_worse_than_the_noise_floor(header: str, mine: dict[str, Any], floor: dict[str, Any], worse: bool) -> None:
    assert FIGURE[header].worse(mine, floor) is worse
