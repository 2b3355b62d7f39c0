"""Held-out: real parallel tool calls from the Berkeley Function Calling Leaderboard (BFCL).

The first 40 cases of BFCL's "parallel" category (ShishirPatil/gorilla, Apache-2.0; see
``tests/data/README.md``): real user questions, real function declarations and curated
ground-truth calls. Production answers with the ground truth, taking the first acceptable
value of every parameter; candidates rewrite or perturb that answer. Every expected figure
below is derived from the ground truth and the perturbation, never from shadow's output.

Function names go on the wire as BFCL's own OpenAI handler sends them, dots replaced by
underscores: OpenAI and Anthropic both reject dotted tool names, and a dotted name would
make a difference path such as ``spotify.play.duration`` ambiguous.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from shadow.diff.compare import Comparison, DiffContext, compare
from shadow.diff.tools import tool_schemas, validate_tool_calls
from shadow.events.output import ToolCall
from shadow.events.wire import parse_anthropic_response, parse_openai_response
from tests.factories import anthropic_request, anthropic_response, openai_request, openai_response

CASES: list[dict[str, Any]] = [
    orjson.loads(line)
    for line in (Path(__file__).resolve().parents[1] / "data" / "bfcl_parallel_sample.jsonl").read_bytes().splitlines()
]
OMITTED = ""  # in a BFCL acceptable-value list: the parameter may be left out
BFCL_TYPES = {"dict": "object", "float": "number", "tuple": "array"}

Call = tuple[str, dict[str, Any]]


def case_id(case: dict[str, Any]) -> str:
    return str(case["id"])


# --- BFCL → wire shapes ---


def wire_name(name: str) -> str:
    return name.replace(".", "_")


def json_schema(bfcl: dict[str, Any]) -> dict[str, Any]:
    """BFCL's parameter dialect as JSON Schema: dict→object, float→number, tuple→array, any→untyped."""
    schema = dict(bfcl)
    kind = schema.pop("type", None)
    if kind is not None and kind != "any":
        schema["type"] = BFCL_TYPES.get(kind, kind)
    if isinstance(schema.get("properties"), dict):
        schema["properties"] = {key: json_schema(value) for key, value in schema["properties"].items()}
    if isinstance(schema.get("items"), dict):
        schema["items"] = json_schema(schema["items"])
    return schema


def openai_tools(case: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "type": "function",
            "function": {
                "name": wire_name(f["name"]),
                "description": f["description"],
                "parameters": json_schema(f["parameters"]),
            },
        }
        for f in case["functions"]
    ]


def anthropic_tools(case: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {"name": wire_name(f["name"]), "description": f["description"], "input_schema": json_schema(f["parameters"])}
        for f in case["functions"]
    ]


def first_acceptable(value: Any) -> Any:
    # A dict-valued answer holds its own acceptable-value lists, one per key (parallel_29's population).
    if isinstance(value, dict):
        return {key: first_acceptable(choices[0]) for key, choices in value.items() if choices[0] != OMITTED}
    return value


def production_calls(case: dict[str, Any]) -> list[Call]:
    """The ground truth with the first acceptable value of each parameter, omitted ones left out."""
    calls = []
    for entry in case["ground_truth"]:
        ((name, params),) = entry.items()
        args = {param: first_acceptable(choices[0]) for param, choices in params.items() if choices[0] != OMITTED}
        calls.append((wire_name(name), args))
    return calls


def compare_openai(case: dict[str, Any], production: list[Call], candidate: list[Call]) -> Comparison:
    request = openai_request(case["question"], tools=openai_tools(case))
    return compare(
        parse_openai_response(openai_response(None, tool_calls=list(production))),
        parse_openai_response(openai_response(None, tool_calls=list(candidate))),
        DiffContext.from_request(request),
    )


def compare_anthropic(case: dict[str, Any], production: list[Call], candidate: list[Call]) -> Comparison:
    request = anthropic_request(case["question"], tools=anthropic_tools(case))
    return compare(
        parse_anthropic_response(anthropic_response(None, tool_uses=list(production))),
        parse_anthropic_response(anthropic_response(None, tool_uses=list(candidate))),
        DiffContext.from_request(request),
    )


# --- the oracle: JSON sameness and the differences a one-parameter change must produce ---


def canonical(value: Any) -> Any:
    """Equal for equal JSON values: 5 == 5.0, true != 1, key order ignored."""
    if isinstance(value, bool):
        return ("boolean", value)
    if isinstance(value, int | float):
        return ("number", float(value))
    if isinstance(value, list):
        return ("array", tuple(canonical(v) for v in value))
    if isinstance(value, dict):
        return ("object", frozenset((k, canonical(v)) for k, v in value.items()))
    return ("string" if isinstance(value, str) else "null", value)


def expected_differences(before: Any, after: Any, path: str) -> list[tuple[str, str]]:
    """(path, kind) of every difference turning ``before`` into ``after``: types, then arrays by position."""
    if canonical(before)[0] != canonical(after)[0]:
        return [(path, "type_changed")]
    if isinstance(before, list):
        out = [(path, "length_changed")] if len(before) != len(after) else []
        for i, (a, b) in enumerate(zip(before, after, strict=False)):
            out += expected_differences(a, b, f"{path}[{i}]")
        out += [(f"{path}[{i}]", "missing") for i in range(len(after), len(before))]
        out += [(f"{path}[{i}]", "extra") for i in range(len(before), len(after))]
        return out
    if isinstance(before, dict):
        out = []
        for key, value in before.items():
            out += (
                expected_differences(value, after[key], f"{path}.{key}")
                if key in after
                else [(f"{path}.{key}", "missing")]
            )
        return out + [(f"{path}.{key}", "extra") for key in after if key not in before]
    return [] if canonical(before) == canonical(after) else [(path, "value_changed")]


def as_floats(value: Any) -> Any:
    """Integers written as floats (5 → 5.0) and object keys in reverse order, at every depth."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return float(value)
    if isinstance(value, list):
        return [as_floats(v) for v in value]
    if isinstance(value, dict):
        return {key: as_floats(v) for key, v in reversed(value.items())}
    return value


# --- which cases offer a second acceptable value, or a numeric parameter ---


def with_value(args: dict[str, Any], param: str, value: Any) -> dict[str, Any]:
    """``args`` with ``param`` set to ``value``, or left out when ``value`` is BFCL's omitted marker."""
    changed = {k: v for k, v in args.items() if k != param}
    if value != OMITTED:
        changed[param] = value
    return changed


def second_acceptable(case: dict[str, Any]) -> tuple[int, str, Any, Any] | None:
    """(call index, parameter, first value, other acceptable value) for the first parameter that offers one.

    The other value must differ from the first, and the changed call must not coincide with
    another production call (the matcher could then fairly pair it elsewhere).
    """
    production = production_calls(case)
    for index, entry in enumerate(case["ground_truth"]):
        ((_, params),) = entry.items()
        for param, choices in params.items():
            first = choices[0]
            for other in choices[1:]:
                if isinstance(other, dict) or canonical(other) == canonical(first):
                    continue
                changed = with_value(production[index][1], param, other)
                if any(canonical(changed) == canonical(a) for j, (_, a) in enumerate(production) if j != index):
                    continue
                return index, param, first_acceptable(first), other
    return None


def numeric_parameter(case: dict[str, Any]) -> tuple[int, str] | None:
    """(call index, parameter) of the first production argument declared integer or number."""
    declared = {wire_name(f["name"]): json_schema(f["parameters"]).get("properties", {}) for f in case["functions"]}
    for index, (name, args) in enumerate(production_calls(case)):
        for param, value in args.items():
            kind = declared[name].get(param, {}).get("type")
            if kind in ("integer", "number") and isinstance(value, int | float) and not isinstance(value, bool):
                return index, param
    return None


WITH_SECOND_VALUE = [c for c in CASES if second_acceptable(c) is not None]
WITH_NUMERIC_PARAMETER = [c for c in CASES if numeric_parameter(c) is not None]


# --- the checks ---


def test_the_sample_is_complete() -> None:
    assert [c["id"] for c in CASES] == [f"parallel_{i}" for i in range(40)]
    for case in CASES:
        declared = {f["name"]: f["parameters"]["properties"] for f in case["functions"]}
        for entry in case["ground_truth"]:
            ((name, params),) = entry.items()
            assert set(params) <= set(declared[name]), case["id"]
    # Parametrizing over the applicable cases only, so nothing skips: both sets must stay substantial.
    assert len(WITH_SECOND_VALUE) >= 20
    assert len(WITH_NUMERIC_PARAMETER) >= 20


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_ground_truth_follows_the_declared_schemas(case) -> None:
    calls = tuple(ToolCall(name, orjson.dumps(args).decode()) for name, args in production_calls(case))
    names = {wire_name(f["name"]) for f in case["functions"]}
    for request in (
        openai_request(case["question"], tools=openai_tools(case)),
        anthropic_request(case["question"], tools=anthropic_tools(case)),
    ):
        schemas = tool_schemas(request)
        assert set(schemas) == names
        assert validate_tool_calls(calls, schemas) == (True, ())


def assert_same_calls(comparison: Comparison) -> None:
    assert comparison.pair is not None and comparison.production is not None and comparison.candidate is not None
    tools = comparison.pair.tools
    assert tools.names_match
    assert tools.arguments_match
    assert (tools.precision, tools.recall, tools.f1) == (1.0, 1.0, 1.0)
    assert tools.name_f1 == 1.0
    assert tools.difference_paths == ()
    assert tools.unmatched_production == () and tools.unmatched_candidate == ()
    assert comparison.production.tool_schema_valid is True
    # 5.0 is an integer to JSON Schema (draft 6 on), so the float spelling still validates.
    assert comparison.candidate.tool_schema_valid is True


def reordered(production: list[Call]) -> list[Call]:
    return [(name, as_floats(args)) for name, args in reversed(production)]


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_reordered_calls_with_float_spellings_match_openai(case) -> None:
    production = production_calls(case)
    assert_same_calls(compare_openai(case, production, reordered(production)))


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_reordered_calls_with_float_spellings_match_anthropic(case) -> None:
    production = production_calls(case)
    assert_same_calls(compare_anthropic(case, production, reordered(production)))


@pytest.mark.parametrize("case", WITH_SECOND_VALUE, ids=case_id)
def test_another_acceptable_value_is_one_difference(case) -> None:
    found = second_acceptable(case)
    assert found is not None
    index, param, first, other = found
    production = production_calls(case)
    name, args = production[index]
    candidate = [*production[:index], (name, with_value(args, param, other)), *production[index + 1 :]]
    path = f"{name}.{param}"
    if first == OMITTED:
        expected = [(path, "extra")]
    elif other == OMITTED:
        expected = [(path, "missing")]
    else:
        expected = expected_differences(first, other, path)

    comparison = compare_openai(case, production, candidate)

    assert comparison.pair is not None
    tools = comparison.pair.tools
    assert not tools.arguments_match
    assert tools.names_match and tools.name_f1 == 1.0
    n = len(production)
    assert tools.precision == pytest.approx((n - 1) / n)
    assert tools.recall == pytest.approx((n - 1) / n)
    assert sorted(zip(tools.difference_paths, tools.difference_kinds, strict=True)) == sorted(expected)
    if not isinstance(first, list):
        assert len(tools.difference_paths) == 1


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_a_dropped_call_costs_recall_only(case) -> None:
    production = production_calls(case)
    n = len(production)
    dropped = production[-1][0]

    comparison = compare_openai(case, production, production[:-1])

    assert comparison.pair is not None
    tools = comparison.pair.tools
    assert tools.recall == pytest.approx((n - 1) / n)
    assert tools.precision == 1.0
    assert [c.name for c in tools.unmatched_production] == [dropped]
    assert tools.unmatched_candidate == ()
    assert list(zip(tools.difference_paths, tools.difference_kinds, strict=True)) == [(dropped, "missing")]


@pytest.mark.parametrize("case", WITH_NUMERIC_PARAMETER, ids=case_id)
def test_a_number_sent_as_a_string_fails_the_schema(case) -> None:
    found = numeric_parameter(case)
    assert found is not None
    index, param = found
    production = production_calls(case)
    name, args = production[index]
    candidate = [
        *production[:index],
        (name, {**args, param: orjson.dumps(args[param]).decode()}),
        *production[index + 1 :],
    ]

    comparison = compare_openai(case, production, candidate)

    assert comparison.production is not None and comparison.candidate is not None and comparison.pair is not None
    assert comparison.production.tool_schema_valid is True
    assert comparison.candidate.tool_schema_valid is False
    assert any(e.startswith(f"{name}.{param}:") for e in comparison.candidate.tool_schema_errors), (
        comparison.candidate.tool_schema_errors
    )
    tools = comparison.pair.tools
    assert not tools.arguments_match
    assert list(zip(tools.difference_paths, tools.difference_kinds, strict=True)) == [
        (f"{name}.{param}", "type_changed")
    ]
