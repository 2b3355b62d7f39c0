"""The loop watch's lag history against a slow oracle that looks at every tick.

Ticks are generated as the watch makes them: in time order, each due no earlier than the one
before it ran, late by some amount. Times are whole milliseconds, so the sums are exact and the
answers compared with ``==``.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from shadow.loopwatch import LagHistory

SETTINGS = settings(max_examples=300, deadline=None)

# (gap after the previous tick ran until this one is due, how late it ran), in ms.
ticks = st.lists(st.tuples(st.integers(0, 100), st.integers(0, 400)), max_size=60)


def timeline(gaps_and_lags: list[tuple[int, int]]) -> list[tuple[float, float]]:
    """(due, ran) of each tick."""
    out, ran = [], 0.0
    for gap, lag in gaps_and_lags:
        due = ran + gap
        ran = due + lag
        out.append((due, ran))
    return out


def oracle(ticks: list[tuple[float, float]], start: float) -> float:
    """The longest part after ``start`` of any tick's stall, looking at every tick."""
    return max([ran - max(due, start) for due, ran in ticks if ran >= start], default=0.0)


@SETTINGS
@given(ticks, st.data())
def test_the_worst_since_a_time_is_what_every_tick_says(gaps_and_lags, data) -> None:
    spans = timeline(gaps_and_lags)
    history = LagHistory()
    for due, ran in spans:
        history.add(ran, ran - due)
    end = spans[-1][1] if spans else 0.0
    for start in data.draw(st.lists(st.integers(-10, int(end) + 10), min_size=1, max_size=10)):
        assert history.worst_since(start) == oracle(spans, start)


@SETTINGS
@given(ticks, st.integers(1, 4), st.data())
def test_a_capped_history_never_says_less_than_every_tick(gaps_and_lags, max_kept, data) -> None:
    spans = timeline(gaps_and_lags)
    history = LagHistory(max_kept=max_kept)
    for due, ran in spans:
        history.add(ran, ran - due)
        assert len(history) <= max_kept
    end = spans[-1][1] if spans else 0.0
    for start in data.draw(st.lists(st.integers(-10, int(end) + 10), min_size=1, max_size=10)):
        assert history.worst_since(start) >= oracle(spans, start)
