"""Apply the versioned DDL in ``schemas/clickhouse/`` (``shadow migrate``).

Files are named ``NNNN_name.sql`` and applied in order, once: the
``schema_migrations`` table records each version with a checksum. Statements are
written ``IF NOT EXISTS`` so a migration interrupted half-way can run again.
``${database}``, ``${ttl_days}``, ``${rollup_refresh_minutes}`` and ``${rollup_lookback_hours}``
are substituted from the ``clickhouse`` settings.

With ``clickhouse.cluster`` set, every statement is rendered for that cluster at this point
(``shadow.storage.cluster``: ``ON CLUSTER``, Replicated local tables, Distributed tables over them);
the files and their checksums are the same for both layouts.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from string import Template

from shadow.config import ClickHouseSettings
from shadow.errors import MigrationError
from shadow.storage.cluster import ClusterLayout, cluster_statements, ledger_statement
from shadow.storage.store import ClickHouseStore

log = logging.getLogger(__name__)

_FILE = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


def schemas_dir() -> Path:
    """The ``schemas`` directory: inside the installed package, else the source checkout's."""
    package = Path(__file__).resolve().parent.parent
    for candidate in (package / "_schemas", package.parent / "schemas"):
        if (candidate / "clickhouse").is_dir():
            return candidate
    raise MigrationError(f"cannot find the schemas directory (looked in {package / '_schemas'} and {package.parent})")


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()[:16]

    def statements(self, settings: ClickHouseSettings) -> list[str]:
        """The migration's statements for ``settings``: as written for one server, or rendered for its cluster.

        Raises:
            MigrationError: cluster mode, and a statement has no cluster rule (``shadow.storage.cluster``).
        """
        text = Template(self.sql).substitute(
            database=settings.database,
            ttl_days=settings.ttl_days,
            rollup_refresh_minutes=settings.rollup_refresh_minutes,
            rollup_lookback_hours=settings.rollup_lookback_hours,
        )
        statements = split_statements(text)
        layout = ClusterLayout.of(settings)
        if layout is None:
            return statements
        try:
            return [rendered for statement in statements for rendered in cluster_statements(statement, layout)]
        except MigrationError as exc:
            raise MigrationError(f"migration {self.version:04d}_{self.name}: {exc}") from exc


def split_statements(text: str) -> list[str]:
    """The statements of an SQL file: ``--`` comment lines dropped, split at ``;`` ending a line."""
    body = "\n".join(line for line in text.splitlines() if not line.strip().startswith("--"))
    return [s.strip() for s in re.split(r";\s*(?:\n|$)", body) if s.strip()]


def load_migrations(directory: Path | None = None) -> list[Migration]:
    """The migrations on disk, in version order."""
    directory = directory or schemas_dir() / "clickhouse"
    migrations = []
    for path in sorted(directory.glob("*.sql")):
        match = _FILE.match(path.name)
        if match is None:
            raise MigrationError(f"{path.name}: migration files must be named NNNN_name.sql")
        migrations.append(Migration(int(match.group(1)), match.group(2), path.read_text(encoding="utf-8")))
    versions = [m.version for m in migrations]
    if len(set(versions)) != len(versions):
        raise MigrationError(f"duplicate migration versions in {directory}")
    return migrations


def migrate(store: ClickHouseStore) -> list[Migration]:
    """Create the database and apply every migration not applied yet; returns those applied now.

    Steps:
        1. Create the database and the ``schema_migrations`` ledger if missing.
        2. Read the applied versions; refuse if an applied migration's file changed.
        3. Apply the rest in order, recording each one after its statements succeed.

    A schema that is up to date costs two reads and no DDL, so a user without DDL privileges (the
    writer role of ``schemas/access/roles.sql``) can start ``shadow run`` without ``--no-migrate``.

    On a cluster (``clickhouse.cluster``) the database and the ledger are made ``ON CLUSTER`` and the
    ledger is replicated to every node, so running this against any node (or against two nodes, one
    after the other) applies each migration once; two runs at the same moment may both apply one,
    which the ``IF NOT EXISTS`` statements make harmless (the ledger then holds the version twice).
    """
    db = store.database
    layout = ClusterLayout.of(store.settings)
    # Step 1.
    if not _ledger_exists(store):
        store.command(f"CREATE DATABASE IF NOT EXISTS {db}" + (f" {layout.on_cluster}" if layout else ""))
        store.command(ledger_statement(db, layout))
    # Step 2.
    applied = {int(r[0]): str(r[1]) for r in store.query_rows(f"SELECT version, checksum FROM {db}.schema_migrations")}
    done = []
    for migration in load_migrations():
        if migration.version in applied:
            if applied[migration.version] != migration.checksum:
                raise MigrationError(
                    f"migration {migration.version:04d}_{migration.name} changed after it was applied to {db}; "
                    "add a new migration instead of editing an applied one"
                )
            continue
        # Step 3.
        for statement in migration.statements(store.settings):
            try:
                store.command(statement)
            except Exception as exc:
                raise MigrationError(f"migration {migration.version:04d}_{migration.name} failed: {exc}") from exc
        store.insert(
            "schema_migrations",
            [[migration.version, migration.name, migration.checksum]],
            ["version", "name", "checksum"],
        )
        log.info("applied migration %04d_%s to %s", migration.version, migration.name, db)
        done.append(migration)
    return done


def _ledger_exists(store: ClickHouseStore) -> bool:
    # system.tables is readable by every user (filtered to the tables the user may see).
    rows = store.query_rows(
        "SELECT count() FROM system.tables WHERE database = {db:String} AND name = 'schema_migrations'",
        {"db": store.database},
    )
    return bool(rows) and rows[0][0] > 0


def applied_versions(store: ClickHouseStore) -> list[int]:
    """Versions recorded in ``schema_migrations`` (empty when nothing was migrated)."""
    if not _ledger_exists(store):
        return []
    return sorted(int(r[0]) for r in store.query_rows(f"SELECT version FROM {store.database}.schema_migrations"))
