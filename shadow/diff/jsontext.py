"""JSON family, part 1: is an answer JSON, where is the JSON, does it follow the schema.

Strict validity follows RFC 8259 (orjson's parser: no NaN/Infinity, no trailing
commas, no comments, no lone surrogates, nothing after the document). Extraction
finds JSON a model wrapped in a Markdown fence or put after leading prose, so
"valid but wrapped" is reported apart from "invalid". Both are linear in the text:
fences and openers are found by scanning forward (no regular expression that
backtracks over a line), and only a few fences and openers are tried. Schema
conformance is in :mod:`shadow.diff.schema`.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import orjson

from shadow.diff.schema import schema_key

__all__ = ["NOT_JSON", "JsonText", "extract_json", "inspect_json", "schema_key"]  # schema_key: for sink.rescore

_MISSING: Any = object()
# The closing fence: a line starting with ``` (after spaces or tabs); linear, it never spans lines.
_FENCE_CLOSE = re.compile(r"\n[ \t]*```")
_OPENERS = ("{", "[")
# An opening bracket that could start a JSON document, judged by the first character after it
# (within 63): "[doc 1]" and "{name}" in prose are not JSON. Bounded, so linear on any text.
_OPENER = re.compile(r'\{\s{0,62}["}]|\[\s{0,62}[{\["\-0-9tfn\]]')


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _finite_float(text: str) -> float:
    # orjson rejects numbers that overflow to infinity; extraction holds to the same standard.
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is out of range")
    return value


_STRICT_DECODER = json.JSONDecoder(parse_constant=_reject_constant, parse_float=_finite_float)


@dataclass(frozen=True, slots=True)
class JsonText:
    """What a text holds as JSON.

    ``valid``: the whole text (modulo surrounding whitespace) is one RFC 8259 document.
    ``extracted``: the text is not valid as a whole, but a JSON object or array was
    found inside a Markdown fence or after leading prose. ``value`` is the parsed
    document in either case (``None`` with ``found`` false otherwise).
    """

    valid: bool
    extracted: bool
    value: Any = None

    @property
    def found(self) -> bool:
        return self.valid or self.extracted


NOT_JSON = JsonText(False, False)


def inspect_json(text: str) -> JsonText:
    """Classify ``text`` as valid JSON, JSON wrapped in a fence or prose, or not JSON."""
    stripped = text.strip()
    if not stripped:
        return NOT_JSON
    first = stripped[0]
    if first in '{["-0123456789tfn':
        try:
            return JsonText(True, False, orjson.loads(stripped))
        except orjson.JSONDecodeError:
            pass
    value = extract_json(stripped)
    if value is _MISSING:
        return NOT_JSON
    return JsonText(False, True, value)


# Bounds that keep extraction linear on adversarial answers (100k opening brackets, say).
_MAX_FENCES = 5
_MAX_OPENERS = 4


def extract_json(text: str) -> Any:
    """The first JSON object/array in a fence, else after leading prose; ``_MISSING`` if none."""
    if "```" in text:
        for n, fenced in enumerate(_fence_bodies(text)):
            if n >= _MAX_FENCES:
                break
            body = fenced.strip()
            if body[:1] in _OPENERS:
                value = _loads(body)
                if value is _MISSING:
                    value = _raw_decode(body, 0)
                if value is not _MISSING:
                    return value
    if "{" not in text and "[" not in text:
        return _MISSING
    start, tried = 0, 0
    while tried < _MAX_OPENERS:
        i = _first_opener(text, start)
        if i < 0:
            break
        tried += 1
        closer = "}" if text[i] == "{" else "]"
        end = text.rfind(closer)
        value = _loads(text[i : end + 1]) if end > i else _MISSING
        if value is _MISSING:
            value = _raw_decode(text, i)
        if _structured(value):
            return value
        start = i + 1
    return _MISSING


def _fence_bodies(text: str) -> Iterator[str]:
    """Bodies of Markdown fences: from the line after an opening ``` to a closing ``` line or the end."""
    pos = 0
    while True:
        opening = text.find("```", pos)
        if opening < 0:
            return
        line_end = text.find("\n", opening + 3)
        if line_end < 0:
            return  # the opener's line is the last: no body, and no later fence either
        closing = _FENCE_CLOSE.search(text, line_end + 1)
        if closing is None:
            yield text[line_end + 1 :]
            return
        yield text[line_end + 1 : closing.start()]
        pos = closing.end()


def _structured(value: Any) -> bool:
    """In prose, an object, or an array holding objects or arrays: "[1]" is a citation, not JSON."""
    if isinstance(value, dict):
        return True
    return isinstance(value, list) and any(isinstance(item, dict | list) for item in value)


def _first_opener(text: str, start: int) -> int:
    """The next ``{`` or ``[`` that could open a JSON document (judged by what follows it).

    ``_OPENER.search`` from ``start``, but the brackets are found with ``str.find``: the regular
    expression would try its two alternatives at every character of the (mostly bracket-free) text.
    """
    brace, bracket = text.find("{", start), text.find("[", start)
    while brace >= 0 or bracket >= 0:
        if bracket < 0 or 0 <= brace < bracket:
            if _OPENER.match(text, brace):
                return brace
            brace = text.find("{", brace + 1)
        else:
            if _OPENER.match(text, bracket):
                return bracket
            bracket = text.find("[", bracket + 1)
    return -1


def _loads(text: str) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return _MISSING


def _raw_decode(text: str, start: int) -> Any:
    try:
        value, _ = _STRICT_DECODER.raw_decode(text, start)
    except (ValueError, RecursionError):
        return _MISSING
    if not isinstance(value, dict | list):
        return _MISSING
    # raw_decode is lenient on lone surrogates; hold extracted JSON to the strict standard too.
    try:
        orjson.dumps(value)
    except TypeError:
        return _MISSING
    return value
