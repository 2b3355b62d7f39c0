"""``shadow schema``, ``config``, ``candidate-server``.

The event schema, the effective configuration and a local candidate endpoint.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from shadow.cli.common import (
    EXIT_OK,
    LOG_LEVELS,
    add_command,
    add_common_options,
    cli_settings,
    configure_logging,
    log,
    print_json,
)

if TYPE_CHECKING:
    from shadow.cli.common import Subparsers
    from shadow.config import Settings


def cmd_schema(args: argparse.Namespace) -> int:
    from shadow.events.models import mirror_event_json_schema

    print_json(mirror_event_json_schema())
    return EXIT_OK


def cmd_config(args: argparse.Namespace) -> int:
    if args.reference:
        from shadow.config import config_reference

        sys.stdout.write(config_reference())
        return EXIT_OK
    settings = cli_settings(args)
    shown = settings.masked()
    warnings = privacy_warnings(settings)
    if warnings:
        shown = {"warnings": warnings, **shown}
        for warning in warnings:
            print(f"warning: {warning}", file=sys.stderr)
    print_json(shown)
    return EXIT_OK


def privacy_warnings(settings: Settings) -> list[str]:
    """What in the settings lets personal data or secrets out, said by `shadow config` (and the worker at start)."""
    from shadow.redaction import KEY_ENV, key_configured

    redaction = settings.redaction
    warnings = []
    if not redaction.enabled:
        warnings.append(
            "redaction is disabled (redaction.enabled: false): rows, dead letters and logs keep personal data"
        )
    elif not key_configured(redaction):
        warnings.append(
            f"no redaction key ({KEY_ENV} or redaction.key_file): each worker draws its own, so equal values "
            "get different tokens in different workers and runs"
        )
    if redaction.raw_dead_letters:
        warnings.append("redaction.raw_dead_letters: dead letters keep events as production sent them")
    return warnings


def cmd_candidate_server(args: argparse.Namespace) -> int:
    from shadow.demo.run import DEMO_RECORDINGS
    from shadow.demo.server import CandidateServer, Recordings

    configure_logging(args.log_level or "INFO")

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


def register(sub: Subparsers) -> None:
    """Add ``schema``, ``config``, ``candidate-server``."""
    schema = add_command(
        sub,
        "schema",
        help="print the JSON Schema of mirror event v1",
        description="Print the JSON Schema generated from the MirrorEvent model (committed as "
        "schemas/mirror_event.v1.schema.json). Producers can validate events against it before publishing; "
        "the worker validates every event the same way and dead-letters what fails.",
    )
    schema.set_defaults(handler=cmd_schema)
    config = add_command(
        sub,
        "config",
        help="print the effective configuration (secrets masked)",
        description="Load the configuration as `run` would (file, SHADOW_* environment, defaults) and print it "
        "as JSON with secrets masked.",
    )
    add_common_options(config)
    config.add_argument("--reference", action="store_true", help="print every setting as Markdown (README reference)")
    config.set_defaults(handler=cmd_config)
    server = add_command(
        sub,
        "candidate-server",
        help="serve recorded candidate answers on an OpenAI/Anthropic-compatible endpoint (demo, tests)",
        description="A local stand-in for candidate model APIs: POST /v1/chat/completions and /v1/messages "
        "answer from recordings (model + hash of the user turns), including faults (timeouts, 429, 5xx).",
    )
    server.add_argument("--recordings", metavar="FILE", help="recordings.json (default: the bundled demo recordings)")
    server.add_argument("--host", default="127.0.0.1", help="address to listen on")
    server.add_argument("--port", type=int, default=8765, help="port to listen on")
    server.add_argument("--latency-scale", type=float, default=1.0, help="multiply recorded latencies")
    server.add_argument("--log-level", choices=LOG_LEVELS, help="log level (default: INFO)")
    server.set_defaults(handler=cmd_candidate_server)
