"""The replay client against a real HTTP server on 127.0.0.1: bodies, headers, retries, timeouts, limits, secrets."""

from __future__ import annotations

import asyncio
import itertools
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

import orjson
import pytest
from aiohttp import web

from shadow.config import CandidateSettings
from shadow.demo.server import Answer, RecordedToolCall
from shadow.events.models import Api, MirrorEvent
from shadow.events.output import FinishReason
from shadow.loopwatch import LoopWatch
from shadow.replay.client import parse_retry_after
from shadow.replay.fanout import Replayer
from shadow.replay.result import ErrorKind
from shadow.replay.translate import endpoint_url
from tests.factories import make_event, openai_request

API_KEY = "sk-test-9f8e7d6c5b4a39281706f5e4d3c2b1a0"

Responder = Callable[[Api, dict[str, Any]], "Answer | Awaitable[Answer | None] | None"]


def mirror_event(**options: Any) -> MirrorEvent:
    return MirrorEvent.model_validate(make_event(**options))


def always(answer: Answer) -> Responder:
    return lambda api, body: answer


def scripted(*answers: Answer, times: list[float] | None = None) -> Responder:
    """Answers in order (the last one repeats), recording when each request arrived."""
    queue = list(answers)

    def respond(api: Api, body: dict[str, Any]) -> Answer:
        if times is not None:
            times.append(time.monotonic())
        return queue.pop(0) if len(queue) > 1 else queue[0]

    return respond


def unused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- ok replays ------------------------------------------------------------------------------------------------------


async def test_ok_replay_returns_output_and_latency(server_factory, client_factory) -> None:
    answer = Answer.text_answer("您的订单已发货 — it ships today.", latency_ms=60)
    server, base_url = await server_factory(always(answer))
    client = client_factory(base_url, model="gpt-4.1-mini")
    result = await client.replay(mirror_event())
    assert result.ok and result.error_kind is None
    assert result.output is not None
    assert result.output.text == "您的订单已发货 — it ships today."
    assert result.output.finish_reason is FinishReason.STOP
    assert result.output.model == "gpt-4.1-mini"
    assert result.http_status == 200 and result.attempts == 1
    assert 60 <= result.latency_ms < 1000
    assert result.candidate == "cand" and result.model == "gpt-4.1-mini"
    assert result.started_at is not None and result.started_at.tzinfo is not None
    assert len(server.received) == 1


async def test_tool_call_answer_is_parsed(server_factory, client_factory) -> None:
    answer = Answer(tool_calls=(RecordedToolCall("get_weather", {"city": "北京"}),), finish_reason="tool_calls")
    _, base_url = await server_factory(always(answer))
    for provider in ("openai", "anthropic"):
        result = await client_factory(base_url, name=provider, provider=provider).replay(mirror_event())
        assert result.output is not None, result.error_message
        assert [(c.name, c.arguments) for c in result.output.tool_calls] == [("get_weather", '{"city":"北京"}')]
        assert result.output.finish_reason is FinishReason.TOOL_CALLS


async def test_request_body_has_candidate_model_and_overrides(server_factory, client_factory) -> None:
    server, base_url = await server_factory(always(Answer.text_answer("ok")))
    client = client_factory(
        base_url, model="gpt-4.1", overrides={"temperature": 0.0, "seed": 7, "top_p": None, "metadata": {"ab": "b"}}
    )
    request = openai_request("Hi 你好", top_p=0.5, stream=True, stream_options={"include_usage": True})
    await client.replay(mirror_event(request=request))
    [received] = server.received
    assert received.path == "/v1/chat/completions"
    assert received.body["model"] == "gpt-4.1"
    assert received.body["temperature"] == 0.0 and received.body["seed"] == 7
    assert received.body["metadata"] == {"ab": "b"}
    for dropped in ("top_p", "stream", "stream_options"):
        assert dropped not in received.body
    assert received.body["messages"] == request["messages"]


async def test_control_candidate_replays_the_production_model(server_factory, client_factory) -> None:
    server, base_url = await server_factory(always(Answer.text_answer("ok")))
    client = client_factory(base_url, model=None, role="control")
    result = await client.replay(mirror_event())
    assert server.received[0].body["model"] == "gpt-4o-2024-08-06"
    assert result.model == "gpt-4o-2024-08-06"


async def test_openai_event_translated_for_anthropic_candidate(server_factory, client_factory) -> None:
    server, base_url = await server_factory(always(Answer.text_answer("Bonjour")))
    client = client_factory(base_url, provider="anthropic", model="claude-sonnet-4-5", default_max_tokens=777)
    result = await client.replay(mirror_event(text="Say hello in French"))
    assert result.output is not None and result.output.text == "Bonjour"
    [received] = server.received
    assert received.api is Api.ANTHROPIC_MESSAGES and received.path == "/v1/messages"
    assert received.body["system"] == "You are a helpful support agent."
    assert received.body["messages"] == [{"role": "user", "content": [{"type": "text", "text": "Say hello in French"}]}]
    assert received.body["max_tokens"] == 777


@pytest.mark.parametrize(
    ("provider", "present", "absent"),
    [
        ("openai", {"authorization": f"Bearer {API_KEY}"}, ["x-api-key", "anthropic-version"]),
        ("anthropic", {"x-api-key": API_KEY, "anthropic-version": "2023-06-01"}, ["authorization"]),
    ],
)
async def test_auth_headers(server_factory, client_factory, provider, present, absent) -> None:
    server, base_url = await server_factory(always(Answer.text_answer("ok")))
    client = client_factory(base_url, provider=provider, headers={"OpenAI-Organization": "org-shadow"})
    result = await client.replay(mirror_event())
    assert result.ok, result.error_message
    headers = server.received[0].headers
    for name, value in present.items():
        assert headers[name] == value
    for name in absent:
        assert name not in headers
    assert headers["content-type"] == "application/json"
    assert headers["user-agent"].startswith("shadow/")
    assert headers["openai-organization"] == "org-shadow"


async def test_no_key_sends_no_auth_header(server_factory, client_factory) -> None:
    server, base_url = await server_factory(always(Answer.text_answer("ok")))
    await client_factory(base_url, api_key=None).replay(mirror_event())
    assert "authorization" not in server.received[0].headers


async def test_anthropic_version_is_configurable(server_factory, client_factory) -> None:
    server, base_url = await server_factory(always(Answer.text_answer("ok")))
    client = client_factory(base_url, provider="anthropic", anthropic_version="2024-10-22")
    await client.replay(mirror_event())
    assert server.received[0].headers["anthropic-version"] == "2024-10-22"


# --- how late the worker's loop was during a call -------------------------------------------------------------------

BLOCK_S = 0.35


async def test_a_call_reports_how_late_the_loop_was_while_it_was_on_the_wire(server_factory, client_factory) -> None:
    """The server shares the client's loop: its blocking answer holds the loop while the call waits for it."""
    blocking = {"on": False}

    def respond(api: Api, body: dict[str, Any]) -> Answer:
        if blocking["on"]:
            time.sleep(BLOCK_S)  # the worker's loop held while a call is in flight
        return Answer.text_answer("ok")

    _, base_url = await server_factory(respond)
    client = client_factory(base_url)
    assert (await client.replay(mirror_event())).loop_lag_ms is None  # no watch runs: no figure

    watch = LoopWatch()
    watch.start()
    try:
        await until(lambda: watch.ticks >= 2)
        free = await client.replay(mirror_event())
        blocking["on"] = True
        held = await client.replay(mirror_event())
        blocking["on"] = False
        request = {"model": "gpt-4o", "messages": [{"role": "narrator", "content": "Once upon a time"}]}
        not_sent = await client_factory(base_url, provider="anthropic").replay(mirror_event(request=request))
    finally:
        await watch.stop()

    floor_ms = (BLOCK_S - watch.interval_s) * 1000  # a block shows as at least itself minus one tick interval
    assert free.ok and free.loop_lag_ms is not None and free.loop_lag_ms < floor_ms
    assert held.ok and held.latency_ms >= BLOCK_S * 1000
    assert held.loop_lag_ms is not None and floor_ms <= held.loop_lag_ms <= held.latency_ms
    assert not_sent.error_kind is ErrorKind.TRANSLATION_ERROR and not_sent.loop_lag_ms is None


async def until(condition: Callable[[], bool], timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


# --- secrets never in results ---------------------------------------------------------------------------------------


@pytest.fixture
async def echo_server() -> AsyncIterator[str]:
    """A provider that echoes the caller's API key back in its answers, as some gateways do.

    The first path segment picks the answer: ``/400/v1`` … ``/500/v1``, ``/200/v1`` (an error body with status 200),
    ``/text/v1`` (plain text with the key right at the 300-character cut).
    """

    async def handle(request: web.Request) -> web.Response:
        key = request.headers.get("x-api-key") or request.headers.get("authorization", "").removeprefix("Bearer ")
        mode = request.match_info["mode"]
        message = f"Incorrect API key provided: {key}. 密钥 {key} 无效。"
        if request.path.endswith("/messages"):
            body = orjson.dumps({"type": "error", "error": {"type": "authentication_error", "message": message}})
        else:
            body = orjson.dumps(
                {"error": {"message": message, "type": "invalid_request_error", "code": "invalid_api_key"}}
            )
        if mode == "text":
            return web.Response(status=401, text="x" * 280 + key + " is not a valid key")
        if mode == "429":
            return web.Response(status=429, body=body, headers={"retry-after": "0"}, content_type="application/json")
        return web.Response(status=int(mode), body=body, content_type="application/json")

    app = web.Application()
    app.router.add_post("/{mode}/v1/chat/completions", handle)
    app.router.add_post("/{mode}/v1/messages", handle)
    runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


@pytest.mark.parametrize(
    ("mode", "kind"),
    [
        ("400", ErrorKind.HTTP_4XX),
        ("401", ErrorKind.HTTP_4XX),
        ("429", ErrorKind.RATE_LIMITED),
        ("500", ErrorKind.HTTP_5XX),
        ("200", ErrorKind.INVALID_RESPONSE),
        ("text", ErrorKind.HTTP_4XX),
    ],
)
@pytest.mark.parametrize("provider", ["openai", "anthropic"])
async def test_api_key_never_in_error_message(echo_server, client_factory, mode, kind, provider) -> None:
    client = client_factory(f"{echo_server}/{mode}/v1", provider=provider, max_retries=1, retry_backoff_s=0.0)
    result = await client.replay(mirror_event())
    assert result.error_kind is kind
    assert result.error_message  # there is a message, with the key cut out of it
    for start in range(len(API_KEY) - 8):
        assert API_KEY[start : start + 8] not in result.error_message, result.error_message
    assert API_KEY not in repr(result)
    if mode != "text":
        assert "[SECRET]" in result.error_message


# --- failures as values ---------------------------------------------------------------------------------------------


async def test_timeout_returns_within_timeout_s(server_factory, client_factory) -> None:
    _, base_url = await server_factory(always(Answer.failing("timeout")), timeout_s=1.0)
    client = client_factory(base_url, timeout_s=0.3, max_retries=0)
    started = time.monotonic()
    result = await client.replay(mirror_event())
    elapsed = time.monotonic() - started
    assert result.error_kind is ErrorKind.TIMEOUT
    assert result.output is None and not result.ok
    assert result.http_status == 0 and result.attempts == 1
    assert 0.25 <= elapsed < 0.9
    assert 250 <= result.latency_ms < 900


async def test_slow_answer_within_timeout_is_ok(server_factory, client_factory) -> None:
    _, base_url = await server_factory(always(Answer.text_answer("slow but fine", latency_ms=150)))
    result = await client_factory(base_url, timeout_s=1.0).replay(mirror_event())
    assert result.ok and result.latency_ms >= 150


async def test_connection_refused_is_connect_error(client_factory) -> None:
    client = client_factory(f"http://127.0.0.1:{unused_port()}/v1", max_retries=0)
    started = time.monotonic()
    result = await client.replay(mirror_event())
    assert result.error_kind is ErrorKind.CONNECT_ERROR, result.error_message
    assert result.http_status == 0 and result.attempts == 1
    assert time.monotonic() - started < 1.0


async def test_connection_refused_is_retried(client_factory) -> None:
    client = client_factory(f"http://127.0.0.1:{unused_port()}/v1", max_retries=2, retry_backoff_s=0.01)
    result = await client.replay(mirror_event())
    assert result.error_kind is ErrorKind.CONNECT_ERROR
    assert result.attempts == 3


@pytest.mark.parametrize(("max_backoff_s", "expected_wait_s"), [(5.0, 1.0), (0.3, 0.3)])
async def test_retry_after_is_honoured_and_capped(
    server_factory, client_factory, max_backoff_s, expected_wait_s
) -> None:
    times: list[float] = []
    # The demo server's rate_limit fault answers 429 with "retry-after: 1".
    _, base_url = await server_factory(scripted(Answer.failing("rate_limit"), Answer.text_answer("ok"), times=times))
    client = client_factory(base_url, max_retries=3, retry_backoff_s=0.01, max_backoff_s=max_backoff_s)
    result = await client.replay(mirror_event())
    assert result.ok and result.attempts == 2
    waited = times[1] - times[0]
    assert expected_wait_s - 0.05 <= waited <= expected_wait_s + 0.4


async def test_rate_limited_until_retries_run_out(server_factory, client_factory) -> None:
    times: list[float] = []
    server, base_url = await server_factory(scripted(Answer.failing("rate_limit"), times=times))
    client = client_factory(base_url, max_retries=2, retry_backoff_s=0.0, max_backoff_s=0.2)
    result = await client.replay(mirror_event())
    assert result.error_kind is ErrorKind.RATE_LIMITED
    assert result.http_status == 429
    assert result.attempts == 3 and len(server.received) == 3
    assert "Rate limit reached" in result.error_message
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert all(0.15 <= gap <= 0.6 for gap in gaps), gaps


async def test_server_error_is_retried(server_factory, client_factory) -> None:
    server, base_url = await server_factory(scripted(Answer.failing("server_error"), Answer.text_answer("recovered")))
    client = client_factory(base_url, max_retries=2, retry_backoff_s=0.01)
    result = await client.replay(mirror_event())
    assert result.output is not None and result.output.text == "recovered"
    assert result.attempts == 2 and len(server.received) == 2


async def test_server_error_until_retries_run_out(server_factory, client_factory) -> None:
    server, base_url = await server_factory(always(Answer.failing("server_error")))
    client = client_factory(base_url, max_retries=1, retry_backoff_s=0.01)
    result = await client.replay(mirror_event())
    assert result.error_kind is ErrorKind.HTTP_5XX and result.http_status == 500
    assert result.attempts == 2 and len(server.received) == 2


@pytest.mark.parametrize(
    ("fault", "kind", "status", "needle"),
    [
        ("bad_request", ErrorKind.HTTP_4XX, 400, "Unsupported parameter"),
        ("invalid_body", ErrorKind.INVALID_RESPONSE, 200, "not JSON"),
    ],
)
async def test_non_retriable_failures_are_not_retried(server_factory, client_factory, fault, kind, status, needle):
    server, base_url = await server_factory(always(Answer.failing(fault)))
    client = client_factory(base_url, max_retries=3, retry_backoff_s=0.01)
    result = await client.replay(mirror_event())
    assert result.error_kind is kind
    assert result.http_status == status
    assert needle in result.error_message
    assert result.attempts == 1 and len(server.received) == 1


async def test_disconnect_is_a_transport_failure(server_factory, client_factory) -> None:
    server, base_url = await server_factory(always(Answer.failing("disconnect")))
    client = client_factory(base_url, max_retries=1, retry_backoff_s=0.01)
    result = await client.replay(mirror_event())
    assert result.error_kind in (ErrorKind.TRANSPORT_ERROR, ErrorKind.CONNECT_ERROR), result.error_message
    assert result.attempts == 2 and len(server.received) == 2


async def test_missing_recording_is_http_4xx(server_factory, client_factory) -> None:
    _, base_url = await server_factory(lambda api, body: None)
    result = await client_factory(base_url, max_retries=2).replay(mirror_event())
    assert result.error_kind is ErrorKind.HTTP_4XX and result.http_status == 404
    assert result.attempts == 1


async def test_translation_error_sends_nothing(server_factory, client_factory) -> None:
    server, base_url = await server_factory(always(Answer.text_answer("ok")))
    client = client_factory(base_url, provider="anthropic")
    request = {"model": "gpt-4o", "messages": [{"role": "narrator", "content": "Once upon a time"}]}
    result = await client.replay(mirror_event(request=request))
    assert result.error_kind is ErrorKind.TRANSLATION_ERROR
    assert "narrator" in result.error_message
    assert server.received == []


# --- limits ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("max_concurrency", [1, 3])
async def test_max_concurrency_is_respected(server_factory, client_factory, max_concurrency) -> None:
    in_flight = 0
    peak = 0

    async def respond(api: Api, body: dict[str, Any]) -> Answer:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        try:
            await asyncio.sleep(0.05)
        finally:
            in_flight -= 1
        return Answer.text_answer("ok")

    _, base_url = await server_factory(respond)
    client = client_factory(base_url, max_concurrency=max_concurrency)
    results = await asyncio.gather(*(client.replay(mirror_event()) for _ in range(9)))
    assert all(r.ok for r in results)
    assert peak == max_concurrency


async def test_rate_limit_rps_spaces_requests(server_factory, client_factory) -> None:
    times: list[float] = []
    _, base_url = await server_factory(scripted(Answer.text_answer("ok"), times=times))
    client = client_factory(base_url, rate_limit_rps=20)
    await asyncio.gather(*(client.replay(mirror_event()) for _ in range(5)))
    assert times[-1] - times[0] >= 4 / 20 - 0.02


# --- Replayer -------------------------------------------------------------------------------------------------------


async def test_replayer_targets_honour_filters(client_factory) -> None:
    base = "http://127.0.0.1:9/v1"
    clients = [
        client_factory(base, name="all"),
        client_factory(base, name="support-only", workflows=["support_chat"]),
        client_factory(base, name="refunds-only", workflows=["refund_flow"]),
        client_factory(base, name="anthropic-only", apis=["anthropic.messages"]),
        client_factory(base, name="disabled", enabled=False),
        client_factory(
            base, name="support-openai", workflows=["support_chat", "退款"], apis=["openai.chat.completions"]
        ),
    ]
    replayer = Replayer(clients)

    def names(event: MirrorEvent) -> list[str]:
        return [c.settings.name for c in replayer.targets(event)]

    assert names(mirror_event(workflow="support_chat")) == ["all", "support-only", "support-openai"]
    assert names(mirror_event(workflow="refund_flow")) == ["all", "refunds-only"]
    assert names(mirror_event(workflow="退款")) == ["all", "support-openai"]
    assert names(mirror_event(workflow="support_chat", api="anthropic.messages")) == [
        "all",
        "support-only",
        "anthropic-only",
    ]


async def test_replayer_returns_one_result_per_target_in_order(server_factory, client_factory) -> None:
    _, base_url = await server_factory(always(Answer.text_answer("ok", latency_ms=50)))
    good = client_factory(base_url, name="good")
    down = client_factory(f"http://127.0.0.1:{unused_port()}/v1", name="down")
    slow = client_factory(base_url, name="slow", timeout_s=0.01)
    results = await Replayer([down, good, slow]).replay(mirror_event())
    assert [r.candidate for r in results] == ["down", "good", "slow"]
    assert [r.error_kind for r in results] == [ErrorKind.CONNECT_ERROR, None, ErrorKind.TIMEOUT]


# --- pure helpers ---------------------------------------------------------------------------------------------------

NOW = datetime(2026, 11, 23, 10, 0, 0, tzinfo=UTC).timestamp()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("120", 120.0),
        ("0", 0.0),
        (" 7 ", 7.0),
        ("1.5", 1.5),
        ("-3", 0.0),
        (format_datetime(datetime(2026, 11, 23, 10, 0, 30, tzinfo=UTC), usegmt=True), 30.0),
        ("Mon, 23 Nov 2026 10:02:00 GMT", 120.0),
        ("Mon, 23 Nov 2026 09:00:00 GMT", 0.0),
        ("", None),
        (None, None),
        ("soon", None),
        ("明天", None),
    ],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value, now=NOW) == expected


@pytest.mark.parametrize(
    ("provider", "base_url", "url"),
    [
        ("openai", "https://api.openai.com/v1", "https://api.openai.com/v1/chat/completions"),
        ("openai", "https://api.openai.com/v1/", "https://api.openai.com/v1/chat/completions"),
        ("openai", "http://127.0.0.1:8000", "http://127.0.0.1:8000/chat/completions"),
        ("openai", "https://gateway.example.com/openai/v1", "https://gateway.example.com/openai/v1/chat/completions"),
        ("anthropic", "https://api.anthropic.com", "https://api.anthropic.com/v1/messages"),
        ("anthropic", "https://api.anthropic.com/", "https://api.anthropic.com/v1/messages"),
        ("anthropic", "https://api.anthropic.com/v1", "https://api.anthropic.com/v1/messages"),
        ("anthropic", "http://127.0.0.1:8080/v1/", "http://127.0.0.1:8080/v1/messages"),
    ],
)
def test_endpoint_url(provider: str, base_url: str, url: str) -> None:
    settings = CandidateSettings(name="c", provider=provider, base_url=base_url, model="m")  # type: ignore[arg-type]
    assert endpoint_url(settings) == url
