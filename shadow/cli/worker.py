"""``shadow run``, ``migrate``, ``produce``: the worker and what it needs (tables, events in Kafka)."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from shadow.cli.common import (
    EXIT_OK,
    add_command,
    add_common_options,
    cli_settings,
    configure_logging,
    log,
    print_json,
)
from shadow.errors import ConfigError

if TYPE_CHECKING:
    from shadow.cli.common import Subparsers


def cmd_run(args: argparse.Namespace) -> int:
    from shadow.pipeline import run_worker

    overrides: dict[str, Any] = {}
    if args.input is not None:
        overrides["source"] = {"kind": "ndjson", "path": args.input}
    elif args.source is not None:
        overrides["source"] = {"kind": args.source}
    settings = cli_settings(args)
    if overrides:
        merged = settings.source.model_dump() | overrides["source"]
        settings = settings.model_copy(update={"source": type(settings.source)(**merged)})
    if args.stop_after_idle is not None:
        settings = settings.model_copy(
            update={"pipeline": settings.pipeline.model_copy(update={"stop_after_idle_s": args.stop_after_idle})}
        )
    configure_logging(args.log_level or settings.log_level)
    health = None
    if args.metrics_port is not None:
        from shadow.health import HealthServer

        # A thread, not the event loop: /healthz must answer (503) while the loop is stuck.
        health = HealthServer(args.metrics_host, args.metrics_port).start()
        log.info("metrics and probes on http://%s:%d (/metrics, /healthz, /readyz)", args.metrics_host, health.port)
    try:
        stats = asyncio.run(run_worker(settings, auto_migrate=not args.no_migrate, health=health))
    finally:
        if health is not None:
            health.close()
    if args.stats:
        print_json(stats.as_dict())
    return EXIT_OK


def cmd_migrate(args: argparse.Namespace) -> int:
    from shadow.storage.access import provision_access
    from shadow.storage.migrate import applied_versions, migrate
    from shadow.storage.store import ClickHouseStore

    settings = cli_settings(args)
    configure_logging(args.log_level or settings.log_level)
    with ClickHouseStore(settings.clickhouse) as store:
        done = migrate(store)
        versions = applied_versions(store)
        target = str(store.target)
        for migration in done:
            print(f"applied {migration.version:04d}_{migration.name}")
        print(f"{target} database {settings.clickhouse.database}: schema at version {max(versions)} (up to date)")
        # The roles and users of the writer, the gate and the readers (passwords from the environment).
        for line in provision_access(store, os.environ):
            print(line)
    return EXIT_OK


def cmd_produce(args: argparse.Namespace) -> int:
    from shadow.events.kafka import connection_options

    settings = cli_settings(args)
    configure_logging(args.log_level or settings.log_level)
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


def register(sub: Subparsers) -> None:
    """Add ``run``, ``migrate``, ``produce``."""
    run = add_command(
        sub,
        "run",
        help="run the worker (Kafka consumer group, or an NDJSON file)",
        description="Consume mirror events, replay each sampled one against every enabled candidate, diff, and "
        "write comparison rows to ClickHouse. Offsets are committed only below the lowest event whose rows are "
        "not stored yet. SIGTERM/SIGINT stop it cleanly: unfinished work is not committed and is replayed later.",
    )
    add_common_options(run)
    run.add_argument("--source", choices=["kafka", "ndjson"], help="overrides source.kind")
    run.add_argument("--input", metavar="PATH", help="read this NDJSON file ('-' for stdin) instead of Kafka")
    run.add_argument(
        "--stop-after-idle",
        type=float,
        metavar="SECONDS",
        help="exit after SECONDS without new records (backfills, tests); an NDJSON input exits at its end anyway",
    )
    run.add_argument(
        "--metrics-port",
        type=int,
        metavar="PORT",
        help="serve /metrics (Prometheus), /healthz (the event loop ticks) and /readyz (partitions assigned, "
        "store writable) on this port, from a thread beside the event loop",
    )
    run.add_argument("--metrics-host", default="127.0.0.1", help="address for --metrics-port")
    run.add_argument("--no-migrate", action="store_true", help="do not apply pending DDL at start")
    run.add_argument("--stats", action="store_true", help="print the run's counts as JSON when it stops")
    run.set_defaults(handler=cmd_run)
    migrate = add_command(
        sub,
        "migrate",
        help="create or upgrade the ClickHouse tables (and, on a server, shadow's roles and users)",
        description="Apply the versioned DDL of schemas/clickhouse/ to the configured ClickHouse (or chDB). "
        "Idempotent: applied versions are recorded in schema_migrations and skipped. On a ClickHouse server it "
        "then sets the roles of schemas/access/roles.sql (writer, gate, reader) and makes each role's user "
        "whose password is in the environment (SHADOW_CLICKHOUSE_WRITER_PASSWORD, SHADOW_CLICKHOUSE_GATE_PASSWORD, "
        "SHADOW_CLICKHOUSE_READER_PASSWORD, or *_FILE), changing its password when it exists: run it as an "
        "administrator. SHADOW_CLICKHOUSE_MANAGE_ACCESS=0 skips roles and users; chDB has no access control.",
    )
    add_common_options(migrate)
    migrate.set_defaults(handler=cmd_migrate)
    produce = add_command(
        sub,
        "produce",
        help="publish NDJSON mirror events to Kafka",
        description="Publish each non-empty line of FILE as one Kafka message (key: its event_id when the line is "
        "JSON with one). Lines are sent verbatim, so malformed input reaches the worker's dead letters.",
    )
    add_common_options(produce)
    produce.add_argument("file", metavar="FILE", help="NDJSON file, or '-' for stdin")
    produce.add_argument("--topic", "-t", help="topic (default: kafka.topic)")
    produce.add_argument("--bootstrap-servers", "-b", help="overrides kafka.bootstrap_servers")
    produce.add_argument("--max-request-bytes", type=int, default=4 * 1024 * 1024, help="largest message to send")
    produce.set_defaults(handler=cmd_produce)
