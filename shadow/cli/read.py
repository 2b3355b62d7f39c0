"""``shadow summary``, ``gate``, ``serve``, ``report``: the read side over ClickHouse."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shadow.cli.common import (
    EXIT_GATE_ERROR,
    EXIT_OK,
    add_command,
    add_common_options,
    add_window_options,
    cli_settings,
    configure_logging,
    filters_from,
    print_json,
)
from shadow.errors import ConfigError, ShadowError
from shadow.redaction import Redactor

if TYPE_CHECKING:
    from shadow.cli.common import Subparsers
    from shadow.config import Settings


def cmd_summary(args: argparse.Namespace) -> int:
    from shadow.report.summary import query_summary, render_markdown, render_table
    from shadow.storage.store import ClickHouseStore

    settings = cli_settings(args)
    configure_logging(args.log_level or "WARNING")
    filters = filters_from(args)
    with ClickHouseStore(settings.clickhouse) as store:
        # Rows are redacted when written; this covers rows written without it (and the control block).
        summary = query_summary(store, filters, settings)
    control = control_states(settings, args.control)
    if control is not None:
        summary["control"] = control
    summary = Redactor.from_settings(settings.redaction).value(summary)
    if args.format == "json":
        print_json(summary)
    elif args.format == "markdown":
        sys.stdout.write(render_markdown(summary, filters.window))
        sys.stdout.write("".join(f"\n{line}\n" for line in control_lines(control)))
    else:
        color = sys.stdout.isatty()
        if args.wide:
            sys.stdout.write(render_table(summary, filters.window, color=color, layout="wide"))
        else:
            sys.stdout.write(render_table(summary, filters.window, color=color))
        sys.stdout.write("".join(f"{line}\n" for line in control_lines(control)))
    return EXIT_OK


CONTROL_READ_TIMEOUT_S = 5.0


def control_states(settings: Settings, wanted: bool | None) -> dict[str, Any] | None:
    """The candidates' states on the control topic, for the summary; None when not asked for.

    ``wanted`` None (the default) reads them when the configuration names a Kafka cluster
    (``kafka.bootstrap_servers`` set) that the workers follow (``kafka.control``); the topic is
    never created from here, and a Kafka that does not answer within 5 s is said, not fatal.
    """
    kafka = settings.kafka
    if wanted is None:
        wanted = settings.source.kind == "kafka" and kafka.control and "bootstrap_servers" in kafka.model_fields_set
    if not wanted:
        return None
    from shadow.events.control import ALL, read_control

    try:
        records = asyncio.run(asyncio.wait_for(read_control(kafka, create=False), CONTROL_READ_TIMEOUT_S))
    except (ShadowError, TimeoutError) as exc:
        error = str(exc) or f"no answer from Kafka within {CONTROL_READ_TIMEOUT_S:g}s"
        return {"topic": kafka.control_topic, "error": error, "candidates": []}
    order = sorted(records, key=lambda key: (key != ALL, key))
    return {
        "topic": kafka.control_topic,
        "error": None,
        "candidates": [records[key].model_dump(mode="json") for key in order if records[key].state != "enabled"],
    }


def control_lines(control: dict[str, Any] | None) -> list[str]:
    """The control block under the summary: what is disabled or paused, by whom and why."""
    if control is None:
        return []
    head = f"control ({control['topic']}):"
    if control["error"]:
        return [f"{head} unknown: {control['error']}"]
    if not control["candidates"]:
        return [f"{head} every candidate enabled"]
    from shadow.events.control import ControlRecord

    return [head, *(f"  {ControlRecord.model_validate(c).describe()}" for c in control["candidates"])]


def cmd_gate(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from shadow.report.gate import evaluate_gate, load_policy, render_gate
    from shadow.storage.store import ClickHouseStore

    if args.start:
        args.since = None
    try:
        policy = load_policy(args.policy)
        settings = cli_settings(args)
        filters = filters_from(args)
    except ConfigError as exc:
        print(f"shadow gate: {exc}", file=sys.stderr)
        return EXIT_GATE_ERROR
    configure_logging(args.log_level or "WARNING")
    start, end = filters.window.bounds(datetime.now(UTC))
    try:
        with ClickHouseStore(settings.clickhouse) as store:
            result = evaluate_gate(
                store, policy, args.candidate, start, end, tenant=args.tenant, workflow=args.workflow
            )
    except ShadowError as exc:
        print(f"shadow gate: {exc}", file=sys.stderr)
        return EXIT_GATE_ERROR
    if args.format == "json":
        print_json(result.to_dict())
    else:
        sys.stdout.write(render_gate(result, color=sys.stdout.isatty()))
    return result.exit_code


def cmd_serve(args: argparse.Namespace) -> int:
    from shadow.report.gate import load_policy
    from shadow.report.serve import GateService, serve
    from shadow.storage.store import ClickHouseStore

    settings = cli_settings(args)
    policy = load_policy(args.policy)
    configure_logging(args.log_level or settings.log_level)
    token = serve_token(args.token_file)
    if token is None and args.host not in ("127.0.0.1", "localhost", "::1"):
        logging.getLogger("shadow.serve").warning(
            "shadow serve listens on %s without a token: anyone who reaches it can read verdicts and reset "
            "rollouts (set SHADOW_SERVE_TOKEN or --token-file)",
            args.host,
        )

    async def run() -> None:
        with ClickHouseStore(settings.clickhouse) as store:
            service = GateService(
                store,
                policy,
                default_since=args.since,
                cache_s=args.cache_s,
                token=token,
                candidates=frozenset(c.name for c in settings.candidates),
                redactor=Redactor.from_settings(settings.redaction),
            )
            await serve(service, args.host, args.port)

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run())
    return EXIT_OK


def serve_token(path: str | None) -> str | None:
    """The bearer token of ``shadow serve``: ``--token-file`` (its first line), else ``SHADOW_SERVE_TOKEN``.

    Raises:
        ConfigError: the file cannot be read or is empty.
    """
    if path:
        try:
            token = Path(path).read_text(encoding="utf-8").strip().splitlines()
        except OSError as exc:
            raise ConfigError(f"--token-file {path}: {exc.strerror or exc}") from None
        if not token or not token[0].strip():
            raise ConfigError(f"--token-file {path} is empty")
        return token[0].strip()
    return os.environ.get("SHADOW_SERVE_TOKEN", "").strip() or None


def cmd_report(args: argparse.Namespace) -> int:
    from shadow.report.data import report_data
    from shadow.report.gate import load_policy
    from shadow.report.html import render_report
    from shadow.storage.store import ClickHouseStore

    settings = cli_settings(args)
    policy = load_policy(args.policy) if args.policy else None
    configure_logging(args.log_level or "WARNING")
    filters = filters_from(args)
    with ClickHouseStore(settings.clickhouse) as store:
        data = report_data(
            store, filters, policy=policy, title=args.title, redactor=Redactor.from_settings(settings.redaction)
        )
    page = render_report(data)
    output = Path(args.output)
    output.write_text(page, encoding="utf-8")
    print(f"wrote {output} ({len(page.encode()) // 1024} KB): {len(data.candidates)} candidates, "
          f"{filters.window.describe()}")  # fmt: skip
    return EXIT_OK


def register(sub: Subparsers) -> None:
    """Add ``summary``, ``gate``, ``serve``, ``report``."""
    summary = add_command(
        sub,
        "summary",
        help="per candidate (× workflow) counts and rates, read from ClickHouse",
        description="The on-call view: per candidate and per candidate × workflow, how many events were compared, "
        "candidate errors, JSON breakage, tool-call disagreement, length and similarity, refusals, latency and cost; "
        "and what became of every consumed record. Default window: all time.",
    )
    add_common_options(summary)
    add_window_options(summary)
    summary.add_argument(
        "--format",
        choices=["table", "json", "markdown"],
        default="table",
        help="table: fits the terminal, one line per candidate beside its control lane; json and markdown: every "
        "figure",
    )
    summary.add_argument(
        "--wide",
        action="store_true",
        help="the table with every column (about 230 columns wide) instead of the view that fits the terminal",
    )
    summary.add_argument(
        "--control",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="show which candidates are disabled or paused on the control topic, read from Kafka (default: when the "
        "configuration sets kafka.bootstrap_servers and kafka.control); --no-control never contacts Kafka",
    )
    summary.set_defaults(handler=cmd_summary)
    gate = add_command(
        sub,
        "gate",
        help="promote, hold or roll back a candidate by a statistical policy (exit 0/1/2)",
        description="Evaluate a gate policy (YAML rules such as 'JSON validity: no regression > 1 point', "
        "'p95 latency: no regression > 10%') for one candidate over a window. Each rule is decided on a "
        "confidence sequence (bounds valid however often the gate is polled), against the control lane where "
        "there is one, production otherwise: it fails when a regression beyond its tolerance is shown, passes "
        "when no such regression is left possible. Exit code: 0 promote, 1 rollback, 2 hold (too little data, "
        "inconclusive or a policy problem), 3 error. See deploy/gate-policy.yaml.",
    )
    add_common_options(gate)
    gate.add_argument("--policy", "-p", required=True, metavar="FILE", help="gate policy (YAML)")
    gate.add_argument("--candidate", required=True, help="the candidate to decide on")
    gate.add_argument("--since", metavar="DURATION", default="24h", help="window: the last DURATION")
    gate.add_argument("--from", dest="start", metavar="TIME", help="window start (ISO 8601); replaces --since")
    gate.add_argument("--to", dest="end", metavar="TIME", help="window end (ISO 8601)")
    gate.add_argument("--workflow", help="only this workflow")
    gate.add_argument("--tenant", help="only this tenant")
    gate.add_argument("--format", choices=["table", "json"], default="table", help="how to print the verdict")
    gate.set_defaults(handler=cmd_gate)
    serve_parser = add_command(
        sub,
        "serve",
        help="serve the gate over HTTP for Argo Rollouts and Flagger (/gate, /healthz, /metrics)",
        description="GET /gate?candidate=C&since=1h&rollout=R answers the gate result as JSON (Argo Rollouts' web "
        "metric: jsonPath {$.verdict}); POST /gate takes Flagger webhooks (the rollout is the canary's "
        "namespace/name@checksum) and answers 200 on promote, 503 on hold, 412 on rollback. A rollout's first poll "
        "pins the window's start and its first promote or rollback is latched, kept in ClickHouse (gate_rollouts); "
        "DELETE /gate?rollout=R&candidate=C clears it. Without a rollout the window slides (not anytime-valid). "
        "/healthz checks ClickHouse; /metrics serves Prometheus metrics. See deploy/argo-rollouts and "
        "deploy/flagger.",
    )
    add_common_options(serve_parser)
    serve_parser.add_argument("--policy", "-p", required=True, metavar="FILE", help="gate policy (YAML)")
    serve_parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve_parser.add_argument("--port", type=int, default=8080, help="port to listen on")
    serve_parser.add_argument(
        "--since", default="1h", help="window when a caller gives none (for a rollout: its start, at its first poll)"
    )
    serve_parser.add_argument(
        "--cache-s",
        type=float,
        default=15.0,
        help="seconds a result that is not latched is reused, and a rollout's state is trusted before ClickHouse is "
        "read again (a reset through another replica reaches this one within it)",
    )
    serve_parser.add_argument(
        "--token-file",
        metavar="FILE",
        help="require Authorization: Bearer <token> on /gate, the token being this file's first line "
        "(default: the SHADOW_SERVE_TOKEN environment variable; neither: no authentication)",
    )
    serve_parser.set_defaults(handler=cmd_serve)
    report = add_command(
        sub,
        "report",
        help="write a self-contained HTML report with charts",
        description="One HTML file that opens without network: gate results (with --policy), the scorecard beside "
        "the control lane, similarity, length-ratio and latency distributions per candidate, rates over time, and "
        "the worst examples side by side with their differences highlighted. Same queries as `shadow summary`.",
    )
    add_common_options(report)
    add_window_options(report)
    report.add_argument("--output", "-o", default="report.html", metavar="FILE", help="where to write the report")
    report.add_argument("--policy", "-p", metavar="FILE", help="also show gate results by this policy")
    report.add_argument("--title", default="shadow report", help="the report's title")
    report.set_defaults(handler=cmd_report)
