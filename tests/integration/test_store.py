"""The ClickHouse side: migrations, the replacing engine, the embedded store's lock."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import UTC, datetime

import pytest

from shadow.errors import MigrationError, StoreBusyError
from shadow.sink.rows import COMPARISON_COLUMNS, INGEST_COLUMNS
from shadow.storage.migrate import applied_versions, load_migrations, migrate
from shadow.storage.store import ClickHouseStore, parse_dsn

pytestmark = pytest.mark.clickhouse


def test_migrate_is_versioned_and_idempotent(store: ClickHouseStore) -> None:
    versions = [m.version for m in load_migrations()]
    assert applied_versions(store) == versions
    assert migrate(store) == []  # second run applies nothing
    assert applied_versions(store) == versions
    rows = store.query_rows(f"SELECT count() FROM {store.database}.schema_migrations")
    assert rows == [(len(versions),)]


def test_tables_have_the_columns_the_code_writes(store: ClickHouseStore) -> None:
    for table, columns in (("comparisons", COMPARISON_COLUMNS), ("ingest_log", INGEST_COLUMNS)):
        described = store.query_rows(f"DESCRIBE TABLE {store.database}.{table}")
        assert tuple(r[0] for r in described) == columns
    engine = store.query_rows(
        "SELECT engine, sorting_key FROM system.tables WHERE database = {db:String} AND name = 'comparisons'",
        {"db": store.database},
    )
    assert engine == [("ReplacingMergeTree", "workflow, candidate, toStartOfHour(occurred_at), event_id")]


def test_an_edited_applied_migration_is_refused(store: ClickHouseStore) -> None:
    store.command(
        f"ALTER TABLE {store.database}.schema_migrations UPDATE checksum = 'edited' WHERE version = 1 "
        "SETTINGS mutations_sync = 1"
    )
    assert store.query_rows(f"SELECT checksum FROM {store.database}.schema_migrations WHERE version = 1") == [
        ("edited",)
    ]
    with pytest.raises(MigrationError, match="changed after it was applied"):
        migrate(store)


def test_replacing_engine_keeps_the_newest_row(store: ClickHouseStore) -> None:
    columns = ["event_id", "candidate", "workflow", "occurred_at", "compared_at", "status", "row_version"]
    at = datetime(2026, 11, 23, 10, tzinfo=UTC)
    store.insert("comparisons", [["e1", "c", "w", at, at, "candidate_error", 1]], columns)
    store.insert("comparisons", [["e1", "c", "w", at, at, "ok", 2]], columns)
    assert store.query_rows(f"SELECT status FROM {store.database}.comparisons FINAL") == [("ok",)]
    assert store.query_rows(f"SELECT count() FROM {store.database}.comparisons") == [(2,)]


def test_dsn_forms() -> None:
    assert parse_dsn("chdb:///var/lib/shadow").embedded_path is not None
    assert str(parse_dsn("chdb:///var/lib/shadow").embedded_path) == "/var/lib/shadow"
    assert parse_dsn("https://u:p@ch.example:8443").url == "https://u:p@ch.example:8443"
    assert str(parse_dsn("https://u:p@ch.example:8443")) == "https://[SECRET]@ch.example:8443"
    from shadow.errors import ConfigError

    with pytest.raises(ConfigError, match="must start with"):
        parse_dsn("postgres://x")
    with pytest.raises(ConfigError, match="chdb:///absolute/path"):
        parse_dsn("chdb://relative")


def test_a_second_process_on_the_embedded_store_gets_a_clear_error(tmp_path, clickhouse) -> None:
    if not clickhouse.embedded:
        pytest.skip("only the embedded engine is single-process")
    path = tmp_path / "store"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(f"""
            import sys, time
            from shadow.config import ClickHouseSettings
            from shadow.storage.store import ClickHouseStore
            store = ClickHouseStore(ClickHouseSettings(dsn="chdb://{path}"))
            store.command("SELECT 1")
            print("ready", flush=True)
            time.sleep(60)
        """),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        probe = subprocess.run(
            [sys.executable, "-m", "shadow", "migrate"],
            env={"SHADOW_CLICKHOUSE__DSN": f"chdb://{path}", "PATH": "/usr/bin:/bin"},
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        holder.kill()
        holder.wait()
        holder.stdout.close()
    assert probe.returncode == 1
    assert f"in use by another process (pid {holder.pid})" in probe.stderr
    assert "Traceback" not in probe.stderr


def test_one_process_cannot_open_two_embedded_stores(tmp_path, clickhouse) -> None:
    if not clickhouse.embedded:
        pytest.skip("only the embedded engine is single-directory")
    from shadow.config import ClickHouseSettings

    first = ClickHouseStore(ClickHouseSettings(dsn=clickhouse.dsn, database="t_lock"))
    second = ClickHouseStore(ClickHouseSettings(dsn=f"chdb://{tmp_path / 'other'}"))
    try:
        first.command("SELECT 1")
        with pytest.raises(StoreBusyError, match="one directory per process"):
            second.command("SELECT 1")
    finally:
        second.close()
        first.close()


def test_migration_0007_adds_the_loop_lag_to_a_store_with_rows(clickhouse_settings, monkeypatch) -> None:
    """An existing store gets the column; its rows read NULL (not measured), new rows keep theirs."""
    from shadow.report.queries import run_query
    from shadow.storage import migrate as migrations
    from tests.seeding import T0, comparison_row

    every = migrations.load_migrations()
    store = ClickHouseStore(clickhouse_settings)
    try:
        with monkeypatch.context() as patch:
            patch.setattr(migrations, "load_migrations", lambda directory=None: [m for m in every if m.version < 7])
            migrations.migrate(store)
        later = {"candidate_loop_lag_ms", "production_ttft_ms", "candidate_ttft_ms"}  # added by 0007 and 0009
        old_columns = [c for c in COMPARISON_COLUMNS if c not in later]
        old = comparison_row("e_old", candidate="c")
        store.insert("comparisons", [[old[c] for c in old_columns]], old_columns)

        applied = migrations.migrate(store)
        assert [m.version for m in applied] == [m.version for m in every if m.version >= 7]
        new = comparison_row("e_new", candidate="c", candidate_loop_lag_ms=812.5)
        store.insert("comparisons", [[new[c] for c in COMPARISON_COLUMNS]], list(COMPARISON_COLUMNS))
        window = {"start": T0.replace(hour=0), "end": T0.replace(hour=23)}
        values = run_query(store, "comparison_values", **window, candidate="c", workflow=None, tenant=None, limit=0)
        assert sorted((v["event_id"], v["candidate_loop_lag_ms"]) for v in values) == [
            ("e_new", 812.5),
            ("e_old", None),
        ]
        assert migrations.migrate(store) == []
    finally:
        store.close()
