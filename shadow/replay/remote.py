"""Content parts that point at a remote URL: kept, dropped or refused, per candidate (``remote_urls``).

An image or document given by URL (OpenAI ``image_url`` or ``file``, Anthropic ``source`` of type
``url``) is fetched by whoever serves the model. A hosted API fetches it from the internet; a
candidate served inside your network would fetch it from there, where the URL may reach what the
internet cannot. ``data:`` URLs carry their content and are not remote.
"""

from __future__ import annotations

from typing import Any

from shadow.errors import TranslationError

REMOTE_URLS_DROPPED = "remote_urls_dropped"
_REMOTE = ("http://", "https://", "ftp://")


def remote_url(part: Any) -> str | None:
    """The remote URL a content part points at, if any."""
    if not isinstance(part, dict):
        return None
    for holder in (part.get("image_url"), part.get("file"), part.get("source")):
        url = holder.get("url") if isinstance(holder, dict) else holder if isinstance(holder, str) else None
        if isinstance(url, str) and url.strip().lower().startswith(_REMOTE):
            return url
    return None


def guard_remote_urls(body: dict[str, Any], *, drop: bool, changes: list[str]) -> None:
    """Drop the content parts of ``body``'s messages that point at a remote URL, or refuse the request.

    Messages that change are copied (``body`` may share them with production's request). A message left
    with no part gets a text part saying what was removed; ``changes`` gets ``remote_urls_dropped``.

    Raises:
        TranslationError: a remote URL, when not dropping (the message and part are named, not the URL).
    """
    messages = body.get("messages")
    if not isinstance(messages, list):
        return
    guarded = list(messages)
    for i, message in enumerate(messages):
        content = message.get("content") if isinstance(message, dict) else None
        if not isinstance(content, list):
            continue
        kept = []
        for j, part in enumerate(content):
            if remote_url(part) is None:
                kept.append(part)
            elif not drop:
                raise TranslationError(
                    f"request.messages[{i}].content[{j}] points at a remote URL, and this candidate's "
                    "remote_urls is reject"
                )
        if len(kept) < len(content):
            guarded[i] = {**message, "content": kept or [{"type": "text", "text": "[remote content removed]"}]}
    if guarded != messages:
        changes.append(REMOTE_URLS_DROPPED)
        body["messages"] = guarded
