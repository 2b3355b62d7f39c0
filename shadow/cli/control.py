"""``shadow ctl``: the control plane's command (disable, enable, pause, limit, show).

A change is one record on the compacted control topic (``kafka.control_topic``), keyed by the
candidate's name (``*`` for every candidate, ``--all``); every worker of every group follows the
topic and applies it within about a second. ``show`` reads the topic to its end.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import socket
import sys
from typing import TYPE_CHECKING, Any

from shadow.cli.common import (
    EXIT_OK,
    add_command,
    add_common_options,
    cli_settings,
    configure_logging,
    print_json,
)
from shadow.errors import ConfigError

if TYPE_CHECKING:
    from shadow.cli.common import Subparsers
    from shadow.config import Settings
    from shadow.events.control import ControlRecord

GLOBAL = "*"  # shadow.events.control.ALL, spelled here so that --help does not import Kafka
MAX_REASON, MAX_BY = 1000, 200  # ControlRecord's limits


def default_by() -> str:
    """``user@host`` of whoever runs the command; whichever half cannot be found is left out."""
    try:
        user = getpass.getuser()
    except (OSError, KeyError, ImportError):  # no $USER/$LOGNAME and no passwd entry (containers)
        user = ""
    try:
        host = socket.gethostname()
    except OSError:
        host = ""
    return "@".join(part for part in (user, host) if part)[:MAX_BY] or "unknown"


def _text(limit: int, what: str) -> Any:
    def parse(value: str) -> str:
        value = value.strip()
        if not value:
            raise argparse.ArgumentTypeError(f"{what} must not be empty")
        if len(value) > limit:
            raise argparse.ArgumentTypeError(f"{what} is {len(value)} characters long; at most {limit}")
        return value

    parse.__name__ = what  # argparse names the type in "invalid <name> value"
    return parse


def target(args: argparse.Namespace, settings: Settings) -> str:
    """The key to write: ``*`` for ``--all``, else a candidate of this configuration (or any name with --force)."""
    if args.all or args.name == GLOBAL:
        return GLOBAL
    name: str = args.name
    if name.startswith("worker:"):
        raise ConfigError(f"{name!r}: names starting with 'worker:' are the workers' reports on the control topic")
    configured = [c.name for c in settings.candidates]
    if name in configured or args.force:
        return name
    known = ", ".join(configured) if configured else "none"
    raise ConfigError(
        f"{name!r} is not a candidate of this configuration (configured candidates: {known}); "
        "use --force to write it anyway (a candidate configured only in other workers' configurations)"
    )


def cmd_change(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from shadow.events.control import ControlRecord, Limits, publish_control, read_control

    settings = cli_settings(args)
    configure_logging(args.log_level or "WARNING")
    candidate = target(args, settings)
    current = asyncio.run(read_control(settings.kafka)).get(candidate)
    try:
        if args.action == "limit":
            if candidate == GLOBAL:
                raise ConfigError("limits are per candidate: name one (--all is for disable, enable and pause)")
            limits = Limits() if args.clear else (current.limits if current is not None else Limits())
            changed = {key: getattr(args, key) for key in LIMIT_FLAGS if getattr(args, key) is not None}
            if not changed and not args.clear:
                raise ConfigError("give at least one limit (--rpm, --tpm, --budget-hour, --budget-day) or --clear")
            if (args.budget_usd_per_hour or args.budget_usd_per_day) and candidate != GLOBAL:
                require_price(settings, candidate)
            record = ControlRecord(
                candidate=candidate,
                state=current.state if current is not None else "enabled",
                reason=current.reason if current is not None else "",
                by=args.by or default_by(),
                limits=Limits.model_validate({**limits.model_dump(), **changed}),
            )
        else:
            # A change of state keeps the limits set at run time.
            record = ControlRecord(
                candidate=candidate,
                state=args.state,
                reason=args.reason or "",
                by=args.by or default_by(),
                limits=current.limits if current is not None else Limits(),
            )
    except ValidationError as exc:
        raise ConfigError(f"not a valid control record: {exc}") from exc
    asyncio.run(publish_control(settings.kafka, record))
    if args.format == "json":
        print_json(record.model_dump(mode="json"))
    else:
        print(f"wrote: {record.describe()} (control topic {settings.kafka.control_topic})")
    return EXIT_OK


LIMIT_FLAGS = ("rate_limit_rpm", "rate_limit_tpm", "budget_usd_per_hour", "budget_usd_per_day")


def require_price(settings: Settings, candidate: str) -> None:
    """A budget counts USD from the price table: refuse one for a candidate whose model has no price here."""
    configured = {c.name: c for c in settings.candidates}.get(candidate)
    if configured is None:
        return  # --force: configured elsewhere, its workers' prices apply
    unpriced = settings.unpriced_models(configured)
    if unpriced:
        raise ConfigError(f"{candidate!r} has no price for {', '.join(unpriced)}: a budget would never be reached")


def show_rows(configured: list[str], records: dict[str, ControlRecord]) -> list[dict[str, Any]]:
    """One row per key: the global switch, every configured candidate, then any other key on the topic.

    ``effective`` is what the workers do: the global switch, when not enabled, comes first.
    """
    switch = records.get(GLOBAL)
    overall = switch.state if switch is not None else "enabled"
    keys = [GLOBAL, *configured, *sorted(k for k in records if k != GLOBAL and k not in configured)]
    rows = []
    for key in keys:
        record = records.get(key)
        state = record.state if record is not None else "enabled"
        rows.append(
            {
                "candidate": key,
                "state": state,
                "effective": overall if key != GLOBAL and overall != "enabled" else state,
                "reason": record.reason if record is not None else "",
                "limits": record.limits.model_dump(exclude_none=True) if record is not None else {},
                "by": record.by if record is not None else "",
                "at": record.at.isoformat(timespec="seconds") if record is not None else None,
                "record": record is not None,
                "configured": key in configured,
            }
        )
    return rows


def render_table(rows: list[dict[str, Any]], topic: str) -> str:
    """The rows as aligned columns, with a note for the global switch and for keys outside this configuration."""

    def name(row: dict[str, Any]) -> str:
        if row["candidate"] == GLOBAL:
            return "* (all)"
        return row["candidate"] if row["configured"] else f"{row['candidate']} (not configured here)"

    def state(row: dict[str, Any]) -> str:
        return row["state"] if row["state"] == row["effective"] else f"{row['state']} → {row['effective']}"

    def reason(row: dict[str, Any]) -> str:
        limits = ", ".join(f"{k} {v:g}" for k, v in row.get("limits", {}).items())
        return (row["reason"] or "-") + (f" (limits: {limits})" if limits else "")

    header = ("CANDIDATE", "STATE", "BY", "AT", "REASON")
    cells = [(name(r), state(r), r["by"] or "-", r["at"] or "(no record)", reason(r)) for r in rows]
    widths = [max(len(row[i]) for row in [header, *cells]) for i in range(len(header) - 1)]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(row[:-1], widths, strict=True)) + "  " + row[-1]
        for row in [header, *cells]
    ]
    switch = rows[0] if rows and rows[0]["candidate"] == GLOBAL else None
    if switch is not None and switch["state"] != "enabled":
        lines.append(
            f"the global switch is {switch['state']}: every candidate is {switch['state']} whatever its own state"
        )
    lines.append(f"control topic {topic}")
    return "\n".join(line.rstrip() for line in lines) + "\n"


class _HideApplied(logging.Filter):
    """Drops the reader's one warning per state it applies: ``show`` prints them all anyway."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.msg != "control: %s"


def cmd_show(args: argparse.Namespace) -> int:
    from shadow.events.control import read_control

    settings = cli_settings(args)
    configure_logging(args.log_level or "WARNING")
    reader_log = logging.getLogger("shadow.events.control")
    if not any(isinstance(f, _HideApplied) for f in reader_log.filters):
        reader_log.addFilter(_HideApplied())
    records = asyncio.run(read_control(settings.kafka))
    rows = show_rows([c.name for c in settings.candidates], records)
    topic = settings.kafka.control_topic
    if args.format == "json":
        print_json({"topic": topic, "candidates": rows})
    else:
        sys.stdout.write(render_table(rows, topic))
    return EXIT_OK


_CHANGES = {
    "disable": (
        "disabled",
        "the kill switch: stop calling a candidate now",
        "Write 'disabled' for NAME (or every candidate, --all) to the control topic. Every worker of every group "
        "stops calling it within about a second: calls in flight are cancelled, and its rows are stored with "
        "status 'skipped' and error_kind 'killed' (never retried); the events' other candidates go on.",
    ),
    "enable": (
        "enabled",
        "resume calling a disabled or paused candidate",
        "Write 'enabled' for NAME (or for the global switch, --all) to the control topic; workers resume calling "
        "it within about a second. Enabling --all lifts only the global switch: a candidate disabled or paused "
        "by its own record stays so.",
    ),
    "pause": (
        "paused",
        "stop calling a candidate for a while (rows skipped as 'paused')",
        "Write 'paused' for NAME (or every candidate, --all) to the control topic. Workers stop calling it as for "
        "disable, but its rows are stored with error_kind 'paused': a pause says 'not now' (a budget, a provider "
        "incident), a disable says 'this candidate is bad'.",
    ),
}


def _add_target(parser: argparse.ArgumentParser) -> None:
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("name", nargs="?", metavar="NAME", help="the candidate (its name in the configuration)")
    which.add_argument("--all", action="store_true", help="the global switch (key '*'): every candidate at once")
    parser.add_argument(
        "--force", action="store_true", help="write NAME even if this configuration has no such candidate"
    )


def register(sub: Subparsers) -> None:
    """Add ``ctl`` and its subcommands ``disable``, ``enable``, ``pause``, ``show``."""
    ctl = add_command(
        sub,
        "ctl",
        help="disable, enable or pause a candidate in every worker at once; show their states",
        description="The control plane. Each candidate's state (enabled, disabled, paused, with who changed it, "
        "why and when) lives on a compacted Kafka topic (kafka.control_topic, one record per candidate, key '*' "
        "for every candidate). Every worker of every group follows it and applies a change within about a "
        "second; a starting worker reads the whole state before it replays anything.",
    )
    commands = ctl.add_subparsers(dest="action", required=True, metavar="ACTION")
    for action, (state, help_text, description) in _CHANGES.items():
        change = add_command(commands, action, help=help_text, description=description)
        _add_target(change)
        change.add_argument(
            "--reason",
            type=_text(MAX_REASON, "reason"),
            required=state != "enabled",
            help="why, for whoever reads `shadow ctl show` or the logs" + ("" if state != "enabled" else " (optional)"),
        )
        change.add_argument(
            "--by",
            type=_text(MAX_BY, "by"),
            default=None,
            help="who (default: $USER@hostname)",
        )
        change.add_argument("--format", choices=["text", "json"], default="text", help="how to print the record")
        add_common_options(change)
        change.set_defaults(handler=cmd_change, state=state)
    limit = add_command(
        commands,
        "limit",
        help="set a candidate's rate limits or budgets at run time, for every worker",
        description="Write limits for NAME to the control topic; each one given replaces the candidate's configured "
        "one in every worker within about a second (its state stays as it is). Limits hold for each consumer "
        "group, shared by its live workers, as the configured ones do. --clear drops every limit set here, so the "
        "configured ones apply again. A budget needs a price for the candidate's model.",
    )
    _add_target(limit)
    limit.add_argument("--rpm", dest="rate_limit_rpm", type=float, help="requests per minute for the group")
    limit.add_argument("--tpm", dest="rate_limit_tpm", type=int, help="tokens per minute for the group")
    limit.add_argument("--budget-hour", dest="budget_usd_per_hour", type=float, help="USD per UTC hour")
    limit.add_argument("--budget-day", dest="budget_usd_per_day", type=float, help="USD per UTC day")
    limit.add_argument("--clear", action="store_true", help="drop the limits set at run time first")
    limit.add_argument("--by", type=_text(MAX_BY, "by"), default=None, help="who (default: $USER@hostname)")
    limit.add_argument("--format", choices=["text", "json"], default="text", help="how to print the record")
    add_common_options(limit)
    limit.set_defaults(handler=cmd_change, state=None)
    show = add_command(
        commands,
        "show",
        help="every candidate's state: enabled, disabled or paused, with reason, by and at",
        description="Read the control topic to its end and print the state of the global switch, of every "
        "candidate of this configuration (enabled when the topic has no record of it) and of any other key on "
        "the topic. A candidate whose own state differs from what workers do (the global switch is not "
        "enabled) shows both.",
    )
    show.add_argument("--format", choices=["table", "json"], default="table", help="how to print the states")
    add_common_options(show)
    show.set_defaults(handler=cmd_show)
