"""Memory and time one hostile candidate answer costs the replay client: a gzip bomb, a 100 MB body.

The baseline reads the answer as the client did before the response guards (``httpx.AsyncClient.post``
on the aiohttp transport, then ``response.content``: the whole body, decompressed by httpx); the
figure is ``CandidateClient.replay`` with its default limits (4 MiB on the wire, 8 MiB decompressed).
A local server in a separate process on 127.0.0.1 serves the answers; every measurement runs in a
fresh process, and the figure is the growth of its peak RSS (``ru_maxrss``) during the one call. It
prints figures; it asserts nothing.

    .venv/bin/python benchmarks/response_guards.py            # about 20 s
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import resource
import socket
import sys
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import httpx
import orjson
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the bomb builder the tests use

from shadow.config import CandidateSettings
from shadow.events.models import MirrorEvent
from shadow.replay.client import CandidateClient, make_transport
from tests.e2e.hostile import gzip_bomb

MiB = 1 << 20
CASES = {
    "gzip bomb (1 MiB wire, 1 GiB decompressed)": "bomb",
    "100 MB identity body": "big",
}


def serve(port: int, ready: Connection) -> None:
    bomb = gzip_bomb(1024)

    async def handle(request: web.Request) -> web.StreamResponse:
        if b"[case:bomb]" in await request.read():
            return web.Response(body=bomb, headers={"Content-Type": "application/json", "Content-Encoding": "gzip"})
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        response.content_length = 100 * MiB
        await response.prepare(request)
        try:
            for _ in range(100):
                await response.write(b" " * MiB)
        except ConnectionError:
            pass
        return response

    async def main() -> None:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        ready.send(True)
        await asyncio.Event().wait()

    asyncio.run(main())


def measure(variant: str, case: str, base_url: str, out: Connection) -> None:
    request = {"model": "m", "messages": [{"role": "user", "content": f"[case:{case}] Where is my order?"}]}

    async def baseline() -> str:
        async with httpx.AsyncClient(transport=make_transport(4), timeout=60) as client:
            response = await client.post(base_url + "/chat/completions", content=orjson.dumps(request))
            return f"read {len(response.content) / MiB:.0f} MiB"

    async def guarded() -> str:
        settings = CandidateSettings(name="c", provider="openai", base_url=base_url, model="m", timeout_s=60)
        client = CandidateClient(settings)
        event = MirrorEvent.model_validate(
            {"schema_version": 1, "event_id": "e", "occurred_at": "2026-11-23T10:00:00Z", "service": "s",
             "environment": "prod", "workflow": "w", "api": "openai.chat.completions", "request": request,
             "response": None, "error": {"status": 500, "type": "x", "message": "x"}, "latency_ms": 1}
        )  # fmt: skip
        try:
            result = await client.replay(event)
        finally:
            await client.aclose()
        return str(result.error_kind)

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    outcome = asyncio.run(baseline() if variant == "baseline" else guarded())
    elapsed = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    out.send({"rss_growth_mib": (peak - before) / 1024, "seconds": elapsed, "outcome": outcome})


def run_in_process(variant: str, case: str, base_url: str) -> dict[str, Any]:
    receive, send = multiprocessing.Pipe(duplex=False)
    process = multiprocessing.get_context("spawn").Process(target=measure, args=(variant, case, base_url, send))
    process.start()
    result: dict[str, Any] = receive.recv()
    process.join()
    return result


def main() -> None:
    argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter).parse_args()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    ready_receive, ready_send = multiprocessing.Pipe(duplex=False)
    server = multiprocessing.get_context("spawn").Process(target=serve, args=(port, ready_send), daemon=True)
    server.start()
    ready_receive.recv()
    base_url = f"http://127.0.0.1:{port}/v1"
    try:
        print("| answer | goal | baseline (peak RSS growth, time, outcome) | guarded (same) | RSS ratio |")
        print("|---|---|---|---|---|")
        for label, case in CASES.items():
            cells = []
            for variant in ("baseline", "guarded"):
                figures = run_in_process(variant, case, base_url)
                cells.append(figures)
            base, guarded = cells
            ratio = guarded["rss_growth_mib"] / base["rss_growth_mib"] if base["rss_growth_mib"] else float("nan")
            shown = [f"{c['rss_growth_mib']:.0f} MiB, {c['seconds']:.2f} s, {c['outcome']}" for c in cells]
            print(f"| {label} | about the 8 MiB limit, refused | {shown[0]} | {shown[1]} | {ratio:.3f} |")
    finally:
        server.kill()
    sys.stdout.flush()


if __name__ == "__main__":
    main()
