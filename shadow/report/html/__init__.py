"""``shadow report -o report.html``: render the report data as one self-contained HTML file.

The last step of the read side: ``shadow.report.data.report_data`` reads the figures into a
:class:`ReportData`, and this package turns it into a string — pure, no I/O, stdlib only. The file
needs nothing at view time: CSS is inline, charts are inline SVG drawn here, there is no script, and
a ``Content-Security-Policy`` meta tag (``default-src 'none'``) makes the browser refuse any network
fetch even if a text smuggled one in.

Modules, in the order a page is built: ``model`` (the typed input), ``markup`` (escaping, number
cells, colours), ``charts`` (SVG), ``textdiff`` (the word diff of the worst examples), ``sections``
and ``page`` (``render_report``).

Figures are shown exactly as given, only formatted (``shadow.report.formatting``; tests compare
them with SQL results):

- rates (fractions in [0, 1]: ``*_rate``, ``*_agreement``): ``format(100 * v, ".1f") + "%"`` → ``12.3%``;
- milliseconds (``*_ms``): rounded to an integer with thousands separators → ``1,234``;
- costs (``*_usd``): three significant digits, no exponent → ``$0.00123``, ``$1.50``, ``$0``;
- counts: integers with thousands separators → ``12,345``;
- scores, similarity, F1, length ratios and other numbers: three decimals → ``0.873``;
- None (and NaN) → ``–`` (en dash).

Every number cell carries ``data-value`` with the raw value as JSON (``0.0123``, ``1234``, ``null``)
and ``data-metric`` with its key, so a test can read exact values back. Distributions are binned
here, so the file size does not grow with their length (20k values cost the same as 200). Texts of
the worst examples are cut at about 1,500 characters, with a note saying so.
"""

from shadow.report.formatting import (
    format_cost,
    format_count,
    format_ms,
    format_number,
    format_rate,
    format_value,
)
from shadow.report.html.model import (
    CandidateScore,
    Distribution,
    GateRuleResult,
    GateVerdict,
    HourlyRates,
    ReportData,
    WorstExample,
)
from shadow.report.html.page import render_report

__all__ = [
    "CandidateScore",
    "Distribution",
    "GateRuleResult",
    "GateVerdict",
    "HourlyRates",
    "ReportData",
    "WorstExample",
    "format_cost",
    "format_count",
    "format_ms",
    "format_number",
    "format_rate",
    "format_value",
    "render_report",
]
