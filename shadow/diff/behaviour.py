"""Behaviour family: refusals, empty answers, finish reasons and truncation."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from shadow.events.output import FinishReason, Output

# Refusals open the answer: only its first two sentences (at most this many characters) are
# searched, which avoids flagging "I can't find order 12" deep inside a helpful reply.
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


# Every built-in pattern contains one of these; answers without any skip the regex (most answers).
_DEFAULT_KEYWORDS = (
    "sorry", "afraid", "i can't", "i cannot", "i can not", "i cant", "i won't", "i wont", "unable",
    "not able", "as an ai", "decline", "refuse", "无法", "不能", "没法", "不可以", "不便", "できません",
)  # fmt: skip


def _compile(patterns: Iterable[str], flags: int = re.IGNORECASE, first: str = "") -> re.Pattern[str] | None:
    patterns = list(patterns)
    if not patterns:
        return None
    # A cheap look-ahead on the first character spares trying every alternative at every position.
    guard = f"(?=[{first}])" if first else ""
    return re.compile(guard + "(?:" + "|".join(f"(?:{p})" for p in patterns) + ")", flags)


# The first characters of the built-in patterns (see DEFAULT_REFUSAL_PATTERNS).
_BUILTIN_FIRST = "ia抱对很非不我申す"


_SENTENCE_END = re.compile(r"[.!?。！？\n]")


def opening(text: str, sentences: int = 2) -> str:
    """The first ``sentences`` sentences of ``text``, at most REFUSAL_WINDOW_CHARS characters."""
    head = text[:REFUSAL_WINDOW_CHARS]
    end = 0
    for _ in range(sentences):
        match = _SENTENCE_END.search(head, end)
        if match is None:
            return head
        end = match.end()
    return head[:end]


@dataclass(frozen=True, slots=True)
class RefusalDetector:
    """Finds refusals by pattern: built-in English, Chinese and Japanese ones, plus configured ones."""

    builtin: re.Pattern[str] | None
    extra: re.Pattern[str] | None = None

    @classmethod
    def build(cls, extra_patterns: Iterable[str] = (), *, use_defaults: bool = True) -> RefusalDetector:
        """The built-in patterns (unless ``use_defaults`` is false) and ``extra_patterns`` (case-insensitive)."""
        # Built-in patterns are lower-case and run on the lower-cased opening: no IGNORECASE needed.
        return cls(
            _compile(DEFAULT_REFUSAL_PATTERNS, 0, _BUILTIN_FIRST) if use_defaults else None, _compile(extra_patterns)
        )

    @classmethod
    def from_patterns(cls, patterns: Iterable[str]) -> RefusalDetector:
        """Only ``patterns``, no built-in ones."""
        return cls(None, _compile(patterns))

    def __call__(self, output: Output) -> bool:
        """True when the provider declared a refusal or the answer opens with one."""
        if output.refusal or output.finish_reason is FinishReason.CONTENT_FILTER:
            return True
        if not output.text:
            return False
        head = opening(output.text)
        if self.extra is not None and self.extra.search(head):
            return True
        if self.builtin is None:
            return False
        lowered = head.lower().replace("’", "'")
        if not any(keyword in lowered for keyword in _DEFAULT_KEYWORDS):
            return False
        return self.builtin.search(lowered) is not None


DEFAULT_REFUSAL_DETECTOR = RefusalDetector.build()


def is_empty(output: Output) -> bool:
    """No text (beyond whitespace) and no tool calls."""
    return not output.tool_calls and not output.text.strip()


def is_truncation(production: FinishReason, candidate: FinishReason) -> bool:
    """The candidate ran out of tokens where production finished."""
    return candidate is FinishReason.LENGTH and production is not FinishReason.LENGTH
