"""JSON family, part 2: typed differences between production's and the candidate's JSON.

Differences are reported at JSONPath-style paths (``$.items[0].price``). Numbers
compare by value (5 == 5.0), ``"5"`` vs ``5`` is a type change, key order never
matters, arrays compare position by position. Strings that both hold a JSON
object or array (tool arguments, JSON-in-JSON payloads) are parsed and diffed
field by field under a ``@json`` path segment.

The reported differences are a complete patch: :func:`apply_differences` turns
production's value into the candidate's (a property test holds this).

The walk is iterative (any depth), builds a path string only for a reported
difference, and in :func:`bounded_diff` stops after a number of differences or
nodes and locates differences only down to a depth, saying which cap applied.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from typing import Any

import orjson

from shadow.diff.limits import JSON_DEPTH, JSON_NODES, JSON_PATHS

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


_CONTAINER_START = re.compile(r"[ \t\r\n]*[\[{]")


def _parse_container(text: str) -> Any:
    if _CONTAINER_START.match(text) is None:
        return None
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        return None
    return value if isinstance(value, dict | list) else None


def canonical_json(value: Any) -> bytes | None:
    """Key-sorted orjson bytes of a parsed value; None when orjson cannot write it (over 255 levels deep).

    Equal bytes mean :func:`diff_json` finds no difference (the converse fails only on number
    spelling, 5 vs 5.0, and JSON-in-string spelling), so equal answers skip the walk.
    """
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    except TypeError:
        return None


@dataclass(frozen=True, slots=True)
class JsonDiff:
    """The result of a bounded diff.

    ``equal`` is True only when the values were shown equal; a walk that ran out of nodes
    before finding a difference reports False with no differences (and ``json_nodes`` in caps).
    ``nodes`` is how many node pairs were walked.
    """

    differences: tuple[JsonDifference, ...]
    equal: bool
    caps: frozenset[str] = frozenset()
    nodes: int = 0


EQUAL = JsonDiff((), True)


def diff_json(before: Any, after: Any, path: str = "$", *, parse_strings: bool = True) -> list[JsonDifference]:
    """Typed differences turning ``before`` (production) into ``after`` (candidate).

    No cap but depth: differences are located down to ``MAX_LOCATED_DEPTH`` levels, below which a
    differing subtree is one ``value_changed``. The hot path uses :func:`bounded_diff`.
    """
    walk = _Walk(path, parse_strings, None, None, None)
    walk.compare(before, after, None, 0)
    return walk.out


def bounded_diff(
    before: Any,
    after: Any,
    *,
    max_paths: int | None,
    max_nodes: int | None,
    max_depth: int | None,
    parse_strings: bool = True,
    path: str = "$",
    precheck: bool = True,
) -> JsonDiff:
    """:func:`diff_json` with caps, so its cost is bounded whatever the values hold.

    Args:
        max_paths: differences kept; one more stops the walk (``json_paths`` in caps).
        max_nodes: node pairs walked, parsing JSON inside strings included; then the walk stops
            (``json_nodes``).
        max_depth: below this depth differences are not located: a differing subtree at this
            depth is one ``value_changed`` (``json_depth``).
        precheck: compare canonical bytes first (skip when the caller already did).
    """
    if precheck:
        canonical = canonical_json(before)
        if canonical is not None and canonical == canonical_json(after):
            return EQUAL
    walk = _Walk(path, parse_strings, max_paths, max_nodes, max_depth)
    walk.compare(before, after, None, 0)
    equal = not walk.out and not walk.caps
    return JsonDiff(tuple(walk.out), equal, frozenset(walk.caps), walk.nodes)


_SCALARS = frozenset({str, int, float, bool, type(None)})
# Differences are located by a recursive walk at most this deep (two frames a level, far from
# Python's recursion limit); below it a differing subtree is one difference, found iteratively.
MAX_LOCATED_DEPTH = 128
# Parsing JSON held in a string costs one node per this many characters.
_PARSE_CHARS_PER_NODE = 512
# A path is a linked list (parent, segment), so a string is built only for a reported difference.
_JSON_MARK: Any = object()


class _Walk:
    """One walk over two values: locates differences down to ``max_depth``, within the caps."""

    __slots__ = ("budget", "caps", "max_depth", "max_paths", "nodes_left", "out", "parse_strings", "root", "stopped")

    def __init__(
        self, root: str, parse_strings: bool, max_paths: int | None, max_nodes: int | None, max_depth: int | None
    ) -> None:
        self.root = root
        self.parse_strings = parse_strings
        self.max_paths = max_paths
        self.max_depth = MAX_LOCATED_DEPTH if max_depth is None else min(max_depth, MAX_LOCATED_DEPTH)
        self.nodes_left = self.budget = max_nodes if max_nodes is not None else sys.maxsize
        self.out: list[JsonDifference] = []
        self.caps: set[str] = set()
        self.stopped = False

    def path(self, ref: Any) -> str:
        segments = []
        while ref is not None:
            ref, segment = ref
            segments.append(segment)
        parts = [self.root]
        for segment in reversed(segments):
            if type(segment) is int:
                parts.append(f"[{segment}]")
            elif segment is _JSON_MARK:
                parts.append(JSON_IN_STRING)
            else:
                parts.append(key_segment(segment))
        return "".join(parts)

    def emit(self, kind: DiffKind, before: Any, after: Any, ref: Any) -> None:
        if self.max_paths is not None and len(self.out) >= self.max_paths:
            self.caps.add(JSON_PATHS)
            self.stopped = True
            return
        self.out.append(JsonDifference(self.path(ref), kind, before, after))

    @property
    def nodes(self) -> int:
        return self.budget - max(self.nodes_left, 0)

    def spend(self, nodes: int) -> bool:
        """Count walked nodes; False (and stop) once the budget is spent."""
        self.nodes_left -= nodes
        if self.nodes_left < 0:
            self.caps.add(JSON_NODES)
            self.stopped = True
            return False
        return True

    def compare(self, a: Any, b: Any, ref: Any, depth: int) -> None:
        kind = type(a)
        if kind is type(b) and kind in _SCALARS:
            if a != b:
                self.changed_scalar(a, b, ref, depth)
            return
        ta, tb = json_type(a), json_type(b)
        if ta != tb:
            self.emit(DiffKind.TYPE_CHANGED, a, b, ref)
        elif ta == "object" or ta == "array":  # noqa: PLR1714 (faster than a set on this path)
            if not self.spend(1):
                return
            if depth >= self.max_depth:
                if self.differs(a, b):
                    self.caps.add(JSON_DEPTH)
                    self.emit(DiffKind.VALUE_CHANGED, a, b, ref)
            elif ta == "object":
                self.objects(a, b, ref, depth + 1)
            else:
                self.arrays(a, b, ref, depth + 1)
        elif a != b:
            self.changed_scalar(a, b, ref, depth)

    def objects(self, a: dict[str, Any], b: dict[str, Any], ref: Any, depth: int) -> None:
        for key, x in a.items():
            self.nodes_left -= 1
            if self.nodes_left < 0:
                self.spend(0)
                return
            if key in b:
                y = b[key]
                kind = type(x)
                if kind is type(y) and kind in _SCALARS:
                    # The common leaf case, without a call.
                    if x == y:
                        continue
                    self.changed_scalar(x, y, (ref, key), depth)
                else:
                    self.compare(x, y, (ref, key), depth)
            else:
                self.emit(DiffKind.MISSING, x, None, (ref, key))
            if self.stopped:
                return
        for key, y in b.items():
            if key not in a:
                if not self.spend(1):
                    return
                self.emit(DiffKind.EXTRA, None, y, (ref, key))
                if self.stopped:
                    return

    def arrays(self, a: list[Any], b: list[Any], ref: Any, depth: int) -> None:
        if len(a) != len(b):
            self.emit(DiffKind.LENGTH_CHANGED, len(a), len(b), ref)
        for i, (x, y) in enumerate(zip(a, b, strict=False)):
            self.nodes_left -= 1
            if self.nodes_left < 0:
                self.spend(0)
                return
            kind = type(x)
            if kind is type(y) and kind in _SCALARS:
                if x == y:
                    continue
                self.changed_scalar(x, y, (ref, i), depth)
            else:
                self.compare(x, y, (ref, i), depth)
            if self.stopped:
                return
        common = min(len(a), len(b))
        for i in range(common, len(a)):
            if not self.spend(1):
                return
            self.emit(DiffKind.MISSING, a[i], None, (ref, i))
            if self.stopped:
                return
        for i in range(common, len(b)):
            if not self.spend(1):
                return
            self.emit(DiffKind.EXTRA, None, b[i], (ref, i))
            if self.stopped:
                return

    def changed_scalar(self, a: Any, b: Any, ref: Any, depth: int) -> None:
        if self.parse_strings and type(a) is str and type(b) is str:
            pa, pb = self.parse_pair(a, b)
            if self.stopped:
                return
            if pa is not None and pb is not None:
                # Both hold JSON: diff inside; the same JSON spelled differently is no difference.
                self.compare(pa, pb, (ref, _JSON_MARK), depth + 1)
                return
        self.emit(DiffKind.VALUE_CHANGED, a, b, ref)

    def parse_pair(self, a: str, b: str) -> tuple[Any, Any]:
        if _CONTAINER_START.match(a) is None or _CONTAINER_START.match(b) is None:
            return None, None
        if not self.spend((len(a) + len(b)) // _PARSE_CHARS_PER_NODE):
            return None, None
        return _parse_container(a), _parse_container(b)

    def differs(self, a: Any, b: Any) -> bool:
        """Whether two subtrees differ at all (iterative, any depth; shares the node budget)."""
        stack = [(a, b)]
        while stack:
            if not self.spend(1):
                return False
            x, y = stack.pop()
            kind = type(x)
            if kind is type(y) and kind in _SCALARS:
                if x == y:
                    continue
                if self.parse_strings and kind is str:
                    px, py = self.parse_pair(x, y)
                    if self.stopped:
                        return False
                    if px is not None and py is not None:
                        stack.append((px, py))
                        continue
                return True
            tx, ty = json_type(x), json_type(y)
            if tx != ty:
                return True
            if tx == "object":
                if x.keys() != y.keys():
                    return True
                stack.extend((v, y[k]) for k, v in x.items())
            elif tx == "array":
                if len(x) != len(y):
                    return True
                stack.extend(zip(x, y, strict=True))
            elif x != y:
                return True
        return False


def count_leaves(value: Any) -> int:
    """Number of scalar leaves (an empty container counts as one); iterative."""
    total = 0
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict) and item:
            stack.extend(item.values())
        elif isinstance(item, list) and item:
            stack.extend(item)
        else:
            total += 1
    return total


def json_shape(value: Any, max_nodes: int) -> tuple[int, int]:
    """(nodes, depth) of a parsed value, counting stops past ``max_nodes``; iterative.

    A scalar is one node at depth 0; ``[[1]]`` has three nodes and depth 2.
    """
    nodes, depth = 0, 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, level = stack.pop()
        nodes += 1
        if nodes > max_nodes:
            break
        depth = max(depth, level)
        if isinstance(item, dict):
            stack.extend((v, level + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, level + 1) for v in item)
    return nodes, depth


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
