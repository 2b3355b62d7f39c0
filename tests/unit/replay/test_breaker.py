"""The circuit breaker's states and transitions, on a fake clock: no sleeps, no HTTP."""

from __future__ import annotations

import pytest

from shadow.config import CandidateSettings
from shadow.metrics import REGISTRY
from shadow.replay.breaker import CircuitBreaker, CircuitState, Outcome, outcome_of
from shadow.replay.result import ErrorKind, ReplayResult

pytestmark = pytest.mark.timeout(10)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def result(kind: ErrorKind | None = None) -> ReplayResult:
    return ReplayResult(candidate="c", model="m", output=None, error_kind=kind)


OK = result()
TIMEOUT = result(ErrorKind.TIMEOUT)


def breaker(clock: FakeClock, name: str = "c", **options: int | float) -> CircuitBreaker:
    settings = {"failures": 3, "window": 5, "open_s": 30.0, "probes": 2, **options}
    return CircuitBreaker(name, clock=clock, **settings)  # type: ignore[arg-type]


def call(b: CircuitBreaker, outcome: ReplayResult) -> bool:
    """One admitted call with this outcome; True when it opened the breaker."""
    permit = b.admit()
    assert permit is not None, "the breaker did not admit the call"
    return b.record(permit, outcome)


def trip(b: CircuitBreaker) -> None:
    while b.state is CircuitState.CLOSED:
        call(b, TIMEOUT)
    assert b.state is CircuitState.OPEN


def gauge(name: str) -> float | None:
    return REGISTRY.get_sample_value("shadow_candidate_circuit_state", {"candidate": name})


# --- which results count ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "outcome"),
    [
        (None, Outcome.SUCCESS),
        (ErrorKind.TIMEOUT, Outcome.FAILURE),
        (ErrorKind.CONNECT_ERROR, Outcome.FAILURE),
        (ErrorKind.TRANSPORT_ERROR, Outcome.FAILURE),
        (ErrorKind.HTTP_5XX, Outcome.FAILURE),
        (ErrorKind.RATE_LIMITED, Outcome.FAILURE),  # a 429 that outlasted the client's retries
        (ErrorKind.HTTP_4XX, Outcome.SUCCESS),  # the endpoint answered: our request is at fault
        (ErrorKind.INVALID_RESPONSE, Outcome.SUCCESS),  # it answered; the content is at fault
        (ErrorKind.TRANSLATION_ERROR, Outcome.NOT_SENT),
        (ErrorKind.INTERNAL_ERROR, Outcome.NOT_SENT),
        (ErrorKind.CIRCUIT_OPEN, Outcome.NOT_SENT),
    ],
)
def test_which_results_count_as_failures(kind: ErrorKind | None, outcome: Outcome) -> None:
    assert outcome_of(result(kind)) is outcome


# --- closed ------------------------------------------------------------------------------------


def test_closed_lets_every_call_through_while_failures_stay_below_the_threshold() -> None:
    clock = FakeClock()
    b = breaker(clock, "closed-below")
    # Two failures among the last five, again and again: never three.
    for outcome in [TIMEOUT, OK, OK, TIMEOUT, OK] * 4:
        assert not call(b, outcome)
    assert b.state is CircuitState.CLOSED and b.opened == 0
    assert gauge("closed-below") == 0


def test_closed_opens_on_failures_among_the_last_calls_even_with_successes_between() -> None:
    clock = FakeClock()
    b = breaker(clock, "closed-opens")
    # Answers interleave under concurrency: a success between failures does not reset the count.
    assert [call(b, o) for o in (TIMEOUT, OK, result(ErrorKind.CONNECT_ERROR), OK)] == [False] * 4
    assert call(b, result(ErrorKind.HTTP_5XX))
    assert b.state is CircuitState.OPEN and b.opened == 1
    assert b.reason == "3 of the last 5 calls failed (last: http_5xx)"
    assert gauge("closed-opens") == 2
    assert REGISTRY.get_sample_value("shadow_candidate_circuit_opened_total", {"candidate": "closed-opens"}) == 1


def test_failures_older_than_the_window_no_longer_count() -> None:
    b = breaker(FakeClock())
    for outcome in (TIMEOUT, TIMEOUT, OK, OK, OK):
        call(b, outcome)
    # The two old failures slide out as new calls come in: one new failure is not three.
    assert not call(b, TIMEOUT)
    assert not call(b, OK)
    assert b.state is CircuitState.CLOSED


def test_the_threshold_is_also_a_minimum_count() -> None:
    b = breaker(FakeClock(), failures=3, window=20)
    assert not call(b, TIMEOUT) and not call(b, TIMEOUT)  # two of two failed: still too few to judge
    assert call(b, TIMEOUT)


def test_answers_and_calls_not_sent_never_open_it() -> None:
    b = breaker(FakeClock())
    for kind in (ErrorKind.HTTP_4XX, ErrorKind.INVALID_RESPONSE, ErrorKind.TRANSLATION_ERROR, ErrorKind.INTERNAL_ERROR):
        for _ in range(10):
            call(b, result(kind))
    assert b.state is CircuitState.CLOSED


# --- open --------------------------------------------------------------------------------------


def test_open_admits_nothing_until_the_cool_down_has_passed() -> None:
    clock = FakeClock()
    b = breaker(clock, open_s=30.0)
    trip(b)
    clock.advance(29.9)
    assert b.admit() is None and b.state is CircuitState.OPEN
    assert b.describe() == "circuit open: 3 of the last 3 calls failed (last: timeout); probing again in 0s"
    clock.advance(0.1)
    assert b.state is CircuitState.HALF_OPEN


def test_results_of_calls_admitted_before_it_opened_are_ignored() -> None:
    clock = FakeClock()
    b = breaker(clock, probes=1)
    late = b.admit()  # in flight while the breaker opens
    assert late is not None
    trip(b)
    assert not b.record(late, OK)
    assert b.state is CircuitState.OPEN
    clock.advance(30)
    probe = b.admit()
    assert probe is not None and probe.probe
    # A straggler from the closed spell neither closes nor re-opens the half-open breaker.
    assert not b.record(late, TIMEOUT) and not b.record(late, OK)
    assert b.state is CircuitState.HALF_OPEN


# --- half-open ---------------------------------------------------------------------------------


def test_half_open_lets_only_the_probes_through() -> None:
    clock = FakeClock()
    b = breaker(clock, "half-open", probes=2)
    trip(b)
    clock.advance(30)
    first, second, third = b.admit(), b.admit(), b.admit()
    assert first is not None and first.probe
    assert second is not None and second.probe
    assert third is None  # every other event skips the candidate while the probes are out
    assert gauge("half-open") == 1
    assert b.describe().startswith("circuit half-open after 3 of the last 3 calls failed")


def test_half_open_closes_when_every_probe_succeeds() -> None:
    clock = FakeClock()
    b = breaker(clock, "closes", probes=2)
    trip(b)
    clock.advance(30)
    probes = [b.admit(), b.admit()]
    assert all(p is not None for p in probes)
    assert not b.record(probes[0], OK)  # type: ignore[arg-type]
    assert b.state is CircuitState.HALF_OPEN  # one of two is not enough
    assert not b.record(probes[1], OK)  # type: ignore[arg-type]
    assert b.state is CircuitState.CLOSED and gauge("closes") == 0
    # Closed afresh: the failures before it opened are forgotten, three new ones are needed.
    assert not call(b, TIMEOUT) and not call(b, TIMEOUT)
    assert call(b, TIMEOUT)


def test_half_open_reopens_on_a_probe_failure_for_a_new_cool_down() -> None:
    clock = FakeClock()
    b = breaker(clock, "reopens", probes=2)
    trip(b)
    clock.advance(30)
    probe = b.admit()
    other = b.admit()
    assert probe is not None and other is not None
    assert b.record(probe, result(ErrorKind.TIMEOUT))
    assert b.state is CircuitState.OPEN and b.opened == 2
    assert b.reason == "a probe failed (timeout)"
    assert gauge("reopens") == 2
    assert not b.record(other, OK)  # the other probe belongs to the spell that ended
    clock.advance(29)
    assert b.admit() is None
    clock.advance(1)
    assert b.admit() is not None and b.state is CircuitState.HALF_OPEN


def test_a_probe_not_sent_frees_its_slot() -> None:
    clock = FakeClock()
    b = breaker(clock, probes=1)
    trip(b)
    clock.advance(30)
    probe = b.admit()
    assert probe is not None and b.admit() is None
    b.record(probe, result(ErrorKind.TRANSLATION_ERROR))  # the request could not be built: no news
    assert b.state is CircuitState.HALF_OPEN
    again = b.admit()
    assert again is not None and again.probe
    b.record(again, OK)
    assert b.state is CircuitState.CLOSED


# --- settings ----------------------------------------------------------------------------------


def test_settings_build_the_breaker_and_are_checked() -> None:
    settings = CandidateSettings(
        name="from-settings", provider="openai", base_url="http://127.0.0.1:9/v1", model="m",
        breaker_failures=4, breaker_window=8, breaker_open_s=12.5, breaker_probes=1,
    )  # fmt: skip
    b = CircuitBreaker.from_settings(settings)
    assert (b.failures, b.window, b.open_s, b.probes) == (4, 8, 12.5, 1)
    defaults = CandidateSettings(name="d", provider="openai", base_url="http://127.0.0.1:9/v1", model="m")
    assert defaults.breaker_enabled
    assert (defaults.breaker_failures, defaults.breaker_window, defaults.breaker_probes) == (10, 20, 3)
    assert defaults.breaker_open_s == 30.0
    with pytest.raises(ValueError, match="breaker_failures cannot exceed breaker_window"):
        CandidateSettings(
            name="bad", provider="openai", base_url="http://127.0.0.1:9/v1", model="m",
            breaker_failures=21, breaker_window=20,
        )  # fmt: skip
