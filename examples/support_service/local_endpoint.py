"""shadow's local OpenAI/Anthropic-compatible endpoint, answering like a support model with one tool.

A turn whose last message is the customer's gets a ``lookup_order`` tool call for the order number in
it; a turn that carries the tool's result gets a text answer quoting it. Chat completions, Responses
and Anthropic messages, streamed when the request says ``stream: true`` (the demo candidate server's
SSE), so the SDKs' streaming helpers work against it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from shadow.demo.server import Answer, RecordedToolCall, serve_in_thread
from shadow.events.models import Api

ORDER_NUMBER = re.compile(r"\b(\d{4})\b")


def _last_turn(api: Api, request: dict[str, Any]) -> tuple[str, str | None]:
    """("question", text) when the customer spoke last, ("result", tool output) after a tool ran."""
    if api is Api.OPENAI_RESPONSES:
        items = request.get("input")
        if isinstance(items, str):
            return "question", items
        last = items[-1] if isinstance(items, list) and items else {}
        if last.get("type") == "function_call_output":
            return "result", str(last.get("output"))
        content = last.get("content")
        return "question", content if isinstance(content, str) else json.dumps(content)
    last = (request.get("messages") or [{}])[-1]
    content = last.get("content")
    if last.get("role") == "tool":
        return "result", str(content)
    if isinstance(content, list):
        for block in content:
            if isinstance(block, dict) and block.get("type") == "tool_result":
                return "result", str(block.get("content"))
        texts = [block.get("text", "") for block in content if isinstance(block, dict)]
        return "question", " ".join(texts)
    return "question", str(content)


def answer(api: Api, request: dict[str, Any], latency_ms: float) -> Answer:
    kind, text = _last_turn(api, request)
    ttft_ms = latency_ms / 4
    if kind == "question":
        found = ORDER_NUMBER.search(text or "")
        order_id = found.group(1) if found else "0000"
        return Answer(
            text=None,
            tool_calls=(RecordedToolCall("lookup_order", {"order_id": order_id}),),
            finish_reason="tool_calls",
            input_tokens=180,
            output_tokens=18,
            latency_ms=latency_ms,
            ttft_ms=ttft_ms,
        )
    try:
        order = json.loads(text or "{}")
    except json.JSONDecodeError:
        order = {}
    status = order.get("status", "unknown")
    carrier = order.get("carrier") or "our warehouse"
    reply = (
        f"Your order is {status}. It is with {carrier} and should arrive in {order.get('eta_days', '?')} days. "
        "Anything else I can help with?"
    )
    return Answer.text_answer(reply, input_tokens=240, latency_ms=latency_ms, ttft_ms=ttft_ms)


@contextmanager
def serve_locally(latency_ms: float) -> Iterator[str]:
    """The endpoint's base URL (``http://127.0.0.1:<port>/v1``) while it runs."""
    with serve_in_thread(lambda api, request: answer(api, request, latency_ms)) as server:
        yield server.base_url
