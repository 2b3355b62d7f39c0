"""The control plane in the fan-out: disabled or paused candidates are skipped, their calls in flight cancelled.

The state is a :class:`ControlState` fed by hand (the Kafka feed is tested in
``tests/integration/test_control_feed.py``); candidates answer through ``httpx.MockTransport``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from shadow.events.control import ALL, ControlRecord, ControlState, decode_control
from shadow.metrics import REGISTRY
from shadow.replay.fanout import Replayer
from shadow.replay.result import ErrorKind
from tests.unit.replay.test_fanout import Hang, Switch, client, event, healthy

pytestmark = pytest.mark.timeout(20)


async def arrived(condition: Callable[[], bool]) -> None:
    """Let the event loop run until ``condition`` holds (the calls reached the mock candidate)."""
    for _ in range(500):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the calls never arrived")


def record(candidate: str, state: str, reason: str = "") -> ControlRecord:
    return ControlRecord.model_validate({"candidate": candidate, "state": state, "reason": reason, "by": "oncall"})


def control_skipped(name: str, reason: str) -> float:
    sample = REGISTRY.get_sample_value("shadow_candidate_control_skipped_total", {"candidate": name, "reason": reason})
    return sample or 0.0


async def test_a_disabled_candidate_is_not_called_and_its_sibling_still_answers() -> None:
    control = ControlState()
    other, target = Switch(healthy), Switch(healthy)
    replayer = Replayer([client("ctl-a", other), client("ctl-b", target)], control=control)
    before = control_skipped("ctl-b", "killed")
    control.apply(record("ctl-b", "disabled", "bad answers in prod"))
    results = await replayer.replay(event())
    assert [r.candidate for r in results] == ["ctl-a", "ctl-b"]
    assert results[0].ok and other.calls == 1
    assert results[1].error_kind is ErrorKind.KILLED and results[1].skipped and results[1].attempts == 0
    assert "bad answers in prod" in results[1].error_message and "oncall" in results[1].error_message
    assert target.calls == 0
    assert control_skipped("ctl-b", "killed") == before + 1
    # Enabled again: called again.
    control.apply(record("ctl-b", "enabled"))
    results = await replayer.replay(event(1))
    assert all(r.ok for r in results) and target.calls == 1


async def test_paused_and_the_global_switch() -> None:
    control = ControlState()
    calls = Switch(healthy)
    replayer = Replayer([client("ctl-p", calls), client("ctl-q", calls)], control=control)
    control.apply(record("ctl-p", "paused", "budget"))
    kinds = [r.error_kind for r in await replayer.replay(event())]
    assert kinds == [ErrorKind.PAUSED, None] and calls.calls == 1
    control.apply(record(ALL, "disabled", "incident 4711"))
    results = await replayer.replay(event(1))
    # The global switch comes first: both killed, even the paused one.
    assert [r.error_kind for r in results] == [ErrorKind.KILLED, ErrorKind.KILLED] and calls.calls == 1
    assert all("every candidate disabled" in r.error_message for r in results)
    control.apply(record(ALL, "enabled"))
    kinds = [r.error_kind for r in await replayer.replay(event(2))]
    assert kinds == [ErrorKind.PAUSED, None] and calls.calls == 2


async def test_calls_in_flight_are_cancelled_into_killed_skips_and_the_other_candidate_completes() -> None:
    control = ControlState()
    hang, slow_other = Hang(healthy), Hang(healthy)
    replayer = Replayer([client("ctl-hang", hang), client("ctl-ok", slow_other)], control=control)
    replays = [asyncio.create_task(replayer.replay(event(n))) for n in range(3)]
    await arrived(lambda: hang.arrived == 3 and slow_other.arrived == 3)
    control.apply(record("ctl-hang", "disabled", "kill it"))
    # The killed calls return at once; the events still wait for their other candidate, which then answers.
    await asyncio.sleep(0.05)
    assert not any(task.done() for task in replays)
    slow_other.release.set()
    done = await asyncio.wait_for(asyncio.gather(*replays), timeout=5)
    for results in done:
        killed, answered = results
        assert killed.error_kind is ErrorKind.KILLED and "cancelled in flight" in killed.error_message
        assert answered.ok
    # Nothing is retried: the disabled candidate received exactly the three calls made before.
    assert hang.arrived == 3


async def test_an_unrelated_change_cancels_nothing() -> None:
    control = ControlState()
    hang = Hang(healthy)
    replayer = Replayer([client("ctl-x", hang), client("ctl-y", healthy)], control=control)
    task = asyncio.create_task(replayer.replay(event()))
    await arrived(lambda: hang.arrived == 1)
    control.apply(record("ctl-y", "paused", "not you"))
    control.apply(record("ctl-x", "enabled"))
    await asyncio.sleep(0.05)
    assert not task.done()
    hang.release.set()
    results = await asyncio.wait_for(task, timeout=5)
    assert results[0].ok and results[1].error_kind is None  # ctl-y was called before its pause


def test_control_records_decode_and_refuse_what_is_not_a_state() -> None:
    good = record("cand", "disabled", "why").model_dump_json().encode()
    assert decode_control(b"cand", good) == ControlRecord.model_validate_json(good)
    assert decode_control(b"cand", None) is None  # a tombstone
    assert decode_control(b"cand", b"not json") is None
    assert decode_control(b"cand", b'{"candidate": "cand", "state": "off"}') is None
    assert decode_control(b"other", good) is None  # the key must name the record's candidate
    state = ControlState()
    assert state.blocked("cand") is None
    state.apply(ControlRecord.model_validate_json(good))
    blocked = state.blocked("cand")
    assert blocked is not None and blocked[0] == "killed" and "why" in blocked[1]


def test_a_report_or_state_without_a_timezone_is_ignored_and_a_tombstone_forgets_a_state() -> None:
    from shadow.events.control import decode_report

    naive = b'{"group": "g", "worker": "w", "at": "2025-01-01T00:00:00"}'
    assert decode_report(b"worker:g:w", naive) is None  # would break every comparison with an aware clock
    assert decode_control(b"c", b'{"candidate": "c", "state": "disabled", "at": "2025-01-01T00:00:00"}') is None
    state = ControlState()
    heard: list[ControlRecord] = []
    state.listen(heard.append)
    state.apply(record("c", "disabled", "bad"))
    state.forget("c")
    assert state.blocked("c") is None and "c" not in state.records and heard[-1].state == "enabled"


async def test_auto_pause_keeps_limits_set_at_run_time_never_turns_a_kill_into_a_pause_and_works_without_kafka() -> (
    None
):
    import httpx

    async def denied(request: httpx.Request) -> httpx.Response:
        return httpx.Response(403, json={"error": {"message": "forbidden"}})

    # With the control state: the pause keeps the candidate's run-time limits.
    control = ControlState()
    control.apply(
        ControlRecord.model_validate({"candidate": "ap", "state": "enabled", "limits": {"rate_limit_rpm": 30}})
    )
    replayer = Replayer([client("ap", denied, auto_pause_auth_errors=2, breaker_enabled=False)], control=control)
    for n in range(2):
        await replayer.replay(event(n))
    assert control.records["ap"].state == "paused" and control.records["ap"].limits.rate_limit_rpm == 30
    # Already disabled: a late run of 403s leaves it disabled.
    control.apply(record("ap", "disabled", "kill"))
    lane = next(iter(replayer._lanes.values()))
    lane.auth_errors = 5
    replayer._watch_auth(lane, (await replayer.replay(event(9)))[0])
    assert control.records["ap"].state == "disabled"
    # Without a control topic: the pause holds in this worker.
    alone = Replayer([client("solo", denied, auto_pause_auth_errors=2, breaker_enabled=False)])
    for n in range(2):
        await alone.replay(event(n))
    [result] = await alone.replay(event(3))
    assert result.error_kind is ErrorKind.PAUSED
