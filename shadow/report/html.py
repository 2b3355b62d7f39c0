"""``shadow report -o report.html``: render the report data as one self-contained HTML file.

The last step of the read side: the report queries build a plain dict, and this module turns it
into a string — pure, no I/O, stdlib only. The file needs nothing at view time: CSS is inline,
charts are inline SVG drawn here, there is no script, and a ``Content-Security-Policy`` meta tag
(``default-src 'none'``) makes the browser refuse any network fetch even if a text smuggled one in.

Input contract (every list may be empty; every number may be None; NaN and ±inf count as None)::

    {
     "title": str, "generated_at": ISO str, "window": {"from": ISO | None, "to": ISO | None},
     "candidates": [  # one per candidate, from the summary scorecard
       {"candidate": str, "role": "candidate" | "control", "compared": int,
        "error_rate": f, "timeout_rate": f,
        "production_json_valid_rate": f, "candidate_json_valid_rate": f, "json_broken": int,
        "production_schema_valid_rate": f, "candidate_schema_valid_rate": f,
        "tool_name_agreement": f, "tool_args_agreement": f, "tool_f1": f,
        "similarity_p10": f, "similarity_p50": f, "length_ratio_p50": f, "length_ratio_p90": f,
        "truncations": int, "production_refusal_rate": f, "candidate_refusal_rate": f,
        "production_latency_p50_ms": f, "production_latency_p95_ms": f, "production_latency_p99_ms": f,
        "candidate_latency_p50_ms": f, "candidate_latency_p95_ms": f, "candidate_latency_p99_ms": f,
        "production_cost_per_request_usd": f, "candidate_cost_per_request_usd": f}],
     "gate": [{"candidate": str, "verdict": "promote" | "hold" | "rollback", "score": f,
               "rules": [{"name": str, "metric": str, "against": str,
                          "outcome": "pass" | "fail" | "inconclusive" | "insufficient",
                          "estimate": f, "interval": [f, f] | None, "threshold": str, "n": int,
                          "reason": str}]}],
     "distributions": {"<candidate>": {"similarity": [f], "length_ratio": [f],
                                       "candidate_latency_ms": [f], "production_latency_ms": [f]}},
     "timeseries": [{"hour": ISO, "candidate": str, "compared": int, "error_rate": f,
                     "json_broken_rate": f, "tool_args_mismatch_rate": f, "refusal_rate": f,
                     "candidate_latency_p95_ms": f}],
     "worst": [{"candidate": str, "workflow": str, "event_id": str, "reason": str, "similarity": f,
                "production_text": str, "candidate_text": str, "json_diff_paths": [str],
                "tool_diff_paths": [str], "production_tool_calls": str, "candidate_tool_calls": str}],
    }

Figures are shown exactly as given, only formatted (the ``format_*`` functions; tests compare
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

from __future__ import annotations

import difflib
import itertools
import json
import math
import numbers
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from html import escape
from typing import Any, Literal

__all__ = [
    "format_cost",
    "format_count",
    "format_ms",
    "format_number",
    "format_rate",
    "format_value",
    "render_report",
]

NONE_TEXT = "–"
TEXT_LIMIT_CHARS = 1500

Kind = Literal["count", "rate", "number", "ms", "usd"]

# Okabe–Ito, minus yellow (unreadable on white); controls are drawn grey and dashed.
_PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")
_CONTROL_COLORS = ("#6e7781", "#a8b1bb", "#3d444d")
_CONTROL_COLOR = _CONTROL_COLORS[0]
_PRODUCTION_COLOR = "#24292f"
_VERDICT_COLORS = {"promote": "#1a7f37", "hold": "#9a6700", "rollback": "#cf222e"}
_OUTCOME_CLASSES = {"pass", "fail", "inconclusive", "insufficient"}


# --- formatting ---------------------------------------------------------------------------------


def _finite(value: Any) -> float | None:
    """A finite float, or None for None, NaN, ±inf, bools and anything that is not a number."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real | Decimal):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _raw(value: Any) -> int | float | None:
    """The value as it goes into ``data-value``: ints stay ints, other numbers become floats."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return _finite(value)


def _no_negative_zero(text: str) -> str:
    return text[1:] if text.startswith("-") and not text.strip("-0.,%$") else text


def format_rate(value: Any) -> str:
    """A fraction as a percentage with one decimal: ``0.1234`` → ``12.3%``; None → ``–``."""
    number = _finite(value)
    return NONE_TEXT if number is None else _no_negative_zero(f"{100 * number:.1f}%")


def format_ms(value: Any) -> str:
    """Milliseconds as an integer with thousands separators: ``1234.4`` → ``1,234``; None → ``–``."""
    number = _finite(value)
    return NONE_TEXT if number is None else _no_negative_zero(f"{number:,.0f}")


def format_cost(value: Any) -> str:
    """US dollars with three significant digits and no exponent: ``0.0012345`` → ``$0.00123``."""
    number = _finite(value)
    if number is None:
        return NONE_TEXT
    rounded = float(f"{abs(number):.3g}")
    if rounded == 0:
        return "$0"
    decimals = max(0, 2 - math.floor(math.log10(rounded)))
    return f"{'-' if number < 0 else ''}${rounded:,.{decimals}f}"


def format_count(value: Any) -> str:
    """A count with thousands separators: ``12345`` → ``12,345``; None → ``–``."""
    number = _finite(value)
    return NONE_TEXT if number is None else _no_negative_zero(f"{number:,.0f}")


def format_number(value: Any) -> str:
    """Scores, similarity, F1 and ratios with three decimals: ``0.87349`` → ``0.873``; None → ``–``."""
    number = _finite(value)
    return NONE_TEXT if number is None else _no_negative_zero(f"{number:.3f}")


_FORMATTERS: dict[Kind, Callable[[Any], str]] = {
    "count": format_count,
    "rate": format_rate,
    "number": format_number,
    "ms": format_ms,
    "usd": format_cost,
}


_UNIT_KINDS: dict[str, Kind] = {
    "points": "rate",
    "relative": "rate",
    "rate": "rate",
    "ms": "ms",
    "usd": "usd",
    "number": "number",
}


def _kind_of(metric: str) -> Kind:
    """How a metric named like the scorecard keys is formatted (gate rules name their metric)."""
    if metric.endswith("_ms"):
        return "ms"
    if metric.endswith("_usd") or "cost" in metric:
        return "usd"
    if metric.endswith(("_rate", "_agreement")) or "_rate_" in metric:
        return "rate"
    if metric in {"compared", "json_broken", "truncations", "n"}:
        return "count"
    return "number"


def format_value(metric: str, value: Any) -> str:
    """Format ``value`` the way the report shows ``metric`` (``error_rate`` → ``1.2%``, ``*_ms`` → ``1,234``)."""
    return _FORMATTERS[_kind_of(metric)](value)


# --- small HTML pieces --------------------------------------------------------------------------


def _e(value: Any) -> str:
    return escape("" if value is None else str(value), quote=True)


def _num(value: Any, metric: str, kind: Kind | None = None, tag: str = "td", extra: str = "") -> str:
    """A number element with its raw value in ``data-value`` and its key in ``data-metric``."""
    text = _FORMATTERS[kind or _kind_of(metric)](value)
    raw = json.dumps(_raw(value))
    return f'<{tag} class="num" data-metric="{_e(metric)}" data-value="{_e(raw)}">{_e(text)}{extra}</{tag}>'


def _rows(value: Any) -> list[Mapping[str, Any]]:
    return [row for row in value if isinstance(row, Mapping)] if isinstance(value, list) else []


def _floats(value: Any) -> list[float]:
    if not isinstance(value, list):
        return []
    return [number for number in map(_finite, value) if number is not None]


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


def _time(value: Any, missing: str) -> str:
    """A ``<time>`` element showing UTC minutes; unparsable text is shown as given."""
    if value is None or value == "":
        return _e(missing)
    moment = _parse_time(value)
    shown = moment.strftime("%Y-%m-%d %H:%M UTC") if moment else str(value)
    return f'<time datetime="{_e(value)}">{_e(shown)}</time>'


def _empty(message: str = "No data in this window.") -> str:
    return f'<p class="empty">{_e(message)}</p>'


class _Ids:
    """Unique element ids within one report (SVG ``<title>``/``<desc>`` need them for ARIA)."""

    def __init__(self) -> None:
        self._next = 0

    def new(self, prefix: str) -> str:
        self._next += 1
        return f"{prefix}{self._next}"


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _colors(data: Mapping[str, Any]) -> dict[str, str]:
    """One colour per candidate name, stable across every chart: controls grey, others Okabe–Ito."""
    controls = {_text(r.get("candidate")) for r in _rows(data.get("candidates")) if r.get("role") == "control"}
    names: list[str] = []
    sources: list[Any] = [data.get("candidates"), data.get("gate"), data.get("timeseries"), data.get("worst")]
    for source in sources:
        names.extend(_text(r.get("candidate")) for r in _rows(source))
    distributions = data.get("distributions")
    if isinstance(distributions, Mapping):
        names.extend(str(name) for name in distributions)
    colors: dict[str, str] = {}
    seen_controls = seen_candidates = 0
    for name in dict.fromkeys(names):
        if name in controls:
            colors[name] = _CONTROL_COLORS[seen_controls % len(_CONTROL_COLORS)]
            seen_controls += 1
        else:
            colors[name] = _PALETTE[seen_candidates % len(_PALETTE)]
            seen_candidates += 1
    return colors


# --- SVG charts ---------------------------------------------------------------------------------

_W, _H = 480, 270
_LEFT, _RIGHT, _BOTTOM = 58, 14, 46
_CHAR_PX = 6.4  # rough width of one 11px character, for laying out legends


@dataclass(frozen=True, slots=True)
class _Legend:
    label: str
    color: str
    dashed: bool = False
    bar: bool = False


def _legend(items: Sequence[_Legend]) -> tuple[str, int]:
    """Legend entries laid out left to right, wrapping; returns the SVG and the height it takes."""
    parts, x, y = [], float(_LEFT), 14
    for item in items:
        width = 22 + len(item.label) * _CHAR_PX + 14
        if x + width > _W - _RIGHT and x > _LEFT:
            x, y = float(_LEFT), y + 16
        if item.bar:
            mark = f'<rect x="{x:.1f}" y="{y - 8}" width="14" height="10" fill="{item.color}" fill-opacity="0.7"/>'
        else:
            dash = ' stroke-dasharray="5 3"' if item.dashed else ""
            mark = (
                f'<line x1="{x:.1f}" y1="{y - 3}" x2="{x + 16:.1f}" y2="{y - 3}" '
                f'stroke="{item.color}" stroke-width="2.5"{dash}/>'
            )
        parts.append(f'{mark}<text x="{x + 20:.1f}" y="{y + 1}">{_e(item.label)}</text>')
        x += width
    return f'<g class="legend">{"".join(parts)}</g>', y + 12


def _nice_step(span: float, target_ticks: int = 5) -> float:
    raw = span / max(target_ticks, 1)
    magnitude = 10.0 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if factor * magnitude >= raw:
            return factor * magnitude
    return 10 * magnitude


def _y_ticks(top: float) -> tuple[float, list[float]]:
    """A rounded-up axis maximum and evenly spaced ticks from zero."""
    if top <= 0:
        return 1.0, [0.0, 0.25, 0.5, 0.75, 1.0]
    step = _nice_step(top, 4)
    ceiling = math.ceil(top / step - 1e-9) * step
    return ceiling, [i * step for i in range(round(ceiling / step) + 1)]


def _svg(ids: _Ids, title: str, desc: str, body: str) -> str:
    title_id, desc_id = ids.new("chart-title-"), ids.new("chart-desc-")
    return (
        f'<svg viewBox="0 0 {_W} {_H}" role="img" '
        f'aria-label="{_e(title)}" aria-labelledby="{title_id}" aria-describedby="{desc_id}">'
        f'<title id="{title_id}">{_e(title)}</title><desc id="{desc_id}">{_e(desc)}</desc>{body}</svg>'
    )


def _frame(top: int, y_max: float, y_ticks: list[float], y_format: Callable[[float], str], y_label: str) -> str:
    """Horizontal grid lines with y labels, the axes and the y axis title."""
    bottom, parts = _H - _BOTTOM, []
    for tick in y_ticks:
        y = bottom - (bottom - top) * tick / y_max
        parts.append(
            f'<line class="grid" x1="{_LEFT}" y1="{y:.1f}" x2="{_W - _RIGHT}" y2="{y:.1f}"/>'
            f'<text class="tick" x="{_LEFT - 6}" y="{y + 3.5:.1f}" text-anchor="end">{_e(y_format(tick))}</text>'
        )
    parts.append(f'<line class="axis" x1="{_LEFT}" y1="{bottom}" x2="{_W - _RIGHT}" y2="{bottom}"/>')
    parts.append(f'<line class="axis" x1="{_LEFT}" y1="{top}" x2="{_LEFT}" y2="{bottom}"/>')
    middle = (top + bottom) / 2
    parts.append(
        f'<text class="axis-label" transform="translate(14 {middle:.1f}) rotate(-90)" '
        f'text-anchor="middle">{_e(y_label)}</text>'
    )
    return "".join(parts)


def _x_label(text: str) -> str:
    x = (_LEFT + _W - _RIGHT) / 2
    return f'<text class="axis-label" x="{x:.1f}" y="{_H - 6}" text-anchor="middle">{_e(text)}</text>'


@dataclass(frozen=True, slots=True)
class _Bins:
    """Equal-width bins in a transformed space (identity, or log10 for latencies)."""

    low: float
    high: float
    count: int
    log: bool = False

    def position(self, value: float) -> float:
        """Where ``value`` falls on the axis, 0 at ``low`` and 1 at ``high`` (clamped)."""
        if self.log:
            value = math.log10(max(value, 10**self.low))
        return min(max((value - self.low) / (self.high - self.low), 0.0), 1.0)

    def edge(self, i: int) -> float:
        raw = self.low + (self.high - self.low) * i / self.count
        return 10**raw if self.log else raw

    def counts(self, values: Sequence[float]) -> list[int]:
        counts = [0] * self.count
        for value in values:
            counts[min(int(self.position(value) * self.count), self.count - 1)] += 1
        return counts


@dataclass(frozen=True, slots=True)
class _Histogram:
    label: str
    color: str
    values: Sequence[float]
    outline: bool = False  # drawn as a step line over the filled series, so both stay readable


def _histogram(
    ids: _Ids,
    title: str,
    *,
    bins: _Bins,
    series: Sequence[_Histogram],
    x_label: str,
    x_ticks: Sequence[tuple[float, str]],
    bin_label: Callable[[int], str],
    reference: tuple[float, str] | None = None,
) -> str:
    """Overlaid histograms over the same bins, counts on the y axis."""
    legend, top = _legend([_Legend(f"{s.label} (n={len(s.values):,})", s.color, bar=not s.outline) for s in series])
    counts = [bins.counts(s.values) for s in series]
    y_max, y_ticks = _y_ticks(max((max(c) for c in counts), default=0))
    body = [legend, _frame(top, y_max, y_ticks, lambda v: f"{v:,.0f}", "comparisons")]
    plot_w, bottom = _W - _LEFT - _RIGHT, _H - _BOTTOM
    bar_w = plot_w / bins.count
    drawn = sorted(zip(series, counts, strict=True), key=lambda pair: pair[0].outline)
    for s, bin_counts in drawn:
        rects, step = [], [f"M{_LEFT:.1f},{bottom:.1f}"]
        for i, count in enumerate(bin_counts):
            height = (bottom - top) * count / y_max
            x = _LEFT + i * bar_w
            step.append(f"V{bottom - height:.1f}H{x + bar_w:.1f}")
            if count == 0:
                continue
            rects.append(
                f'<rect x="{x + 0.5:.1f}" y="{bottom - height:.1f}" width="{max(bar_w - 1, 0.5):.1f}" '
                f'height="{height:.1f}"><title>{_e(s.label)} {_e(bin_label(i))}: {count:,}</title></rect>'
            )
        if s.outline:  # the rects only carry the tooltips
            body.append(
                f'<g fill="{s.color}" fill-opacity="0">{"".join(rects)}</g><path d="{"".join(step)}V{bottom:.1f}" '
                f'fill="none" stroke="{s.color}" stroke-width="1.6"/>'
            )
        else:
            body.append(f'<g fill="{s.color}" fill-opacity="0.75" stroke="{s.color}">{"".join(rects)}</g>')
    for value, label in x_ticks:
        x = _LEFT + plot_w * bins.position(value)
        body.append(
            f'<line class="axis" x1="{x:.1f}" y1="{bottom}" x2="{x:.1f}" y2="{bottom + 4}"/>'
            f'<text class="tick" x="{x:.1f}" y="{bottom + 16}" text-anchor="middle">{_e(label)}</text>'
        )
    if reference is not None:
        x = _LEFT + plot_w * bins.position(reference[0])
        body.append(
            f'<line class="reference" x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{bottom}"/>'
            f'<text class="tick halo" x="{x + 4:.1f}" y="{top + 10}">{_e(reference[1])}</text>'
        )
    body.append(_x_label(x_label))
    desc = f"Histogram over {bins.count} bins of {x_label}. " + " ".join(
        f"{s.label}: {len(s.values):,} values, the fullest bin {bin_label(c.index(max(c)))} holds {max(c):,}."
        for s, c in zip(series, counts, strict=True)
        if s.values
    )
    return _svg(ids, title, desc, "".join(body))


def _similarity_chart(ids: _Ids, candidate: str, color: str, values: list[float]) -> str:
    bins = _Bins(0.0, 1.0, 20)
    return _histogram(
        ids,
        f"Similarity to production — {candidate}",
        bins=bins,
        series=[_Histogram(candidate, color, values)],
        x_label="similarity to the production answer (0 = unrelated, 1 = same)",
        x_ticks=[(v / 5, f"{v / 5:.1f}") for v in range(6)],
        bin_label=lambda i: f"{bins.edge(i):.2f}–{bins.edge(i + 1):.2f}",
    )


def _length_ratio_chart(ids: _Ids, candidate: str, color: str, values: list[float]) -> str:
    bins = _Bins(0.0, 3.0, 30)

    def label(i: int) -> str:
        return "≥ 2.9" if i == bins.count - 1 else f"{bins.edge(i):.1f}–{bins.edge(i + 1):.1f}"

    ticks = [(v / 2, f"{v / 2:g}") for v in range(6)] + [(3.0, "≥3")]
    return _histogram(
        ids,
        f"Length ratio — {candidate}",
        bins=bins,
        series=[_Histogram(candidate, color, values)],
        x_label="candidate length ÷ production length (capped at 3)",
        x_ticks=ticks,
        bin_label=label,
        reference=(1.0, "same length"),
    )


def _latency_chart(ids: _Ids, candidate: str, color: str, production: list[float], own: list[float]) -> str:
    positive = [v for v in (*production, *own) if v > 0] or [1.0]
    low, high = math.log10(min(positive)), math.log10(max(positive))
    if high - low < 0.5:
        low, high = low - 0.25, high + 0.25
    bins = _Bins(low, high + 1e-9, 30, log=True)
    ticks = [
        (base * 10**exp, format_ms(base * 10**exp))
        for exp in range(math.floor(low), math.ceil(high) + 1)
        for base in (1, 2, 5)
        if low <= math.log10(base * 10**exp) <= high
    ]
    if len(ticks) > 7:
        ticks = [t for t in ticks if f"{t[0]:.0e}".startswith("1")] or ticks[::2]
    return _histogram(
        ids,
        f"Latency — production vs {candidate}",
        bins=bins,
        series=[
            _Histogram("production", _PRODUCTION_COLOR, production, outline=True),
            _Histogram(candidate, color, own),
        ],
        x_label="latency (ms, log scale)",
        x_ticks=ticks,
        bin_label=lambda i: f"{format_ms(bins.edge(i))}–{format_ms(bins.edge(i + 1))} ms",
    )


@dataclass(frozen=True, slots=True)
class _Line:
    label: str
    color: str
    dashed: bool
    points: Sequence[tuple[datetime, float | None]]


def _time_ticks(start: datetime, end: datetime) -> list[datetime]:
    hours = max(int((end - start).total_seconds() // 3600), 1)
    step = next((s for s in (1, 2, 3, 4, 6, 8, 12, 24, 48, 72, 168) if hours / s <= 6), 336)
    first = start.replace(minute=0, second=0, microsecond=0)
    while first < start or (step <= 24 and first.hour % step) or (step > 24 and first.hour):
        first += timedelta(hours=1)
    ticks = []
    while first <= end:
        ticks.append(first)
        first += timedelta(hours=step)
    return ticks


def _line_chart(ids: _Ids, title: str, *, metric: str, kind: Kind, y_label: str, lines: Sequence[_Line]) -> str:
    """One line per candidate over hours; a gap of more than one step (or a None) breaks the line."""
    legend, top = _legend([_Legend(line.label, line.color, dashed=line.dashed) for line in lines])
    moments = sorted({moment for line in lines for moment, _ in line.points})
    values = [v for line in lines for _, v in line.points if v is not None]
    scale = 100.0 if kind == "rate" else 1.0
    y_max, y_ticks = _y_ticks(max(values, default=0.0) * scale)
    y_format = (lambda v: f"{v:g}%") if kind == "rate" else (lambda v: f"{v:,.0f}")
    body = [legend, _frame(top, y_max, y_ticks, y_format, y_label)]
    plot_w, bottom = _W - _LEFT - _RIGHT, _H - _BOTTOM
    start, end = moments[0], moments[-1]
    if start == end:
        start, end = start - timedelta(hours=1), end + timedelta(hours=1)
    span = (end - start).total_seconds()
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(moments)]
    step_s = min(gaps, default=3600.0)

    def xy(moment: datetime, value: float) -> tuple[float, float]:
        x = _LEFT + 6 + (plot_w - 12) * (moment - start).total_seconds() / span
        return x, bottom - (bottom - top) * value * scale / y_max

    previous_day = None
    for tick in _time_ticks(start, end):
        x, _ = xy(tick, 0.0)
        day = tick.strftime("%b %d")
        label = f"{tick:%H}:00" + (f" {day}" if day != previous_day else "")
        previous_day = day
        body.append(
            f'<line class="axis" x1="{x:.1f}" y1="{bottom}" x2="{x:.1f}" y2="{bottom + 4}"/>'
            f'<text class="tick" x="{x:.1f}" y="{bottom + 16}" text-anchor="middle">{_e(label)}</text>'
        )
    for line in lines:
        segments: list[list[tuple[float, float]]] = [[]]
        marks = []
        last: datetime | None = None
        for moment, value in sorted(line.points, key=lambda p: p[0]):
            if value is None:
                segments.append([])
                continue
            if last is not None and (moment - last).total_seconds() > 1.5 * step_s:
                segments.append([])
            last = moment
            x, y = xy(moment, value)
            segments[-1].append((x, y))
            marks.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.2"><title>{_e(line.label)} '
                f"{moment:%Y-%m-%d %H:%M} UTC: {_e(format_value(metric, value))}</title></circle>"
            )
        dash = ' stroke-dasharray="5 3"' if line.dashed else ""
        paths = "".join(
            f'<polyline points="{" ".join(f"{x:.1f},{y:.1f}" for x, y in seg)}"/>' for seg in segments if len(seg) > 1
        )
        body.append(
            f'<g class="series" stroke="{line.color}" fill="none" stroke-width="2"{dash}>{paths}</g>'
            f'<g fill="{line.color}">{"".join(marks)}</g>'
        )
    if not values:
        middle = (top + bottom) / 2
        body.append(f'<text class="tick" x="{_W / 2}" y="{middle:.1f}" text-anchor="middle">no values</text>')
    body.append(_x_label("hour (UTC)"))
    desc = f"{title} per hour from {moments[0]:%Y-%m-%d %H:%M} to {moments[-1]:%Y-%m-%d %H:%M} UTC. " + " ".join(
        f"{line.label}: from {format_value(metric, min(vals))} to {format_value(metric, max(vals))}."
        for line in lines
        if (vals := [v for _, v in line.points if v is not None])
    )
    return _svg(ids, title, desc, "".join(body))


# --- word-level diff ------------------------------------------------------------------------------

# CJK scripts have no spaces between words, so each of their characters is a token of its own.
_CJK = "\u2e80-\u2fdf\u3000-\u303f\u3040-\u30ff\u3100-\u31ff\u3200-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef"
_TOKEN = re.compile(rf"(\s*)([{_CJK}]|[^\W{_CJK}]+|[^\w\s])")


def _tokens(text: str, limit: int) -> tuple[list[tuple[str, str]], str, bool]:
    """``(leading whitespace, token)`` pairs covering at most ``limit`` characters, the trailing
    whitespace, and whether the text was cut."""
    tokens: list[tuple[str, str]] = []
    used = 0
    end = 0
    for match in _TOKEN.finditer(text):
        space, token = match.group(1), match.group(2)
        if used + len(space) + len(token) > limit:
            room = limit - used - len(space)
            if room > 0 and not tokens:  # one giant token: show its start rather than nothing
                tokens.append((space, token[:room]))
            return tokens, "", True
        tokens.append((space, token))
        used += len(space) + len(token)
        end = match.end()
    return tokens, text[end:], False


def _marked(tokens: Sequence[tuple[str, str]], tag: str) -> str:
    """Tokens inside one ``<del>``/``<ins>``, keeping the first token's leading space outside."""
    if not tokens:
        return ""
    inner = tokens[0][1] + "".join(space + token for space, token in tokens[1:])
    return f"{_e(tokens[0][0])}<{tag}>{_e(inner)}</{tag}>"


def _plain(tokens: Sequence[tuple[str, str]]) -> str:
    return _e("".join(space + token for space, token in tokens))


def _diff_html(production: str, candidate: str, limit: int = TEXT_LIMIT_CHARS) -> tuple[str, str, str, str]:
    """Both texts as escaped HTML with deleted words in ``<del>`` (production side) and inserted
    words in ``<ins>`` (candidate side), plus a truncation note per side ("" when shown whole)."""
    a, a_tail, a_cut = _tokens(production, limit)
    b, b_tail, b_cut = _tokens(candidate, limit)
    matcher = difflib.SequenceMatcher(None, [t for _, t in a], [t for _, t in b], autojunk=False)
    left, right = [], []
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            left.append(_plain(a[i1:i2]))
            right.append(_plain(b[j1:j2]))
        else:
            left.append(_marked(a[i1:i2], "del"))
            right.append(_marked(b[j1:j2], "ins"))
    left.append(_e(a_tail))
    right.append(_e(b_tail))
    return "".join(left), "".join(right), _cut_note(production, a, a_cut), _cut_note(candidate, b, b_cut)


def _cut_note(text: str, tokens: Sequence[tuple[str, str]], cut: bool) -> str:
    if not cut:
        return ""
    shown = sum(len(space) + len(token) for space, token in tokens)
    return f"Truncated: showing the first {shown:,} of {len(text):,} characters."


# --- sections -----------------------------------------------------------------------------------

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
.outcome.inconclusive{color:var(--hold)}.outcome.insufficient{color:var(--muted)}
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


def _header(data: Mapping[str, Any]) -> str:
    window = data.get("window")
    start, end = (window.get("from"), window.get("to")) if isinstance(window, Mapping) else (None, None)
    shown = "all time" if not start and not end else f"{_time(start, 'the beginning')} → {_time(end, 'now')}"
    return (
        f"<header><h1>{_e(data.get('title') or 'shadow report')}</h1>"
        f'<p class="meta">Window: {shown} · Generated {_time(data.get("generated_at"), "at an unknown time")}</p>'
        '<nav aria-label="Sections"><a href="#gate">Gate</a><a href="#scorecard">Scorecard</a>'
        '<a href="#distributions">Distributions</a><a href="#over-time">Over time</a>'
        '<a href="#worst">Worst examples</a></nav></header>'
    )


def _gate_section(data: Mapping[str, Any], colors: Mapping[str, str]) -> str:
    results = _rows(data.get("gate"))
    if not results:
        return _empty("No gate results in this window.")
    cards = []
    for result in results:
        verdict = _text(result.get("verdict"))
        css = verdict if verdict in _VERDICT_COLORS else "unknown"
        rows = []
        for rule in _rows(result.get("rules")):
            metric = _text(rule.get("metric"))
            outcome = _text(rule.get("outcome"))
            # Gate estimates are regressions or the candidate's own value: their unit says how to show them.
            unit_kind = _UNIT_KINDS.get(_text(rule.get("unit")), _kind_of(metric))
            interval = rule.get("interval")
            bounds = interval if isinstance(interval, list | tuple) and len(interval) == 2 else None
            interval_text = (
                f"[{_FORMATTERS[unit_kind](bounds[0])}, {_FORMATTERS[unit_kind](bounds[1])}]" if bounds else NONE_TEXT
            )
            interval_raw = json.dumps([_raw(b) for b in bounds]) if bounds else "null"
            rows.append(
                f'<tr class="{_e(outcome if outcome in _OUTCOME_CLASSES else "")}" data-rule="{_e(rule.get("name"))}">'
                f"<td>{_e(rule.get('name'))}</td><td><code>{_e(metric)}</code></td><td>{_e(rule.get('against'))}</td>"
                f'<td><span class="outcome {_e(outcome)}">{_e(outcome)}</span></td>'
                f"{_num(rule.get('estimate'), metric, unit_kind)}"
                f'<td class="num" data-metric="interval" data-value="{_e(interval_raw)}">{_e(interval_text)}</td>'
                f'<td class="threshold">{_e(rule.get("threshold"))}</td>{_num(rule.get("n"), "n", "count")}'
                f'<td class="reason">{_e(rule.get("reason"))}</td></tr>'
            )
        table = (
            '<div class="scroll"><table><thead><tr><th>rule</th><th>metric</th><th>against</th><th>outcome</th>'
            '<th class="num">estimate</th><th class="num">interval</th><th>threshold</th><th class="num">n</th>'
            f"<th>reason</th></tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
            if rows
            else _empty("No rules were evaluated.")
        )
        name = _text(result.get("candidate"))
        swatch = f'<span class="swatch" style="background:{colors.get(name, _CONTROL_COLOR)}"></span>'
        cards.append(
            f'<article class="card {css}" data-candidate="{_e(name)}"><header><h3>{swatch}{_e(name)}</h3>'
            f'<span class="verdict {css}" data-verdict="{_e(verdict)}">{_e(verdict or "no verdict")}</span>'
            f'<span class="score">score {_num(result.get("score"), "score", "number", tag="span")}</span>'
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


def _scorecard_section(data: Mapping[str, Any], colors: Mapping[str, str]) -> str:
    rows = _rows(data.get("candidates"))
    if not rows:
        return _empty()
    control = next((r for r in rows if r.get("role") == "control"), None)
    intro = (
        f'<p class="meta">Grey rows are controls. Under each candidate figure, “ctrl” is the value of the '
        f"control <b>{_e(control.get('candidate'))}</b> for comparison.</p>"
        if control is not None
        else ""
    )
    tables = []
    for caption, columns in _SCORECARD:
        head = "".join(f'<th class="num" title="{_e(key)}">{_e(label)}</th>' for key, label in columns)
        body = []
        for row in rows:
            name = _text(row.get("candidate"))
            is_control = row.get("role") == "control"
            cells = []
            for key, _ in columns:
                hint = ""
                if control is not None and not is_control:
                    hint = f'<span class="vs">ctrl {_e(format_value(key, control.get(key)))}</span>'
                cells.append(_num(row.get(key), key, extra=hint))
            tag = '<span class="tag">control</span>' if is_control else ""
            swatch = f'<span class="swatch" style="background:{colors.get(name, _CONTROL_COLOR)}"></span>'
            body.append(
                f'<tr class="{"control" if is_control else "candidate"}" data-candidate="{_e(name)}" '
                f'data-role="{_e(row.get("role"))}"><th scope="row">{swatch}{_e(name)}{tag}</th>{"".join(cells)}</tr>'
            )
        tables.append(
            f'<div class="scroll"><table class="scorecard" aria-label="{_e(caption)}">'
            f"<thead><tr><th>{_e(caption)}</th>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></div>"
        )
    return intro + "".join(tables)


def _ordered_names(data: Mapping[str, Any], extra: Sequence[str]) -> list[str]:
    """Candidates in scorecard order, then any others in the order they appear."""
    names = [_text(r.get("candidate")) for r in _rows(data.get("candidates"))]
    return list(dict.fromkeys([*names, *extra]))


def _distributions_section(data: Mapping[str, Any], colors: Mapping[str, str], ids: _Ids) -> str:
    raw = data.get("distributions")
    distributions = raw if isinstance(raw, Mapping) else {}
    names = [n for n in _ordered_names(data, [str(k) for k in distributions]) if n in distributions]
    blocks = []
    for name in names:
        lists = distributions[name] if isinstance(distributions[name], Mapping) else {}
        similarity, ratio = _floats(lists.get("similarity")), _floats(lists.get("length_ratio"))
        production = _floats(lists.get("production_latency_ms"))
        own = _floats(lists.get("candidate_latency_ms"))
        if not (similarity or ratio or production or own):
            continue
        color = colors.get(name, _PALETTE[0])
        figures = [
            ("Similarity", _similarity_chart(ids, name, color, similarity) if similarity else ""),
            ("Length ratio", _length_ratio_chart(ids, name, color, ratio) if ratio else ""),
            ("Latency", _latency_chart(ids, name, color, production, own) if production or own else ""),
        ]
        cells = "".join(
            f"<figure><figcaption>{_e(label)}</figcaption>{svg or _empty('No values.')}</figure>"
            for label, svg in figures
        )
        blocks.append(f'<h3 data-candidate="{_e(name)}">{_e(name)}</h3><div class="charts">{cells}</div>')
    return "".join(blocks) or _empty()


_TIMESERIES: tuple[tuple[str, str, Kind, str], ...] = (
    ("compared", "Comparisons", "count", "comparisons per hour"),
    ("error_rate", "Error rate", "rate", "% of compared"),
    ("json_broken_rate", "JSON broken rate", "rate", "% of compared"),
    ("tool_args_mismatch_rate", "Tool-argument mismatch rate", "rate", "% of compared"),
    ("refusal_rate", "Refusal rate", "rate", "% of compared"),
    ("candidate_latency_p95_ms", "Candidate latency p95", "ms", "ms"),
)


def _timeseries_section(data: Mapping[str, Any], colors: Mapping[str, str], ids: _Ids) -> str:
    rows = [(moment, r) for r in _rows(data.get("timeseries")) if (moment := _parse_time(r.get("hour")))]
    if not rows:
        return _empty()
    skipped = len(_rows(data.get("timeseries"))) - len(rows)
    controls = {_text(r.get("candidate")) for r in _rows(data.get("candidates")) if r.get("role") == "control"}
    present = {_text(r.get("candidate")) for _, r in rows}
    names = [n for n in _ordered_names(data, sorted(present)) if n in present]
    figures = []
    for metric, title, kind, y_label in _TIMESERIES:
        lines = [
            _Line(
                name,
                colors.get(name, _PALETTE[0]),
                name in controls,
                [(moment, _finite(r.get(metric))) for moment, r in rows if _text(r.get("candidate")) == name],
            )
            for name in names
        ]
        chart = _line_chart(ids, title, metric=metric, kind=kind, y_label=y_label, lines=lines)
        figures.append(f"<figure><figcaption>{_e(title)}</figcaption>{chart}</figure>")
    note = f'<p class="note">{skipped:,} rows with an unreadable hour were left out.</p>' if skipped else ""
    return f'<div class="charts">{"".join(figures)}</div>{note}'


def _paths(label: str, paths: Any) -> str:
    items = [p for p in paths if isinstance(p, str)] if isinstance(paths, list) else []
    if not items:
        return f"<div><b>{_e(label)}</b>: none</div>"
    return f"<div><b>{_e(label)}</b><ul>{''.join(f'<li><code>{_e(p)}</code></li>' for p in items)}</ul></div>"


def _sides(production: str, candidate: str, css: str, tag: str) -> str:
    left, right, left_note, right_note = _diff_html(production, candidate)
    columns = []
    for side, marked, note in (("production", left, left_note), ("candidate", right, right_note)):
        note_html = f'<p class="note">{_e(note)}</p>' if note else ""
        shown = marked or '<span class="none">(empty)</span>'
        columns.append(f'<div class="side {side}"><h4>{side}</h4><{tag} class="{css}">{shown}</{tag}>{note_html}</div>')
    return f'<div class="sides">{"".join(columns)}</div>'


def _worst_section(data: Mapping[str, Any], colors: Mapping[str, str]) -> str:
    examples = _rows(data.get("worst"))
    if not examples:
        return _empty()
    articles = []
    for example in examples:
        name = _text(example.get("candidate"))
        swatch = f'<span class="swatch" style="background:{colors.get(name, _PALETTE[0])}"></span>'
        header = (
            f"<header><span>{swatch}<b>{_e(name)}</b></span><span>workflow <b>{_e(example.get('workflow'))}</b></span>"
            f"<span>event <code>{_e(example.get('event_id'))}</code></span>"
            f"<span>similarity <b>{_num(example.get('similarity'), 'similarity', 'number', tag='span')}</b></span>"
            f"<span>reason <b>{_e(example.get('reason'))}</b></span></header>"
        )
        production_text, candidate_text = _text(example.get("production_text")), _text(example.get("candidate_text"))
        texts = _sides(production_text, candidate_text, "text", "div") if production_text or candidate_text else ""
        production_calls = _text(example.get("production_tool_calls"))
        candidate_calls = _text(example.get("candidate_tool_calls"))
        calls = (
            f'<h4 class="calls">tool calls</h4>{_sides(production_calls, candidate_calls, "text", "pre")}'
            if production_calls or candidate_calls
            else ""
        )
        paths = (
            f'<div class="paths">{_paths("JSON paths that differ", example.get("json_diff_paths"))}'
            f"{_paths('tool-call paths that differ', example.get('tool_diff_paths'))}</div>"
        )
        if not (texts or calls):
            texts = _empty("Both answers are empty.")
        articles.append(
            f'<article class="example" data-candidate="{_e(name)}" data-event-id="{_e(example.get("event_id"))}">'
            f"{header}{texts}{calls}{paths}</article>"
        )
    legend = (
        '<p class="meta">Words only in the production answer are <del>struck through</del>; '
        "words only in the candidate answer are <ins>highlighted</ins>.</p>"
    )
    return legend + "".join(articles)


def _has_data(data: Mapping[str, Any]) -> bool:
    distributions = data.get("distributions")
    return bool(
        _rows(data.get("candidates"))
        or _rows(data.get("gate"))
        or _rows(data.get("timeseries"))
        or _rows(data.get("worst"))
        or (isinstance(distributions, Mapping) and distributions)
    )


def render_report(data: Mapping[str, Any]) -> str:
    """Render the report as one self-contained HTML document.

    Args:
        data: the report data, shaped as the module docstring describes. Missing keys, empty
            lists and None numbers are fine: sections without data say so.

    Returns:
        The complete HTML document (UTF-8 text, no external references, no script).
    """
    ids = _Ids()
    colors = _colors(data)
    banner = "" if _has_data(data) else '<p class="empty banner">No data in this window.</p>'
    sections = (
        ("gate", "Gate verdicts", _gate_section(data, colors)),
        ("scorecard", "Scorecard", _scorecard_section(data, colors)),
        ("distributions", "Distributions", _distributions_section(data, colors, ids)),
        ("over-time", "Over time", _timeseries_section(data, colors, ids)),
        ("worst", "Worst examples", _worst_section(data, colors)),
    )
    body = "".join(
        f'<section id="{anchor}" aria-labelledby="{anchor}-h"><h2 id="{anchor}-h">{_e(heading)}</h2>{html}</section>'
        for anchor, heading, html in sections
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{_e(_CSP)}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta name="generator" content="shadow report"><title>{_e(data.get("title") or "shadow report")}</title>'
        f"<style>{_STYLE}</style></head><body>{_header(data)}{banner}<main>{body}</main></body></html>\n"
    )
