"""``shadow demo``: the whole pipeline on the bundled sample with embedded ClickHouse."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from shadow.cli.common import (
    EXIT_OK,
    LOG_LEVELS,
    add_command,
    configure_logging,
    print_json,
)

if TYPE_CHECKING:
    from shadow.cli.common import Subparsers


def cmd_demo(args: argparse.Namespace) -> int:
    from shadow.demo.run import DEMO_EVENTS, run_demo
    from shadow.report.summary import render_table
    from shadow.report.window import Window

    configure_logging(args.log_level or "WARNING")

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
        print_json(result.summary)
    else:
        sys.stdout.write(render_table(result.summary, Window(), color=sys.stdout.isatty()))
        print("\nNext: `shadow summary --format json` for every figure, `shadow diff` to compare two responses,")
        print("and README.md to point shadow at your Kafka topic and ClickHouse.")
    return EXIT_OK


def register(sub: Subparsers) -> None:
    """Add ``demo``."""
    demo = add_command(
        sub,
        "demo",
        help="run the whole pipeline on the bundled sample with embedded ClickHouse",
        description="Start a local OpenAI/Anthropic-compatible endpoint on 127.0.0.1 serving recorded candidate "
        "answers (with faults), replay the bundled mirror events through the real pipeline into chDB under "
        "./.shadow/, and print the summary read back from ClickHouse.",
    )
    demo.add_argument("--config", "-c", metavar="FILE", help="demo configuration (default: the bundled demo.yaml)")
    demo.add_argument("--events", metavar="FILE", help="NDJSON events to replay (default: the bundled sample)")
    demo.add_argument("--format", choices=["table", "json"], default="table", help="how to print the summary")
    demo.add_argument("--log-level", choices=LOG_LEVELS, help="log level (default: WARNING)")
    demo.set_defaults(handler=cmd_demo)
