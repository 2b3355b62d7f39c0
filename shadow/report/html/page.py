"""The report page: the stylesheet, the Content-Security-Policy, the header and ``render_report``."""

from __future__ import annotations

from shadow.report.html.markup import Ids, candidate_colors, esc, time_element
from shadow.report.html.model import ReportData
from shadow.report.html.sections import (
    distributions_section,
    gate_section,
    scorecard_section,
    timeseries_section,
    worst_section,
)

__all__ = ["render_report"]
_STYLE = """
:root{--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;--soft:#f6f8fa;--promote:#1a7f37;--hold:#9a6700;--rollback:#cf222e}
*{box-sizing:border-box}
body{margin:0;padding:24px 32px 48px;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",
"Helvetica Neue",Arial,"Noto Sans CJK SC","PingFang SC","Microsoft YaHei",sans-serif;color:var(--fg);background:#fff}
h1{font-size:24px;margin:0 0 4px}
h2{font-size:19px;margin:32px 0 10px;padding-bottom:4px;border-bottom:1px solid var(--line)}
h3{font-size:15px;margin:18px 0 8px}
.meta{color:var(--muted);margin:0 0 8px}
nav a{color:#0969da;margin-right:14px;text-decoration:none}nav a:hover{text-decoration:underline}
.empty{color:var(--muted);font-style:italic;padding:10px 14px;background:var(--soft);border-radius:6px}
.banner{font-weight:600;font-style:normal;color:var(--fg)}
table{border-collapse:collapse;margin:4px 0 12px;font-size:13px}
td.threshold{white-space:nowrap}
th,td{padding:5px 9px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
th{background:var(--soft);font-weight:600;white-space:nowrap}
thead th{position:sticky;top:0}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.scroll{overflow-x:auto;max-width:100%}
tbody th{background:#fff}tr.control td,tr.control th{background:#f6f8fa}
.vs{display:block;color:var(--muted);font-size:11px}
.tag{display:inline-block;padding:0 6px;border-radius:10px;font-size:11px;font-weight:600;
background:#eaeef2;color:var(--muted);margin-left:6px;vertical-align:1px}
.cards{display:grid;grid-template-columns:1fr;gap:16px}
.card{border:1px solid var(--line);border-left:6px solid var(--muted);border-radius:8px;padding:12px 16px;
background:#fff}
.card.promote{border-left-color:var(--promote)}.card.hold{border-left-color:var(--hold)}
.card.rollback{border-left-color:var(--rollback)}
.card header{display:flex;align-items:baseline;gap:12px;flex-wrap:wrap}
.card h3{margin:0;font-size:17px}
.verdict{color:#fff;border-radius:12px;padding:1px 10px;font-weight:700;text-transform:uppercase;
font-size:12px;letter-spacing:.04em;background:var(--muted)}
.verdict.promote{background:var(--promote)}.verdict.hold{background:var(--hold)}
.verdict.rollback{background:var(--rollback)}
.score{color:var(--muted)}.score .num{color:var(--fg);font-weight:600}
.outcome{font-weight:600;text-transform:uppercase;font-size:11px;letter-spacing:.03em}
.outcome.pass{color:var(--promote)}.outcome.fail{color:var(--rollback)}
.outcome.inconclusive{color:var(--hold)}.outcome.insufficient{color:var(--muted)}.outcome.policy_problem{color:var(--hold)}
tr.fail td{background:#fff5f5}
.reason{color:var(--muted);min-width:220px}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(360px,1fr));gap:14px 20px}
figure{margin:0;border:1px solid var(--line);border-radius:8px;padding:8px 10px 4px;background:#fff}
figcaption{font-weight:600;font-size:13px;margin-bottom:2px}
svg{display:block;width:100%;height:auto}
svg text{font-size:11px;fill:var(--muted);font-family:inherit}
svg .axis{stroke:#8c959f;stroke-width:1}svg .grid{stroke:#eaeef2;stroke-width:1}
svg .axis-label{fill:var(--fg)}svg .reference{stroke:#1f2328;stroke-width:1;stroke-dasharray:3 3}
svg .legend text{fill:var(--fg)}
svg .halo{paint-order:stroke;stroke:#fff;stroke-width:3px}
.example{border:1px solid var(--line);border-radius:8px;padding:12px 16px;margin:0 0 18px}
.example header{display:flex;gap:8px 20px;flex-wrap:wrap;margin-bottom:8px;color:var(--muted)}
.example header b{color:var(--fg)}
.sides{display:grid;grid-template-columns:1fr 1fr;gap:14px}
.example h4.calls{margin:12px 0 4px;font-size:13px}
.side h4{margin:0 0 4px;font-size:12px;text-transform:uppercase;letter-spacing:.04em;color:var(--muted)}
.text{white-space:pre-wrap;overflow-wrap:anywhere;background:var(--soft);border-radius:6px;padding:8px 10px;
font-size:13px;max-height:420px;overflow-y:auto;margin:0}
pre.text{font:12px/1.4 ui-monospace,SFMono-Regular,"DejaVu Sans Mono",Menlo,Consolas,monospace}
del{background:#ffcecb;color:#82071e;text-decoration:line-through;text-decoration-color:#cf222e80}
ins{background:#aceebb;color:#055d20;text-decoration:none}
.none{color:var(--muted);font-style:italic}
.note{color:var(--muted);font-size:12px;font-style:italic;margin:4px 0 0}
.paths{display:flex;gap:6px 24px;flex-wrap:wrap;margin-top:8px;font-size:12px}
.paths ul{margin:2px 0 0;padding-left:18px}
code{font:12px ui-monospace,SFMono-Regular,"DejaVu Sans Mono",Menlo,Consolas,monospace;background:var(--soft);
padding:0 3px;border-radius:3px}
.swatch{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:6px}
@media (max-width:900px){.sides{grid-template-columns:1fr}.cards{grid-template-columns:1fr}}
"""

# script-src falls back to 'none': the report runs no script, and nothing it shows can add one.
_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"


def _header(data: ReportData) -> str:
    start, end = data.window_start, data.window_end
    shown = (
        "all time"
        if start is None and end is None
        else f"{time_element(start, 'the beginning')} → {time_element(end, 'now')}"
    )
    return (
        f"<header><h1>{esc(data.title or 'shadow report')}</h1>"
        f'<p class="meta">Window: {shown} · Generated {time_element(data.generated_at, "at an unknown time")}</p>'
        '<nav aria-label="Sections"><a href="#gate">Gate</a><a href="#scorecard">Scorecard</a>'
        '<a href="#distributions">Distributions</a><a href="#over-time">Over time</a>'
        '<a href="#worst">Worst examples</a></nav></header>'
    )


def render_report(data: ReportData) -> str:
    """Render the report as one self-contained HTML document.

    Args:
        data: what the report shows (``shadow.report.data.report_data``). Empty tuples and None
            numbers are fine: sections without data say so.

    Returns:
        The complete HTML document (UTF-8 text, no external references, no script).
    """
    ids = Ids()
    colors = candidate_colors(data)
    banner = "" if data.has_data() else '<p class="empty banner">No data in this window.</p>'
    sections = (
        ("gate", "Gate verdicts", gate_section(data, colors)),
        ("scorecard", "Scorecard", scorecard_section(data, colors)),
        ("distributions", "Distributions", distributions_section(data, colors, ids)),
        ("over-time", "Over time", timeseries_section(data, colors, ids)),
        ("worst", "Worst examples", worst_section(data, colors)),
    )
    body = "".join(
        f'<section id="{anchor}" aria-labelledby="{anchor}-h"><h2 id="{anchor}-h">{esc(heading)}</h2>{html}</section>'
        for anchor, heading, html in sections
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{esc(_CSP)}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta name="generator" content="shadow report"><title>{esc(data.title or "shadow report")}</title>'
        f"<style>{_STYLE}</style></head><body>{_header(data)}{banner}<main>{body}</main></body></html>\n"
    )
