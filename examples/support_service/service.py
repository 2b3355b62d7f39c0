"""A customer-support service that mirrors its LLM calls to Kafka with shadow.emit.

Each conversation is a customer asking where an order is: the model calls the ``lookup_order`` tool,
the service runs it and sends the result back, the model answers. Conversations go through the
official ``openai`` and ``anthropic`` SDKs, sync and async, streamed and not, over the three APIs
(chat completions, Responses, Anthropic messages), in turn. The service's code is what it would be
without shadow; three lines add the mirror: an ``Emitter``, ``instrument(client, emitter)`` on each
client, and ``with shadow.emit.context(...)`` around each conversation.

Without ``--base-url`` it starts shadow's local OpenAI/Anthropic-compatible endpoint (the demo
candidate server) on 127.0.0.1, which answers with tool calls and streams when asked; with it, any
compatible endpoint serves (the keys come from OPENAI_API_KEY / ANTHROPIC_API_KEY, "local" otherwise).

    python examples/support_service/service.py --bootstrap 127.0.0.1:9092 --topic llm.mirror.v1 --count 16

It prints a JSON report on stdout (calls made and failed, the slowest call, the emitter's counters
after close) and exits 1 when a call failed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import anthropic
import openai
from anthropic.types import ToolParam
from openai.types.chat import ChatCompletionFunctionToolParam
from openai.types.responses import FunctionToolParam

import shadow.emit
from shadow.emit import Emitter, EmitterSettings

ORDERS = {
    "1042": {"status": "shipped", "carrier": "DHL", "eta_days": 2},
    "2077": {"status": "processing", "carrier": None, "eta_days": 5},
    "3111": {"status": "delivered", "carrier": "UPS", "eta_days": 0},
}
SYSTEM = "You are the support assistant of an online shop. Use lookup_order for any question about an order."
DESCRIPTION = "Status, carrier and expected delivery of an order"
PARAMETERS: dict[str, Any] = {
    "type": "object",
    "properties": {"order_id": {"type": "string"}},
    "required": ["order_id"],
}
OPENAI_TOOL: ChatCompletionFunctionToolParam = {
    "type": "function",
    "function": {"name": "lookup_order", "description": DESCRIPTION, "parameters": PARAMETERS},
}
RESPONSES_TOOL: FunctionToolParam = {
    "type": "function",
    "name": "lookup_order",
    "description": DESCRIPTION,
    "parameters": PARAMETERS,
    "strict": False,
}
ANTHROPIC_TOOL: ToolParam = {"name": "lookup_order", "description": DESCRIPTION, "input_schema": PARAMETERS}


def lookup_order(order_id: str) -> str:
    return json.dumps(ORDERS.get(str(order_id), {"status": "unknown"}))


# --- the conversations: plain SDK code, as the service would have it without shadow ----------------


def chat_sync(client: openai.OpenAI, model: str, question: str, stream: bool) -> str:
    messages: list[Any] = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": question}]
    message: Any
    for _ in range(3):
        if stream:
            with client.chat.completions.stream(model=model, messages=messages, tools=[OPENAI_TOOL]) as events:
                for _event in events:
                    pass  # a real service forwards the deltas to its user here
                message = events.get_final_completion().choices[0].message
        else:
            message = (
                client.chat.completions.create(model=model, messages=messages, tools=[OPENAI_TOOL]).choices[0].message
            )
        if not message.tool_calls:
            return message.content or ""
        messages.append(message.model_dump(exclude_none=True))
        for call in message.tool_calls:
            order_id = json.loads(call.function.arguments).get("order_id", "")
            messages.append({"role": "tool", "tool_call_id": call.id, "content": lookup_order(order_id)})
    return ""


async def chat_async(client: openai.AsyncOpenAI, model: str, question: str, stream: bool) -> str:
    messages: list[Any] = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": question}]
    message: Any
    for _ in range(3):
        if stream:
            async with client.chat.completions.stream(model=model, messages=messages, tools=[OPENAI_TOOL]) as events:
                async for _event in events:
                    pass
                message = (await events.get_final_completion()).choices[0].message
        else:
            answer = await client.chat.completions.create(model=model, messages=messages, tools=[OPENAI_TOOL])
            message = answer.choices[0].message
        if not message.tool_calls:
            return message.content or ""
        messages.append(message.model_dump(exclude_none=True))
        for call in message.tool_calls:
            order_id = json.loads(call.function.arguments).get("order_id", "")
            messages.append({"role": "tool", "tool_call_id": call.id, "content": lookup_order(order_id)})
    return ""


def _responses_turn(response: Any, items: list[Any]) -> bool:
    """Append the tool results a Responses answer asks for; False when it is final."""
    calls = [item for item in response.output if item.type == "function_call"]
    for call in calls:
        items.append({"type": "function_call", "call_id": call.call_id, "name": call.name, "arguments": call.arguments})
        order_id = json.loads(call.arguments).get("order_id", "")
        items.append({"type": "function_call_output", "call_id": call.call_id, "output": lookup_order(order_id)})
    return bool(calls)


def responses_sync(client: openai.OpenAI, model: str, question: str, stream: bool) -> str:
    items: list[Any] = [{"role": "user", "content": question}]
    response: Any
    for _ in range(3):
        if stream:
            with client.responses.stream(
                model=model, instructions=SYSTEM, input=items, tools=[RESPONSES_TOOL]
            ) as events:
                for _event in events:
                    pass
                response = events.get_final_response()
        else:
            response = client.responses.create(model=model, instructions=SYSTEM, input=items, tools=[RESPONSES_TOOL])
        if not _responses_turn(response, items):
            return str(response.output_text)
    return ""


async def responses_async(client: openai.AsyncOpenAI, model: str, question: str, stream: bool) -> str:
    items: list[Any] = [{"role": "user", "content": question}]
    response: Any
    for _ in range(3):
        if stream:
            async with client.responses.stream(
                model=model, instructions=SYSTEM, input=items, tools=[RESPONSES_TOOL]
            ) as events:
                async for _event in events:
                    pass
                response = await events.get_final_response()
        else:
            response = await client.responses.create(
                model=model, instructions=SYSTEM, input=items, tools=[RESPONSES_TOOL]
            )
        if not _responses_turn(response, items):
            return str(response.output_text)
    return ""


def _anthropic_turn(message: Any, messages: list[Any]) -> bool:
    uses = [block for block in message.content if block.type == "tool_use"]
    if not uses:
        return False
    messages.append(
        {"role": "assistant", "content": [block.model_dump(exclude_none=True) for block in message.content]}
    )
    results = [
        {"type": "tool_result", "tool_use_id": use.id, "content": lookup_order(str(use.input.get("order_id", "")))}
        for use in uses
    ]
    messages.append({"role": "user", "content": results})
    return True


def _text(message: Any) -> str:
    return "".join(block.text for block in message.content if block.type == "text")


def messages_sync(client: anthropic.Anthropic, model: str, question: str, stream: bool) -> str:
    messages: list[Any] = [{"role": "user", "content": question}]
    message: Any
    for _ in range(3):
        if stream:
            with client.messages.stream(
                model=model, max_tokens=400, system=SYSTEM, tools=[ANTHROPIC_TOOL], messages=messages
            ) as events:
                for _event in events:
                    pass
                message = events.get_final_message()
        else:
            message = client.messages.create(
                model=model, max_tokens=400, system=SYSTEM, tools=[ANTHROPIC_TOOL], messages=messages
            )
        if not _anthropic_turn(message, messages):
            return _text(message)
    return ""


async def messages_async(client: anthropic.AsyncAnthropic, model: str, question: str, stream: bool) -> str:
    messages: list[Any] = [{"role": "user", "content": question}]
    message: Any
    for _ in range(3):
        if stream:
            async with client.messages.stream(
                model=model, max_tokens=400, system=SYSTEM, tools=[ANTHROPIC_TOOL], messages=messages
            ) as events:
                async for _event in events:
                    pass
                message = await events.get_final_message()
        else:
            message = await client.messages.create(
                model=model, max_tokens=400, system=SYSTEM, tools=[ANTHROPIC_TOOL], messages=messages
            )
        if not _anthropic_turn(message, messages):
            return _text(message)
    return ""


# --- the service -------------------------------------------------------------------------------


@dataclass
class Clients:
    openai_sync: openai.OpenAI
    openai_async: openai.AsyncOpenAI
    anthropic_sync: anthropic.Anthropic
    anthropic_async: anthropic.AsyncAnthropic
    openai_model: str
    anthropic_model: str


# (name, async?, function, which client, model attribute, streamed?)
FLOWS: tuple[tuple[str, bool, Callable[..., Any], str, str, bool], ...] = (
    ("openai chat, sync", False, chat_sync, "openai_sync", "openai_model", False),
    ("openai chat, sync, streamed", False, chat_sync, "openai_sync", "openai_model", True),
    ("openai chat, async, streamed", True, chat_async, "openai_async", "openai_model", True),
    ("openai responses, sync", False, responses_sync, "openai_sync", "openai_model", False),
    ("openai responses, async, streamed", True, responses_async, "openai_async", "openai_model", True),
    ("anthropic messages, sync, streamed", False, messages_sync, "anthropic_sync", "anthropic_model", True),
    ("anthropic messages, async", True, messages_async, "anthropic_async", "anthropic_model", False),
    ("anthropic messages, async, streamed", True, messages_async, "anthropic_async", "anthropic_model", True),
)


@dataclass
class Report:
    conversations: int = 0
    failed: list[str] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    flows: dict[str, int] = field(default_factory=dict)


async def converse(clients: Clients, number: int, report: Report) -> None:
    name, is_async, flow, client_name, model_name, streamed = FLOWS[number % len(FLOWS)]
    order = list(ORDERS)[number % len(ORDERS)]
    question = f"Hi, where is my order {order}? It's for customer{number % 7}@example.com."
    client, model = getattr(clients, client_name), getattr(clients, model_name)
    started = time.perf_counter()
    # The context labels every LLM call of this conversation; to_thread carries it into the thread.
    with shadow.emit.context(
        workflow="support_chat",
        tenant=f"tenant-{number % 3}",
        subject=f"conversation-{number}",
        tags={"prompt_version": "v7", "flow": name},
    ):
        try:
            if is_async:
                answer = await flow(client, model, question, streamed)
            else:
                answer = await asyncio.to_thread(flow, client, model, question, streamed)
            if not answer:
                raise RuntimeError("no final answer")
        except Exception as exc:  # noqa: BLE001 - a real service would answer its user with an apology
            report.failed.append(f"{name}: {type(exc).__name__}: {exc}")
    report.seconds.append(time.perf_counter() - started)
    report.conversations += 1
    report.flows[name] = report.flows.get(name, 0) + 1


async def serve(clients: Clients, count: int, concurrency: int) -> Report:
    report = Report()
    slots = asyncio.Semaphore(concurrency)

    async def one(number: int) -> None:
        async with slots:
            await converse(clients, number, report)

    await asyncio.gather(*(one(n) for n in range(count)))
    await clients.openai_async.close()
    await clients.anthropic_async.close()
    return report


@contextlib.contextmanager
def endpoint(base_url: str | None, latency_ms: float) -> Iterator[str]:
    """The given endpoint, or shadow's local compatible one."""
    if base_url:
        yield base_url.rstrip("/")
        return
    from local_endpoint import serve_locally  # noqa: PLC0415 - beside this file; only without --base-url

    with serve_locally(latency_ms) as url:
        yield url


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bootstrap", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"))
    parser.add_argument("--topic", default="llm.mirror.v1")
    parser.add_argument("--base-url", help="an OpenAI/Anthropic-compatible endpoint ending in /v1 (default: local)")
    parser.add_argument("--count", type=int, default=16, help="conversations (each two or more LLM calls)")
    parser.add_argument("--concurrency", type=int, default=4, help="conversations at once")
    parser.add_argument("--service", default="support-api")
    parser.add_argument("--environment", default="production")
    parser.add_argument("--sample-rate", type=float, default=1.0, help="share of conversations mirrored")
    parser.add_argument("--no-redact", action="store_true", help="mirror values as they are (no redaction)")
    parser.add_argument("--worker-config", help="take Kafka, sampling and redaction from the worker's YAML")
    parser.add_argument("--close-timeout", type=float, default=5.0, help="seconds given to pending events at exit")
    parser.add_argument("--latency-ms", type=float, default=40.0, help="the local endpoint's answer time")
    parser.add_argument("--openai-model", default="gpt-4.1-mini")
    parser.add_argument("--anthropic-model", default="claude-haiku-4-5")
    args = parser.parse_args(argv)

    options: dict[str, Any] = {
        "service": args.service,
        "environment": args.environment,
        "workflow": "support_chat",
        "close_timeout_s": args.close_timeout,
    }
    if args.worker_config:
        settings = EmitterSettings.from_worker_config(args.worker_config, **options)
    else:
        settings = EmitterSettings(
            **options,
            kafka={"bootstrap_servers": args.bootstrap, "topic": args.topic, "client_id": "support-api"},
            default_rate=args.sample_rate,
            redact=not args.no_redact,
        )
    emitter = Emitter(settings)
    with endpoint(args.base_url, args.latency_ms) as base_url:
        root = base_url.removesuffix("/v1")
        openai_key = os.environ.get("OPENAI_API_KEY", "local")
        anthropic_key = os.environ.get("ANTHROPIC_API_KEY", "local")
        clients = Clients(
            openai_sync=emitter.instrument(openai.OpenAI(base_url=base_url, api_key=openai_key)),
            openai_async=emitter.instrument(openai.AsyncOpenAI(base_url=base_url, api_key=openai_key)),
            anthropic_sync=emitter.instrument(anthropic.Anthropic(base_url=root, api_key=anthropic_key)),
            anthropic_async=emitter.instrument(anthropic.AsyncAnthropic(base_url=root, api_key=anthropic_key)),
            openai_model=args.openai_model,
            anthropic_model=args.anthropic_model,
        )
        started = time.perf_counter()
        report = asyncio.run(serve(clients, args.count, args.concurrency))
        served_s = time.perf_counter() - started
        before_close = emitter.stats()
        stats = emitter.close(args.close_timeout)
    result = {
        "conversations": report.conversations,
        "failed": report.failed,
        "flows": report.flows,
        "served_s": round(served_s, 3),
        "slowest_conversation_s": round(max(report.seconds, default=0.0), 3),
        "median_conversation_s": round(statistics.median(report.seconds), 3) if report.seconds else 0.0,
        "emitter_when_served": before_close.as_dict(),
        "emitter": stats.as_dict(),
    }
    sys.stdout.write(json.dumps(result, indent=1) + "\n")
    dropped = {reason: n for reason, n in stats.dropped.items() if n}
    sys.stderr.write(
        f"{report.conversations} conversations, {len(report.failed)} failed; "
        f"emitter: {stats.sent} sent, {stats.dropped_total} dropped {dropped}\n"
    )
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main())
