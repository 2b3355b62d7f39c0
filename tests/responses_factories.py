"""OpenAI Responses API bodies in real wire shapes (each one the ``openai`` SDK's types accept)."""

from __future__ import annotations

import uuid
from typing import Any

import orjson
from openai.types.responses import Response

from tests.factories import WEATHER_TOOL

FLAT_WEATHER_TOOL = {
    "type": "function",
    "name": "get_weather",
    "description": "Current weather for a city",
    "parameters": WEATHER_TOOL["function"]["parameters"],  # type: ignore[index]
    "strict": True,
}
"""``tests.factories.WEATHER_TOOL`` as the Responses API declares function tools (flat)."""


def message_item(text: str, *, refusal: str | None = None, status: str = "completed") -> dict[str, Any]:
    content: list[dict[str, Any]] = []
    if text:
        content.append({"type": "output_text", "text": text, "annotations": [], "logprobs": []})
    if refusal is not None:
        content.append({"type": "refusal", "refusal": refusal})
    return {"id": "msg_" + uuid.uuid4().hex[:20], "type": "message", "role": "assistant", "status": status,
            "content": content}  # fmt: skip


def function_call_item(name: str, arguments: dict[str, Any] | str, call_id: str | None = None) -> dict[str, Any]:
    return {
        "id": "fc_" + uuid.uuid4().hex[:20],
        "type": "function_call",
        "call_id": call_id or "call_" + uuid.uuid4().hex[:12],
        "name": name,
        "arguments": arguments if isinstance(arguments, str) else orjson.dumps(arguments).decode(),
        "status": "completed",
    }


def reasoning_item(summary: str = "", encrypted: str | None = None) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": "rs_" + uuid.uuid4().hex[:20],
        "type": "reasoning",
        "summary": [{"type": "summary_text", "text": summary}] if summary else [],
    }
    if encrypted is not None:
        item["encrypted_content"] = encrypted
    return item


def responses_response(
    text: str | None = "Hello! How can I help you today?",
    *,
    tool_calls: list[tuple[str, dict[str, Any] | str]] | None = None,
    output: list[dict[str, Any]] | None = None,
    status: str = "completed",
    incomplete_reason: str | None = None,
    model: str = "gpt-5-2025-08-07",
    input_tokens: int = 42,
    output_tokens: int = 9,
    reasoning_tokens: int = 0,
    **body: Any,
) -> dict[str, Any]:
    """A ``response`` object exactly as the Responses API returns it (``output`` replaces text and calls)."""
    if output is None:
        output = [message_item(text, status="incomplete" if status == "incomplete" else "completed")] if text else []
        output += [function_call_item(name, arguments) for name, arguments in tool_calls or ()]
    response = {
        "id": "resp_" + uuid.uuid4().hex[:24],
        "object": "response",
        "created_at": 1763900000,
        "status": status,
        "background": False,
        "error": None,
        "incomplete_details": {"reason": incomplete_reason} if incomplete_reason else None,
        "instructions": None,
        "max_output_tokens": None,
        "max_tool_calls": None,
        "model": model,
        "output": output,
        "parallel_tool_calls": True,
        "previous_response_id": None,
        "reasoning": {"effort": "medium", "summary": None},
        "service_tier": "default",
        "store": True,
        "temperature": 1.0,
        "text": {"format": {"type": "text"}, "verbosity": "medium"},
        "tool_choice": "auto",
        "tools": [],
        "top_p": 1.0,
        "truncation": "disabled",
        "usage": {
            "input_tokens": input_tokens,
            "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
            "output_tokens": output_tokens,
            "output_tokens_details": {"reasoning_tokens": reasoning_tokens},
            "total_tokens": input_tokens + output_tokens,
        },
        "user": None,
        "metadata": {},
        **body,
    }
    Response.model_validate(response)  # the SDK's own type: the shape is real
    return response


def responses_request(question: str = "Hello", **extra: Any) -> dict[str, Any]:
    """A Responses request as production sends it (``tests.factories.openai_request``'s conversation)."""
    return {
        "model": "gpt-5-2025-08-07",
        "instructions": "You are a helpful support agent.",
        "input": [{"role": "user", "content": question}],
        "temperature": 0.2,
        **extra,
    }
