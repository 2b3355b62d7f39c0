"""Cluster mode on a real two-shard cluster (issue 15): ``python -m tests.cluster`` runs this where Docker answers.

One scenario, in order, on ClickHouse Keeper and two ClickHouse 25.8 servers (conftest.py):

1. ``shadow migrate`` in cluster mode on server 1 applies every migration; the ledger is replicated, so
   server 2 reads the same versions and a migrate there applies nothing. Both servers hold each table's
   Replicated local table and its Distributed table.
2. The roles and users are made ON CLUSTER: the users exist on both servers.
3. The writer inserts through server 2 every (event, candidate) row, then a replay of a quarter of the
   events (a higher row_version, another similarity), and ingest-log rows with a record consumed twice.
   Right after the insert returns, the shards' local tables hold every row (the insert is synchronous).
4. Both shards got rows; no event has rows on two shards; FINAL over the Distributed table counts each
   (event, candidate) once with its replayed values, and each consumed record once.
5. The rollups recomputed twice (two versions of each hour) sum to the comparisons once; the gate's
   rollout state reads back its newest version; every query of the SQL pack runs as the reader.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shadow.report.queries import load_query, query_names, run_query
from shadow.storage.access import provision_access
from shadow.storage.cluster import SHARDING_KEYS
from shadow.storage.migrate import applied_versions, load_migrations, migrate
from shadow.storage.rollup import refresh_rollups
from shadow.storage.store import ClickHouseStore
from tests.cluster.conftest import ClusterNodes
from tests.conftest import unique
from tests.seeding import comparison_row, ingest_row, insert_ingest, insert_rows

pytestmark = [pytest.mark.docker, pytest.mark.timeout(900)]

EVENTS, REPLAYED, CANDIDATES = 200, 50, ("c1", "c2")
PASSWORDS = {kind: f"{kind}-password-of-enough-chars" for kind in ("writer", "gate", "reader")}
GATE_COLUMNS = [
    "rollout", "candidate", "workflow", "tenant", "phase", "epoch", "window_start", "verdict", "result", "written_at",
    "version",
]  # fmt: skip


def one(store: ClickHouseStore, sql: str) -> object:
    return store.query_rows(sql)[0][0]


def test_cluster_mode_end_to_end(cluster_nodes: ClusterNodes) -> None:
    db = unique("cluster")
    base = (datetime.now(UTC) - timedelta(hours=3)).replace(minute=0, second=0, microsecond=0)
    admin1 = ClickHouseStore(cluster_nodes.settings(0, db))
    admin2 = ClickHouseStore(cluster_nodes.settings(1, db))
    stores = [admin1, admin2]
    try:
        # Step 1.
        versions = [m.version for m in load_migrations()]
        assert [m.version for m in migrate(admin1)] == versions
        admin2.command(f"SYSTEM SYNC REPLICA {db}.schema_migrations")
        assert applied_versions(admin2) == versions
        assert migrate(admin2) == []
        for admin in (admin1, admin2):
            engines = dict(
                admin.query_rows("SELECT name, engine FROM system.tables WHERE database = {db:String}", {"db": db})
            )
            for table in SHARDING_KEYS:
                assert engines[f"{table}_local"].startswith("Replicated"), (table, engines)
                assert engines[table] == "Distributed", (table, engines)
            assert engines["schema_migrations"] == "ReplicatedMergeTree"
            assert engines["comparisons_hourly_refresh"] == "MaterializedView"

        # Step 2.
        environ = {f"SHADOW_CLICKHOUSE_{kind.upper()}_PASSWORD": password for kind, password in PASSWORDS.items()}
        provision_access(admin1, environ)
        users = f"('{db}_writer', '{db}_gate', '{db}_reader')"
        assert [one(a, f"SELECT count() FROM system.users WHERE name IN {users}") for a in stores] == [3, 3]
        writer, gate, reader = (
            ClickHouseStore(cluster_nodes.settings(node, db, username=f"{db}_{kind}", password=PASSWORDS[kind]))
            for node, kind in ((1, "writer"), (0, "gate"), (0, "reader"))
        )
        stores += [writer, gate, reader]
        assert one(writer, "SELECT value FROM system.settings WHERE name = 'distributed_foreground_insert'") == "1"

        # Step 3.
        at = [base + timedelta(minutes=i % 120) for i in range(EVENTS)]
        rows = [
            comparison_row(f"e{i}", candidate=c, similarity=0.5, row_version=1, occurred_at=at[i])
            for i in range(EVENTS)
            for c in CANDIDATES
        ]
        replays = [
            comparison_row(f"e{i}", candidate=c, similarity=0.25, row_version=2, occurred_at=at[i])
            for i in range(REPLAYED)
            for c in CANDIDATES
        ]
        insert_rows(writer, rows)
        insert_rows(writer, replays)
        locals_now = [one(a, f"SELECT count() FROM {db}.comparisons_local FINAL") for a in (admin1, admin2)]
        assert sum(locals_now) == EVENTS * len(CANDIDATES), locals_now  # on their shards when the insert returned
        consumed = [
            ingest_row(i, partition=i % 6, position=f"topic/{i % 6}@{i}", event_id=f"e{i}", occurred_at=at[i])
            for i in range(EVENTS)
        ]
        insert_ingest(writer, consumed)
        insert_ingest(writer, consumed[:REPLAYED])  # consumed again after a crash: same positions

        # Step 4.
        assert min(locals_now) > 0, locals_now
        split = one(
            admin1,
            f"SELECT count() FROM (SELECT event_id FROM {db}.comparisons GROUP BY event_id "
            "HAVING uniqExact(_shard_num) > 1)",
        )
        assert split == 0
        final = reader.query_rows(f"SELECT count(), countIf(similarity = 0.25) FROM {db}.comparisons FINAL")[0]
        assert final == (EVENTS * len(CANDIDATES), REPLAYED * len(CANDIDATES))
        assert one(reader, f"SELECT count() FROM {db}.comparisons") >= EVENTS * len(CANDIDATES)
        assert one(reader, f"SELECT count() FROM {db}.ingest_log FINAL") == EVENTS

        # Step 5.
        for _ in range(2):
            refresh_rollups(writer, base - timedelta(hours=1), base + timedelta(hours=4))
        hourly = reader.query_rows(f"SELECT sum(compared), count() FROM {db}.comparisons_hourly FINAL")[0]
        assert hourly == (EVENTS * len(CANDIDATES), 2 * len(CANDIDATES))  # 2 hours x 2 candidates, once each
        key = ["r1", "c1", "support_chat", "acme"]
        gate.insert("gate_rollouts", [[*key, "pinned", 0, base, "", "", base, 1]], GATE_COLUMNS)
        gate.insert("gate_rollouts", [[*key, "latched", 0, base, "promote", "{}", base, 2]], GATE_COLUMNS)
        assert reader.query_rows(f"SELECT phase, verdict FROM {db}.gate_rollouts FINAL")[0] == ("latched", "promote")
        params = {
            "start": base - timedelta(hours=1),
            "boundary": base + timedelta(hours=1),
            "end": base + timedelta(hours=4),
            "candidate": "c1",
            "workflow": "",
            "tenant": "",
            "limit": 0,
            "top": 10,
            "min_rows": 1,
            "per_candidate": 2,
        }
        ran = []
        for name in query_names():
            text = load_query(name)
            run_query(reader, name, **{k: v for k, v in params.items() if "{" + k + ":" in text})
            ran.append(name)
        assert len(ran) == len(query_names()) > 10
        scorecard = run_query(reader, "scorecard", **{k: params[k] for k in ("start", "end", "workflow", "tenant")},
                              candidate="c1")  # fmt: skip
        assert sum(r["compared"] for r in scorecard if r["workflow"] == "") == EVENTS
    finally:
        for store in stores:
            store.close()
