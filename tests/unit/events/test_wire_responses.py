"""OpenAI Responses API bodies: parsing ``response`` objects into Output, checking requests (issue 13)."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from openai.types.responses import Response

from shadow.errors import DecodeError, ResponseFormatError
from shadow.events.decode import decode_event
from shadow.events.models import Api
from shadow.events.output import FinishReason, ToolCall, Usage
from shadow.events.wire import check_request, parse_openai_response, parse_response, parse_responses_response
from tests.factories import make_event, openai_response
from tests.responses_factories import (
    FLAT_WEATHER_TOOL,
    function_call_item,
    message_item,
    reasoning_item,
    responses_request,
    responses_response,
)

# --- parse: what the answer says -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "text", "calls", "finish", "raw_finish"),
    [
        pytest.param(responses_response("Your refund was issued on Monday."), "Your refund was issued on Monday.", [],
                     FinishReason.STOP, "completed", id="plain-text"),
        pytest.param(responses_response("退款已于周一处理，请留意银行通知。"), "退款已于周一处理，请留意银行通知。", [],
                     FinishReason.STOP, "completed", id="chinese-text"),
        pytest.param(responses_response(None, tool_calls=[("get_weather", {"city": "北京"}),
                                                          ("get_weather", {"city": "上海", "unit": "celsius"})]),
                     "", [("get_weather", '{"city":"北京"}'), ("get_weather", '{"city":"上海","unit":"celsius"}')],
                     FinishReason.TOOL_CALLS, "completed", id="parallel-function-calls"),
        pytest.param(responses_response("Let me check.", tool_calls=[("get_weather", {"city": "Paris"})]),
                     "Let me check.", [("get_weather", '{"city":"Paris"}')], FinishReason.TOOL_CALLS, "completed",
                     id="text-then-call"),
        pytest.param(responses_response(None, tool_calls=[("lookup_order", '{"order_id": "A-1024"')]), "",
                     [("lookup_order", '{"order_id": "A-1024"')], FinishReason.TOOL_CALLS, "completed",
                     id="invalid-json-arguments-kept-verbatim"),
        pytest.param(responses_response("The answer is", status="incomplete", incomplete_reason="max_output_tokens"),
                     "The answer is", [], FinishReason.LENGTH, "max_output_tokens", id="length"),
        pytest.param(responses_response("", status="incomplete", incomplete_reason="content_filter"), "", [],
                     FinishReason.CONTENT_FILTER, "content_filter", id="content-filter"),
        pytest.param(responses_response("Hi", status="incomplete", incomplete_reason="max_messages"), "Hi", [],
                     FinishReason.OTHER, "max_messages", id="unknown-incomplete-reason"),
        pytest.param(responses_response("", status="failed", error={"code": "server_error", "message": "boom"}), "",
                     [], FinishReason.ERROR, "failed", id="failed"),
        pytest.param(responses_response("Hi", status="cancelled"), "Hi", [], FinishReason.OTHER, "cancelled",
                     id="cancelled"),
        pytest.param(responses_response(output=[message_item("Hello, "), message_item("世界")]), "Hello, 世界", [],
                     FinishReason.STOP, "completed", id="two-message-items"),
    ],
)  # fmt: skip
def test_responses_body_parses(
    body: dict[str, Any], text: str, calls: list[tuple[str, str]], finish: FinishReason, raw_finish: str
) -> None:
    output = parse_response(Api.OPENAI_RESPONSES, body)
    assert output.text == text
    assert [(c.name, c.arguments) for c in output.tool_calls] == calls
    assert output.finish_reason is finish
    assert output.raw_finish_reason == raw_finish
    assert output.model == "gpt-5-2025-08-07"
    assert output.raw is body


def test_text_is_what_the_sdk_calls_output_text() -> None:
    body = responses_response(output=[reasoning_item("thinking"), message_item("Paris, "), message_item("France")])
    assert parse_responses_response(body).text == Response.model_validate(body).output_text == "Paris, France"


def test_function_calls_keep_their_call_ids() -> None:
    body = responses_response(None, output=[function_call_item("get_weather", {"city": "Oslo"}, call_id="call_Oslo1")])
    assert parse_responses_response(body).tool_calls == (ToolCall("get_weather", '{"city":"Oslo"}', "call_Oslo1"),)


def test_a_refusal_part_is_the_refusal() -> None:
    body = responses_response(output=[message_item("", refusal="I can't help with that.")])
    output = parse_responses_response(body)
    assert (output.text, output.refusal) == ("", "I can't help with that.")


def test_usage_and_reasoning_tokens_count_as_hidden_output() -> None:
    # 9 visible characters cannot cost 900 tokens, unless 880 of them were reasoning.
    body = responses_response("Paris, FR", output_tokens=900, reasoning_tokens=880,
                              output=[reasoning_item(), message_item("Paris, FR")])  # fmt: skip
    assert parse_responses_response(body).usage == Usage(42, 900)
    unexplained = responses_response("Paris, FR", output_tokens=900, reasoning_tokens=0)
    assert parse_responses_response(unexplained).usage == Usage(42, None)


def test_reasoning_items_without_a_count_are_hidden_output_of_unknown_size() -> None:
    body = responses_response(output=[reasoning_item(), message_item("Paris")], output_tokens=900)
    del body["usage"]["output_tokens_details"]
    assert parse_responses_response(body).usage == Usage(42, 900)


def test_output_limit_bounds_believable_output_tokens() -> None:
    body = responses_response("x" * 400, output_tokens=300)
    assert parse_responses_response(body, output_limit=100).usage.output_tokens is None
    assert parse_responses_response(body, output_limit=300).usage.output_tokens == 300


def test_same_answer_same_output_as_chat_completions() -> None:
    responses = parse_responses_response(responses_response("Sure — 我会 check.", input_tokens=42, output_tokens=9))
    chat = parse_openai_response(openai_response("Sure — 我会 check.", prompt_tokens=42, completion_tokens=9))
    assert (responses.text, responses.finish_reason, responses.usage) == (chat.text, chat.finish_reason, chat.usage)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param({"error": {"message": "Invalid 'input'", "type": "invalid_request_error", "code": None}},
                     "error body", id="error-body"),
        pytest.param([], "JSON object", id="not-an-object"),
        pytest.param(openai_response(), "response.output", id="chat-completion-body"),
        pytest.param({"output": [{"content": []}]}, "response.output[0].type", id="item-without-type"),
        pytest.param({"output": [{"type": "message", "content": "hi"}]}, "response.output[0].content",
                     id="content-not-array"),
        pytest.param({"output": [{"type": "message", "content": [{"type": "output_text", "text": 3}]}]},
                     "response.output[0].content[0].text", id="text-not-string"),
        pytest.param({"output": [{"type": "message", "content": [{"type": "refusal"}]}]},
                     "response.output[0].content[0].refusal", id="refusal-missing"),
        pytest.param({"output": [{"type": "function_call", "arguments": "{}"}]}, "response.output[0].name",
                     id="call-without-name"),
        pytest.param({"output": [], "usage": [1]}, "response.usage", id="usage-not-object"),
        pytest.param({"output": [], "usage": {"input_tokens": "many"}}, "response.usage.input_tokens",
                     id="count-not-number"),
    ],
)  # fmt: skip
def test_malformed_bodies_name_the_field(body: Any, field: str) -> None:
    with pytest.raises(ResponseFormatError, match=field.replace("[", r"\[").replace("]", r"\]")):
        parse_responses_response(body)


# --- check_request: what the request must hold -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "request_body",
    [
        pytest.param(responses_request(), id="items"),
        pytest.param({"model": "gpt-5", "input": "What is 2+2?"}, id="string-input"),
        pytest.param(responses_request(tools=[FLAT_WEATHER_TOOL, {"type": "web_search"}]), id="tools"),
        pytest.param({"model": "gpt-5", "input": [
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Weather in Paris?"}]},
            function_call_item("get_weather", {"city": "Paris"}, call_id="call_1"),
            {"type": "function_call_output", "call_id": "call_1", "output": "18°C"},
            reasoning_item(encrypted="gAAAA"),
            {"type": "item_reference", "id": "msg_123"},
            {"id": "msg_456"},
        ]}, id="every-item-kind"),
        pytest.param({"model": "gpt-5", "prompt": {"id": "pmpt_1", "version": "2"}}, id="stored-prompt-no-input"),
    ],
)  # fmt: skip
def test_valid_requests_pass(request_body: dict[str, Any]) -> None:
    check_request(Api.OPENAI_RESPONSES, request_body)


@pytest.mark.parametrize(
    ("request_body", "field"),
    [
        pytest.param({"model": "gpt-5"}, "request.input", id="no-input"),
        pytest.param({"model": "gpt-5", "input": ""}, "request.input", id="empty-string"),
        pytest.param({"model": "gpt-5", "input": []}, "request.input", id="empty-array"),
        pytest.param({"model": "gpt-5", "input": {"role": "user"}}, "request.input", id="object-input"),
        pytest.param({"model": "gpt-5", "input": ["hi"]}, "request.input[0] must be an object", id="item-string"),
        pytest.param({"model": "gpt-5", "input": [{"role": "robot", "content": "hi"}]}, "request.input[0].role",
                     id="bad-role"),
        pytest.param({"model": "gpt-5", "input": [{"role": "user", "content": 3}]}, "request.input[0].content",
                     id="bad-content"),
        pytest.param({"model": "gpt-5", "input": [{"role": "user", "content": [{"text": "hi"}]}]},
                     "request.input[0].content[0].type", id="part-without-type"),
        pytest.param({"model": "gpt-5", "input": [{"type": "function_call", "name": "f", "arguments": "{}"}]},
                     "request.input[0].call_id", id="call-without-id"),
        pytest.param({"model": "gpt-5", "input": [{"type": "function_call_output", "call_id": "c", "output": 3}]},
                     "request.input[0].output", id="output-not-text"),
        pytest.param({"model": "gpt-5", "input": [{"type": 7}]}, "request.input[0].type", id="type-not-string"),
        pytest.param({**responses_request(), "instructions": ["be brief"]}, "request.instructions",
                     id="instructions-array"),
        pytest.param({**responses_request(), "tools": {"type": "function"}}, "request.tools must be an array",
                     id="tools-object"),
        pytest.param({**responses_request(), "tools": [{"type": "function"}]}, "request.tools[0].name",
                     id="function-without-name"),
        pytest.param({**responses_request(), "text": {"format": "json"}}, "request.text", id="text-format-string"),
    ],
)  # fmt: skip
def test_invalid_requests_name_the_field(request_body: dict[str, Any], field: str) -> None:
    with pytest.raises(ResponseFormatError, match=field.replace("[", r"\[").replace("]", r"\]")):
        check_request(Api.OPENAI_RESPONSES, request_body)


def test_other_apis_are_checked_as_before() -> None:
    with pytest.raises(ResponseFormatError, match=r"request\.messages"):
        check_request(Api.OPENAI_CHAT, responses_request())


def test_a_responses_event_decodes_and_a_bad_one_is_a_dead_letter_naming_the_field() -> None:
    event = make_event(api="openai.responses", request=responses_request("Where is my order?"),
                       response=responses_response("It ships tomorrow."))  # fmt: skip
    decoded = decode_event(orjson.dumps(event), max_bytes=1 << 20)
    assert decoded.production is not None and decoded.production.text == "It ships tomorrow."
    broken = {**event, "response": {**event["response"], "output": {"type": "message"}}}
    with pytest.raises(DecodeError, match=r"invalid openai.responses body: response.output must be an array"):
        decode_event(orjson.dumps(broken), max_bytes=1 << 20)
