"""The mirror event contract: MirrorEvent validation and its committed JSON Schema."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from shadow.events.models import Api, MirrorEvent, mirror_event_json_schema
from tests.factories import anthropic_request, anthropic_response, openai_response
from tests.unit.events.values import event_with

ROOT = Path(__file__).resolve().parents[3]
SCHEMA_FILE = ROOT / "schemas" / "mirror_event.v1.schema.json"


def test_committed_json_schema_matches_the_model() -> None:
    assert SCHEMA_FILE.is_file(), "run `shadow schema > schemas/mirror_event.v1.schema.json` and commit it"
    committed = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    assert committed == mirror_event_json_schema(), "regenerate with `shadow schema` after changing MirrorEvent"


def test_json_schema_states_the_contract() -> None:
    schema = mirror_event_json_schema()
    assert set(schema["required"]) >= {
        "schema_version",
        "event_id",
        "occurred_at",
        "service",
        "environment",
        "workflow",
        "api",
        "request",
        "response",
        "latency_ms",
    }
    assert schema["$defs"]["Api"]["enum"] == ["openai.chat.completions", "anthropic.messages", "openai.responses"]
    assert schema["properties"]["schema_version"]["const"] == 1


@pytest.mark.parametrize(
    ("changes", "check"),
    [
        ({}, lambda e: e.api is Api.OPENAI_CHAT and e.schema_version == 1),
        ({"api": "anthropic.messages", "request": anthropic_request(), "response": anthropic_response()},
         lambda e: e.api is Api.ANTHROPIC_MESSAGES),
        ({"tenant": ..., "subject": ..., "tags": ...}, lambda e: e.tenant is None and e.subject is None and e.tags == {}),
        ({"occurred_at": "2026-11-23T18:00:00+08:00"}, lambda e: e.occurred_at.utcoffset().total_seconds() == 8 * 3600),
        ({"latency_ms": 0}, lambda e: e.latency_ms == 0.0),
        ({"latency_ms": 1234.5}, lambda e: e.latency_ms == 1234.5),
        ({"producer_hostname": "pod-7"}, lambda e: not hasattr(e, "producer_hostname")),
        ({"response": None, "error": {"status": 529, "type": "overloaded_error", "message": "Overloaded"}},
         lambda e: e.response is None and e.error is not None and e.error.status == 529),
        ({"workflow": "客服_chat", "tags": {"release": "2026.11", "语言": "中文"}}, lambda e: e.tags["语言"] == "中文"),
    ],
    ids=["openai", "anthropic", "optional-fields-absent", "offset-timestamp", "zero-latency", "float-latency",
         "unknown-field-ignored", "production-error", "chinese-labels"],
)  # fmt: skip
def test_valid_events(changes: dict[str, Any], check: Callable[[MirrorEvent], bool]) -> None:
    assert check(MirrorEvent.model_validate(event_with(**changes)))


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"schema_version": True}, "schema_version"),
        ({"schema_version": 1.0}, "schema_version"),
        ({"schema_version": 2}, "schema_version"),
        ({"event_id": ""}, "event_id"),
        ({"event_id": "e" * 257}, "event_id"),
        ({"occurred_at": 1763900000}, "occurred_at"),
        ({"occurred_at": "2026-11-23T10:00:00"}, "occurred_at"),
        ({"latency_ms": "850"}, "latency_ms"),
        ({"latency_ms": -0.5}, "latency_ms"),
        ({"api": "google.gemini"}, "api"),
        ({"tags": {"attempt": 2}}, "tags"),
        ({"response": None, "error": None}, "response"),
    ],
    ids=lambda v: str(v) if isinstance(v, str) else None,
)
def test_invalid_events_name_the_field(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as info:
        MirrorEvent.model_validate(event_with(**changes))
    assert field in str(info.value)


@pytest.mark.parametrize(
    ("request_body", "response", "expected"),
    [
        ({"model": "gpt-4o-mini", "messages": []}, openai_response(model="gpt-4o-mini-2024-07-18"), "gpt-4o-mini"),
        ({"messages": []}, openai_response(model="gpt-4o-mini-2024-07-18"), "gpt-4o-mini-2024-07-18"),
        ({"model": "", "messages": []}, None, ""),
    ],
)
def test_production_model(request_body: dict[str, Any], response: dict[str, Any] | None, expected: str) -> None:
    error = None if response else {"status": 500}
    event = MirrorEvent.model_validate(event_with(request=request_body, response=response, error=error))
    assert event.production_model == expected
