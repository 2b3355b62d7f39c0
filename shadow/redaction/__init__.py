"""Scrub secrets and personal data from every text before it leaves the process.

One :class:`Redactor` serves rows of both tables, dead letters, logs, metrics labels, ``shadow
summary`` and the HTML report. Its rules (:mod:`shadow.redaction.rules`: e-mail, API keys and
tokens, card numbers with a Luhn check, IBANs with their checksum, phone numbers, US social security
numbers, plus configured regular expressions, which add to these) replace each match with a stable
token (:mod:`shadow.redaction.tokens`): equal values stay equal, different values differ, so diffs
and ``shadow rescore`` still tell them apart.

JSON stays JSON: a text that is a JSON document is parsed, every string and key redacted in place
and configured JSON paths replaced (:mod:`shadow.redaction.jsonwalk`), then written back, only when
something changed. The walk happens only when the plain-text rules find something in the raw text
(or it holds an escape, which could hide a match, or JSON paths are configured).

Stored texts are cut to a length anyway, so only their beginning is redacted: the rules run on a
window a margin longer than what is kept, and whatever came from the margin is dropped, so a secret
cut in two at the window's end never shows its first half. The work per text is bounded by the kept
length, not by the answer's. All patterns are linear-time.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from shadow.config import RedactionSettings
from shadow.jsonpath import JsonPath, parse_path
from shadow.redaction.jsonwalk import redact_document
from shadow.redaction.rules import (
    BUILTIN_RULE_NAMES,
    BUILTIN_RULES,
    DIGIT_REGION,
    Rule,
    configured_rule,
)
from shadow.redaction.tokens import Pseudonyms

__all__ = [
    "BUILTIN_RULE_NAMES",
    "KEY_ENV",
    "NO_REDACTION",
    "REDACTION_MARGIN_CHARS",
    "TRUNCATION_MARK",
    "Redactor",
    "Rule",
]

TRUNCATION_MARK = "…[truncated]"
# Characters past the kept length that are redacted with it and then dropped: longer than any
# secret the default rules find (a card number is at most 37 characters, an e-mail address 320).
REDACTION_MARGIN_CHARS = 1024
# A JSON document that fits the kept length is stored whole up to this many times it (tokens are longer
# than most values they replace); only a longer one is cut, and then no longer parses.
JSON_GROWTH = 4
KEY_ENV = "SHADOW_REDACTION_KEY"


@dataclass(frozen=True, slots=True)
class Redactor:
    """Applies the configured rules, in order, to texts and JSON documents."""

    rules: tuple[Rule, ...]
    names: Pseudonyms = field(default_factory=Pseudonyms)
    json_paths: tuple[JsonPath, ...] = ()
    store_text: bool = True  # false: rows keep no text at all (see RedactionSettings.store_text)
    key_drawn: bool = False  # no key configured: this process drew one (tokens comparable within its run)

    @classmethod
    def from_settings(cls, settings: RedactionSettings, environ: dict[str, str] | None = None) -> Redactor:
        if not settings.enabled:
            return cls((), store_text=settings.store_text)
        chosen = set(settings.defaults)  # applied in their own order: an IBAN before the card rule sees its digits
        rules = [rule for rule in BUILTIN_RULES if rule.name in chosen]
        rules += [configured_rule(rule.name, rule.pattern, rule.replacement) for rule in settings.rules]
        key = redaction_key(settings, os.environ if environ is None else environ)
        drawn = key is None or key == _DRAWN_KEY[0]
        return cls(
            tuple(rules),
            Pseudonyms(key or _drawn_key()),
            tuple(parse_path(path) for path in settings.json_paths),
            settings.store_text,
            drawn,
        )

    @property
    def active(self) -> bool:
        return bool(self.rules or self.json_paths)

    def __call__(self, text: str) -> str:
        """The whole text redacted as plain text (its cost grows with the text: prefer :meth:`cut`)."""
        gates = _Gates()
        for rule in self.rules:
            scan = gates.scan(text) if rule.ascii_only else text
            if gates.admit(rule, text, scan):
                text = self._sub(rule, text, scan, gates)
        return text

    def _sub(self, rule: Rule, text: str, scan: str, gates: _Gates) -> str:
        """``rule`` applied to ``text``, its matches found in ``scan`` (the text or its ASCII stand-in)."""
        parts: list[str] = []
        pos = 0
        for match in gates.matches(rule, scan):
            value = text[match.start() : match.end()]
            replaced = rule.replace(value, match, self.names)
            if replaced != value:
                parts += (text[pos : match.start()], replaced)
                pos = match.end()
        return "".join((*parts, text[pos:])) if parts else text

    def cut(self, text: str, max_chars: int) -> str:
        """The text redacted and cut to at most ``max_chars`` characters (then :data:`TRUNCATION_MARK`).

        A text that fits and is a JSON document is redacted as JSON (it stays valid JSON of the same
        shape). Of a longer text only the first ``max_chars + REDACTION_MARGIN_CHARS`` characters
        are redacted; what is kept comes from its first ``max_chars`` characters (a replacement that
        starts there is kept whole), so it may be shorter when redaction shortened that part.
        """
        if len(text) <= max_chars:
            redacted = self.json_text(text)
            if redacted is not None:
                # A JSON document that fits is kept whole, valid, even when its tokens made it longer
                # (up to JSON_GROWTH times): cut, it would no longer parse.
                return redacted if len(redacted) <= JSON_GROWTH * max_chars else _cut_at(redacted, max_chars)
        window = max_chars + REDACTION_MARGIN_CHARS
        if len(text) <= window:
            redacted = self(text)
            return redacted if len(redacted) <= max_chars else _cut_at(redacted, max_chars)
        redacted, boundary = text[:window], max_chars
        gates = _Gates()
        for rule in self.rules:
            scan = gates.scan(redacted) if rule.ascii_only else redacted
            if gates.admit(rule, redacted, scan):
                redacted, boundary = self._sub_tracking(rule, redacted, boundary, scan, gates)
        return _cut_at(redacted, min(max_chars, boundary))

    def json_text(self, text: str) -> str | None:
        """A JSON document's text redacted as JSON, or None when ``text`` is not a JSON object or array."""
        stripped = text.strip()
        if not stripped or stripped[0] not in "{[" or stripped[-1] not in "}]" or not self.active:
            return None
        if not self.json_paths and "\\" not in text and self(text) == text:
            return text  # nothing the rules find, and no escape that could hide something: no parse
        try:
            document = orjson.loads(text)
        except orjson.JSONDecodeError:
            return None
        redacted, changed = redact_document(document, self, self.names, self.json_paths)
        if not changed:
            return text
        try:
            return orjson.dumps(redacted).decode()
        except TypeError:  # nested deeper than orjson writes (255 levels): redacted as plain text instead
            return None

    def value(self, value: Any) -> Any:
        """shadow's own data (summary, report) with every string and key redacted by the rules.

        Not by the JSON paths: they name fields of answers, and would replace shadow's own (a path
        ``$..score`` would zero the gate's scores).
        """
        if not self.rules:
            return value
        return redact_document(value, self, self.names)[0]

    def schema(self, document: Any) -> Any:
        """A JSON schema (as Python values) with its strings and keys redacted by the rules, never by JSON paths.

        A path such as ``$..name`` would otherwise replace parts of the schema itself.
        """
        if not self.rules:
            return document
        return redact_document(document, self, self.names)[0]

    def mapping(self, values: dict[str, str]) -> dict[str, str]:
        """A str -> str mapping (tags) with keys and values redacted."""
        if not self.active:
            return values
        return {self(key): self(item) for key, item in values.items()}

    def _sub_tracking(self, rule: Rule, text: str, boundary: int, scan: str, gates: _Gates) -> tuple[str, int]:
        """``rule`` applied to ``text`` (matches found in ``scan``) and where ``text[boundary]`` ends up.

        A replaced match that spans the boundary moves it past its replacement.
        """
        parts: list[str] = []
        size, pos = 0, 0
        moved: int | None = None
        for match in gates.matches(rule, scan):
            start, end = match.span()
            if moved is None and start >= boundary:
                moved = size + boundary - pos
            value = text[start:end]
            replaced = rule.replace(value, match, self.names)
            if replaced == value:
                continue  # its check failed: the text stays as it was
            parts.append(text[pos:start])
            size += start - pos
            parts.append(replaced)
            size += len(replaced)
            if moved is None and end > boundary:
                moved = size
            pos = end
        if moved is None:
            moved = size + boundary - pos
        parts.append(text[pos:])
        return "".join(parts), moved


# The start of a token cut off at the end of a kept text ("[EMAIL:abc"): dropped rather than kept half.
_TOKEN_FRAGMENT = re.compile(r"\[[A-Z][A-Z_]*(?::[a-p]{0,12})?\Z")


def _cut_at(text: str, size: int) -> str:
    return _TOKEN_FRAGMENT.sub("", text[:size]) + TRUNCATION_MARK


# Escapes as texts write them: JSON's (\\n, \\", \\u00e9) and the \\xff of bytes decoded with backslashreplace.
_ESCAPE = re.compile(r"\\(?:u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8}|x[0-9A-Fa-f]{2}|.)", re.DOTALL)
# Letters with diacritics (Latin-1 Supplement and Latin Extended-A/B, not the signs × and ÷).
_LATIN_LETTER = re.compile("[\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f]")


def ascii_stand_in(text: str) -> str:
    """The text as the built-in rules scan it: as long as the text, every position where it was.

    - a letter with a diacritic becomes ``a`` (so ``josé@example.com`` is an address);
    - every other character outside ASCII becomes ``?``, which no built-in pattern matches (the
      engine then reads one byte per character: on Chinese text, several times faster);
    - an escape (``\\n``, ``\\u00e9``, ``\\xa0``) becomes ``?``s: ``\\nbob@example.com`` is the
      address after a line break, not ``nbob@example.com``, and its replacement keeps the escape.

    A match is replaced in the text itself, and its token is made from the text's characters.
    """
    if not text.isascii() and _LATIN_LETTER.search(text):
        text = _LATIN_LETTER.sub("a", text)
    scan = text.encode("ascii", "replace").decode("ascii")
    if "\\" in scan:
        scan = _ESCAPE.sub(lambda escape: "?" * len(escape.group()), scan)
    return scan


class _Gates:
    """Where a rule can match a text: its needles (a substring search), the digit regions, the ASCII stand-in.

    The built-in rules scan the text's ASCII stand-in (:func:`ascii_stand_in`), where positions are
    those of the text; regional rules scan only its digit regions (``DIGIT_REGION``).
    """

    __slots__ = ("_regions", "_scan")

    def __init__(self) -> None:
        self._scan: tuple[str, str] | None = None
        self._regions: tuple[str, list[tuple[int, int]]] | None = None

    def scan(self, text: str) -> str:
        if text.isascii() and "\\" not in text:
            return text
        if self._scan is None or self._scan[0] is not text:
            self._scan = (text, ascii_stand_in(text))
        return self._scan[1]

    def regions(self, scan: str) -> list[tuple[int, int]]:
        """Spans of ``scan``'s digit regions, each widened by two characters after it
        (what the patterns' look-aheads read; no match reaches into them, as they are not region characters).
        """
        if self._regions is None or self._regions[0] is not scan:
            found = [(m.start(), min(len(scan), m.end() + 2)) for m in DIGIT_REGION.finditer(scan)]
            self._regions = (scan, found)
        return self._regions[1]

    def admit(self, rule: Rule, text: str, scan: str) -> bool:
        needles = rule.needles
        if needles is not None:
            for needle in needles:
                if needle in scan:
                    break
            else:
                return False
        return not rule.regional or bool(self.regions(scan))

    def matches(self, rule: Rule, scan: str) -> Iterator[re.Match[str]]:
        """The rule's matches in ``scan``, in order (a regional rule's within the regions only).

        A pattern searched from a region's start still sees the characters before it in its
        look-behinds (``pos`` is not the string's start).
        """
        if not rule.regional:
            yield from rule.pattern.finditer(scan)
            return
        for start, end in self.regions(scan):
            yield from rule.pattern.finditer(scan, start, end)


def redaction_key(settings: RedactionSettings, environ: Any) -> bytes | None:
    """The key of the stable tokens: ``SHADOW_REDACTION_KEY``, else ``redaction.key_file``, else None (random)."""
    value = environ.get(KEY_ENV)
    if value:
        return str(value).encode()
    if settings.key_file is not None:
        key = Path(settings.key_file).read_bytes().strip()
        if not key:
            raise ValueError(f"redaction.key_file {settings.key_file} is empty")
        return key
    return None


_DRAWN_KEY: list[bytes | None] = [None]


def _drawn_key() -> bytes:
    """The key this process drew (once), also put in its environment so the diff processes it starts share it."""
    key = _DRAWN_KEY[0]
    if key is None:
        key = _DRAWN_KEY[0] = secrets.token_hex(32).encode()
        os.environ[KEY_ENV] = key.decode()
    return key


def key_configured(settings: RedactionSettings) -> bool:
    """Whether the tokens' key is configured (not drawn by this process, which also puts it in the environment)."""
    value = os.environ.get(KEY_ENV)
    drawn = _DRAWN_KEY[0]
    return settings.key_file is not None or bool(value and (drawn is None or value.encode() != drawn))


NO_REDACTION = Redactor(())
