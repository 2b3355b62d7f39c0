"""``shadow summary``: the on-call view — is each candidate safe, per workflow, beside the control lane.

``query`` reads the figures into plain data (``--format json``); ``wide`` prints them as a
terminal table or Markdown.
"""

from shadow.report.summary.query import (
    COVERAGE_WARNING,
    ROLLUP_MIN_HOURS,
    coverage,
    difference_paths,
    query_summary,
    scorecard,
)
from shadow.report.summary.wide import render_markdown, render_table

__all__ = [
    "COVERAGE_WARNING",
    "ROLLUP_MIN_HOURS",
    "coverage",
    "difference_paths",
    "query_summary",
    "render_markdown",
    "render_table",
    "scorecard",
]
