"""Group rate limits and budgets: each worker's share of the group's rate, and spend checked across the group."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from shadow.config import Settings
from shadow.diff.cost import Price
from shadow.events.control import ControlRecord, ControlState, PeriodSpend, WorkerReport
from shadow.events.output import Output, Usage
from shadow.replay.fanout import Replayer
from shadow.replay.limits import GroupLimiter, SpendLedger, periods
from shadow.replay.result import ErrorKind, ReplayResult
from tests.factories import candidate
from tests.unit.replay.test_fanout import Hang, Switch, client, event, healthy, unavailable

pytestmark = pytest.mark.timeout(20)


class FakeTime:
    """A clock and a sleep that advances it: the limiter's waits, measured without waiting."""

    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)


async def test_each_worker_spaces_its_calls_by_its_share_of_the_group_rate() -> None:
    time, workers = FakeTime(), [1]
    limiter = GroupLimiter(lambda: (600, None), lambda: workers[0], clock=time.clock, sleep=time.sleep)
    for _ in range(4):
        await limiter.acquire()
    # 600 per minute alone: one call every 0.1 s (the first at once); the waits pile up as calls queue.
    assert time.slept == pytest.approx([0.1, 0.2, 0.3])
    # A second worker joins the group: this one's share halves, the spacing doubles.
    workers[0], time.slept, time.now = 2, [], time.now + 1
    for _ in range(3):
        await limiter.acquire()
    assert time.slept == pytest.approx([0.2, 0.4])


async def test_tokens_per_minute_delay_the_calls_after_a_big_one() -> None:
    time = FakeTime()
    limiter = GroupLimiter(lambda: (None, 60_000), lambda: 2, clock=time.clock, sleep=time.sleep)
    await limiter.acquire()
    assert time.slept == []
    limiter.debit(1_500)  # at 30,000 tokens a minute for this worker (half of the group's): 3 s paid for
    await limiter.acquire()
    assert time.slept == pytest.approx([3.0])


def answered(name: str, input_tokens: int = 1_000_000, output_tokens: int = 0) -> ReplayResult:
    return ReplayResult(candidate=name, model="m-1", output=Output("ok", usage=Usage(input_tokens, output_tokens)))


def ledger(control: ControlState | None = None, **budget: float) -> SpendLedger:
    settings = candidate("cand", "http://c.invalid/v1", model="m-1", **budget)
    return SpendLedger({"cand": settings}, {"m-1": Price(2.0, 8.0)}, control=control, group="g", worker="me")


def test_a_budget_counts_this_workers_spend_the_groups_reports_and_the_calls_in_flight() -> None:
    control = ControlState()
    spend = ledger(control, budget_usd_per_hour=10.0)
    assert spend.over_budget("cand") is None
    for _ in range(3):  # three calls of 1M input tokens at $2: $6
        spend.start("cand")
        spend.finish("cand", answered("cand"))
    assert spend.cost(answered("cand")) == 2.0
    assert spend.over_budget("cand") is None
    hour, day = periods()
    control.report("worker:g:other", WorkerReport(group="g", worker="other",
                   spend={"cand": PeriodSpend(hour=hour, hour_usd=3.0, day=day, day_usd=3.0)}))  # fmt: skip
    assert spend.over_budget("cand") is None  # $9 of $10
    spend.start("cand")  # one call in flight, estimated at the mean cost so far ($2): over
    reason = spend.over_budget("cand")
    assert reason is not None and "$9.0000 spent by the group ($3.0000 by other workers)" in reason
    spend.finish("cand", ReplayResult(candidate="cand", model="m-1", output=None, error_kind=ErrorKind.TIMEOUT))
    assert spend.over_budget("cand") is None  # a failed call costs nothing here
    # Another group's worker and a report from last hour do not count.
    control.report("worker:g:x", WorkerReport(group="h", worker="x",
                   spend={"cand": PeriodSpend(hour=hour, hour_usd=50.0, day=day, day_usd=50.0)}))  # fmt: skip
    control.report("worker:g:old", WorkerReport(group="g", worker="old", spend={"cand": PeriodSpend(
        hour="2000-01-01T00", hour_usd=50.0, day=day, day_usd=50.0)}))  # fmt: skip
    assert spend.over_budget("cand") is None
    assert control.group_size("g") == 2  # "other" and "old"
    # A worker that went quiet (killed) is out of the group, but what it spent this hour still counts.
    control.report("worker:g:gone", WorkerReport(group="g", worker="gone", at=datetime.now(UTC) - timedelta(minutes=1),
                   spend={"cand": PeriodSpend(hour=hour, hour_usd=1.5, day=day, day_usd=1.5)}))  # fmt: skip
    control._arrived["worker:g:gone"] -= 60  # its last report came a minute ago, on this worker's clock
    control._cache.clear()
    assert control.group_size("g") == 2
    # Read back from history at start: just arrived, but written long ago (beyond any clock skew): not live.
    control.report(
        "worker:g:ancient", WorkerReport(group="g", worker="ancient", at=datetime.now(UTC) - timedelta(hours=1))
    )
    assert control.group_size("g") == 2
    reason = spend.over_budget("cand")
    assert reason is not None and "$10.5000 spent by the group ($4.5000 by other workers)" in reason
    snapshot = spend.snapshot()["cand"]
    assert snapshot.hour == hour and snapshot.hour_usd == 6.0 and snapshot.day_usd == 6.0


def test_the_budget_lifts_when_the_period_turns() -> None:
    clock = [datetime(2026, 11, 30, 10, 59, tzinfo=UTC)]
    spend = ledger(None, budget_usd_per_hour=1.0, budget_usd_per_day=100.0)
    spend.now = lambda: clock[0]
    spend.start("cand")
    spend.finish("cand", answered("cand"))
    assert spend.over_budget("cand") is not None
    clock[0] += timedelta(minutes=2)
    assert spend.over_budget("cand") is None
    assert spend.snapshot()["cand"].day_usd == 2.0  # the day's spend stays


async def test_a_candidate_over_budget_is_skipped_and_its_sibling_answers() -> None:
    spend = ledger(None, budget_usd_per_hour=0.5)
    calls = Switch(healthy)
    replayer = Replayer([client("cand", calls), client("other", calls)], ledger=spend)
    spend.start("cand")
    spend.finish("cand", answered("cand"))
    results = await replayer.replay(event())
    assert (
        results[0].error_kind is ErrorKind.BUDGET
        and results[0].skipped
        and "budget of $0.5" in results[0].error_message
    )
    assert results[1].ok and calls.calls == 1


async def test_a_run_of_auth_errors_pauses_the_candidate_for_every_worker() -> None:
    control = ControlState()
    published: list[ControlRecord] = []

    async def publish(record: ControlRecord) -> None:
        published.append(record)
        control.apply(record)

    control.publish = publish
    denied = Switch(unavailable)

    async def forbidden(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json={"error": {"message": "invalid api key"}})

    denied.handler = forbidden
    replayer = Replayer([client("denied", denied, auto_pause_auth_errors=3, breaker_enabled=False)], control=control,
                        worker="worker-1")  # fmt: skip
    for n in range(3):
        [result] = await replayer.replay(event(n))
        assert result.http_status == 401
    for _ in range(10):
        if published:
            break
        await asyncio.sleep(0.01)
    assert [r.state for r in published] == ["paused"] and published[0].by == "worker-1"
    assert "3 answers in a row were 401, 403 or 429" in published[0].reason
    [result] = await replayer.replay(event(4))
    assert result.error_kind is ErrorKind.PAUSED and denied.calls == 3


def test_a_budget_without_a_price_is_refused_at_start() -> None:
    base = {"name": "c", "provider": "openai", "base_url": "http://c.invalid/v1", "model": "gpt-x"}
    with pytest.raises(ValueError, match="has a budget but no price for gpt-x"):
        Settings.model_validate({"candidates": [{**base, "budget_usd_per_hour": 5}]})
    ok = Settings.model_validate({"candidates": [{**base, "budget_usd_per_day": 5}],
                                  "prices": {"gpt": {"input_per_mtok": 1, "output_per_mtok": 2}}})  # fmt: skip
    assert ok.price_of("gpt-x") is not None


def test_other_workers_spend_since_their_report_is_estimated_from_their_rate_and_calls_in_flight() -> None:
    control = ControlState()
    hour, day = periods()
    now = datetime.now(UTC)

    def report(at: datetime, usd: float, pending: float = 0.0) -> WorkerReport:
        spend = PeriodSpend(hour=hour, hour_usd=usd, day=day, day_usd=usd, pending_usd=pending)
        return WorkerReport(group="g", worker="other", at=at, spend={"cand": spend})

    control.report("worker:g:other", report(now - timedelta(seconds=2.0), 1.0))
    assert control.spent_by_others("g", "me", "cand", hour, day) == pytest.approx((1.0, 1.0), abs=1e-9)
    # One second later it had spent $0.50 more and had $0.20 of calls in flight; the report is already
    # a second old: $0.50 a second for that second is on top.
    control.report("worker:g:other", report(now - timedelta(seconds=1.0), 1.5, pending=0.2))
    hour_usd, day_usd = control.spent_by_others("g", "me", "cand", hour, day)
    # The report's age is measured at the call: at least 1 s, plus however long this test took since ``now``.
    late_s = (datetime.now(UTC) - now).total_seconds()
    assert 1.5 + 0.2 + 0.5 - 1e-9 <= hour_usd <= 1.5 + 0.2 + 0.5 * (1.0 + late_s) + 1e-9
    assert day_usd == pytest.approx(hour_usd)
    assert control.spent_by_others("g", "other", "cand", hour, day) == (0.0, 0.0)  # its own reports never count
    control.report("worker:g:other", None)  # it stopped: its farewell
    assert control.spent_by_others("g", "me", "cand", hour, day) == (0.0, 0.0)


async def test_limits_set_on_the_control_topic_replace_the_configured_ones() -> None:
    control = ControlState()
    spend = ledger(control, budget_usd_per_hour=100.0)
    spend.start("cand")
    spend.finish("cand", answered("cand"))  # $2
    assert spend.over_budget("cand") is None
    control.apply(ControlRecord.model_validate({"candidate": "cand", "state": "enabled",
                                                "limits": {"budget_usd_per_hour": 1.5}}))  # fmt: skip
    assert spend.over_budget("cand") is not None and "budget of $1.5" in str(spend.over_budget("cand"))
    # Rates: the limiter asks for the limits on every call.
    time = FakeTime()
    limits: list[tuple[float | None, int | None]] = [(None, None)]
    limiter = GroupLimiter(lambda: limits[0], lambda: 1, clock=time.clock, sleep=time.sleep)
    for _ in range(3):
        await limiter.acquire()
    assert time.slept == []  # no limit: no wait
    limits[0] = (60, None)
    for _ in range(3):
        await limiter.acquire()
    assert time.slept == pytest.approx([1.0, 2.0])


def test_the_worker_wires_run_time_limits_into_each_candidates_client_and_the_ledger() -> None:
    from shadow.events.control import ControlFeed
    from shadow.pipeline import build_replayer

    settings = Settings.model_validate({
        "candidates": [{"name": "cand", "provider": "openai", "base_url": "http://c.invalid/v1", "model": "m-1",
                        "rate_limit_rpm": 600}],
        "prices": {"m-1": {"input_per_mtok": 2, "output_per_mtok": 8}},
    })  # fmt: skip
    feed = ControlFeed(settings.kafka)
    replayer = build_replayer(settings, feed)
    [client] = replayer.clients
    limiter = client._group_limiter
    assert limiter is not None and limiter._limits() == (600, None)
    feed.state.apply(ControlRecord.model_validate({"candidate": "cand", "state": "enabled",
                                                   "limits": {"rate_limit_rpm": 60, "budget_usd_per_day": 1}}))  # fmt: skip
    assert limiter._limits() == (60, None)
    assert replayer.ledger is not None and feed.spend is not None
    replayer.ledger.start("cand")
    replayer.ledger.finish("cand", answered("cand"))  # $2, over the $1 set at run time
    assert "budget of $1 for the day" in str(replayer.ledger.over_budget("cand"))
    assert feed.spend()["cand"].day_usd == 2.0  # what the worker reports to the group


async def test_one_huge_usage_delays_the_next_calls_by_a_minute_at_most() -> None:
    time = FakeTime()
    limiter = GroupLimiter(lambda: (None, 1_000), lambda: 3, clock=time.clock, sleep=time.sleep)
    await limiter.acquire()
    limiter.debit(10_000_000)  # an absurd usage figure: hours at 1,000 tokens a minute
    await limiter.acquire()
    assert time.slept == pytest.approx([60.0])


def test_a_call_is_priced_by_the_model_answered_else_the_model_asked_for() -> None:
    spend = ledger(None)
    aliased = ReplayResult(candidate="cand", model="m-1", output=Output("ok", model="m-1-2026-01-01",
                           usage=Usage(1_000_000, 0)))  # fmt: skip
    assert spend.cost(aliased) == 2.0  # m-1-2026-01-01 starts with m-1: priced by prefix
    unknown = ReplayResult(candidate="cand", model="m-1", output=Output("ok", model="azure-deployment-7",
                           usage=Usage(1_000_000, 0)))  # fmt: skip
    assert spend.cost(unknown) == 2.0  # the answered name has no price: the model asked for has one


async def test_a_call_cancelled_from_outside_leaves_the_ledger_even() -> None:
    spend = ledger(None, budget_usd_per_hour=10.0)
    hang = Hang(healthy)
    replayer = Replayer([client("cand", hang)], ledger=spend)
    task = asyncio.create_task(replayer.replay(event()))
    for _ in range(100):
        if hang.arrived:
            break
        await asyncio.sleep(0.01)
    assert spend._of("cand").in_flight == 1
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert spend._of("cand").in_flight == 0


async def test_a_call_that_would_wait_too_long_for_its_turn_is_not_made_and_takes_no_turn() -> None:
    time = FakeTime()
    limiter = GroupLimiter(lambda: (60, None), lambda: 1, clock=time.clock, sleep=time.sleep, max_wait_s=1.5)
    assert await limiter.acquire() is None  # at once
    assert await limiter.acquire() is None  # 1 s away: waits
    assert await limiter.acquire() == pytest.approx(2.0)  # 2 s away: not made
    time.now += 1.0
    assert await limiter.acquire() is None  # the refused call took no turn: this one is 1 s away again
    assert time.slept == pytest.approx([1.0, 1.0])


async def test_a_throttled_call_is_a_skipped_row_and_the_stream_goes_on() -> None:
    calls = Switch(healthy)
    replayer = Replayer([client("thr", calls, rate_limit_rpm=60, rate_limit_max_wait_s=0)])
    first = await replayer.replay(event(0))
    second = await replayer.replay(event(1))
    assert first[0].ok and calls.calls == 1
    assert second[0].error_kind is ErrorKind.THROTTLED and second[0].skipped and "not sent" in second[0].error_message
