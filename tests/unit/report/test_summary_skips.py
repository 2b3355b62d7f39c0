"""``shadow summary`` shows, per candidate, the events it did not compare and why — at every width and in Markdown."""

from __future__ import annotations

from typing import Any

import pytest

from shadow.report.summary import render_markdown, render_table
from shadow.report.summary.wide import skip_reasons
from tests.unit.report.test_summary_screen import WINDOW, sections, summary

TITLE = "Candidate coverage: compared ÷ replayed events it should see"


def with_skips() -> dict[str, Any]:
    data = summary()
    rows = {c["candidate"]: c for c in data["coverage"]["candidates"]}
    rows["control-gpt-4o"]["skips"] = {"sampled_out": 50}
    rows["gpt-4.1-mini"].update(flag="KILLED", skips={"killed": 150, "paused": 50, "sampled_out": 50})
    rows["silent"].update(flag="", replayed_events=0, coverage=None, skips={"out_of_scope": 1250})
    return data


def test_the_reasons_are_ordered_skipped_rows_first_then_events_not_sent() -> None:
    rows = [{"skips": {"out_of_scope": 1, "paused": 2}}, {"skips": {"disabled": 3, "circuit_open": 4, "budget": 1}},
            {"skips": {"sampled_out": 5}}, {}]  # fmt: skip
    assert skip_reasons(rows) == ["budget", "circuit_open", "paused", "sampled_out", "out_of_scope", "disabled"]


@pytest.mark.parametrize("width", [80, 120])
def test_each_reason_is_a_column_on_the_screen(width: int) -> None:
    screen = render_table(with_skips(), WINDOW, width=width, color=False)
    assert max(len(line) for line in screen.splitlines()) <= width
    coverage = sections(screen)[TITLE]
    text = "\n".join(coverage)
    for header in ("killed", "paused", "sampled out", "out of scope"):
        assert header in text, header
    assert "circuit open" not in text and "disabled" not in text  # only reasons some candidate has
    # Every count on its candidate's lines (one per band: each line starts with the name).
    counts: dict[str, list[str]] = {}
    for line in coverage:
        if line.strip() and not line.startswith("candidate "):
            counts.setdefault(line.split()[0], []).extend(line.split()[1:])
    assert "150" in counts["gpt-4.1-mini"] and "KILLED" in counts["gpt-4.1-mini"]
    assert "1,250" in counts["silent"] and "NO" not in counts["silent"]


def test_wide_and_markdown_show_the_skips() -> None:
    wide = render_table(with_skips(), WINDOW, width=250, color=False, layout="wide")
    header = next(line for line in wide.split(TITLE, 1)[1].splitlines() if line.startswith("┃ candidate"))
    assert [h.strip() for h in header.split("┃") if h.strip()][3:9] == [
        "replayed events", "compared", "killed", "paused", "sampled out", "out of scope",
    ]  # fmt: skip
    markdown = render_markdown(with_skips(), WINDOW)
    assert (
        "- **KILLED**: gpt-4.1-mini compared 1000 of 1200 support_chat events (openai.chat.completions); "
        "150 killed; 50 paused; 50 sampled out" in markdown
    )
    assert "- silent compared 0 of 0 support_chat events (openai.chat.completions); 1250 out of scope" in markdown
    assert "- control-gpt-4o compared 1200 of 1200" in markdown  # sampled out: listed, so it is never silent


def test_a_summary_without_skips_renders_as_before() -> None:
    screen = render_table(summary(), WINDOW, width=120, color=False)
    assert "sampled out" not in "\n".join(sections(screen)[TITLE])
