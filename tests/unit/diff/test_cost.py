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


@pytest.mark.parametrize(
    "usage",
    [
        pytest.param(Usage(-1_000_000, 5), id="negative-input"),
        pytest.param(Usage(5, -1), id="negative-output"),
        pytest.param(Usage(10**400, 5), id="too-large-for-a-float"),
        pytest.param(Usage(10**308, 10**308), id="overflows-to-inf"),
    ],
)
def test_cost_is_never_negative_or_infinite(usage: Usage) -> None:
    # Stored rows re-scored by `shadow rescore` do not pass through the wire parser's checks.
    assert request_cost_usd(usage, "gpt-4o", {"gpt-4o": Price(2.5, 10.0)}) is None


@pytest.mark.parametrize("price", [Price(float("inf"), 1.0), Price(-2.5, 10.0), Price(float("nan"), 1.0)])
def test_cost_with_an_unusable_price_is_unknown(price: Price) -> None:
    assert request_cost_usd(Usage(1000, 100), "gpt-4o", {"gpt-4o": price}) is None


def test_cost_of_the_largest_believed_counts_is_finite() -> None:
    from shadow.events.wire import MAX_TOKENS_PER_CALL

    cost = request_cost_usd(Usage(MAX_TOKENS_PER_CALL, MAX_TOKENS_PER_CALL), "o1-pro", {"o1-pro": Price(150, 600)})
    assert cost == pytest.approx(7500.0)
