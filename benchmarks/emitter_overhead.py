"""Latency shadow.emit adds to a production LLM call, against the same call without it, in the same run.

Each variant makes the same call through two clients built alike, one with the emitter's hooks and one
without, interleaved (plain, mirrored, mirrored, plain, …) so both see the same machine. Two tables: paced
(between pairs, untimed, the publisher finishes its event: the request path's own cost, each pair
starting after a pause as a service's calls do; the goal's figures) and back to back (no pause: the
publisher's work overlaps the calls and competes with them for the GIL, as in a busy service). The answer
comes from an in-process httpx transport (no network: what is left is the client's own work, so the
emitter's share is measurable): a chat completion of about 1 KB, or the same answer streamed in about
60 server-sent events, for a request of about 3 KB (system prompt, history, a tool). Mirrored calls run
inside ``shadow.emit.context(...)`` with a subject, as a service's would, and are all sampled.

The emitter runs as in production — its publisher thread builds every event (stream assembly, the
workers' redaction rules, validation, serialization) and hands it to a producer — except that the
producer is in memory unless ``--bootstrap`` names a broker. The publisher's CPU per event, spent off
the request path but in the service's process (a busy service pays it in throughput, and concurrent calls
may wait for the GIL meanwhile), is measured apart: first seen (every text redacted) and repeated (the
texts already in its cache, as a conversation's prompt and history are).

    python benchmarks/emitter_overhead.py [--calls 1000] [--quick] [--bootstrap HOST:PORT] [--goals-json FILE]

Prints a table; asserts nothing. Goal: the median added latency per call under 100 µs.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anthropic
import httpx
import openai
import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.goals import GoalRow, add_goals_argument, bound_row, write_goals  # noqa: E402
from shadow.demo.server import Answer, RecordedToolCall, render_anthropic, render_openai  # noqa: E402
from shadow.demo.sse import stream_events  # noqa: E402
from shadow.emit import Emitter, context, httpx_hooks, instrument  # noqa: E402
from shadow.emit.build import EventBuilder  # noqa: E402
from shadow.emit.capture import Exchange  # noqa: E402
from shadow.emit.memory import MemoryProducer  # noqa: E402
from shadow.events.models import Api  # noqa: E402

GOAL_US = 100.0
SYSTEM = (
    "You are the support assistant of an online shop. Answer briefly and politely, in the customer's language. "
    "Use lookup_order for any question about an order; never invent order details. " * 6
)
HISTORY = [
    {"role": "user", "content": "Hi, I ordered a blue kettle last week, order 1042, and it has not arrived."},
    {"role": "assistant", "content": "Sorry to hear that! Let me check order 1042 for you."},
    {"role": "user", "content": "Thanks. Also, can you send the invoice to jane.doe@example.com?"},
] * 3
TOOL = {
    "type": "function",
    "function": {
        "name": "lookup_order",
        "description": "Status, carrier and expected delivery of an order",
        "parameters": {"type": "object", "properties": {"order_id": {"type": "string"}}, "required": ["order_id"]},
    },
}
CHAT = {"model": "gpt-4.1-mini", "messages": [{"role": "system", "content": SYSTEM}, *HISTORY], "tools": [TOOL]}
MESSAGES = {"model": "claude-haiku-4-5", "max_tokens": 400, "system": SYSTEM, "messages": HISTORY}
ANSWER = Answer(
    text="Your order 1042 shipped yesterday with DHL and should arrive within two days. " * 5,
    tool_calls=(RecordedToolCall("lookup_order", {"order_id": "1042"}),),
    finish_reason="tool_calls",
    input_tokens=900,
    output_tokens=120,
)
URL = "http://provider.test/v1/chat/completions"


def _bodies(api: Api) -> tuple[bytes, list[bytes]]:
    rendered = (render_openai if api is Api.OPENAI_CHAT else render_anthropic)(ANSWER, CHAT)
    return orjson.dumps(rendered), list(stream_events(api, rendered))


def handler(module: Any, api: Api, *, is_async: bool = False) -> Callable[[Any], Any]:
    whole, events = _bodies(api)

    def respond(request: Any) -> Any:
        streamed = b'"stream":true' in request.content.replace(b" ", b"")
        pieces = events if streamed else [whole]
        kind = "text/event-stream" if streamed else "application/json"
        if is_async:

            async def each() -> Any:
                for piece in pieces:
                    yield piece

            return module.Response(200, headers={"content-type": kind}, content=each())
        return module.Response(200, headers={"content-type": kind}, content=iter(pieces))

    if not is_async:
        return respond

    async def respond_async(request: Any) -> Any:
        return respond(request)

    return respond_async


def sdk_httpx(client_class: type) -> Any:
    client = client_class(api_key="k", base_url="http://provider.test")
    roots = (kind.__module__.split(".", 1)[0] for kind in type(client._client).__mro__)
    return sys.modules[next(root for root in roots if root.startswith("httpx"))]


# --- variants: (plain call, mirrored call); each returns when the caller has the whole answer -----------


def raw_variant(emitter: Emitter, streamed: bool) -> tuple[Callable[[], None], Callable[[], None]]:
    body = {**CHAT, "stream": True} if streamed else CHAT
    plain = httpx.Client(transport=httpx.MockTransport(handler(httpx, Api.OPENAI_CHAT)))
    mirrored = httpx.Client(
        transport=httpx.MockTransport(handler(httpx, Api.OPENAI_CHAT)), event_hooks=httpx_hooks(emitter)
    )

    def call(client: httpx.Client) -> None:
        with client.stream("POST", URL, json=body) as response:
            for _ in response.iter_raw():
                pass

    return (lambda: call(plain)), _labelled(lambda: call(mirrored))


def openai_variant(emitter: Emitter, streamed: bool) -> tuple[Callable[[], None], Callable[[], None]]:
    module = sdk_httpx(openai.OpenAI)

    def client() -> openai.OpenAI:
        http = module.Client(transport=module.MockTransport(handler(module, Api.OPENAI_CHAT)))
        return openai.OpenAI(api_key="k", base_url="http://provider.test/v1", http_client=http, max_retries=0)

    plain, mirrored = client(), instrument(client(), emitter)

    def call(c: openai.OpenAI) -> None:
        if streamed:
            for _ in c.chat.completions.create(**CHAT, stream=True):  # type: ignore[call-overload]
                pass
        else:
            c.chat.completions.create(**CHAT)  # type: ignore[call-overload]

    return (lambda: call(plain)), _labelled(lambda: call(mirrored))


def anthropic_async_variant(emitter: Emitter, streamed: bool) -> tuple[Callable[[], None], Callable[[], None]]:
    module = sdk_httpx(anthropic.AsyncAnthropic)
    loop = asyncio.new_event_loop()

    def client() -> anthropic.AsyncAnthropic:
        transport = module.MockTransport(handler(module, Api.ANTHROPIC_MESSAGES, is_async=True))
        http = module.AsyncClient(transport=transport)
        return anthropic.AsyncAnthropic(api_key="k", base_url="http://provider.test", http_client=http, max_retries=0)

    plain, mirrored = client(), instrument(client(), emitter)

    async def call(c: anthropic.AsyncAnthropic) -> None:
        if streamed:
            async for _ in await c.messages.create(**MESSAGES, stream=True):  # type: ignore[call-overload]
                pass
        else:
            await c.messages.create(**MESSAGES)  # type: ignore[call-overload]

    return (lambda: loop.run_until_complete(call(plain))), _labelled(lambda: loop.run_until_complete(call(mirrored)))


def _labelled(call: Callable[[], None]) -> Callable[[], None]:
    turn = [0]

    def labelled() -> None:
        turn[0] += 1
        with context(workflow="support_chat", tenant="acme", subject=f"conversation-{turn[0] % 64}"):
            call()

    return labelled


VARIANTS: dict[str, tuple[Callable[..., tuple[Callable[[], None], Callable[[], None]]], bool]] = {
    "httpx, unstreamed": (raw_variant, False),
    "httpx, streamed (~60 events)": (raw_variant, True),
    "openai SDK, unstreamed": (openai_variant, False),
    "openai SDK, streamed": (openai_variant, True),
    "anthropic async SDK, unstreamed": (anthropic_async_variant, False),
    "anthropic async SDK, streamed": (anthropic_async_variant, True),
}


def measure(
    plain: Callable[[], None], mirrored: Callable[[], None], calls: int, settle: Callable[[], None]
) -> tuple[list[float], list[float]]:
    """Per-call µs without and with the emitter, interleaved; ``settle`` runs untimed after each pair."""
    for _ in range(50):  # warm both paths
        plain()
        mirrored()
    settle()
    gc.collect()
    without: list[float] = []
    with_: list[float] = []
    clock = time.perf_counter_ns
    for i in range(calls):
        pair = ((plain, without), (mirrored, with_)) if i % 2 else ((mirrored, with_), (plain, without))
        for call, samples in pair:
            start = clock()
            call()
            samples.append((clock() - start) / 1000)
        settle()
    return without, with_


def p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[98]


def publisher_cpu_us(redact: bool, repeat: int) -> dict[str, float]:
    """CPU of building one event in the publisher (µs, median), for an unstreamed and a streamed capture."""
    captured: list[Exchange] = []
    emitter = Emitter(service="bench", producer_factory=MemoryProducer().factory(), redact=redact)
    emitter._submit = captured.append  # type: ignore[method-assign]  # keep the exchanges instead of queueing them
    client = httpx.Client(
        transport=httpx.MockTransport(handler(httpx, Api.OPENAI_CHAT)), event_hooks=httpx_hooks(emitter)
    )
    for body in (CHAT, {**CHAT, "stream": True}):
        with context(subject="conversation-1"), client.stream("POST", URL, json=body) as response:
            for _ in response.iter_raw():
                pass
    emitter.close(1)
    figures = {}
    for name, exchange in zip(("unstreamed", "streamed"), captured, strict=True):
        for texts, fresh in (("first seen", True), ("repeated", False)):
            builder = EventBuilder("bench", "production", emitter.redactor)
            samples = []
            for _ in range(repeat):
                if fresh:  # a builder whose cache of redacted texts is empty: every text is new to it
                    builder = EventBuilder("bench", "production", emitter.redactor)
                start = time.perf_counter_ns()
                builder(exchange)
                samples.append((time.perf_counter_ns() - start) / 1000)
            figures[f"{name}, texts {texts}" if redact else name] = statistics.median(samples)
            if not redact:
                break
    return figures


def run_table(
    title: str, emitter: Emitter, calls: int, settle: Callable[[], None], goals: list[GoalRow] | None
) -> None:
    """One table: every variant measured with ``settle`` between pairs; goal rows appended to ``goals``."""
    print(f"\n{title}")
    header = f"{'variant':34} {'without p50':>11} {'with p50':>9} {'added p50':>9} {'without p99':>11} "
    header += f"{'with p99':>9} {'added p99':>9}"
    print(header)
    print("-" * len(header))
    for name, (build, streamed) in VARIANTS.items():
        plain, mirrored = build(emitter, streamed)
        without, with_ = measure(plain, mirrored, calls, settle)
        base50, fig50 = statistics.median(without), statistics.median(with_)
        base99, fig99 = p99(without), p99(with_)
        print(
            f"{name:34} {base50:9.1f}µs {fig50:7.1f}µs {fig50 - base50:7.1f}µs {base99:9.1f}µs {fig99:7.1f}µs "
            f"{fig99 - base99:7.1f}µs"
        )
        if goals is not None:
            goals.append(
                bound_row(
                    "emitter",
                    f"added latency per call, median: {name}",
                    figure=fig50 - base50,
                    unit="µs",
                    at_most=GOAL_US,
                    baseline_label="the call without the emitter",
                    baseline=base50,
                )
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=1000, help="pairs of calls per variant")
    parser.add_argument("--bootstrap", help="a Kafka broker to publish to (default: an in-memory producer)")
    parser.add_argument("--quick", action="store_true", help="400 pairs per variant")
    add_goals_argument(parser)
    args = parser.parse_args()
    if args.quick:
        args.calls = min(args.calls, 400)

    options: dict[str, Any] = {"service": "bench", "environment": "bench", "max_buffer_events": 10_000}
    if args.bootstrap:
        options["kafka"] = {"bootstrap_servers": args.bootstrap, "topic": f"bench.emit.{time.time_ns()}"}
    else:
        options["producer_factory"] = MemoryProducer().factory()
    emitter = Emitter(**options)  # redaction on (the default), with a key of this process
    producer = f"Kafka at {args.bootstrap}" if args.bootstrap else "in memory"
    print(f"{args.calls} interleaved pairs per variant and table; producer: {producer}; redaction on")
    rows: list[GoalRow] = []
    run_table(
        "Paced: the publisher done between pairs (each pair starts after a pause: the goal's figures)",
        emitter,
        args.calls,
        lambda: emitter.flush(10),
        rows,
    )
    run_table(
        "Back to back: no pause, the publisher's work overlapping the calls (a busy service)",
        emitter,
        args.calls,
        lambda: None,
        None,
    )
    stats = emitter.close(30)
    print(
        f"\nemitter: {stats.queued} queued, {stats.sent} sent, dropped {stats.dropped}, hook errors {stats.hook_errors}"
    )
    print("\npublisher CPU per event (off the request path), median µs:")
    for redact in (True, False):
        figures = publisher_cpu_us(redact, 300 if args.quick else 1000)
        print(f"  redaction {'on ' if redact else 'off'}: " + ", ".join(f"{k} {v:.0f} µs" for k, v in figures.items()))
    write_goals(args.goals_json, rows)


if __name__ == "__main__":
    main()
