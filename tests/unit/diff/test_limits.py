"""The work caps of one comparison: each one bounds its family, says so in ``caps``, and keeps the row.

The inputs are the hostile ones of issue 8 (or small versions of them with the cap lowered):
each test asserts what the comparison reports and which cap it records. Speed is in
``benchmarks/hostile_inputs.py``; the timeout only stops a regression to super-linear work
from hanging the run.
"""

from __future__ import annotations

import dataclasses

import orjson
import pytest

from shadow.config import DiffSettings
from shadow.diff import DiffContext, compare
from shadow.diff.jsondiff import DiffKind
from shadow.diff.limits import (
    DEFAULT_LIMITS,
    JSON_DEPTH,
    JSON_NODES,
    JSON_PATHS,
    SCHEMA_NODES,
    TEXT_CUT,
    TOOL_CALLS,
    DiffLimits,
)
from shadow.diff.schema import schema_key
from shadow.diff.tools import tool_schemas
from tests.factories import WEATHER_TOOL
from tests.unit.diff.values import INVOICE_SCHEMA, out

pytestmark = pytest.mark.timeout(60)


def context(request: dict | None = None, schema: dict | None = None, **limits: int) -> DiffContext:
    return DiffContext.from_request(
        request, workflow_schema=schema, limits=dataclasses.replace(DEFAULT_LIMITS, **limits)
    )


def nested(depth: int, leaf: str) -> str:
    return "[" * depth + leaf + "]" * depth


def test_the_settings_defaults_are_the_diff_defaults() -> None:
    assert DiffLimits.of(DiffSettings()) == DEFAULT_LIMITS
    tuned = DiffSettings(max_tool_calls=3, max_json_depth=10)
    assert (DiffLimits.of(tuned).max_tool_calls, DiffLimits.of(tuned).max_json_depth) == (3, 10)


def test_an_uncapped_comparison_records_no_cap() -> None:
    result = compare(out('{"a": [1, 2]}', ("f", '{"x": 1}')), out('{"a": [1, 3]}', ("f", '{"x": 2}')))
    assert result.caps == ()


# --- text_cut -------------------------------------------------------------------------------


def test_similarity_compares_the_first_units_and_counts_every_word() -> None:
    shared = " ".join(f"word{i}" for i in range(10))
    production = out(shared + " " + " ".join(["alpha"] * 90))
    candidate = out(shared + " " + " ".join(["omega"] * 40))
    result = compare(production, candidate, context(max_similarity_units=10))
    assert result.caps == (TEXT_CUT,)
    assert (result.production.words, result.candidate.words) == (100, 50)
    assert result.pair.word_ratio == 0.5
    assert result.pair.similarity == 1.0  # the first ten words are the same


def test_two_150000_word_answers_are_compared_on_their_first_units() -> None:
    production = out(" ".join(f"w{i % 5000}" for i in range(150_000)))
    candidate = out(" ".join(f"w{(i * 7) % 5000}" for i in range(150_000)))
    result = compare(production, candidate)
    assert TEXT_CUT in result.caps
    assert (result.production.words, result.candidate.words) == (150_000, 150_000)
    assert 0.0 <= result.pair.similarity < 1.0


def test_a_long_chinese_answer_counts_every_character() -> None:
    text = "退款已经处理完毕" * 5_000
    result = compare(out(text), out(text + "。谢谢"), context(max_similarity_units=100))
    assert TEXT_CUT in result.caps
    assert result.production.words == 40_000
    assert result.candidate.words == 40_002
    assert result.pair.similarity == 1.0


# --- tool_calls -----------------------------------------------------------------------------


def calls(n: int, shift: int = 0) -> tuple[tuple[str, str], ...]:
    return tuple(
        (f"tool_{i % 7}", orjson.dumps({"order_id": f"A{i + shift}", "qty": i % 5}).decode()) for i in range(n)
    )


def test_only_the_first_calls_are_matched_but_every_call_is_counted() -> None:
    production, candidate = out("", *calls(40)), out("", *calls(40))
    result = compare(production, candidate, context(max_tool_calls=8))
    tools = result.pair.tools
    assert TOOL_CALLS in result.caps
    assert (result.production.tool_calls, result.candidate.tool_calls) == (40, 40)
    assert len(tools.pairs) == 8 and tools.arguments_match and tools.f1 == 1.0
    assert tools.names_match and tools.name_f1 == 1.0


def test_names_are_compared_over_every_call_past_the_cap() -> None:
    production = out("", *calls(10), ("refund", "{}"))
    candidate = out("", *calls(10), ("escalate", "{}"))
    tools = compare(production, candidate, context(max_tool_calls=4)).pair.tools
    assert not tools.names_match
    assert tools.name_f1 == pytest.approx(10 / 11)
    assert tools.f1 == 1.0  # the four compared calls agree


@pytest.mark.parametrize("n", [2_000, 5_000])
def test_thousands_of_tool_calls_per_side_are_compared_within_the_cap(n: int) -> None:
    result = compare(out("", *calls(n)), out("", *calls(n, shift=1)))
    tools = result.pair.tools
    assert TOOL_CALLS in result.caps
    assert len(tools.pairs) == DEFAULT_LIMITS.max_tool_calls
    assert result.candidate.tool_calls == n
    assert not tools.arguments_match
    assert len(tools.difference_paths) <= DEFAULT_LIMITS.max_json_paths


def test_tool_schema_checks_stop_at_the_cap() -> None:
    request = {"tools": [WEATHER_TOOL]}
    weather = [("get_weather", '{"city": "Paris"}')] * 5 + [("get_weather", '{"city": 3}')]
    result = compare(out("", *weather), out("", *weather), context(request, max_tool_calls=5))
    assert result.candidate.tool_schema_valid is True  # the sixth, invalid call is past the cap
    assert TOOL_CALLS in result.caps


# --- json_paths -----------------------------------------------------------------------------


def test_differing_paths_stop_at_the_cap_and_the_answers_still_differ() -> None:
    production = orjson.dumps({f"k{i}": i for i in range(300)}).decode()
    candidate = orjson.dumps({f"k{i}": -i - 1 for i in range(300)}).decode()
    result = compare(out(production), out(candidate), context(max_json_paths=50))
    assert JSON_PATHS in result.caps
    assert len(result.pair.json_differences) == 50
    assert result.pair.json_equal is False
    assert result.pair.json_differences[0].path == "$.k0"


def test_tool_difference_paths_stop_at_the_cap() -> None:
    production = out("", ("f", orjson.dumps({f"a{i}": i for i in range(30)}).decode()))
    candidate = out("", ("f", orjson.dumps({f"a{i}": str(i) for i in range(30)}).decode()))
    tools = compare(production, candidate, context(max_json_paths=10)).pair.tools
    assert len(tools.difference_paths) == 10
    assert JSON_PATHS in tools.caps and not tools.arguments_match


# --- json_nodes -----------------------------------------------------------------------------


def big_json(n: int, last_qty: int) -> str:
    items = [{"sku": f"A{i}", "qty": i % 9, "tags": ["x", "y"]} for i in range(n)]
    items[-1]["qty"] = last_qty
    return orjson.dumps({"items": items}).decode()


def test_a_diff_that_runs_out_of_nodes_counts_the_answers_as_different() -> None:
    result = compare(out(big_json(5_000, 1)), out(big_json(5_000, -1)), context(max_json_nodes=1_000))
    assert JSON_NODES in result.caps
    assert result.pair.json_equal is False
    assert result.pair.json_differences == ()


def test_equal_big_answers_are_equal_without_walking_them() -> None:
    text = big_json(5_000, 1)
    result = compare(out(text), out(text), context(max_json_nodes=1_000))
    assert result.pair.json_equal is True
    assert JSON_NODES not in result.caps


def test_the_node_cap_reports_differences_found_before_it() -> None:
    production, candidate = big_json(5_000, 1), big_json(5_000, 1).replace('"A0"', '"B0"')
    result = compare(out(production), out(candidate), context(max_json_nodes=1_000))
    assert [d.path for d in result.pair.json_differences] == ["$.items[0].sku"]
    assert result.pair.json_equal is False


# --- json_depth -----------------------------------------------------------------------------


def test_json_1000_levels_deep_is_diffed_down_to_the_depth_cap() -> None:
    result = compare(out(nested(1000, "1")), out(nested(1000, "2")))
    (difference,) = result.pair.json_differences
    assert JSON_DEPTH in result.caps
    assert difference.kind is DiffKind.VALUE_CHANGED
    assert difference.path == "$" + "[0]" * DEFAULT_LIMITS.max_json_depth
    assert result.pair.json_equal is False


def test_equal_json_1000_levels_deep_is_equal() -> None:
    result = compare(out(nested(1000, "1")), out(nested(1000, "1")))
    assert result.pair.json_equal is True and result.pair.json_differences == ()


def test_json_2000_levels_deep_is_not_json_and_still_compared() -> None:
    result = compare(out(nested(2000, "1")), out(nested(2000, "2")))
    assert not result.production.json_valid and not result.production.json_extracted
    assert result.pair.json_equal is None
    assert result.pair.length_ratio == 1.0 and result.pair.similarity == 0.0  # "1" against "2"


def test_deep_tool_arguments_are_diffed_down_to_the_depth_cap() -> None:
    production = out("", ("f", '{"a": ' + nested(900, "1") + "}"))
    candidate = out("", ("f", '{"a": ' + nested(900, "2") + "}"))
    result = compare(production, candidate, context(max_json_depth=5))
    assert JSON_DEPTH in result.caps
    assert result.pair.tools.difference_paths == ("f.a[0][0][0][0]",)


# --- schema_nodes, json_depth and schema_patterns in schema checks --------------------------------


def test_an_answer_too_big_for_the_schema_budget_is_not_checked() -> None:
    schema = {"type": "object", "properties": {"items": {"type": "array", "items": {"type": "object"}}}}
    result = compare(out(big_json(2_000, 1)), out(big_json(2_000, 1)), context(schema=schema))
    assert SCHEMA_NODES in result.caps
    assert result.candidate.schema_valid is None
    assert "not checked" in result.candidate.schema_errors[0]


def test_an_answer_deeper_than_the_cap_is_not_checked_against_a_recursive_schema() -> None:
    schema = {"$defs": {"n": {"anyOf": [{"type": "integer"}, {"type": "array", "items": {"$ref": "#/$defs/n"}}]}}}
    schema["$ref"] = "#/$defs/n"
    result = compare(out(nested(500, "1")), out(nested(3, "1")), context(schema=schema))
    assert result.production.schema_valid is None
    assert result.candidate.schema_valid is True
    assert JSON_DEPTH in result.caps


def test_a_small_answer_is_still_checked() -> None:
    result = compare(
        out('{"vendor": "Acme", "total": 3, "currency": "EUR"}'),
        out('{"vendor": "Acme", "total": "3", "currency": "EUR"}'),
        context(schema=INVOICE_SCHEMA),
    )
    assert (result.production.schema_valid, result.candidate.schema_valid) == (True, False)
    assert result.caps == ()


def test_tool_calls_share_the_schema_budget() -> None:
    schema_request = {"tools": [{"name": "f", "input_schema": {"type": "object"}}]}
    arguments = orjson.dumps({f"k{i}": i for i in range(60)}).decode()
    result = compare(out("", *[("f", arguments)] * 3), out("", *[("f", arguments)] * 3), context(schema_request))
    assert result.candidate.tool_schema_valid is True
    capped = compare(
        out("", *[("f", arguments)] * 3),
        out("", *[("f", arguments)] * 3),
        context(schema_request, max_schema_nodes=100),
    )
    assert capped.candidate.tool_schema_valid is None
    assert SCHEMA_NODES in capped.caps
    assert tool_schemas(schema_request)["f"] == schema_key({"type": "object"})


def test_calls_checked_against_their_schemas_report_errors_of_the_compared_calls() -> None:
    request = {"tools": [WEATHER_TOOL]}
    result = compare(out(""), out("", ("get_weather", '{"city": "Paris", "unit": "kelvin"}')), context(request))
    assert result.candidate.tool_schema_valid is False
    assert any("unit" in e for e in result.candidate.tool_schema_errors)
