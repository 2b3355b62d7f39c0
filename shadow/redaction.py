"""Scrub secrets and personal data from texts before they are stored or logged."""

from __future__ import annotations

import re
from dataclasses import dataclass

from shadow.config import RedactionSettings


@dataclass(frozen=True, slots=True)
class Redactor:
    """Applies the configured rules, in order, to a text."""

    rules: tuple[tuple[re.Pattern[str], str], ...]

    @classmethod
    def from_settings(cls, settings: RedactionSettings) -> Redactor:
        if not settings.enabled:
            return cls(())
        return cls(tuple((re.compile(rule.pattern), rule.replacement) for rule in settings.rules))

    def __call__(self, text: str) -> str:
        for pattern, replacement in self.rules:
            text = pattern.sub(replacement, text)
        return text
