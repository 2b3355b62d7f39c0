"""Tool-call family: which calls match, how their arguments differ, whether they follow the declared schema.

Calls are matched order-insensitively (parallel calls come in any order): first
calls with the same name, closest arguments first; then leftovers across names,
so a renamed tool still shows its argument differences. No tool is executed.

Matching weighs every pair of calls, so it runs on the first ``max_tool_calls`` calls
of each side; counts, name agreement and name F1 still cover every call. Each pair's
closeness comes from an argument diff with its share of ``max_json_nodes``; equal
arguments are recognized by their canonical bytes without a walk.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import orjson

from shadow.diff.jsondiff import EQUAL, DiffKind, JsonDiff, JsonDifference, bounded_diff, canonical_json, count_leaves
from shadow.diff.limits import DEFAULT_LIMITS, JSON_NODES, JSON_PATHS, SCHEMA_NODES, TOOL_CALLS, DiffLimits
from shadow.diff.schema import check_schema, schema_key
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
    equal: bool = True  # False also when the diff ran out of nodes before finding a difference

    @property
    def arguments_match(self) -> bool:
        return self.arguments_valid and self.equal and not self.differences


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
    caps: frozenset[str] = field(default=frozenset())


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


def _prf(tp: int, n_pred: int, n_true: int) -> tuple[float, float, float]:
    if n_pred == 0 and n_true == 0:
        return 1.0, 1.0, 1.0
    precision = tp / n_pred if n_pred else 0.0
    recall = tp / n_true if n_true else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


# Each pair weighed while matching may walk at least this many nodes of its arguments.
_MIN_PAIR_NODES = 64


def compare_tool_calls(
    production: tuple[ToolCall, ...],
    candidate: tuple[ToolCall, ...],
    *,
    production_has_text: bool = False,
    candidate_has_text: bool = False,
    limits: DiffLimits = DEFAULT_LIMITS,
) -> ToolComparison:
    """Match and compare two sides' tool calls (the first ``limits.max_tool_calls`` of each)."""
    if not production and not candidate:
        return _NO_CALLS
    if len(production) == 1 and len(candidate) == 1 and limits.max_tool_calls >= 1:
        return _compare_one_call_each(production[0], candidate[0], limits)
    return _compare_calls(production, candidate, production_has_text, candidate_has_text, limits)


def _compare_one_call_each(production: ToolCall, candidate: ToolCall, limits: DiffLimits) -> ToolComparison:
    """:func:`_compare_calls` of one call against one (the common case), without its matching.

    The two calls pair up whatever their names; their diff gets every node (``pair_nodes`` of one
    pair), so it is never run twice.
    """
    parsed_p, parsed_c = parse_arguments(production.arguments), parse_arguments(candidate.arguments)
    if parsed_p is _UNPARSED or parsed_c is _UNPARSED:
        raw_p, raw_c = production.arguments, candidate.arguments
        diff = EQUAL if raw_p == raw_c else JsonDiff((_raw_difference(raw_p, raw_c),), False)
    else:
        canonical = canonical_json(parsed_p)
        if canonical is not None and canonical == canonical_json(parsed_c):
            diff = EQUAL
        else:
            diff = bounded_diff(
                parsed_p,
                parsed_c,
                max_paths=limits.max_json_paths,
                max_nodes=max(_MIN_PAIR_NODES, limits.max_json_nodes),
                max_depth=limits.max_json_depth,
                precheck=False,
            )
    name, name_match = candidate.name, production.name == candidate.name
    pair = ToolCallPair(production, candidate, name_match, isinstance(parsed_c, dict), diff.differences, diff.equal)
    # parsed_p and parsed_c are both parsed when the diff is equal (unparsed arguments differ raw).
    tp = int(name_match and diff.equal and parsed_p is not _UNPARSED and parsed_c is not _UNPARSED)
    paths = [name + d.path[1:] if d.path != "$" else name for d in diff.differences]
    kinds = [d.kind.value for d in diff.differences]
    caps = set(diff.caps)
    if len(paths) > limits.max_json_paths:
        caps.add(JSON_PATHS)
        del paths[limits.max_json_paths :], kinds[limits.max_json_paths :]
    score = float(tp)
    name_score = float(name_match)
    return ToolComparison(
        pairs=(pair,),
        unmatched_production=(),
        unmatched_candidate=(),
        names_match=name_match,
        arguments_match=pair.arguments_match,
        precision=score,
        recall=score,
        f1=score,
        name_precision=name_score,
        name_recall=name_score,
        name_f1=name_score,
        tool_vs_text=False,
        difference_paths=tuple(paths),
        difference_kinds=tuple(kinds),
        caps=frozenset(caps),
    )


def _compare_calls(
    production: tuple[ToolCall, ...],
    candidate: tuple[ToolCall, ...],
    production_has_text: bool,
    candidate_has_text: bool,
    limits: DiffLimits,
) -> ToolComparison:
    """Match the calls (same names first, closest arguments first), then compare each pair."""
    caps: set[str] = set()
    if len(production) > limits.max_tool_calls or len(candidate) > limits.max_tool_calls:
        caps.add(TOOL_CALLS)
    calls_p, calls_c = production[: limits.max_tool_calls], candidate[: limits.max_tool_calls]
    parsed_p = [parse_arguments(c.arguments) for c in calls_p]
    parsed_c = [parse_arguments(c.arguments) for c in calls_c]
    canonical_p = [None if v is _UNPARSED else canonical_json(v) for v in parsed_p]
    canonical_c = [None if v is _UNPARSED else canonical_json(v) for v in parsed_c]
    leaves: dict[tuple[int, int], int] = {}
    left_p = list(range(len(calls_p)))
    left_c = list(range(len(calls_c)))
    matches: list[tuple[int, int]] = []
    found: dict[tuple[int, int], JsonDiff] = {}
    pair_nodes = max(_MIN_PAIR_NODES, limits.max_json_nodes // max(1, len(calls_p) * len(calls_c)))

    def differences(i: int, j: int, budget: int = pair_nodes) -> JsonDiff:
        if (i, j) not in found:
            a, b = parsed_p[i], parsed_c[j]
            if a is _UNPARSED or b is _UNPARSED:
                raw_a, raw_b = calls_p[i].arguments, calls_c[j].arguments
                found[i, j] = EQUAL if raw_a == raw_b else JsonDiff((_raw_difference(raw_a, raw_b),), False)
            elif canonical_p[i] is not None and canonical_p[i] == canonical_c[j]:
                found[i, j] = EQUAL
            else:
                found[i, j] = bounded_diff(
                    a,
                    b,
                    max_paths=limits.max_json_paths,
                    max_nodes=budget,
                    max_depth=limits.max_json_depth,
                    precheck=False,
                )
        return found[i, j]

    def leaf_count(side: int, index: int) -> int:
        if (side, index) not in leaves:
            leaves[side, index] = count_leaves((parsed_p, parsed_c)[side][index])
        return leaves[side, index]

    def closeness(i: int, j: int) -> float:
        """1.0 for equal arguments, falling with the share of differing leaves."""
        if parsed_p[i] is _UNPARSED or parsed_c[j] is _UNPARSED:
            return 0.0
        diff = differences(i, j)
        if diff.equal:
            return 1.0
        # A diff that ran out of nodes before a difference still differs (never ties an equal pair).
        found = max(1, len(diff.differences))
        return max(0.0, 1.0 - found / (max(leaf_count(0, i), leaf_count(1, j)) + 1))

    def match(same_name: bool) -> None:
        if len(left_p) == 1 and len(left_c) == 1:
            # One call each (the common case): they pair up, whatever their names.
            if (calls_p[left_p[0]].name == calls_c[left_c[0]].name) == same_name:
                matches.append((left_p.pop(), left_c.pop()))
            return
        options = [(i, j) for i in left_p for j in left_c if (calls_p[i].name == calls_c[j].name) == same_name]
        if len(options) > 1:
            # Closest arguments first; ties keep production order.
            options.sort(key=lambda ij: (-closeness(*ij), ij))
        for i, j in options:
            if i in left_p and j in left_c:
                matches.append((i, j))
                left_p.remove(i)
                left_c.remove(j)

    # Closeness may have been judged on part of long arguments (their pair's share of the nodes);
    # the caps recorded are those of the matched pairs' final diffs.
    match(same_name=True)
    match(same_name=False)

    pairs = []
    paths: list[str] = []
    kinds: list[str] = []
    # Equal calls match each other first (closeness 1.0), so the matched equal pairs are exactly the
    # multiset intersection of (name, arguments), with arguments compared as the diff compares them.
    tp = 0
    final_nodes = max(pair_nodes, limits.max_json_nodes // max(1, len(matches)))
    for i, j in sorted(matches):
        pair_diff = differences(i, j)
        if JSON_NODES in pair_diff.caps and final_nodes > pair_nodes:
            del found[i, j]
            pair_diff = differences(i, j, final_nodes)
        caps.update(pair_diff.caps)
        name_match = calls_p[i].name == calls_c[j].name
        valid = isinstance(parsed_c[j], dict)
        pairs.append(ToolCallPair(calls_p[i], calls_c[j], name_match, valid, pair_diff.differences, pair_diff.equal))
        if name_match and pair_diff.equal and parsed_p[i] is not _UNPARSED and parsed_c[j] is not _UNPARSED:
            tp += 1
        name = calls_c[j].name
        for d in pair_diff.differences:
            paths.append(name + d.path[1:] if d.path != "$" else name)
            kinds.append(d.kind.value)

    precision, recall, f1 = _prf(tp, len(calls_c), len(calls_p))
    names_p, names_c = sorted(c.name for c in production), sorted(c.name for c in candidate)
    name_tp = len(names_p) if names_p == names_c else sum((Counter(names_p) & Counter(names_c)).values())
    name_precision, name_recall, name_f1 = _prf(name_tp, len(candidate), len(production))

    unmatched_p = tuple(calls_p[i] for i in left_p)
    unmatched_c = tuple(calls_c[j] for j in left_c)
    for call in unmatched_p:
        paths.append(call.name)
        kinds.append(DiffKind.MISSING.value)
    for call in unmatched_c:
        paths.append(call.name)
        kinds.append(DiffKind.EXTRA.value)
    if len(paths) > limits.max_json_paths:
        caps.add(JSON_PATHS)
        del paths[limits.max_json_paths :], kinds[limits.max_json_paths :]
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
        caps=frozenset(caps),
    )


def _raw_difference(production: str, candidate: str) -> JsonDifference:
    """Arguments that are not both JSON differ as a whole."""
    return JsonDifference("$", DiffKind.VALUE_CHANGED, production, candidate)


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
    """Parameter schemas the request declared, by tool name (OpenAI chat ``tools``, flat Responses function tools'
    ``parameters`` or Anthropic ``input_schema``)."""
    out: dict[str, bytes] = {}
    for tool in request.get("tools") or ():
        if not isinstance(tool, dict):
            continue
        if isinstance(tool.get("function"), dict):
            function = tool["function"]
            name, schema = function.get("name"), function.get("parameters")
        elif tool.get("type") == "function":
            name, schema = tool.get("name"), tool.get("parameters")
        else:
            name, schema = tool.get("name"), tool.get("input_schema")
        if isinstance(name, str):
            out[name] = schema_key(schema if isinstance(schema, dict) else {"type": "object"})
    return out


@dataclass(frozen=True, slots=True)
class ToolSchemaCheck:
    """Whether a side's calls follow the declared schemas: ``valid`` None when none was declared or checked."""

    valid: bool | None
    errors: tuple[str, ...]
    caps: frozenset[str] = frozenset()


_NOT_CHECKED = ToolSchemaCheck(None, ())


def check_tool_calls(
    calls: tuple[ToolCall, ...], schemas: Mapping[str, bytes], limits: DiffLimits = DEFAULT_LIMITS
) -> ToolSchemaCheck:
    """Check the first ``limits.max_tool_calls`` calls against the declared parameter schemas.

    The calls share ``limits.max_schema_nodes``: calls past it are not checked. The answer is
    False on any error found, None when a call could not be checked and none failed.
    """
    if not calls or not schemas:
        return _NOT_CHECKED
    failures: list[str] = []
    notes: list[str] = []
    caps: set[str] = set()
    if len(calls) > limits.max_tool_calls:
        caps.add(TOOL_CALLS)
    nodes_left = limits.max_schema_nodes
    for call in calls[: limits.max_tool_calls]:
        schema = schemas.get(call.name)
        if schema is None:
            failures.append(f"{call.name}: tool was not declared in the request")
            continue
        arguments = parse_arguments(call.arguments)
        if arguments is _UNPARSED:
            failures.append(f"{call.name}: arguments are not valid JSON")
            continue
        if nodes_left <= 0:
            caps.add(SCHEMA_NODES)
            notes.append(f"{call.name}: the calls before it used up the schema budget, not checked")
            continue
        result = check_schema(arguments, schema, max_nodes=nodes_left, max_depth=limits.max_json_depth)
        nodes_left -= result.nodes
        if result.cap is not None:
            caps.add(result.cap)
        if result.valid is None:
            notes.extend(f"{call.name}: {e}" for e in result.errors)
        elif not result.valid:
            failures.extend(f"{call.name}{e[1:] if e.startswith('$') else ': ' + e}" for e in result.errors)
    valid = False if failures else (None if notes else True)
    return ToolSchemaCheck(valid, tuple((failures + notes)[:10]), frozenset(caps))


def validate_tool_calls(
    calls: tuple[ToolCall, ...], schemas: Mapping[str, bytes]
) -> tuple[bool | None, tuple[str, ...]]:
    """(valid, errors) of :func:`check_tool_calls` with the default caps."""
    result = check_tool_calls(calls, schemas)
    return result.valid, result.errors
