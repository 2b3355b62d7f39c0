"""What each hostile input of issue 8 costs now: time per input beside a linear baseline of the same bytes.

Each input goes through the stage that was super-linear on it (redaction, JSON extraction,
tool-call matching, similarity, the JSON diff) or through the whole comparison and row build
of one event (what ``RowBuilder.rows`` does: both sides measured, compared, redacted, stored).
The baseline is a linear pass over the same input, measured in the same run: encoding the
text to UTF-8, ``str.split``, or ``orjson.loads`` of the same JSON. The ratio says how many
such passes the stage costs. Then two events go through a running worker (in-memory source
and sink, a candidate on ``httpx.MockTransport`` answering the same size), once with the
comparison on the event loop and once in the diff thread (the default), and the worst loop
stall is read from the worker's own loop watch.

    python benchmarks/hostile_inputs.py [--repeat 5] [--json]

Prints a table; asserts nothing. Goals: each input under ~100 ms; the loop never blocked
more than 200 ms by one event.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from shadow.config import RedactionSettings, Settings  # noqa: E402
from shadow.diff import DiffContext, compare  # noqa: E402
from shadow.diff.compare import measure_side  # noqa: E402
from shadow.diff.jsontext import inspect_json  # noqa: E402
from shadow.diff.tools import compare_tool_calls  # noqa: E402
from shadow.events.decode import decode_event  # noqa: E402
from shadow.events.memory import ListDeadLetterSink, ListSource  # noqa: E402
from shadow.events.output import Output, ToolCall, Usage  # noqa: E402
from shadow.events.records import Position  # noqa: E402
from shadow.pipeline import Pipeline  # noqa: E402
from shadow.redaction import Redactor  # noqa: E402
from shadow.replay.client import CandidateClient  # noqa: E402
from shadow.replay.fanout import Replayer  # noqa: E402
from shadow.replay.result import ReplayResult  # noqa: E402
from shadow.sink.memory import MemorySink  # noqa: E402
from shadow.sink.rows import EventColumns, RowContext, build_comparison_row  # noqa: E402

MIB = 1 << 20
WORDS = (
    "your", "refund", "was", "processed", "and", "will", "reach", "the", "card", "you", "paid", "with", "within",
    "five", "business", "days", "please", "keep", "the", "order", "number", "handy", "if", "you", "contact", "us",
    "again", "about", "this", "request", "thank", "you",
)  # fmt: skip


def prose(chars: int, seed: int) -> str:
    """English-like text of about ``chars`` characters (words drawn from a support answer)."""
    rng = random.Random(seed)
    words: list[str] = []
    size = 0
    while size < chars:
        word = rng.choice(WORDS)
        words.append(word)
        size += len(word) + 1
    return " ".join(words)[:chars]


def nested(depth: int, leaf: str) -> str:
    return "[" * depth + leaf + "]" * depth


def tool_calls(n: int, shift: int) -> tuple[ToolCall, ...]:
    return tuple(
        ToolCall(f"tool_{i % 7}", orjson.dumps({"order_id": f"A{i + shift}", "qty": i % 5, "note": "ok"}).decode())
        for i in range(n)
    )


def timed(fn: Callable[[], Any], repeat: int, budget_s: float = 10.0) -> tuple[float, Any]:
    """Median milliseconds of ``fn`` (at most ``repeat`` calls, fewer past ``budget_s``) and its last result."""
    samples = []
    result = None
    deadline = time.perf_counter() + budget_s
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        samples.append((time.perf_counter() - start) * 1000)
        if time.perf_counter() > deadline:
            break
    return statistics.median(samples), result


REDACTOR = Redactor.from_settings(RedactionSettings())
ROW_CONTEXT = RowContext(config_version="bench", redactor=REDACTOR, max_text_chars=8000)
SETTINGS = Settings.model_validate(
    {"candidates": [{"name": "cand", "provider": "openai", "base_url": "http://candidate.invalid/v1", "model": "m"}]}
)


def openai_body(text: str, calls: tuple[ToolCall, ...] = ()) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": text}
    if calls:
        message["tool_calls"] = [
            {"id": f"call_{i}", "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
            for i, c in enumerate(calls)
        ]
    return {
        "id": "chatcmpl-bench",
        "object": "chat.completion",
        "created": 1763900000,
        "model": "gpt-4o-2024-08-06",
        "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls" if calls else "stop"}],
        "usage": {"prompt_tokens": 40, "completion_tokens": 900, "total_tokens": 940},
    }


def event_bytes(text: str, event_id: str = "evt_bench") -> bytes:
    return orjson.dumps({
        "schema_version": 1,
        "event_id": event_id,
        "occurred_at": "2026-11-23T10:00:00.000Z",
        "service": "support-api",
        "environment": "prod",
        "workflow": "support_chat",
        "api": "openai.chat.completions",
        "request": {"model": "gpt-4o-2024-08-06", "messages": [{"role": "user", "content": "Where is my order?"}]},
        "response": openai_body(text),
        "error": None,
        "latency_ms": 800.0,
        "tags": {},
    })  # fmt: skip


def row_build(production: Output, candidate: Output) -> list[dict[str, Any]]:
    """What the pipeline does with one event and one candidate answer (``RowBuilder.rows``)."""
    decoded = decode_event(event_bytes(""), max_bytes=MIB)
    context = DiffContext.from_request(decoded.event.request)
    production_side = measure_side(production, context)
    shared = EventColumns.of(production, context, ROW_CONTEXT, decoded.event)
    result = ReplayResult(candidate="cand", model="m", output=candidate, latency_ms=900.0)
    comparison = compare(production, candidate, context, production_side=production_side)
    return [
        build_comparison_row(
            event=decoded.event,
            position=Position("kafka", "bench", 0, 0),
            candidate=SETTINGS.candidates[0],
            shared=shared,
            result=result,
            comparison=comparison,
            ctx=ROW_CONTEXT,
            compared_at=datetime.now(UTC),
        )
    ]


def caps_of(result: Any) -> str:
    if isinstance(result, list) and result and isinstance(result[0], dict):
        return ",".join(result[0]["caps"]) or "-"
    caps = getattr(result, "caps", ())
    return ",".join(sorted(caps)) or "-"


def cases() -> list[tuple[str, str, Callable[[], Any], Callable[[], Any]]]:
    """(input, stage, stage call, baseline call)."""
    no_at = ("a" * 63 + " ") * (40_000 // 64)
    ticks_100k, ticks_1m = "`" * 100_000, "`" * MIB
    fences_1m = "```\n" * (MIB // 4)
    calls_2k = (tool_calls(2000, 0), tool_calls(2000, 1))
    calls_5k = (tool_calls(5000, 0), tool_calls(5000, 1))
    words_a, words_b = prose(900_000, 1), prose(900_000, 2)
    words_a = " ".join(words_a.split()[:150_000])
    words_b = " ".join(words_b.split()[:150_000])
    deep_1k = (nested(1000, "1"), nested(1000, "2"))
    deep_2k = (nested(2000, "1"), nested(2000, "2"))
    no_space = ("x" * MIB, "y" * MIB)
    prod_100k, cand_100k = prose(100_000, 3), prose(100_000, 4)
    prod_1m, cand_1m = prose(MIB, 5), prose(MIB, 6)
    mixed = "".join(chr(0x4E00 + i % 3000) + " ab" for i in range(MIB // 4))
    items = [{"sku": f"A{i}", "qty": i % 9, "price": 1.5, "tags": ["x", "y"]} for i in range(20_000)]
    json_a = orjson.dumps({"items": items}).decode()
    items[-1] = {**items[-1], "qty": -1}
    json_b = orjson.dumps({"items": items}).decode()

    def parse(*texts: str) -> Callable[[], Any]:
        # The texts as they arrive, JSON strings in the event or answer: orjson.loads is one linear pass.
        encoded = [orjson.dumps(t) for t in texts]
        return lambda: [orjson.loads(e) for e in encoded]

    def parse_arguments(*sides: tuple[ToolCall, ...]) -> Callable[[], Any]:
        return lambda: [orjson.loads(c.arguments) for side in sides for c in side]

    return [
        ("40,000 chars without @", "redaction, default rules, whole text", lambda: REDACTOR(no_at), parse(no_at)),
        ("40,000 chars without @", "redaction as stored (cut first)", lambda: REDACTOR.cut(no_at, 8000), parse(no_at)),
        ("100,000 backticks", "JSON validity + extraction", lambda: inspect_json(ticks_100k), parse(ticks_100k)),
        ("1 MiB of backticks", "JSON validity + extraction", lambda: inspect_json(ticks_1m), parse(ticks_1m)),
        ("1 MiB of ``` lines", "JSON validity + extraction", lambda: inspect_json(fences_1m), parse(fences_1m)),
        (
            "2,000 tool calls per side",
            "tool-call matching",
            lambda: compare_tool_calls(*calls_2k),
            parse_arguments(*calls_2k),
        ),
        (
            "2,000 tool calls per side",
            "whole comparison",
            lambda: compare(Output("", calls_2k[0]), Output("", calls_2k[1])),
            parse_arguments(*calls_2k),
        ),
        (
            "5,000 tool calls per side",
            "whole comparison",
            lambda: compare(Output("", calls_5k[0]), Output("", calls_5k[1])),
            parse_arguments(*calls_5k),
        ),
        (
            "two 150,000-word answers",
            "whole comparison",
            lambda: compare(Output(words_a), Output(words_b)),
            parse(words_a, words_b),
        ),
        (
            "1,000-deep JSON (RecursionError before)",
            "whole comparison",
            lambda: compare(Output(deep_1k[0]), Output(deep_1k[1])),
            parse(*deep_1k),
        ),
        (
            "2,000-deep JSON",
            "whole comparison",
            lambda: compare(Output(deep_2k[0]), Output(deep_2k[1])),
            parse(*deep_2k),
        ),
        (
            "1 MiB without spaces",
            "compare + row build",
            lambda: row_build(Output(no_space[0], usage=Usage(40, 900)), Output(no_space[1], usage=Usage(40, 900))),
            parse(*no_space),
        ),
        (
            "100 KB production answer",
            "compare + row build",
            lambda: row_build(Output(prod_100k, usage=Usage(40, 900)), Output(cand_100k, usage=Usage(40, 900))),
            parse(prod_100k, cand_100k),
        ),
        (
            "1 MiB production answer",
            "compare + row build",
            lambda: row_build(Output(prod_1m, usage=Usage(40, 900)), Output(cand_1m, usage=Usage(40, 900))),
            parse(prod_1m, cand_1m),
        ),
        (
            "extra: 1 MiB alternating Chinese and English",
            "compare + row build",
            lambda: row_build(Output(mixed), Output(mixed[::-1])),
            parse(mixed, mixed[::-1]),
        ),
        (
            "extra: 1 MiB JSON answer, last value differs",
            "compare + row build",
            lambda: row_build(Output(json_a), Output(json_b)),
            lambda: (orjson.loads(json_a), orjson.loads(json_b)),
        ),
    ]  # fmt: skip


async def worker_stall(text: str, answer: str, offload_min_chars: int, diff_processes: int) -> tuple[float, float, int]:
    """(wall ms, worst loop stall ms, rows) of a worker replaying one event whose answers hold these texts."""
    settings = Settings.model_validate({
        "candidates": [
            {"name": "cand", "provider": "openai", "base_url": "http://candidate.invalid/v1", "model": "m",
             "timeout_s": 30.0, "max_retries": 0},
        ],
        "pipeline": {"offload_min_chars": offload_min_chars, "diff_processes": diff_processes},
        "clickhouse": {"flush_interval_s": 0.05},
        "kafka": {"commit_interval_s": 0.05},
    })  # fmt: skip
    body = orjson.dumps(openai_body(answer))

    async def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body, headers={"content-type": "application/json"})

    transport = httpx.MockTransport(handler)
    replayer = Replayer([CandidateClient(c, transport=transport) for c in settings.candidates])
    sink = MemorySink()
    source = ListSource([event_bytes(text)])
    pipeline = Pipeline(settings, source=source, dead_letters=ListDeadLetterSink(), replayer=replayer, sink=sink)
    worst = 0.0
    done = False

    async def watch() -> None:
        # The worker's own loop watch ticks every 50 ms, so it sees a stall only by how late its next
        # tick comes; this one asks to wake every millisecond and keeps the longest gap.
        nonlocal worst
        last = time.perf_counter()
        while not done:
            await asyncio.sleep(0.001)
            now = time.perf_counter()
            worst = max(worst, now - last - 0.001)
            last = now

    watcher = asyncio.create_task(watch())
    start = time.perf_counter()
    try:
        await pipeline.run()
    finally:
        done = True
        await watcher
        await replayer.aclose()
    wall_ms = (time.perf_counter() - start) * 1000
    return wall_ms, worst * 1000, len(sink.comparisons)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5, help="calls per input and method (median)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args()

    rows = []
    inputs = cases()
    # The inputs live through the run: keep them out of the garbage collector's full passes.
    gc.collect()
    gc.freeze()
    for name, stage, call, base in inputs:
        base_ms, _ = timed(base, args.repeat)
        ours_ms, result = timed(call, args.repeat)
        rows.append({
            "input": name, "stage": stage, "goal_ms": 100, "baseline_ms": base_ms, "ms": ours_ms,
            "ratio": ours_ms / base_ms if base_ms else float("inf"), "caps": caps_of(result),
        })  # fmt: skip
        print(f"  measured: {name} / {stage}", file=sys.stderr)

    workers = []
    for label, chars in (("100 KB event", 100_000), ("1 MiB event", MIB - 4096)):
        text, answer = prose(chars, 7), prose(chars, 8)
        threshold = SETTINGS.pipeline.offload_min_chars
        for where, limit, processes in (("on the loop", 1 << 40, 0), ("CPU thread", threshold, 0),
                                        ("diff process", threshold, 1)):  # fmt: skip
            wall, stall, stored = asyncio.run(worker_stall(text, answer, limit, processes))
            workers.append(
                {"event": label, "comparison": where, "wall_ms": wall, "worst_stall_ms": stall, "rows": stored}
            )
            print(f"  measured: worker, {label}, {where}", file=sys.stderr)

    meta = {"python": platform.python_version(), "machine": platform.machine(), "cpus": os.cpu_count()}
    start = time.perf_counter()
    sum(range(10_000_000))
    meta["calibration_sum_range_1e7_ms"] = round((time.perf_counter() - start) * 1000, 1)
    if args.json:
        print(json.dumps({"meta": meta, "inputs": rows, "worker": workers}, indent=2))
        return
    print(f"python {meta['python']} on {meta['machine']}, {meta['cpus']} CPUs; "
          f"sum(range(10**7)) took {meta['calibration_sum_range_1e7_ms']} ms")  # fmt: skip
    print()
    print("| input | stage | goal | baseline (linear pass) | figure | ratio | caps in the row |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['input']} | {r['stage']} | < {r['goal_ms']} ms | {r['baseline_ms']:.1f} ms | "
            f"{r['ms']:.1f} ms | {r['ratio']:.1f}x | {r['caps']} |"
        )
    print()
    print("| event through a worker | comparison | goal | wall time | worst loop stall | rows |")
    print("|---|---|---|---|---|---|")
    for w in workers:
        print(
            f"| {w['event']} | {w['comparison']} | stall < 200 ms | {w['wall_ms']:.0f} ms | "
            f"{w['worst_stall_ms']:.0f} ms | {w['rows']} |"
        )


if __name__ == "__main__":
    main()
