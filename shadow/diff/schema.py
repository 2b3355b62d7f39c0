"""JSON family, part 3: does a JSON value follow a JSON Schema, within a bounded cost.

Schemas come from the request (``response_format``, tool parameters) or the workflow's
configuration, so the event decides them. jsonschema validates recursively, costs about
10 µs per node, and runs a schema's ``pattern`` regular expressions with Python's
backtracking engine; so a value is checked only when it is small and shallow enough
(``max_schema_nodes``, ``max_json_depth``) and when the schema's patterns cannot backtrack
catastrophically on its strings (see :func:`pattern_cost`). Otherwise, or when the schema
itself cannot be used (a ``$ref`` that resolves nowhere or to itself), the answer is
"not checked" (``valid`` None) with the reason; the comparison's row survives.
"""

from __future__ import annotations

import importlib
import math
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import orjson
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from jsonschema.protocols import Validator

from shadow.diff.jsondiff import canonical_json
from shadow.diff.limits import DEFAULT_LIMITS, JSON_DEPTH, SCHEMA_NODES, SCHEMA_PATTERNS

# Python's own regular-expression parser (re._parser has no public name; its tree is stable).
_sre: Any = importlib.import_module("re._parser")

TOO_DEEP_SCHEMA = orjson.dumps("shadow: schema nested too deep to check")
"""The key of a schema orjson cannot serialize (over 255 levels): never checked."""

# Estimated backtracking steps all of a schema's patterns may take on one value's strings.
REGEX_STEP_BUDGET = 5_000_000
# A quantifier whose range is at least this wide counts as unbounded.
_WIDE_RANGE = 16


def schema_key(schema: dict[str, Any]) -> bytes:
    """A hashable, key-order-independent key of a schema (for validator caching).

    A schema nested too deep for orjson gets :data:`TOO_DEEP_SCHEMA`.
    """
    return canonical_json(schema) or TOO_DEEP_SCHEMA


@dataclass(frozen=True, slots=True)
class SchemaCheck:
    """Whether a value follows a schema: ``valid`` None when it was not checked (``errors`` says why)."""

    valid: bool | None
    errors: tuple[str, ...]
    cap: str | None = None
    nodes: int = 0  # nodes of the value counted (at most max_nodes + 1)


@dataclass(frozen=True, slots=True)
class _Schema:
    """A usable schema: its validator and the cost model of each of its patterns."""

    validator: Validator
    patterns: tuple[tuple[int, int], ...]  # (constant factor, degree) per pattern


@dataclass(frozen=True, slots=True)
class _Unusable:
    check: SchemaCheck


_INVALID = _Unusable(SchemaCheck(True, ("schema: invalid JSON Schema, not checked",)))


def pattern_cost(pattern: str) -> tuple[int, int] | None:
    """Worst-case backtracking of ``re.search(pattern, s)`` as (factor, degree): about factor × (len(s)+1)^degree.

    None when the pattern may backtrack exponentially, so it is never run on answers:
    a quantifier over something that itself repeats or alternates (``(a+)+``, ``(a|ab)*``),
    or a back-reference. Each unbounded quantifier adds one to the degree, and so does
    searching from every position unless the pattern is anchored with ``^``; a narrow
    quantifier (``?``, ``{2,5}``) multiplies the factor.
    """
    try:
        parsed = _sre.parse(pattern)
    except (re.error, RecursionError, OverflowError):
        return None
    factor, degree = 1, 0
    items = list(parsed)
    stack: list[Any] = [items]
    while stack:
        for op, av in stack.pop():
            name = str(op)
            if name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
                low, high, body = av
                if _repeats_or_alternates(body):
                    return None
                if high - low >= _WIDE_RANGE:
                    degree += 1
                else:
                    factor *= high - low + 1
            elif name in ("GROUPREF", "GROUPREF_EXISTS"):
                return None
            elif name == "SUBPATTERN":
                stack.append(av[-1])
            elif name in ("ATOMIC_GROUP",):
                stack.append(av)
            elif name in ("ASSERT", "ASSERT_NOT"):
                stack.append(av[1])
            elif name == "BRANCH":
                stack.extend(av[1])
    anchored = bool(items) and str(items[0][0]) == "AT" and str(items[0][1]) in ("AT_BEGINNING", "AT_BEGINNING_STRING")
    if not anchored or parsed.state.flags & re.MULTILINE:
        degree += 1
    return factor, degree


def _repeats_or_alternates(body: Any) -> bool:
    stack = [body]
    while stack:
        for op, av in stack.pop():
            name = str(op)
            if name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT", "BRANCH", "GROUPREF", "GROUPREF_EXISTS"):
                return True
            if name == "SUBPATTERN":
                stack.append(av[-1])
            elif name == "ATOMIC_GROUP":
                stack.append(av)
            elif name in ("ASSERT", "ASSERT_NOT"):
                stack.append(av[1])
    return False


def _schema_patterns(schema: Any) -> list[str]:
    """Every regular expression in a schema: ``pattern`` values and ``patternProperties`` keys."""
    found: list[str] = []
    stack = [schema]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if isinstance(item.get("pattern"), str):
                found.append(item["pattern"])
            if isinstance(item.get("patternProperties"), dict):
                found.extend(item["patternProperties"])
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


@lru_cache(maxsize=512)
def _compiled(key: bytes) -> _Schema | _Unusable:
    if key == TOO_DEEP_SCHEMA:
        return _Unusable(SchemaCheck(None, ("schema: nested too deep, not checked",), JSON_DEPTH))
    schema = orjson.loads(key)
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError:
        return _INVALID
    except RecursionError:
        return _Unusable(SchemaCheck(None, ("schema: nested too deep, not checked",), JSON_DEPTH))
    costs = []
    for pattern in _schema_patterns(schema):
        cost = pattern_cost(pattern)
        if cost is None:
            message = f"schema: pattern {pattern[:80]!r} may backtrack catastrophically, not checked"
            return _Unusable(SchemaCheck(None, (message,), SCHEMA_PATTERNS))
        costs.append(cost)
    return _Schema(Draft202012Validator(schema), tuple(costs))


def _profile(value: Any, max_nodes: int) -> tuple[int, int, list[int]]:
    """(nodes, depth, lengths of strings and keys) of a parsed value; stops counting past ``max_nodes``."""
    nodes, depth = 0, 0
    lengths: list[int] = []
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, level = stack.pop()
        nodes += 1
        if nodes > max_nodes:
            break
        depth = max(depth, level)
        if isinstance(item, dict):
            lengths.extend(map(len, item))
            stack.extend((v, level + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, level + 1) for v in item)
        elif isinstance(item, str):
            lengths.append(len(item))
    return nodes, depth, lengths


def _regex_steps(patterns: tuple[tuple[int, int], ...], lengths: list[int]) -> float:
    total = 0.0
    for factor, degree in patterns:
        total += factor * math.fsum((n + 1) ** degree for n in lengths)
        if total > REGEX_STEP_BUDGET:
            break
    return total


def check_schema(
    value: Any,
    schema: bytes,
    *,
    max_nodes: int = DEFAULT_LIMITS.max_schema_nodes,
    max_depth: int = DEFAULT_LIMITS.max_json_depth,
    limit: int = 5,
) -> SchemaCheck:
    """Validate ``value`` against the schema keyed ``schema`` (see :func:`schema_key`), within the caps.

    Returns up to ``limit`` "path: message" errors. An invalid schema counts as no schema
    (valid, with a note). A value over ``max_nodes`` nodes or ``max_depth`` levels, or whose
    strings the schema's patterns could take too long on, is not checked.
    """
    compiled = _compiled(schema)
    if isinstance(compiled, _Unusable):
        return compiled.check
    nodes, depth, lengths = _profile(value, max_nodes)
    if nodes > max_nodes:
        return SchemaCheck(None, (f"$: more than {max_nodes} JSON nodes, not checked",), SCHEMA_NODES, nodes)
    if depth > max_depth:
        return SchemaCheck(None, (f"$: nested deeper than {max_depth} levels, not checked",), JSON_DEPTH, nodes)
    if compiled.patterns and _regex_steps(compiled.patterns, lengths) > REGEX_STEP_BUDGET:
        message = "$: strings too long for the schema's patterns to be checked quickly, not checked"
        return SchemaCheck(None, (message,), SCHEMA_PATTERNS, nodes)
    errors = []
    try:
        for error in compiled.validator.iter_errors(value):
            errors.append(f"{error.json_path}: {describe_error(error)}")
            if len(errors) >= limit:
                break
    except RecursionError:
        # A $ref cycle that never descends into the value.
        return SchemaCheck(None, ("schema: $ref recursion too deep, not checked",), JSON_DEPTH, nodes)
    except Exception as exc:  # noqa: BLE001 -- a schema from the event may fail in any way; the row must survive
        return SchemaCheck(None, (f"schema: not checked: {type(exc).__name__}: {str(exc)[:120]}",), None, nodes)
    return SchemaCheck(not errors, tuple(errors), None, nodes)


# Validators whose messages name only the schema's properties, never a value of the answer.
_NAMES_SCHEMA_ONLY = frozenset({"required", "dependentRequired"})


def describe_error(error: Any) -> str:
    """What a schema error expected, without the answer's value (jsonschema's messages quote it).

    A value at a redacted JSON path would otherwise reach the row through the error text; the
    schema's constraint comes from the request and goes through the same redaction as any text.
    """
    if error.validator in _NAMES_SCHEMA_ONLY:
        return str(error.message)[:160]
    try:
        constraint = orjson.dumps(error.validator_value, default=str).decode()
    except TypeError:
        constraint = "..."
    if len(constraint) > 120:
        constraint = constraint[:120] + "..."
    return f"expected {error.validator} {constraint}"


def validate_schema(value: Any, schema: dict[str, Any] | bytes, limit: int = 5) -> tuple[bool | None, tuple[str, ...]]:
    """(valid, errors) of :func:`check_schema` with the default caps; ``schema`` as a dict or its key."""
    result = check_schema(value, schema if isinstance(schema, bytes) else schema_key(schema), limit=limit)
    return result.valid, result.errors
