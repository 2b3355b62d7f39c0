"""Tool calls: order-free matching, argument differences by path, validation against declared schemas."""

from __future__ import annotations

import dataclasses

import orjson

from shadow.diff.limits import DEFAULT_LIMITS, JSON_NODES, TOOL_CALLS
from shadow.diff.tools import check_tool_calls, compare_tool_calls, tool_schemas, validate_tool_calls
from shadow.events.output import ToolCall
from tests.factories import WEATHER_TOOL


def test_parallel_calls_match_in_any_order() -> None:
    production = (ToolCall("get_weather", '{"city": "Paris"}'), ToolCall("get_weather", '{"city": "Tokyo"}'))
    candidate = (ToolCall("get_weather", '{"city": "Tokyo"}'), ToolCall("get_weather", '{"city":"Paris"}'))
    result = compare_tool_calls(production, candidate)
    assert result.names_match and result.arguments_match
    assert (result.precision, result.recall, result.f1) == (1.0, 1.0, 1.0)


def test_renamed_and_retyped_arguments_are_reported_by_path() -> None:
    production = (ToolCall("search_flights", '{"origin": "SFO", "destination": "NRT", "passengers": 2}'),)
    candidate = (ToolCall("search_flights", '{"origin": "SFO", "dest": "NRT", "passengers": "2"}'),)
    result = compare_tool_calls(production, candidate)
    assert result.names_match and not result.arguments_match
    assert sorted(zip(result.difference_paths, result.difference_kinds, strict=True)) == [
        ("search_flights.dest", "extra"),
        ("search_flights.destination", "missing"),
        ("search_flights.passengers", "type_changed"),
    ]
    assert (result.f1, result.name_f1) == (0.0, 1.0)


def test_a_dropped_parallel_call_lowers_recall_not_precision() -> None:
    production = (ToolCall("get_weather", '{"city": "Paris"}'), ToolCall("get_weather", '{"city": "Rome"}'))
    candidate = (ToolCall("get_weather", '{"city": "Rome"}'),)
    result = compare_tool_calls(production, candidate)
    assert (result.precision, result.recall) == (1.0, 0.5)
    assert [c.arguments for c in result.unmatched_production] == ['{"city": "Paris"}']
    assert not result.arguments_match and not result.names_match


def test_tool_call_versus_text_answer_is_flagged() -> None:
    result = compare_tool_calls((ToolCall("lookup_order", '{"order_id": "A1"}'),), (), candidate_has_text=True)
    assert result.tool_vs_text
    assert (result.precision, result.recall, result.f1) == (0.0, 0.0, 0.0)


def test_invalid_argument_json_is_not_an_argument_match() -> None:
    result = compare_tool_calls((ToolCall("f", '{"a": 1}'),), (ToolCall("f", '{"a": 1'),))
    assert not result.pairs[0].arguments_valid
    assert not result.arguments_match


def test_candidate_arguments_are_validated_against_the_declared_schema() -> None:
    schemas = tool_schemas({"tools": [WEATHER_TOOL]})
    ok, errors = validate_tool_calls((ToolCall("get_weather", '{"city": "Paris", "unit": "kelvin"}'),), schemas)
    assert not ok and any("get_weather.unit" in e for e in errors)
    ok, errors = validate_tool_calls((ToolCall("get_weather", '{"unit": "celsius"}'),), schemas)
    assert not ok and any("'city' is a required property" in e for e in errors)
    ok, errors = validate_tool_calls((ToolCall("book_hotel", "{}"),), schemas)
    assert not ok and errors == ("book_hotel: tool was not declared in the request",)
    assert validate_tool_calls((ToolCall("get_weather", '{"city": "北京"}'),), schemas) == (True, ())


def test_anthropic_tool_use_input_schemas_are_read_too() -> None:
    request = {"tools": [{"name": "lookup_order", "input_schema": {"type": "object", "required": ["order_id"]}}]}
    ok, errors = validate_tool_calls((ToolCall("lookup_order", "{}"),), tool_schemas(request))
    assert not ok and "order_id" in errors[0]


# --- caps: calls matched, nodes per pair -----------------------------------------------------------


def limits(**caps: int):
    return dataclasses.replace(DEFAULT_LIMITS, **caps)


def test_calls_past_the_cap_are_counted_by_name_only() -> None:
    production = tuple(ToolCall("get_weather", f'{{"city": "c{i}"}}') for i in range(10))
    candidate = tuple(reversed(production))
    result = compare_tool_calls(production, candidate, limits=limits(max_tool_calls=4))
    assert TOOL_CALLS in result.caps
    assert len(result.pairs) + len(result.unmatched_production) == 4
    assert result.names_match and result.name_f1 == 1.0


def test_equal_calls_match_first_even_when_the_pair_budget_is_small() -> None:
    big = orjson.dumps({f"k{i}": i for i in range(500)}).decode()
    other = orjson.dumps({**{f"k{i}": i for i in range(499)}, "k499": -1}).decode()  # differs last
    production = (ToolCall("f", other), ToolCall("f", big))
    candidate = (ToolCall("f", big), ToolCall("f", other))
    result = compare_tool_calls(production, candidate, limits=limits(max_json_nodes=100))
    assert result.arguments_match and result.f1 == 1.0
    assert JSON_NODES not in result.caps  # the unequal pairs were weighed on part of their arguments only


def test_a_pair_diff_out_of_nodes_is_not_an_argument_match() -> None:
    production = (ToolCall("f", orjson.dumps({f"k{i}": i for i in range(500)}).decode()),)
    candidate = (ToolCall("f", orjson.dumps({**{f"k{i}": i for i in range(499)}, "k499": 0}).decode()),)
    result = compare_tool_calls(production, candidate, limits=limits(max_json_nodes=100))
    assert JSON_NODES in result.caps
    assert not result.arguments_match and result.f1 == 0.0
    assert result.pairs[0].differences == ()


def test_schema_checks_cover_the_first_calls() -> None:
    schemas = tool_schemas({"tools": [WEATHER_TOOL]})
    calls = (ToolCall("get_weather", '{"city": "Paris"}'),) * 3 + (ToolCall("get_weather", '{"city": 1}'),)
    assert check_tool_calls(calls, schemas).valid is False
    capped = check_tool_calls(calls, schemas, limits(max_tool_calls=3))
    assert (capped.valid, capped.caps) == (True, frozenset({TOOL_CALLS}))
