"""Rewrite a production request for a candidate: translate the wire format, set model and overrides.

Pure functions. Same-provider replays keep the body as production sent it (only
``model``, streaming and the configured overrides change); cross-provider replays
translate messages, system prompts, tools, tool choice, tool results and the
common sampling parameters. What a format cannot express is dropped, never
guessed: e.g. OpenAI ``logprobs`` has no Anthropic counterpart.
"""

from __future__ import annotations

import copy
from typing import Any

import orjson

from shadow.errors import TranslationError
from shadow.events.models import Api

# Parameters that only make sense for the original call or would break a replay.
_DROP_ALWAYS = ("stream", "stream_options")


def merge_overrides(body: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """Deep-merge ``overrides`` into ``body`` in place; a ``None`` value removes the key."""
    for key, value in overrides.items():
        if value is None:
            body.pop(key, None)
        elif isinstance(value, dict) and isinstance(body.get(key), dict):
            merge_overrides(body[key], value)
        else:
            body[key] = copy.deepcopy(value)
    return body


def rewrite_request(
    request: dict[str, Any],
    *,
    source: Api,
    target: Api,
    model: str,
    overrides: dict[str, Any],
    default_max_tokens: int = 1024,
) -> dict[str, Any]:
    """The body to send to a candidate.

    Args:
        request: production's request body (not modified).
        source: production's API.
        target: the candidate's API.
        model: the model name to ask for.
        overrides: parameters to set (``None`` removes).
        default_max_tokens: Anthropic requires ``max_tokens``; used when translating a request without one.

    Raises:
        TranslationError: when the request cannot be expressed in the target format.
    """
    if source is target:
        body = copy.deepcopy(request)
    elif source is Api.OPENAI_CHAT:
        body = openai_to_anthropic(request, default_max_tokens=default_max_tokens)
    else:
        body = anthropic_to_openai(request)
    for key in _DROP_ALWAYS:
        body.pop(key, None)
    body["model"] = model
    return merge_overrides(body, overrides)


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
