"""Read provider response bodies (OpenAI chat completions, Anthropic messages) into :class:`Output`.

Pure functions; a body that does not have the documented shape raises
:class:`~shadow.errors.ResponseFormatError` naming the field at fault.
"""

from __future__ import annotations

from typing import Any

import orjson

from shadow.errors import ResponseFormatError
from shadow.events.models import Api
from shadow.events.output import FinishReason, Output, ToolCall, Usage

_OPENAI_FINISH = {
    "stop": FinishReason.STOP,
    "length": FinishReason.LENGTH,
    "tool_calls": FinishReason.TOOL_CALLS,
    "function_call": FinishReason.TOOL_CALLS,
    "content_filter": FinishReason.CONTENT_FILTER,
}

_ANTHROPIC_FINISH = {
    "end_turn": FinishReason.STOP,
    "stop_sequence": FinishReason.STOP,
    "max_tokens": FinishReason.LENGTH,
    "model_context_window_exceeded": FinishReason.LENGTH,
    "tool_use": FinishReason.TOOL_CALLS,
    "refusal": FinishReason.CONTENT_FILTER,
}


def parse_response(api: Api, body: Any) -> Output:
    """Normalize a provider response body of the given API."""
    if api is Api.OPENAI_CHAT:
        return parse_openai_response(body)
    return parse_anthropic_response(body)


def _int_or_none(value: Any, where: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ResponseFormatError(f"{where} must be a number, got {type(value).__name__}")
    return int(value)


def _arguments_text(value: Any) -> str:
    # OpenAI sends a JSON string; some compatible servers send an object.
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    return orjson.dumps(value).decode()


def parse_openai_response(body: Any) -> Output:
    """Normalize an OpenAI ``chat.completion`` body (first choice)."""
    if not isinstance(body, dict):
        raise ResponseFormatError(f"response body must be a JSON object, got {type(body).__name__}")
    if "error" in body and "choices" not in body:
        raise ResponseFormatError(f"response is an error body: {str(body['error'])[:200]}")
    choices = body.get("choices")
    if not isinstance(choices, list) or not choices:
        raise ResponseFormatError("response.choices must be a non-empty array")
    choice = choices[0]
    if not isinstance(choice, dict) or not isinstance(choice.get("message"), dict):
        raise ResponseFormatError("response.choices[0].message must be an object")
    message = choice["message"]

    content = message.get("content")
    if content is None:
        text = ""
    elif isinstance(content, str):
        text = content
    elif isinstance(content, list):
        parts = []
        for i, part in enumerate(content):
            if not isinstance(part, dict):
                raise ResponseFormatError(f"response.choices[0].message.content[{i}] must be an object")
            if part.get("type") in ("text", "output_text") and isinstance(part.get("text"), str):
                parts.append(part["text"])
        text = "".join(parts)
    else:
        raise ResponseFormatError(
            f"response.choices[0].message.content must be a string, array or null, got {type(content).__name__}"
        )

    calls: list[ToolCall] = []
    raw_calls = message.get("tool_calls") or []
    if not isinstance(raw_calls, list):
        raise ResponseFormatError("response.choices[0].message.tool_calls must be an array")
    for i, call in enumerate(raw_calls):
        function = call.get("function") if isinstance(call, dict) else None
        if not isinstance(function, dict) or not isinstance(function.get("name"), str):
            raise ResponseFormatError(f"response.choices[0].message.tool_calls[{i}].function.name is missing")
        calls.append(ToolCall(function["name"], _arguments_text(function.get("arguments")), call.get("id")))
    legacy = message.get("function_call")
    if isinstance(legacy, dict) and isinstance(legacy.get("name"), str):
        calls.append(ToolCall(legacy["name"], _arguments_text(legacy.get("arguments"))))

    raw_finish = choice.get("finish_reason")
    finish = _OPENAI_FINISH.get(raw_finish, FinishReason.OTHER) if isinstance(raw_finish, str) else FinishReason.OTHER
    if raw_finish is None:
        finish = FinishReason.TOOL_CALLS if calls else FinishReason.STOP
    refusal = message.get("refusal")

    usage = body.get("usage") or {}
    if not isinstance(usage, dict):
        raise ResponseFormatError("response.usage must be an object")
    return Output(
        text=text,
        tool_calls=tuple(calls),
        finish_reason=finish,
        raw_finish_reason=raw_finish if isinstance(raw_finish, str) else None,
        usage=Usage(
            _int_or_none(usage.get("prompt_tokens"), "response.usage.prompt_tokens"),
            _int_or_none(usage.get("completion_tokens"), "response.usage.completion_tokens"),
        ),
        model=body.get("model") if isinstance(body.get("model"), str) else None,
        refusal=refusal if isinstance(refusal, str) and refusal else None,
        raw=body,
    )


def parse_anthropic_response(body: Any) -> Output:
    """Normalize an Anthropic ``message`` body (text and tool_use blocks)."""
    if not isinstance(body, dict):
        raise ResponseFormatError(f"response body must be a JSON object, got {type(body).__name__}")
    if body.get("type") == "error":
        raise ResponseFormatError(f"response is an error body: {str(body.get('error'))[:200]}")
    content = body.get("content")
    if not isinstance(content, list):
        raise ResponseFormatError("response.content must be an array of content blocks")
    texts: list[str] = []
    calls: list[ToolCall] = []
    for i, block in enumerate(content):
        if not isinstance(block, dict):
            raise ResponseFormatError(f"response.content[{i}] must be an object")
        kind = block.get("type")
        if kind == "text":
            if not isinstance(block.get("text"), str):
                raise ResponseFormatError(f"response.content[{i}].text must be a string")
            texts.append(block["text"])
        elif kind in ("tool_use", "server_tool_use"):
            if not isinstance(block.get("name"), str):
                raise ResponseFormatError(f"response.content[{i}].name must be a string")
            calls.append(ToolCall(block["name"], _arguments_text(block.get("input", {})), block.get("id")))
    raw_finish = body.get("stop_reason")
    finish = (
        _ANTHROPIC_FINISH.get(raw_finish, FinishReason.OTHER) if isinstance(raw_finish, str) else FinishReason.OTHER
    )
    if raw_finish is None:
        finish = FinishReason.TOOL_CALLS if calls else FinishReason.STOP
    usage = body.get("usage") or {}
    if not isinstance(usage, dict):
        raise ResponseFormatError("response.usage must be an object")
    return Output(
        text="\n".join(texts),
        tool_calls=tuple(calls),
        finish_reason=finish,
        raw_finish_reason=raw_finish if isinstance(raw_finish, str) else None,
        usage=Usage(
            _int_or_none(usage.get("input_tokens"), "response.usage.input_tokens"),
            _int_or_none(usage.get("output_tokens"), "response.usage.output_tokens"),
        ),
        model=body.get("model") if isinstance(body.get("model"), str) else None,
        raw=body,
    )


def check_request(api: Api, request: dict[str, Any]) -> None:
    """Reject requests shadow cannot replay, naming the field at fault."""
    messages = request.get("messages")
    if not isinstance(messages, list) or not messages:
        raise ResponseFormatError("request.messages must be a non-empty array")
    for i, message in enumerate(messages):
        if not isinstance(message, dict) or not isinstance(message.get("role"), str):
            raise ResponseFormatError(f"request.messages[{i}].role must be a string")
    tools = request.get("tools")
    if tools is not None and not isinstance(tools, list):
        raise ResponseFormatError("request.tools must be an array")
    if api is Api.ANTHROPIC_MESSAGES and "system" in request:
        system = request["system"]
        if not isinstance(system, str | list):
            raise ResponseFormatError("request.system must be a string or an array of text blocks")
