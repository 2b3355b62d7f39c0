"""The normalized output of one LLM call, whatever wire format carried it.

Production responses (in ``events``) and candidate responses (in ``replay``) both
become an :class:`Output`, which is all the diff stage ever sees.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class FinishReason(StrEnum):
    """Why generation stopped, normalized across providers."""

    STOP = "stop"
    LENGTH = "length"
    TOOL_CALLS = "tool_calls"
    CONTENT_FILTER = "content_filter"
    ERROR = "error"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class ToolCall:
    """A tool (function) call the model asked for; never executed by shadow.

    ``arguments`` is the JSON text exactly as the provider sent it (OpenAI sends a
    string that may be invalid JSON; Anthropic's ``input`` object is serialized).
    """

    name: str
    arguments: str
    id: str | None = None


@dataclass(frozen=True, slots=True)
class Usage:
    """Token counts reported by the provider (None when it reported none)."""

    input_tokens: int | None = None
    output_tokens: int | None = None


@dataclass(frozen=True, slots=True)
class Output:
    """One model answer: text, tool calls, finish reason, usage and the raw body."""

    text: str
    tool_calls: tuple[ToolCall, ...] = ()
    finish_reason: FinishReason = FinishReason.STOP
    raw_finish_reason: str | None = None
    usage: Usage = field(default_factory=Usage)
    model: str | None = None
    refusal: str | None = None
    raw: dict[str, Any] | None = field(default=None, compare=False, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict without the raw body (what comparison rows store)."""
        return {
            "text": self.text,
            "tool_calls": [{"name": c.name, "arguments": c.arguments, "id": c.id} for c in self.tool_calls],
            "finish_reason": self.finish_reason.value,
            "raw_finish_reason": self.raw_finish_reason,
            "usage": {"input_tokens": self.usage.input_tokens, "output_tokens": self.usage.output_tokens},
            "model": self.model,
            "refusal": self.refusal,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Output:
        """Inverse of :meth:`to_dict` (used to re-score stored rows)."""
        usage = data.get("usage") or {}
        return cls(
            text=data.get("text") or "",
            tool_calls=tuple(
                ToolCall(name=c["name"], arguments=c.get("arguments", ""), id=c.get("id"))
                for c in data.get("tool_calls") or ()
            ),
            finish_reason=FinishReason(data.get("finish_reason", "stop")),
            raw_finish_reason=data.get("raw_finish_reason"),
            usage=Usage(usage.get("input_tokens"), usage.get("output_tokens")),
            model=data.get("model"),
            refusal=data.get("refusal"),
        )
