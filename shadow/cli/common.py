"""What every ``shadow`` command shares: exit codes, logging, settings, JSON output and common flags."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from shadow.config import Settings, load_settings

if TYPE_CHECKING:
    from shadow.report.window import Filters

    Subparsers = argparse._SubParsersAction[argparse.ArgumentParser]

log = logging.getLogger("shadow")

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2
EXIT_GATE_ERROR = 3  # `gate` uses 0/1/2 for promote/rollback/hold

LOG_LEVELS = ["DEBUG", "INFO", "WARNING", "ERROR"]

# Libraries that log one line per request or per retriable hiccup; ours say what matters.
_QUIET_LOGGERS = ("aiokafka", "httpx", "httpcore")


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=getattr(logging, level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    # httpx logs every candidate request at INFO (thousands of lines a second at load) and aiokafka
    # every broker hiccup at WARNING/ERROR: at the default level both stay quiet; DEBUG shows them.
    for name in _QUIET_LOGGERS:
        logging.getLogger(name).setLevel(max(logging.WARNING, logging.getLogger().level))
    _redact_logs()


def cli_settings(args: argparse.Namespace, **overrides: Any) -> Settings:
    """Settings from ``--config``, else ``$SHADOW_CONFIG``, else ``./shadow.yaml`` if present, else defaults."""
    config = args.config or os.environ.get("SHADOW_CONFIG")
    if config is None and Path("shadow.yaml").is_file():
        config = "shadow.yaml"
    settings = load_settings(config, **overrides)
    _LOADED[:] = [settings]
    _redact_logs()
    return settings


# The settings cli_settings loaded last: their redaction applies to every log line (see _redact_logs).
_LOADED: list[Settings] = []


def _redact_logs() -> None:
    """From here on every log line passes the loaded settings' redaction and has their secrets scrubbed."""
    if _LOADED and logging.getLogger().handlers:
        from shadow.redaction import logs

        logs.install(_LOADED[0])


def print_json(data: Any) -> None:
    sys.stdout.write(orjson.dumps(data, option=orjson.OPT_INDENT_2, default=str).decode() + "\n")


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Keeps descriptions as written and shows an option's default once, only when it says something.

    argparse's ``ArgumentDefaultsHelpFormatter`` appends ``(default: X)`` to every option, also to those
    whose help already names its default and to those whose default is None or False.
    """

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        if (
            not action.option_strings
            or "default" in text
            or action.default is None
            or action.default is False
            or action.default is argparse.SUPPRESS
        ):
            return text
        return text + " (default: %(default)s)"


def add_command(sub: Subparsers, name: str, *, help: str, description: str) -> argparse.ArgumentParser:
    """A subcommand parser with the shared help formatter."""
    return sub.add_parser(name, help=help, description=description, formatter_class=HelpFormatter)


def add_common_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        "-c",
        metavar="FILE",
        help="YAML configuration (default: $SHADOW_CONFIG, else ./shadow.yaml if present, else built-in defaults)",
    )
    parser.add_argument("--log-level", choices=LOG_LEVELS, help="overrides log_level")


def add_window_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("window and filters")
    group.add_argument("--since", metavar="DURATION", help="only events of the last DURATION, e.g. 1h, 30m, 7d")
    group.add_argument("--from", dest="start", metavar="TIME", help="only events at or after TIME (ISO 8601)")
    group.add_argument("--to", dest="end", metavar="TIME", help="only events before TIME (ISO 8601)")
    group.add_argument("--candidate", help="only this candidate")
    group.add_argument("--workflow", help="only this workflow")
    group.add_argument("--tenant", help="only this tenant")


def filters_from(args: argparse.Namespace) -> Filters:
    """The window and filters given by :func:`add_window_options`' flags."""
    from shadow.redaction import KEY_ENV, Redactor, key_configured
    from shadow.report.window import Filters, Window

    # Rows hold tenant and workflow as the redaction left them (with SHADOW_REDACTION_KEY, the workers'
    # tokens): filter with the same form, so `--tenant jane@example.com` finds that tenant's rows.
    redact = Redactor.from_settings(_LOADED[0].redaction) if _LOADED else None
    workflow, tenant = args.workflow, args.tenant
    if redact is not None:
        workflow, tenant = (redact(v) if v else v for v in (workflow, tenant))
        if (workflow, tenant) != (args.workflow, args.tenant) and not key_configured(_LOADED[0].redaction):
            log.warning(
                "--tenant/--workflow hold a value the redaction replaces, and no redaction key is set "
                "(%s): the rows' tokens cannot be matched, so nothing will be found",
                KEY_ENV,
            )
    return Filters(Window.from_options(args.since, args.start, args.end), candidate=args.candidate, workflow=workflow,
                   tenant=tenant)  # fmt: skip
