"""How the read side writes its figures: one vocabulary for ``shadow summary`` and ``shadow report``.

Every formatter takes any value and returns text: None, NaN, ±inf, bools and non-numbers are
``–`` (en dash), and a value that rounds to zero never shows a minus sign. The two surfaces differ
on purpose in two places, kept as parameters or separate functions rather than forked copies:

- scores, similarity and ratios: three decimals in the HTML report, two in the terminal
  (``format_number(v, digits=2)``);
- costs: the report shows dollars per request with three significant digits (``format_cost``),
  the terminal dollars per 1,000 requests with two decimals (``format_usd_per_1k``).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from decimal import Decimal
from typing import Any, Literal

__all__ = [
    "NONE_TEXT",
    "Kind",
    "finite",
    "format_change",
    "format_cost",
    "format_count",
    "format_kind",
    "format_ms",
    "format_number",
    "format_rate",
    "format_usd_per_1k",
    "format_value",
    "kind_of",
]

NONE_TEXT = "–"

Kind = Literal["count", "rate", "number", "ms", "usd"]


def finite(value: Any) -> float | None:
    """A finite float, or None for None, NaN, ±inf, bools and anything that is not a number."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real | Decimal):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _no_negative_zero(text: str) -> str:
    return text[1:] if text.startswith("-") and not text.strip("-0.,%$") else text


def format_rate(value: Any) -> str:
    """A fraction as a percentage with one decimal: ``0.1234`` → ``12.3%``; None → ``–``."""
    number = finite(value)
    return NONE_TEXT if number is None else _no_negative_zero(f"{100 * number:.1f}%")


def format_ms(value: Any) -> str:
    """Milliseconds as an integer with thousands separators: ``1234.4`` → ``1,234``; None → ``–``."""
    number = finite(value)
    return NONE_TEXT if number is None else _no_negative_zero(f"{number:,.0f}")


def format_cost(value: Any) -> str:
    """US dollars with three significant digits and no exponent: ``0.0012345`` → ``$0.00123``."""
    number = finite(value)
    if number is None:
        return NONE_TEXT
    rounded = float(f"{abs(number):.3g}")
    if rounded == 0:
        return "$0"
    decimals = max(0, 2 - math.floor(math.log10(rounded)))
    return f"{'-' if number < 0 else ''}${rounded:,.{decimals}f}"


def format_usd_per_1k(value: Any) -> str:
    """US dollars per 1,000 requests from dollars per request, two decimals: ``0.00229`` → ``2.29``."""
    number = finite(value)
    return NONE_TEXT if number is None else _no_negative_zero(f"{1000 * number:.2f}")


def format_count(value: Any) -> str:
    """A count with thousands separators: ``12345`` → ``12,345``; None → ``–``."""
    number = finite(value)
    return NONE_TEXT if number is None else _no_negative_zero(f"{number:,.0f}")


def format_number(value: Any, digits: int = 3) -> str:
    """Scores, similarity, F1 and ratios with ``digits`` decimals: ``0.87349`` → ``0.873``; None → ``–``."""
    number = finite(value)
    return NONE_TEXT if number is None else _no_negative_zero(f"{number:.{digits}f}")


def format_change(value: Any) -> str:
    """A relative change as a signed whole percentage: ``0.071`` → ``+7%``, ``-0.001`` → ``-0%``.

    The sign is kept on a change that rounds to zero: it still says which way the figure moved.
    """
    number = finite(value)
    return NONE_TEXT if number is None else f"{100 * number:+.0f}%"


_FORMATTERS: dict[Kind, Callable[[Any], str]] = {
    "count": format_count,
    "rate": format_rate,
    "number": format_number,
    "ms": format_ms,
    "usd": format_cost,
}


def format_kind(kind: Kind, value: Any) -> str:
    """Format ``value`` as a figure of ``kind`` (the report's formatting)."""
    return _FORMATTERS[kind](value)


def kind_of(metric: str) -> Kind:
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
    return format_kind(kind_of(metric), value)
