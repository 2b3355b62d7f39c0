"""Responses API candidates end to end over HTTP (issue 13): the local candidate server's /v1/responses, the
client's endpoint, auth and store: false, recordings shared by the three APIs, and the candidate ``api`` setting."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from openai.types.responses import Response
from pydantic import ValidationError

from shadow.config import CandidateSettings
from shadow.demo.server import Answer, RecordedToolCall, recording_key, render_responses, user_texts
from shadow.events.models import Api, MirrorEvent
from shadow.events.output import FinishReason
from shadow.replay.result import ErrorKind
from shadow.replay.translate import rewrite_request
from tests.factories import anthropic_request, make_event, openai_request
from tests.responses_factories import FLAT_WEATHER_TOOL, responses_request, responses_response
from tests.unit.replay.conftest import API_KEY


def responses_event(request: dict[str, Any] | None = None, **options: Any) -> MirrorEvent:
    return MirrorEvent.model_validate(
        make_event(api="openai.responses", request=request or responses_request("Where is my order?"),
                   response=responses_response("It ships tomorrow."), **options)
    )  # fmt: skip


def always(answer: Answer) -> Any:
    return lambda api, body: answer


# --- the local candidate server -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param(Answer.text_answer("Your refund was issued on Monday."), id="text"),
        pytest.param(Answer(text=None, tool_calls=(RecordedToolCall("get_weather", {"city": "北京"}),
                                                   RecordedToolCall("get_weather", arguments_raw='{"city": "Par')),
                            finish_reason="tool_calls", input_tokens=80, output_tokens=30), id="tool-calls"),
        pytest.param(Answer.text_answer("The answer is", finish_reason="length"), id="length"),
        pytest.param(Answer.text_answer("", finish_reason="content_filter"), id="content-filter"),
    ],
)  # fmt: skip
def test_rendered_responses_bodies_are_what_the_sdk_reads(answer: Answer) -> None:
    request = responses_request(tools=[FLAT_WEATHER_TOOL], max_output_tokens=64)
    body = render_responses(answer, request)
    sdk = Response.model_validate(body)
    assert sdk.output_text == (answer.text or "")
    assert [(c.name, c.arguments) for c in sdk.output if c.type == "function_call"] == [
        (call.name, call.arguments_text()) for call in answer.tool_calls
    ]
    assert sdk.usage is not None and (sdk.usage.input_tokens, sdk.usage.output_tokens) == (
        answer.input_tokens, answer.output_tokens
    )  # fmt: skip
    expected = {"length": ("incomplete", "max_output_tokens"), "content_filter": ("incomplete", "content_filter")}
    status, reason = expected.get(answer.finish_reason, ("completed", None))
    assert sdk.status == status
    assert (sdk.incomplete_details.reason if sdk.incomplete_details else None) == reason


def test_recordings_answer_the_same_conversation_in_all_three_apis() -> None:
    chat = openai_request("Where is my order A-1024?")
    chat["messages"].append({"role": "assistant", "content": "Checking."})
    chat["messages"].append({"role": "user", "content": [{"type": "text", "text": "我的订单呢?"}]})
    keys = {recording_key(Api.OPENAI_CHAT, chat)}
    for target in (Api.OPENAI_RESPONSES, Api.ANTHROPIC_MESSAGES):
        body = rewrite_request(chat, source=Api.OPENAI_CHAT, target=target, model="m", overrides={}).body
        keys.add(recording_key(target, body))
    assert len(keys) == 1
    assert user_texts(Api.OPENAI_RESPONSES, {"input": "Just a string"}) == ["Just a string"]
    anthropic = anthropic_request("Hello")
    responses = rewrite_request(anthropic, source=Api.ANTHROPIC_MESSAGES, target=Api.OPENAI_RESPONSES, model="m",
                                overrides={}).body  # fmt: skip
    assert recording_key(Api.OPENAI_RESPONSES, responses) == recording_key(Api.ANTHROPIC_MESSAGES, anthropic)


async def test_errors_from_the_responses_route_are_openai_shaped(server_factory, client_factory) -> None:
    _, base_url = await server_factory(always(Answer.failing("bad_request")))
    client = client_factory(base_url, api="openai.responses")
    result = await client.replay(responses_event())
    assert (result.error_kind, result.http_status) == (ErrorKind.HTTP_4XX, 400)
    assert result.error_message is not None
    assert orjson.loads(result.error_message.removeprefix("HTTP 400: "))["error"]["type"] == "invalid_request_error"


# --- the client ---------------------------------------------------------------------------------------------------


async def test_a_responses_candidate_is_called_at_responses_with_store_false(server_factory, client_factory) -> None:
    server, base_url = await server_factory(always(Answer.text_answer("It ships tomorrow, 明天发货.")))
    client = client_factory(base_url, api="openai.responses", model="gpt-5-mini")
    result = await client.replay(responses_event(responses_request("Where is my order?", store=True,
                                                                   metadata={"user": "u1"})))  # fmt: skip
    [received] = server.received
    assert (received.api, received.path) == (Api.OPENAI_RESPONSES, "/v1/responses")
    assert received.headers["authorization"] == f"Bearer {API_KEY}"
    assert received.body["store"] is False and "metadata" not in received.body
    assert received.body["model"] == "gpt-5-mini" and received.body["max_output_tokens"] == 4096
    assert result.output is not None and result.output.text == "It ships tomorrow, 明天发货."
    assert result.output.finish_reason is FinishReason.STOP
    assert result.request_changes == ("store", "metadata", "max_output_tokens:added")


async def test_a_streaming_responses_candidate_gives_the_unstreamed_answer(server_factory, client_factory) -> None:
    answer = Answer(text="Ships tomorrow, 明天发货.", tool_calls=(RecordedToolCall("track", {"order": "A-1"}),),
                    finish_reason="tool_calls", input_tokens=40, output_tokens=20)  # fmt: skip
    server, base_url = await server_factory(always(answer))
    streamed = await client_factory(base_url, name="s", api="openai.responses", stream=True).replay(responses_event())
    whole = await client_factory(base_url, name="w", api="openai.responses").replay(responses_event())
    assert [r.body.get("stream") for r in server.received] == [True, None]
    assert streamed.output is not None and whole.output is not None
    assert (streamed.output.text, streamed.output.finish_reason, streamed.output.usage) == (
        whole.output.text, whole.output.finish_reason, whole.output.usage
    )  # fmt: skip
    assert [(c.name, c.arguments) for c in streamed.output.tool_calls] == [("track", '{"order":"A-1"}')]


@pytest.mark.parametrize("source", ["openai.chat.completions", "anthropic.messages"])
async def test_chat_and_anthropic_events_are_translated_for_a_responses_candidate(
    server_factory, client_factory, source: str
) -> None:
    answer = Answer(text=None, tool_calls=(RecordedToolCall("get_weather", {"city": "Oslo"}),),
                    finish_reason="tool_calls", input_tokens=60, output_tokens=12)  # fmt: skip
    server, base_url = await server_factory(always(answer))
    client = client_factory(base_url, api="openai.responses")
    result = await client.replay(MirrorEvent.model_validate(make_event(api=source, text="Weather in Oslo?")))
    [received] = server.received
    assert received.path == "/v1/responses"
    assert received.body["input"][-1] == {"type": "message", "role": "user", "content": "Weather in Oslo?"}
    assert result.output is not None
    assert [(c.name, c.arguments) for c in result.output.tool_calls] == [("get_weather", '{"city":"Oslo"}')]
    assert result.output.finish_reason is FinishReason.TOOL_CALLS


@pytest.mark.parametrize("api", ["openai.chat.completions", "anthropic.messages"])
async def test_responses_events_reach_chat_and_anthropic_candidates(server_factory, client_factory, api) -> None:
    server, base_url = await server_factory(always(Answer.text_answer("Bonjour")))
    provider = "anthropic" if api == "anthropic.messages" else "openai"
    client = client_factory(base_url, provider=provider)
    result = await client.replay(responses_event(responses_request("Say hello in French")))
    [received] = server.received
    assert received.api.value == api
    assert result.output is not None and result.output.text == "Bonjour"


async def test_stored_state_is_a_translation_error_row_and_nothing_is_sent(server_factory, client_factory) -> None:
    server, base_url = await server_factory(always(Answer.text_answer("ok")))
    client = client_factory(base_url, api="openai.responses")
    result = await client.replay(responses_event(responses_request(previous_response_id="resp_68af4030592c")))
    assert result.error_kind is ErrorKind.TRANSLATION_ERROR and result.attempts == 0
    assert result.error_message is not None and "request.previous_response_id" in result.error_message
    assert server.received == []


# --- the candidate's api setting ------------------------------------------------------------------------------------


def settings(**options: Any) -> CandidateSettings:
    return CandidateSettings.model_validate(
        {"name": "c", "provider": "openai", "base_url": "https://api.openai.com/v1", "model": "m", **options}
    )


def test_api_defaults_from_the_provider_and_must_be_one_it_speaks() -> None:
    assert settings().wire_api is Api.OPENAI_CHAT
    assert settings(provider="anthropic").wire_api is Api.ANTHROPIC_MESSAGES
    assert settings(api="openai.responses").wire_api is Api.OPENAI_RESPONSES
    with pytest.raises(ValidationError, match=r"api anthropic\.messages is not spoken by provider openai"):
        settings(api="anthropic.messages")
    with pytest.raises(ValidationError, match=r"is not spoken by provider anthropic \(it speaks anthropic\.messages\)"):
        settings(provider="anthropic", api="openai.responses")
    with pytest.raises(ValidationError, match="api"):
        settings(api="openai.realtime")


@pytest.mark.parametrize(
    ("options", "named"),
    [
        ({"allow_params": ["store"]}, "store"),
        ({"allow_params": ["previous_response_id"]}, "previous_response_id"),
        ({"allow_params": ["prompt", "conversation"]}, "conversation, prompt"),
        ({"overrides": {"store": True}}, "overrides.store"),
        ({"overrides": {"conversation": "conv_1"}}, "overrides.conversation"),
    ],
)
def test_a_responses_candidate_refuses_storing_and_stored_state(options: dict[str, Any], named: str) -> None:
    with pytest.raises(ValidationError, match=f"{named} cannot be allowed or set for an openai.responses candidate"):
        settings(api="openai.responses", **options)
    settings(**options)  # a chat candidate's store is its own business


def test_background_and_oversized_limits_are_refused_for_every_candidate() -> None:
    with pytest.raises(ValidationError, match="background cannot be allowed or overridden"):
        settings(api="openai.responses", overrides={"background": True})
    with pytest.raises(ValidationError, match=r"overrides.max_output_tokens \(9000\) is above max_output_tokens"):
        settings(api="openai.responses", overrides={"max_output_tokens": 9000})
    assert settings(api="openai.responses", overrides={"store": False, "max_output_tokens": 200}).overrides
