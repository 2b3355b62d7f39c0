"""The ``shadow`` command line: run, migrate, produce, ctl, diff, summary, gate, serve, report, demo and tools.

One module per command group registers its commands, each with its flags next to its handler:
``worker`` (run, migrate, produce), ``control`` (ctl: disable, enable, pause, show), ``compare`` (diff),
``read`` (summary, gate, serve, report), ``maintenance`` (rollup, rescore), ``demo``, ``tools`` (schema,
config, candidate-server).

Exit codes: 0 success; 1 a runtime failure (store, Kafka); 2 bad usage, configuration or input.
``shadow gate`` answers 0 promote, 1 rollback, 2 hold, and 3 when it cannot decide at all.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence

from shadow import __version__
from shadow.cli import compare, control, demo, maintenance, read, tools, worker
from shadow.cli.common import EXIT_FAILURE, EXIT_USAGE, HelpFormatter, log
from shadow.errors import ConfigError, ShadowError

_GROUPS = (worker, control, compare, read, maintenance, demo, tools)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="shadow",
        description="Replay mirrored production LLM calls against candidate models, diff the answers, "
        "store one row per event and candidate in ClickHouse, and read the results.",
        formatter_class=HelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"shadow {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for group in _GROUPS:
        group.register(sub)
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
