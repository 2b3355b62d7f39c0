"""The fan-out with circuit breakers: an open candidate is skipped at once, its calls in flight are let go.

Candidates answer through ``httpx.MockTransport``, so a test decides whether each call answers,
fails or hangs; the breakers run on a fake clock.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine
from typing import Any

import httpx
import pytest

from shadow.events.models import MirrorEvent
from shadow.metrics import REGISTRY
from shadow.replay.breaker import CircuitState
from shadow.replay.client import CandidateClient
from shadow.replay.fanout import Replayer
from shadow.replay.result import ErrorKind
from tests.factories import candidate, make_event, openai_response

pytestmark = pytest.mark.timeout(20)

Handler = Callable[[httpx.Request], Coroutine[Any, Any, httpx.Response]]


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def healthy(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json=openai_response("All good."))


async def unavailable(request: httpx.Request) -> httpx.Response:
    return httpx.Response(503, json={"error": {"message": "overloaded"}})


class Hang:
    """Calls wait until released, then get ``answer``; counts the calls that arrived."""

    def __init__(self, answer: Handler = unavailable) -> None:
        self.arrived = 0
        self.release = asyncio.Event()
        self.answer = answer

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.arrived += 1
        await self.release.wait()
        return await self.answer(request)


class Switch:
    """A handler whose behaviour the test changes between calls."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.calls = 0

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        return await self.handler(request)


def client(name: str, handler: Handler, **options: Any) -> CandidateClient:
    settings = candidate(
        name, "http://candidate.invalid/v1", **{"breaker_failures": 2, "breaker_window": 4, "breaker_open_s": 10.0,
                                                 "breaker_probes": 1, "timeout_s": 5.0, **options}
    )  # fmt: skip
    return CandidateClient(settings, transport=httpx.MockTransport(handler))


def event(n: int = 0) -> MirrorEvent:
    return MirrorEvent.model_validate(make_event(event_id=f"evt_{n}"))


def skipped_total(name: str) -> float:
    return REGISTRY.get_sample_value("shadow_candidate_circuit_skipped_total", {"candidate": name}) or 0.0


async def test_an_open_candidate_is_skipped_at_once_and_its_sibling_still_answers() -> None:
    dead = Switch(unavailable)
    replayer = Replayer([client("fan-good", healthy), client("fan-dead", dead)], clock=FakeClock())
    for n in range(2):
        results = await replayer.replay(event(n))
        assert [r.error_kind for r in results] == [None, ErrorKind.HTTP_5XX]
    assert replayer.breakers["fan-dead"].state is CircuitState.OPEN

    # Now the dead candidate would hang for its whole timeout_s; the event does not wait for it.
    dead.handler = Hang()
    before = skipped_total("fan-dead")
    started = time.monotonic()
    results = await replayer.replay(event(2))
    assert time.monotonic() - started < 1.0
    good, skipped = results
    assert good.ok and good.candidate == "fan-good"
    assert skipped.candidate == "fan-dead" and skipped.skipped and not skipped.ok
    assert skipped.error_kind is ErrorKind.CIRCUIT_OPEN and skipped.attempts == 0
    assert skipped.error_message.startswith("circuit open: 2 of the last 2 calls failed (last: http_5xx)")
    assert dead.calls == 2  # nothing was sent
    assert skipped_total("fan-dead") == before + 1
    await replayer.aclose()


@pytest.mark.parametrize(("max_concurrency", "on_the_wire"), [(16, 4), (2, 0)])
async def test_calls_in_flight_when_it_opens_become_skips_instead_of_waits(
    max_concurrency: int, on_the_wire: int
) -> None:
    # With a concurrency limit of 2 the other four calls are still queued behind it when the breaker opens.
    hang = Hang()
    state = {"failing": 0}

    async def handler(request: httpx.Request) -> httpx.Response:
        # Two calls fail at once; every other one hangs until its timeout (30 s).
        if state["failing"] < 2:
            state["failing"] += 1
            await asyncio.sleep(0.05)
            return await unavailable(request)
        return await hang(request)

    lane = client("fan-inflight", handler, timeout_s=30.0, breaker_window=10, max_concurrency=max_concurrency)
    replayer = Replayer([lane], clock=FakeClock())
    started = time.monotonic()
    results = await asyncio.gather(*(replayer.replay(event(n)) for n in range(6)))
    assert time.monotonic() - started < 2.0
    kinds = sorted(str(r.error_kind) for [r] in results)
    assert kinds == ["circuit_open"] * 4 + ["http_5xx"] * 2
    assert hang.arrived == on_the_wire  # on the wire or queued: abandoned, not awaited
    abandoned = [r for [r] in results if r.skipped]
    assert all(r.error_message.startswith("abandoned in flight: circuit opened (2 of the last") for r in abandoned)
    await replayer.aclose()


async def test_half_open_sends_one_probe_while_other_events_skip_then_closes() -> None:
    clock = FakeClock()
    dead = Switch(unavailable)
    replayer = Replayer([client("fan-probe", dead)], clock=clock)
    for n in range(2):
        await replayer.replay(event(n))
    breaker = replayer.breakers["fan-probe"]
    assert breaker.state is CircuitState.OPEN

    clock.now += 10.0
    slow = Hang(answer=healthy)
    dead.handler = slow
    probe = asyncio.create_task(replayer.replay(event(10)))
    await asyncio.sleep(0.05)
    assert breaker.state is CircuitState.HALF_OPEN and slow.arrived == 1
    # While the one probe is out, other events skip the candidate rather than wait with it.
    [other] = await replayer.replay(event(11))
    assert other.skipped and other.error_message.startswith("circuit half-open")
    assert slow.arrived == 1

    slow.release.set()
    [answered] = await probe
    assert answered.ok and breaker.state is CircuitState.CLOSED
    await replayer.aclose()


async def test_a_probe_that_answers_closes_the_breaker() -> None:
    clock = FakeClock()
    dead = Switch(unavailable)
    replayer = Replayer([client("fan-close", dead)], clock=clock)
    for n in range(2):
        await replayer.replay(event(n))
    clock.now += 10.0
    dead.handler = healthy
    [probe] = await replayer.replay(event(2))
    assert probe.ok
    assert replayer.breakers["fan-close"].state is CircuitState.CLOSED
    [after] = await replayer.replay(event(3))
    assert after.ok and dead.calls == 4
    await replayer.aclose()


async def test_a_probe_that_fails_opens_it_again() -> None:
    clock = FakeClock()
    replayer = Replayer([client("fan-reopen", unavailable)], clock=clock)
    for n in range(2):
        await replayer.replay(event(n))
    clock.now += 10.0
    [probe] = await replayer.replay(event(2))
    assert probe.error_kind is ErrorKind.HTTP_5XX
    breaker = replayer.breakers["fan-reopen"]
    assert breaker.state is CircuitState.OPEN and breaker.opened == 2
    [skipped] = await replayer.replay(event(3))
    assert skipped.skipped and "a probe failed (http_5xx)" in skipped.error_message
    await replayer.aclose()


async def test_cancelling_the_event_still_cancels_its_calls() -> None:
    hang = Hang()
    replayer = Replayer([client("fan-cancel", hang)], clock=FakeClock())
    task = asyncio.create_task(replayer.replay(event()))
    await asyncio.sleep(0.05)
    assert hang.arrived == 1
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task  # a shutdown is a cancellation, never a skip
    await replayer.aclose()


async def test_with_the_breaker_disabled_every_event_waits_for_every_call() -> None:
    dead = Switch(unavailable)
    replayer = Replayer([client("fan-off", dead, breaker_enabled=False)], clock=FakeClock())
    for n in range(6):
        [result] = await replayer.replay(event(n))
        assert result.error_kind is ErrorKind.HTTP_5XX
    assert dead.calls == 6 and "fan-off" not in replayer.breakers
    await replayer.aclose()
