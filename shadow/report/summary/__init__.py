"""``shadow summary``: the on-call view — is each candidate safe, per workflow, beside the control lane.

``query`` reads the figures into plain data (``--format json``); ``screen`` prints them on a
terminal, fitted to its width (``render_table``, compact or wide); ``wide`` holds the complete
renderings: the wide table and Markdown.
"""

from shadow.report.summary.query import (
    COVERAGE_WARNING,
    ROLLUP_MIN_HOURS,
    coverage,
    difference_paths,
    query_summary,
    scorecard,
)
from shadow.report.summary.screen import Layout, render_screen, render_table
from shadow.report.summary.wide import render_markdown, render_wide

__all__ = [
    "COVERAGE_WARNING",
    "ROLLUP_MIN_HOURS",
    "Layout",
    "coverage",
    "difference_paths",
    "query_summary",
    "render_markdown",
    "render_screen",
    "render_table",
    "render_wide",
    "scorecard",
]
