"""Build the request a candidate receives from production's request: an allow-list, caps, model and overrides;
and where it is sent (:func:`endpoint_url`), in which format (:func:`candidate_api`).

Pure functions. Nothing is copied blindly from an event: a same-API replay keeps only the
parameters of that API's allow-list (:data:`ALLOWED_PARAMS`) plus those the candidate's
``allow_params`` names; a cross-API replay translates messages, system prompts, tools, tool
choice, tool results and the common sampling parameters, and drops what the target cannot
express (OpenAI ``seed`` has no Anthropic counterpart). ``n`` is never sent (one choice is
read); ``stream`` and ``background`` never (answers are read whole). Every request carries an
output limit of at most the candidate's ``max_output_tokens``. Whatever was dropped, capped or
added is listed in :attr:`CandidateRequest.changes`, which each comparison row stores as
``request_changes``. OpenAI Responses requests (their stored state, built-in tools, reasoning
items, ``store: false``, and their translation) are :mod:`shadow.replay.responses`' part.

Event content is never copied recursively (an event may nest 1,000 levels deep): the body
shares nested values with the request, which is never modified.
"""

from __future__ import annotations

import copy
import functools
from dataclasses import dataclass
from typing import Any

import orjson

from shadow.config import CandidateSettings
from shadow.errors import TranslationError
from shadow.events.models import Api
from shadow.replay.remote import guard_remote_urls
from shadow.replay.responses import (
    MIN_OUTPUT_TOKENS,
    RESPONSES_ALLOWED,
    RESPONSES_GUARDED,
    RESPONSES_TRANSLATED,
    chat_to_responses,
    check_replayable,
    filter_responses,
    guard_remote_input,
    responses_to_chat,
)

ALLOWED_PARAMS: dict[Api, frozenset[str]] = {
    Api.OPENAI_CHAT: frozenset({
        "messages", "max_tokens", "max_completion_tokens", "temperature", "top_p", "frequency_penalty",
        "presence_penalty", "stop", "seed", "logit_bias", "response_format", "tools", "tool_choice",
        "parallel_tool_calls", "functions", "function_call",
    }),
    Api.ANTHROPIC_MESSAGES: frozenset({
        "messages", "system", "max_tokens", "temperature", "top_p", "top_k", "stop_sequences", "tools", "tool_choice",
    }),
    Api.OPENAI_RESPONSES: RESPONSES_ALLOWED,
}  # fmt: skip
"""Parameters a same-API replay passes on: the ones that define the task and shape the answer, and change
neither the price per token nor how the provider handles the data. Everything else production sent is
dropped unless the candidate's ``allow_params`` names it."""

GUARDED_PARAMS: dict[Api, tuple[str, ...]] = {
    Api.OPENAI_CHAT: (
        "service_tier", "store", "metadata", "user", "safety_identifier", "prompt_cache_key", "reasoning_effort",
        "verbosity", "logprobs", "top_logprobs", "prediction", "audio", "modalities", "web_search_options",
    ),
    Api.ANTHROPIC_MESSAGES: ("service_tier", "metadata", "thinking", "container", "mcp_servers", "context_management"),
    Api.OPENAI_RESPONSES: RESPONSES_GUARDED,
}  # fmt: skip
"""Known parameters that change price or data handling: dropped like unknown ones, unless allowed (documentation
and config validation; the allow-list alone decides)."""

NEVER_SENT = frozenset({"n", "stream", "stream_options", "background"})
"""Never passed on, whatever the config: one choice is read, and answers are read whole (a background run
answers before it has an answer)."""

OUTPUT_LIMITS = ("max_tokens", "max_completion_tokens", "max_output_tokens")
"""Request parameters that bound the answer's length (chat: the first two; Anthropic: max_tokens; Responses: the
last)."""
_LIMIT_KEYS = {Api.OPENAI_CHAT: OUTPUT_LIMITS[:2], Api.ANTHROPIC_MESSAGES: OUTPUT_LIMITS[:1]}

# Anthropic server tools run (and bill) on the provider's side: web search, web fetch, code execution.
_SERVER_TOOL_PREFIXES = ("web_search_", "web_fetch_", "code_execution_")
SERVER_TOOLS = "server_tools"
"""The ``allow_params`` entry that lets Anthropic server tools (web search, web fetch, code execution) and Responses
built-in tools through."""

# A dropped parameter with one of these values changes nothing, so it is not listed as a change.
_NO_OP_VALUES: dict[str, Any] = {"n": 1, "stream": False, "logprobs": False, "store": False, "background": False}

# What each translator reads; every other parameter of the source request is dropped (and listed).
_OPENAI_TRANSLATED = frozenset({
    "model", "messages", "response_format", "max_tokens", "max_completion_tokens", "temperature", "top_p", "stop",
    "tools", "tool_choice", "parallel_tool_calls",
})  # fmt: skip
_ANTHROPIC_TRANSLATED = frozenset(
    {"model", "system", "messages", "max_tokens", "temperature", "top_p", "stop_sequences", "tools", "tool_choice"}
)


@dataclass(frozen=True, slots=True)
class CandidateRequest:
    """The body a candidate receives and how it differs from production's request.

    ``changes`` lists parameters dropped (``"n"``, ``"service_tier"``), capped (``"max_tokens:capped"``)
    or added (``"max_completion_tokens:added"``, a limit production's request did not set), in request
    order. Overrides are configuration and are not listed.
    """

    body: dict[str, Any]
    changes: tuple[str, ...]


def merge_overrides(body: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """Merge ``overrides`` into ``body`` in place; a ``None`` value removes the key.

    Nested dicts of ``body`` are copied before they change (they may be shared with an event),
    and override values are copied in (so a body never aliases the configuration).
    """
    for key, value in overrides.items():
        if value is None:
            body.pop(key, None)
        elif isinstance(value, dict) and isinstance(body.get(key), dict):
            body[key] = merge_overrides(dict(body[key]), value)
        else:
            body[key] = copy.deepcopy(value)
    return body


def _dropped(key: str, value: Any) -> bool:
    """Whether dropping ``key`` changes the request (worth listing)."""
    return value is not None and not (key in _NO_OP_VALUES and value == _NO_OP_VALUES[key])


@functools.lru_cache(maxsize=256)
def _allowed(api: Api, allow: frozenset[str]) -> frozenset[str]:
    """What a same-API replay passes on; computed once per candidate, not per request."""
    return (ALLOWED_PARAMS[api] | allow) - NEVER_SENT


def _filtered(request: dict[str, Any], api: Api, allow: frozenset[str], changes: list[str]) -> dict[str, Any]:
    allowed = _allowed(api, allow)
    body: dict[str, Any] = {}
    for key, value in request.items():
        if key == "model":
            continue
        if key in allowed:
            body[key] = value
        elif _dropped(key, value):
            changes.append(key)
    tools = body.get("tools")
    if api is Api.ANTHROPIC_MESSAGES and SERVER_TOOLS not in allow and isinstance(tools, list):
        kept = []
        for tool in tools:
            kind = tool.get("type") if isinstance(tool, dict) else None
            if isinstance(kind, str) and kind.startswith(_SERVER_TOOL_PREFIXES):
                changes.append(f"tools:{kind}")
            else:
                kept.append(tool)
        body["tools"] = kept
    return body


def _untranslated(request: dict[str, Any], translated: frozenset[str], changes: list[str]) -> None:
    changes.extend(key for key, value in request.items() if key not in translated and _dropped(key, value))


def _is_count(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _cap_output(
    body: dict[str, Any],
    target: Api,
    *,
    max_output_tokens: int,
    default_max_tokens: int,
    limit_set: bool,
    changes: list[str],
) -> None:
    """Every request leaves with an output limit of at most ``max_output_tokens``.

    A limit above the cap (or one that is not a number) becomes the cap; a request without a
    limit gets one: OpenAI ``max_completion_tokens`` (Responses ``max_output_tokens``) = the cap,
    Anthropic (where it is required) ``max_tokens`` = ``default_max_tokens`` within the cap. A
    Responses limit below the API's minimum (16) is raised to it. ``limit_set`` says whether
    production's request or the overrides set a limit, so that a translator's default counts as added.
    """
    keys = _LIMIT_KEYS.get(target, OUTPUT_LIMITS[2:])
    present = [key for key in keys if body.get(key) is not None]
    for key in present:
        value = body[key]
        if not _is_count(value) or value > max_output_tokens:
            body[key] = max_output_tokens
            changes.append(f"{key}:capped")
    if target is not Api.ANTHROPIC_MESSAGES and not present:
        key = "max_completion_tokens" if target is Api.OPENAI_CHAT else "max_output_tokens"
        body[key] = max_output_tokens
        changes.append(f"{key}:added")
    elif target is Api.OPENAI_RESPONSES and body["max_output_tokens"] < MIN_OUTPUT_TOKENS <= max_output_tokens:
        body["max_output_tokens"] = MIN_OUTPUT_TOKENS
        changes.append("max_output_tokens:raised")
    elif target is Api.ANTHROPIC_MESSAGES:
        if not present:
            body["max_tokens"] = min(default_max_tokens, max_output_tokens)
        if not limit_set:
            changes.append("max_tokens:added")
        thinking = body.get("thinking")
        budget = thinking.get("budget_tokens") if isinstance(thinking, dict) else None
        if (
            isinstance(thinking, dict)
            and budget is not None
            and (not _is_count(budget) or budget >= body["max_tokens"])
        ):
            # Anthropic counts thinking within max_tokens and wants the budget below it.
            body["thinking"] = {**thinking, "budget_tokens": max(body["max_tokens"] - 1, 0)}
            changes.append("thinking.budget_tokens:capped")


def rewrite_request(
    request: dict[str, Any],
    *,
    source: Api,
    target: Api,
    model: str,
    overrides: dict[str, Any],
    max_output_tokens: int = 4096,
    allow_params: frozenset[str] | set[str] | list[str] = frozenset(),
    default_max_tokens: int = 1024,
    remote_urls: str = "keep",
) -> CandidateRequest:
    """The request to send to a candidate, and what differs from production's.

    Steps: refuse a Responses request that leans on stored state; keep the allow-listed parameters
    (same API) or translate (cross-API; Responses ⇄ Anthropic through chat completions); set the model;
    apply the overrides; cap or add the output limit; a Responses target gets ``store: false``.

    Args:
        request: production's request body (never modified).
        source: production's API.
        target: the candidate's API.
        model: the model name to ask for.
        overrides: parameters to set (``None`` removes); configuration, applied after the allow-list.
        max_output_tokens: the largest output limit the candidate may be asked for.
        allow_params: parameters passed on beyond the allow-list (same-API replays only; ``server_tools``
            keeps Anthropic server tools and Responses built-in tools, ``reasoning_items`` Responses reasoning
            items). ``n``, ``stream``, ``stream_options`` and ``background`` are never passed on.
        default_max_tokens: the Anthropic ``max_tokens`` (required there) when the request sets no limit.
        remote_urls: "keep", "drop" or "reject" content parts that point at a remote URL (see
            :func:`shadow.replay.remote.guard_remote_urls`).

    Raises:
        TranslationError: when the request cannot be expressed in the target format, or holds a remote
            URL and ``remote_urls`` is "reject".
    """
    changes: list[str] = []
    allow = allow_params if isinstance(allow_params, frozenset) else frozenset(allow_params)
    if source is Api.OPENAI_RESPONSES:
        check_replayable(request, builtin_tools=target is source and SERVER_TOOLS in allow)
    if source is target:
        body = _filtered(request, target, allow, changes)
        if target is Api.OPENAI_RESPONSES:
            filter_responses(body, allow, changes)
    elif source is Api.OPENAI_RESPONSES:
        body = responses_to_chat(request, changes, target=target)
        if target is Api.ANTHROPIC_MESSAGES:
            body = openai_to_anthropic(body, default_max_tokens=min(default_max_tokens, max_output_tokens))
        _untranslated(request, RESPONSES_TRANSLATED, changes)
    elif target is Api.OPENAI_RESPONSES:
        body = chat_to_responses(request if source is Api.OPENAI_CHAT else anthropic_to_openai(request))
        # Chat's stop (Anthropic's stop_sequences) has no Responses counterpart: listed as dropped.
        read = _OPENAI_TRANSLATED if source is Api.OPENAI_CHAT else _ANTHROPIC_TRANSLATED
        _untranslated(request, read - {"stop", "stop_sequences"}, changes)
    elif source is Api.OPENAI_CHAT:
        body = openai_to_anthropic(request, default_max_tokens=min(default_max_tokens, max_output_tokens))
        _untranslated(request, _OPENAI_TRANSLATED, changes)
    else:
        body = anthropic_to_openai(request)
        _untranslated(request, _ANTHROPIC_TRANSLATED, changes)
    body["model"] = model
    if remote_urls != "keep":
        guard = guard_remote_input if target is Api.OPENAI_RESPONSES else guard_remote_urls
        guard(body, drop=remote_urls == "drop", changes=changes)
    merge_overrides(body, overrides)
    limit_set = any(request.get(key) is not None for key in OUTPUT_LIMITS) or (
        bool(overrides) and any(overrides.get(key) is not None for key in OUTPUT_LIMITS)
    )
    _cap_output(
        body,
        target,
        max_output_tokens=max_output_tokens,
        default_max_tokens=default_max_tokens,
        limit_set=limit_set,
        changes=changes,
    )
    if target is Api.OPENAI_RESPONSES:
        body["store"] = False  # replays leave nothing stored at OpenAI, whatever production or the overrides said
    return CandidateRequest(body, tuple(dict.fromkeys(changes)) if changes else ())


def output_limit(body: dict[str, Any]) -> int | None:
    """The output limit a rewritten body carries (every one carries one; see :func:`rewrite_request`)."""
    limits = [body[key] for key in OUTPUT_LIMITS if isinstance(body.get(key), int) and body[key] > 0]
    return max(limits) if limits else None


def candidate_api(settings: CandidateSettings) -> Api:
    """The wire format a candidate is sent: its ``api``, else its provider's default."""
    return settings.wire_api


def endpoint_url(settings: CandidateSettings) -> str:
    """The full URL: OpenAI SDK style ``…/v1`` + ``/chat/completions`` or ``/responses``; Anthropic ``…`` +
    ``/v1/messages``."""
    base = settings.base_url
    if settings.wire_api is Api.OPENAI_RESPONSES:
        return f"{base}/responses"
    if settings.provider == "openai":
        return f"{base}/chat/completions"
    return f"{base}/messages" if base.endswith("/v1") else f"{base}/v1/messages"


# --- OpenAI → Anthropic -------------------------------------------------------------------


def _openai_text(content: Any, where: str) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text")
    raise TranslationError(f"{where}.content must be a string or an array of parts")


def _openai_parts_to_blocks(content: Any, where: str) -> list[dict[str, Any]]:
    if content is None:
        return []
    if isinstance(content, str):
        return [{"type": "text", "text": content}] if content else []
    if not isinstance(content, list):
        raise TranslationError(f"{where}.content must be a string or an array of parts")
    blocks: list[dict[str, Any]] = []
    for part in content:
        if not isinstance(part, dict):
            continue
        if part.get("type") == "text":
            blocks.append({"type": "text", "text": part.get("text", "")})
        elif part.get("type") == "image_url":
            url = (part.get("image_url") or {}).get("url", "")
            if url.startswith("data:") and ";base64," in url:
                media, data = url[5:].split(";base64,", 1)
                blocks.append({"type": "image", "source": {"type": "base64", "media_type": media, "data": data}})
            else:
                blocks.append({"type": "image", "source": {"type": "url", "url": url}})
    return blocks


def _append(messages: list[dict[str, Any]], role: str, blocks: list[dict[str, Any]]) -> None:
    # Anthropic wants alternating roles: consecutive same-role turns are merged.
    if not blocks:
        return
    if messages and messages[-1]["role"] == role:
        messages[-1]["content"].extend(blocks)
    else:
        messages.append({"role": role, "content": blocks})


def _loads_object(text: str) -> dict[str, Any]:
    try:
        value = orjson.loads(text) if text else {}
    except orjson.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


def openai_to_anthropic(request: dict[str, Any], *, default_max_tokens: int = 1024) -> dict[str, Any]:
    """Translate an OpenAI chat completions request into an Anthropic messages request."""
    system_parts: list[str] = []
    messages: list[dict[str, Any]] = []
    for i, message in enumerate(request.get("messages") or []):
        where = f"request.messages[{i}]"
        role = message.get("role")
        if role in ("system", "developer"):
            system_parts.append(_openai_text(message.get("content"), where))
        elif role == "user":
            _append(messages, "user", _openai_parts_to_blocks(message.get("content"), where))
        elif role == "assistant":
            blocks = _openai_parts_to_blocks(message.get("content"), where)
            for call in message.get("tool_calls") or []:
                function = call.get("function") or {}
                blocks.append(
                    {
                        "type": "tool_use",
                        "id": call.get("id") or f"toolu_{i}",
                        "name": function.get("name", ""),
                        "input": _loads_object(function.get("arguments") or ""),
                    }
                )
            _append(messages, "assistant", blocks)
        elif role in ("tool", "function"):
            _append(
                messages,
                "user",
                [
                    {
                        "type": "tool_result",
                        "tool_use_id": message.get("tool_call_id") or message.get("name") or "",
                        "content": _openai_text(message.get("content"), where),
                    }
                ],
            )
        else:
            raise TranslationError(f"{where}.role {role!r} has no Anthropic counterpart")
    if not messages:
        raise TranslationError("request has no user or assistant messages to translate")

    body: dict[str, Any] = {"messages": messages}
    response_format = request.get("response_format")
    if isinstance(response_format, dict) and response_format.get("type") in ("json_schema", "json_object"):
        # Anthropic has no response_format; ask in the system prompt, as teams do by hand.
        schema = (response_format.get("json_schema") or {}).get("schema")
        instruction = "Respond with a single JSON object and nothing else."
        if schema is not None:
            instruction += " It must conform to this JSON Schema: " + orjson.dumps(schema).decode()
        system_parts.append(instruction)
    if system_parts:
        body["system"] = "\n\n".join(p for p in system_parts if p)
    body["max_tokens"] = request.get("max_completion_tokens") or request.get("max_tokens") or default_max_tokens
    for key in ("temperature", "top_p"):
        if key in request and request[key] is not None:
            body[key] = request[key]
    stop = request.get("stop")
    if stop:
        body["stop_sequences"] = [stop] if isinstance(stop, str) else list(stop)
    tools = request.get("tools")
    if tools:
        body["tools"] = [
            {
                "name": (tool.get("function") or {}).get("name", ""),
                "description": (tool.get("function") or {}).get("description", ""),
                "input_schema": (tool.get("function") or {}).get("parameters") or {"type": "object"},
            }
            for tool in tools
            if isinstance(tool, dict) and tool.get("type", "function") == "function"
        ]
    choice = request.get("tool_choice")
    tool_choice: dict[str, Any] | None = None
    if choice == "auto":
        tool_choice = {"type": "auto"}
    elif choice == "required":
        tool_choice = {"type": "any"}
    elif choice == "none":
        tool_choice = {"type": "none"}
    elif isinstance(choice, dict) and (choice.get("function") or {}).get("name"):
        tool_choice = {"type": "tool", "name": choice["function"]["name"]}
    if request.get("parallel_tool_calls") is False and tools and (tool_choice or {}).get("type") != "none":
        # Anthropic's "none" choice takes no options.
        tool_choice = {**(tool_choice or {"type": "auto"}), "disable_parallel_tool_use": True}
    if tool_choice is not None and tools:
        body["tool_choice"] = tool_choice
    return body


# --- Anthropic → OpenAI -------------------------------------------------------------------


def _anthropic_system(system: Any) -> str:
    if system is None:
        return ""
    if isinstance(system, str):
        return system
    return "\n\n".join(b.get("text", "") for b in system if isinstance(b, dict) and b.get("type") == "text")


def _tool_result_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(b.get("text", "") for b in content if isinstance(b, dict) and b.get("type") == "text")
    return "" if content is None else orjson.dumps(content).decode()


def anthropic_to_openai(request: dict[str, Any]) -> dict[str, Any]:
    """Translate an Anthropic messages request into an OpenAI chat completions request."""
    messages: list[dict[str, Any]] = []
    system = _anthropic_system(request.get("system"))
    if system:
        messages.append({"role": "system", "content": system})
    for i, message in enumerate(request.get("messages") or []):
        role = message.get("role")
        content = message.get("content")
        if role not in ("user", "assistant"):
            raise TranslationError(f"request.messages[{i}].role {role!r} is not user or assistant")
        if isinstance(content, str):
            messages.append({"role": role, "content": content})
            continue
        if not isinstance(content, list):
            raise TranslationError(f"request.messages[{i}].content must be a string or an array of blocks")
        parts: list[dict[str, Any]] = []
        calls: list[dict[str, Any]] = []
        for block in content:
            if not isinstance(block, dict):
                continue
            kind = block.get("type")
            if kind == "text":
                parts.append({"type": "text", "text": block.get("text", "")})
            elif kind == "image":
                source = block.get("source") or {}
                if source.get("type") == "base64":
                    url = f"data:{source.get('media_type')};base64,{source.get('data')}"
                else:
                    url = source.get("url", "")
                parts.append({"type": "image_url", "image_url": {"url": url}})
            elif kind == "tool_use":
                calls.append(
                    {
                        "id": block.get("id", ""),
                        "type": "function",
                        "function": {
                            "name": block.get("name", ""),
                            "arguments": orjson.dumps(block.get("input", {})).decode(),
                        },
                    }
                )
            elif kind == "tool_result":
                # OpenAI carries tool results as separate "tool" messages before the user's text.
                messages.append(
                    {
                        "role": "tool",
                        "tool_call_id": block.get("tool_use_id", ""),
                        "content": _tool_result_text(block.get("content")),
                    }
                )
        if role == "assistant":
            text = "".join(p["text"] for p in parts if p["type"] == "text")
            out: dict[str, Any] = {"role": "assistant", "content": text or None}
            if calls:
                out["tool_calls"] = calls
            messages.append(out)
        elif parts:
            only_text = all(p["type"] == "text" for p in parts)
            messages.append({"role": "user", "content": "".join(p["text"] for p in parts) if only_text else parts})

    body: dict[str, Any] = {"messages": messages}
    if request.get("max_tokens") is not None:
        body["max_tokens"] = request["max_tokens"]
    for key in ("temperature", "top_p"):
        if request.get(key) is not None:
            body[key] = request[key]
    if request.get("stop_sequences"):
        body["stop"] = list(request["stop_sequences"])
    tools = request.get("tools")
    if tools:
        body["tools"] = [
            {
                "type": "function",
                "function": {
                    "name": tool.get("name", ""),
                    "description": tool.get("description", ""),
                    "parameters": tool.get("input_schema") or {"type": "object"},
                },
            }
            for tool in tools
            if isinstance(tool, dict) and "name" in tool
        ]
    choice = request.get("tool_choice")
    if isinstance(choice, dict) and tools:
        kind = choice.get("type")
        if kind == "auto":
            body["tool_choice"] = "auto"
        elif kind == "any":
            body["tool_choice"] = "required"
        elif kind == "none":
            body["tool_choice"] = "none"
        elif kind == "tool" and choice.get("name"):
            body["tool_choice"] = {"type": "function", "function": {"name": choice["name"]}}
        if choice.get("disable_parallel_tool_use"):
            body["parallel_tool_calls"] = False
    return body
