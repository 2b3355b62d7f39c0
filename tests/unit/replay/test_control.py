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
