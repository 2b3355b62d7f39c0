"""End to end: ``shadow run`` on a real Kafka broker and embedded chDB, beside its raw parts.

A worker (``shadow run``, a separate process pinned to CPU 0) consumes a topic of ~1.3 KB mirror
events (support-chat requests whose production answers are ~1 KB of English, built from the demo's
recorded answers), replays each against an OpenAI-compatible candidate on 127.0.0.1 (an aiohttp
server in its own process, pinned to CPU 1, answering a ~1 KB English answer at once or after
``--latency-ms``), compares, and stores the rows in a fresh chDB directory. The broker is the local
one from ``scripts/kafka-local.sh`` (started here unless ``KAFKA_BOOTSTRAP_SERVERS`` is set).

Figures are taken between 10% and 90% of a scenario's rows (start-up and the tail excluded): events/s
from ``shadow_rows_written_total`` on the worker's ``/metrics``, CPU per replay from the CPU time of
the worker and its children (``/proc``) in the same window, resident memory from ``/proc``.

Scenarios:
- ``one``: one candidate; ``three``: three candidates (rows/s / 3 = events/s);
- ``defaults``: one candidate, every setting at its default, against ``window`` (the same with
  ``max_in_flight`` 2,048 and the candidate's ``max_concurrency`` 256: the CPU-bound rate);
- ``latency``: the candidate answers in 1.5 s on average (each answer after 1.05-1.95 s, uniformly:
  real candidates' latencies vary), 1,000 calls in flight;
- ``latency-fixed``: the same, every answer after exactly 1.5 s: the 1,000 calls stay in step, their
  answers arrive in waves the worker's one core works through in turn (the worst case);
- ``memory``: the 1.5 s candidate with 256 and with 4,096 in flight, for resident memory.

Raw parts, measured in the same run on the same topic, candidate and rows: aiokafka consuming the
topic, aiohttp calling the candidate with 256 in flight, ``shadow.diff.compare`` on the events'
answer pairs, clickhouse-connect inserting the worker's own stored rows in batches of 1,000.

    python benchmarks/end_to_end.py [--quick] [--scenarios one,three,...] [--goals-json FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import multiprocessing
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
import clickhouse_connect  # noqa: E402
import orjson  # noqa: E402
from aiohttp import web  # noqa: E402
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer  # noqa: E402
from aiokafka.admin import AIOKafkaAdminClient, NewTopic  # noqa: E402

from benchmarks.goals import (  # noqa: E402
    GoalRow,
    add_goals_argument,
    bound_row,
    machine_facts,
    ratio_row,
    render_table,
    write_goals,
)
from shadow.diff.compare import compare  # noqa: E402
from shadow.events.decode import decode_event  # noqa: E402
from shadow.events.models import Api  # noqa: E402
from shadow.events.wire import parse_response  # noqa: E402

WORKER_CPU, SERVER_CPU = 0, 1
BENCH = "end to end"


# --- texts ------------------------------------------------------------------------------------


def _support_answers() -> list[str]:
    answers = []
    with (ROOT / "shadow" / "demo" / "data" / "events.ndjson").open(encoding="utf-8") as f:
        for line in f:
            event = json.loads(line)
            response = event.get("response") or {}
            if event.get("workflow") != "support_chat" or not response.get("choices"):
                continue
            message = response["choices"][0]["message"]
            text = message.get("content")
            # English ones: the support answers are English and Chinese (the diff speed of Chinese is its own goal).
            if text and not message.get("tool_calls") and sum(ord(ch) > 127 for ch in text) <= len(text) // 50:
                answers.append(text)
    return answers


def kilobyte_answers(count: int, seed: int) -> list[str]:
    """``count`` English answers of ~1 KB, each a run of the demo's recorded support answers."""
    pool, rng, out = _support_answers(), random.Random(seed), []
    for _ in range(count):
        parts: list[str] = []
        while sum(len(p) + 2 for p in parts) < 900:
            parts.append(rng.choice(pool))
        out.append("\n\n".join(parts)[:1024])
    return out


def chat_completion(text: str, model: str) -> dict[str, Any]:
    words = len(text.split())
    return {
        "id": "chatcmpl-bench",
        "object": "chat.completion",
        "created": 1763900000,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text, "refusal": None, "annotations": []},
                "finish_reason": "stop",
                "logprobs": None,
            }
        ],
        "usage": {"prompt_tokens": 120, "completion_tokens": words * 4 // 3, "total_tokens": 120 + words * 4 // 3},
    }


def make_events(n: int) -> list[bytes]:
    answers = kilobyte_answers(200, seed=1)
    events = []
    for i in range(n):
        question = f"Hi, my order {100000 + i} has not arrived yet and the tracking page says it is delayed. What now?"
        event = {
            "schema_version": 1,
            "event_id": f"evt_bench_{i:08d}",
            "occurred_at": "2026-11-23T10:00:00.000Z",
            "service": "support-api",
            "environment": "prod",
            "workflow": "support_chat",
            "tenant": "acme",
            "subject": f"user_{i % 5000}",
            "api": "openai.chat.completions",
            "request": {
                "model": "gpt-4o-2024-08-06",
                "messages": [
                    {"role": "system", "content": "You are a helpful support agent for an online shop."},
                    {"role": "user", "content": question},
                ],
                "temperature": 0.2,
                "max_tokens": 600,
            },
            "response": chat_completion(answers[i % len(answers)], "gpt-4o-2024-08-06"),
            "latency_ms": 850.0,
        }
        events.append(orjson.dumps(event))
    return events


# --- the candidate server (its own process) ----------------------------------------------------


LATENCY_SPREAD = 0.3  # the slow candidate's latencies: the mean ± 30%, uniformly


def _serve(port: int, latency_ms: float, ready: Any, spread: float = 0.0, cpu: int | None = SERVER_CPU) -> None:
    """The candidate server's process: chat completions from 1 KB answers, after ``latency_ms`` ± ``spread``;
    pinned to ``cpu`` (None: not pinned, as ``worker_fleet.py`` runs it)."""
    if cpu is not None:
        os.sched_setaffinity(0, {cpu})
    bodies = [orjson.dumps(chat_completion(t, "candidate-model")) for t in kilobyte_answers(64, seed=2)]
    draw = random.Random(7).uniform

    async def complete(request: web.Request) -> web.Response:
        data = await request.read()
        if latency_ms:
            await asyncio.sleep(latency_ms * draw(1 - spread, 1 + spread) / 1000)
        return web.Response(body=bodies[len(data) % len(bodies)], content_type="application/json")

    async def main() -> None:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", complete)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port, backlog=8192).start()
        ready.set()
        await asyncio.Event().wait()

    asyncio.run(main())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def candidate_server(latency_ms: float = 0.0, spread: float = 0.0) -> Iterator[str]:
    """An OpenAI-compatible server in its own process; each answer after ``latency_ms`` × U(1 ± spread)."""
    ctx = multiprocessing.get_context("spawn")
    port, ready = free_port(), ctx.Event()
    process = ctx.Process(target=_serve, args=(port, latency_ms, ready, spread), daemon=True)
    process.start()
    if not ready.wait(30):
        process.kill()
        raise RuntimeError("the candidate server did not start")
    try:
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        process.kill()
        process.join()


# --- Kafka ------------------------------------------------------------------------------------


@contextmanager
def kafka() -> Iterator[str]:
    configured = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if configured:
        yield configured
        return
    home = tempfile.mkdtemp(prefix="shadow-bench-kafka-")
    env = {
        **os.environ,
        "SHADOW_KAFKA_HOME": home,
        "KAFKA_PORT": str(free_port()),
        "KAFKA_CONTROLLER_PORT": str(free_port()),
    }
    script = ROOT / "scripts" / "kafka-local.sh"
    started = subprocess.run([str(script), "start"], env=env, capture_output=True, text=True, timeout=600, check=False)
    if started.returncode != 0:
        raise RuntimeError(f"scripts/kafka-local.sh start failed:\n{started.stderr[-3000:]}")
    try:
        yield started.stdout.strip().splitlines()[-1].split("=", 1)[1]
    finally:
        subprocess.run([str(script), "stop"], env=env, capture_output=True, timeout=120, check=False)
        shutil.rmtree(home, ignore_errors=True)


async def produce(bootstrap: str, topic: str, events: list[bytes], partitions: int = 2) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, num_partitions=partitions, replication_factor=1)])
    finally:
        await admin.close()
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=20, max_batch_size=1 << 20)
    await producer.start()
    try:
        futures = [await producer.send(topic, value) for value in events]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


# --- the worker -------------------------------------------------------------------------------


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def cpu_seconds(pid: int) -> tuple[float, float]:
    """CPU time (user, system) of ``pid`` and its live descendants."""
    tick, user, system = os.sysconf("SC_CLK_TCK"), 0.0, 0.0
    for p in _descendants(pid):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        user += int(fields[11]) / tick
        system += int(fields[12]) / tick
    return user, system


def memory_mb(pid: int, key: str) -> float:
    """``VmRSS`` or ``VmHWM`` of ``pid`` and its live descendants, in MB."""
    total = 0
    for p in _descendants(pid):
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith(key + ":"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


def rows_written(port: int) -> float | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as response:
            text = response.read().decode()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith("shadow_rows_written_total "):
            return float(line.split()[1])
    return 0.0


@dataclass
class Run:
    name: str
    events: int  # events whose rows were stored inside the window
    seconds: float
    cpu_s: float
    sys_s: float  # of cpu_s, in the kernel (sockets)
    rss_mb: float  # resident memory at the end of the window
    peak_rss_mb: float  # high-water mark of the worker and its children

    @property
    def events_per_s(self) -> float:
        return self.events / self.seconds

    @property
    def cpu_us_per_replay(self) -> float:
        return self.cpu_s / self.events * 1e6


def run_worker(
    name: str,
    *,
    bootstrap: str,
    topic: str,
    candidates: list[dict[str, Any]],
    target_events: int,
    workdir: Path,
    pipeline: dict[str, Any] | None = None,
    timeout_s: float = 300.0,
    profile: Path | None = None,
    code: Path | None = None,
) -> Run:
    """Runs ``shadow run`` pinned to one CPU until ``target_events`` events are stored; then SIGTERM."""
    config: dict[str, Any] = {
        "log_level": "WARNING",
        "kafka": {"bootstrap_servers": bootstrap, "topic": topic, "group_id": f"bench-{name}-{time.time_ns()}"},
        "clickhouse": {"dsn": f"chdb:{workdir / ('chdb-' + name)}"},
        "candidates": candidates,
    }
    if pipeline:
        config["pipeline"] = pipeline
    config_path = workdir / f"{name}.yaml"
    config_path.write_text(json.dumps(config))  # JSON is YAML
    port = free_port()
    log = (workdir / f"{name}.log").open("wb")
    shadow = [sys.executable, "-m", "shadow", "run", "-c", str(config_path), "--metrics-port", str(port)]
    # ``code``: another checkout of shadow to run instead of this one (a before/after comparison).
    env = {**os.environ, "PYTHONPATH": str(code)} if code is not None else None
    process = subprocess.Popen(
        ["taskset", "-c", str(WORKER_CPU), *shadow], stdout=log, stderr=subprocess.STDOUT, cwd=workdir, env=env
    )
    per_event = len(candidates)
    start_rows, end_rows = 0.1 * target_events * per_event, 0.9 * target_events * per_event
    t0 = cpu0 = rows0 = None
    spy: subprocess.Popen[bytes] | None = None
    deadline = time.monotonic() + timeout_s
    try:
        while True:
            if process.poll() is not None:
                log_path = workdir / f"{name}.log"
                raise RuntimeError(f"{name}: the worker exited with {process.returncode}; see {log_path}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name}: not done after {timeout_s:.0f} s")
            rows = rows_written(port)
            now, (user, system) = time.monotonic(), cpu_seconds(process.pid)
            cpu = (user + system, system)
            if rows is not None:
                if t0 is None and rows >= start_rows:
                    t0, cpu0, rows0 = now, cpu, rows
                    if profile is not None:
                        spy = start_profile(process.pid, profile)
                elif t0 is not None and rows >= end_rows:
                    assert cpu0 is not None and rows0 is not None
                    rss = memory_mb(process.pid, "VmRSS")
                    peak = memory_mb(process.pid, "VmHWM")
                    events = round((rows - rows0) / per_event)
                    return Run(name, events, now - t0, cpu[0] - cpu0[0], cpu[1] - cpu0[1], rss, peak)
            time.sleep(0.1)
    finally:
        if spy is not None:
            spy.send_signal(signal.SIGINT)
            spy.wait(60)
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def start_profile(pid: int, path: Path) -> subprocess.Popen[bytes]:
    """py-spy sampling ``pid`` and its children (collapsed stacks to ``path``) until SIGINT, on the server's CPU."""
    spy = shutil.which("py-spy") or str(ROOT / ".venv" / "bin" / "py-spy")
    command = [spy, "record", "--pid", str(pid), "--rate", "250", "--gil", "--nonblocking", "--format", "raw"]
    return subprocess.Popen(
        ["taskset", "-c", str(SERVER_CPU), *command, "-o", str(path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def candidate(name: str, base_url: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "provider": "openai", "base_url": base_url, "model": f"{name}-model", **extra}


# --- raw parts --------------------------------------------------------------------------------


def raw_consume(bootstrap: str, topic: str, n: int) -> float:
    """Records/s of a bare aiokafka consumer reading the topic (this process, pinned to the worker's CPU)."""

    async def run() -> float:
        consumer = AIOKafkaConsumer(
            topic, bootstrap_servers=bootstrap, group_id=f"raw-{time.time_ns()}", auto_offset_reset="earliest"
        )
        await consumer.start()
        try:
            seen, t = 0, None
            while seen < n:
                batches = await consumer.getmany(timeout_ms=1000, max_records=1000)
                for records in batches.values():
                    if t is None:
                        t = time.perf_counter()
                    seen += len(records)
            assert t is not None
            return seen / (time.perf_counter() - t)
        finally:
            await consumer.stop()

    return asyncio.run(run())


def raw_http(base_url: str, n: int, concurrency: int = 256) -> float:
    """Requests/s of a bare aiohttp client posting the events' requests, ``concurrency`` in flight."""
    body = orjson.dumps({"model": "candidate-model", "messages": [{"role": "user", "content": "x" * 200}]})

    async def run() -> float:
        connector = aiohttp.TCPConnector(limit=concurrency)
        async with aiohttp.ClientSession(connector=connector) as session:
            left = n

            async def work() -> None:
                nonlocal left
                while left > 0:
                    left -= 1
                    async with session.post(
                        base_url + "/chat/completions", data=body, headers={"content-type": "application/json"}
                    ) as response:
                        orjson.loads(await response.read())

            await asyncio.gather(*(work() for _ in range(min(concurrency, 64))))  # warm the pool
            left = n
            t = time.perf_counter()
            await asyncio.gather(*(work() for _ in range(concurrency)))
            return n / (time.perf_counter() - t)

    return asyncio.run(run())


def raw_diff_us(events: list[bytes], server_answers: list[str], pairs: int = 2000) -> float:
    """Median µs of ``shadow.diff.compare`` on the benchmark's own answer pairs (production's side included)."""
    decoded = [decode_event(e, max_bytes=1 << 20) for e in events[: min(pairs, len(events))]]
    candidates = [parse_response(Api.OPENAI_CHAT, chat_completion(t, "candidate-model")) for t in server_answers]
    times = []
    gc.disable()
    try:
        for i, event in enumerate(decoded):
            production = event.production
            other = candidates[i % len(candidates)]
            t = time.perf_counter()
            compare(production, other)
            times.append(time.perf_counter() - t)
    finally:
        gc.enable()
    return statistics.median(times) * 1e6


def raw_insert(chdb_dir: Path, batch: int = 1000, batches: int = 5) -> float:
    """Rows/s of clickhouse-connect inserting the worker's own stored rows back, ``batch`` rows at a time."""
    client = clickhouse_connect.get_client(dsn=f"chdb://{chdb_dir}")
    try:
        result = client.query(f"SELECT * FROM shadow.comparisons LIMIT {batch * batches}")
        columns, rows = result.column_names, result.result_rows
        client.command("CREATE TABLE shadow.comparisons_raw AS shadow.comparisons")
        t = time.perf_counter()
        for i in range(0, len(rows), batch):
            client.insert("shadow.comparisons_raw", rows[i : i + batch], column_names=columns)
        return len(rows) / (time.perf_counter() - t)
    finally:
        client.close()


# --- main -------------------------------------------------------------------------------------

ALL = ("one", "three", "defaults", "latency", "latency-fixed", "memory")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=20000, help="events on the topic (default 20,000)")
    parser.add_argument("--quick", action="store_true", help="8,000 events and shorter slow-candidate runs")
    parser.add_argument("--scenarios", default=",".join(ALL), help=f"comma-separated, from {','.join(ALL)}")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (logs, chDB stores)")
    parser.add_argument(
        "--before",
        type=Path,
        help="a checkout of an earlier shadow (git worktree add DIR REV): adds its run 'before' beside 'one'",
    )
    parser.add_argument(
        "--profile", type=Path, help="write py-spy collapsed stacks of each run to this directory (needs py-spy)"
    )
    add_goals_argument(parser)
    args = parser.parse_args()
    n = 8000 if args.quick else args.events
    slow_n = 4000 if args.quick else 9000
    scenarios = [s for s in args.scenarios.split(",") if s]
    unknown = set(scenarios) - set(ALL)
    if unknown:
        parser.error(f"unknown scenarios: {', '.join(sorted(unknown))}")
    if os.cpu_count() is None or (os.cpu_count() or 1) < 2:
        parser.error("needs two CPUs: one for the worker, one for the candidate server")

    print(machine_facts())
    print(f"{n:,} events of ~1.3 KB; worker pinned to CPU {WORKER_CPU}, candidate server to CPU {SERVER_CPU}")
    workdir = Path(tempfile.mkdtemp(prefix="shadow-bench-e2e-"))
    runs: dict[str, Run] = {}
    raw: dict[str, float] = {}
    events = make_events(n)
    print(f"mean event size: {statistics.mean(len(e) for e in events):,.0f} bytes", flush=True)
    try:
        with kafka() as bootstrap, candidate_server() as instant:
            topic = f"bench.e2e.{time.time_ns()}"
            asyncio.run(produce(bootstrap, topic, events))

            def go(name: str, cands: list[dict[str, Any]], target: int, **kw: Any) -> None:
                print(f"  running {name} ...", file=sys.stderr, flush=True)
                profile = args.profile / f"{name}.txt" if args.profile else None
                runs[name] = run_worker(
                    name,
                    bootstrap=bootstrap,
                    topic=topic,
                    candidates=cands,
                    target_events=target,
                    workdir=workdir,
                    profile=profile,
                    **kw,
                )

            if "one" in scenarios:
                go("one", [candidate("c1", instant, max_concurrency=256)], n)
                if args.before is not None:
                    go("before", [candidate("c1", instant, max_concurrency=256)], n, code=args.before.resolve())
            if "three" in scenarios:
                go("three", [candidate(f"c{i}", instant, max_concurrency=256) for i in (1, 2, 3)], n)
            if "defaults" in scenarios:
                go("window", [candidate("c1", instant, max_concurrency=256)], n, pipeline={"max_in_flight": 2048})
                go("defaults", [candidate("c1", instant)], n)

            os.sched_setaffinity(0, {WORKER_CPU})
            print("  raw parts ...", file=sys.stderr, flush=True)
            raw["consume"] = raw_consume(bootstrap, topic, n)
            raw["http"] = raw_http(instant, min(n, 10000))
            raw["diff_us"] = raw_diff_us(events, kilobyte_answers(64, seed=2))
            if "one" in scenarios:
                raw["insert"] = raw_insert(workdir / "chdb-one")
            os.sched_setaffinity(0, {WORKER_CPU, SERVER_CPU})

        slow_scenarios = [name for name in ("latency", "memory", "latency-fixed") if name in scenarios]
        for name in slow_scenarios:
            spread = 0.0 if name == "latency-fixed" else LATENCY_SPREAD
            with kafka() as bootstrap, candidate_server(latency_ms=1500, spread=spread) as slow:
                topic = f"bench.e2e.slow.{time.time_ns()}"
                asyncio.run(produce(bootstrap, topic, make_events(slow_n + 4096 * 2)))

                def slow_go(run_name: str, window: int, target: int, where: tuple[str, str, str]) -> None:
                    print(f"  running {run_name} ...", file=sys.stderr, flush=True)
                    runs[run_name] = run_worker(
                        run_name,
                        bootstrap=where[0],
                        topic=where[1],
                        candidates=[candidate("slow", where[2], max_concurrency=window, timeout_s=30)],
                        target_events=target,
                        workdir=workdir,
                        pipeline={"max_in_flight": window},
                    )

                where = (bootstrap, topic, slow)
                if name == "memory":
                    slow_go("memory-256", 256, min(slow_n, 2000), where)
                    slow_go("memory-4096", 4096, slow_n, where)
                else:
                    slow_go(name, 1000, slow_n, where)
    finally:
        if args.keep:
            print(f"work directory kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)

    print()
    print("| run | events | seconds | events/s | CPU µs per replay | of which kernel | RSS MB | peak RSS MB |")
    print("|---|---|---|---|---|---|---|---|")
    for r in runs.values():
        print(
            f"| {r.name} | {r.events:,} | {r.seconds:.1f} | {r.events_per_s:,.0f} | {r.cpu_us_per_replay:,.0f} "
            f"| {r.sys_s / r.cpu_s:.0%} | {r.rss_mb:,.0f} | {r.peak_rss_mb:,.0f} |"
        )
    print()
    print("| raw part (same run) | figure | CPU µs per event |")
    print("|---|---|---|")
    floor = 0.0
    for key, label, unit in (
        ("consume", "aiokafka consumer", "records/s"),
        ("http", "aiohttp client, 256 in flight", "requests/s"),
        ("insert", "clickhouse-connect insert, batches of 1,000", "rows/s"),
    ):
        if key in raw:
            floor += 1e6 / raw[key]
            print(f"| {label} | {raw[key]:,.0f} {unit} | {1e6 / raw[key]:,.0f} |")
    if "diff_us" in raw:
        floor += raw["diff_us"]
        print(f"| shadow.diff.compare, median of the run's pairs | {raw['diff_us']:,.0f} µs | {raw['diff_us']:,.0f} |")
    print(f"| sum of the raw parts | | {floor:,.0f} |")

    goals: list[GoalRow] = []
    if "one" in runs:
        r = runs["one"]
        goals.append(
            bound_row(
                BENCH, "events/s per worker core, 1 candidate", figure=r.events_per_s, unit="events/s", at_least=3000
            )
        )
        goals.append(
            bound_row(
                BENCH,
                "CPU per replay, 1 candidate",
                figure=r.cpu_us_per_replay,
                unit="µs",
                at_most=330,
                baseline_label="sum of raw parts",
                baseline=floor,
            )
        )
    if "three" in runs:
        goals.append(
            bound_row(
                BENCH,
                "events/s per worker core, 3 candidates",
                figure=runs["three"].events_per_s,
                unit="events/s",
                at_least=1200,
            )
        )
    if "defaults" in runs and "window" in runs:
        goals.append(
            ratio_row(
                BENCH,
                "default settings vs CPU-bound rate",
                baseline_label="max_in_flight 2,048",
                baseline=runs["window"].events_per_s,
                figure=runs["defaults"].events_per_s,
                unit="events/s",
                at_least=0.90,
            )
        )
    for name, label in (
        ("latency", "1.5 s candidate (1.05-1.95 s), 1,000 in flight"),
        ("latency-fixed", "exactly 1.5 s candidate, 1,000 in flight"),
    ):
        if name in runs:
            goals.append(
                ratio_row(
                    BENCH,
                    label,
                    baseline_label="in flight / mean latency",
                    baseline=1000 / 1.5,
                    figure=runs[name].events_per_s,
                    unit="events/s",
                    at_least=0.90,
                )
            )
    if "memory-256" in runs and "memory-4096" in runs:
        small, large = runs["memory-256"], runs["memory-4096"]
        growth = large.rss_mb - small.rss_mb
        print(
            f"\nresident memory, 1.5 s candidate: {small.rss_mb:,.0f} MB at 256 in flight, {large.rss_mb:,.0f} MB at "
            f"4,096 (+{growth:,.0f} MB, {growth * 1024 / (4096 - 256):.0f} KB per extra slot)"
        )
    if goals:
        print()
        print(render_table(goals))
    write_goals(args.goals_json, goals)


if __name__ == "__main__":
    main()
