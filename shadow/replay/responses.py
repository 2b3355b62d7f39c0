"""OpenAI Responses API requests for candidates: what a same-API replay keeps, what cannot be replayed at all,
and the translation between Responses and chat completions requests.

:mod:`shadow.replay.translate` composes these: Responses ⇄ Anthropic messages goes through chat completions,
whose translation to and from Anthropic already exists (every field the chat form carries is one
:func:`~shadow.replay.translate.openai_to_anthropic` reads, so nothing is lost in between unlisted).

Decisions, each a ``TranslationError`` (a ``translation_error`` row naming the field) or a listed change:

- **Stored state is never replayed.** ``previous_response_id``, ``conversation``, ``prompt`` (a stored prompt
  template) and ``item_reference`` input items point at what production stored at OpenAI: a candidate of
  another model, organization or provider cannot see it, so the request it would get is not the one
  production answered. They are refused whatever the configuration allows.
- **Built-in tools** (every tool type but ``function`` and ``custom``: web search, file search, code
  interpreter, computer use, image generation, MCP, shell…) run on OpenAI's side, often on stored state
  (vector stores, containers). A same-API replay passes them only when the candidate's ``allow_params``
  names ``server_tools`` (as for Anthropic server tools, which are dropped instead, since those requests
  still make sense without them); otherwise, and always across APIs, they are refused.
- **Reasoning input items** are the previous turns' hidden reasoning, encrypted for (or stored by)
  production's organization and model: another one rejects or ignores them. They are dropped and listed
  (``input:reasoning``), and the output items they went with lose the ids that tie them to them; a
  same-API replay keeps them when ``allow_params`` names ``reasoning_items`` (a control lane in
  production's organization). Their text was never part of the conversation, so dropping them loses
  nothing another API could express.
- **``store: false``** is set on every Responses request a candidate receives (Responses stores answers
  for 30 days unless told otherwise): replays leave no data at OpenAI. It is not listed as a change.
- ``text.verbosity`` is guarded like chat's ``verbosity`` (``allow_params: [verbosity]``); chat's ``stop``
  has no Responses counterpart and is dropped and listed; Responses function tools are sent with an
  explicit ``strict`` (chat's default, false, when the chat tool set none).
"""

from __future__ import annotations

from typing import Any

import orjson

from shadow.errors import TranslationError
from shadow.events.models import Api
from shadow.replay.remote import REMOTE_URLS_DROPPED, remote_url

RESPONSES_ALLOWED = frozenset(
    {
        "input",
        "instructions",
        "max_output_tokens",
        "temperature",
        "top_p",
        "tools",
        "tool_choice",
        "parallel_tool_calls",
        "text",
        "truncation",
        "max_tool_calls",
    }
)
"""What a same-API Responses replay passes on (``text`` without ``verbosity`` unless allowed)."""

RESPONSES_GUARDED = (
    "store",
    "metadata",
    "user",
    "safety_identifier",
    "prompt_cache_key",
    "prompt_cache_retention",
    "prompt_cache_options",
    "service_tier",
    "reasoning",
    "include",
    "top_logprobs",
    "context_management",
    "moderation",
    "verbosity",
)
"""Known Responses parameters that change price or data handling (``verbosity`` is ``text.verbosity``)."""

STATEFUL = ("previous_response_id", "conversation", "prompt")
"""Parameters that point at state production stored at OpenAI: a request with one is never replayed."""

REASONING_ITEMS = "reasoning_items"
"""The ``allow_params`` entry that keeps reasoning input items in same-API Responses replays."""

CLIENT_TOOLS = ("function", "custom")
"""Tool types the caller runs; every other Responses tool type is built in (runs at OpenAI)."""

RESPONSES_TRANSLATED = frozenset(
    {
        "model",
        "input",
        "instructions",
        "text",
        "max_output_tokens",
        "temperature",
        "top_p",
        "tools",
        "tool_choice",
        "parallel_tool_calls",
    }
)
"""What :func:`responses_to_chat` reads; every other parameter is dropped (and listed)."""

MIN_OUTPUT_TOKENS = 16
"""The smallest ``max_output_tokens`` the Responses API accepts."""

_ROLES = ("user", "assistant", "system", "developer")


def _is_reference(item: dict[str, Any]) -> bool:
    # An item_reference may leave out its type: an id with no role is one.
    return item.get("type") is None and "role" not in item and "id" in item


def check_replayable(request: dict[str, Any], *, builtin_tools: bool) -> None:
    """Refuse a Responses request that leans on stored state or (unless ``builtin_tools``) built-in tools.

    Raises:
        TranslationError: naming the parameter, input item or tool.
    """
    for key in STATEFUL:
        if request.get(key) is not None:
            raise TranslationError(
                f"request.{key} points at state production stored at OpenAI, which a candidate cannot see: "
                "the request cannot be replayed"
            )
    items = request.get("input")
    for i, item in enumerate(items if isinstance(items, list) else ()):
        if isinstance(item, dict) and (item.get("type") == "item_reference" or _is_reference(item)):
            raise TranslationError(
                f"request.input[{i}] is an item_reference to an item stored at OpenAI: the request cannot be replayed"
            )
    tools = request.get("tools")
    for i, tool in enumerate(tools if isinstance(tools, list) and not builtin_tools else ()):
        kind = tool.get("type") if isinstance(tool, dict) else None
        if kind not in CLIENT_TOOLS:
            raise TranslationError(
                f"request.tools[{i}] is the built-in tool {kind!r}, which runs at OpenAI: replayed only to an "
                "openai.responses candidate whose allow_params names server_tools"
            )


def _unlinked(item: Any) -> Any:
    """An output item passed back without its id: OpenAI refuses a function call or message whose id ties it to
    a reasoning item the input no longer holds ("provided without its required 'reasoning' item")."""
    if not isinstance(item, dict) or "id" not in item or item.get("type") not in ("function_call", "message"):
        return item
    if item["type"] == "function_call":
        return {key: value for key, value in item.items() if key != "id"}
    if item.get("role") != "assistant" or not isinstance(item.get("content"), list):
        return item
    parts = item["content"]
    text = "".join(p.get("text") or p.get("refusal") or "" for p in parts if isinstance(p, dict))
    return {"type": "message", "role": "assistant", "content": text}


def filter_responses(body: dict[str, Any], allow: frozenset[str], changes: list[str]) -> None:
    """What a same-API replay keeps of ``body``'s input and text beyond the allow-list (``body`` is the copy).

    Reasoning items are dropped unless allowed; the assistant messages and function calls they went with are
    then passed back without their ids (an assistant message as its text), which is what links them.
    """
    items = body.get("input")
    if isinstance(items, list) and REASONING_ITEMS not in allow:
        kept = [item for item in items if not (isinstance(item, dict) and item.get("type") == "reasoning")]
        if len(kept) < len(items):
            body["input"] = [_unlinked(item) for item in kept]
            changes.append("input:reasoning")
    text = body.get("text")
    if isinstance(text, dict) and text.get("verbosity") is not None and "verbosity" not in allow:
        body["text"] = {key: value for key, value in text.items() if key != "verbosity"}
        changes.append("text.verbosity")


def guard_remote_input(body: dict[str, Any], *, drop: bool, changes: list[str]) -> None:
    """:func:`shadow.replay.remote.guard_remote_urls` for a Responses body: content parts of the input items
    (message content, function call outputs) given by a remote ``image_url`` or ``file_url``.

    Raises:
        TranslationError: a remote URL, when not dropping (the item and part are named, not the URL).
    """
    items = body.get("input")
    if not isinstance(items, list):
        return
    guarded = list(items)
    for i, item in enumerate(items):
        key = "output" if isinstance(item, dict) and item.get("type") == "function_call_output" else "content"
        parts = item.get(key) if isinstance(item, dict) else None
        if not isinstance(parts, list):
            continue
        kept = []
        for j, part in enumerate(parts):
            url = remote_url(part) or (part.get("file_url") if isinstance(part, dict) else None)
            if not (isinstance(url, str) and url.strip().lower().startswith(("http://", "https://", "ftp://"))):
                kept.append(part)
            elif not drop:
                raise TranslationError(
                    f"request.input[{i}].{key}[{j}] points at a remote URL, and this candidate's remote_urls is reject"
                )
        if len(kept) < len(parts):
            guarded[i] = {**item, key: kept or [{"type": "input_text", "text": "[remote content removed]"}]}
    if guarded != items:
        changes.append(REMOTE_URLS_DROPPED)
        body["input"] = guarded


# --- Responses → chat completions -----------------------------------------------------------------------------------


def _text(part: dict[str, Any], key: str, where: str) -> str:
    value = part.get(key)
    if not isinstance(value, str):
        raise TranslationError(f"{where}.{key} must be a string")
    return value


def _chat_content(content: Any, where: str, role: str, target: Api) -> str | list[dict[str, Any]]:
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        raise TranslationError(f"{where}.content must be a string or an array of content parts")
    parts: list[dict[str, Any]] = []
    for j, part in enumerate(content):
        at = f"{where}.content[{j}]"
        kind = part.get("type") if isinstance(part, dict) else None
        if kind in ("input_text", "output_text"):
            parts.append({"type": "text", "text": _text(part, "text", at)})
        elif kind == "refusal" and role == "assistant":
            parts.append({"type": "refusal", "refusal": _text(part, "refusal", at)})
        elif kind == "input_image" and role == "user":
            if not isinstance(part.get("image_url"), str):
                raise TranslationError(f"{at} is an image given by file_id (a file stored at OpenAI): not translated")
            image = {"url": part["image_url"]}
            if part.get("detail") in ("low", "high", "auto"):
                image["detail"] = part["detail"]
            parts.append({"type": "image_url", "image_url": image})
        elif kind == "input_file" and role == "user" and target is Api.OPENAI_CHAT and part.get("file_url") is None:
            parts.append(
                {"type": "file", "file": {k: part[k] for k in ("file_data", "file_id", "filename") if k in part}}
            )
        else:
            raise TranslationError(f"{at} ({kind} in a {role} message) has no {target.value} counterpart")
    return parts


def _output_text(output: Any, where: str, target: Api) -> str:
    if isinstance(output, str):
        return output
    texts = []
    for j, part in enumerate(output if isinstance(output, list) else ()):
        if not (isinstance(part, dict) and part.get("type") in ("input_text", "output_text")):
            raise TranslationError(f"{where}.output[{j}]: a tool result carries only text in {target.value}")
        texts.append(_text(part, "text", f"{where}.output[{j}]"))
    return "".join(texts)


def _chat_messages(request: dict[str, Any], changes: list[str], target: Api) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    instructions = request.get("instructions")
    if isinstance(instructions, str) and instructions:
        messages.append({"role": "system", "content": instructions})
    items = request.get("input")
    if isinstance(items, str):
        items = [{"role": "user", "content": items}]
    if not isinstance(items, list):
        raise TranslationError("request.input must be a string or an array of input items")
    for i, item in enumerate(items):
        where = f"request.input[{i}]"
        if not isinstance(item, dict):
            raise TranslationError(f"{where} must be an object")
        kind = item.get("type")
        if kind in (None, "message"):
            role = item.get("role")
            if role not in _ROLES:
                raise TranslationError(f"{where}.role must be one of {', '.join(_ROLES)}")
            messages.append({"role": role, "content": _chat_content(item.get("content"), where, role, target)})
        elif kind == "function_call":
            arguments = item.get("arguments")
            call = {
                "id": _text(item, "call_id", where),
                "type": "function",
                "function": {
                    "name": _text(item, "name", where),
                    "arguments": arguments if isinstance(arguments, str) else orjson.dumps(arguments).decode(),
                },
            }
            # An assistant turn that wrote text and called tools is one chat message.
            if messages and messages[-1]["role"] == "assistant":
                messages[-1]["tool_calls"] = [*messages[-1].get("tool_calls", ()), call]
            else:
                messages.append({"role": "assistant", "content": None, "tool_calls": [call]})
        elif kind == "function_call_output":
            output = _output_text(item.get("output"), where, target)
            messages.append({"role": "tool", "tool_call_id": _text(item, "call_id", where), "content": output})
        elif kind == "reasoning":
            changes.append("input:reasoning")
        else:
            raise TranslationError(f"{where} is a {kind} item, which {target.value} cannot express")
    return messages


def _chat_tool_choice(choice: Any, target: Api) -> Any:
    if choice is None or choice in ("auto", "none", "required"):
        return choice
    if isinstance(choice, dict) and choice.get("type") == "function" and isinstance(choice.get("name"), str):
        return {"type": "function", "function": {"name": choice["name"]}}
    kind = choice.get("type") if isinstance(choice, dict) else choice
    raise TranslationError(f"request.tool_choice {kind!r} has no {target.value} counterpart")


def responses_to_chat(request: dict[str, Any], changes: list[str], *, target: Api) -> dict[str, Any]:
    """Translate a Responses request into a chat completions request (for ``target``, chat or Anthropic).

    ``instructions`` become a first system message; a string ``input`` one user message; message items
    messages (``input_text``/``output_text`` parts text parts, ``input_image`` image parts, ``input_file``
    file parts for a chat target); ``function_call`` items the assistant's ``tool_calls`` (merged into the
    assistant message before them); ``function_call_output`` items tool messages; ``text.format`` the
    ``response_format``; ``max_output_tokens`` ``max_completion_tokens``. Reasoning items and
    ``text.verbosity`` are dropped and appended to ``changes``. Call :func:`check_replayable` first.

    Raises:
        TranslationError: an item, part, tool or choice ``target`` cannot express, named.
    """
    body: dict[str, Any] = {"messages": _chat_messages(request, changes, target)}
    text = request.get("text")
    fmt = text.get("format") if isinstance(text, dict) else None
    kind = fmt.get("type") if isinstance(fmt, dict) else None
    if kind == "json_schema" and isinstance(fmt, dict):
        schema = {key: fmt[key] for key in ("name", "schema", "strict", "description") if key in fmt}
        body["response_format"] = {"type": "json_schema", "json_schema": schema}
    elif kind == "json_object":
        body["response_format"] = {"type": "json_object"}
    elif kind not in (None, "text"):
        raise TranslationError(f"request.text.format {kind!r} has no {target.value} counterpart")
    if isinstance(text, dict) and text.get("verbosity") is not None:
        changes.append("text.verbosity")
    if request.get("max_output_tokens") is not None:
        body["max_completion_tokens"] = request["max_output_tokens"]
    for key in ("temperature", "top_p", "parallel_tool_calls"):
        if request.get(key) is not None:
            body[key] = request[key]
    tools = request.get("tools")
    if tools:
        body["tools"] = [_chat_tool(tool, i, target) for i, tool in enumerate(tools)]
        choice = _chat_tool_choice(request.get("tool_choice"), target)
        if choice is not None:
            body["tool_choice"] = choice
    return body


def _chat_tool(tool: Any, index: int, target: Api) -> dict[str, Any]:
    kind = tool.get("type") if isinstance(tool, dict) else None
    if not isinstance(tool, dict) or kind != "function":
        raise TranslationError(f"request.tools[{index}] ({kind}) has no {target.value} counterpart")
    function: dict[str, Any] = {"name": tool.get("name", "")}
    for key in ("description", "parameters"):
        if tool.get(key) is not None:
            function[key] = tool[key]
    if isinstance(tool.get("strict"), bool):
        function["strict"] = tool["strict"]
    return {"type": "function", "function": function}


# --- chat completions → Responses -----------------------------------------------------------------------------------


def _responses_content(content: Any, where: str) -> str | list[dict[str, Any]]:
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        raise TranslationError(f"{where}.content must be a string or an array of parts")
    parts: list[dict[str, Any]] = []
    for j, part in enumerate(content):
        kind = part.get("type") if isinstance(part, dict) else None
        if kind == "text" and isinstance(part, dict):
            parts.append({"type": "input_text", "text": _text(part, "text", f"{where}.content[{j}]")})
        elif kind == "image_url" and isinstance(part, dict) and isinstance(part.get("image_url"), dict):
            image = part["image_url"]
            parts.append({"type": "input_image", "image_url": image.get("url"), "detail": image.get("detail", "auto")})
        elif kind == "file" and isinstance(part, dict) and isinstance(part.get("file"), dict):
            parts.append({"type": "input_file", **part["file"]})
        else:
            raise TranslationError(f"{where}.content[{j}] ({kind}) has no openai.responses counterpart")
    return parts


def _plain_text(content: Any, where: str) -> str:
    if content is None or isinstance(content, str):
        return content or ""
    if not isinstance(content, list):
        raise TranslationError(f"{where}.content must be a string or an array of parts")
    return "".join(
        p.get("text") or p.get("refusal") or "" for p in content if isinstance(p, dict) and p.get("type") != "image_url"
    )


def _responses_input(request: dict[str, Any]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for i, message in enumerate(request.get("messages") or ()):
        where = f"request.messages[{i}]"
        role = message.get("role") if isinstance(message, dict) else None
        if not isinstance(message, dict):
            raise TranslationError(f"{where} must be an object")
        if role in ("system", "developer", "user"):
            items.append(
                {"type": "message", "role": role, "content": _responses_content(message.get("content"), where)}
            )
        elif role == "assistant":
            if message.get("function_call") is not None:
                raise TranslationError(f"{where}.function_call (legacy) has no openai.responses counterpart")
            text = _plain_text(message.get("content"), where)
            if text:
                items.append({"type": "message", "role": "assistant", "content": text})
            for j, call in enumerate(message.get("tool_calls") or ()):
                function = call.get("function") if isinstance(call, dict) else None
                if not isinstance(function, dict) or not isinstance(call.get("id"), str):
                    raise TranslationError(f"{where}.tool_calls[{j}] must be a function call with an id")
                arguments = function.get("arguments")
                items.append(
                    {
                        "type": "function_call",
                        "call_id": call["id"],
                        "name": function.get("name", ""),
                        "arguments": arguments if isinstance(arguments, str) else orjson.dumps(arguments).decode(),
                    }
                )
        elif role == "tool":
            output = _plain_text(message.get("content"), where)
            items.append(
                {"type": "function_call_output", "call_id": message.get("tool_call_id") or "", "output": output}
            )
        else:
            raise TranslationError(f"{where}.role {role!r} has no openai.responses counterpart")
    if not items:
        raise TranslationError("request has no messages to translate")
    return items


def chat_to_responses(request: dict[str, Any]) -> dict[str, Any]:
    """Translate a chat completions request into a Responses request.

    Messages become input items (system, developer and user messages keep their role; an assistant
    message is a message item and one ``function_call`` item per tool call; a tool message a
    ``function_call_output``); tools become flat function tools with an explicit ``strict``;
    ``response_format`` becomes ``text.format``; the output limit ``max_output_tokens``. ``stop`` and
    the other chat-only parameters are not read (the caller lists them).

    Raises:
        TranslationError: a role, part or tool the Responses API cannot express, named.
    """
    body: dict[str, Any] = {"input": _responses_input(request)}
    response_format = request.get("response_format")
    kind = response_format.get("type") if isinstance(response_format, dict) else None
    if kind == "json_schema" and isinstance(response_format, dict):
        declared = response_format.get("json_schema")
        body["text"] = {"format": {"type": "json_schema", **(declared if isinstance(declared, dict) else {})}}
    elif kind == "json_object":
        body["text"] = {"format": {"type": "json_object"}}
    limit = request.get("max_completion_tokens")
    limit = limit if limit is not None else request.get("max_tokens")
    if limit is not None:
        body["max_output_tokens"] = limit
    for key in ("temperature", "top_p", "parallel_tool_calls"):
        if request.get(key) is not None:
            body[key] = request[key]
    tools = request.get("tools")
    if tools:
        body["tools"] = [_responses_tool(tool, i) for i, tool in enumerate(tools)]
        choice = request.get("tool_choice")
        if choice in ("auto", "none", "required"):
            body["tool_choice"] = choice
        elif isinstance(choice, dict) and isinstance((choice.get("function") or {}).get("name"), str):
            body["tool_choice"] = {"type": "function", "name": choice["function"]["name"]}
        elif choice is not None:
            raise TranslationError("request.tool_choice has no openai.responses counterpart")
    return body


def _responses_tool(tool: Any, index: int) -> dict[str, Any]:
    function = tool.get("function") if isinstance(tool, dict) else None
    if not isinstance(tool, dict) or tool.get("type", "function") != "function" or not isinstance(function, dict):
        kind = tool.get("type") if isinstance(tool, dict) else None
        raise TranslationError(f"request.tools[{index}] ({kind}) has no openai.responses counterpart")
    out: dict[str, Any] = {"type": "function", "name": function.get("name", "")}
    if function.get("description"):
        out["description"] = function["description"]
    out["parameters"] = function.get("parameters")
    out["strict"] = function.get("strict") is True
    return out
