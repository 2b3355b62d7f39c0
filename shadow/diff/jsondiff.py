"""JSON family, part 2: typed differences between production's and the candidate's JSON.

Differences are reported at JSONPath-style paths (``$.items[0].price``). Numbers
compare by value (5 == 5.0), ``"5"`` vs ``5`` is a type change, key order never
matters, arrays compare position by position. Strings that both hold a JSON
object or array (tool arguments, JSON-in-JSON payloads) are parsed and diffed
field by field under a ``@json`` path segment.

The reported differences are a complete patch: :func:`apply_differences` turns
production's value into the candidate's (a property test holds this).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from typing import Any

import orjson

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
JSON_IN_STRING = "@json"


class DiffKind(StrEnum):
    MISSING = "missing"  # in production, not in the candidate
    EXTRA = "extra"  # in the candidate, not in production
    TYPE_CHANGED = "type_changed"
    VALUE_CHANGED = "value_changed"
    LENGTH_CHANGED = "length_changed"  # arrays; element differences are reported too


@dataclass(frozen=True, slots=True)
class JsonDifference:
    """One difference: where, what kind, production's value and the candidate's."""

    path: str
    kind: DiffKind
    before: Any = None
    after: Any = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"path": self.path, "kind": self.kind.value}
        if self.kind is not DiffKind.EXTRA:
            out["production"] = self.before
        if self.kind is not DiffKind.MISSING:
            out["candidate"] = self.after
        return out


_TYPE_NAMES: dict[type, str] = {
    type(None): "null",
    bool: "boolean",
    int: "number",
    float: "number",
    str: "string",
    list: "array",
    dict: "object",
}


def json_type(value: Any) -> str:
    """The JSON type name of a parsed value."""
    try:
        return _TYPE_NAMES[type(value)]
    except KeyError:
        raise TypeError(f"not a JSON value: {type(value).__name__}") from None


@lru_cache(maxsize=4096)
def key_segment(key: str) -> str:
    """The path segment of an object key: ``.name`` or ``["any key"]``."""
    if _IDENT.match(key):
        return "." + key
    return "[" + orjson.dumps(key).decode() + "]"


def _parse_container(text: str) -> Any:
    stripped = text.lstrip()
    if not stripped or stripped[0] not in "{[":
        return None
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        return None
    return value if isinstance(value, dict | list) else None


def diff_json(before: Any, after: Any, path: str = "$", *, parse_strings: bool = True) -> list[JsonDifference]:
    """Typed differences turning ``before`` (production) into ``after`` (candidate)."""
    out: list[JsonDifference] = []
    _diff(before, after, path, out, parse_strings)
    return out


def _diff(a: Any, b: Any, path: str, out: list[JsonDifference], parse_strings: bool) -> None:
    if type(a) is type(b) and type(a) in _SCALARS:
        # The common leaf case, without type-name lookups.
        if a != b:
            _changed_scalar(a, b, path, out, parse_strings)
        return
    ta, tb = json_type(a), json_type(b)
    if ta != tb:
        out.append(JsonDifference(path, DiffKind.TYPE_CHANGED, a, b))
        return
    if ta == "object":
        for key, value in a.items():
            sub = path + key_segment(key)
            if key in b:
                _diff(value, b[key], sub, out, parse_strings)
            else:
                out.append(JsonDifference(sub, DiffKind.MISSING, value, None))
        for key, value in b.items():
            if key not in a:
                out.append(JsonDifference(path + key_segment(key), DiffKind.EXTRA, None, value))
    elif ta == "array":
        common = min(len(a), len(b))
        if len(a) != len(b):
            out.append(JsonDifference(path, DiffKind.LENGTH_CHANGED, len(a), len(b)))
        for i in range(common):
            _diff(a[i], b[i], f"{path}[{i}]", out, parse_strings)
        for i in range(common, len(a)):
            out.append(JsonDifference(f"{path}[{i}]", DiffKind.MISSING, a[i], None))
        for i in range(common, len(b)):
            out.append(JsonDifference(f"{path}[{i}]", DiffKind.EXTRA, None, b[i]))
    elif a != b:
        _changed_scalar(a, b, path, out, parse_strings)


_SCALARS = frozenset({str, int, float, bool, type(None)})


def _changed_scalar(a: Any, b: Any, path: str, out: list[JsonDifference], parse_strings: bool) -> None:
    if parse_strings and type(a) is str and type(b) is str:
        pa, pb = _parse_container(a), _parse_container(b)
        if pa is not None and pb is not None:
            # Both hold JSON: diff inside; the same JSON spelled differently is no difference.
            _diff(pa, pb, path + JSON_IN_STRING, out, parse_strings)
            return
    out.append(JsonDifference(path, DiffKind.VALUE_CHANGED, a, b))


def count_leaves(value: Any) -> int:
    """Number of scalar leaves (an empty container counts as one)."""
    if isinstance(value, dict):
        return sum(count_leaves(v) for v in value.values()) or 1
    if isinstance(value, list):
        return sum(count_leaves(v) for v in value) or 1
    return 1


# --- applying a patch (documentation of the semantics, and the property tests' oracle) ---

_SEGMENT = re.compile(r'\.([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]|(@json)')


def parse_path(path: str) -> list[str | int]:
    """Split ``$.a["b c"][0]@json.d`` into ``['a', 'b c', 0, '@json', 'd']``."""
    if not path.startswith("$"):
        raise ValueError(f"path must start with $: {path!r}")
    segments: list[str | int] = []
    pos = 1
    while pos < len(path):
        match = _SEGMENT.match(path, pos)
        if match is None:
            raise ValueError(f"bad path segment at {pos} in {path!r}")
        ident, index, quoted, marker = match.groups()
        if ident is not None:
            segments.append(ident)
        elif index is not None:
            segments.append(int(index))
        elif quoted is not None:
            segments.append(orjson.loads(quoted))
        else:
            segments.append(marker)
        pos = match.end()
    return segments


def apply_differences(before: Any, differences: list[JsonDifference]) -> Any:
    """Apply differences reported by :func:`diff_json` to production's value."""
    root: list[Any] = [_deepcopy(before)]

    # Deletions from arrays go last and from the highest index, so indices stay valid.
    def order(d: JsonDifference) -> tuple[bool, list[int]]:
        sign = -1 if d.kind is DiffKind.MISSING else 1
        return d.kind is DiffKind.MISSING, [sign * s if isinstance(s, int) else 0 for s in parse_path(d.path)]

    ordered = sorted((d for d in differences if d.kind is not DiffKind.LENGTH_CHANGED), key=order)
    for difference in ordered:
        _apply_one(root, [0, *parse_path(difference.path)], difference)
    return root[0]


def _apply_one(container: Any, segments: list[str | int], difference: JsonDifference) -> None:
    if JSON_IN_STRING in segments:
        at = segments.index(JSON_IN_STRING)
        holder = _walk(container, segments[: at - 1])
        key = segments[at - 1]
        inner = [orjson.loads(holder[key])]
        _apply_one(inner, [0, *segments[at + 1 :]], difference)
        holder[key] = orjson.dumps(inner[0]).decode()
        return
    parent = _walk(container, segments[:-1])
    last = segments[-1]
    if difference.kind is DiffKind.MISSING:
        del parent[last]
    elif difference.kind is DiffKind.EXTRA and isinstance(parent, list):
        assert isinstance(last, int)
        parent.insert(last, _deepcopy(difference.after))
    else:
        parent[last] = _deepcopy(difference.after)


def _walk(value: Any, segments: list[str | int]) -> Any:
    for segment in segments:
        value = value[segment]
    return value


def _deepcopy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _deepcopy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_deepcopy(v) for v in value]
    return value
