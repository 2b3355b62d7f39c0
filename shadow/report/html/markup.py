"""Small HTML pieces shared by the report's charts and sections: escaping, number cells, times, colours."""

from __future__ import annotations

import json
from datetime import datetime
from html import escape
from typing import Any

from shadow.report.formatting import Kind, finite, format_kind, kind_of
from shadow.report.html.model import ReportData, to_utc

# Okabe–Ito, minus yellow (unreadable on white); controls are drawn grey and dashed.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")
CONTROL_COLORS = ("#6e7781", "#a8b1bb", "#3d444d")
CONTROL_COLOR = CONTROL_COLORS[0]
PRODUCTION_COLOR = "#24292f"


def esc(value: Any) -> str:
    """Text escaped for element content and quoted attributes; None is empty."""
    return escape("" if value is None else str(value), quote=True)


def raw_value(value: Any) -> int | float | None:
    """The value as it goes into ``data-value``: ints stay ints, other numbers become floats."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return finite(value)


def num(value: Any, metric: str, kind: Kind | None = None, tag: str = "td", extra: str = "") -> str:
    """A number element with its raw value in ``data-value`` and its key in ``data-metric``."""
    text = format_kind(kind or kind_of(metric), value)
    raw = json.dumps(raw_value(value))
    return f'<{tag} class="num" data-metric="{esc(metric)}" data-value="{esc(raw)}">{esc(text)}{extra}</{tag}>'


def time_element(moment: datetime | None, missing: str) -> str:
    """A ``<time>`` element showing UTC minutes (naive = UTC), or ``missing`` as text."""
    if moment is None:
        return esc(missing)
    shown = to_utc(moment).strftime("%Y-%m-%d %H:%M UTC")
    return f'<time datetime="{esc(moment.isoformat())}">{esc(shown)}</time>'


def empty(message: str = "No data in this window.") -> str:
    return f'<p class="empty">{esc(message)}</p>'


def swatch(color: str) -> str:
    return f'<span class="swatch" style="background:{color}"></span>'


class Ids:
    """Unique element ids within one report (SVG ``<title>``/``<desc>`` need them for ARIA)."""

    def __init__(self) -> None:
        self._next = 0

    def new(self, prefix: str) -> str:
        self._next += 1
        return f"{prefix}{self._next}"


def candidate_colors(data: ReportData) -> dict[str, str]:
    """One colour per candidate name, stable across every chart: controls grey, others Okabe–Ito."""
    controls = data.controls
    names = [
        *(row.candidate for row in data.candidates),
        *(result.candidate for result in data.gate),
        *(row.candidate for row in data.timeseries),
        *(example.candidate for example in data.worst),
        *data.distributions,
    ]
    colors: dict[str, str] = {}
    seen_controls = seen_candidates = 0
    for name in dict.fromkeys(names):
        if name in controls:
            colors[name] = CONTROL_COLORS[seen_controls % len(CONTROL_COLORS)]
            seen_controls += 1
        else:
            colors[name] = PALETTE[seen_candidates % len(PALETTE)]
            seen_candidates += 1
    return colors


def ordered_names(data: ReportData, extra: list[str]) -> list[str]:
    """Candidates in scorecard order, then any others in the order they appear."""
    return list(dict.fromkeys([*(row.candidate for row in data.candidates), *extra]))
