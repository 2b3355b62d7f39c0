"""Read provider response bodies (OpenAI chat completions and Responses, Anthropic messages) into :class:`Output`.

Pure functions; a body that does not have the documented shape raises
:class:`~shadow.errors.ResponseFormatError` naming the field at fault.

Token counts are believed only when they are plausible (:func:`plausible_usage`): a count that is
negative, above :data:`MAX_TOKENS_PER_CALL`, or (for output) far more than the answer's visible text
and its reported hidden tokens can explain is read as not reported, so costs stay unknown rather
than wrong. The same rule holds for production's answers and the candidates'.
"""

from __future__ import annotations

from typing import Any, NamedTuple

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


MAX_TOKENS_PER_CALL = 10_000_000
"""More tokens than any model reads or writes in one call: a larger count is not believed."""
TOKENS_PER_CHAR = 4
"""The most tokens one visible character can cost (a rare 4-byte UTF-8 character, byte by byte)."""
TOKEN_SLACK = 256
"""Output tokens an answer may cost beyond its visible characters (tool-call framing, special tokens)."""
OUTPUT_LIMIT_SLACK = 16
"""How far a reported output count may pass the request's output limit (servers count stop tokens)."""


class Hidden(NamedTuple):
    """Output tokens the answer's text does not show (reasoning, audio, rejected predictions)."""

    tokens: int = 0
    unbounded: bool = False
    """True when the answer holds hidden output of unknown size (Anthropic thinking blocks)."""


_NOTHING_HIDDEN = Hidden()


def parse_response(api: Api, body: Any, *, output_limit: int | None = None) -> Output:
    """Normalize a provider response body of the given API.

    Args:
        api: the wire format of ``body``.
        body: the parsed JSON body.
        output_limit: the request's output limit, when known; a larger reported output count is not believed.
    """
    if api is Api.OPENAI_CHAT:
        return parse_openai_response(body, output_limit=output_limit)
    if api is Api.OPENAI_RESPONSES:
        return parse_responses_response(body, output_limit=output_limit)
    return parse_anthropic_response(body, output_limit=output_limit)


def _int_or_none(value: Any, where: str) -> int | None:
    """A reported count: None when absent or not believable (negative, beyond :data:`MAX_TOKENS_PER_CALL`)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ResponseFormatError(f"{where} must be a number, got {type(value).__name__}")
    if not 0 <= value <= MAX_TOKENS_PER_CALL:  # also false for NaN
        return None
    return int(value)


def _detail_count(details: Any, key: str) -> int:
    value = details.get(key) if isinstance(details, dict) else None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= MAX_TOKENS_PER_CALL:
        return 0
    return int(value)


def visible_chars(text: str, tool_calls: list[ToolCall] | tuple[ToolCall, ...], refusal: str | None) -> int:
    """Characters of an answer that output tokens must account for."""
    return len(text) + sum(len(c.name) + len(c.arguments) for c in tool_calls) + len(refusal or "")


def plausible_usage(
    input_tokens: int | None,
    output_tokens: int | None,
    *,
    visible: int,
    hidden: Hidden = _NOTHING_HIDDEN,
    output_limit: int | None = None,
) -> Usage:
    """The counts worth believing, each None when it is not.

    An output count is not believed when it passes the request's output limit (plus
    :data:`OUTPUT_LIMIT_SLACK`), when its hidden part is larger than itself, or when its visible part
    is more than :data:`TOKENS_PER_CHAR` tokens per visible character plus :data:`TOKEN_SLACK`
    (unless the answer holds hidden output of unknown size). Both counts are already within
    ``[0, MAX_TOKENS_PER_CALL]`` (see ``_int_or_none``).
    """
    if output_tokens is not None:
        over_limit = output_limit is not None and output_tokens > output_limit + OUTPUT_LIMIT_SLACK
        shown = output_tokens - hidden.tokens
        unexplained = not hidden.unbounded and shown > TOKENS_PER_CHAR * visible + TOKEN_SLACK
        if over_limit or shown < 0 or unexplained:
            output_tokens = None
    return Usage(input_tokens, output_tokens)


def _arguments_text(value: Any) -> str:
    # OpenAI sends a JSON string; some compatible servers send an object.
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    return orjson.dumps(value).decode()


def parse_openai_response(body: Any, *, output_limit: int | None = None) -> Output:
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

    refusal = refusal if isinstance(refusal, str) and refusal else None

    usage = body.get("usage") or {}
    if not isinstance(usage, dict):
        raise ResponseFormatError("response.usage must be an object")
    details = usage.get("completion_tokens_details")
    hidden = sum(
        _detail_count(details, key) for key in ("reasoning_tokens", "audio_tokens", "rejected_prediction_tokens")
    )
    return Output(
        text=text,
        tool_calls=tuple(calls),
        finish_reason=finish,
        raw_finish_reason=raw_finish if isinstance(raw_finish, str) else None,
        usage=plausible_usage(
            _int_or_none(usage.get("prompt_tokens"), "response.usage.prompt_tokens"),
            _int_or_none(usage.get("completion_tokens"), "response.usage.completion_tokens"),
            visible=visible_chars(text, calls, refusal),
            hidden=Hidden(hidden),
            output_limit=output_limit,
        ),
        model=body.get("model") if isinstance(body.get("model"), str) else None,
        refusal=refusal,
        raw=body,
    )


def parse_anthropic_response(body: Any, *, output_limit: int | None = None) -> Output:
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
    thinking = False
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
        elif kind in ("thinking", "redacted_thinking"):
            thinking = True  # billed as output, shown summarized or encrypted: its size is unknown
    raw_finish = body.get("stop_reason")
    finish = (
        _ANTHROPIC_FINISH.get(raw_finish, FinishReason.OTHER) if isinstance(raw_finish, str) else FinishReason.OTHER
    )
    if raw_finish is None:
        finish = FinishReason.TOOL_CALLS if calls else FinishReason.STOP
    usage = body.get("usage") or {}
    if not isinstance(usage, dict):
        raise ResponseFormatError("response.usage must be an object")
    text = "\n".join(texts)
    return Output(
        text=text,
        tool_calls=tuple(calls),
        finish_reason=finish,
        raw_finish_reason=raw_finish if isinstance(raw_finish, str) else None,
        usage=plausible_usage(
            _int_or_none(usage.get("input_tokens"), "response.usage.input_tokens"),
            _int_or_none(usage.get("output_tokens"), "response.usage.output_tokens"),
            visible=visible_chars(text, calls, None),
            hidden=Hidden(unbounded=thinking),
            output_limit=output_limit,
        ),
        model=body.get("model") if isinstance(body.get("model"), str) else None,
        raw=body,
    )


_RESPONSES_INCOMPLETE = {
    "max_output_tokens": FinishReason.LENGTH,
    "content_filter": FinishReason.CONTENT_FILTER,
}
_RESPONSES_STATUS = {"failed": FinishReason.ERROR, "cancelled": FinishReason.OTHER}


def _responses_message(item: dict[str, Any], where: str, texts: list[str], refusals: list[str]) -> None:
    content = item.get("content")
    if not isinstance(content, list):
        raise ResponseFormatError(f"{where}.content must be an array of content parts")
    for j, part in enumerate(content):
        if not isinstance(part, dict):
            raise ResponseFormatError(f"{where}.content[{j}] must be an object")
        kind = part.get("type")
        if kind == "output_text":
            if not isinstance(part.get("text"), str):
                raise ResponseFormatError(f"{where}.content[{j}].text must be a string")
            texts.append(part["text"])
        elif kind == "refusal":
            if not isinstance(part.get("refusal"), str):
                raise ResponseFormatError(f"{where}.content[{j}].refusal must be a string")
            refusals.append(part["refusal"])


def parse_responses_response(body: Any, *, output_limit: int | None = None) -> Output:
    """Normalize an OpenAI Responses API ``response`` object.

    Text is the ``output_text`` parts of the ``message`` items, joined as the SDK's ``output_text`` joins
    them; ``refusal`` parts are the refusal; ``function_call`` and ``custom_tool_call`` items are the
    tool calls (the built-in tools' items, such as ``web_search_call``, ran on OpenAI's side and are
    not). Reasoning is hidden output: ``output_tokens_details.reasoning_tokens``, or of unknown size when
    reasoning items came without that count. The finish reason follows ``status``: ``completed`` is a
    stop (tool calls when the answer holds function calls), ``incomplete`` says why in
    ``incomplete_details.reason`` (``max_output_tokens``: length, ``content_filter``), ``failed`` is an
    error; the raw finish reason is that reason, else the status.
    """
    if not isinstance(body, dict):
        raise ResponseFormatError(f"response body must be a JSON object, got {type(body).__name__}")
    if body.get("error") is not None and "output" not in body:
        raise ResponseFormatError(f"response is an error body: {str(body['error'])[:200]}")
    output = body.get("output")
    if not isinstance(output, list):
        raise ResponseFormatError("response.output must be an array of output items")
    texts: list[str] = []
    refusals: list[str] = []
    calls: list[ToolCall] = []
    reasoning = False
    for i, item in enumerate(output):
        where = f"response.output[{i}]"
        if not isinstance(item, dict) or not isinstance(item.get("type"), str):
            raise ResponseFormatError(f"{where}.type must be a string")
        kind = item["type"]
        if kind == "message":
            _responses_message(item, where, texts, refusals)
        elif kind in ("function_call", "custom_tool_call"):
            if not isinstance(item.get("name"), str):
                raise ResponseFormatError(f"{where}.name must be a string")
            arguments = item.get("arguments") if kind == "function_call" else item.get("input")
            call_id = item.get("call_id")
            calls.append(
                ToolCall(item["name"], _arguments_text(arguments), call_id if isinstance(call_id, str) else None)
            )
        elif kind == "reasoning":
            reasoning = True

    status = body.get("status")
    details = body.get("incomplete_details")
    reason = details.get("reason") if isinstance(details, dict) else None
    if status == "incomplete" or (status is None and isinstance(reason, str)):
        finish = (
            _RESPONSES_INCOMPLETE.get(reason, FinishReason.OTHER) if isinstance(reason, str) else FinishReason.OTHER
        )
        raw_finish = reason if isinstance(reason, str) else status
    elif status in (None, "completed"):
        finish = FinishReason.TOOL_CALLS if calls else FinishReason.STOP
        raw_finish = status
    else:
        finish = _RESPONSES_STATUS.get(status, FinishReason.OTHER) if isinstance(status, str) else FinishReason.OTHER
        raw_finish = status if isinstance(status, str) else None

    usage = body.get("usage") or {}
    if not isinstance(usage, dict):
        raise ResponseFormatError("response.usage must be an object")
    reasoning_tokens = _detail_count(usage.get("output_tokens_details"), "reasoning_tokens")
    text = "".join(texts)
    refusal = "".join(refusals) or None
    return Output(
        text=text,
        tool_calls=tuple(calls),
        finish_reason=finish,
        raw_finish_reason=raw_finish,
        usage=plausible_usage(
            _int_or_none(usage.get("input_tokens"), "response.usage.input_tokens"),
            _int_or_none(usage.get("output_tokens"), "response.usage.output_tokens"),
            visible=visible_chars(text, calls, refusal),
            hidden=Hidden(reasoning_tokens, unbounded=reasoning and not reasoning_tokens),
            output_limit=output_limit,
        ),
        model=body.get("model") if isinstance(body.get("model"), str) else None,
        refusal=refusal,
        raw=body,
    )


_ROLES = ("user", "assistant", "system", "developer")
# Input items with required string fields beyond their type (others are judged when replayed).
_ITEM_STRINGS = {
    "function_call": ("call_id", "name", "arguments"),
    "function_call_output": ("call_id",),
    "item_reference": ("id",),
}
# Requests whose context lives on OpenAI's side: their input may be empty (replay then says why it cannot).
_STATEFUL = ("previous_response_id", "conversation", "prompt")


def _check_responses_item(item: Any, where: str) -> None:
    if not isinstance(item, dict):
        raise ResponseFormatError(f"{where} must be an object")
    kind = item.get("type")
    if kind is not None and not isinstance(kind, str):
        raise ResponseFormatError(f"{where}.type must be a string")
    if kind is None and "role" not in item and isinstance(item.get("id"), str):
        return  # an item_reference, its type left out
    if kind in (None, "message"):
        if item.get("role") not in _ROLES:
            raise ResponseFormatError(f"{where}.role must be one of {', '.join(_ROLES)}")
        content = item.get("content")
        if isinstance(content, list):
            for j, part in enumerate(content):
                if not isinstance(part, dict) or not isinstance(part.get("type"), str):
                    raise ResponseFormatError(f"{where}.content[{j}].type must be a string")
        elif not isinstance(content, str):
            raise ResponseFormatError(f"{where}.content must be a string or an array of content parts")
        return
    for key in _ITEM_STRINGS.get(kind, ()):
        if not isinstance(item.get(key), str):
            raise ResponseFormatError(f"{where}.{key} must be a string")
    if kind == "function_call_output" and not isinstance(item.get("output"), str | list):
        raise ResponseFormatError(f"{where}.output must be a string or an array of content parts")


def _check_responses_request(request: dict[str, Any]) -> None:
    """A Responses request: ``input`` a non-empty string or array of items (absent only when production's
    context is stored on OpenAI's side), ``instructions`` a string, ``tools`` an array of typed tools."""
    value = request.get("input")
    if value is None and any(request.get(key) is not None for key in _STATEFUL):
        pass
    elif isinstance(value, str):
        if not value:
            raise ResponseFormatError("request.input must not be empty")
    elif isinstance(value, list) and value:
        for i, item in enumerate(value):
            _check_responses_item(item, f"request.input[{i}]")
    else:
        raise ResponseFormatError("request.input must be a non-empty string or a non-empty array of input items")
    if request.get("instructions") is not None and not isinstance(request["instructions"], str):
        raise ResponseFormatError("request.instructions must be a string")
    tools = request.get("tools")
    if tools is not None and not isinstance(tools, list):
        raise ResponseFormatError("request.tools must be an array")
    for i, tool in enumerate(tools or ()):
        if not isinstance(tool, dict) or not isinstance(tool.get("type"), str):
            raise ResponseFormatError(f"request.tools[{i}].type must be a string")
        if tool["type"] == "function" and not isinstance(tool.get("name"), str):
            raise ResponseFormatError(f"request.tools[{i}].name must be a string")
    text = request.get("text")
    if text is not None and not (isinstance(text, dict) and isinstance(text.get("format", {}), dict)):
        raise ResponseFormatError("request.text must be an object whose format is an object")


def check_request(api: Api, request: dict[str, Any]) -> None:
    """Reject requests shadow cannot replay, naming the field at fault."""
    if api is Api.OPENAI_RESPONSES:
        _check_responses_request(request)
        return
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
