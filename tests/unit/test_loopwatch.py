"""The event loop watch: a blocking call on the loop shows as a stall, in the figures and the metrics.

Each test blocks the loop on purpose (``time.sleep`` inside a coroutine, the kind of mistake the
watch exists to catch) and asserts on what the watch measured; without the block the figures stay
near zero, so none of these can pass by accident.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import threading
import time

import httpx
import pytest

from shadow.events.memory import ListSource
from shadow.loopwatch import LagHistory, LoopWatch, current_watch
from shadow.metrics import REGISTRY
from tests.unit.test_pipeline import answer_at_once, build, events, settings, until

pytestmark = pytest.mark.timeout(30)

BLOCK_S = 0.35  # the loop held this long; the watch wakes at most one 50 ms interval into it


def stalls_over(seconds: str) -> float:
    """How many stalls the histogram counted above ``seconds`` (one of its bucket bounds)."""
    total = REGISTRY.get_sample_value("shadow_event_loop_stall_seconds_count") or 0.0
    below = REGISTRY.get_sample_value("shadow_event_loop_stall_seconds_bucket", {"le": seconds})
    assert below is not None, f"no bucket at {seconds}"
    return total - below


async def test_a_blocking_call_is_measured_as_the_worst_stall_and_exported() -> None:
    watch = LoopWatch()
    watch.start()
    await until(lambda: watch.ticks >= 3)
    free_loop_worst = watch.worst_stall_s
    long_stalls_before = stalls_over("0.2")

    time.sleep(BLOCK_S)  # noqa: ASYNC251 - the block under test
    await until(lambda: watch.ticks >= 5)
    await watch.stop()

    assert free_loop_worst < 0.2
    # The watch woke at most one interval after the block began, so it saw at least BLOCK_S - 0.05.
    assert BLOCK_S - watch.interval_s <= watch.worst_stall_s < 5
    assert REGISTRY.get_sample_value("shadow_event_loop_stall_max_seconds") == watch.worst_stall_s
    assert stalls_over("0.2") - long_stalls_before == 1
    last_tick = REGISTRY.get_sample_value("shadow_event_loop_last_tick_timestamp_seconds")
    assert last_tick is not None and abs(last_tick - time.time()) < 5


async def test_check_fails_while_the_loop_is_blocked_and_holds_again_after() -> None:
    watch = LoopWatch()
    watch.start()
    await until(lambda: watch.ticks >= 2)
    assert watch.check(0.2)[0]

    seen: list[tuple[bool, str]] = []
    prober = threading.Timer(0.5, lambda: seen.append(watch.check(0.2)))  # another thread, as /healthz is
    prober.start()
    prober.join(5)  # blocks the loop until the other thread has looked (0.5 s)

    ok, reason = seen[0]
    assert not ok and "blocked for" in reason
    ticks = watch.ticks
    await until(lambda: watch.ticks > ticks)
    assert watch.check(0.2)[0]
    await watch.stop()
    ok, reason = watch.check(60)
    assert not ok and "not running" in reason


async def test_a_long_stall_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    watch = LoopWatch(warn_stall_s=0.2)
    watch.start()
    await until(lambda: watch.ticks >= 1)
    with caplog.at_level(logging.WARNING, logger="shadow.loopwatch"):
        time.sleep(0.3)  # noqa: ASYNC251 - the block under test
        await until(lambda: watch.ticks >= 3)
    await watch.stop()
    assert any("event loop was blocked for" in r.getMessage() for r in caplog.records)


async def test_the_worker_reports_its_worst_stall_in_its_run_stats() -> None:
    async def blocking_candidate(request: httpx.Request) -> httpx.Response:
        if b"evt_0_3" in request.content:
            time.sleep(BLOCK_S)  # noqa: ASYNC251 - a candidate answer that holds the loop
        return await answer_at_once(request)

    pipeline, sink, _ = build(settings(), ListSource(events(6)), blocking_candidate)
    stats = await pipeline.run()

    assert len(sink.comparisons) == 6
    assert stats.worst_loop_stall_s >= BLOCK_S - pipeline.loop_watch.interval_s
    assert stats.as_dict()["worst_loop_stall_s"] == round(stats.worst_loop_stall_s, 4)
    assert not pipeline.loop_watch.running


async def test_each_row_says_how_late_the_loop_was_during_its_candidate_call() -> None:
    async def blocking_candidate(request: httpx.Request) -> httpx.Response:
        if b"evt_0_3" in request.content:
            time.sleep(BLOCK_S)  # noqa: ASYNC251 - a candidate answer that holds the loop
        return await answer_at_once(request)

    pipeline, sink, _ = build(settings(), ListSource(events(6)), blocking_candidate)
    await pipeline.run()

    lags = {row["event_id"]: row["candidate_loop_lag_ms"] for row in sink.comparisons}
    assert len(lags) == 6 and all(lag is not None for lag in lags.values())
    assert lags["evt_0_3"] >= (BLOCK_S - pipeline.loop_watch.interval_s) * 1000


async def test_a_worker_on_a_free_loop_reports_a_small_stall() -> None:
    pipeline, _, _ = build(settings(), ListSource(events(6)))
    stats = await pipeline.run()
    assert stats.worst_loop_stall_s < BLOCK_S - pipeline.loop_watch.interval_s


# --- the loop's lateness during one call (LoopWatch.lag_s) ------------------------------------------------------------


async def test_lag_during_a_span_counts_a_block_inside_it_and_not_one_before_it() -> None:
    watch = LoopWatch()
    watch.start()
    await until(lambda: watch.ticks >= 2)
    start = time.perf_counter()
    await asyncio.sleep(0.1)
    time.sleep(BLOCK_S)  # noqa: ASYNC251 - the block under test
    ticks = watch.ticks
    await until(lambda: watch.ticks >= ticks + 2)  # the late tick is recorded, and one after it
    blocked = watch.lag_s(start, time.perf_counter())

    after = time.perf_counter()
    await asyncio.sleep(0.1)
    free = watch.lag_s(after, time.perf_counter())
    await watch.stop()

    assert blocked is not None and BLOCK_S - watch.interval_s <= blocked < 5
    assert free is not None and free < BLOCK_S - watch.interval_s  # the block ended before this span began
    assert watch.lag_s(start, time.perf_counter()) is None  # no watch runs


async def test_lag_counts_the_tick_still_pending_when_a_span_ends_within_one_block() -> None:
    """A call shorter than a tick: no tick ran during it, but the one due meanwhile has waited since it was due."""
    watch = LoopWatch()
    watch.start()
    await until(lambda: watch.ticks >= 2)
    ticks = watch.ticks
    start = time.perf_counter()
    time.sleep(BLOCK_S)  # noqa: ASYNC251 - the block under test
    lag = watch.lag_s(start, time.perf_counter())
    assert watch.ticks == ticks  # nothing ran in between: the late tick is still pending
    await watch.stop()
    assert lag is not None and BLOCK_S - watch.interval_s <= lag < 5


async def test_a_running_watch_is_current_for_the_tasks_started_after_it_and_for_no_one_after_stop() -> None:
    assert current_watch() is None
    watch = LoopWatch()
    watch.start()

    async def seen() -> LoopWatch | None:
        return current_watch()

    assert current_watch() is watch and await asyncio.create_task(seen()) is watch
    assert contextvars.Context().run(current_watch) is None  # code outside the run that started it
    await watch.stop()
    assert current_watch() is None and await asyncio.create_task(seen()) is None


def test_lag_history_answers_from_the_few_ticks_it_keeps() -> None:
    history = LagHistory()
    # Ticks as (ran, lag) in ms: a 300 ms stall ran at 1000 (over [700, 1000]), smaller ones after it.
    for ran, lag in ((100, 1), (200, 2), (1000, 300), (1100, 5), (1200, 40), (1300, 1)):
        history.add(ran, lag)
    assert len(history) == 3  # (1000, 300), (1200, 40), (1300, 1): no later tick outdoes them
    assert history.worst_since(0) == 300
    assert history.worst_since(900) == 100  # the stall counts from the span's start on
    assert history.worst_since(990) == 40  # past its part after 990 (10 ms), the 40 ms stall after it
    assert history.worst_since(1250) == 1
    assert history.worst_since(1301) == 0


def test_lag_history_folds_what_it_cannot_keep_into_an_overestimate() -> None:
    history = LagHistory(max_kept=3)
    for i, lag in enumerate((50, 40, 30, 20, 10)):  # falling lags: every one is kept until the cap
        history.add(100 * (i + 1), lag)
    assert len(history) == 3
    assert history.worst_since(0) == 50  # the folded ticks are charged in full to a span starting before them
    assert history.worst_since(250) == 30  # a span starting after them is not
