"""What a Responses request declares for the diff (issue 13): ``text.format`` json_schema is the answer's schema,
flat function tools declare their ``parameters``; the same as the chat request declaring them."""

from __future__ import annotations

import orjson

from shadow.diff.compare import DiffContext, compare
from shadow.diff.schema import schema_key
from shadow.diff.tools import tool_schemas
from shadow.events.output import Output, ToolCall
from tests.factories import WEATHER_TOOL, openai_request
from tests.responses_factories import FLAT_WEATHER_TOOL, responses_request

ANSWER_SCHEMA = {"type": "object", "properties": {"total": {"type": "number"}}, "required": ["total"]}


def test_text_format_json_schema_is_the_answer_schema_and_wins_over_the_workflow_schema() -> None:
    request = responses_request(text={"format": {"type": "json_schema", "name": "t", "schema": ANSWER_SCHEMA}})
    context = DiffContext.from_request(request, workflow_schema={"type": "array"})
    chat = openai_request(
        response_format={"type": "json_schema", "json_schema": {"name": "t", "schema": ANSWER_SCHEMA}}
    )
    assert context.response_schema == schema_key(ANSWER_SCHEMA) == DiffContext.from_request(chat).response_schema
    plain = responses_request(text={"format": {"type": "text"}})
    assert DiffContext.from_request(plain, workflow_schema={"type": "array"}).response_schema == schema_key(
        {"type": "array"}
    )


def test_flat_function_tools_declare_their_parameters() -> None:
    responses = tool_schemas(responses_request(tools=[FLAT_WEATHER_TOOL, {"type": "web_search"}]))
    assert responses["get_weather"] == tool_schemas(openai_request(tools=[WEATHER_TOOL]))["get_weather"]
    assert responses["get_weather"] == schema_key(FLAT_WEATHER_TOOL["parameters"])


def test_a_call_breaking_the_declared_parameters_is_found_in_a_responses_request() -> None:
    context = DiffContext.from_request(responses_request(tools=[FLAT_WEATHER_TOOL]))
    good = Output("", (ToolCall("get_weather", orjson.dumps({"city": "Oslo"}).decode()),))
    bad = Output("", (ToolCall("get_weather", orjson.dumps({"town": "Oslo"}).decode()),))
    comparison = compare(good, bad, context)
    assert comparison.candidate is not None and comparison.candidate.tool_schema_valid is False
    assert comparison.production is not None and comparison.production.tool_schema_valid is True
