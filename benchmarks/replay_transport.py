"""Throughput of the replay HTTP client against raw aiohttp, httpx's own transport and httpx on aiohttp.

Why ``shadow.replay.client`` sends through aiohttp directly: on small machines httpx's default
transport (httpcore) slows down sharply as hundreds of requests are in flight; httpx on aiohttp
does not, but httpx's client layer alone costs more CPU per request than aiohttp's whole request
(``httpx-lean``, the thinnest httpx transport over aiohttp, is the ceiling of any httpx-based
client). Every client runs in this process, settled as a worker is (startup heap frozen), against a
local OpenAI-compatible server in a separate process; every figure is also shown as a ratio to
``httpx-default`` and to ``aiohttp-raw`` measured at the same concurrency in the same run. It
prints figures; it asserts nothing.

    .venv/bin/python benchmarks/replay_transport.py                 # --requests 3000 --concurrency 16,256
    .venv/bin/python benchmarks/replay_transport.py --quick         # the goal rows only, about 30 s
    .venv/bin/python benchmarks/replay_transport.py --goals-json goals.json
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
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import orjson
from aiohttp import web

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.goals import GoalRow, add_goals_argument, ratio_row, write_goals  # noqa: E402
from benchmarks.goals import render_table as render_goal_table  # noqa: E402
from shadow.config import CandidateSettings  # noqa: E402
from shadow.events.models import MirrorEvent  # noqa: E402
from shadow.loopwatch import settle_worker_process  # noqa: E402
from shadow.replay.client import CandidateClient, make_transport  # noqa: E402

VARIANTS = ("httpx-default", "httpx-aiohttp", "httpx-lean", "aiohttp-raw", "shadow-client")
BASELINE = "httpx-default"
REFERENCE = "aiohttp-raw"
BENCHMARK = "replay_transport"
QUICK = {
    "requests": 10000,
    "warmup": 200,
    "repeat": 3,
    "max_seconds": 4.0,
    "variants": ["aiohttp-raw", "shadow-client"],
}
"""``--quick``: the two variants the goals compare, three interleaved rounds of at most 4 s per run (about 30 s)."""
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


class LeanAiohttpTransport(httpx.AsyncBaseTransport):
    """The thinnest httpx transport over aiohttp: no exception mapping, no streaming, no per-request options.

    Not a production candidate (it reads any body whole, without limits): it shows the most an
    httpx-based client could reach, since ``httpx.AsyncClient``'s own work is all that is left.
    """

    def __init__(self, max_connections: int) -> None:
        self._max_connections = max_connections
        self._session: aiohttp.ClientSession | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._max_connections),
                timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S),
                cookie_jar=aiohttp.DummyCookieJar(),
                auto_decompress=False,
            )
        async with self._session.request(
            request.method, str(request.url), data=request.content, headers=request.headers.multi_items()
        ) as response:
            body = await response.read()
        return httpx.Response(response.status, headers=response.raw_headers, content=body, request=request)

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()


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
    cpu_us: float | None = None
    """This process's CPU time per successful request, in µs: the client's cost, whatever else the machine runs."""
    vs_baseline: float | None = None
    vs_reference: float | None = None
    error_example: str = ""
    rounds: list[float] = field(default_factory=list)
    """req/s of every round of this variant and concurrency (``--repeat``); this run is their median."""


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
    cpu_start = time.process_time()
    tasks = [asyncio.create_task(worker(start + max_seconds)) for _ in range(run.concurrency)]
    _, pending = await asyncio.wait(tasks, timeout=max_seconds + DRAIN_S)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    run.seconds = time.perf_counter() - start
    cpu_s = time.process_time() - cpu_start

    latencies_ms.sort()
    run.ok = len(latencies_ms)
    run.errors = dict(errors)
    run.cancelled = started - run.ok - sum(errors.values())
    run.capped = started < run.requested or bool(pending)
    run.req_per_s = run.ok / run.seconds if run.seconds else 0.0
    run.p50_ms = percentile(latencies_ms, 50)
    run.p99_ms = percentile(latencies_ms, 99)
    run.cpu_us = cpu_s / run.ok * 1e6 if run.ok else None


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

    if variant in ("httpx-default", "httpx-aiohttp", "httpx-lean"):
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        if variant == "httpx-default":
            client = httpx.AsyncClient(limits=limits, timeout=REQUEST_TIMEOUT_S)
        elif variant == "httpx-aiohttp":
            client = httpx.AsyncClient(transport=make_transport(concurrency), timeout=REQUEST_TIMEOUT_S)
        else:
            client = httpx.AsyncClient(transport=LeanAiohttpTransport(concurrency), timeout=REQUEST_TIMEOUT_S)

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
    header = ["variant", "conc", "ok", "errors", "seconds", "req/s", "cpu µs/req", "p50 ms", "p99 ms"]
    header.append("vs httpx-default")
    header.append("vs aiohttp-raw")
    rounds = any(len(run.rounds) > 1 for run in runs)
    if rounds:
        header.append("req/s of each round")
    rows = [header]
    for run in runs:
        failed = sum(run.errors.values()) + run.cancelled
        ok = f"{run.ok}/{run.requested}" + (" (capped)" if run.capped else "")
        row = [
            run.variant,
            str(run.concurrency),
            ok,
            str(failed),
            f"{run.seconds:.2f}",
            f"{run.req_per_s:.0f}",
            "-" if run.cpu_us is None else f"{run.cpu_us:.0f}",
            _ms(run.p50_ms),
            _ms(run.p99_ms),
            "-" if run.vs_baseline is None else f"{run.vs_baseline:.2f}x",
            "-" if run.vs_reference is None else f"{run.vs_reference:.2f}x",
        ]
        if rounds:
            row.append(" ".join(f"{r:.0f}" for r in run.rounds))
        rows.append(row)
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    left = {0, len(header) - 1} if rounds else {0}  # text columns; figures are right-aligned
    lines = []
    for n, row in enumerate(rows):
        cells = [
            cell.ljust(w) if i in left else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def goal_rows(runs: list[Run]) -> list[GoalRow]:
    """Issue 10, goal 5: shadow's client keeps half of raw aiohttp's rate at 256 in flight, and does not collapse."""
    rate = {(run.variant, run.concurrency): run.req_per_s for run in runs}
    goals = []
    if ("aiohttp-raw", 256) in rate and ("shadow-client", 256) in rate:
        goals.append(
            ratio_row(
                BENCHMARK,
                "replay client req/s at 256 in flight",
                baseline_label="raw aiohttp",
                baseline=rate["aiohttp-raw", 256],
                figure=rate["shadow-client", 256],
                unit="req/s",
                at_least=0.50,
            )
        )
    if ("shadow-client", 16) in rate and ("shadow-client", 256) in rate:
        goals.append(
            ratio_row(
                BENCHMARK,
                "replay client: 256 vs 16 in flight",
                baseline_label="shadow client at 16",
                baseline=rate["shadow-client", 16],
                figure=rate["shadow-client", 256],
                unit="req/s",
                at_least=0.80,
            )
        )
    return goals


# --- main ----------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--requests", type=int, default=3000, help="timed requests per variant and concurrency")
    parser.add_argument("--concurrency", default="16,256", help="comma-separated requests in flight, e.g. 16,256")
    parser.add_argument(
        "--variants", default=",".join(VARIANTS), help="comma-separated subset of: " + ", ".join(VARIANTS)
    )
    parser.add_argument("--warmup", type=int, default=100, help="untimed requests per variant before timing")
    parser.add_argument("--max-seconds", type=float, default=60.0, help="stop a variant taking new requests after this")
    parser.add_argument(
        "--repeat", type=int, default=1, help="rounds, each variant in turn; a row shows the median round"
    )
    parser.add_argument("--server-latency-ms", type=float, default=0.0, help="server sleeps this long before answering")
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"the goal rows only: {', '.join(QUICK['variants'])}, {QUICK['requests']} requests, "
        f"{QUICK['repeat']} rounds of at most {QUICK['max_seconds']:g} s (about 30 s)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON document instead of the table")
    add_goals_argument(parser)
    args = parser.parse_args(argv)
    if args.quick:
        for key, value in QUICK.items():
            setattr(args, key, ",".join(value) if key == "variants" else value)
    args.concurrency = [int(c) for c in args.concurrency.split(",") if c.strip()]
    args.variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    unknown = sorted(set(args.variants) - set(VARIANTS))
    if unknown:
        parser.error(f"unknown variant(s) {', '.join(unknown)}; choose from {', '.join(VARIANTS)}")
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    return args


def median_run(rounds: list[Run]) -> Run:
    """The round with the median req/s (the lower one of the middle two), carrying every round's req/s."""
    ordered = sorted(rounds, key=lambda run: run.req_per_s)
    middle = ordered[(len(ordered) - 1) // 2]
    middle.rounds = [run.req_per_s for run in rounds]
    return middle


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    env = environment()
    # spawn: the server starts from a clean interpreter, sharing no event loop or sockets with the client.
    context = multiprocessing.get_context("spawn")
    receive, send_port = context.Pipe(duplex=False)
    server = context.Process(target=serve, args=(send_port, args.server_latency_ms), daemon=True)
    server.start()
    measured: dict[tuple[str, int], list[Run]] = {(v, c): [] for c in args.concurrency for v in args.variants}
    started = time.perf_counter()
    try:
        if not receive.poll(30):
            raise RuntimeError("benchmark server did not report its port within 30 s")
        base_url = f"http://127.0.0.1:{receive.recv()}"
        # As a worker does before its first event (shadow.pipeline): the startup heap is frozen, so a full garbage
        # collection walks only what the runs allocate. Every variant runs in this process, settled alike.
        settle_worker_process()
        if not args.json:
            print(" ".join(f"{k}={v}" for k, v in env.items()))
            print(
                f"server: {base_url}{PATH} in pid {server.pid}, latency {args.server_latency_ms:g} ms; "
                f"{args.requests} requests per run, {args.warmup} warm-up, cap {args.max_seconds:g} s, "
                f"{args.repeat} round(s); client process settled as a worker (startup heap frozen)",
                flush=True,
            )
        # Rounds outermost: the variants compared at one concurrency run side by side, under the same load.
        for round_ in range(args.repeat):
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
                    measured[variant, concurrency].append(run)
                    if not args.json:
                        print(
                            f"  round {round_ + 1}: {variant:<14} c={concurrency:<4} {run.ok} ok "
                            f"in {run.seconds:.2f} s "
                            f"({run.req_per_s:.0f} req/s){' errors: ' + str(run.errors) if run.errors else ''}",
                            file=sys.stderr,
                            flush=True,
                        )
    finally:
        server.terminate()
        server.join(10)

    runs = [median_run(rounds) for rounds in measured.values()]
    for run in runs:
        for other, attribute in ((BASELINE, "vs_baseline"), (REFERENCE, "vs_reference")):
            base = next((r for r in runs if r.variant == other and r.concurrency == run.concurrency), None)
            if base is not None and base.req_per_s > 0:
                setattr(run, attribute, run.req_per_s / base.req_per_s)
    goals = goal_rows(runs)
    write_goals(args.goals_json, goals)

    if args.json:
        document = {
            "environment": env,
            "settings": {k: getattr(args, k) for k in ("requests", "concurrency", "warmup", "max_seconds", "repeat")}
            | {"server_latency_ms": args.server_latency_ms, "baseline": BASELINE, "reference": REFERENCE},
            "runs": [asdict(run) for run in runs],
            "goals": [dict(asdict(goal), ratio=goal.ratio) for goal in goals],
        }
        print(orjson.dumps(document, option=orjson.OPT_INDENT_2).decode())
        return 0

    print()
    print(render_table(runs))
    for run in runs:
        if run.errors or run.cancelled or run.error_example:
            failures = f"errors {run.errors}, cancelled {run.cancelled}"
            print(f"{run.variant} c={run.concurrency}: {failures}; {run.error_example}")
    if goals:
        print()
        print(render_goal_table(goals))
    print(f"\n{time.perf_counter() - started:.0f} s in all", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
