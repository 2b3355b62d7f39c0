"""JSON family, part 1: is an answer JSON, where is the JSON, does it follow the schema.

Strict validity follows RFC 8259 (orjson's parser: no NaN/Infinity, no trailing
commas, no comments, no lone surrogates, nothing after the document). Extraction
finds JSON a model wrapped in a Markdown fence or put after leading prose, so
"valid but wrapped" is reported apart from "invalid".
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import orjson
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from jsonschema.protocols import Validator

_MISSING: Any = object()
_FENCE = re.compile(r"```[ \t]*([A-Za-z0-9_+-]*)[^\n]*\n(.*?)(?:\n[ \t]*```|\Z)", re.DOTALL)
_OPENERS = ("{", "[")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


_STRICT_DECODER = json.JSONDecoder(parse_constant=_reject_constant)


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
        for n, match in enumerate(_FENCE.finditer(text)):
            if n >= _MAX_FENCES:
                break
            body = match.group(2).strip()
            if body[:1] in _OPENERS:
                value = _loads(body)
                if value is _MISSING:
                    value = _raw_decode(body, 0)
                if value is not _MISSING:
                    return value
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


# What may follow an opening bracket in JSON; "[doc 1]" and "{name}" in prose are not JSON.
_AFTER_BRACE = frozenset('"}')
_AFTER_BRACKET = frozenset('{["-0123456789tfn]')


def _structured(value: Any) -> bool:
    """In prose, an object, or an array holding objects or arrays: "[1]" is a citation, not JSON."""
    if isinstance(value, dict):
        return True
    return isinstance(value, list) and any(isinstance(item, dict | list) for item in value)


def _first_opener(text: str, start: int) -> int:
    """The next ``{`` or ``[`` that could open a JSON document (judged by what follows it)."""
    while True:
        positions = [p for p in (text.find("{", start), text.find("[", start)) if p >= 0]
        if not positions:
            return -1
        i = min(positions)
        follower = text[i + 1 : i + 64].lstrip()[:1]
        if follower and follower in (_AFTER_BRACE if text[i] == "{" else _AFTER_BRACKET):
            return i
        start = i + 1


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


@lru_cache(maxsize=512)
def _validator(schema_json: bytes) -> Validator | None:
    schema = orjson.loads(schema_json)
    try:
        cls = Draft202012Validator
        cls.check_schema(schema)
    except SchemaError:
        return None
    return cls(schema)


def schema_key(schema: dict[str, Any]) -> bytes:
    """A hashable, key-order-independent key of a schema (for validator caching)."""
    return orjson.dumps(schema, option=orjson.OPT_SORT_KEYS)


def validate_schema(value: Any, schema: dict[str, Any] | bytes, limit: int = 5) -> tuple[bool, tuple[str, ...]]:
    """Validate ``value`` against a JSON Schema; returns (valid, up to ``limit`` "path: message" errors).

    An invalid schema counts as no schema: (True, ("schema: invalid JSON Schema",)).
    """
    key = schema if isinstance(schema, bytes) else schema_key(schema)
    validator = _validator(key)
    if validator is None:
        return True, ("schema: invalid JSON Schema, not checked",)
    errors = []
    for error in validator.iter_errors(value):
        errors.append(f"{error.json_path}: {error.message[:160]}")
        if len(errors) >= limit:
            break
    return not errors, tuple(errors)
