"""Sampling: sticky, salted per-workflow decisions on the subject (or the event id)."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest

from shadow.config import Settings
from shadow.events.models import MirrorEvent
from shadow.sample import Sampler, sample_point
from tests.factories import make_event


@pytest.fixture
def sampler_factory() -> Callable[..., Sampler]:
    def make(default_rate: float = 1.0, salt: str = "", **workflow_rates: float) -> Sampler:
        settings = Settings.model_validate(
            {
                "sampling": {"default_rate": default_rate, "salt": salt},
                "workflows": {name: {"sample_rate": rate} for name, rate in workflow_rates.items()},
            }
        )
        return Sampler(settings)

    return make


@pytest.fixture
def base_event() -> MirrorEvent:
    return MirrorEvent.model_validate(make_event(event_id="evt_base", workflow="support_chat"))


def events_for(base: MirrorEvent, keys: range | list[str], *, by: str = "subject") -> list[MirrorEvent]:
    if by == "subject":
        return [base.model_copy(update={"subject": f"conv_{k}", "event_id": f"evt_{k}"}) for k in keys]
    return [base.model_copy(update={"subject": None, "event_id": f"evt_{k}"}) for k in keys]


@pytest.mark.parametrize(("rate", "expected"), [(0.0, 0), (1.0, 500)])
def test_rate_zero_and_one(
    sampler_factory: Callable[..., Sampler], base_event: MirrorEvent, rate: float, expected: int
) -> None:
    sampler = sampler_factory(support_chat=rate)
    assert sum(sampler.sampled(e) for e in events_for(base_event, range(500))) == expected


def test_workflow_rate_overrides_default(sampler_factory: Callable[..., Sampler], base_event: MirrorEvent) -> None:
    sampler = sampler_factory(default_rate=0.0, support_chat=1.0)
    assert sampler.rate("support_chat") == 1.0
    assert sampler.rate("checkout_assistant") == 0.0
    other = base_event.model_copy(update={"workflow": "checkout_assistant"})
    assert sampler.sampled(base_event) is True
    assert sampler.sampled(other) is False


def test_sticky_by_subject(sampler_factory: Callable[..., Sampler], base_event: MirrorEvent) -> None:
    sampler = sampler_factory(support_chat=0.5)
    decisions = set()
    for conversation in ["conv_alice", "会话_张三", "conv_mixed_李四_bob", *(f"conv_{i}" for i in range(40))]:
        turns = [base_event.model_copy(update={"subject": conversation, "event_id": f"evt_{conversation}_{turn}"})
                 for turn in range(6)]  # fmt: skip
        outcomes = {sampler.sampled(turn) for turn in turns}
        assert len(outcomes) == 1, f"conversation {conversation} is split across the sample"
        decisions |= outcomes
    assert decisions == {True, False}


def test_falls_back_to_event_id(sampler_factory: Callable[..., Sampler], base_event: MirrorEvent) -> None:
    sampler = sampler_factory(support_chat=0.5)
    without_subject = events_for(base_event, range(200), by="event_id")
    outcomes = [sampler.sampled(e) for e in without_subject]
    assert outcomes == [sample_point("", "support_chat", e.event_id) < 0.5 for e in without_subject]
    assert 0 < sum(outcomes) < 200
    # The same event decoded twice (an at-least-once redelivery) gets the same decision.
    assert [sampler.sampled(e.model_copy()) for e in without_subject] == outcomes


@pytest.mark.parametrize("rate", [0.01, 0.1, 0.25, 0.5, 0.9])
def test_rate_is_approximate_over_10k_keys(
    sampler_factory: Callable[..., Sampler], base_event: MirrorEvent, rate: float
) -> None:
    sampler = sampler_factory(support_chat=rate)
    n = 10_000
    hits = sum(sampler.sampled(e) for e in events_for(base_event, range(n)))
    sigma = (n * rate * (1 - rate)) ** 0.5
    assert abs(hits - n * rate) <= 5 * sigma + 1


def test_raising_the_rate_only_adds_conversations(
    sampler_factory: Callable[..., Sampler], base_event: MirrorEvent
) -> None:
    events = events_for(base_event, range(2000))
    low_sampler, high_sampler = sampler_factory(support_chat=0.2), sampler_factory(support_chat=0.6)
    low = {e.subject for e in events if low_sampler.sampled(e)}
    high = {e.subject for e in events if high_sampler.sampled(e)}
    assert low < high


def test_salt_changes_the_sample(sampler_factory: Callable[..., Sampler], base_event: MirrorEvent) -> None:
    events = events_for(base_event, range(2000))
    first_sampler = sampler_factory(support_chat=0.5, salt="2026-q4")
    second_sampler = sampler_factory(support_chat=0.5, salt="2027-q1")
    first = {e.subject for e in events if first_sampler.sampled(e)}
    second = {e.subject for e in events if second_sampler.sampled(e)}
    assert abs(len(first) - len(second)) < 200
    overlap = len(first & second) / len(first)
    assert 0.35 < overlap < 0.65  # independent draws overlap by about the rate


def test_sample_point_is_stable_and_in_unit_interval() -> None:
    points = [sample_point("salt", "support_chat", f"conv_{i}") for i in range(1000)]
    assert all(0.0 <= p < 1.0 for p in points)
    assert points == [sample_point("salt", "support_chat", f"conv_{i}") for i in range(1000)]
    assert sample_point("salt", "support_chat", "k") != sample_point("salt", "refund_flow", "k")


def warnings_of(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "shadow.sample" and r.levelno == logging.WARNING]


def test_an_unset_default_rate_warns_once_per_unlisted_workflow(
    base_event: MirrorEvent, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings.model_validate(
        {"workflows": {"support_chat": {"sample_rate": 1.0}, "kb_answer": {"output_schema": {"type": "object"}}}}
    )
    sampler = Sampler(settings)
    with caplog.at_level(logging.WARNING, logger="shadow.sample"):
        for workflow in ["support_chat", "refund_flow", "refund_flow", "kb_answer", "refund_flow"]:
            assert sampler.sampled(base_event.model_copy(update={"workflow": workflow}))
    # support_chat chose its rate; refund_flow (unlisted) and kb_answer (listed without a rate) fell back to 1.0.
    assert warnings_of(caplog) == [
        "workflow 'refund_flow' has no sample_rate under workflows: it is replayed at 100% because "
        "sampling.default_rate is unset; set sampling.default_rate (or workflows.refund_flow.sample_rate) to choose",
        "workflow 'kb_answer' has no sample_rate under workflows: it is replayed at 100% because "
        "sampling.default_rate is unset; set sampling.default_rate (or workflows.kb_answer.sample_rate) to choose",
    ]


@pytest.mark.parametrize("sampling", [{"default_rate": 1.0}, {"default_rate": 0.3}])
def test_an_explicit_default_rate_never_warns(
    base_event: MirrorEvent, caplog: pytest.LogCaptureFixture, sampling: dict[str, float]
) -> None:
    sampler = Sampler(Settings.model_validate({"sampling": sampling}))
    with caplog.at_level(logging.WARNING, logger="shadow.sample"):
        for i in range(50):
            sampler.sampled(base_event.model_copy(update={"workflow": "refund_flow", "subject": f"conv_{i}"}))
    assert warnings_of(caplog) == []


def test_the_default_rate_set_from_the_environment_counts_as_set(
    base_event: MirrorEvent, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHADOW_SAMPLING__DEFAULT_RATE", "1.0")
    sampler = Sampler(Settings())
    with caplog.at_level(logging.WARNING, logger="shadow.sample"):
        assert sampler.sampled(base_event.model_copy(update={"workflow": "refund_flow"}))
    assert warnings_of(caplog) == []
