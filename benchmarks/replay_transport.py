"""Throughput of the replay HTTP client: httpx's own transport vs httpx on aiohttp vs raw aiohttp.

Why ``shadow.replay.client`` uses ``httpx_aiohttp.AiohttpTransport``: on small machines httpx's
default transport (httpcore) slows down sharply as hundreds of requests are in flight, aiohttp's
connection pool does not. This script measures that in one run against a local OpenAI-compatible
server running in a separate process, and prints every figure as a ratio to ``httpx-default``
measured at the same concurrency in the same run. It prints figures; it asserts nothing.

    .venv/bin/python benchmarks/replay_transport.py --requests 3000 --concurrency 64,256
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import importlib.metadata
import multiprocessing
import os
import platform
import socket
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from multiprocessing.connection import Connection
from typing import Any

import aiohttp
import httpx
import orjson
from aiohttp import web

from shadow.config import CandidateSettings
from shadow.events.models import MirrorEvent
from shadow.replay.client import CandidateClient, make_transport

VARIANTS = ("httpx-default", "httpx-aiohttp", "aiohttp-raw", "shadow-client")
BASELINE = "httpx-default"
PATH = "/v1/chat/completions"
REQUEST_TIMEOUT_S = 30.0
# After the time cap, in-flight requests get this long to finish before they are cancelled.
DRAIN_S = 10.0

COMPLETION = {
    "id": "chatcmpl-bench",
    "object": "chat.completion",
    "created": 1795428000,
    "model": "m",
    "choices": [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "The refund was issued to the original card."},
            "finish_reason": "stop",
        }
    ],
    "usage": {"prompt_tokens": 250, "completion_tokens": 10, "total_tokens": 260},
}


def chat_request() -> dict[str, Any]:
    """An OpenAI chat request whose JSON body is about 1 KB."""
    return {
        "model": "gpt-4o",
        "messages": [
            {"role": "system", "content": "You are a support assistant for an online shop. " * 6},
            {"role": "user", "content": "Where is my refund for order 12345? " * 16},
        ],
        "temperature": 0.2,
    }


def mirror_event() -> MirrorEvent:
    return MirrorEvent.model_validate(
        {
            "schema_version": 1,
            "event_id": "bench-0001",
            "occurred_at": "2026-11-23T10:00:00Z",
            "service": "bench",
            "environment": "bench",
            "workflow": "support_chat",
            "api": "openai.chat.completions",
            "request": chat_request(),
            "response": COMPLETION,
            "latency_ms": 100,
        }
    )


# --- the server, in its own process so its CPU is not on the client's event loop ---------------


def serve(conn: Connection, latency_ms: float) -> None:
    """Process entry point: serve ``POST /v1/chat/completions`` and send the bound port on ``conn``."""
    asyncio.run(_serve(conn, latency_ms))


async def _serve(conn: Connection, latency_ms: float) -> None:
    body = orjson.dumps(COMPLETION)
    delay_s = latency_ms / 1000

    async def chat_completions(request: web.Request) -> web.Response:
        await request.read()
        if delay_s:
            await asyncio.sleep(delay_s)
        return web.Response(body=body, content_type="application/json")

    app = web.Application()
    app.router.add_post(PATH, chat_completions)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    # The default backlog (128) would drop SYNs when 256 clients connect at once.
    sock.listen(1024)
    await web.SockSite(runner, sock, backlog=1024).start()
    conn.send(sock.getsockname()[1])
    await asyncio.Event().wait()  # until the parent terminates this process


# --- the clients ---------------------------------------------------------------------------------

Send = Callable[[], Awaitable[str | None]]  # None when the request succeeded, else an error label


@dataclass
class Run:
    """What one variant did at one concurrency."""

    variant: str
    concurrency: int
    requested: int
    ok: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    cancelled: int = 0
    capped: bool = False
    seconds: float = 0.0
    req_per_s: float = 0.0
    p50_ms: float | None = None
    p99_ms: float | None = None
    vs_baseline: float | None = None
    error_example: str = ""


def percentile(sorted_values: list[float], q: float) -> float | None:
    """Nearest-rank percentile of already sorted values; None when there are none."""
    if not sorted_values:
        return None
    rank = max(1, round(q / 100 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


async def drive(send: Send, run: Run, max_seconds: float) -> None:
    """Send ``run.requested`` requests from ``run.concurrency`` workers; stop taking new ones after ``max_seconds``."""
    latencies_ms: list[float] = []
    errors: Counter[str] = Counter()
    started = 0

    async def worker(stop_at: float) -> None:
        nonlocal started
        while started < run.requested and time.perf_counter() < stop_at:
            started += 1
            t0 = time.perf_counter()
            try:
                error = await send()
            except Exception as exc:  # noqa: BLE001 - a failed request is a figure to report, not a crash
                error = type(exc).__name__
                run.error_example = run.error_example or f"{type(exc).__name__}: {exc}"[:200]
            if error is None:
                latencies_ms.append((time.perf_counter() - t0) * 1000)
            else:
                errors[error] += 1

    start = time.perf_counter()
    tasks = [asyncio.create_task(worker(start + max_seconds)) for _ in range(run.concurrency)]
    _, pending = await asyncio.wait(tasks, timeout=max_seconds + DRAIN_S)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    run.seconds = time.perf_counter() - start

    latencies_ms.sort()
    run.ok = len(latencies_ms)
    run.errors = dict(errors)
    run.cancelled = started - run.ok - sum(errors.values())
    run.capped = started < run.requested or bool(pending)
    run.req_per_s = run.ok / run.seconds if run.seconds else 0.0
    run.p50_ms = percentile(latencies_ms, 50)
    run.p99_ms = percentile(latencies_ms, 99)


async def warm_up(send: Send, requests: int, concurrency: int) -> None:
    """Open connections and fill caches before timing; failures here show up again in the timed run."""
    if requests <= 0:
        return
    warm = Run("warm-up", min(concurrency, requests), requests)
    await drive(send, warm, max_seconds=30.0)


async def measure(
    variant: str, base_url: str, *, requested: int, concurrency: int, warmup: int, max_seconds: float
) -> Run:
    """Build one variant's client, warm it up, time it, close it."""
    url = base_url + PATH
    body = orjson.dumps(chat_request())
    headers = {"content-type": "application/json"}
    run = Run(variant, concurrency, requested)
    close: Callable[[], Awaitable[Any]]

    if variant in ("httpx-default", "httpx-aiohttp"):
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        if variant == "httpx-default":
            client = httpx.AsyncClient(limits=limits, timeout=REQUEST_TIMEOUT_S)
        else:
            client = httpx.AsyncClient(transport=make_transport(concurrency), timeout=REQUEST_TIMEOUT_S)

        async def send() -> str | None:
            response = await client.post(url, content=body, headers=headers)
            return None if response.status_code == 200 else f"HTTP {response.status_code}"

        close = client.aclose

    elif variant == "aiohttp-raw":
        session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=concurrency),
            timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S),
        )

        async def send() -> str | None:
            async with session.post(url, data=body, headers=headers) as response:
                await response.read()
                return None if response.status == 200 else f"HTTP {response.status}"

        close = session.close

    elif variant == "shadow-client":
        settings = CandidateSettings(
            name="bench",
            provider="openai",
            base_url=base_url + "/v1",
            model="m",
            max_concurrency=concurrency,
            timeout_s=REQUEST_TIMEOUT_S,
            max_retries=0,
        )
        candidate = CandidateClient(settings)
        event = mirror_event()

        async def send() -> str | None:
            result = await candidate.replay(event)
            if result.ok:
                return None
            run.error_example = run.error_example or result.error_message
            return str(result.error_kind)

        close = candidate.aclose

    else:
        raise ValueError(f"unknown variant {variant!r}; choose from {', '.join(VARIANTS)}")

    try:
        await warm_up(send, warmup, concurrency)
        await drive(send, run, max_seconds)
    finally:
        try:
            async with asyncio.timeout(DRAIN_S):
                await close()
        except TimeoutError:
            run.error_example = run.error_example or "client did not close within 10 s"
    return run


# --- report --------------------------------------------------------------------------------------


def environment() -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "httpx": importlib.metadata.version("httpx"),
        "httpcore": importlib.metadata.version("httpcore"),
        "aiohttp": importlib.metadata.version("aiohttp"),
        "httpx-aiohttp": importlib.metadata.version("httpx-aiohttp"),
        "nproc": len(os.sched_getaffinity(0)),
        "platform": platform.platform(),
    }


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def render_table(runs: list[Run]) -> str:
    header = ("variant", "conc", "ok", "errors", "seconds", "req/s", "p50 ms", "p99 ms", "vs httpx-default")
    rows = [header]
    for run in runs:
        failed = sum(run.errors.values()) + run.cancelled
        ok = f"{run.ok}/{run.requested}" + (" (capped)" if run.capped else "")
        ratio = "-" if run.vs_baseline is None else f"{run.vs_baseline:.2f}x"
        rows.append(
            (
                run.variant,
                str(run.concurrency),
                ok,
                str(failed),
                f"{run.seconds:.2f}",
                f"{run.req_per_s:.0f}",
                _ms(run.p50_ms),
                _ms(run.p99_ms),
                ratio,
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = []
    for n, row in enumerate(rows):
        cells = [
            cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells))
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


# --- main ----------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--requests", type=int, default=3000, help="timed requests per variant and concurrency")
    parser.add_argument("--concurrency", default="64,256", help="comma-separated requests in flight, e.g. 64,256")
    parser.add_argument(
        "--variants", default=",".join(VARIANTS), help="comma-separated subset of: " + ", ".join(VARIANTS)
    )
    parser.add_argument("--warmup", type=int, default=100, help="untimed requests per variant before timing")
    parser.add_argument("--max-seconds", type=float, default=60.0, help="stop a variant taking new requests after this")
    parser.add_argument("--server-latency-ms", type=float, default=0.0, help="server sleeps this long before answering")
    parser.add_argument("--json", action="store_true", help="print one JSON document instead of the table")
    args = parser.parse_args(argv)
    args.concurrency = [int(c) for c in args.concurrency.split(",") if c.strip()]
    args.variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    unknown = sorted(set(args.variants) - set(VARIANTS))
    if unknown:
        parser.error(f"unknown variant(s) {', '.join(unknown)}; choose from {', '.join(VARIANTS)}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    env = environment()
    # spawn: the server starts from a clean interpreter, sharing no event loop or sockets with the client.
    context = multiprocessing.get_context("spawn")
    receive, send_port = context.Pipe(duplex=False)
    server = context.Process(target=serve, args=(send_port, args.server_latency_ms), daemon=True)
    server.start()
    runs: list[Run] = []
    try:
        if not receive.poll(30):
            raise RuntimeError("benchmark server did not report its port within 30 s")
        base_url = f"http://127.0.0.1:{receive.recv()}"
        if not args.json:
            print(" ".join(f"{k}={v}" for k, v in env.items()))
            print(
                f"server: {base_url}{PATH} in pid {server.pid}, latency {args.server_latency_ms:g} ms; "
                f"{args.requests} requests per run, {args.warmup} warm-up, cap {args.max_seconds:g} s",
                flush=True,
            )
        for concurrency in args.concurrency:
            for variant in args.variants:
                gc.collect()
                # A fresh event loop per run: nothing a collapsed client leaves behind slows the next one.
                job = measure(
                    variant,
                    base_url,
                    requested=args.requests,
                    concurrency=concurrency,
                    warmup=args.warmup,
                    max_seconds=args.max_seconds,
                )
                run = asyncio.run(job)
                runs.append(run)
                if not args.json:
                    print(
                        f"  {variant:<14} c={concurrency:<4} {run.ok} ok in {run.seconds:.2f} s "
                        f"({run.req_per_s:.0f} req/s){' errors: ' + str(run.errors) if run.errors else ''}",
                        file=sys.stderr,
                        flush=True,
                    )
    finally:
        server.terminate()
        server.join(10)

    for run in runs:
        baseline = next((r for r in runs if r.variant == BASELINE and r.concurrency == run.concurrency), None)
        if baseline is not None and baseline.req_per_s > 0:
            run.vs_baseline = run.req_per_s / baseline.req_per_s

    if args.json:
        document = {
            "environment": env,
            "settings": {k: getattr(args, k) for k in ("requests", "concurrency", "warmup", "max_seconds")}
            | {"server_latency_ms": args.server_latency_ms, "baseline": BASELINE},
            "runs": [asdict(run) for run in runs],
        }
        print(orjson.dumps(document, option=orjson.OPT_INDENT_2).decode())
        return 0

    print()
    print(render_table(runs))
    for run in runs:
        if run.errors or run.cancelled or run.error_example:
            failures = f"errors {run.errors}, cancelled {run.cancelled}"
            print(f"{run.variant} c={run.concurrency}: {failures}; {run.error_example}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
