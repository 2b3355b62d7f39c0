"""Factories for mirror events and provider bodies in real wire shapes (``*_factory`` + default pairs)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import orjson
import pytest

from shadow.config import CandidateSettings, Settings


def openai_response(
    text: str | None = "Hello! How can I help you today?",
    *,
    tool_calls: list[tuple[str, dict[str, Any] | str]] | None = None,
    finish_reason: str | None = None,
    model: str = "gpt-4o-2024-08-06",
    prompt_tokens: int = 42,
    completion_tokens: int = 9,
    refusal: str | None = None,
) -> dict[str, Any]:
    """A ``chat.completion`` body exactly as OpenAI returns it."""
    message: dict[str, Any] = {"role": "assistant", "content": text, "refusal": refusal, "annotations": []}
    if tool_calls:
        message["tool_calls"] = [
            {
                "id": f"call_{i}{uuid.uuid4().hex[:8]}",
                "type": "function",
                "function": {"name": name, "arguments": args if isinstance(args, str) else orjson.dumps(args).decode()},
            }
            for i, (name, args) in enumerate(tool_calls)
        ]
    return {
        "id": "chatcmpl-" + uuid.uuid4().hex[:20],
        "object": "chat.completion",
        "created": 1763900000,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": message,
                "logprobs": None,
                "finish_reason": finish_reason or ("tool_calls" if tool_calls else "stop"),
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0},
        },
        "service_tier": "default",
        "system_fingerprint": "fp_50cad350e4",
    }


def anthropic_response(
    text: str | None = "Hello! How can I help?",
    *,
    tool_uses: list[tuple[str, dict[str, Any]]] | None = None,
    stop_reason: str | None = None,
    model: str = "claude-3-5-sonnet-20241022",
    input_tokens: int = 40,
    output_tokens: int = 8,
) -> dict[str, Any]:
    """A ``message`` body exactly as Anthropic returns it."""
    content: list[dict[str, Any]] = []
    if text:
        content.append({"type": "text", "text": text})
    for i, (name, arguments) in enumerate(tool_uses or []):
        content.append(
            {"type": "tool_use", "id": f"toolu_0{i}{uuid.uuid4().hex[:12]}", "name": name, "input": arguments}
        )
    return {
        "id": "msg_01" + uuid.uuid4().hex[:20],
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": stop_reason or ("tool_use" if tool_uses else "end_turn"),
        "stop_sequence": None,
        "usage": {"input_tokens": input_tokens, "output_tokens": output_tokens},
    }


WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            },
            "required": ["city"],
            "additionalProperties": False,
        },
    },
}


def openai_request(text: str = "Hello", **extra: Any) -> dict[str, Any]:
    return {
        "model": "gpt-4o-2024-08-06",
        "messages": [
            {"role": "system", "content": "You are a helpful support agent."},
            {"role": "user", "content": text},
        ],
        "temperature": 0.2,
        **extra,
    }


def anthropic_request(text: str = "Hello", **extra: Any) -> dict[str, Any]:
    return {
        "model": "claude-3-5-sonnet-20241022",
        "max_tokens": 1024,
        "system": "You answer from the provided documents.",
        "messages": [{"role": "user", "content": text}],
        **extra,
    }


def make_event(
    *,
    event_id: str | None = None,
    workflow: str = "support_chat",
    api: str = "openai.chat.completions",
    request: dict[str, Any] | None = None,
    response: dict[str, Any] | None = None,
    error: dict[str, Any] | None = None,
    text: str | None = None,
    latency_ms: float = 800.0,
    **extra: Any,
) -> dict[str, Any]:
    """A mirror event as production services publish it (a plain dict, ready for JSON)."""
    event_id = event_id or "evt_" + uuid.uuid4().hex[:16]
    text = text or f"Where is my order {event_id}?"
    if request is None:
        request = openai_request(text) if api == "openai.chat.completions" else anthropic_request(text)
    if response is None and error is None:
        response = openai_response() if api == "openai.chat.completions" else anthropic_response()
    return {
        "schema_version": 1,
        "event_id": event_id,
        "occurred_at": "2026-11-23T10:00:00.000Z",
        "service": "support-api",
        "environment": "prod",
        "workflow": workflow,
        "tenant": "acme",
        "subject": "conv_" + event_id,
        "api": api,
        "request": request,
        "response": response,
        "error": error,
        "latency_ms": latency_ms,
        "tags": {"prompt_version": "v7"},
        **extra,
    }


def event_bytes(event: dict[str, Any]) -> bytes:
    return orjson.dumps(event)


@pytest.fixture
def event_factory() -> Callable[..., dict[str, Any]]:
    return make_event


@pytest.fixture
def event(event_factory: Callable[..., dict[str, Any]]) -> dict[str, Any]:
    return event_factory()


FACTORY_MODELS = ["gpt-4o-2024-08-06", "claude-3-5-sonnet-20241022"]
"""The production models the request and response factories name (what a test's control lane replays)."""


def candidate(name: str, base_url: str, **extra: Any) -> CandidateSettings:
    options: dict[str, Any] = {
        "name": name,
        "provider": "openai",
        "base_url": base_url,
        "model": f"{name}-model",
        "timeout_s": 2.0,
        "max_retries": 0,
        **extra,
    }
    if options["model"] is None:
        options.setdefault("control_models", FACTORY_MODELS)
    return CandidateSettings.model_validate(options)


def settings_for(candidates: list[CandidateSettings], **extra: Any) -> Settings:
    return Settings.model_validate({"candidates": [c.model_dump() for c in candidates], **extra})


@pytest.fixture
def settings_factory() -> Callable[..., Settings]:
    return settings_for
