"""Values shared by the diff tests: an Output builder and an invoice JSON Schema."""

from __future__ import annotations

from shadow.events.output import FinishReason, Output, ToolCall


def out(text: str = "", *calls: tuple[str, str], finish: FinishReason = FinishReason.STOP, **kw) -> Output:
    return Output(text=text, tool_calls=tuple(ToolCall(n, a) for n, a in calls), finish_reason=finish, **kw)


INVOICE_SCHEMA = {
    "type": "object",
    "properties": {
        "vendor": {"type": "string"},
        "total": {"type": "number"},
        "currency": {"type": "string", "enum": ["USD", "EUR", "CNY"]},
    },
    "required": ["vendor", "total", "currency"],
    "additionalProperties": False,
}
