"""Tool-call family: which calls match, how their arguments differ, whether they follow the declared schema.

Calls are matched order-insensitively (parallel calls come in any order): first
calls with the same name, closest arguments first; then leftovers across names,
so a renamed tool still shows its argument differences. No tool is executed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import orjson

from shadow.diff.jsondiff import DiffKind, JsonDifference, count_leaves, diff_json
from shadow.diff.jsontext import schema_key, validate_schema
from shadow.events.output import ToolCall

_UNPARSED: Any = object()


@dataclass(frozen=True, slots=True)
class ToolCallPair:
    """A production call matched with a candidate call."""

    production: ToolCall
    candidate: ToolCall
    name_match: bool
    arguments_valid: bool  # the candidate's arguments are a JSON object
    differences: tuple[JsonDifference, ...]

    @property
    def arguments_match(self) -> bool:
        return self.arguments_valid and not self.differences


@dataclass(frozen=True, slots=True)
class ToolComparison:
    """Everything the tool family reports for one event and candidate."""

    pairs: tuple[ToolCallPair, ...]
    unmatched_production: tuple[ToolCall, ...]
    unmatched_candidate: tuple[ToolCall, ...]
    names_match: bool
    arguments_match: bool
    precision: float
    recall: float
    f1: float
    name_precision: float
    name_recall: float
    name_f1: float
    tool_vs_text: bool  # one side called a tool, the other answered in text only
    difference_paths: tuple[str, ...] = field(default=())
    difference_kinds: tuple[str, ...] = field(default=())


@lru_cache(maxsize=4096)
def parse_arguments(arguments: str) -> Any:
    """Parsed arguments, or ``_UNPARSED`` when they are not valid JSON.

    Cached: every side and pair of a comparison asks, and parallel candidates repeat production's
    arguments. The parsed value is shared, so callers never modify it.
    """
    if not arguments.strip():
        return {}
    try:
        return orjson.loads(arguments)
    except orjson.JSONDecodeError:
        return _UNPARSED


def arguments_are_object(arguments: str) -> bool:
    return isinstance(parse_arguments(arguments), dict)


def _differences(production: ToolCall, candidate: ToolCall, a: Any, b: Any) -> tuple[JsonDifference, ...]:
    if a is _UNPARSED or b is _UNPARSED:
        if production.arguments == candidate.arguments:
            return ()
        return (JsonDifference("$", DiffKind.VALUE_CHANGED, production.arguments, candidate.arguments),)
    return tuple(diff_json(a, b))


def _closeness(a: Any, b: Any, differences: tuple[JsonDifference, ...]) -> float:
    """1.0 for equal arguments, falling with the share of differing leaves."""
    if a is _UNPARSED or b is _UNPARSED:
        return 0.0
    if not differences:
        return 1.0
    leaves = max(count_leaves(a), count_leaves(b))
    return max(0.0, 1.0 - len(differences) / (leaves + 1))


def _prf(tp: int, n_pred: int, n_true: int) -> tuple[float, float, float]:
    if n_pred == 0 and n_true == 0:
        return 1.0, 1.0, 1.0
    precision = tp / n_pred if n_pred else 0.0
    recall = tp / n_true if n_true else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def compare_tool_calls(
    production: tuple[ToolCall, ...],
    candidate: tuple[ToolCall, ...],
    *,
    production_has_text: bool = False,
    candidate_has_text: bool = False,
) -> ToolComparison:
    """Match and compare two sides' tool calls."""
    if not production and not candidate:
        return _NO_CALLS
    parsed_p = [parse_arguments(c.arguments) for c in production]
    parsed_c = [parse_arguments(c.arguments) for c in candidate]
    left_p = list(range(len(production)))
    left_c = list(range(len(candidate)))
    matches: list[tuple[int, int]] = []
    found: dict[tuple[int, int], tuple[JsonDifference, ...]] = {}

    def differences(i: int, j: int) -> tuple[JsonDifference, ...]:
        if (i, j) not in found:
            found[i, j] = _differences(production[i], candidate[j], parsed_p[i], parsed_c[j])
        return found[i, j]

    def match(same_name: bool) -> None:
        if len(left_p) == 1 and len(left_c) == 1:
            # One call each (the common case): they pair up, whatever their names.
            if (production[left_p[0]].name == candidate[left_c[0]].name) == same_name:
                matches.append((left_p.pop(), left_c.pop()))
            return
        options = [(i, j) for i in left_p for j in left_c if (production[i].name == candidate[j].name) == same_name]
        if len(options) > 1:
            # Closest arguments first; ties keep production order.
            options.sort(key=lambda ij: (-_closeness(parsed_p[ij[0]], parsed_c[ij[1]], differences(*ij)), ij))
        for i, j in options:
            if i in left_p and j in left_c:
                matches.append((i, j))
                left_p.remove(i)
                left_c.remove(j)

    match(same_name=True)
    match(same_name=False)

    pairs = []
    paths: list[str] = []
    kinds: list[str] = []
    # Equal calls match each other first (closeness 1.0), so the matched equal pairs are exactly the
    # multiset intersection of (name, arguments), with arguments compared as the diff compares them.
    tp = 0
    for i, j in sorted(matches):
        pair_differences = differences(i, j)
        name_match = production[i].name == candidate[j].name
        pairs.append(
            ToolCallPair(production[i], candidate[j], name_match, isinstance(parsed_c[j], dict), pair_differences)
        )
        if name_match and not pair_differences and parsed_p[i] is not _UNPARSED and parsed_c[j] is not _UNPARSED:
            tp += 1
        name = candidate[j].name
        for d in pair_differences:
            paths.append(name + d.path[1:] if d.path != "$" else name)
            kinds.append(d.kind.value)

    precision, recall, f1 = _prf(tp, len(candidate), len(production))
    names_p, names_c = sorted(c.name for c in production), sorted(c.name for c in candidate)
    name_tp = len(names_p) if names_p == names_c else sum((Counter(names_p) & Counter(names_c)).values())
    name_precision, name_recall, name_f1 = _prf(name_tp, len(candidate), len(production))

    unmatched_p = tuple(production[i] for i in left_p)
    unmatched_c = tuple(candidate[j] for j in left_c)
    for call in unmatched_p:
        paths.append(call.name)
        kinds.append(DiffKind.MISSING.value)
    for call in unmatched_c:
        paths.append(call.name)
        kinds.append(DiffKind.EXTRA.value)
    tool_vs_text = (bool(production) and not candidate and candidate_has_text) or (
        bool(candidate) and not production and production_has_text
    )
    return ToolComparison(
        pairs=tuple(pairs),
        unmatched_production=unmatched_p,
        unmatched_candidate=unmatched_c,
        names_match=names_p == names_c,
        arguments_match=not unmatched_p and not unmatched_c and all(p.arguments_match for p in pairs),
        precision=precision,
        recall=recall,
        f1=f1,
        name_precision=name_precision,
        name_recall=name_recall,
        name_f1=name_f1,
        tool_vs_text=tool_vs_text,
        difference_paths=tuple(paths),
        difference_kinds=tuple(kinds),
    )


_NO_CALLS = ToolComparison(
    pairs=(),
    unmatched_production=(),
    unmatched_candidate=(),
    names_match=True,
    arguments_match=True,
    precision=1.0,
    recall=1.0,
    f1=1.0,
    name_precision=1.0,
    name_recall=1.0,
    name_f1=1.0,
    tool_vs_text=False,
)


def tool_schemas(request: dict[str, Any]) -> dict[str, bytes]:
    """Parameter schemas the request declared, by tool name (OpenAI ``tools`` or Anthropic ``input_schema``)."""
    out: dict[str, bytes] = {}
    for tool in request.get("tools") or ():
        if not isinstance(tool, dict):
            continue
        if isinstance(tool.get("function"), dict):
            function = tool["function"]
            name, schema = function.get("name"), function.get("parameters")
        else:
            name, schema = tool.get("name"), tool.get("input_schema")
        if isinstance(name, str):
            out[name] = schema_key(schema if isinstance(schema, dict) else {"type": "object"})
    return out


def validate_tool_calls(
    calls: tuple[ToolCall, ...], schemas: Mapping[str, bytes]
) -> tuple[bool | None, tuple[str, ...]]:
    """Check calls against the declared parameter schemas: (all valid, errors). None when nothing was declared."""
    if not calls or not schemas:
        return None, ()
    errors: list[str] = []
    for call in calls:
        schema = schemas.get(call.name)
        if schema is None:
            errors.append(f"{call.name}: tool was not declared in the request")
            continue
        arguments = parse_arguments(call.arguments)
        if arguments is _UNPARSED:
            errors.append(f"{call.name}: arguments are not valid JSON")
            continue
        valid, found = validate_schema(arguments, schema)
        if not valid:
            errors.extend(f"{call.name}{e[1:] if e.startswith('$') else ': ' + e}" for e in found)
    return not errors, tuple(errors[:10])
