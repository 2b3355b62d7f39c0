"""Provider wire formats: parsing OpenAI and Anthropic responses into Output, checking request bodies."""

from __future__ import annotations

from typing import Any

import pytest

from shadow.errors import ResponseFormatError
from shadow.events.models import Api
from shadow.events.output import FinishReason, ToolCall, Usage
from shadow.events.wire import (
    MAX_TOKENS_PER_CALL,
    OUTPUT_LIMIT_SLACK,
    TOKEN_SLACK,
    TOKENS_PER_CHAR,
    check_request,
    parse_anthropic_response,
    parse_openai_response,
    parse_response,
)
from tests.factories import anthropic_request, anthropic_response, openai_request, openai_response

# --- wire: OpenAI chat.completion -----------------------------------------------------------------------------------


def _openai_with_message(message: dict[str, Any], finish_reason: str | None = "stop", **body: Any) -> dict[str, Any]:
    return {
        "id": "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT",
        "object": "chat.completion",
        "created": 1763900000,
        "model": "gpt-4o-2024-08-06",
        "choices": [{"index": 0, "message": {"role": "assistant", **message}, "logprobs": None,
                     "finish_reason": finish_reason}],
        **body,
    }  # fmt: skip


@pytest.mark.parametrize(
    ("body", "text", "calls", "finish", "raw_finish"),
    [
        pytest.param(openai_response("Your refund was issued on Monday."), "Your refund was issued on Monday.", [],
                     FinishReason.STOP, "stop", id="plain-text"),
        pytest.param(openai_response("退款已于周一处理，请留意银行通知。"), "退款已于周一处理，请留意银行通知。", [],
                     FinishReason.STOP, "stop", id="chinese-text"),
        pytest.param(openai_response("Sure — 我会 check the order 状态."), "Sure — 我会 check the order 状态.", [],
                     FinishReason.STOP, "stop", id="mixed-text"),
        pytest.param(openai_response("The answer is", finish_reason="length"), "The answer is", [],
                     FinishReason.LENGTH, "length", id="length"),
        pytest.param(openai_response("", finish_reason="content_filter"), "", [], FinishReason.CONTENT_FILTER,
                     "content_filter", id="content-filter"),
        pytest.param(_openai_with_message({"content": [{"type": "text", "text": "Hello, "},
                                                       {"type": "text", "text": "世界"}]}),
                     "Hello, 世界", [], FinishReason.STOP, "stop", id="content-parts"),
        pytest.param(openai_response(None, tool_calls=[("get_weather", {"city": "Paris"})]), "",
                     [("get_weather", '{"city":"Paris"}')], FinishReason.TOOL_CALLS, "tool_calls", id="tool-call"),
        pytest.param(openai_response(None, tool_calls=[("get_weather", {"city": "北京"}),
                                                       ("get_weather", {"city": "上海", "unit": "celsius"})]),
                     "", [("get_weather", '{"city":"北京"}'), ("get_weather", '{"city":"上海","unit":"celsius"}')],
                     FinishReason.TOOL_CALLS, "tool_calls", id="parallel-tool-calls"),
        pytest.param(openai_response(None, tool_calls=[("lookup_order", '{"order_id": "A-1024"')]), "",
                     [("lookup_order", '{"order_id": "A-1024"')], FinishReason.TOOL_CALLS, "tool_calls",
                     id="invalid-json-arguments-kept-verbatim"),
        pytest.param(_openai_with_message({"content": None, "function_call": {"name": "get_weather",
                                                                              "arguments": '{"city": "Berlin"}'}},
                                          finish_reason="function_call"),
                     "", [("get_weather", '{"city": "Berlin"}')], FinishReason.TOOL_CALLS, "function_call",
                     id="legacy-function-call"),
        pytest.param(_openai_with_message({"content": "Hi"}, finish_reason=None), "Hi", [], FinishReason.STOP, None,
                     id="null-finish"),
        pytest.param(_openai_with_message({"content": None, "tool_calls": [
            {"id": "call_2", "type": "function", "function": {"name": "get_weather", "arguments": '{"city":"Oslo"}'}}]},
                                          finish_reason=None), "",
                     [("get_weather", '{"city":"Oslo"}')], FinishReason.TOOL_CALLS, None, id="null-finish-with-calls"),
        pytest.param(_openai_with_message({"content": "Hi"}, finish_reason="insufficient_system_resource"), "Hi", [],
                     FinishReason.OTHER, "insufficient_system_resource", id="unknown-finish"),
        pytest.param(_openai_with_message({"content": None, "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": {"city": "Rome"}}}]}),
                     "", [("get_weather", '{"city":"Rome"}')], FinishReason.STOP, "stop", id="object-arguments"),
    ],
)  # fmt: skip
def test_parse_openai_response(
    body: dict[str, Any], text: str, calls: list[tuple[str, str]], finish: FinishReason, raw_finish: str | None
) -> None:
    output = parse_openai_response(body)
    assert output.text == text
    assert [(c.name, c.arguments) for c in output.tool_calls] == calls
    assert output.finish_reason is finish
    assert output.raw_finish_reason == raw_finish
    assert output.model == body["model"]
    assert output.raw is body


def test_parse_openai_keeps_tool_call_ids_and_usage() -> None:
    body = openai_response(None, tool_calls=[("a", {}), ("b", {})], prompt_tokens=321, completion_tokens=45)
    output = parse_openai_response(body)
    ids = [call["id"] for call in body["choices"][0]["message"]["tool_calls"]]
    assert [c.id for c in output.tool_calls] == ids
    assert output.usage == Usage(321, 45)


@pytest.mark.parametrize(
    ("refusal", "expected"),
    [("I'm sorry, I can't help with that.", "I'm sorry, I can't help with that."), ("抱歉，我无法协助此请求。", "抱歉，我无法协助此请求。"),
     (None, None), ("", None)],
)  # fmt: skip
def test_parse_openai_refusal(refusal: str | None, expected: str | None) -> None:
    output = parse_openai_response(openai_response(None, refusal=refusal))
    assert output.refusal == expected
    assert output.text == ""


@pytest.mark.parametrize(
    ("usage", "expected"),
    [
        ({"prompt_tokens": 10, "completion_tokens": 2, "total_tokens": 12}, Usage(10, 2)),
        ({"prompt_tokens": 10}, Usage(10, None)),
        (None, Usage(None, None)),
        ({"prompt_tokens": 10.0, "completion_tokens": 3.0}, Usage(10, 3)),
    ],
)
def test_parse_openai_usage(usage: dict[str, Any] | None, expected: Usage) -> None:
    body = _openai_with_message({"content": "ok"})
    if usage is not None:
        body["usage"] = usage
    assert parse_openai_response(body).usage == expected


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        pytest.param([], "JSON object", id="array-body"),
        pytest.param({"object": "chat.completion", "choices": []}, "response.choices", id="empty-choices"),
        pytest.param({"choices": {"0": {}}}, "response.choices", id="choices-object"),
        pytest.param({"choices": [{"index": 0, "text": "legacy completion"}]}, "response.choices[0].message",
                     id="legacy-completion-choice"),
        pytest.param(_openai_with_message({"content": 42}), "response.choices[0].message.content", id="content-number"),
        pytest.param(_openai_with_message({"content": ["Hello"]}), "response.choices[0].message.content[0]",
                     id="content-part-string"),
        pytest.param(_openai_with_message({"content": None, "tool_calls": {"id": "x"}}),
                     "response.choices[0].message.tool_calls", id="tool-calls-object"),
        pytest.param(_openai_with_message({"content": None, "tool_calls": [{"id": "call_1", "type": "function",
                                                                            "function": {"arguments": "{}"}}]}),
                     "response.choices[0].message.tool_calls[0].function.name", id="tool-call-without-name"),
        pytest.param(_openai_with_message({"content": "ok"}, usage=[1, 2]), "response.usage", id="usage-array"),
        pytest.param(_openai_with_message({"content": "ok"}, usage={"prompt_tokens": "12"}),
                     "response.usage.prompt_tokens", id="usage-string"),
        pytest.param(_openai_with_message({"content": "ok"}, usage={"prompt_tokens": 1, "completion_tokens": True}),
                     "response.usage.completion_tokens", id="usage-bool"),
        pytest.param({"error": {"message": "Rate limit reached for gpt-4o", "type": "requests", "code": "rate_limit_exceeded"}},
                     "error body", id="error-body"),
    ],
)  # fmt: skip
def test_parse_openai_malformed_names_the_field(body: Any, needle: str) -> None:
    with pytest.raises(ResponseFormatError) as info:
        parse_openai_response(body)
    assert needle in str(info.value)


def test_openai_error_body_keeps_the_provider_message() -> None:
    body = {
        "error": {
            "message": "您的账户余额不足",
            "type": "insufficient_quota",
            "param": None,
            "code": "insufficient_quota",
        }
    }
    with pytest.raises(ResponseFormatError, match="您的账户余额不足"):
        parse_response(Api.OPENAI_CHAT, body)


# --- wire: Anthropic message ----------------------------------------------------------------------------------------


def _anthropic_with(content: list[dict[str, Any]], stop_reason: str | None = "end_turn", **body: Any) -> dict[str, Any]:
    return {
        "id": "msg_01XFDUDYJgAACzvnptvVoYEL",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-5-20250929",
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": {"input_tokens": 25, "output_tokens": 14},
        **body,
    }


@pytest.mark.parametrize(
    ("body", "text", "calls", "finish"),
    [
        pytest.param(anthropic_response("Your parcel ships tomorrow."), "Your parcel ships tomorrow.", [],
                     FinishReason.STOP, id="text"),
        pytest.param(anthropic_response("您的包裹明天发货。"), "您的包裹明天发货。", [], FinishReason.STOP, id="chinese"),
        pytest.param(_anthropic_with([{"type": "text", "text": "First paragraph."},
                                      {"type": "text", "text": "第二段。"}]),
                     "First paragraph.\n第二段。", [], FinishReason.STOP, id="two-text-blocks"),
        pytest.param(anthropic_response("The capital of France is", stop_reason="max_tokens"),
                     "The capital of France is", [], FinishReason.LENGTH, id="max-tokens"),
        pytest.param(anthropic_response("Done", stop_reason="stop_sequence"), "Done", [], FinishReason.STOP,
                     id="stop-sequence"),
        pytest.param(_anthropic_with([], stop_reason="refusal"), "", [], FinishReason.CONTENT_FILTER, id="refusal"),
        pytest.param(anthropic_response(None, tool_uses=[("get_weather", {"city": "Tokyo"})]), "",
                     [("get_weather", '{"city":"Tokyo"}')], FinishReason.TOOL_CALLS, id="tool-use"),
        pytest.param(anthropic_response(None, tool_uses=[("get_weather", {"city": "東京"}),
                                                         ("get_time", {"timezone": "Asia/Tokyo"})]),
                     "", [("get_weather", '{"city":"東京"}'), ("get_time", '{"timezone":"Asia/Tokyo"}')],
                     FinishReason.TOOL_CALLS, id="two-tool-uses"),
        pytest.param(anthropic_response("I'll check the weather for you.", tool_uses=[("get_weather", {"city": "Paris"})]),
                     "I'll check the weather for you.", [("get_weather", '{"city":"Paris"}')],
                     FinishReason.TOOL_CALLS, id="text-before-tool-use"),
        pytest.param(_anthropic_with([{"type": "thinking", "thinking": "The user wants…", "signature": "EqQB"},
                                      {"type": "text", "text": "42"}]),
                     "42", [], FinishReason.STOP, id="thinking-block-ignored"),
        pytest.param(_anthropic_with([{"type": "text", "text": "Hi"}], stop_reason=None), "Hi", [], FinishReason.STOP,
                     id="null-stop-reason"),
        pytest.param(_anthropic_with([{"type": "text", "text": "Hi"}], stop_reason="pause_turn"), "Hi", [],
                     FinishReason.OTHER, id="pause-turn"),
    ],
)  # fmt: skip
def test_parse_anthropic_response(
    body: dict[str, Any], text: str, calls: list[tuple[str, str]], finish: FinishReason
) -> None:
    output = parse_anthropic_response(body)
    assert output.text == text
    assert [(c.name, c.arguments) for c in output.tool_calls] == calls
    assert output.finish_reason is finish
    assert output.raw_finish_reason == body["stop_reason"]
    assert output.model == body["model"]


def test_parse_anthropic_keeps_ids_and_usage() -> None:
    body = anthropic_response(None, tool_uses=[("a", {"x": 1}), ("b", {})], input_tokens=1500, output_tokens=77)
    output = parse_anthropic_response(body)
    assert [c.id for c in output.tool_calls] == [block["id"] for block in body["content"]]
    assert output.tool_calls[1] == ToolCall("b", "{}", body["content"][1]["id"])
    assert output.usage == Usage(1500, 77)


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        pytest.param("Hello", "JSON object", id="string-body"),
        pytest.param({**_anthropic_with([]), "content": "Hello"}, "response.content", id="content-string"),
        pytest.param({"type": "message", "role": "assistant"}, "response.content", id="content-missing"),
        pytest.param(_anthropic_with(["Hello"]), "response.content[0]", id="block-string"),
        pytest.param(_anthropic_with([{"type": "text", "text": "ok"}, {"type": "text", "text": None}]),
                     "response.content[1].text", id="text-null"),
        pytest.param(_anthropic_with([{"type": "tool_use", "id": "toolu_1", "input": {}}]), "response.content[0].name",
                     id="tool-use-without-name"),
        pytest.param(_anthropic_with([{"type": "text", "text": "ok"}], usage="25/14"), "response.usage",
                     id="usage-string"),
        pytest.param(_anthropic_with([{"type": "text", "text": "ok"}], usage={"input_tokens": "25"}),
                     "response.usage.input_tokens", id="input-tokens-string"),
        pytest.param({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}},
                     "overloaded_error", id="error-body"),
    ],
)  # fmt: skip
def test_parse_anthropic_malformed_names_the_field(body: Any, needle: str) -> None:
    with pytest.raises(ResponseFormatError) as info:
        parse_response(Api.ANTHROPIC_MESSAGES, body)
    assert needle in str(info.value)


@pytest.mark.parametrize(
    ("api", "request_body", "needle"),
    [
        (Api.OPENAI_CHAT, {"model": "gpt-4o"}, "request.messages"),
        (Api.OPENAI_CHAT, {"messages": "Hello"}, "request.messages"),
        (Api.OPENAI_CHAT, {"messages": [{"role": "user", "content": "Hi"}, "Hello"]}, "request.messages[1].role"),
        (Api.OPENAI_CHAT, openai_request(tools="get_weather"), "request.tools"),
        (Api.ANTHROPIC_MESSAGES, anthropic_request(system={"text": "You are"}), "request.system"),
    ],
)
def test_check_request_names_the_field(api: Api, request_body: dict[str, Any], needle: str) -> None:
    with pytest.raises(ResponseFormatError) as info:
        check_request(api, request_body)
    assert needle in str(info.value)


@pytest.mark.parametrize(
    ("api", "request_body"),
    [
        (Api.OPENAI_CHAT, openai_request("你好，我的订单在哪里？")),
        (Api.ANTHROPIC_MESSAGES, anthropic_request(system=[{"type": "text", "text": "You are helpful."}])),
        (Api.OPENAI_CHAT, {"messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "u"}]}),
    ],
)
def test_check_request_accepts_real_requests(api: Api, request_body: dict[str, Any]) -> None:
    check_request(api, request_body)  # raises on failure


# --- wire: token counts are believed only when plausible -------------------------------------------------------------


@pytest.mark.parametrize(
    ("prompt_tokens", "completion_tokens", "expected"),
    [
        pytest.param(-5, 9, Usage(None, 9), id="negative-input"),
        pytest.param(42, -1_000_000, Usage(42, None), id="negative-output"),
        pytest.param(10**15, 10**15, Usage(None, None), id="huge"),
        pytest.param(1e30, 9, Usage(None, 9), id="huge-float"),
        pytest.param(MAX_TOKENS_PER_CALL, 9, Usage(MAX_TOKENS_PER_CALL, 9), id="input-at-the-cap"),
        pytest.param(42, 100_000, Usage(42, None), id="output-far-beyond-the-text"),
    ],
)
@pytest.mark.parametrize("api", [Api.OPENAI_CHAT, Api.ANTHROPIC_MESSAGES])
def test_implausible_counts_are_read_as_unreported(
    api: Api, prompt_tokens: float, completion_tokens: float, expected: Usage
) -> None:
    if api is Api.OPENAI_CHAT:
        body = openai_response("Your order ships tomorrow.")
        body["usage"] = {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens}
    else:
        body = anthropic_response("Your order ships tomorrow.")
        body["usage"] = {"input_tokens": prompt_tokens, "output_tokens": completion_tokens}
    output = parse_response(api, body)
    assert output.usage == expected
    assert output.text == "Your order ships tomorrow."  # the answer itself is still compared


def test_output_tokens_may_reach_four_per_visible_character_plus_slack() -> None:
    text = "退款" * 100  # 200 characters
    bound = TOKENS_PER_CHAR * 200 + TOKEN_SLACK
    assert parse_openai_response(openai_response(text, completion_tokens=bound)).usage.output_tokens == bound
    assert parse_openai_response(openai_response(text, completion_tokens=bound + 1)).usage.output_tokens is None


def test_tool_call_arguments_count_as_visible_output() -> None:
    arguments = {"order_id": "A" * 2000}
    body = openai_response(None, tool_calls=[("lookup_order", arguments)], completion_tokens=4000)
    assert parse_openai_response(body).usage.output_tokens == 4000


def test_openai_reasoning_tokens_explain_output_the_text_does_not_show() -> None:
    body = openai_response("42", completion_tokens=20_000)
    assert parse_openai_response(body).usage.output_tokens is None
    body["usage"]["completion_tokens_details"] = {"reasoning_tokens": 19_990, "audio_tokens": 0}
    assert parse_openai_response(body).usage.output_tokens == 20_000
    # Hidden tokens larger than the whole count explain nothing.
    body["usage"]["completion_tokens_details"] = {"reasoning_tokens": 30_000}
    assert parse_openai_response(body).usage.output_tokens is None


def test_anthropic_thinking_blocks_make_the_output_count_unbounded_by_the_text() -> None:
    body = anthropic_response("42", output_tokens=20_000)
    assert parse_anthropic_response(body).usage.output_tokens is None
    body["content"].insert(0, {"type": "thinking", "thinking": "Summarized reasoning.", "signature": "sig"})
    assert parse_anthropic_response(body).usage.output_tokens == 20_000
    body["usage"]["output_tokens"] = MAX_TOKENS_PER_CALL + 1
    assert parse_anthropic_response(body).usage.output_tokens is None


@pytest.mark.parametrize(("output_tokens", "believed"), [(2048, True), (2048 + OUTPUT_LIMIT_SLACK, True),
                                                          (2048 + OUTPUT_LIMIT_SLACK + 1, False)])  # fmt: skip
def test_output_count_beyond_the_requests_limit_is_not_believed(output_tokens: int, believed: bool) -> None:
    body = anthropic_response("x" * 10_000, output_tokens=output_tokens)
    body["content"].insert(0, {"type": "redacted_thinking", "data": "EmwKAhgBEgy3va3pzix/LafPsn4a"})
    usage = parse_response(Api.ANTHROPIC_MESSAGES, body, output_limit=2048).usage
    assert usage.output_tokens == (output_tokens if believed else None)
