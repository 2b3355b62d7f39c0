"""The ``shadow`` command line: run, migrate, produce, diff, summary, gate, serve, report, demo and tools.

Exit codes: 0 success; 1 a runtime failure (store, Kafka); 2 bad usage, configuration or input.
``shadow gate`` answers 0 promote, 1 rollback, 2 hold, and 3 when it cannot decide at all.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import orjson

from shadow import __version__
from shadow.config import Settings, load_settings
from shadow.errors import ConfigError, ShadowError

if TYPE_CHECKING:
    from shadow.diff.cost import Price

log = logging.getLogger("shadow")

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2
EXIT_GATE_ERROR = 3  # `gate` uses 0/1/2 for promote/rollback/hold


def _configure_logging(level: str) -> None:
    logging.basicConfig(
        level=getattr(logging, level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    # aiokafka reports every retriable broker hiccup at WARNING/ERROR; ours say what matters.
    logging.getLogger("aiokafka").setLevel(max(logging.WARNING, logging.getLogger().level))


def _settings(args: argparse.Namespace, **overrides: Any) -> Settings:
    config = args.config or os.environ.get("SHADOW_CONFIG")
    if config is None and Path("shadow.yaml").is_file():
        config = "shadow.yaml"
    return load_settings(config, **overrides)


def _print_json(data: Any) -> None:
    sys.stdout.write(orjson.dumps(data, option=orjson.OPT_INDENT_2, default=str).decode() + "\n")


# --- commands ---------------------------------------------------------------------------------


def cmd_run(args: argparse.Namespace) -> int:
    from shadow.pipeline import run_worker

    overrides: dict[str, Any] = {}
    if args.input is not None:
        overrides["source"] = {"kind": "ndjson", "path": args.input}
    elif args.source is not None:
        overrides["source"] = {"kind": args.source}
    settings = _settings(args)
    if overrides:
        merged = settings.source.model_dump() | overrides["source"]
        settings = settings.model_copy(update={"source": type(settings.source)(**merged)})
    if args.stop_after_idle is not None:
        settings = settings.model_copy(
            update={"pipeline": settings.pipeline.model_copy(update={"stop_after_idle_s": args.stop_after_idle})}
        )
    _configure_logging(args.log_level or settings.log_level)
    if args.metrics_port is not None:
        from prometheus_client import start_http_server

        from shadow.metrics import REGISTRY

        start_http_server(args.metrics_port, addr=args.metrics_host, registry=REGISTRY)
        log.info("metrics on http://%s:%d/metrics", args.metrics_host, args.metrics_port)
    stats = asyncio.run(run_worker(settings, auto_migrate=not args.no_migrate))
    if args.stats:
        _print_json(stats.as_dict())
    return EXIT_OK


def cmd_migrate(args: argparse.Namespace) -> int:
    from shadow.storage.migrate import applied_versions, migrate
    from shadow.storage.store import ClickHouseStore

    settings = _settings(args)
    _configure_logging(args.log_level or settings.log_level)
    with ClickHouseStore(settings.clickhouse) as store:
        done = migrate(store)
        versions = applied_versions(store)
        target = str(store.target)
    if done:
        for migration in done:
            print(f"applied {migration.version:04d}_{migration.name}")
    print(f"{target} database {settings.clickhouse.database}: schema at version {max(versions)} (up to date)")
    return EXIT_OK


def cmd_produce(args: argparse.Namespace) -> int:
    from shadow.events.kafka import connection_options

    settings = _settings(args)
    _configure_logging(args.log_level or settings.log_level)
    kafka = settings.kafka
    if args.bootstrap_servers:
        kafka = kafka.model_copy(update={"bootstrap_servers": args.bootstrap_servers})
    topic = args.topic or kafka.topic
    path = Path(args.file)
    if args.file != "-" and not path.is_file():
        raise ConfigError(f"{args.file} does not exist")
    lines = (sys.stdin.buffer if args.file == "-" else path.open("rb")).read().splitlines()

    async def publish() -> int:
        from aiokafka import AIOKafkaProducer

        producer = AIOKafkaProducer(acks="all", max_request_size=args.max_request_bytes, **connection_options(kafka))
        await producer.start()
        sent = 0
        try:
            futures = []
            for line in lines:
                if not line.strip():
                    continue
                key = None
                try:
                    event_id = orjson.loads(line).get("event_id")
                    key = event_id.encode() if isinstance(event_id, str) else None
                except (orjson.JSONDecodeError, AttributeError):
                    pass  # published as-is: validating is the worker's job (it dead-letters bad input)
                futures.append(await producer.send(topic, line, key=key))
                sent += 1
            await asyncio.gather(*futures)
        finally:
            await producer.stop()
        return sent

    sent = asyncio.run(publish())
    print(f"published {sent} messages to {topic} on {kafka.bootstrap_servers}")
    return EXIT_OK


def _read_json_file(path: str, what: str) -> Any:
    try:
        return orjson.loads(Path(path).read_bytes())
    except FileNotFoundError:
        raise ConfigError(f"{what} file {path} does not exist") from None
    except orjson.JSONDecodeError as exc:
        raise ConfigError(f"{what} file {path} is not valid JSON: {exc}") from None


def _detect_api(body: Any, forced: str | None, what: str) -> Any:
    from shadow.events.models import Api

    if forced:
        return Api.OPENAI_CHAT if forced == "openai" else Api.ANTHROPIC_MESSAGES
    if isinstance(body, dict) and "choices" in body:
        return Api.OPENAI_CHAT
    if isinstance(body, dict) and isinstance(body.get("content"), list):
        return Api.ANTHROPIC_MESSAGES
    raise ConfigError(f"{what}: cannot tell the API (no 'choices' and no 'content' array); pass --api")


def cmd_diff(args: argparse.Namespace) -> int:
    from shadow.diff.behaviour import DEFAULT_REFUSAL_DETECTOR
    from shadow.diff.compare import DiffContext, compare
    from shadow.errors import ResponseFormatError
    from shadow.events.models import MirrorEvent
    from shadow.events.wire import parse_response

    sides = []
    request: dict[str, Any] | None = None
    latencies: list[float | None] = [args.production_latency_ms, args.candidate_latency_ms]
    for index, (path, what) in enumerate(((args.production, "production"), (args.candidate, "candidate"))):
        data = _read_json_file(path, what)
        if isinstance(data, dict) and "schema_version" in data and "api" in data:
            event = MirrorEvent.model_validate(data)
            request = request or event.request
            latencies[index] = latencies[index] if latencies[index] is not None else event.latency_ms
            body, api = event.response, event.api
            if body is None:
                raise ConfigError(f"{what} file {path} is a mirror event without a response")
        else:
            body = data
            api = _detect_api(body, args.api, f"{what} file {path}")
        try:
            sides.append(parse_response(api, body))
        except ResponseFormatError as exc:
            raise ConfigError(f"{what} file {path}: {exc}") from None
    if args.request:
        request = _read_json_file(args.request, "request")
    schema = _read_json_file(args.schema, "schema") if args.schema else None
    refusal, prices = DEFAULT_REFUSAL_DETECTOR, cast("Mapping[str, Price]", {})
    if args.config or os.environ.get("SHADOW_CONFIG"):
        from shadow.pipeline import comparator_options

        refusal, prices = comparator_options(_settings(args))
    context = DiffContext.from_request(request, workflow_schema=schema, refusal=refusal, prices=prices)
    comparison = compare(
        sides[0], sides[1], context, production_latency_ms=latencies[0], candidate_latency_ms=latencies[1]
    )
    _print_json(comparison.to_dict())
    return EXIT_OK


def _filters(args: argparse.Namespace) -> Any:
    from shadow.report.window import Filters, Window

    return Filters(
        Window.from_options(args.since, args.start, args.end),
        candidate=args.candidate,
        workflow=args.workflow,
        tenant=args.tenant,
    )


def cmd_summary(args: argparse.Namespace) -> int:
    from shadow.report.summary import query_summary, render_markdown, render_table
    from shadow.storage.store import ClickHouseStore

    settings = _settings(args)
    _configure_logging(args.log_level or "WARNING")
    filters = _filters(args)
    with ClickHouseStore(settings.clickhouse) as store:
        summary = query_summary(store, filters, settings)
    if args.format == "json":
        _print_json(summary)
    elif args.format == "markdown":
        sys.stdout.write(render_markdown(summary, filters.window))
    else:
        sys.stdout.write(render_table(summary, filters.window, color=sys.stdout.isatty()))
    return EXIT_OK


def cmd_gate(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from shadow.report.gate import evaluate_gate, load_policy, render_gate
    from shadow.storage.store import ClickHouseStore

    if args.start:
        args.since = None
    try:
        policy = load_policy(args.policy)
        if args.seed is not None:
            policy = policy.model_copy(update={"seed": args.seed})
        settings = _settings(args)
        filters = _filters(args)
    except ConfigError as exc:
        print(f"shadow gate: {exc}", file=sys.stderr)
        return EXIT_GATE_ERROR
    _configure_logging(args.log_level or "WARNING")
    start, end = filters.window.bounds(datetime.now(UTC))
    try:
        with ClickHouseStore(settings.clickhouse) as store:
            result = evaluate_gate(store, policy, args.candidate, start, end, tenant=args.tenant)
    except ShadowError as exc:
        print(f"shadow gate: {exc}", file=sys.stderr)
        return EXIT_GATE_ERROR
    if args.format == "json":
        _print_json(result.to_dict())
    else:
        sys.stdout.write(render_gate(result, color=sys.stdout.isatty()))
    return result.exit_code


def cmd_serve(args: argparse.Namespace) -> int:
    from shadow.report.gate import load_policy
    from shadow.report.serve import GateService, serve
    from shadow.storage.store import ClickHouseStore

    settings = _settings(args)
    policy = load_policy(args.policy)
    _configure_logging(args.log_level or settings.log_level)

    async def run() -> None:
        with ClickHouseStore(settings.clickhouse) as store:
            service = GateService(store, policy, default_since=args.since, cache_s=args.cache_s)
            await serve(service, args.host, args.port)

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run())
    return EXIT_OK


def cmd_report(args: argparse.Namespace) -> int:
    from shadow.report.data import report_data
    from shadow.report.gate import load_policy
    from shadow.report.html import render_report
    from shadow.storage.store import ClickHouseStore

    settings = _settings(args)
    policy = load_policy(args.policy) if args.policy else None
    _configure_logging(args.log_level or "WARNING")
    filters = _filters(args)
    with ClickHouseStore(settings.clickhouse) as store:
        data = report_data(store, filters, policy=policy, title=args.title)
    page = render_report(data)
    output = Path(args.output)
    output.write_text(page, encoding="utf-8")
    print(f"wrote {output} ({len(page.encode()) // 1024} KB): {len(data['candidates'])} candidates, "
          f"{filters.window.describe()}")  # fmt: skip
    return EXIT_OK


def cmd_rollup(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from shadow.storage.rollup import refresh_rollups
    from shadow.storage.store import ClickHouseStore

    settings = _settings(args)
    _configure_logging(args.log_level or "WARNING")
    filters = _filters(args)
    start, end = filters.window.bounds(datetime.now(UTC))
    with ClickHouseStore(settings.clickhouse) as store:
        hours = refresh_rollups(store, start, end)
    print(f"recomputed {hours} hourly rollups for {filters.window.describe()}")
    return EXIT_OK


def cmd_rescore(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from shadow.pipeline import comparator_options
    from shadow.sink.rescore import rescore, window_clause
    from shadow.storage.rollup import refresh_rollups
    from shadow.storage.store import ClickHouseStore

    settings = _settings(args)
    _configure_logging(args.log_level or "WARNING")
    filters = _filters(args)
    start, end = filters.window.bounds(datetime.now(UTC))
    where, params = window_clause(start, end, filters.candidate, filters.workflow, filters.tenant)
    refusal, prices = comparator_options(settings)
    with ClickHouseStore(settings.clickhouse) as store:
        result = rescore(
            store,
            where,
            params,
            refusal=refusal,
            prices=prices,
            outdated_only=args.outdated_only,
            progress=lambda n: print(f"  {n} rows re-scored", file=sys.stderr, flush=True),
        )
        hours = refresh_rollups(store, start, end) if result.rows else 0
    print(
        f"re-scored {result.rows} rows with comparator version {result.comparator_version} "
        f"({result.outdated} were written by an older version; {hours} hourly rollups recomputed); "
        f"window: {filters.window.describe()}"
    )
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    from shadow.demo.run import DEMO_EVENTS, run_demo
    from shadow.report.summary import render_table
    from shadow.report.window import Window

    _configure_logging(args.log_level or "WARNING")

    def say(message: str) -> None:
        print(f"shadow demo: {message}", file=sys.stderr, flush=True)

    events = Path(args.events) if args.events else DEMO_EVENTS
    result = asyncio.run(run_demo(events=events, config_file=Path(args.config) if args.config else None, progress=say))
    stats = result.stats
    say(
        f"done in {result.seconds:.1f}s: {stats.consumed} events consumed, {stats.replayed} replayed, "
        f"{stats.skipped} skipped, {stats.dead_lettered} dead-lettered, {stats.rows_written} comparison rows stored"
    )
    if args.format == "json":
        _print_json(result.summary)
    else:
        sys.stdout.write(render_table(result.summary, Window(), color=sys.stdout.isatty()))
        print("\nNext: `shadow summary --format json` for every figure, `shadow diff` to compare two responses,")
        print("and README.md to point shadow at your Kafka topic and ClickHouse.")
    return EXIT_OK


def cmd_schema(args: argparse.Namespace) -> int:
    from shadow.events.models import mirror_event_json_schema

    _print_json(mirror_event_json_schema())
    return EXIT_OK


def cmd_config(args: argparse.Namespace) -> int:
    if args.reference:
        from shadow.config import config_reference

        sys.stdout.write(config_reference())
        return EXIT_OK
    settings = _settings(args)
    _print_json(settings.masked())
    return EXIT_OK


def cmd_candidate_server(args: argparse.Namespace) -> int:
    from shadow.demo.run import DEMO_RECORDINGS
    from shadow.demo.server import CandidateServer, Recordings

    _configure_logging(args.log_level or "INFO")

    async def serve() -> None:
        server = CandidateServer(
            Recordings.load(Path(args.recordings) if args.recordings else DEMO_RECORDINGS),
            port=args.port,
            latency_scale=args.latency_scale,
            host=args.host,
        )
        url = await server.start()
        log.info("candidate endpoint on %s (OpenAI: /v1/chat/completions, Anthropic: /v1/messages)", url)
        try:
            await asyncio.Event().wait()  # until interrupted
        finally:
            await server.stop()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve())
    return EXIT_OK


# --- parser -----------------------------------------------------------------------------------


class _Formatter(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
    pass


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        "-c",
        metavar="FILE",
        help="YAML configuration (default: $SHADOW_CONFIG, else ./shadow.yaml if present, else built-in defaults)",
    )
    parser.add_argument("--log-level", choices=["DEBUG", "INFO", "WARNING", "ERROR"], help="overrides log_level")


def _window(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("window and filters")
    group.add_argument("--since", metavar="DURATION", help="only events of the last DURATION, e.g. 1h, 30m, 7d")
    group.add_argument("--from", dest="start", metavar="TIME", help="only events at or after TIME (ISO 8601)")
    group.add_argument("--to", dest="end", metavar="TIME", help="only events before TIME (ISO 8601)")
    group.add_argument("--candidate", help="only this candidate")
    group.add_argument("--workflow", help="only this workflow")
    group.add_argument("--tenant", help="only this tenant")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="shadow",
        description="Replay mirrored production LLM calls against candidate models, diff the answers, "
        "store one row per event and candidate in ClickHouse, and read the results.",
        formatter_class=_Formatter,
    )
    parser.add_argument("--version", action="version", version=f"shadow {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser(
        "run",
        help="run the worker (Kafka consumer group, or an NDJSON file)",
        description="Consume mirror events, replay each sampled one against every enabled candidate, diff, and "
        "write comparison rows to ClickHouse. Offsets are committed only below the lowest event whose rows are "
        "not stored yet. SIGTERM/SIGINT stop it cleanly: unfinished work is not committed and is replayed later.",
        formatter_class=_Formatter,
    )
    _common(run)
    run.add_argument("--source", choices=["kafka", "ndjson"], help="overrides source.kind")
    run.add_argument("--input", metavar="PATH", help="read this NDJSON file ('-' for stdin) instead of Kafka")
    run.add_argument(
        "--stop-after-idle",
        type=float,
        metavar="SECONDS",
        help="exit after SECONDS without new records (backfills, tests); an NDJSON input exits at its end anyway",
    )
    run.add_argument("--metrics-port", type=int, metavar="PORT", help="serve Prometheus metrics on this port")
    run.add_argument("--metrics-host", default="127.0.0.1", help="address for --metrics-port")
    run.add_argument("--no-migrate", action="store_true", help="do not apply pending DDL at start")
    run.add_argument("--stats", action="store_true", help="print the run's counts as JSON when it stops")
    run.set_defaults(handler=cmd_run)

    migrate = sub.add_parser(
        "migrate",
        help="create or upgrade the ClickHouse tables",
        description="Apply the versioned DDL of schemas/clickhouse/ to the configured ClickHouse (or chDB). "
        "Idempotent: applied versions are recorded in schema_migrations and skipped.",
        formatter_class=_Formatter,
    )
    _common(migrate)
    migrate.set_defaults(handler=cmd_migrate)

    produce = sub.add_parser(
        "produce",
        help="publish NDJSON mirror events to Kafka",
        description="Publish each non-empty line of FILE as one Kafka message (key: its event_id when the line is "
        "JSON with one). Lines are sent verbatim, so malformed input reaches the worker's dead letters.",
        formatter_class=_Formatter,
    )
    _common(produce)
    produce.add_argument("file", metavar="FILE", help="NDJSON file, or '-' for stdin")
    produce.add_argument("--topic", "-t", help="topic (default: kafka.topic)")
    produce.add_argument("--bootstrap-servers", "-b", help="overrides kafka.bootstrap_servers")
    produce.add_argument("--max-request-bytes", type=int, default=4 * 1024 * 1024, help="largest message to send")
    produce.set_defaults(handler=cmd_produce)

    diff = sub.add_parser(
        "diff",
        help="compare two saved provider responses and print every metric as JSON",
        description="Compare a production response with a candidate response (OpenAI chat completion or Anthropic "
        "message bodies, or whole mirror events) and print the metrics of every diff family as JSON. The request "
        "(or a mirror event) supplies the response schema and tool schemas to validate against.",
        formatter_class=_Formatter,
    )
    _common(diff)
    diff.add_argument("production", metavar="PROD.json", help="production's response body (or a mirror event)")
    diff.add_argument("candidate", metavar="CAND.json", help="the candidate's response body (or a mirror event)")
    diff.add_argument("--request", metavar="REQ.json", help="the request body (response_format, tools)")
    diff.add_argument("--schema", metavar="SCHEMA.json", help="JSON Schema the answer must follow")
    diff.add_argument("--api", choices=["openai", "anthropic"], help="wire format of both files (default: detect)")
    diff.add_argument("--production-latency-ms", type=float, help="production latency")
    diff.add_argument("--candidate-latency-ms", type=float, help="candidate latency")
    diff.set_defaults(handler=cmd_diff)

    summary = sub.add_parser(
        "summary",
        help="per candidate (× workflow) counts and rates, read from ClickHouse",
        description="The on-call view: per candidate and per candidate × workflow, how many events were compared, "
        "candidate errors, JSON breakage, tool-call disagreement, length and similarity, refusals, latency and cost; "
        "and what became of every consumed record. Default window: all time.",
        formatter_class=_Formatter,
    )
    _common(summary)
    _window(summary)
    summary.add_argument("--format", choices=["table", "json", "markdown"], default="table")
    summary.set_defaults(handler=cmd_summary)

    gate = sub.add_parser(
        "gate",
        help="promote, hold or roll back a candidate by a statistical policy (exit 0/1/2)",
        description="Evaluate a gate policy (YAML rules such as 'JSON validity: no regression > 1 point', "
        "'p95 latency: no regression > 10%%') for one candidate over a window. Each rule is decided on a "
        "confidence interval (Wilson, Newcombe, bootstrap with a rank test), against production or the control "
        "lane. Exit code: 0 promote, 1 rollback, 2 hold (too little data or inconclusive), 3 error. See "
        "deploy/gate-policy.yaml.",
        formatter_class=_Formatter,
    )
    _common(gate)
    gate.add_argument("--policy", "-p", required=True, metavar="FILE", help="gate policy (YAML)")
    gate.add_argument("--candidate", required=True, help="the candidate to decide on")
    gate.add_argument("--since", metavar="DURATION", default="24h", help="window: the last DURATION")
    gate.add_argument("--from", dest="start", metavar="TIME", help="window start (ISO 8601); replaces --since")
    gate.add_argument("--to", dest="end", metavar="TIME", help="window end (ISO 8601)")
    gate.add_argument("--workflow", help="only this workflow")
    gate.add_argument("--tenant", help="only this tenant")
    gate.add_argument("--seed", type=int, help="bootstrap seed (overrides the policy's)")
    gate.add_argument("--format", choices=["table", "json"], default="table")
    gate.set_defaults(handler=cmd_gate)

    serve_parser = sub.add_parser(
        "serve",
        help="serve the gate over HTTP for Argo Rollouts and Flagger (/gate, /healthz, /metrics)",
        description="GET /gate?candidate=C&since=1h answers the gate result as JSON (Argo Rollouts' web metric: "
        "jsonPath {$.verdict}); POST /gate takes Flagger webhooks and answers 200 on promote, 503 on hold, 412 on "
        "rollback. /healthz checks ClickHouse; /metrics serves Prometheus metrics. See deploy/argo-rollouts and "
        "deploy/flagger.",
        formatter_class=_Formatter,
    )
    _common(serve_parser)
    serve_parser.add_argument("--policy", "-p", required=True, metavar="FILE", help="gate policy (YAML)")
    serve_parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve_parser.add_argument("--port", type=int, default=8080)
    serve_parser.add_argument("--since", default="1h", help="window when a caller gives none")
    serve_parser.add_argument("--cache-s", type=float, default=15.0, help="seconds a result is reused")
    serve_parser.set_defaults(handler=cmd_serve)

    report = sub.add_parser(
        "report",
        help="write a self-contained HTML report with charts",
        description="One HTML file that opens without network: gate results (with --policy), the scorecard beside "
        "the control lane, similarity, length-ratio and latency distributions per candidate, rates over time, and "
        "the worst examples side by side with their differences highlighted. Same queries as `shadow summary`.",
        formatter_class=_Formatter,
    )
    _common(report)
    _window(report)
    report.add_argument("--output", "-o", default="report.html", metavar="FILE", help="where to write the report")
    report.add_argument("--policy", "-p", metavar="FILE", help="also show gate results by this policy")
    report.add_argument("--title", default="shadow report", help="the report's title")
    report.set_defaults(handler=cmd_report)

    rollup = sub.add_parser(
        "rollup",
        help="recompute hourly rollups (after a backfill of old events)",
        description="ClickHouse recomputes the hourly rollups of recent hours by itself (refreshable materialized "
        "view); workers and `rescore` recompute the hours they touch. Run this after loading old data some other way.",
        formatter_class=_Formatter,
    )
    _common(rollup)
    _window(rollup)
    rollup.set_defaults(handler=cmd_rollup)

    rescore = sub.add_parser(
        "rescore",
        help="recompute the diff columns of stored rows with the current comparator (no model calls)",
        description="Read the rows in the window, compare their stored outputs again with the current comparator, "
        "refusal patterns and prices, and write them back with a newer row_version; the replacing engine then "
        "shows the re-scored rows. Stored texts are redacted and capped at clickhouse.max_text_chars, so answers "
        "longer than that are re-scored on their first max_text_chars characters.",
        formatter_class=_Formatter,
    )
    _common(rescore)
    _window(rescore)
    rescore.add_argument(
        "--outdated-only", action="store_true", help="only rows written by an older comparator_version"
    )
    rescore.set_defaults(handler=cmd_rescore)

    demo = sub.add_parser(
        "demo",
        help="run the whole pipeline on the bundled sample with embedded ClickHouse",
        description="Start a local OpenAI/Anthropic-compatible endpoint on 127.0.0.1 serving recorded candidate "
        "answers (with faults), replay the bundled mirror events through the real pipeline into chDB under "
        "./.shadow/, and print the summary read back from ClickHouse.",
        formatter_class=_Formatter,
    )
    demo.add_argument("--config", "-c", metavar="FILE", help="demo configuration (default: the bundled demo.yaml)")
    demo.add_argument("--events", metavar="FILE", help="NDJSON events to replay (default: the bundled sample)")
    demo.add_argument("--format", choices=["table", "json"], default="table")
    demo.add_argument("--log-level", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    demo.set_defaults(handler=cmd_demo)

    schema = sub.add_parser(
        "schema",
        help="print the JSON Schema of mirror event v1",
        description="Print the JSON Schema generated from the MirrorEvent model (committed as "
        "schemas/mirror_event.v1.schema.json). Producers can validate events against it before publishing; "
        "the worker validates every event the same way and dead-letters what fails.",
        formatter_class=_Formatter,
    )
    schema.set_defaults(handler=cmd_schema)

    config = sub.add_parser(
        "config",
        help="print the effective configuration (secrets masked)",
        description="Load the configuration as `run` would (file, SHADOW_* environment, defaults) and print it "
        "as JSON with secrets masked.",
        formatter_class=_Formatter,
    )
    _common(config)
    config.add_argument("--reference", action="store_true", help="print every setting as Markdown (README reference)")
    config.set_defaults(handler=cmd_config)

    server = sub.add_parser(
        "candidate-server",
        help="serve recorded candidate answers on an OpenAI/Anthropic-compatible endpoint (demo, tests)",
        description="A local stand-in for candidate model APIs: POST /v1/chat/completions and /v1/messages "
        "answer from recordings (model + hash of the user turns), including faults (timeouts, 429, 5xx).",
        formatter_class=_Formatter,
    )
    server.add_argument("--recordings", metavar="FILE", help="recordings.json (default: the bundled demo recordings)")
    server.add_argument("--host", default="127.0.0.1", help="address to listen on")
    server.add_argument("--port", type=int, default=8765)
    server.add_argument("--latency-scale", type=float, default=1.0, help="multiply recorded latencies")
    server.add_argument("--log-level", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    server.set_defaults(handler=cmd_candidate_server)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    started = time.monotonic()
    try:
        code: int = args.handler(args)
    except ConfigError as exc:
        print(f"shadow {args.command}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except ShadowError as exc:
        print(f"shadow {args.command}: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        return 130
    log.debug("%s finished in %.2fs", args.command, time.monotonic() - started)
    return code


if __name__ == "__main__":
    sys.exit(main())
