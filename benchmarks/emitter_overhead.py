"""Latency shadow.emit adds to a production LLM call, against the same call without it, in the same run.

Each variant makes the same call through one client whose event hooks are set, untimed, before each call
without the emitter's hooks or with them (two clients built alike can sit tens of µs apart in one
process, more than the emitter's cost), interleaved (plain, mirrored, mirrored, plain, …) so both see the
same machine. Two tables: paced
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

    python benchmarks/emitter_overhead.py [--calls 300] [--rounds 8] [--quick] [--tables paced,back to back]
                                          [--bootstrap HOST:PORT] [--goals-json FILE]

The added latency per call is each pair's difference (the mirrored call minus the plain call next to it,
run one after the other on the same client); the table's ``added p50`` is their median, with a 95%
bootstrap interval, and ``p50s apart`` the other estimate (the mirrored calls' median minus the plain
calls'), with its own. Both estimate the same shift; the pairs' differences cancel what the machine was
doing during the pair (its speed drifts by tens of percent within minutes), so their median moves less
from run to run.

Prints a table; asserts nothing. Goal: the median added latency per call under 100 µs.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import subprocess
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
PAUSE_S = 0.002
"""Untimed pause before each paced call (after the publisher finished the previous event), drawn
uniformly in [0.5, 1.5] × this: the publisher looks for work every ``publish_interval_ms`` (20 ms) while
events come, and a pair of calls takes about as long, so with a fixed pause its look could fall on the
same arm's calls pair after pair (a bias of one arm for a whole round rather than noise on both)."""
GAP_S = 0.0005
"""Time between a paced stream's events (an async client's sleep is at least 1 ms: the event loop's tick)."""
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


class Arrival:
    """When the transport handed over the last event of a stream (``perf_counter``)."""

    last = 0.0


def handler(module: Any, api: Api, gap_s: float, arrival: Arrival, *, is_async: bool = False) -> Callable[[Any], Any]:
    """A transport handler: the whole answer at once, or its events with ``gap_s`` before each (0: at once)."""
    whole, events = _bodies(api)
    final = len(events) - 1

    def pieces() -> Any:
        for n, piece in enumerate(events):
            if gap_s:
                time.sleep(gap_s)  # the next event is on its way
            if n == final:
                arrival.last = time.perf_counter()
            yield piece

    async def async_pieces() -> Any:
        for n, piece in enumerate(events):
            if gap_s:
                await asyncio.sleep(gap_s)
            if n == final:
                arrival.last = time.perf_counter()
            yield piece

    async def whole_async() -> Any:
        yield whole

    def respond(request: Any) -> Any:
        streamed = b'"stream":true' in request.content.replace(b" ", b"")
        kind = "text/event-stream" if streamed else "application/json"
        if is_async:
            content: Any = async_pieces() if streamed else whole_async()
        else:
            content = pieces() if streamed else iter([whole])
        return module.Response(200, headers={"content-type": kind}, content=content)

    if not is_async:
        return respond

    async def respond_async(request: Any) -> Any:
        return respond(request)

    return respond_async


def sdk_httpx(client_class: type) -> Any:
    client = client_class(api_key="k", base_url="http://provider.test")
    roots = (kind.__module__.split(".", 1)[0] for kind in type(client._client).__mro__)
    return sys.modules[next(root for root in roots if root.startswith("httpx"))]


# --- variants ----------------------------------------------------------------------------------------
# Each builds (plain call, mirrored call); a call returns when the caller has the whole answer, with the
# moment (perf_counter) the caller had its first piece (a streamed call) or 0.0.

Call = Callable[[], float]
Prepare = Callable[[], None]
Arms = tuple[Prepare, Call, Prepare, Call]
"""(set the hooks without the emitter's, the call; set them with the emitter's, the call labelled)."""


def hook_switch(http: Any, emitter: Emitter) -> tuple[Prepare, Prepare]:
    """Both arms use one client: before each call (untimed) its hooks are set without the emitter's or with
    them. Two clients built alike can sit tens of µs apart in one process (where their objects landed in
    memory), more than the emitter's cost; one client with its hooks switched differs only by the hooks."""
    off = {kind: list(hooks) for kind, hooks in http.event_hooks.items()}
    instrument(http, emitter)
    on = {kind: list(hooks) for kind, hooks in http.event_hooks.items()}

    def without() -> None:
        http.event_hooks = off

    def with_() -> None:
        http.event_hooks = on

    return without, with_


def raw_variant(emitter: Emitter, streamed: bool, gap_s: float, arrival: Arrival) -> Arms:
    body = {**CHAT, "stream": True} if streamed else CHAT
    client = httpx.Client(transport=httpx.MockTransport(handler(httpx, Api.OPENAI_CHAT, gap_s, arrival)))
    without, with_ = hook_switch(client, emitter)

    def call() -> float:
        first = 0.0
        with client.stream("POST", URL, json=body) as response:
            for _ in response.iter_raw():
                first = first or time.perf_counter()
        return first if streamed else 0.0

    plain, labelled = _wrapped(call)
    return without, plain, with_, labelled


def openai_variant(emitter: Emitter, streamed: bool, gap_s: float, arrival: Arrival) -> Arms:
    module = sdk_httpx(openai.OpenAI)
    http = module.Client(transport=module.MockTransport(handler(module, Api.OPENAI_CHAT, gap_s, arrival)))
    client = openai.OpenAI(api_key="k", base_url="http://provider.test/v1", http_client=http, max_retries=0)
    without, with_ = hook_switch(http, emitter)

    def call() -> float:
        if not streamed:
            client.chat.completions.create(**CHAT)  # type: ignore[call-overload]
            return 0.0
        first = 0.0
        for _ in client.chat.completions.create(**CHAT, stream=True):  # type: ignore[call-overload]
            first = first or time.perf_counter()
        return first

    plain, labelled = _wrapped(call)
    return without, plain, with_, labelled


def anthropic_async_variant(emitter: Emitter, streamed: bool, gap_s: float, arrival: Arrival) -> Arms:
    module = sdk_httpx(anthropic.AsyncAnthropic)
    loop = asyncio.new_event_loop()
    transport = module.MockTransport(handler(module, Api.ANTHROPIC_MESSAGES, gap_s, arrival, is_async=True))
    http = module.AsyncClient(transport=transport)
    client = anthropic.AsyncAnthropic(api_key="k", base_url="http://provider.test", http_client=http, max_retries=0)
    without, with_ = hook_switch(http, emitter)

    async def call_async() -> float:
        if not streamed:
            await client.messages.create(**MESSAGES)  # type: ignore[call-overload]
            return 0.0
        first = 0.0
        async for _ in await client.messages.create(**MESSAGES, stream=True):  # type: ignore[call-overload]
            first = first or time.perf_counter()
        return first

    def call() -> float:
        return loop.run_until_complete(call_async())

    plain, labelled = _wrapped(call)
    return without, plain, with_, labelled


SUBJECTS = [f"conversation-{n}" for n in range(64)]
"""The conversations mirrored calls belong to (a service has its subject at hand: not formatted per call)."""


def _wrapped(call: Call) -> tuple[Call, Call]:
    """(the plain call, the labelled call): both arms go through a wrapper of the same shape (the
    turn counted, the subject picked), and differ only by the mirrored one's ``with context(...)`` around
    the call, as a service's code would differ."""
    turn = [0]

    def plain() -> float:
        turn[0] += 1
        subject = SUBJECTS[turn[0] % 64]  # picked and not used: the same work as the labelled arm's
        del subject
        return call()

    def labelled() -> float:
        turn[0] += 1
        subject = SUBJECTS[turn[0] % 64]
        with context(workflow="support_chat", tenant="acme", subject=subject):
            return call()

    return plain, labelled


Build = Callable[[Emitter, bool, float, Arrival], Arms]
VARIANTS: dict[str, tuple[Build, bool]] = {
    "httpx, unstreamed": (raw_variant, False),
    "httpx, streamed (~60 events)": (raw_variant, True),
    "openai SDK, unstreamed": (openai_variant, False),
    "openai SDK, streamed": (openai_variant, True),
    "anthropic async SDK, unstreamed": (anthropic_async_variant, False),
    "anthropic async SDK, streamed": (anthropic_async_variant, True),
}


class Samples:
    """Per-call µs of one client: the whole call, and for a streamed call the caller's first piece and the
    tail (from the last event's arrival to the call's return)."""

    def __init__(self) -> None:
        self.whole: list[float] = []
        self.first: list[float] = []
        self.tail: list[float] = []


def measure(arms: Arms, calls: int, settle: Callable[[], None], arrival: Arrival) -> tuple[Samples, Samples]:
    """Both arms' samples, calls interleaved (without, with, with, without, …); ``settle`` and the arm's
    hook setting run untimed before every call."""
    off, plain, on, mirrored = arms
    for _ in range(30):  # warm both paths
        off()
        plain()
        on()
        mirrored()
    without, with_ = Samples(), Samples()
    clock = time.perf_counter
    first_arm, second_arm = (off, plain, without), (on, mirrored, with_)
    for i in range(calls):
        for prepare, call, samples in (first_arm, second_arm) if i % 2 == 0 else (second_arm, first_arm):
            settle()
            prepare()
            start = clock()
            first = call()
            end = clock()
            samples.whole.append((end - start) * 1e6)
            if first:
                samples.first.append((first - start) * 1e6)
                samples.tail.append((end - arrival.last) * 1e6)
    return without, with_


def p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[98]


Round = dict[str, list[float]]
"""One round's samples of a timed part: ``without`` and ``with``, pair i's two calls at index i."""


def added(round_: Round) -> list[float]:
    """Each pair's added latency: its mirrored call's µs minus its plain call's (the two ran one after the
    other, in alternating order, on the same client: what the machine was doing then is in both)."""
    return [w - p for p, w in zip(round_["without"], round_["with"], strict=True)]


def paired_median(rounds: list[Round]) -> float:
    """The median added latency per call: the median of every pair's difference, rounds pooled."""
    return statistics.median(d for r in rounds for d in added(r))


def medians_apart(rounds: list[Round]) -> float:
    """The other estimate: the mirrored calls' median minus the plain calls' (rounds pooled)."""
    return statistics.median(x for r in rounds for x in r["with"]) - statistics.median(
        x for r in rounds for x in r["without"]
    )


def interval(
    rounds: list[Round], estimate: Callable[[list[Round]], float] = paired_median, resamples: int = 400, seed: int = 13
) -> tuple[float, float]:
    """A 95% bootstrap interval of ``estimate``: every round's pairs resampled with replacement within the
    round (a round is a process, with its own offsets), 2.5th and 97.5th percentiles of the resampled
    estimates. It says how far the figure could move on rerunning."""
    rng = random.Random(seed)
    estimates = []
    for _ in range(resamples):
        resampled = []
        for r in rounds:
            picks = [rng.randrange(len(r["without"])) for _ in r["without"]]
            resampled.append({"without": [r["without"][i] for i in picks], "with": [r["with"][i] for i in picks]})
        estimates.append(estimate(resampled))
    cuts = statistics.quantiles(estimates, n=40)
    return cuts[0], cuts[-1]


def publisher_cpu_us(redact: bool, repeat: int) -> dict[str, float]:
    """CPU of building one event in the publisher (µs, median), for an unstreamed and a streamed capture."""
    captured: list[Exchange] = []
    emitter = Emitter(service="bench", producer_factory=MemoryProducer().factory(), redact=redact)
    # Keep the exchanges instead of queueing them (the tees hand them to the outbox's put).
    emitter._outbox.put = captured.append  # type: ignore[method-assign,assignment]
    emitter._submit = captured.append  # type: ignore[method-assign,assignment]
    client = httpx.Client(
        transport=httpx.MockTransport(handler(httpx, Api.OPENAI_CHAT, 0.0, Arrival())), event_hooks=httpx_hooks(emitter)
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


TABLES = {
    "paced": "Paced (the goal's figures): every call after a pause; a stream's events {gap} ms apart",
    "back to back": "Back to back: no pause, streams at once (CPU per call; the publisher's work overlaps the calls)",
}


def new_emitter(bootstrap: str | None) -> Emitter:
    options: dict[str, Any] = {"service": "bench", "environment": "bench", "max_buffer_events": 10_000}
    if bootstrap:
        options["kafka"] = {"bootstrap_servers": bootstrap, "topic": f"bench.emit.{time.time_ns()}"}
    else:
        options["producer_factory"] = MemoryProducer().factory()
    return Emitter(**options)  # redaction on (the default), with a key of this process


def one_round(table: str, calls: int, bootstrap: str | None) -> dict[str, dict[str, list[float]]]:
    """One round in this process: per variant and timed part, the samples without and with the emitter."""
    emitter = new_emitter(bootstrap)
    paced = table == "paced"

    def pause() -> None:  # the publisher done with the last event, then a pause, as between a service's calls
        emitter.flush(10)
        time.sleep(PAUSE_S * (0.5 + jitter.random()))

    jitter = random.Random()
    settle = pause if paced else (lambda: None)
    gap_s = GAP_S if paced else 0.0
    samples: dict[str, dict[str, list[float]]] = {}
    for name, (build, streamed) in VARIANTS.items():
        arrival = Arrival()
        without, with_ = measure(build(emitter, streamed, gap_s, arrival), calls, settle, arrival)
        if streamed and gap_s:
            samples[f"{name}|to the first piece"] = {"without": without.first, "with": with_.first}
            samples[f"{name}|last event to return"] = {"without": without.tail, "with": with_.tail}
        else:
            samples[f"{name}|whole call"] = {"without": without.whole, "with": with_.whole}
    stats = emitter.close(30)
    if stats.dropped_total or stats.hook_errors or stats.sent != stats.queued:
        raise SystemExit(f"the emitter lost events in the benchmark: {stats.as_dict()}")
    return samples


def run_rounds(table: str, rounds: int, calls: int, bootstrap: str | None) -> dict[str, list[dict[str, list[float]]]]:
    """``rounds`` rounds, each in a fresh process (its own memory layout and interpreter state: one
    process's figures can sit tens of µs off another's for identical clients), pooled per timed part."""
    pooled: dict[str, list[dict[str, list[float]]]] = {}
    for n in range(rounds):
        command = [sys.executable, __file__, "--round", table, "--calls", str(calls)]
        if bootstrap:
            command += ["--bootstrap", bootstrap]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise SystemExit(f"round {n + 1} failed:\n{done.stderr[-3000:]}")
        for key, value in orjson.loads(done.stdout.strip().splitlines()[-1]).items():
            pooled.setdefault(key, []).append(value)
    return pooled


def print_table(table: str, pooled: dict[str, list[Round]], goals: list[GoalRow] | None) -> None:
    print("\n" + TABLES[table].format(gap=f"{GAP_S * 1e3:g}"))
    header = f"{'variant':32} {'timed':21} {'without p50':>11} {'with p50':>9} {'added p50':>9} {'95% interval':>13} "
    header += f"{'rounds':>13} {'p50s apart':>10} {'95% interval':>13} "
    header += f"{'without p99':>11} {'with p99':>9}"
    print(header)
    print("-" * len(header))
    for key, rounds in pooled.items():
        name, label = key.split("|")
        without = [x for r in rounds for x in r["without"]]
        with_ = [x for r in rounds for x in r["with"]]
        base50, fig50 = statistics.median(without), statistics.median(with_)
        figure = paired_median(rounds)
        each = [paired_median([r]) for r in rounds]
        spread = f"{min(each):.0f}..{max(each):.0f}"
        low, high = interval(rounds)
        apart_low, apart_high = interval(rounds, medians_apart)
        print(
            f"{name:32} {label:21} {base50:9.1f}µs {fig50:7.1f}µs {figure:7.1f}µs {low:6.0f}..{high:<5.0f} "
            f"{spread:>13} {fig50 - base50:8.1f}µs {apart_low:6.0f}..{apart_high:<5.0f} "
            f"{p99(without):9.1f}µs {p99(with_):7.1f}µs"
        )
        if goals is not None:
            goals.append(
                bound_row(
                    "emitter",
                    f"added latency per call, median: {name}, {label}",
                    figure=figure,
                    unit="µs",
                    at_most=GOAL_US,
                    baseline_label="the call without the emitter",
                    baseline=base50,
                )
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=300, help="pairs of calls per variant and round")
    parser.add_argument("--rounds", type=int, default=8, help="rounds per table, each in a fresh process")
    parser.add_argument("--bootstrap", help="a Kafka broker to publish to (default: an in-memory producer)")
    parser.add_argument("--quick", action="store_true", help="3 rounds of 100 pairs")
    parser.add_argument(
        "--tables", default="paced,back to back", help="the tables to measure, comma-separated (default: both)"
    )
    parser.add_argument("--round", choices=sorted(TABLES), help=argparse.SUPPRESS)  # one round, in a child
    add_goals_argument(parser)
    args = parser.parse_args()
    if args.round:
        sys.stdout.write(orjson.dumps(one_round(args.round, args.calls, args.bootstrap)).decode())
        return
    if args.quick:
        args.calls, args.rounds = min(args.calls, 100), min(args.rounds, 3)
    producer = f"Kafka at {args.bootstrap}" if args.bootstrap else "in memory"
    print(
        f"{args.rounds} rounds (fresh processes; back to back half of them) of {args.calls} interleaved pairs "
        "per variant; "
        f"producer: {producer}; redaction on;\n'added p50': the median of the pairs' differences (mirrored call "
        "minus the plain call next to it); '95% interval': its bootstrap interval; 'rounds': the rounds' own;\n"
        "'p50s apart': the mirrored calls' median minus the plain calls', with its interval"
    )
    rows: list[GoalRow] = []
    for table in args.tables.split(","):
        # The goal's table gets every round; back to back (no goal, far less noisy) half of them.
        rounds = args.rounds if table == "paced" else max(2, args.rounds // 2)
        print_table(table, run_rounds(table, rounds, args.calls, args.bootstrap), rows if table == "paced" else None)
    print("\npublisher CPU per event (off the request path), median µs:")
    for redact in (True, False):
        figures = publisher_cpu_us(redact, 300 if args.quick else 1000)
        print(f"  redaction {'on ' if redact else 'off'}: " + ", ".join(f"{k} {v:.0f} µs" for k, v in figures.items()))
    write_goals(args.goals_json, rows)


if __name__ == "__main__":
    main()
