"""The report's sections, each from the typed report data to an HTML fragment: gate verdicts, the
scorecard, distributions, rates over time and the worst examples."""

from __future__ import annotations

import json
from collections.abc import Mapping

from shadow.report.formatting import NONE_TEXT, Kind, finite, format_kind, format_value, kind_of
from shadow.report.html.charts import Line, latency_chart, length_ratio_chart, line_chart, similarity_chart
from shadow.report.html.markup import (
    CONTROL_COLOR,
    PALETTE,
    Ids,
    empty,
    esc,
    num,
    ordered_names,
    raw_value,
    swatch,
)
from shadow.report.html.model import ReportData, WorstExample
from shadow.report.html.textdiff import diff_html

__all__ = ["distributions_section", "gate_section", "scorecard_section", "timeseries_section", "worst_section"]

_VERDICTS = {"promote", "hold", "rollback"}
_OUTCOME_CLASSES = {"pass", "fail", "inconclusive", "insufficient", "policy_problem"}
_UNIT_KINDS: dict[str, Kind] = {
    "points": "rate",
    "relative": "rate",
    "rate": "rate",
    "ms": "ms",
    "usd": "usd",
    "number": "number",
}


def gate_section(data: ReportData, colors: Mapping[str, str]) -> str:
    if not data.gate:
        return empty("No gate results in this window.")
    cards = []
    for result in data.gate:
        css = result.verdict if result.verdict in _VERDICTS else "unknown"
        rows = []
        for rule in result.rules:
            # Gate estimates are regressions or the candidate's own value: their unit says how to show them.
            unit_kind = _UNIT_KINDS.get(rule.unit, kind_of(rule.metric))
            bounds = rule.interval
            interval_text = (
                f"[{format_kind(unit_kind, bounds[0])}, {format_kind(unit_kind, bounds[1])}]" if bounds else NONE_TEXT
            )
            interval_raw = json.dumps([raw_value(b) for b in bounds]) if bounds else "null"
            outcome = rule.outcome
            rows.append(
                f'<tr class="{esc(outcome if outcome in _OUTCOME_CLASSES else "")}" data-rule="{esc(rule.name)}">'
                f"<td>{esc(rule.name)}</td><td><code>{esc(rule.metric)}</code></td><td>{esc(rule.against)}</td>"
                f'<td><span class="outcome {esc(outcome)}">{esc(outcome)}</span></td>'
                f"{num(rule.estimate, rule.metric, unit_kind)}"
                f'<td class="num" data-metric="interval" data-value="{esc(interval_raw)}">{esc(interval_text)}</td>'
                f'<td class="threshold">{esc(rule.threshold)}</td>{num(rule.n, "n", "count")}'
                f'<td class="reason">{esc(rule.reason)}</td></tr>'
            )
        table = (
            '<div class="scroll"><table><thead><tr><th>rule</th><th>metric</th><th>against</th><th>outcome</th>'
            '<th class="num">estimate</th><th class="num">interval</th><th>threshold</th><th class="num">n</th>'
            f"<th>reason</th></tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
            if rows
            else empty("No rules were evaluated.")
        )
        name = result.candidate
        cards.append(
            f'<article class="card {css}" data-candidate="{esc(name)}"><header>'
            f"<h3>{swatch(colors.get(name, CONTROL_COLOR))}{esc(name)}</h3>"
            f'<span class="verdict {css}" data-verdict="{esc(result.verdict)}">{esc(result.verdict or "no verdict")}'
            f'</span><span class="score">score {num(result.score, "score", "number", tag="span")}</span>'
            f"</header>{table}</article>"
        )
    return f'<div class="cards">{"".join(cards)}</div>'


_SCORECARD: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    (
        "Errors and output format",
        (
            ("compared", "compared"),
            ("error_rate", "errors"),
            ("timeout_rate", "timeouts"),
            ("production_json_valid_rate", "JSON valid · prod"),
            ("candidate_json_valid_rate", "JSON valid · cand"),
            ("json_broken", "JSON broken"),
            ("production_schema_valid_rate", "schema valid · prod"),
            ("candidate_schema_valid_rate", "schema valid · cand"),
            ("truncations", "truncations"),
        ),
    ),
    (
        "Tools and text",
        (
            ("tool_name_agreement", "tool names agree"),
            ("tool_args_agreement", "tool args agree"),
            ("tool_f1", "tool F1"),
            ("similarity_p10", "similarity p10"),
            ("similarity_p50", "similarity p50"),
            ("length_ratio_p50", "length ratio p50"),
            ("length_ratio_p90", "length ratio p90"),
            ("production_refusal_rate", "refusals · prod"),
            ("candidate_refusal_rate", "refusals · cand"),
        ),
    ),
    (
        "Latency (ms) and cost per request",
        (
            ("production_latency_p50_ms", "prod p50"),
            ("production_latency_p95_ms", "prod p95"),
            ("production_latency_p99_ms", "prod p99"),
            ("candidate_latency_p50_ms", "cand p50"),
            ("candidate_latency_p95_ms", "cand p95"),
            ("candidate_latency_p99_ms", "cand p99"),
            ("production_cost_per_request_usd", "cost · prod"),
            ("candidate_cost_per_request_usd", "cost · cand"),
        ),
    ),
)


def scorecard_section(data: ReportData, colors: Mapping[str, str]) -> str:
    rows = data.candidates
    if not rows:
        return empty()
    control = next((r for r in rows if r.is_control), None)
    intro = (
        f'<p class="meta">Grey rows are controls. Under each candidate figure, “ctrl” is the value of the '
        f"control <b>{esc(control.candidate)}</b> for comparison.</p>"
        if control is not None
        else ""
    )
    tables = []
    for caption, columns in _SCORECARD:
        head = "".join(f'<th class="num" title="{esc(key)}">{esc(label)}</th>' for key, label in columns)
        body = []
        for row in rows:
            cells = []
            for key, _ in columns:
                hint = ""
                if control is not None and not row.is_control:
                    hint = f'<span class="vs">ctrl {esc(format_value(key, control.figure(key)))}</span>'
                cells.append(num(row.figure(key), key, extra=hint))
            tag = '<span class="tag">control</span>' if row.is_control else ""
            body.append(
                f'<tr class="{"control" if row.is_control else "candidate"}" data-candidate="{esc(row.candidate)}" '
                f'data-role="{esc(row.role)}"><th scope="row">{swatch(colors.get(row.candidate, CONTROL_COLOR))}'
                f"{esc(row.candidate)}{tag}</th>{''.join(cells)}</tr>"
            )
        tables.append(
            f'<div class="scroll"><table class="scorecard" aria-label="{esc(caption)}">'
            f"<thead><tr><th>{esc(caption)}</th>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></div>"
        )
    return intro + "".join(tables)


def distributions_section(data: ReportData, colors: Mapping[str, str], ids: Ids) -> str:
    distributions = data.distributions
    names = [n for n in ordered_names(data, list(distributions)) if n in distributions]
    blocks = []
    for name in names:
        values = distributions[name]
        if not values:
            continue
        color = colors.get(name, PALETTE[0])
        production, own = list(values.production_latency_ms), list(values.candidate_latency_ms)
        figures = [
            ("Similarity", similarity_chart(ids, name, color, list(values.similarity)) if values.similarity else ""),
            (
                "Length ratio",
                length_ratio_chart(ids, name, color, list(values.length_ratio)) if values.length_ratio else "",
            ),
            ("Latency", latency_chart(ids, name, color, production, own) if production or own else ""),
        ]
        cells = "".join(
            f"<figure><figcaption>{esc(label)}</figcaption>{svg or empty('No values.')}</figure>"
            for label, svg in figures
        )
        blocks.append(f'<h3 data-candidate="{esc(name)}">{esc(name)}</h3><div class="charts">{cells}</div>')
    return "".join(blocks) or empty()


_TIMESERIES: tuple[tuple[str, str, Kind, str], ...] = (
    ("compared", "Comparisons", "count", "comparisons per hour"),
    ("error_rate", "Error rate", "rate", "% of compared"),
    ("json_broken_rate", "JSON broken rate", "rate", "% of compared"),
    ("tool_args_mismatch_rate", "Tool-argument mismatch rate", "rate", "% of compared"),
    ("refusal_rate", "Refusal rate", "rate", "% of compared"),
    ("candidate_latency_p95_ms", "Candidate latency p95", "ms", "ms"),
)


def timeseries_section(data: ReportData, colors: Mapping[str, str], ids: Ids) -> str:
    rows = [(r.hour, r) for r in data.timeseries if r.hour is not None]
    if not rows:
        return empty()
    skipped = len(data.timeseries) - len(rows)
    controls = data.controls
    present = {r.candidate for _, r in rows}
    names = [n for n in ordered_names(data, sorted(present)) if n in present]
    figures = []
    for metric, title, kind, y_label in _TIMESERIES:
        lines = [
            Line(
                name,
                colors.get(name, PALETTE[0]),
                name in controls,
                [(moment, finite(r.figure(metric))) for moment, r in rows if r.candidate == name],
            )
            for name in names
        ]
        chart = line_chart(ids, title, metric=metric, kind=kind, y_label=y_label, lines=lines)
        figures.append(f"<figure><figcaption>{esc(title)}</figcaption>{chart}</figure>")
    note = f'<p class="note">{skipped:,} rows with an unreadable hour were left out.</p>' if skipped else ""
    return f'<div class="charts">{"".join(figures)}</div>{note}'


def _paths(label: str, paths: tuple[str, ...]) -> str:
    if not paths:
        return f"<div><b>{esc(label)}</b>: none</div>"
    return f"<div><b>{esc(label)}</b><ul>{''.join(f'<li><code>{esc(p)}</code></li>' for p in paths)}</ul></div>"


def _sides(production: str, candidate: str, css: str, tag: str) -> str:
    left, right, left_note, right_note = diff_html(production, candidate)
    columns = []
    for side, marked, note in (("production", left, left_note), ("candidate", right, right_note)):
        note_html = f'<p class="note">{esc(note)}</p>' if note else ""
        shown = marked or '<span class="none">(empty)</span>'
        columns.append(f'<div class="side {side}"><h4>{side}</h4><{tag} class="{css}">{shown}</{tag}>{note_html}</div>')
    return f'<div class="sides">{"".join(columns)}</div>'


def _example(example: WorstExample, colors: Mapping[str, str]) -> str:
    name = example.candidate
    header = (
        f"<header><span>{swatch(colors.get(name, PALETTE[0]))}<b>{esc(name)}</b></span>"
        f"<span>workflow <b>{esc(example.workflow)}</b></span><span>event <code>{esc(example.event_id)}</code></span>"
        f"<span>similarity <b>{num(example.similarity, 'similarity', 'number', tag='span')}</b></span>"
        f"<span>reason <b>{esc(example.reason)}</b></span></header>"
    )
    production_text, candidate_text = example.production_text, example.candidate_text
    texts = _sides(production_text, candidate_text, "text", "div") if production_text or candidate_text else ""
    production_calls, candidate_calls = example.production_tool_calls, example.candidate_tool_calls
    calls = (
        f'<h4 class="calls">tool calls</h4>{_sides(production_calls, candidate_calls, "text", "pre")}'
        if production_calls or candidate_calls
        else ""
    )
    paths = (
        f'<div class="paths">{_paths("JSON paths that differ", example.json_diff_paths)}'
        f"{_paths('tool-call paths that differ', example.tool_diff_paths)}</div>"
    )
    if not (texts or calls):
        texts = empty("Both answers are empty.")
    return (
        f'<article class="example" data-candidate="{esc(name)}" data-event-id="{esc(example.event_id)}">'
        f"{header}{texts}{calls}{paths}</article>"
    )


def worst_section(data: ReportData, colors: Mapping[str, str]) -> str:
    if not data.worst:
        return empty()
    legend = (
        '<p class="meta">Words only in the production answer are <del>struck through</del>; '
        "words only in the candidate answer are <ins>highlighted</ins>.</p>"
    )
    return legend + "".join(_example(example, colors) for example in data.worst)
