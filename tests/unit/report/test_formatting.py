"""The read side's one formatting vocabulary: the figures as the report and the terminal show them."""

from __future__ import annotations

import math
from collections.abc import Callable
from decimal import Decimal
from functools import partial
from typing import Any

import pytest

import shadow.report.html as html
from shadow.report.formatting import (
    format_change,
    format_cost,
    format_count,
    format_ms,
    format_number,
    format_rate,
    format_usd_per_1k,
    format_value,
)


@pytest.mark.parametrize(
    ("formatter", "value", "shown"),
    [
        (format_rate, 0.1234, "12.3%"),
        (format_rate, 1, "100.0%"),
        (format_rate, -0.00001, "0.0%"),
        (format_rate, None, "–"),
        (format_rate, math.nan, "–"),
        (format_ms, 1234.4, "1,234"),
        (format_ms, 0.4, "0"),
        (format_cost, 0.0012345, "$0.00123"),
        (format_cost, 0.000999951, "$0.00100"),
        (format_cost, 1.5, "$1.50"),
        (format_cost, 1234.0, "$1,230"),
        (format_cost, 0, "$0"),
        (format_count, 12345, "12,345"),
        (format_number, 0.87349, "0.873"),
        (format_number, math.inf, "–"),
        # The terminal's figures (shadow summary): two decimals, dollars per 1,000 requests, signed changes.
        (partial(format_number, digits=2), 0.87349, "0.87"),
        (format_usd_per_1k, 0.0022951739, "2.30"),
        (format_usd_per_1k, None, "–"),
        (format_change, 0.14103, "+14%"),
        (format_change, -0.0000947, "-0%"),
        (format_change, 0.004, "+0%"),
        (format_change, None, "–"),
        # Whatever the value's type, only real numbers are figures.
        (format_rate, Decimal("0.5"), "50.0%"),
        (format_count, True, "–"),
        (format_ms, "1200", "–"),
    ],
)
def test_formatting_is_stable(formatter: Callable[[Any], str], value: Any, shown: str) -> None:
    assert formatter(value) == shown


@pytest.mark.parametrize(
    ("metric", "value", "shown"),
    [
        ("error_rate", 0.0123, "1.2%"),
        ("tool_args_agreement", 0.5, "50.0%"),
        ("candidate_latency_p95_ms", 2140.2, "2,140"),
        ("candidate_cost_per_request_usd", 0.000687, "$0.000687"),
        ("compared", 4812, "4,812"),
        ("similarity_p50", 0.66181, "0.662"),
    ],
)
def test_a_metric_is_formatted_by_its_name(metric: str, value: Any, shown: str) -> None:
    assert format_value(metric, value) == shown


def test_the_report_shows_the_same_vocabulary() -> None:
    assert html.format_rate is format_rate and html.format_cost is format_cost and html.format_value is format_value
