"""Run shadow's own reads and writes on a chDB store as one role of ``schemas/access/roles.sql``.

``python -m tests.integration.chdb_role DATA CONFIG KIND`` opens the store in DATA with chDB's server
configuration CONFIG (whose one user holds the role's grants, see test_clickhouse_access.py), does
what processes of KIND do and what they must not do, and prints one JSON object: action -> "ok", the
ClickHouse error code that refused it (e.g. "ACCESS_DENIED"), or "exit N" for a CLI command.
A process of its own per role: chDB reads its users at start and runs one data directory per process.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import os
import re
import sys
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import clickhouse_connect

DATABASE = "shadow"


def _with_config(config: str) -> None:
    """Open every chDB client with the given server configuration (its users file holds the role)."""
    original = clickhouse_connect.get_client

    def get_client(**kwargs: Any) -> Any:
        if config != "-" and kwargs.get("interface") == "chdb":
            kwargs["chdb_options"] = {"config-file": config}
        return original(**kwargs)

    clickhouse_connect.get_client = get_client


def _outcome(action: Callable[[], Any]) -> str:
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            result = action()
    except Exception as exc:
        codes = re.findall(r"\(([A-Z][A-Z_]+)\)", str(exc))
        return codes[-1] if codes else f"{type(exc).__name__}: {str(exc)[:300]}"
    return f"exit {result}" if isinstance(result, int) else "ok"


def main(data: str, config: str, kind: str) -> dict[str, str]:
    _with_config(config)
    os.environ.update({"SHADOW_CLICKHOUSE__DSN": f"chdb://{data}", "SHADOW_CLICKHOUSE__DATABASE": DATABASE})
    os.environ.pop("SHADOW_CONFIG", None)

    from shadow.cli import main as cli
    from shadow.config import ClickHouseSettings
    from shadow.report.rollouts import RolloutKey, RolloutLedger
    from shadow.sink.clickhouse import ClickHouseSink
    from shadow.storage.migrate import migrate
    from shadow.storage.rollup import refresh_rollups
    from shadow.storage.store import ClickHouseStore
    from tests.seeding import T0, comparison_row, ingest_row

    store = ClickHouseStore(ClickHouseSettings(dsn=f"chdb://{data}", database=DATABASE))
    db = DATABASE

    def sink() -> None:
        async def write() -> None:
            writer = ClickHouseSink(store, rollup_debounce_s=0)
            rows = [comparison_row(f"e{i}", candidate="cand", occurred_at=T0 + timedelta(minutes=i)) for i in range(3)]
            await writer.write(rows, [ingest_row(i) for i in range(3)])
            await writer.close()  # recomputes the hour's rollup: T0 is long settled

        asyncio.run(write())

    def pin() -> None:
        # A key of the process's own: a key pinned already is read back, not written.
        asyncio.run(RolloutLedger(store).pin(RolloutKey(f"support@{kind}", "cand"), T0))

    def hourly_source(readonly: int) -> None:
        store.query_rows(f"SELECT count() FROM {db}.comparisons_hourly_source SETTINGS readonly = {readonly}")

    actions: dict[str, Callable[[], Any]] = {}
    if kind == "admin":
        actions |= {
            "migrate": lambda: migrate(store),
            # Why the reader role has readonly = 2, not 1: the view's own SETTINGS clause.
            "read comparisons_hourly_source with readonly = 1": lambda: hourly_source(1),
            "read comparisons_hourly_source with readonly = 2": lambda: hourly_source(2),
        }
    if kind == "writer":
        actions |= {
            "migrate, schema up to date": lambda: migrate(store),
            "write comparisons and ingest rows, refresh their rollup": sink,
            "shadow rollup": lambda: [refresh_rollups(store, T0 - timedelta(hours=1), T0 + timedelta(hours=2))],
        }
    if kind == "gate":
        actions["pin a rollout"] = pin
    if kind in {"gate", "reader"}:
        actions |= {
            "shadow summary": lambda: cli(["summary", "--format", "json", "--no-control"]),
            "shadow gate": lambda: cli(
                ["gate", "--policy", "deploy/gate-policy.yaml", "--candidate", "cand", "--from", "2026-11-01"]
            ),
        }
    if kind == "reader":
        actions["pin a rollout"] = pin
    if kind in {"writer", "gate", "reader"}:
        actions |= {
            "insert into comparisons": lambda: store.command(f"INSERT INTO {db}.comparisons (event_id) VALUES ('x')"),
            "insert into gate_rollouts": lambda: store.command(
                f"INSERT INTO {db}.gate_rollouts (rollout) VALUES ('x')"
            ),
            "insert into schema_migrations": lambda: store.command(
                f"INSERT INTO {db}.schema_migrations (version) VALUES (99)"
            ),
            "create a table": lambda: store.command(f"CREATE TABLE {db}.extra (a UInt8) ENGINE = Memory"),
            "delete comparisons": lambda: store.command(f"ALTER TABLE {db}.comparisons DELETE WHERE 1"),
            "drop comparisons": lambda: store.command(f"DROP TABLE {db}.comparisons"),
        }
    try:
        return {name: _outcome(action) for name, action in actions.items()}
    finally:
        store.close()


if __name__ == "__main__":
    print(json.dumps(main(*sys.argv[1:4])))
