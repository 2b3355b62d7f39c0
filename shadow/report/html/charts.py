"""The report's charts as inline SVG: overlaid histograms and hourly line charts, drawn without a library.

Each chart is an accessible ``<svg role="img">`` with a ``<title>``, a ``<desc>`` summarising what it
shows, axis titles and a legend. Distributions are binned here, so a chart's size does not grow
with the number of values.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from shadow.report.formatting import Kind, format_ms, format_value
from shadow.report.html.markup import PRODUCTION_COLOR, Ids, esc

__all__ = ["Line", "latency_chart", "length_ratio_chart", "line_chart", "similarity_chart"]

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
        parts.append(f'{mark}<text x="{x + 20:.1f}" y="{y + 1}">{esc(item.label)}</text>')
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


def _svg(ids: Ids, title: str, desc: str, body: str) -> str:
    title_id, desc_id = ids.new("chart-title-"), ids.new("chart-desc-")
    return (
        f'<svg viewBox="0 0 {_W} {_H}" role="img" '
        f'aria-label="{esc(title)}" aria-labelledby="{title_id}" aria-describedby="{desc_id}">'
        f'<title id="{title_id}">{esc(title)}</title><desc id="{desc_id}">{esc(desc)}</desc>{body}</svg>'
    )


def _frame(top: int, y_max: float, y_ticks: list[float], y_format: Callable[[float], str], y_label: str) -> str:
    """Horizontal grid lines with y labels, the axes and the y axis title."""
    bottom, parts = _H - _BOTTOM, []
    for tick in y_ticks:
        y = bottom - (bottom - top) * tick / y_max
        parts.append(
            f'<line class="grid" x1="{_LEFT}" y1="{y:.1f}" x2="{_W - _RIGHT}" y2="{y:.1f}"/>'
            f'<text class="tick" x="{_LEFT - 6}" y="{y + 3.5:.1f}" text-anchor="end">{esc(y_format(tick))}</text>'
        )
    parts.append(f'<line class="axis" x1="{_LEFT}" y1="{bottom}" x2="{_W - _RIGHT}" y2="{bottom}"/>')
    parts.append(f'<line class="axis" x1="{_LEFT}" y1="{top}" x2="{_LEFT}" y2="{bottom}"/>')
    middle = (top + bottom) / 2
    parts.append(
        f'<text class="axis-label" transform="translate(14 {middle:.1f}) rotate(-90)" '
        f'text-anchor="middle">{esc(y_label)}</text>'
    )
    return "".join(parts)


def _x_label(text: str) -> str:
    x = (_LEFT + _W - _RIGHT) / 2
    return f'<text class="axis-label" x="{x:.1f}" y="{_H - 6}" text-anchor="middle">{esc(text)}</text>'


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
    ids: Ids,
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
                f'height="{height:.1f}"><title>{esc(s.label)} {esc(bin_label(i))}: {count:,}</title></rect>'
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
            f'<text class="tick" x="{x:.1f}" y="{bottom + 16}" text-anchor="middle">{esc(label)}</text>'
        )
    if reference is not None:
        x = _LEFT + plot_w * bins.position(reference[0])
        body.append(
            f'<line class="reference" x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{bottom}"/>'
            f'<text class="tick halo" x="{x + 4:.1f}" y="{top + 10}">{esc(reference[1])}</text>'
        )
    body.append(_x_label(x_label))
    desc = f"Histogram over {bins.count} bins of {x_label}. " + " ".join(
        f"{s.label}: {len(s.values):,} values, the fullest bin {bin_label(c.index(max(c)))} holds {max(c):,}."
        for s, c in zip(series, counts, strict=True)
        if s.values
    )
    return _svg(ids, title, desc, "".join(body))


def similarity_chart(ids: Ids, candidate: str, color: str, values: list[float]) -> str:
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


def length_ratio_chart(ids: Ids, candidate: str, color: str, values: list[float]) -> str:
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


def latency_chart(ids: Ids, candidate: str, color: str, production: list[float], own: list[float]) -> str:
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
            _Histogram("production", PRODUCTION_COLOR, production, outline=True),
            _Histogram(candidate, color, own),
        ],
        x_label="latency (ms, log scale)",
        x_ticks=ticks,
        bin_label=lambda i: f"{format_ms(bins.edge(i))}–{format_ms(bins.edge(i + 1))} ms",
    )


@dataclass(frozen=True, slots=True)
class Line:
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


def line_chart(ids: Ids, title: str, *, metric: str, kind: Kind, y_label: str, lines: Sequence[Line]) -> str:
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
            f'<text class="tick" x="{x:.1f}" y="{bottom + 16}" text-anchor="middle">{esc(label)}</text>'
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
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.2"><title>{esc(line.label)} '
                f"{moment:%Y-%m-%d %H:%M} UTC: {esc(format_value(metric, value))}</title></circle>"
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
