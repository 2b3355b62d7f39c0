"""Scrub secrets and personal data from texts before they are stored or logged.

Stored texts are cut to a length anyway, so only their beginning is redacted: the
rules run on a window a margin longer than what is kept, and whatever came from the
margin is dropped, so a secret cut in two at the window's end never shows its first
half. The work per text is bounded by the kept length, not by the answer's. The
default rules are linear-time regular expressions; configured ones run on the
window only.

A rule runs only on texts that can hold a match: each default rule names substrings one of which
every match contains (an e-mail address has "@"), and a text with none of them is passed by with a
substring search instead of a regular-expression scan from every position (about 1 µs instead of
30-50 µs for 1 KB of text). Configured rules that are not default rules always run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from shadow.config import DEFAULT_REDACTION_RULES, RedactionSettings

TRUNCATION_MARK = "…[truncated]"
# Characters past the kept length that are redacted with it and then dropped: longer than any
# secret the default rules find (a card number is at most 37 characters, an e-mail address 320).
REDACTION_MARGIN_CHARS = 1024


# Substrings one of which every match of a default rule contains (tests/unit/test_redaction.py
# checks each against its pattern). A text with none of them cannot match the rule.
RULE_NEEDLES: dict[str, tuple[str, ...]] = {
    "email": ("@",),
    "api_key": ("k-", "Bearer"),  # sk-, pk-, rk-
}
# card_number has none: \d also matches non-ASCII digits. Its pattern starts with \d instead of a
# look-behind, so the regular-expression engine skips ahead to digits instead of trying every position.
_NEEDLES_BY_PATTERN = {
    rule.pattern: RULE_NEEDLES[rule.name] for rule in DEFAULT_REDACTION_RULES if rule.name in RULE_NEEDLES
}


@dataclass(frozen=True, slots=True)
class Redactor:
    """Applies the configured rules, in order, to a text."""

    rules: tuple[tuple[re.Pattern[str], str], ...]
    # Per rule: substrings one of which a text must contain for the rule to match it (None: any text).
    needles: tuple[tuple[str, ...] | None, ...] | None = None

    @classmethod
    def from_settings(cls, settings: RedactionSettings) -> Redactor:
        if not settings.enabled:
            return cls(())
        return cls(
            tuple((re.compile(rule.pattern), rule.replacement) for rule in settings.rules),
            tuple(_NEEDLES_BY_PATTERN.get(rule.pattern) for rule in settings.rules),
        )

    def _needed(self, i: int, text: str) -> bool:
        """Whether rule ``i`` can match ``text`` (the text as the rules before it left it)."""
        needles = self.needles[i] if self.needles is not None else None
        return needles is None or any(n in text for n in needles)

    def __call__(self, text: str) -> str:
        """The whole text redacted (its cost grows with the text: prefer :meth:`cut` for answers)."""
        for i, (pattern, replacement) in enumerate(self.rules):
            if self._needed(i, text):
                text = pattern.sub(replacement, text)
        return text

    def cut(self, text: str, max_chars: int) -> str:
        """The text redacted and cut to at most ``max_chars`` characters (then :data:`TRUNCATION_MARK`).

        Only the first ``max_chars + REDACTION_MARGIN_CHARS`` characters are redacted. Of a longer
        text, what is kept comes from its first ``max_chars`` characters (a replacement that starts
        there is kept whole), so it may be shorter when redaction shortened that part.
        """
        window = max_chars + REDACTION_MARGIN_CHARS
        if len(text) <= window:
            redacted = self(text)
            return redacted if len(redacted) <= max_chars else redacted[:max_chars] + TRUNCATION_MARK
        redacted, boundary = text[:window], max_chars
        for i, (pattern, replacement) in enumerate(self.rules):
            if not self._needed(i, redacted):
                continue
            redacted, boundary = _sub_tracking(pattern, replacement, redacted, boundary)
        return redacted[: min(max_chars, boundary)] + TRUNCATION_MARK


def _sub_tracking(pattern: re.Pattern[str], replacement: str, text: str, boundary: int) -> tuple[str, int]:
    """``pattern.sub(replacement, text)`` and where ``text[boundary]`` ends up in the result.

    A match that spans the boundary moves it past its replacement.
    """
    parts: list[str] = []
    size, pos = 0, 0
    moved: int | None = None
    for match in pattern.finditer(text):
        start, end = match.span()
        if moved is None and start >= boundary:
            moved = size + boundary - pos
        parts.append(text[pos:start])
        size += start - pos
        replaced = match.expand(replacement)
        parts.append(replaced)
        size += len(replaced)
        if moved is None and end > boundary:
            moved = size
        pos = end
    if moved is None:
        moved = size + boundary - pos
    parts.append(text[pos:])
    return "".join(parts), moved
