"""``shadow rollup`` and ``rescore``: recompute stored figures (rollups, diff columns) without model calls."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from shadow.cli.common import (
    EXIT_OK,
    add_command,
    add_common_options,
    add_window_options,
    cli_settings,
    configure_logging,
    filters_from,
)

if TYPE_CHECKING:
    from shadow.cli.common import Subparsers


def cmd_rollup(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from shadow.storage.rollup import refresh_rollups
    from shadow.storage.store import ClickHouseStore

    settings = cli_settings(args)
    configure_logging(args.log_level or "WARNING")
    filters = filters_from(args)
    start, end = filters.window.bounds(datetime.now(UTC))
    with ClickHouseStore(settings.clickhouse) as store:
        hours = refresh_rollups(store, start, end)
    print(f"recomputed {hours} hourly rollups for {filters.window.describe()}")
    return EXIT_OK


def cmd_rescore(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from shadow.redaction import Redactor
    from shadow.rowbuilder import comparator_options
    from shadow.sink.rescore import rescore, window_clause
    from shadow.storage.rollup import refresh_rollups
    from shadow.storage.store import ClickHouseStore

    settings = cli_settings(args)
    configure_logging(args.log_level or "WARNING")
    filters = filters_from(args)
    start, end = filters.window.bounds(datetime.now(UTC))
    where, params = window_clause(start, end, filters.candidate, filters.workflow, filters.tenant)
    refusal, prices, limits = comparator_options(settings)
    with ClickHouseStore(settings.clickhouse) as store:
        result = rescore(
            store,
            where,
            params,
            refusal=refusal,
            prices=prices,
            outdated_only=args.outdated_only,
            redactor=Redactor.from_settings(settings.redaction),
            limits=limits,
            progress=lambda n: print(f"  {n} rows re-scored", file=sys.stderr, flush=True),
        )
        hours = refresh_rollups(store, start, end) if result.rows else 0
    print(
        f"re-scored {result.rows} rows with comparator version {result.comparator_version} "
        f"({result.outdated} were written by an older version; {hours} hourly rollups recomputed); "
        f"window: {filters.window.describe()}"
    )
    return EXIT_OK


def register(sub: Subparsers) -> None:
    """Add ``rollup``, ``rescore``."""
    rollup = add_command(
        sub,
        "rollup",
        help="recompute hourly rollups (after a backfill of old events)",
        description="ClickHouse recomputes the hourly rollups of recent hours by itself (refreshable materialized "
        "view); workers and `rescore` recompute the hours they touch. Run this after loading old data some other way.",
    )
    add_common_options(rollup)
    add_window_options(rollup)
    rollup.set_defaults(handler=cmd_rollup)
    rescore = add_command(
        sub,
        "rescore",
        help="recompute the diff columns of stored rows with the current comparator (no model calls)",
        description="Read the rows in the window, compare their stored outputs again with the current comparator, "
        "refusal patterns and prices, and write them back with a newer row_version; the replacing engine then "
        "shows the re-scored rows. Stored texts are redacted and capped at clickhouse.max_text_chars, so answers "
        "longer than that are re-scored on their first max_text_chars characters.",
    )
    add_common_options(rescore)
    add_window_options(rescore)
    rescore.add_argument(
        "--outdated-only", action="store_true", help="only rows written by an older comparator_version"
    )
    rescore.set_defaults(handler=cmd_rescore)
