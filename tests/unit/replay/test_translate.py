"""Rewriting production requests for candidates: OpenAI chat completions ⇄ Anthropic messages, model and overrides."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import orjson
import pytest

from shadow.errors import TranslationError
from shadow.events.models import Api
from shadow.replay.translate import anthropic_to_openai, merge_overrides, openai_to_anthropic, rewrite_request
from tests.factories import WEATHER_TOOL, anthropic_request, openai_request

PNG_B64 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="

WEATHER_SCHEMA = WEATHER_TOOL["function"]["parameters"]  # type: ignore[index]

ANTHROPIC_WEATHER_TOOL = {
    "name": "get_weather",
    "description": "Current weather for a city",
    "input_schema": WEATHER_SCHEMA,
}


def tool_call(call_id: str, name: str, arguments: dict[str, Any] | str) -> dict[str, Any]:
    text = arguments if isinstance(arguments, str) else orjson.dumps(arguments).decode()
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": text}}


@pytest.fixture
def openai_conversation_factory() -> Callable[..., dict[str, Any]]:
    """A multi-turn OpenAI request with parallel tool calls and their results, as the API accepts it."""

    def make(**extra: Any) -> dict[str, Any]:
        return {
            "model": "gpt-4o-2024-08-06",
            "messages": [
                {"role": "system", "content": "You are a travel assistant."},
                {"role": "user", "content": "What's the weather in Paris and 北京?"},
                {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        tool_call("call_Paris01", "get_weather", {"city": "Paris"}),
                        tool_call("call_Beijing02", "get_weather", {"city": "北京", "unit": "celsius"}),
                    ],
                },
                {"role": "tool", "tool_call_id": "call_Paris01", "content": "18°C, cloudy"},
                {"role": "tool", "tool_call_id": "call_Beijing02", "content": "25°C，晴"},
                {"role": "assistant", "content": "Paris is 18°C and cloudy; 北京 is 25°C and sunny."},
                {"role": "user", "content": "Thanks! 明天呢?"},
            ],
            "tools": [WEATHER_TOOL],
            "temperature": 0.2,
            **extra,
        }

    return make


@pytest.fixture
def openai_conversation(openai_conversation_factory: Callable[..., dict[str, Any]]) -> dict[str, Any]:
    return openai_conversation_factory()


@pytest.fixture
def anthropic_conversation_factory() -> Callable[..., dict[str, Any]]:
    """The same conversation as Anthropic's messages API accepts it."""

    def make(**extra: Any) -> dict[str, Any]:
        return {
            "model": "claude-sonnet-4-5-20250929",
            "max_tokens": 2048,
            "system": "You are a travel assistant.",
            "messages": [
                {"role": "user", "content": "What's the weather in Paris and 北京?"},
                {
                    "role": "assistant",
                    "content": [
                        {"type": "text", "text": "I'll look both up."},
                        {"type": "tool_use", "id": "toolu_01A", "name": "get_weather", "input": {"city": "Paris"}},
                        {"type": "tool_use", "id": "toolu_01B", "name": "get_weather", "input": {"city": "北京"}},
                    ],
                },
                {
                    "role": "user",
                    "content": [
                        {"type": "tool_result", "tool_use_id": "toolu_01A", "content": "18°C, cloudy"},
                        {"type": "tool_result", "tool_use_id": "toolu_01B",
                         "content": [{"type": "text", "text": "25°C，晴"}]},
                        {"type": "text", "text": "Thanks! 明天呢?"},
                    ],
                },
            ],
            "tools": [ANTHROPIC_WEATHER_TOOL],
            **extra,
        }  # fmt: skip

    return make


@pytest.fixture
def anthropic_conversation(anthropic_conversation_factory: Callable[..., dict[str, Any]]) -> dict[str, Any]:
    return anthropic_conversation_factory()


def roles(body: dict[str, Any]) -> list[str]:
    return [m["role"] for m in body["messages"]]


# --- OpenAI → Anthropic ---------------------------------------------------------------------------------------------


def test_openai_conversation_to_anthropic(openai_conversation: dict[str, Any]) -> None:
    body = openai_to_anthropic(openai_conversation)
    assert body["system"] == "You are a travel assistant."
    assert roles(body) == ["user", "assistant", "user", "assistant", "user"]
    assert body["messages"][0]["content"] == [{"type": "text", "text": "What's the weather in Paris and 北京?"}]
    assert body["messages"][1]["content"] == [
        {"type": "tool_use", "id": "call_Paris01", "name": "get_weather", "input": {"city": "Paris"}},
        {
            "type": "tool_use",
            "id": "call_Beijing02",
            "name": "get_weather",
            "input": {"city": "北京", "unit": "celsius"},
        },
    ]
    # Both tool results in one user turn, in call order.
    assert body["messages"][2]["content"] == [
        {"type": "tool_result", "tool_use_id": "call_Paris01", "content": "18°C, cloudy"},
        {"type": "tool_result", "tool_use_id": "call_Beijing02", "content": "25°C，晴"},
    ]
    assert body["messages"][4]["content"] == [{"type": "text", "text": "Thanks! 明天呢?"}]
    assert body["temperature"] == 0.2
    assert "model" not in body


@pytest.mark.parametrize(
    ("system_messages", "expected"),
    [
        pytest.param([{"role": "system", "content": "Be brief."}], "Be brief.", id="system"),
        pytest.param([{"role": "developer", "content": "Réponds en français."}], "Réponds en français.",
                     id="developer"),
        pytest.param([{"role": "system", "content": "You are 客服助手."},
                      {"role": "developer", "content": [{"type": "text", "text": "用中文回答。"}]}],
                     "You are 客服助手.\n\n用中文回答。", id="system-and-developer-parts"),
        pytest.param([], None, id="none"),
    ],
)  # fmt: skip
def test_openai_system_and_developer_become_system(system_messages: list[dict[str, Any]], expected: str | None) -> None:
    request = {"model": "gpt-4o", "messages": [*system_messages, {"role": "user", "content": "Hi"}]}
    body = openai_to_anthropic(request)
    assert body.get("system") == expected
    assert roles(body) == ["user"]


@pytest.mark.parametrize(
    ("part", "block"),
    [
        pytest.param({"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG_B64}", "detail": "low"}},
                     {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG_B64}},
                     id="data-url"),
        pytest.param({"type": "image_url", "image_url": {"url": "data:image/jpeg;base64,/9j/4AAQSkZJRg=="}},
                     {"type": "image", "source": {"type": "base64", "media_type": "image/jpeg",
                                                  "data": "/9j/4AAQSkZJRg=="}},
                     id="jpeg-data-url"),
        pytest.param({"type": "image_url", "image_url": {"url": "https://example.com/receipt.png"}},
                     {"type": "image", "source": {"type": "url", "url": "https://example.com/receipt.png"}},
                     id="https-url"),
        pytest.param({"type": "text", "text": "这张收据上的金额是多少?"},
                     {"type": "text", "text": "这张收据上的金额是多少?"}, id="text"),
    ],
)  # fmt: skip
def test_openai_user_parts_to_blocks(part: dict[str, Any], block: dict[str, Any]) -> None:
    request = {"model": "gpt-4o", "messages": [{"role": "user", "content": [{"type": "text", "text": "Look:"}, part]}]}
    body = openai_to_anthropic(request)
    assert body["messages"] == [{"role": "user", "content": [{"type": "text", "text": "Look:"}, block]}]


@pytest.mark.parametrize(
    ("arguments", "expected_input"),
    [
        ('{"city": "Paris", "unit": "celsius"}', {"city": "Paris", "unit": "celsius"}),
        ('{"query": "退货政策"}', {"query": "退货政策"}),
        ("", {}),
        ("{}", {}),
        ('{"city": "Paris"', {}),  # truncated JSON from a length stop
        ('["Paris"]', {}),  # input must be an object
    ],
)
def test_openai_tool_call_arguments_become_input(arguments: str, expected_input: dict[str, Any]) -> None:
    request = {
        "model": "gpt-4o",
        "messages": [
            {"role": "user", "content": "Weather?"},
            {
                "role": "assistant",
                "content": "Checking.",
                "tool_calls": [tool_call("call_1", "get_weather", arguments)],
            },
            {"role": "tool", "tool_call_id": "call_1", "content": "18°C"},
        ],
    }
    body = openai_to_anthropic(request)
    assert body["messages"][1]["content"] == [
        {"type": "text", "text": "Checking."},
        {"type": "tool_use", "id": "call_1", "name": "get_weather", "input": expected_input},
    ]


def test_openai_tool_results_then_user_text_share_one_user_turn() -> None:
    request = {
        "model": "gpt-4o",
        "messages": [
            {"role": "user", "content": "Weather in Paris and Rome?"},
            {"role": "assistant", "content": None, "tool_calls": [tool_call("call_a", "get_weather", {"city": "Paris"}),
                                                                   tool_call("call_b", "get_weather", {"city": "Rome"})]},
            {"role": "tool", "tool_call_id": "call_a", "content": [{"type": "text", "text": "18°C"}]},
            {"role": "tool", "tool_call_id": "call_b", "content": "21°C"},
            {"role": "user", "content": "And in Celsius?"},
        ],
    }  # fmt: skip
    body = openai_to_anthropic(request)
    assert roles(body) == ["user", "assistant", "user"]
    assert [b["type"] for b in body["messages"][2]["content"]] == ["tool_result", "tool_result", "text"]
    assert body["messages"][2]["content"][0] == {"type": "tool_result", "tool_use_id": "call_a", "content": "18°C"}


def test_openai_consecutive_user_messages_are_merged() -> None:
    request = {
        "model": "gpt-4o",
        "messages": [
            {"role": "user", "content": "Hello"},
            {"role": "user", "content": "你好"},
            {"role": "assistant", "content": "Hi!"},
            {"role": "assistant", "content": "有什么可以帮您?"},
            {"role": "user", "content": "Order status"},
        ],
    }
    body = openai_to_anthropic(request)
    assert roles(body) == ["user", "assistant", "user"]
    assert [b["text"] for b in body["messages"][0]["content"]] == ["Hello", "你好"]
    assert [b["text"] for b in body["messages"][1]["content"]] == ["Hi!", "有什么可以帮您?"]


@pytest.mark.parametrize(
    ("params", "max_tokens"),
    [
        ({}, 1024),
        ({"max_tokens": 300}, 300),
        ({"max_completion_tokens": 500}, 500),
        ({"max_completion_tokens": 500, "max_tokens": 300}, 500),
        ({"max_tokens": None}, 1024),
    ],
)
def test_openai_max_tokens(params: dict[str, Any], max_tokens: int) -> None:
    assert openai_to_anthropic(openai_request(**params))["max_tokens"] == max_tokens


def test_openai_default_max_tokens_is_configurable() -> None:
    assert openai_to_anthropic(openai_request(), default_max_tokens=4096)["max_tokens"] == 4096


@pytest.mark.parametrize(
    ("stop", "expected"),
    [("END", ["END"]), (["\n\n", "###"], ["\n\n", "###"]), (None, None), ([], None)],
)
def test_openai_stop_to_stop_sequences(stop: Any, expected: list[str] | None) -> None:
    assert openai_to_anthropic(openai_request(stop=stop)).get("stop_sequences") == expected


@pytest.mark.parametrize(
    ("params", "present", "absent"),
    [
        ({"temperature": 0.7, "top_p": 0.9}, {"temperature": 0.7, "top_p": 0.9}, []),
        ({"temperature": None}, {}, ["temperature"]),
        ({"logprobs": True, "top_logprobs": 3, "seed": 7, "n": 1, "presence_penalty": 0.5}, {},
         ["logprobs", "top_logprobs", "seed", "n", "presence_penalty"]),
    ],
)  # fmt: skip
def test_openai_sampling_parameters(params: dict[str, Any], present: dict[str, Any], absent: list[str]) -> None:
    request = {"model": "gpt-4o", "messages": [{"role": "user", "content": "Hi"}], **params}
    body = openai_to_anthropic(request)
    for key, value in present.items():
        assert body[key] == value
    for key in absent:
        assert key not in body


def test_openai_tools_to_input_schema() -> None:
    no_params = {"type": "function", "function": {"name": "get_time", "description": "Current time"}}
    body = openai_to_anthropic(openai_request(tools=[WEATHER_TOOL, no_params]))
    assert body["tools"] == [
        ANTHROPIC_WEATHER_TOOL,
        {"name": "get_time", "description": "Current time", "input_schema": {"type": "object"}},
    ]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        pytest.param({"tool_choice": "auto"}, {"type": "auto"}, id="auto"),
        pytest.param({"tool_choice": "required"}, {"type": "any"}, id="required"),
        pytest.param({"tool_choice": "none"}, {"type": "none"}, id="none"),
        pytest.param({"tool_choice": {"type": "function", "function": {"name": "get_weather"}}},
                     {"type": "tool", "name": "get_weather"}, id="named"),
        pytest.param({}, None, id="unset"),
        pytest.param({"parallel_tool_calls": False}, {"type": "auto", "disable_parallel_tool_use": True},
                     id="parallel-false"),
        pytest.param({"parallel_tool_calls": True}, None, id="parallel-true"),
        pytest.param({"tool_choice": "required", "parallel_tool_calls": False},
                     {"type": "any", "disable_parallel_tool_use": True}, id="required-parallel-false"),
        pytest.param({"tool_choice": {"type": "function", "function": {"name": "get_weather"}},
                      "parallel_tool_calls": False},
                     {"type": "tool", "name": "get_weather", "disable_parallel_tool_use": True},
                     id="named-parallel-false"),
        # Anthropic's ToolChoiceNone has no disable_parallel_tool_use field: sending it is a 400.
        pytest.param({"tool_choice": "none", "parallel_tool_calls": False}, {"type": "none"},
                     id="none-parallel-false"),
    ],
)  # fmt: skip
def test_openai_tool_choice(params: dict[str, Any], expected: dict[str, Any] | None) -> None:
    body = openai_to_anthropic(openai_request(tools=[WEATHER_TOOL], **params))
    assert body.get("tool_choice") == expected


def test_openai_tool_choice_without_tools_is_dropped() -> None:
    body = openai_to_anthropic(openai_request(tool_choice="required", parallel_tool_calls=False))
    assert "tool_choice" not in body
    assert "tools" not in body


@pytest.mark.parametrize(
    ("response_format", "expected_tail"),
    [
        pytest.param(
            {"type": "json_schema", "json_schema": {"name": "ticket", "strict": True, "schema": {
                "type": "object", "properties": {"category": {"type": "string"}}, "required": ["category"]}}},
            'Respond with a single JSON object and nothing else. It must conform to this JSON Schema: '
            '{"type":"object","properties":{"category":{"type":"string"}},"required":["category"]}',
            id="json-schema",
        ),
        pytest.param({"type": "json_object"}, "Respond with a single JSON object and nothing else.", id="json-object"),
    ],
)  # fmt: skip
def test_openai_response_format_becomes_system_instruction(response_format: dict[str, Any], expected_tail: str) -> None:
    body = openai_to_anthropic(openai_request("分类这张工单", response_format=response_format))
    assert body["system"] == "You are a helpful support agent.\n\n" + expected_tail
    assert "response_format" not in body


def test_openai_response_format_text_adds_nothing() -> None:
    body = openai_to_anthropic(openai_request(response_format={"type": "text"}))
    assert body["system"] == "You are a helpful support agent."


@pytest.mark.parametrize(
    ("messages", "needle"),
    [
        pytest.param([{"role": "critic", "content": "Too long"}], "'critic'", id="unknown-role"),
        pytest.param([{"role": "user", "content": "Hi"}, {"role": "moderator", "content": "ok"}],
                     "request.messages[1]", id="unknown-role-position"),
        pytest.param([{"role": "system", "content": "Only a system prompt"}], "no user or assistant", id="no-turns"),
        pytest.param([{"role": "system", "content": 42}, {"role": "user", "content": "Hi"}],
                     "request.messages[0].content", id="system-content-number"),
        pytest.param([{"role": "user", "content": {"text": "Hi"}}], "request.messages[0].content",
                     id="user-content-object"),
    ],
)  # fmt: skip
def test_openai_untranslatable_requests(messages: list[dict[str, Any]], needle: str) -> None:
    with pytest.raises(TranslationError) as info:
        openai_to_anthropic({"model": "gpt-4o", "messages": messages})
    assert needle in str(info.value)


# --- Anthropic → OpenAI ---------------------------------------------------------------------------------------------


def test_anthropic_conversation_to_openai(anthropic_conversation: dict[str, Any]) -> None:
    body = anthropic_to_openai(anthropic_conversation)
    assert roles(body) == ["system", "user", "assistant", "tool", "tool", "user"]
    assert body["messages"][0] == {"role": "system", "content": "You are a travel assistant."}
    assert body["messages"][1] == {"role": "user", "content": "What's the weather in Paris and 北京?"}
    assistant = body["messages"][2]
    assert assistant["content"] == "I'll look both up."
    assert assistant["tool_calls"] == [
        {"id": "toolu_01A", "type": "function", "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'}},
        {"id": "toolu_01B", "type": "function", "function": {"name": "get_weather", "arguments": '{"city":"北京"}'}},
    ]
    # Tool results come before the user's text, as separate tool messages.
    assert body["messages"][3] == {"role": "tool", "tool_call_id": "toolu_01A", "content": "18°C, cloudy"}
    assert body["messages"][4] == {"role": "tool", "tool_call_id": "toolu_01B", "content": "25°C，晴"}
    assert body["messages"][5] == {"role": "user", "content": "Thanks! 明天呢?"}
    assert body["max_tokens"] == 2048
    assert body["tools"] == [WEATHER_TOOL]


def test_anthropic_tool_use_arguments_are_json_strings(anthropic_conversation: dict[str, Any]) -> None:
    body = anthropic_to_openai(anthropic_conversation)
    for call in body["messages"][2]["tool_calls"]:
        assert isinstance(call["function"]["arguments"], str)
        assert isinstance(orjson.loads(call["function"]["arguments"]), dict)


def test_anthropic_assistant_with_only_tool_use_has_null_content() -> None:
    request = anthropic_request(
        messages=[
            {"role": "user", "content": "Weather in Oslo?"},
            {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_9", "name": "get_weather",
                                               "input": {"city": "Oslo"}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_9", "content": "-3°C"}]},
        ]
    )  # fmt: skip
    body = anthropic_to_openai(request)
    assert roles(body) == ["system", "user", "assistant", "tool"]
    assert body["messages"][2]["content"] is None
    assert body["messages"][2]["tool_calls"][0]["function"]["arguments"] == '{"city":"Oslo"}'


@pytest.mark.parametrize(
    ("system", "expected"),
    [
        pytest.param("You answer from the provided documents.", "You answer from the provided documents.", id="string"),
        pytest.param([{"type": "text", "text": "You are 客服.", "cache_control": {"type": "ephemeral"}},
                      {"type": "text", "text": "Always cite the document."}],
                     "You are 客服.\n\nAlways cite the document.", id="blocks"),
        pytest.param(None, None, id="absent"),
        pytest.param("", None, id="empty"),
    ],
)  # fmt: skip
def test_anthropic_system_becomes_first_message(system: Any, expected: str | None) -> None:
    request = {"model": "claude-sonnet-4-5", "max_tokens": 100, "messages": [{"role": "user", "content": "Hi"}]}
    if system is not None:
        request["system"] = system
    body = anthropic_to_openai(request)
    if expected is None:
        assert roles(body) == ["user"]
    else:
        assert body["messages"][0] == {"role": "system", "content": expected}


@pytest.mark.parametrize(
    ("block", "part"),
    [
        pytest.param({"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG_B64}},
                     {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG_B64}"}}, id="base64"),
        pytest.param({"type": "image", "source": {"type": "url", "url": "https://example.com/a.webp"}},
                     {"type": "image_url", "image_url": {"url": "https://example.com/a.webp"}}, id="url"),
    ],
)  # fmt: skip
def test_anthropic_images_become_image_url_parts(block: dict[str, Any], part: dict[str, Any]) -> None:
    request = anthropic_request(messages=[{"role": "user", "content": [block, {"type": "text", "text": "这是什么?"}]}])
    body = anthropic_to_openai(request)
    assert body["messages"][-1] == {"role": "user", "content": [part, {"type": "text", "text": "这是什么?"}]}


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("18°C", "18°C"),
        ([{"type": "text", "text": "18°C"}], "18°C"),
        (None, ""),
        ({"temperature_c": 18}, '{"temperature_c":18}'),
    ],
)
def test_anthropic_tool_result_content(content: Any, expected: str) -> None:
    block: dict[str, Any] = {"type": "tool_result", "tool_use_id": "toolu_1"}
    if content is not None:
        block["content"] = content
    request = anthropic_request(
        messages=[
            {"role": "user", "content": "Weather?"},
            {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "w", "input": {}}]},
            {"role": "user", "content": [block]},
        ]
    )
    body = anthropic_to_openai(request)
    assert body["messages"][-1] == {"role": "tool", "tool_call_id": "toolu_1", "content": expected}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        pytest.param({"stop_sequences": ["\n\nHuman:", "</answer>"]}, {"stop": ["\n\nHuman:", "</answer>"]}, id="stop"),
        pytest.param({"temperature": 0.3, "top_p": 0.8}, {"temperature": 0.3, "top_p": 0.8}, id="sampling"),
        pytest.param({"max_tokens": 64}, {"max_tokens": 64}, id="max-tokens"),
    ],
)  # fmt: skip
def test_anthropic_parameters(params: dict[str, Any], expected: dict[str, Any]) -> None:
    body = anthropic_to_openai(anthropic_request(**params))
    for key, value in expected.items():
        assert body[key] == value
    assert "stop_sequences" not in body
    assert "top_k" not in anthropic_to_openai(anthropic_request(top_k=40))


@pytest.mark.parametrize(
    ("tool_choice", "expected", "parallel"),
    [
        pytest.param({"type": "auto"}, "auto", None, id="auto"),
        pytest.param({"type": "any"}, "required", None, id="any"),
        pytest.param({"type": "none"}, "none", None, id="none"),
        pytest.param({"type": "tool", "name": "get_weather"},
                     {"type": "function", "function": {"name": "get_weather"}}, None, id="tool"),
        pytest.param({"type": "any", "disable_parallel_tool_use": True}, "required", False, id="any-no-parallel"),
        pytest.param({"type": "auto", "disable_parallel_tool_use": True}, "auto", False, id="auto-no-parallel"),
    ],
)  # fmt: skip
def test_anthropic_tool_choice(tool_choice: dict[str, Any], expected: Any, parallel: bool | None) -> None:
    body = anthropic_to_openai(anthropic_request(tools=[ANTHROPIC_WEATHER_TOOL], tool_choice=tool_choice))
    assert body["tool_choice"] == expected
    assert body.get("parallel_tool_calls") == parallel


@pytest.mark.parametrize(
    ("messages", "needle"),
    [
        pytest.param([{"role": "system", "content": "Be brief."}], "request.messages[0].role", id="system-in-messages"),
        pytest.param([{"role": "user", "content": "Hi"}, {"role": "tool", "content": "x"}], "request.messages[1].role",
                     id="tool-role"),
        pytest.param([{"role": "user", "content": 42}], "request.messages[0].content", id="content-number"),
    ],
)  # fmt: skip
def test_anthropic_untranslatable_requests(messages: list[dict[str, Any]], needle: str) -> None:
    with pytest.raises(TranslationError) as info:
        anthropic_to_openai(anthropic_request(messages=messages))
    assert needle in str(info.value)


# --- round trips ----------------------------------------------------------------------------------------------------


def test_openai_round_trip_keeps_the_conversation(openai_conversation: dict[str, Any]) -> None:
    back = anthropic_to_openai(openai_to_anthropic(openai_conversation))
    assert roles(back) == ["system", "user", "assistant", "tool", "tool", "assistant", "user"]
    original_calls = openai_conversation["messages"][2]["tool_calls"]
    back_calls = back["messages"][2]["tool_calls"]
    assert [c["id"] for c in back_calls] == [c["id"] for c in original_calls]
    assert [orjson.loads(c["function"]["arguments"]) for c in back_calls] == [
        orjson.loads(c["function"]["arguments"]) for c in original_calls
    ]
    assert back["messages"][-1] == {"role": "user", "content": "Thanks! 明天呢?"}
    assert back["tools"] == openai_conversation["tools"]


# --- rewrite_request ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "target", "request_factory"),
    [
        pytest.param(Api.OPENAI_CHAT, Api.OPENAI_CHAT, openai_request, id="openai-openai"),
        pytest.param(Api.ANTHROPIC_MESSAGES, Api.ANTHROPIC_MESSAGES, anthropic_request, id="anthropic-anthropic"),
        pytest.param(Api.OPENAI_CHAT, Api.ANTHROPIC_MESSAGES, openai_request, id="openai-anthropic"),
        pytest.param(Api.ANTHROPIC_MESSAGES, Api.OPENAI_CHAT, anthropic_request, id="anthropic-openai"),
    ],
)
def test_rewrite_sets_model_drops_streaming_and_never_mutates(
    source: Api, target: Api, request_factory: Callable[..., dict[str, Any]]
) -> None:
    request = request_factory(
        "我的订单 #A-1024 在哪里? Where is it?",
        stream=True,
        stream_options={"include_usage": True},
        metadata={"user_id": "u_42", "trace": {"id": "abc"}},
    )
    snapshot = copy.deepcopy(request)
    overrides = {"temperature": 0.0, "metadata": {"trace": {"sampled": True}}}
    overrides_snapshot = copy.deepcopy(overrides)
    rewritten = rewrite_request(request, source=source, target=target, model="candidate-model-2", overrides=overrides)
    body = rewritten.body
    assert body["model"] == "candidate-model-2"
    assert "stream" not in body and "stream_options" not in body
    assert body["temperature"] == 0.0
    # Production's metadata is dropped; the configured one is sent.
    assert body["metadata"] == {"trace": {"sampled": True}}
    assert {"stream", "stream_options", "metadata"} <= set(rewritten.changes)
    assert request == snapshot
    assert overrides == overrides_snapshot
    # The body is independent of the overrides: changing one never changes the configured overrides.
    body["metadata"]["trace"]["sampled"] = False
    assert overrides == overrides_snapshot


def test_rewrite_same_provider_keeps_the_allow_listed_body() -> None:
    request = openai_request(
        "Hi",
        tools=[WEATHER_TOOL],
        tool_choice="auto",
        parallel_tool_calls=False,
        seed=11,
        stop=["###"],
        frequency_penalty=0.1,
        presence_penalty=0.2,
        response_format={"type": "json_object"},
        max_tokens=300,
        stream=True,
    )
    rewritten = rewrite_request(request, source=Api.OPENAI_CHAT, target=Api.OPENAI_CHAT, model="gpt-4.1", overrides={})
    assert rewritten.body == {k: v for k, v in request.items() if k != "stream"} | {"model": "gpt-4.1"}
    assert rewritten.changes == ("stream",)


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        pytest.param({"temperature": None}, {"top_p": 0.9, "response_format": {"type": "json_schema", "strict": True}},
                     id="none-deletes"),
        pytest.param({"absent_key": None}, {"temperature": 0.2, "top_p": 0.9,
                                            "response_format": {"type": "json_schema", "strict": True}},
                     id="none-on-absent"),
        pytest.param({"response_format": {"strict": None, "name": "answer"}},
                     {"temperature": 0.2, "top_p": 0.9, "response_format": {"type": "json_schema", "name": "answer"}},
                     id="deep-merge"),
        pytest.param({"response_format": "flat"}, {"temperature": 0.2, "top_p": 0.9, "response_format": "flat"},
                     id="replace-dict-with-scalar"),
        pytest.param({"messages": [2]}, {"messages": [2], "temperature": 0.2, "top_p": 0.9,
                                         "response_format": {"type": "json_schema", "strict": True}},
                     id="lists-replace"),
        pytest.param({"reasoning_effort": "low", "model": "override-wins"},
                     {"model": "override-wins", "temperature": 0.2, "top_p": 0.9,
                      "response_format": {"type": "json_schema", "strict": True}, "reasoning_effort": "low"},
                     id="overrides-set-guarded-params"),
    ],
)  # fmt: skip
def test_rewrite_overrides(overrides: dict[str, Any], expected: dict[str, Any]) -> None:
    request = {"model": "prod", "messages": [1], "temperature": 0.2, "top_p": 0.9, "max_tokens": 100,
               "response_format": {"type": "json_schema", "strict": True}}  # fmt: skip
    snapshot = copy.deepcopy(request)
    rewritten = rewrite_request(request, source=Api.OPENAI_CHAT, target=Api.OPENAI_CHAT, model="m", overrides=overrides)
    assert rewritten.body == {"model": "m", "messages": [1], "max_tokens": 100, **expected}
    assert rewritten.changes == ()  # overrides are configuration, not changes
    assert request == snapshot


def test_merge_overrides_copies_values() -> None:
    overrides = {"metadata": {"labels": ["a"]}}
    body = merge_overrides({}, overrides)
    body["metadata"]["labels"].append("b")
    assert overrides == {"metadata": {"labels": ["a"]}}


def test_rewrite_cross_provider_uses_default_max_tokens() -> None:
    request = {"model": "gpt-4o", "messages": [{"role": "user", "content": "Hi"}]}
    rewritten = rewrite_request(
        request, source=Api.OPENAI_CHAT, target=Api.ANTHROPIC_MESSAGES, model="claude", overrides={},
        default_max_tokens=333,
    )  # fmt: skip
    assert rewritten.body == {"messages": [{"role": "user", "content": [{"type": "text", "text": "Hi"}]}],
                              "max_tokens": 333, "model": "claude"}  # fmt: skip
    assert rewritten.changes == ("max_tokens:added",)


def test_rewrite_cross_provider_propagates_translation_errors() -> None:
    request = {"model": "gpt-4o", "messages": [{"role": "narrator", "content": "Once upon a time"}]}
    with pytest.raises(TranslationError, match="narrator"):
        rewrite_request(request, source=Api.OPENAI_CHAT, target=Api.ANTHROPIC_MESSAGES, model="c", overrides={})


# --- request guards: allow-list, caps, what is listed -----------------------------------------------------------------

PRICEY_OPENAI = {
    "n": 50,
    "max_tokens": 10**7,
    "service_tier": "priority",
    "store": True,
    "reasoning_effort": "high",
    "logprobs": True,
    "top_logprobs": 20,
    "metadata": {"k": "v"},
    "user": "u-1",
    "prediction": {"type": "content", "content": "draft"},
    "modalities": ["text", "audio"],
    "audio": {"voice": "alloy", "format": "mp3"},
    "web_search_options": {},
    "x_unknown_knob": True,
}


def test_openai_same_api_keeps_only_the_allow_list_and_caps_max_tokens() -> None:
    request = openai_request("Hi", **PRICEY_OPENAI)
    rewritten = rewrite_request(
        request, source=Api.OPENAI_CHAT, target=Api.OPENAI_CHAT, model="gpt-4.1", overrides={}, max_output_tokens=2048
    )
    assert rewritten.body == {"model": "gpt-4.1", "messages": request["messages"], "temperature": 0.2,
                              "max_tokens": 2048}  # fmt: skip
    dropped = [k for k in PRICEY_OPENAI if k != "max_tokens"]
    assert rewritten.changes == (*dropped, "max_tokens:capped")


@pytest.mark.parametrize(
    ("params", "changes"),
    [
        pytest.param({"n": 1, "stream": False, "logprobs": False, "store": False, "user": None}, (), id="no-ops"),
        pytest.param({"n": 2}, ("n",), id="n"),
        pytest.param({"stream": True, "stream_options": {"include_usage": True}}, ("stream", "stream_options"),
                     id="stream"),
    ],
)  # fmt: skip
def test_dropping_a_no_op_value_is_not_a_change(params: dict[str, Any], changes: tuple[str, ...]) -> None:
    request = openai_request("Hi", max_tokens=10, **params)
    rewritten = rewrite_request(request, source=Api.OPENAI_CHAT, target=Api.OPENAI_CHAT, model="m", overrides={})
    assert rewritten.changes == changes
    assert not {"n", "stream", "stream_options", "logprobs", "store", "user"} & set(rewritten.body)


def test_allow_params_pass_guarded_parameters_but_never_n_or_stream() -> None:
    request = openai_request("Hi", **PRICEY_OPENAI, stream=True)
    allow = ["service_tier", "reasoning_effort", "logprobs", "x_unknown_knob", "n", "stream"]
    rewritten = rewrite_request(
        request, source=Api.OPENAI_CHAT, target=Api.OPENAI_CHAT, model="o3", overrides={}, allow_params=allow
    )
    body = rewritten.body
    assert (body["service_tier"], body["reasoning_effort"], body["logprobs"], body["x_unknown_knob"]) == (
        "priority", "high", True, True,
    )  # fmt: skip
    assert "n" not in body and "stream" not in body and "top_logprobs" not in body
    assert "service_tier" not in rewritten.changes and {"n", "stream", "top_logprobs"} <= set(rewritten.changes)


@pytest.mark.parametrize(
    ("params", "body_limits", "changes"),
    [
        pytest.param({}, {"max_completion_tokens": 4096}, ("max_completion_tokens:added",), id="none-added"),
        pytest.param({"max_tokens": None}, {"max_tokens": None, "max_completion_tokens": 4096},
                     ("max_completion_tokens:added",), id="null-added"),
        pytest.param({"max_tokens": 4096}, {"max_tokens": 4096}, (), id="at-cap"),
        pytest.param({"max_completion_tokens": 4097}, {"max_completion_tokens": 4096},
                     ("max_completion_tokens:capped",), id="over-cap"),
        pytest.param({"max_tokens": 10**7, "max_completion_tokens": 10**7},
                     {"max_tokens": 4096, "max_completion_tokens": 4096},
                     ("max_tokens:capped", "max_completion_tokens:capped"), id="both"),
        pytest.param({"max_tokens": "10000000"}, {"max_tokens": 4096}, ("max_tokens:capped",), id="string"),
        pytest.param({"max_tokens": 1e9}, {"max_tokens": 4096}, ("max_tokens:capped",), id="float"),
    ],
)  # fmt: skip
def test_openai_output_limit_is_capped_or_added(
    params: dict[str, Any], body_limits: dict[str, Any], changes: tuple[str, ...]
) -> None:
    request = {"model": "gpt-4o", "messages": [{"role": "user", "content": "Hi"}], **params}
    rewritten = rewrite_request(request, source=Api.OPENAI_CHAT, target=Api.OPENAI_CHAT, model="m", overrides={})
    assert {k: v for k, v in rewritten.body.items() if k in ("max_tokens", "max_completion_tokens")} == body_limits
    assert rewritten.changes == changes


def test_overrides_cannot_remove_the_output_limit() -> None:
    request = openai_request("Hi", max_tokens=100)
    rewritten = rewrite_request(
        request, source=Api.OPENAI_CHAT, target=Api.OPENAI_CHAT, model="m", overrides={"max_tokens": None},
        max_output_tokens=512,
    )  # fmt: skip
    assert "max_tokens" not in rewritten.body and rewritten.body["max_completion_tokens"] == 512
    assert rewritten.changes == ("max_completion_tokens:added",)


def test_anthropic_same_api_drops_thinking_service_tier_and_server_tools() -> None:
    web_search = {"type": "web_search_20250305", "name": "web_search", "max_uses": 5}
    request = anthropic_request(
        "Hi", max_tokens=10**7, service_tier="auto", metadata={"user_id": "u"}, top_k=40,
        thinking={"type": "enabled", "budget_tokens": 50_000}, tools=[ANTHROPIC_WEATHER_TOOL, web_search],
        mcp_servers=[{"type": "url", "url": "https://mcp.example.com", "name": "x"}],
    )  # fmt: skip
    rewritten = rewrite_request(
        request, source=Api.ANTHROPIC_MESSAGES, target=Api.ANTHROPIC_MESSAGES, model="claude-haiku-4-5",
        overrides={}, max_output_tokens=2048,
    )  # fmt: skip
    assert rewritten.body == {
        "model": "claude-haiku-4-5", "max_tokens": 2048, "system": request["system"], "messages": request["messages"],
        "top_k": 40, "tools": [ANTHROPIC_WEATHER_TOOL],
    }  # fmt: skip
    assert rewritten.changes == (
        "service_tier", "metadata", "thinking", "mcp_servers", "tools:web_search_20250305", "max_tokens:capped",
    )  # fmt: skip


def test_allowed_thinking_keeps_its_budget_below_the_capped_max_tokens() -> None:
    web_search = {"type": "web_search_20250305", "name": "web_search"}
    request = anthropic_request(
        "Hi", max_tokens=64_000, thinking={"type": "enabled", "budget_tokens": 50_000}, tools=[web_search]
    )
    rewritten = rewrite_request(
        request, source=Api.ANTHROPIC_MESSAGES, target=Api.ANTHROPIC_MESSAGES, model="c", overrides={},
        max_output_tokens=8192, allow_params=["thinking", "server_tools"],
    )  # fmt: skip
    assert rewritten.body["max_tokens"] == 8192
    assert rewritten.body["thinking"] == {"type": "enabled", "budget_tokens": 8191}
    assert rewritten.body["tools"] == [web_search]
    assert rewritten.changes == ("max_tokens:capped", "thinking.budget_tokens:capped")
    assert request["thinking"]["budget_tokens"] == 50_000  # production's request is untouched


def test_openai_to_anthropic_caps_max_tokens_and_lists_what_has_no_counterpart() -> None:
    request = openai_request("Hi", **PRICEY_OPENAI, seed=7, max_completion_tokens=10**7)
    rewritten = rewrite_request(
        request, source=Api.OPENAI_CHAT, target=Api.ANTHROPIC_MESSAGES, model="claude", overrides={},
        max_output_tokens=2048,
    )  # fmt: skip
    assert rewritten.body["max_tokens"] == 2048
    assert set(rewritten.body) == {"model", "messages", "system", "max_tokens", "temperature"}
    dropped = [k for k in PRICEY_OPENAI if k != "max_tokens"]
    assert rewritten.changes == (*dropped, "seed", "max_tokens:capped")


def test_openai_to_anthropic_default_max_tokens_stays_within_the_cap() -> None:
    request = openai_request("Hi")
    rewritten = rewrite_request(
        request, source=Api.OPENAI_CHAT, target=Api.ANTHROPIC_MESSAGES, model="claude", overrides={},
        max_output_tokens=500, default_max_tokens=1024,
    )  # fmt: skip
    assert rewritten.body["max_tokens"] == 500
    assert rewritten.changes == ("max_tokens:added",)


def test_anthropic_to_openai_caps_max_tokens_and_lists_what_has_no_counterpart() -> None:
    request = anthropic_request("Hi", max_tokens=10**7, top_k=40, metadata={"user_id": "u"}, service_tier="auto")
    rewritten = rewrite_request(
        request, source=Api.ANTHROPIC_MESSAGES, target=Api.OPENAI_CHAT, model="gpt-4.1", overrides={},
        max_output_tokens=2048,
    )  # fmt: skip
    assert rewritten.body["max_tokens"] == 2048 and "max_completion_tokens" not in rewritten.body
    assert rewritten.changes == ("top_k", "metadata", "service_tier", "max_tokens:capped")


def test_deeply_nested_requests_are_not_copied_recursively() -> None:
    deep: Any = "leaf"
    for _ in range(5000):  # deeper than any recursive copy survives
        deep = {"x": deep}
    request = openai_request("Hi", response_format={"type": "json_schema", "json_schema": {"schema": deep}})
    rewritten = rewrite_request(
        request, source=Api.OPENAI_CHAT, target=Api.OPENAI_CHAT, model="m",
        overrides={"response_format": {"json_schema": {"strict": True}}},
    )  # fmt: skip
    assert rewritten.body["response_format"]["json_schema"] == {"schema": deep, "strict": True}
    assert "strict" not in request["response_format"]["json_schema"]
