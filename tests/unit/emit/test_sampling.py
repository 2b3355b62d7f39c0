"""Sampling at the source agrees with the worker's Sampler, on the events as the worker receives them."""

from __future__ import annotations

import pytest

from shadow.config import RedactionSettings, Settings, WorkflowSettings, load_settings
from shadow.emit import EmitterSettings, SourceSampler, context, instrument
from shadow.events.models import MirrorEvent
from shadow.sample import Sampler
from tests.factories import make_event
from tests.unit.emit.fakes import FakeProvider, published

CHAT = {"model": "gpt-test", "messages": [{"role": "user", "content": "hi"}]}
WORKER_YAML = """
sampling:
  default_rate: 0.3
  salt: "spring"
workflows:
  support_chat: {sample_rate: 0.5}
  invoices: {sample_rate: 0.0}
  audit: {sample_rate: 1.0}
redaction:
  json_paths: ["$..customer_name"]
kafka:
  bootstrap_servers: "kafka-1:9092"
  topic: "llm.mirror.test"
"""


def test_source_sampler_is_the_workers_rule() -> None:
    settings = Settings(
        sampling={"default_rate": 0.2, "salt": "s"},
        workflows={"a": WorkflowSettings(sample_rate=0.7), "b": WorkflowSettings(sample_rate=0.0)},
    )
    ours, theirs = SourceSampler.from_settings(settings), Sampler(settings)
    for n in range(600):
        workflow = ("a", "b", "c")[n % 3]
        subject = f"conversation-{n}" if n % 2 else None
        event = MirrorEvent.model_validate(make_event(workflow=workflow, subject=subject, event_id=f"e-{n}"))
        assert ours.sampled(workflow, subject or f"e-{n}") == theirs.sampled(event)


def test_settings_from_the_workers_yaml(tmp_path) -> None:
    path = tmp_path / "shadow.yaml"
    path.write_text(WORKER_YAML)
    settings = EmitterSettings.from_worker_config(path, service="support-api")
    assert settings.sample_rates == {"support_chat": 0.5, "invoices": 0.0, "audit": 1.0}
    assert (settings.default_rate, settings.salt) == (0.3, "spring")
    assert settings.kafka.topic == "llm.mirror.test" and settings.kafka.bootstrap_servers == "kafka-1:9092"
    assert settings.redaction.json_paths == ["$..customer_name"]
    assert settings.redact is True


@pytest.mark.parametrize("redact", [False, True], ids=["plain", "redacted"])
def test_every_event_emitted_is_one_the_worker_keeps(
    emitter_factory, provider: FakeProvider, tmp_path, monkeypatch, redact: bool
) -> None:
    """Subjects that are e-mail addresses are redacted at the source: the emitter samples on the token the
    worker will hash, so the worker keeps all it receives, and receives exactly what it would sample."""
    monkeypatch.setenv("SHADOW_REDACTION_KEY", "k-test")
    path = tmp_path / "shadow.yaml"
    path.write_text(WORKER_YAML)
    settings = EmitterSettings.from_worker_config(path, service="support-api", redact=redact)
    emitter, producer = emitter_factory(settings=settings)
    worker = load_settings(path)
    client = instrument(provider.openai(), emitter)
    calls = 0
    calls_by_subject: dict[tuple[str, str], int] = {}
    for n in range(120):
        workflow = ("support_chat", "invoices", "audit", "other")[n % 4]
        subject = f"user{n % 10}@example.com" if n % 3 else None
        with context(workflow=workflow, subject=subject):
            client.chat.completions.create(**CHAT)
        calls += 1
        if subject:
            emitted = emitter.redactor(subject) if redact else subject
            calls_by_subject[(workflow, emitted)] = calls_by_subject.get((workflow, emitted), 0) + 1
    events = [e.event for e in published(emitter, producer)]
    stats = emitter.stats()
    assert stats.seen == calls and stats.sampled_out + len(events) == calls
    sampler = Sampler(worker)
    assert all(sampler.sampled(event) for event in events)
    assert {e.workflow for e in events} >= {"support_chat", "audit"}
    assert "invoices" not in {e.workflow for e in events}
    assert sum(e.workflow == "audit" for e in events) == 30
    subjects = {e.subject for e in events if e.subject}
    assert all(("@" not in s) == redact for s in subjects)
    # Sticky: a subject's calls in a workflow are all mirrored or none is.
    by_subject: dict[tuple[str, str], int] = {}
    for event in events:
        if event.subject:
            by_subject[(event.workflow, event.subject)] = by_subject.get((event.workflow, event.subject), 0) + 1
    assert by_subject and all(count == calls_by_subject[key] for key, count in by_subject.items())
    assert any(calls_by_subject[key] > 1 for key in by_subject)


def test_unsampled_calls_record_nothing(emitter_factory, provider: FakeProvider) -> None:
    emitter, producer = emitter_factory(default_rate=0.0)
    client = instrument(provider.openai(), emitter)
    for _ in range(5):
        client.chat.completions.create(**CHAT)
    stats = emitter.stats()
    assert (stats.seen, stats.sampled_out, stats.queued) == (5, 5, 0)
    assert published(emitter, producer) == []


def test_rates_outside_0_1_are_refused() -> None:
    with pytest.raises(ValueError, match="within"):
        SourceSampler({"a": 1.5})
    with pytest.raises(ValueError):
        EmitterSettings(service="s", sample_rates={"a": -0.1})


def test_redaction_section_is_the_workers(tmp_path) -> None:
    assert EmitterSettings(service="s").redaction == RedactionSettings()
