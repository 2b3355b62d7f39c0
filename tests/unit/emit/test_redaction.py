"""Redaction at the source: the workers' rules and key, over request, response, error, tenant, subject and
tags, in the publisher's thread; off when asked."""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass

import httpx
import orjson

from shadow.config import RedactionSettings
from shadow.demo.server import Answer, RecordedToolCall
from shadow.emit import context, httpx_hooks, instrument
from shadow.redaction import KEY_ENV, Redactor
from tests.unit.emit.fakes import FakeProvider, published

SECRET_ANSWER = Answer(
    text="I wrote to bob@example.com.",
    tool_calls=(
        RecordedToolCall("refund", {"email": "bob@example.com", "card": 4111111111111111, "customer_name": "Bob"}),
    ),
    finish_reason="tool_calls",
    input_tokens=10,
    output_tokens=10,
)
CHAT = {
    "model": "gpt-test",
    "messages": [{"role": "user", "content": "Refund bob@example.com, card 4111 1111 1111 1111"}],
}
WORKER_KEY = "worker-key-123"


def _worker_redactor(**settings) -> Redactor:
    return Redactor.from_settings(RedactionSettings(**settings), {KEY_ENV: WORKER_KEY})


def test_everything_personal_is_redacted_with_the_workers_tokens(emitter_factory, monkeypatch) -> None:
    monkeypatch.setenv(KEY_ENV, WORKER_KEY)
    emitter, producer = emitter_factory(redact=True, redaction=RedactionSettings(json_paths=["$..customer_name"]))
    provider = FakeProvider(SECRET_ANSWER)
    client = instrument(provider.openai(), emitter)
    with context(tenant="acme-bob@example.com", subject="bob@example.com", tags={"owner": "bob@example.com"}):
        answer = client.chat.completions.create(**CHAT)
    assert "bob@example.com" in answer.choices[0].message.content  # the caller sees the real answer
    (decoded,) = published(emitter, producer)
    raw = producer.values()[0]
    assert b"bob@example.com" not in raw and b"4111" not in raw and b'"Bob"' not in raw
    worker = _worker_redactor()
    token = worker("bob@example.com")
    event = decoded.event
    assert event.subject == token and event.tenant == worker("acme-bob@example.com")
    assert event.tags == {"owner": token}
    assert event.request["messages"][0]["content"] == worker(CHAT["messages"][0]["content"])
    assert event.response["choices"][0]["message"]["content"] == f"I wrote to {token}."
    arguments = orjson.loads(decoded.production.tool_calls[0].arguments)  # still JSON
    assert arguments["email"] == token
    assert isinstance(arguments["card"], int) and arguments["card"] != 4111111111111111
    assert arguments["customer_name"].startswith("[FIELD:")


def test_error_messages_are_redacted(emitter_factory, monkeypatch) -> None:
    monkeypatch.setenv(KEY_ENV, WORKER_KEY)
    emitter, producer = emitter_factory(redact=True)

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            400, json={"error": {"type": "invalid_request_error", "message": "bad user bob@example.com"}}
        )

    client = httpx.Client(transport=httpx.MockTransport(handler), event_hooks=httpx_hooks(emitter))
    client.post("http://provider.test/v1/chat/completions", json=CHAT)
    (decoded,) = published(emitter, producer)
    assert decoded.event.error.message == f"bad user {_worker_redactor()('bob@example.com')}"


def test_redaction_off_keeps_the_values(emitter_factory) -> None:
    emitter, producer = emitter_factory(redact=False)
    client = instrument(FakeProvider(SECRET_ANSWER).openai(), emitter)
    with context(subject="bob@example.com"):
        client.chat.completions.create(**CHAT)
    (decoded,) = published(emitter, producer)
    assert decoded.event.subject == "bob@example.com"
    assert decoded.event.request == CHAT


@dataclass(frozen=True, slots=True)
class _ThreadRecordingRedactor(Redactor):
    threads: list = None  # type: ignore[assignment]

    def __call__(self, text: str) -> str:
        self.threads.append(threading.current_thread().name)
        return Redactor.__call__(self, text)


def test_redaction_runs_in_the_publisher_thread(emitter_factory) -> None:
    """Only the subject is redacted on the request path (once per subject: sampling hashes its token)."""
    base = _worker_redactor()
    threads: list[str] = []
    redactor = _ThreadRecordingRedactor(base.rules, base.names, threads=threads)
    emitter, producer = emitter_factory(redactor=redactor)
    client = instrument(FakeProvider(SECRET_ANSWER).openai(), emitter)
    for _ in range(3):
        with context(subject="conv-1", tenant="acme"):
            client.chat.completions.create(**CHAT)
    published(emitter, producer)
    caller = threading.current_thread().name
    assert threads.count(caller) == 1  # the subject, once (cached)
    assert set(threads) == {caller, "shadow-emit-publisher"}
    assert threads.count("shadow-emit-publisher") > 3 * 3


def test_without_a_key_the_service_environment_is_left_alone(emitter_factory, monkeypatch, caplog) -> None:
    monkeypatch.delenv(KEY_ENV, raising=False)
    before = dict(os.environ)
    with caplog.at_level(logging.WARNING, logger="shadow.emit.emitter"):
        emitter, _ = emitter_factory(redact=True)
    assert emitter.redactor is not None and emitter.redactor.active
    assert dict(os.environ) == before
    assert any(KEY_ENV in record.getMessage() for record in caplog.records)
