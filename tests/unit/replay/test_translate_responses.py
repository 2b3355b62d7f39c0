"""Rewriting requests for and from the OpenAI Responses API (issue 13): the same-API allow-list, store: false,
what is never replayed, output caps, and translation to and from chat completions and Anthropic messages.

Every translated body is checked against the official SDKs' request types (``ResponseCreateParams``,
``CompletionCreateParams``, ``MessageCreateParams``), so the shapes are the ones the APIs take.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from typing import Any

import orjson
import pytest
from anthropic.types.message_create_params import MessageCreateParamsNonStreaming
from openai.types.chat.completion_create_params import CompletionCreateParamsNonStreaming
from openai.types.responses.response_create_params import ResponseCreateParamsNonStreaming
from pydantic import TypeAdapter

from shadow.errors import TranslationError
from shadow.events.models import Api
from shadow.replay.translate import CandidateRequest, candidate_api, endpoint_url, output_limit, rewrite_request
from tests.factories import WEATHER_TOOL, anthropic_request, candidate, openai_request
from tests.responses_factories import FLAT_WEATHER_TOOL, function_call_item, reasoning_item, responses_request

PNG = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
ANSWER_SCHEMA = {
    "type": "object",
    "properties": {"city": {"type": "string"}, "temperature_c": {"type": "number"}},
    "required": ["city", "temperature_c"],
    "additionalProperties": False,
}
SHAPES = {
    Api.OPENAI_RESPONSES: TypeAdapter(ResponseCreateParamsNonStreaming),
    Api.OPENAI_CHAT: TypeAdapter(CompletionCreateParamsNonStreaming),
    Api.ANTHROPIC_MESSAGES: TypeAdapter(MessageCreateParamsNonStreaming),
}


def _force(value: Any) -> Any:
    # Pydantic validates the SDKs' Iterable fields lazily: walking them validates them.
    if isinstance(value, dict):
        return {key: _force(item) for key, item in value.items()}
    if isinstance(value, list | tuple | Iterator):
        return [_force(item) for item in value]
    return value


def assert_shape(api: Api, body: dict[str, Any]) -> None:
    """``body`` is a request ``api`` takes, as the official SDK types it."""
    _force(SHAPES[api].validate_python(body))


def rewrite(request: dict[str, Any], source: Api, target: Api, **options: Any) -> CandidateRequest:
    options.setdefault("overrides", {})
    frozen = copy.deepcopy(request)
    result = rewrite_request(request, source=source, target=target, model="cand-model", **options)
    assert request == frozen, "production's request must never change"
    assert_shape(target, result.body)
    return result


@pytest.fixture
def responses_conversation_factory() -> Callable[..., dict[str, Any]]:
    """A multi-turn Responses request: instructions, an image, a reasoning item, text then parallel calls, results."""

    def make(**extra: Any) -> dict[str, Any]:
        return {
            "model": "gpt-5-2025-08-07",
            "instructions": "You are a travel assistant.",
            "input": [
                {"role": "user", "content": [{"type": "input_text", "text": "What's the weather in Paris and 北京?"},
                                             {"type": "input_image", "image_url": PNG, "detail": "low"}]},
                reasoning_item("Two cities: call the tool twice.", encrypted="gAAAAABo-encrypted"),
                {"id": "msg_01", "type": "message", "role": "assistant", "status": "completed",
                 "content": [{"type": "output_text", "text": "Checking both.", "annotations": []}]},
                function_call_item("get_weather", {"city": "Paris"}, call_id="call_Paris01"),
                function_call_item("get_weather", {"city": "北京", "unit": "celsius"}, call_id="call_Beijing02"),
                {"type": "function_call_output", "call_id": "call_Paris01", "output": "18°C, cloudy"},
                {"type": "function_call_output", "call_id": "call_Beijing02",
                 "output": [{"type": "input_text", "text": "25°C，晴"}]},
                {"role": "assistant", "content": "Paris is 18°C and cloudy; 北京 is 25°C and sunny."},
                {"role": "user", "content": "Thanks! 明天呢?"},
            ],
            "tools": [FLAT_WEATHER_TOOL],
            "tool_choice": "auto",
            "parallel_tool_calls": False,
            "temperature": 0.2,
            "max_output_tokens": 800,
            **extra,
        }  # fmt: skip

    return make


@pytest.fixture
def responses_conversation(responses_conversation_factory: Callable[..., dict[str, Any]]) -> dict[str, Any]:
    return responses_conversation_factory()


# --- same API: allow-list, guarded parameters, store: false ---------------------------------------------------------


def test_same_api_keeps_the_allow_list_and_drops_what_changes_price_or_data_handling() -> None:
    request = responses_request(
        "Hi", max_output_tokens=300, truncation="auto", max_tool_calls=3, tools=[FLAT_WEATHER_TOOL],
        text={"format": {"type": "json_schema", "name": "weather", "schema": ANSWER_SCHEMA, "strict": True}},
        store=True, metadata={"trace": "t-1"}, user="u-42", safety_identifier="s-1", prompt_cache_key="k",
        service_tier="priority", reasoning={"effort": "high"}, include=["reasoning.encrypted_content"],
        top_logprobs=5, stream=True, background=False,
    )  # fmt: skip
    sent = rewrite(request, Api.OPENAI_RESPONSES, Api.OPENAI_RESPONSES)
    assert sent.body == {
        "instructions": "You are a helpful support agent.",
        "input": request["input"],
        "temperature": 0.2,
        "max_output_tokens": 300,
        "truncation": "auto",
        "max_tool_calls": 3,
        "tools": [FLAT_WEATHER_TOOL],
        "text": request["text"],
        "model": "cand-model",
        "store": False,
    }
    assert sent.changes == (
        "store", "metadata", "user", "safety_identifier", "prompt_cache_key", "service_tier", "reasoning", "include",
        "top_logprobs", "stream",
    )  # fmt: skip
    assert sent.body["input"] is request["input"], "nested event content is shared, never copied"


def test_allow_params_passes_guarded_parameters_but_never_a_stream_or_a_background_run() -> None:
    request = responses_request(reasoning={"effort": "high"}, service_tier="flex", stream=True, background=True)
    sent = rewrite(request, Api.OPENAI_RESPONSES, Api.OPENAI_RESPONSES,
                   allow_params=["reasoning", "service_tier", "stream", "background"])  # fmt: skip
    assert sent.body["reasoning"] == {"effort": "high"} and sent.body["service_tier"] == "flex"
    assert "stream" not in sent.body and "background" not in sent.body
    assert sent.changes == ("stream", "background", "max_output_tokens:added")


@pytest.mark.parametrize("production_store", [True, False, None])
def test_every_responses_candidate_request_says_store_false(production_store: bool | None) -> None:
    for source, request in [(Api.OPENAI_RESPONSES, responses_request(store=production_store)),
                            (Api.OPENAI_CHAT, openai_request(store=production_store)),
                            (Api.ANTHROPIC_MESSAGES, anthropic_request())]:  # fmt: skip
        sent = rewrite(request, source, Api.OPENAI_RESPONSES, overrides={"store": True}, allow_params=["store"])
        assert sent.body["store"] is False


def test_reasoning_items_are_dropped_unless_allowed(responses_conversation: dict[str, Any]) -> None:
    sent = rewrite(responses_conversation, Api.OPENAI_RESPONSES, Api.OPENAI_RESPONSES)
    assert [item.get("type") for item in sent.body["input"]] == [
        None,
        "message",
        "function_call",
        "function_call",
        "function_call_output",
        "function_call_output",
        None,
        None,
    ]
    assert "input:reasoning" in sent.changes
    # The output items they went with lose the ids that tie them to a reasoning item no longer sent.
    assert sent.body["input"][1] == {"type": "message", "role": "assistant", "content": "Checking both."}
    call = responses_conversation["input"][3]
    assert sent.body["input"][2] == {key: value for key, value in call.items() if key != "id"}
    assert all("id" not in item for item in sent.body["input"])
    kept = rewrite(responses_conversation, Api.OPENAI_RESPONSES, Api.OPENAI_RESPONSES, allow_params=["reasoning_items"])
    assert kept.body["input"] is responses_conversation["input"] and "input:reasoning" not in kept.changes


def test_text_verbosity_is_guarded_like_chat_verbosity() -> None:
    request = responses_request(text={"format": {"type": "text"}, "verbosity": "low"})
    sent = rewrite(request, Api.OPENAI_RESPONSES, Api.OPENAI_RESPONSES)
    assert sent.body["text"] == {"format": {"type": "text"}} and "text.verbosity" in sent.changes
    allowed = rewrite(request, Api.OPENAI_RESPONSES, Api.OPENAI_RESPONSES, allow_params=["verbosity"])
    assert allowed.body["text"] is request["text"]


BUILT_IN_TOOLS = [
    {"type": "web_search"},
    {"type": "web_search_preview"},
    {"type": "file_search", "vector_store_ids": ["vs_1"]},
    {"type": "code_interpreter", "container": {"type": "auto"}},
    {"type": "image_generation"},
    {"type": "mcp", "server_label": "deepwiki", "server_url": "https://mcp.deepwiki.com/mcp"},
    {"type": "local_shell"},
    {"type": "computer_use_preview", "display_width": 1024, "display_height": 768, "environment": "browser"},
]


@pytest.mark.parametrize("tool", BUILT_IN_TOOLS, ids=[t["type"] for t in BUILT_IN_TOOLS])
def test_built_in_tools_need_server_tools_and_the_same_api(tool: dict[str, Any]) -> None:
    request = responses_request(tools=[FLAT_WEATHER_TOOL, tool])
    for target in Api:
        with pytest.raises(TranslationError, match=rf"request.tools\[1\] is the built-in tool '{tool['type']}'"):
            rewrite(request, Api.OPENAI_RESPONSES, target)
    sent = rewrite(request, Api.OPENAI_RESPONSES, Api.OPENAI_RESPONSES, allow_params=["server_tools"])
    assert sent.body["tools"] == [FLAT_WEATHER_TOOL, tool]
    for target in (Api.OPENAI_CHAT, Api.ANTHROPIC_MESSAGES):
        with pytest.raises(TranslationError, match="built-in tool"):
            rewrite(request, Api.OPENAI_RESPONSES, target, allow_params=["server_tools"])


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        pytest.param({"previous_response_id": "resp_68af4030592c"}, "request.previous_response_id points at state",
                     id="previous_response_id"),
        pytest.param({"conversation": "conv_689667905b048191b4740501625afd940c7533ace33a2dab"},
                     "request.conversation points at state", id="conversation"),
        pytest.param({"prompt": {"id": "pmpt_abc123", "version": "2", "variables": {"city": "Paris"}}},
                     "request.prompt points at state", id="stored-prompt"),
        pytest.param({"input": [{"role": "user", "content": "Hi"}, {"type": "item_reference", "id": "msg_0fa1"}]},
                     r"request.input\[1\] is an item_reference", id="item-reference"),
        pytest.param({"input": [{"id": "msg_0fa1"}, {"role": "user", "content": "Hi"}]},
                     r"request.input\[0\] is an item_reference", id="item-reference-without-type"),
    ],
)  # fmt: skip
def test_stored_state_is_never_replayed(extra: dict[str, Any], message: str) -> None:
    request = responses_request(**extra)
    for target in Api:
        for allow in ([], ["previous_response_id", "conversation", "prompt", "server_tools", "reasoning_items"]):
            with pytest.raises(TranslationError, match=message):
                rewrite_request(request, source=Api.OPENAI_RESPONSES, target=target, model="m", overrides={},
                                allow_params=allow)  # fmt: skip


# --- output caps ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("limit", "sent", "change"),
    [
        (None, 4096, "max_output_tokens:added"),
        (300, 300, None),
        (100_000, 4096, "max_output_tokens:capped"),
        ("lots", 4096, "max_output_tokens:capped"),
        (8, 16, "max_output_tokens:raised"),
    ],
)
def test_a_responses_target_carries_max_output_tokens_within_the_cap(limit: Any, sent: int, change: str | None) -> None:
    request = responses_request() if limit is None else responses_request(max_output_tokens=limit)
    result = rewrite_request(request, source=Api.OPENAI_RESPONSES, target=Api.OPENAI_RESPONSES, model="m",
                             overrides={}, max_output_tokens=4096)  # fmt: skip
    assert result.body["max_output_tokens"] == sent
    assert output_limit(result.body) == sent
    assert result.changes == ((change,) if change else ())


@pytest.mark.parametrize(
    ("source", "request_body", "limit"),
    [
        (Api.OPENAI_CHAT, openai_request(max_tokens=50_000), 2048),
        (Api.OPENAI_CHAT, openai_request(max_completion_tokens=700), 700),
        (Api.ANTHROPIC_MESSAGES, anthropic_request(max_tokens=900), 900),
    ],
)
def test_translated_limits_become_max_output_tokens_and_are_capped(
    source: Api, request_body: dict[str, Any], limit: int
) -> None:
    sent = rewrite(request_body, source, Api.OPENAI_RESPONSES, max_output_tokens=2048)
    assert sent.body["max_output_tokens"] == limit
    assert not {"max_tokens", "max_completion_tokens"} & set(sent.body)


def test_responses_limits_reach_chat_and_anthropic_targets_capped() -> None:
    request = responses_request(max_output_tokens=9000)
    chat = rewrite(request, Api.OPENAI_RESPONSES, Api.OPENAI_CHAT, max_output_tokens=2048)
    assert chat.body["max_completion_tokens"] == 2048 and "max_completion_tokens:capped" in chat.changes
    anthropic = rewrite(request, Api.OPENAI_RESPONSES, Api.ANTHROPIC_MESSAGES, max_output_tokens=2048)
    assert anthropic.body["max_tokens"] == 2048 and "max_tokens:added" not in anthropic.changes
    unset = rewrite(responses_request(), Api.OPENAI_RESPONSES, Api.ANTHROPIC_MESSAGES, default_max_tokens=512)
    assert unset.body["max_tokens"] == 512 and "max_tokens:added" in unset.changes


# --- Responses → chat completions -----------------------------------------------------------------------------------


def test_responses_conversation_to_chat(responses_conversation: dict[str, Any]) -> None:
    sent = rewrite(responses_conversation, Api.OPENAI_RESPONSES, Api.OPENAI_CHAT)
    messages = sent.body["messages"]
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "tool", "tool", "assistant", "user"]
    assert messages[0] == {"role": "system", "content": "You are a travel assistant."}
    assert messages[1]["content"] == [
        {"type": "text", "text": "What's the weather in Paris and 北京?"},
        {"type": "image_url", "image_url": {"url": PNG, "detail": "low"}},
    ]
    # The assistant's text and its two calls are one chat message.
    assert messages[2]["content"] == [{"type": "text", "text": "Checking both."}]
    assert [(c["id"], c["function"]["name"], orjson.loads(c["function"]["arguments"])) for c in messages[2]["tool_calls"]] == [
        ("call_Paris01", "get_weather", {"city": "Paris"}),
        ("call_Beijing02", "get_weather", {"city": "北京", "unit": "celsius"}),
    ]  # fmt: skip
    assert messages[3] == {"role": "tool", "tool_call_id": "call_Paris01", "content": "18°C, cloudy"}
    assert messages[4] == {"role": "tool", "tool_call_id": "call_Beijing02", "content": "25°C，晴"}
    assert messages[6] == {"role": "user", "content": "Thanks! 明天呢?"}
    assert sent.body["tools"] == [WEATHER_TOOL | {"function": {**WEATHER_TOOL["function"], "strict": True}}]  # type: ignore[dict-item]
    assert (sent.body["tool_choice"], sent.body["parallel_tool_calls"]) == ("auto", False)
    assert (sent.body["max_completion_tokens"], sent.body["temperature"]) == (800, 0.2)
    assert sent.changes == ("input:reasoning",)


def test_string_input_and_json_schema_answers_to_chat() -> None:
    request = {"model": "gpt-5", "input": "Weather in Oslo as JSON", "store": True,
               "text": {"format": {"type": "json_schema", "name": "weather", "schema": ANSWER_SCHEMA, "strict": True},
                        "verbosity": "low"}}  # fmt: skip
    sent = rewrite(request, Api.OPENAI_RESPONSES, Api.OPENAI_CHAT)
    assert sent.body["messages"] == [{"role": "user", "content": "Weather in Oslo as JSON"}]
    assert sent.body["response_format"] == {
        "type": "json_schema", "json_schema": {"name": "weather", "schema": ANSWER_SCHEMA, "strict": True}
    }  # fmt: skip
    assert sent.body["response_format"]["json_schema"]["schema"] is ANSWER_SCHEMA
    assert sent.changes == ("text.verbosity", "store", "max_completion_tokens:added")
    json_object = rewrite({**request, "text": {"format": {"type": "json_object"}}}, Api.OPENAI_RESPONSES,
                          Api.OPENAI_CHAT)  # fmt: skip
    assert json_object.body["response_format"] == {"type": "json_object"}


def test_specific_tool_choice_to_chat() -> None:
    request = responses_request(tools=[FLAT_WEATHER_TOOL], tool_choice={"type": "function", "name": "get_weather"})
    sent = rewrite(request, Api.OPENAI_RESPONSES, Api.OPENAI_CHAT)
    assert sent.body["tool_choice"] == {"type": "function", "function": {"name": "get_weather"}}


def test_input_files_reach_chat_inline_or_by_file_id() -> None:
    request = responses_request()
    request["input"] = [{"role": "user", "content": [
        {"type": "input_text", "text": "Summarize these"},
        {"type": "input_file", "filename": "invoice.pdf", "file_data": "data:application/pdf;base64,JVBERi0x"},
        {"type": "input_file", "file_id": "file-6F2ksmvXxt4VdoqmHRw6kL"},
    ]}]  # fmt: skip
    sent = rewrite(request, Api.OPENAI_RESPONSES, Api.OPENAI_CHAT)
    assert sent.body["messages"][1]["content"][1:] == [
        {"type": "file", "file": {"filename": "invoice.pdf", "file_data": "data:application/pdf;base64,JVBERi0x"}},
        {"type": "file", "file": {"file_id": "file-6F2ksmvXxt4VdoqmHRw6kL"}},
    ]


# --- Responses → Anthropic ------------------------------------------------------------------------------------------


def test_responses_conversation_to_anthropic(responses_conversation: dict[str, Any]) -> None:
    sent = rewrite(responses_conversation, Api.OPENAI_RESPONSES, Api.ANTHROPIC_MESSAGES)
    body = sent.body
    assert body["system"] == "You are a travel assistant."
    assert [m["role"] for m in body["messages"]] == ["user", "assistant", "user", "assistant", "user"]
    assert body["messages"][0]["content"][1] == {
        "type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG.split(",", 1)[1]}
    }  # fmt: skip
    assert body["messages"][1]["content"] == [
        {"type": "text", "text": "Checking both."},
        {"type": "tool_use", "id": "call_Paris01", "name": "get_weather", "input": {"city": "Paris"}},
        {
            "type": "tool_use",
            "id": "call_Beijing02",
            "name": "get_weather",
            "input": {"city": "北京", "unit": "celsius"},
        },
    ]
    assert body["messages"][2]["content"] == [
        {"type": "tool_result", "tool_use_id": "call_Paris01", "content": "18°C, cloudy"},
        {"type": "tool_result", "tool_use_id": "call_Beijing02", "content": "25°C，晴"},
    ]
    assert body["tools"] == [{"name": "get_weather", "description": "Current weather for a city",
                              "input_schema": FLAT_WEATHER_TOOL["parameters"]}]  # fmt: skip
    assert body["tool_choice"] == {"type": "auto", "disable_parallel_tool_use": True}
    assert (body["max_tokens"], body["temperature"]) == (800, 0.2)
    assert sent.changes == ("input:reasoning",)


def test_a_json_schema_answer_to_anthropic_is_asked_for_in_the_system_prompt() -> None:
    request = responses_request(text={"format": {"type": "json_schema", "name": "w", "schema": ANSWER_SCHEMA}})
    sent = rewrite(request, Api.OPENAI_RESPONSES, Api.ANTHROPIC_MESSAGES)
    assert sent.body["system"].startswith("You are a helpful support agent.\n\nRespond with a single JSON object")
    assert orjson.dumps(ANSWER_SCHEMA).decode() in sent.body["system"]


# --- chat completions and Anthropic → Responses ---------------------------------------------------------------------


def test_chat_conversation_to_responses() -> None:
    request = openai_request(
        "What's the weather in Paris?", tools=[WEATHER_TOOL], tool_choice={"type": "function", "function":
        {"name": "get_weather"}}, max_completion_tokens=500, top_p=0.9, stop=["\n\n"], seed=7, presence_penalty=0.5,
        response_format={"type": "json_schema", "json_schema": {"name": "w", "schema": ANSWER_SCHEMA, "strict": True}},
    )  # fmt: skip
    request["messages"] += [
        {"role": "assistant", "content": "Checking.", "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'}}
        ]},
        {"role": "tool", "tool_call_id": "call_1", "content": "18°C"},
        {"role": "user", "content": [{"type": "text", "text": "And this?"},
                                     {"type": "image_url", "image_url": {"url": PNG}}]},
    ]  # fmt: skip
    sent = rewrite(request, Api.OPENAI_CHAT, Api.OPENAI_RESPONSES)
    assert sent.body["input"] == [
        {"type": "message", "role": "system", "content": "You are a helpful support agent."},
        {"type": "message", "role": "user", "content": "What's the weather in Paris?"},
        {"type": "message", "role": "assistant", "content": "Checking."},
        {"type": "function_call", "call_id": "call_1", "name": "get_weather", "arguments": '{"city":"Paris"}'},
        {"type": "function_call_output", "call_id": "call_1", "output": "18°C"},
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "And this?"},
                                                         {"type": "input_image", "image_url": PNG, "detail": "auto"}]},
    ]  # fmt: skip
    assert sent.body["tools"] == [{**FLAT_WEATHER_TOOL, "strict": False}]
    assert sent.body["tool_choice"] == {"type": "function", "name": "get_weather"}
    assert sent.body["text"] == {"format": {"type": "json_schema", "name": "w", "schema": ANSWER_SCHEMA,
                                            "strict": True}}  # fmt: skip
    assert (sent.body["max_output_tokens"], sent.body["top_p"], sent.body["temperature"]) == (500, 0.9, 0.2)
    assert sent.changes == ("stop", "seed", "presence_penalty")


def test_anthropic_conversation_to_responses() -> None:
    request = anthropic_request(top_k=5, stop_sequences=["END"], tools=[
        {"name": "get_weather", "description": "Current weather for a city",
         "input_schema": FLAT_WEATHER_TOOL["parameters"]}], tool_choice={"type": "any"})  # fmt: skip
    request["messages"] += [
        {"role": "assistant", "content": [{"type": "text", "text": "Looking."},
                                          {"type": "tool_use", "id": "toolu_01", "name": "get_weather",
                                           "input": {"city": "Paris"}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_01", "content": "18°C"}]},
    ]  # fmt: skip
    sent = rewrite(request, Api.ANTHROPIC_MESSAGES, Api.OPENAI_RESPONSES)
    assert sent.body["input"] == [
        {"type": "message", "role": "system", "content": "You answer from the provided documents."},
        {"type": "message", "role": "user", "content": "Hello"},
        {"type": "message", "role": "assistant", "content": "Looking."},
        {"type": "function_call", "call_id": "toolu_01", "name": "get_weather", "arguments": '{"city":"Paris"}'},
        {"type": "function_call_output", "call_id": "toolu_01", "output": "18°C"},
    ]
    assert sent.body["tool_choice"] == "required"
    assert sent.body["max_output_tokens"] == 1024
    assert sent.changes == ("top_k", "stop_sequences")


def test_chat_to_responses_and_back_keeps_the_conversation() -> None:
    request = openai_request("Weather in Paris?", tools=[WEATHER_TOOL], tool_choice="required", temperature=0.1,
                             max_completion_tokens=256)  # fmt: skip
    request["messages"] += [
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'}}
        ]},
        {"role": "tool", "tool_call_id": "call_1", "content": "18°C"},
    ]  # fmt: skip
    there = rewrite(request, Api.OPENAI_CHAT, Api.OPENAI_RESPONSES).body
    back = rewrite({**there, "model": request["model"]}, Api.OPENAI_RESPONSES, Api.OPENAI_CHAT).body
    assert back["messages"] == request["messages"]
    assert back["tools"] == [{"type": "function", "function": {**WEATHER_TOOL["function"], "strict": False}}]  # type: ignore[dict-item]
    assert (back["tool_choice"], back["temperature"], back["max_completion_tokens"]) == ("required", 0.1, 256)


# --- what cannot be translated, said clearly ------------------------------------------------------------------------


def _with_input(*items: dict[str, Any]) -> dict[str, Any]:
    return responses_request(input=[{"role": "user", "content": "Hi"}, *items])


@pytest.mark.parametrize(
    ("request_body", "target", "message"),
    [
        pytest.param(responses_request(tools=[{"type": "custom", "name": "run_sql", "description": "SQL"}]),
                     Api.OPENAI_CHAT, r"request.tools\[0\] \(custom\) has no openai.chat.completions counterpart",
                     id="custom-tool"),
        pytest.param(_with_input({"type": "web_search_call", "id": "ws_1", "status": "completed",
                                  "action": {"type": "search", "query": "weather"}}),
                     Api.OPENAI_CHAT, r"request.input\[1\] is a web_search_call item, which openai.chat.completions",
                     id="built-in-call-item"),
        pytest.param(_with_input({"type": "computer_call_output", "call_id": "c", "output": {}}),
                     Api.ANTHROPIC_MESSAGES, r"request.input\[1\] is a computer_call_output item, which "
                     "anthropic.messages cannot express", id="computer-output-item"),
        pytest.param(responses_request(input=[{"role": "user", "content": [
            {"type": "input_image", "file_id": "file-abc", "detail": "auto"}]}]), Api.OPENAI_CHAT,
                     r"request.input\[0\].content\[0\] is an image given by file_id", id="image-by-file-id"),
        pytest.param(responses_request(input=[{"role": "user", "content": [
            {"type": "input_file", "file_data": "data:application/pdf;base64,JVBERi0x", "filename": "a.pdf"}]}]),
                     Api.ANTHROPIC_MESSAGES, r"request.input\[0\].content\[0\] \(input_file in a user message\) has "
                     "no anthropic.messages counterpart", id="file-to-anthropic"),
        pytest.param(responses_request(input=[{"role": "user", "content": [
            {"type": "input_file", "file_url": "https://example.com/a.pdf"}]}]), Api.OPENAI_CHAT,
                     r"input_file in a user message\) has no openai.chat.completions counterpart", id="file-by-url"),
        pytest.param(responses_request(input=[{"role": "system", "content": [
            {"type": "input_image", "image_url": PNG, "detail": "auto"}]}]), Api.OPENAI_CHAT,
                     r"\(input_image in a system message\)", id="image-in-system"),
        pytest.param(_with_input({"type": "function_call_output", "call_id": "c1", "output": [
            {"type": "input_image", "image_url": PNG}]}), Api.OPENAI_CHAT,
                     r"request.input\[1\].output\[0\]: a tool result carries only text", id="image-tool-result"),
        pytest.param(responses_request(tools=[FLAT_WEATHER_TOOL], tool_choice={
            "type": "allowed_tools", "mode": "auto", "tools": [{"type": "function", "name": "get_weather"}]}),
                     Api.OPENAI_CHAT, "request.tool_choice 'allowed_tools' has no", id="allowed-tools-choice"),
        pytest.param(responses_request(text={"format": {"type": "grammar"}}), Api.OPENAI_CHAT,
                     "request.text.format 'grammar' has no", id="unknown-text-format"),
        pytest.param(openai_request(tools=[{"type": "custom", "custom": {"name": "sql"}}]), Api.OPENAI_RESPONSES,
                     r"request.tools\[0\] \(custom\) has no openai.responses counterpart", id="chat-custom-tool"),
        pytest.param({"model": "gpt-4o", "messages": [{"role": "user", "content": "Hi"},
                                                      {"role": "function", "name": "f", "content": "1"}]},
                     Api.OPENAI_RESPONSES, r"request.messages\[1\].role 'function' has no", id="legacy-function-role"),
        pytest.param({"model": "gpt-4o", "messages": [{"role": "user", "content": [
            {"type": "input_audio", "input_audio": {"data": "UklGR", "format": "wav"}}]}]}, Api.OPENAI_RESPONSES,
                     r"request.messages\[0\].content\[0\] \(input_audio\) has no openai.responses",
                     id="audio-part"),
        pytest.param(openai_request(tools=[WEATHER_TOOL], tool_choice={"type": "allowed_tools", "allowed_tools": {}}),
                     Api.OPENAI_RESPONSES, "request.tool_choice has no openai.responses counterpart",
                     id="chat-allowed-tools-choice"),
    ],
)  # fmt: skip
def test_what_cannot_be_expressed_is_a_clear_translation_error(
    request_body: dict[str, Any], target: Api, message: str
) -> None:
    source = Api.OPENAI_CHAT if "messages" in request_body else Api.OPENAI_RESPONSES
    with pytest.raises(TranslationError, match=message):
        rewrite_request(request_body, source=source, target=target, model="m", overrides={})


# --- remote URLs, endpoint, candidate API ----------------------------------------------------------------------------


def test_remote_urls_in_responses_input_are_kept_dropped_or_refused() -> None:
    request = responses_request(input=[
        {"role": "user", "content": [{"type": "input_text", "text": "What is this?"},
                                     {"type": "input_image", "image_url": "https://10.0.0.7/x.png", "detail": "auto"}]},
        {"role": "user", "content": [{"type": "input_file", "file_url": "https://intranet/doc.pdf"}]},
    ])  # fmt: skip
    kept = rewrite(request, Api.OPENAI_RESPONSES, Api.OPENAI_RESPONSES, remote_urls="keep")
    assert kept.body["input"] is request["input"]
    dropped = rewrite(request, Api.OPENAI_RESPONSES, Api.OPENAI_RESPONSES, remote_urls="drop")
    assert dropped.body["input"] == [
        {"role": "user", "content": [{"type": "input_text", "text": "What is this?"}]},
        {"role": "user", "content": [{"type": "input_text", "text": "[remote content removed]"}]},
    ]
    assert "remote_urls_dropped" in dropped.changes
    with pytest.raises(TranslationError, match=r"request.input\[0\].content\[1\] points at a remote URL") as info:
        rewrite(request, Api.OPENAI_RESPONSES, Api.OPENAI_RESPONSES, remote_urls="reject")
    assert "10.0.0.7" not in str(info.value)
    from_chat = openai_request()
    from_chat["messages"][1]["content"] = [{"type": "image_url", "image_url": {"url": "https://10.0.0.7/x.png"}}]
    with pytest.raises(TranslationError, match="remote URL"):
        rewrite(from_chat, Api.OPENAI_CHAT, Api.OPENAI_RESPONSES, remote_urls="reject")


@pytest.mark.parametrize(
    ("options", "api", "url"),
    [
        ({"provider": "openai"}, Api.OPENAI_CHAT, "https://api.openai.com/v1/chat/completions"),
        ({"provider": "openai", "api": "openai.chat.completions"}, Api.OPENAI_CHAT,
         "https://api.openai.com/v1/chat/completions"),
        ({"provider": "openai", "api": "openai.responses"}, Api.OPENAI_RESPONSES, "https://api.openai.com/v1/responses"),
        ({"provider": "anthropic"}, Api.ANTHROPIC_MESSAGES, "https://api.openai.com/v1/messages"),
    ],
)  # fmt: skip
def test_candidate_api_and_endpoint(options: dict[str, Any], api: Api, url: str) -> None:
    settings = candidate("c", "https://api.openai.com/v1", **options)
    assert candidate_api(settings) is api
    assert endpoint_url(settings) == url
