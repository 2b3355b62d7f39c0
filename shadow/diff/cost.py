"""Cost family: USD per request from token usage and a price table."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from shadow.events.output import Usage


@dataclass(frozen=True, slots=True)
class Price:
    """USD per million input and output tokens."""

    input_per_mtok: float
    output_per_mtok: float


def request_cost_usd(usage: Usage, model: str | None, prices: Mapping[str, Price]) -> float | None:
    """Cost of one request; None when the model has no price or usage is unknown.

    A model is looked up by its exact name, then by the longest configured name it
    starts with (``gpt-4o`` prices ``gpt-4o-2024-08-06``). The cost is always a finite,
    non-negative number or None: negative counts (which the wire parser already refuses, but
    stored rows re-scored may hold) and results that overflow are unknown, not wrong.
    """
    if model is None or usage.input_tokens is None or usage.output_tokens is None:
        return None
    if usage.input_tokens < 0 or usage.output_tokens < 0:
        return None
    price = prices.get(model)
    if price is None:
        prefixes = [name for name in prices if model.startswith(name)]
        if not prefixes:
            return None
        price = prices[max(prefixes, key=len)]
    try:
        cost = (usage.input_tokens * price.input_per_mtok + usage.output_tokens * price.output_per_mtok) / 1_000_000
    except OverflowError:  # an int too large to become a float
        return None
    return cost if math.isfinite(cost) and cost >= 0 else None
