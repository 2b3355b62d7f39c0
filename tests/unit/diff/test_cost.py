"""Request cost from token usage and per-model prices."""

from __future__ import annotations

import pytest

from shadow.diff.cost import Price, request_cost_usd
from shadow.events.output import Usage


def test_cost_uses_exact_then_prefix_prices() -> None:
    prices = {"gpt-4o": Price(2.5, 10.0), "gpt-4o-mini": Price(0.15, 0.6)}
    assert request_cost_usd(Usage(1000, 100), "gpt-4o-2024-08-06", prices) == pytest.approx(0.0035)
    assert request_cost_usd(Usage(1000, 100), "gpt-4o-mini-2024-07-18", prices) == pytest.approx(0.00021)
    assert request_cost_usd(Usage(1000, 100), "claude-3", prices) is None
    assert request_cost_usd(Usage(None, 100), "gpt-4o", prices) is None
