"""Behaviour family: refusals, empty answers, finish reasons and truncation."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from shadow.events.output import FinishReason, Output

# Refusals open the answer; looking at its start avoids flagging "I can't find order 12"
# deep inside a helpful reply.
REFUSAL_WINDOW_CHARS = 300

_CANNOT = r"(?:can(?:'|no)?t|cannot|won'?t|am unable to|'?m unable to|am not able to|'?m not able to)"

DEFAULT_REFUSAL_PATTERNS: tuple[str, ...] = (
    rf"\b(?:i'?m|i am) (?:so |very )?(?:sorry|afraid),? (?:but )?i {_CANNOT} "
    r"(?:help|assist|comply|provide|do|fulfil|support|answer|share|engage)",
    rf"\bi {_CANNOT} (?:help|assist) (?:you )?with (?:that|this)",
    r"\bi (?:can(?:'|no)?t|cannot|won'?t) (?:comply|fulfil+) (?:with )?(?:that|this|your)",
    r"\bas an ai(?: language model)?,? i (?:can(?:'|no)?t|cannot|am not able|'?m not able)",
    r"\bi must (?:decline|refuse)",
    r"(?:抱歉|对不起|很抱歉|非常抱歉|不好意思)[，,。!！\s]*(?:但)?我(?:无法|不能|没法|不可以|不便)(?:协助|帮助|帮您|帮你|提供|处理|回答|完成|满足|参与)",
    r"我(?:无法|不能|没法)(?:协助|帮助)(?:您|你)?(?:处理|完成)?(?:这个|此|该)(?:请求|问题|要求)",
    r"(?:申し訳|すみません).{0,20}(?:できません|お手伝いできません)",
)


@dataclass(frozen=True, slots=True)
class RefusalDetector:
    """Finds refusals by pattern (English, Chinese, Japanese by default; configurable)."""

    pattern: re.Pattern[str]

    @classmethod
    def from_patterns(cls, patterns: Iterable[str] = DEFAULT_REFUSAL_PATTERNS) -> RefusalDetector:
        return cls(re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE))

    def __call__(self, output: Output) -> bool:
        """True when the provider declared a refusal or the answer opens with one."""
        if output.refusal or output.finish_reason is FinishReason.CONTENT_FILTER:
            return True
        if not output.text:
            return False
        head = output.text[:REFUSAL_WINDOW_CHARS].replace("’", "'")
        return self.pattern.search(head) is not None


DEFAULT_REFUSAL_DETECTOR = RefusalDetector.from_patterns()


def is_empty(output: Output) -> bool:
    """No text (beyond whitespace) and no tool calls."""
    return not output.tool_calls and not output.text.strip()


def is_truncation(production: FinishReason, candidate: FinishReason) -> bool:
    """The candidate ran out of tokens where production finished."""
    return candidate is FinishReason.LENGTH and production is not FinishReason.LENGTH
