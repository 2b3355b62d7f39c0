"""Cluster mode's DDL (``clickhouse.cluster``, issue 15), checked without a cluster.

Every statement ``shadow migrate`` would send to a cluster (the migrations, the database and the
ledger, the roles and users of ``schemas/access``) is parsed by the engine's own parser
(``formatQuery`` parses and prints a statement without running it; chDB here, a server when
``CLICKHOUSE_URL`` is set), and its structure is asserted on: Replicated engines of the same family,
``Distributed`` tables named as on one server with a sharding key drawn from the sorting key,
``ON CLUSTER`` on every DDL statement. Running it needs Keeper and several servers: that is
``tests/cluster`` (``python -m tests.cluster``). The single-node rendering is pinned byte for byte.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from typing import Any

import pytest

from shadow.config import ClickHouseSettings
from shadow.errors import ConfigError, MigrationError, StoreError
from shadow.storage import store as store_module
from shadow.storage.access import PRINCIPALS, role_statements, user_statements
from shadow.storage.cluster import (
    SHARDING_KEYS,
    ClusterLayout,
    cluster_statements,
    ledger_statement,
    sharding_key,
)
from shadow.storage.migrate import load_migrations
from shadow.storage.store import ClickHouseStore

DB = "db"
SERVER = "http://clickhouse.invalid:8123"
SINGLE = ClickHouseSettings(database=DB)
CLUSTER = ClickHouseSettings(database=DB, dsn=SERVER, cluster="shadow_cluster")
LAYOUT = ClusterLayout("shadow_cluster", DB)

# sha256 of migrations 0001-0009 rendered for one server (database "db", default settings), joined with
# "\n;\n", as shadow rendered them before cluster mode existed: applied files never change, so neither may this.
SINGLE_NODE_DIGEST = "a38dbb9849e36a779871e8069bb805665ce0e7d6f7029bae5af5e725541f3115"
SINGLE_NODE_LEDGER = (
    "CREATE TABLE IF NOT EXISTS db.schema_migrations "
    "(version UInt32, name String, checksum String, applied_at DateTime64(3, 'UTC') DEFAULT now64(3)) "
    "ENGINE = MergeTree ORDER BY version"
)
TABLES = {"comparisons", "ingest_log", "comparisons_hourly", "gate_rollouts"}


@pytest.fixture
def engine(clickhouse_settings: ClickHouseSettings) -> Iterator[ClickHouseStore]:
    """The test engine, unmigrated: only its parser is used."""
    store = ClickHouseStore(clickhouse_settings)
    try:
        yield store
    finally:
        store.close()


def formatted(engine: ClickHouseStore, statement: str) -> str:
    """The statement as the engine's parser prints it back (raises StoreError when it does not parse)."""
    return str(engine.query_rows("SELECT formatQuery({q:String})", {"q": statement})[0][0])


def single_node_statements() -> list[str]:
    return [s for m in load_migrations() for s in m.statements(SINGLE)]


def cluster_migration_statements() -> list[str]:
    return [s for m in load_migrations() for s in m.statements(CLUSTER)]


def access_statements(layout: ClusterLayout | None) -> list[str]:
    statements = role_statements(DB, layout)
    for principal in PRINCIPALS:
        statements += user_statements(principal, DB, "a-password-of-24-chars!!", salt="00" * 16, layout=layout)
    return statements


# --- one server: unchanged ---------------------------------------------------------------------------


def test_single_node_migrations_render_byte_for_byte_as_before_cluster_mode() -> None:
    rendered = [s for m in load_migrations() if m.version <= 9 for s in m.statements(SINGLE)]
    assert len(rendered) == 26
    assert hashlib.sha256("\n;\n".join(rendered).encode()).hexdigest() == SINGLE_NODE_DIGEST


def test_single_node_ledger_and_access_have_no_cluster_clause() -> None:
    assert ledger_statement(DB, None) == SINGLE_NODE_LEDGER
    assert not [s for s in single_node_statements() + access_statements(None) if "ON CLUSTER" in s or "_local" in s]


# --- the cluster rendering: parses, and has the shape the design asks for ------------------------------


def test_every_cluster_statement_parses_with_the_engines_parser(engine: ClickHouseStore) -> None:
    statements = [
        f"CREATE DATABASE IF NOT EXISTS {DB} {LAYOUT.on_cluster}",
        ledger_statement(DB, LAYOUT),
        *cluster_migration_statements(),
        *access_statements(LAYOUT),
    ]
    assert len(statements) > 60
    for statement in statements:
        text = formatted(engine, statement)
        if statement.startswith("INSERT INTO"):
            assert "ON CLUSTER" not in text  # DML runs once, through the Distributed tables
        else:
            assert "ON CLUSTER shadow_cluster" in text, statement[:200]


def test_a_broken_statement_fails_the_parse_check(engine: ClickHouseStore) -> None:
    """The parse check can fail: the same path refuses a rendered statement with a syntax error."""
    good = cluster_migration_statements()[0]
    broken = good.replace("ENGINE = ReplicatedReplacingMergeTree(", "ENGINE = ReplicatedReplacingMergeTree((", 1)
    assert broken != good
    with pytest.raises(StoreError, match=r"SYNTAX_ERROR|Syntax error"):
        formatted(engine, broken)
    with pytest.raises(StoreError):
        formatted(engine, good.replace(" ON CLUSTER shadow_cluster", " ON CLUSTER", 1))


def test_each_table_becomes_a_replicated_local_table_and_a_distributed_table_of_the_same_name(
    engine: ClickHouseStore,
) -> None:
    single = {
        m["name"]: (m["body"], m["engine"])
        for s in single_node_statements()
        if (
            m := re.fullmatch(
                r"CREATE TABLE IF NOT EXISTS db\.(?P<name>\w+)(?P<body>.*^ENGINE = (?P<engine>.*?)$.*)", s, re.S | re.M
            )
        )
    }
    assert set(single) == TABLES
    statements = cluster_migration_statements()
    distributed = {}
    for name, (body, engine_clause) in single.items():
        local = next(s for s in statements if s.startswith(f"CREATE TABLE IF NOT EXISTS db.{name}_local ON CLUSTER"))
        # Same columns, partitioning, order and TTL; only the engine differs, and by its family's Replicated twin.
        family, _, args = engine_clause.partition("(")
        replicated = f"Replicated{family}('/clickhouse/tables/{{shard}}/{{database}}/{{table}}', '{{replica}}', {args}"
        assert local == f"CREATE TABLE IF NOT EXISTS db.{name}_local ON CLUSTER shadow_cluster" + body.replace(
            f"ENGINE = {engine_clause}", f"ENGINE = {replicated}"
        )
        assert f"ENGINE = Replicated{family}(" in formatted(engine, local)
        dist = next(s for s in statements if s.startswith(f"CREATE TABLE IF NOT EXISTS db.{name} ON CLUSTER"))
        distributed[name] = re.search(r"ENGINE = Distributed\((.*)\)$", formatted(engine, dist)).group(1)
    assert distributed == {
        "comparisons": "shadow_cluster, db, comparisons_local, cityHash64(event_id)",
        "ingest_log": "shadow_cluster, db, ingest_log_local, cityHash64(source, partition, offset)",
        "comparisons_hourly": "shadow_cluster, db, comparisons_hourly_local, cityHash64(hour, workflow, candidate, tenant)",
        "gate_rollouts": "shadow_cluster, db, gate_rollouts_local, cityHash64(rollout, candidate, workflow, tenant)",
    }


def test_each_local_table_is_made_before_its_distributed_table() -> None:
    statements = cluster_migration_statements()
    for name in TABLES:
        local = next(i for i, s in enumerate(statements) if f"db.{name}_local ON CLUSTER" in s)
        dist = next(i for i, s in enumerate(statements) if s.startswith(f"CREATE TABLE IF NOT EXISTS db.{name} ON"))
        assert dist == local + 1


def test_every_sharding_key_hashes_columns_of_its_tables_sorting_key() -> None:
    """Every version of a row has the same ORDER BY key, so the same hash and the same shard: FINAL per shard is whole."""
    for statement in single_node_statements():
        if match := re.match(r"CREATE TABLE IF NOT EXISTS db\.(\w+)", statement):
            order_by = re.search(r"^ORDER BY (.+)$", statement, re.M).group(1)
            elements = {e.strip() for e in re.split(r",(?![^(]*\))", order_by.strip("()"))}
            assert set(SHARDING_KEYS[match.group(1)]) <= elements, (match.group(1), order_by)
    assert sharding_key("comparisons", "(workflow, candidate, toStartOfHour(occurred_at), event_id)") == (
        "cityHash64(event_id)"
    )


def test_a_sharding_key_outside_the_sorting_key_or_a_table_without_one_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(SHARDING_KEYS, "comparisons", ("occurred_at",))  # in the key only inside toStartOfHour
    with pytest.raises(MigrationError, match=r"0001_comparisons.*hashes occurred_at, not in its ORDER BY"):
        cluster_migration_statements()
    monkeypatch.delitem(SHARDING_KEYS, "comparisons")
    with pytest.raises(MigrationError, match="table comparisons has no sharding key"):
        cluster_migration_statements()


def test_add_column_applies_to_the_local_table_then_the_distributed_one_with_the_same_position() -> None:
    single = [s for s in single_node_statements() if s.startswith("ALTER TABLE")]
    statements = [s for s in cluster_migration_statements() if s.startswith("ALTER TABLE")]
    assert len(statements) == 2 * len(single) > 0
    for i, original in enumerate(single):
        name, actions = re.fullmatch(r"ALTER TABLE db\.(\w+)(\s.*)", original, re.S).groups()
        assert statements[2 * i] == f"ALTER TABLE db.{name}_local ON CLUSTER shadow_cluster{actions}"
        assert statements[2 * i + 1] == f"ALTER TABLE db.{name} ON CLUSTER shadow_cluster{actions}"


def test_views_read_the_distributed_tables_and_the_refresh_appends_through_one() -> None:
    statements = cluster_migration_statements()
    views = [s for s in statements if re.match(r"CREATE (OR REPLACE )?VIEW|CREATE MATERIALIZED VIEW|DROP VIEW", s)]
    single = [
        s for s in single_node_statements() if re.match(r"CREATE (OR REPLACE )?VIEW|CREATE MATERIALIZED|DROP VIEW", s)
    ]
    assert len(views) == len(single) == 8
    for rendered, original in zip(views, single, strict=True):
        # Only ON CLUSTER is added: FROM db.comparisons FINAL and TO db.comparisons_hourly now name Distributed tables.
        assert rendered.replace(" ON CLUSTER shadow_cluster", "", 1) == original
        assert "_local" not in rendered


def test_statements_without_a_cluster_rule_are_refused() -> None:
    for statement, reason in [
        ("CREATE MATERIALIZED VIEW db.mv TO db.t AS SELECT 1", "without REFRESH sees only the inserts"),
        ("ALTER TABLE db.comparisons MODIFY TTL toDateTime(occurred_at) + INTERVAL 1 DAY", "only ALTER TABLE ... ADD"),
        ("ALTER TABLE db.comparisons DROP COLUMN caps", "only ALTER TABLE ... ADD"),
        ("ALTER TABLE db.other ADD COLUMN x UInt8", "table other has no sharding key"),
        ("CREATE TABLE db.other\n(\n    x UInt8\n)\nENGINE = MergeTree\nORDER BY x", "table other has no sharding key"),
        ("CREATE TABLE db.other (x UInt8) ENGINE = Log", "needs a \\*MergeTree ENGINE line"),
        ("OPTIMIZE TABLE db.comparisons FINAL", "no rule renders"),
        ("TRUNCATE TABLE db.comparisons", "no rule renders"),
    ]:
        with pytest.raises(MigrationError, match=reason):
            cluster_statements(statement, LAYOUT)


def test_the_ledger_is_one_replication_group_across_the_cluster(engine: ClickHouseStore) -> None:
    text = formatted(engine, ledger_statement(DB, LAYOUT))
    assert "ON CLUSTER shadow_cluster" in text
    assert "ReplicatedMergeTree('/clickhouse/tables/all/{database}/{table}', '{shard}-{replica}')" in text
    custom = ClusterLayout("c", DB, replica_path="/ch/{shard}/{table}", replica_name="{shard}_{replica}")
    assert "ReplicatedMergeTree('/ch/all/{table}', '{shard}_{replica}')" in ledger_statement(DB, custom)


def test_replica_path_name_and_a_dashed_cluster_name_come_from_the_settings(engine: ClickHouseStore) -> None:
    settings = ClickHouseSettings(
        database=DB, dsn=SERVER, cluster="my-cluster", replica_path="/ch/{shard}/{table}", replica_name="{host}"
    )
    statements = [s for m in load_migrations() for s in m.statements(settings)]
    assert "ENGINE = ReplicatedReplacingMergeTree('/ch/{shard}/{table}', '{host}', row_version)" in statements[0]
    assert "ENGINE = Distributed(`my-cluster`, db, comparisons_local, cityHash64(event_id))" in statements[1]
    for statement in statements[:2]:
        assert "ON CLUSTER `my-cluster`" in formatted(engine, statement)
    with pytest.raises(ValueError, match="cluster"):
        ClickHouseSettings(cluster="shadow; DROP DATABASE x")
    with pytest.raises(ValueError, match="replica_path"):
        ClickHouseSettings(cluster="c", replica_path="/x/'{shard}")


def test_access_runs_on_the_cluster_and_writers_may_insert_into_the_local_tables() -> None:
    statements = access_statements(LAYOUT)
    assert len(statements) == len(access_statements(None))
    assert all(" ON CLUSTER shadow_cluster" in s for s in statements)
    writer = next(s for s in statements if "TO db_writer_role WITH" in s)
    gate = next(s for s in statements if "TO db_gate_role WITH" in s)
    for table in ("comparisons", "ingest_log", "comparisons_hourly"):
        assert f"INSERT ON db.{table}, INSERT ON db.{table}_local" in writer
    assert "INSERT ON db.gate_rollouts, INSERT ON db.gate_rollouts_local" in gate
    reader = next(s for s in statements if "TO db_reader_role WITH" in s)
    assert reader == "GRANT ON CLUSTER shadow_cluster SELECT ON db.* TO db_reader_role WITH REPLACE OPTION"


# --- the store: synchronous Distributed inserts in cluster mode only --------------------------------


class _Captured(Exception):
    pass


def _session_settings(monkeypatch: pytest.MonkeyPatch, settings: ClickHouseSettings) -> dict[str, Any]:
    seen: dict[str, Any] = {}

    def get_client(**kwargs: Any) -> None:
        seen.update(kwargs["settings"])
        raise _Captured

    monkeypatch.setattr(store_module.clickhouse_connect, "get_client", get_client)
    store = ClickHouseStore(settings)
    try:
        with pytest.raises(_Captured):
            store.query_rows("SELECT 1")
    finally:
        store.close()
    return seen


def test_cluster_mode_inserts_wait_until_rows_are_on_their_shard(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _session_settings(monkeypatch, CLUSTER) == {"distributed_foreground_insert": 1}
    assert _session_settings(monkeypatch, ClickHouseSettings(dsn=SERVER)) == {}
    # A user's own session settings stay; the foreground insert cannot be turned off in cluster mode.
    custom = CLUSTER.model_copy(update={"settings": {"max_threads": 2, "distributed_foreground_insert": 0}})
    assert _session_settings(monkeypatch, custom) == {"max_threads": 2, "distributed_foreground_insert": 1}


def test_the_foreground_insert_setting_is_known_to_the_engine(engine: ClickHouseStore) -> None:
    names = {
        str(r[0])
        for r in engine.query_rows(
            "SELECT name FROM system.settings WHERE name IN ('distributed_foreground_insert', 'insert_distributed_sync')"
        )
    }
    assert "distributed_foreground_insert" in names


def test_cluster_mode_refuses_the_embedded_store() -> None:
    with pytest.raises(ConfigError, match="needs ClickHouse servers"):
        ClickHouseStore(ClickHouseSettings(dsn="chdb:/tmp/x", cluster="c"))
