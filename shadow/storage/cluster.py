"""Cluster mode: the DDL of ``schemas/`` rendered for a ClickHouse cluster (``clickhouse.cluster``).

The SQL files are written for one server and their checksums are recorded in deployed
``schema_migrations`` tables, so they are never edited for the cluster: each statement is rewritten
here at render time, by one rule per kind of statement, and a statement no rule knows is refused
(a new migration must say how it runs on a cluster instead of silently running on one node).

What a cluster gets (every statement ``ON CLUSTER``):

- each ``CREATE TABLE <db>.<name>`` becomes ``<db>.<name>_local`` with the ``Replicated`` engine of
  the same family (``ReplacingMergeTree(v)`` -> ``ReplicatedReplacingMergeTree('<path>', '<replica>', v)``),
  plus ``<db>.<name>`` as a ``Distributed`` table over the locals. Workers insert into and readers
  query ``<name>`` as on one server, so the pipeline and the SQL pack in ``schemas/queries/`` run
  unchanged.
- the sharding key of each table is a hash of columns of its ``ORDER BY`` key (:data:`SHARDING_KEYS`):
  every version of a row (the duplicates ``ReplacingMergeTree`` collapses) has the same sorting key,
  so the same hash, so the same shard. ``FINAL`` on a ``Distributed`` table runs on each shard
  separately; that is correct only because no row has versions on two shards.
- ``ALTER TABLE <name> ADD COLUMN`` applies to ``<name>_local`` and then to ``<name>`` (same ``AFTER``),
  so the two keep the same column order (the rollups are read and written by position).
- views, the refreshable materialized view, ``DROP VIEW`` and ``CREATE DATABASE`` get ``ON CLUSTER``
  only: on every node the views read the ``Distributed`` tables, so each node's refresh computes the
  whole cluster's rollups and appends them through the ``Distributed`` ``comparisons_hourly``. Every
  node refreshing is redundant work (once per node and refresh period over the look-back window) but
  harmless: the rollup rows of one (hour, workflow, candidate, tenant) all go to one shard (the
  table's sharding key is its sorting key) and ``ReplacingMergeTree(version)`` keeps the newest.
  A materialized view without ``REFRESH`` (an insert trigger) is refused: on a cluster it would see
  only the inserts of the node it lives on.
- ``INSERT INTO ... SELECT`` (0003 rolls up what is already stored) is kept as written and runs once,
  on the node ``shadow migrate`` connects to: it reads and writes the ``Distributed`` tables, so it
  covers the whole cluster, and the session's ``distributed_foreground_insert`` makes it return once
  the rows are on their shards.
- the migrations ledger is one ``ReplicatedMergeTree`` replicated to every node of the cluster (its
  Keeper path has no ``{shard}``), so ``shadow migrate`` run against any node reads the same applied
  versions and never applies a migration twice.
- roles, users and grants (``schemas/access/roles.sql``) get ``ON CLUSTER``, and the writer and gate
  roles may also insert into the ``_local`` tables: a ``Distributed`` insert writes the local shard's
  rows as the inserting user (and the remote shards' too when the cluster has an inter-server
  ``<secret>``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from shadow.config import ClickHouseSettings
from shadow.errors import MigrationError

LOCAL_SUFFIX = "_local"

SHARDING_KEYS: dict[str, tuple[str, ...]] = {
    # An event's rows (every candidate, every replay) on one shard: a replay replaces its earlier row there.
    "comparisons": ("event_id",),
    # A record consumed twice after a crash has the same position: both rows on one shard, counted once.
    # The offset spreads one partition's records over every shard (hashing the partition alone would put
    # a topic with few partitions on few shards).
    "ingest_log": ("source", "partition", "offset"),
    # Every refresh of an hour's rollup (from every node, and from `shadow rollup`) on one shard.
    "comparisons_hourly": ("hour", "workflow", "candidate", "tenant"),
    # A rollout key's pin, latch and reset on one shard, so FINAL picks the key's one state.
    "gate_rollouts": ("rollout", "candidate", "workflow", "tenant"),
}
"""Per table, the columns of its ``ORDER BY`` key hashed (``cityHash64``) to choose its shard."""

_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_CREATE_TABLE = re.compile(
    rf"CREATE TABLE (?P<ine>IF NOT EXISTS )?(?P<db>{_NAME})\.(?P<name>{_NAME})(?P<body>\s*\(.*)", re.S
)
_ENGINE = re.compile(r"^ENGINE = (?P<family>[A-Za-z]*)MergeTree(?:\((?P<args>[^()]*)\))?[ \t]*$", re.M)
_ORDER_BY = re.compile(r"^ORDER BY (?P<key>.+?)[ \t]*$", re.M)
_ALTER_TABLE = re.compile(rf"ALTER TABLE (?P<db>{_NAME})\.(?P<name>{_NAME})(?P<actions>\s.*)", re.S)
_ADD_COLUMNS = re.compile(r"\s*ADD COLUMN\b.*", re.S)
_REFRESHABLE_VIEW = re.compile(
    rf"(?P<head>CREATE MATERIALIZED VIEW (?:IF NOT EXISTS )?{_NAME}\.{_NAME})(?P<rest>\s+REFRESH\s.*)", re.S
)
_ON_CLUSTER_AFTER_NAME = [
    re.compile(rf"(?P<head>CREATE (?:OR REPLACE )?VIEW (?:IF NOT EXISTS )?{_NAME}\.{_NAME})(?P<rest>\s+AS\s.*)", re.S),
    _REFRESHABLE_VIEW,
    re.compile(rf"(?P<head>DROP VIEW (?:IF EXISTS )?{_NAME}\.{_NAME})(?P<rest>)"),
    re.compile(rf"(?P<head>CREATE DATABASE (?:IF NOT EXISTS )?{_NAME})(?P<rest>)"),
    re.compile(rf"(?P<head>CREATE (?:ROLE|USER) (?:IF NOT EXISTS )?{_NAME})(?P<rest>(?:\s.*)?)", re.S),
    re.compile(rf"(?P<head>ALTER (?:ROLE|USER) {_NAME})(?P<rest>\s.*)", re.S),
]
_ON_CLUSTER_AFTER_VERB = re.compile(r"(?P<head>GRANT|REVOKE)(?P<rest>\s.*)", re.S)
_INSERT_SELECT = re.compile(rf"INSERT INTO {_NAME}\.{_NAME}\s+SELECT\s.*", re.S)
_INSERT_GRANT = re.compile(rf"INSERT ON (?P<db>{_NAME})\.(?P<name>{_NAME})\b")


@dataclass(frozen=True, slots=True)
class ClusterLayout:
    """Where and how the cluster's tables live: the settings of :class:`ClickHouseSettings` cluster mode."""

    cluster: str
    database: str
    replica_path: str = "/clickhouse/tables/{shard}/{database}/{table}"
    replica_name: str = "{replica}"

    @classmethod
    def of(cls, settings: ClickHouseSettings) -> ClusterLayout | None:
        """The layout of ``settings``, or None for one server (``clickhouse.cluster`` unset)."""
        if settings.cluster is None:
            return None
        return cls(settings.cluster, settings.database, settings.replica_path, settings.replica_name)

    @property
    def on_cluster(self) -> str:
        return f"ON CLUSTER {_quoted(self.cluster)}"

    def replicated_engine(self, family: str, args: str, *, path: str | None = None, replica: str | None = None) -> str:
        """``Replicated<family>MergeTree('<path>', '<replica>'[, args])``."""
        given = [f"'{path or self.replica_path}'", f"'{replica or self.replica_name}'"]
        if args.strip():
            given.append(args.strip())
        return f"Replicated{family}MergeTree({', '.join(given)})"

    @property
    def ledger_path(self) -> str:
        """The ledger's Keeper path: ``replica_path`` without the shard, so one replication group spans the cluster."""
        return self.replica_path.replace("{shard}", "all")

    @property
    def ledger_replica(self) -> str:
        """The ledger's replica name, unique across the cluster (a replica name need only be unique in its shard)."""
        return self.replica_name if "{shard}" in self.replica_name else "{shard}-" + self.replica_name


def _quoted(name: str) -> str:
    """A cluster name as SQL: plain when it is an identifier, else in backquotes (e.g. ``my-cluster``)."""
    return name if re.fullmatch(_NAME, name) else f"`{name}`"


def sharding_key(table: str, order_by: str | None = None) -> str:
    """``cityHash64(<columns>)`` for ``table``; with ``order_by`` given, checks the columns are elements of it.

    Raises:
        MigrationError: the table has no sharding key in :data:`SHARDING_KEYS`, or a column of it is not
            an element of the table's ``ORDER BY`` key (its row versions could then land on two shards).
    """
    columns = SHARDING_KEYS.get(table)
    if columns is None:
        raise MigrationError(
            f"cluster mode: table {table} has no sharding key; add one to shadow.storage.cluster.SHARDING_KEYS "
            "(a hash of columns of its ORDER BY key, so every version of a row lands on one shard)"
        )
    if order_by is not None:
        elements = {e.strip() for e in _top_level_split(order_by.strip().removeprefix("(").removesuffix(")"))}
        missing = [c for c in columns if c not in elements]
        if missing:
            raise MigrationError(
                f"cluster mode: the sharding key of {table} hashes {', '.join(missing)}, not in its ORDER BY {order_by}"
            )
    return f"cityHash64({', '.join(columns)})"


def _top_level_split(text: str) -> list[str]:
    """``text`` split at the commas outside parentheses."""
    parts, depth, start = [], 0, 0
    for i, char in enumerate(text):
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts


def cluster_statements(statement: str, layout: ClusterLayout) -> list[str]:
    """The statements that do on ``layout``'s cluster what ``statement`` does on one server.

    Raises:
        MigrationError: no rule covers the statement (see the module docstring for the rules).
    """
    if match := _CREATE_TABLE.fullmatch(statement):
        return _create_table(match, layout)
    if match := _ALTER_TABLE.fullmatch(statement):
        return _alter_table(match, layout)
    if _INSERT_SELECT.fullmatch(statement):
        return [statement]
    if statement.startswith("CREATE MATERIALIZED VIEW") and not _REFRESHABLE_VIEW.fullmatch(statement):
        raise MigrationError(
            "cluster mode: a materialized view without REFRESH sees only the inserts of the node it lives on; "
            f"write it as a refreshable view over the Distributed tables: {_head(statement)}"
        )
    return [on_cluster(statement, layout)]


def on_cluster(statement: str, layout: ClusterLayout) -> str:
    """``statement`` with ``ON CLUSTER <cluster>`` where ClickHouse's grammar puts it (views, databases, access).

    Raises:
        MigrationError: the statement is not of a kind this knows.
    """
    for pattern in _ON_CLUSTER_AFTER_NAME:
        if match := pattern.fullmatch(statement):
            return f"{match['head']} {layout.on_cluster}{match['rest']}"
    if match := _ON_CLUSTER_AFTER_VERB.fullmatch(statement):
        return f"{match['head']} {layout.on_cluster}{match['rest']}"
    raise MigrationError(f"cluster mode: no rule renders this statement for a cluster: {_head(statement)}")


def _head(statement: str) -> str:
    return " ".join(statement.split())[:120]


def _create_table(match: re.Match[str], layout: ClusterLayout) -> list[str]:
    ine, db, name, body = match["ine"] or "", match["db"], match["name"], match["body"]
    engine = _ENGINE.search(body)
    order_by = _ORDER_BY.search(body)
    if engine is None or order_by is None:
        raise MigrationError(
            f"cluster mode: CREATE TABLE {db}.{name} needs a *MergeTree ENGINE line and an ORDER BY line "
            "to be made Replicated and sharded"
        )
    key = sharding_key(name, order_by["key"])
    replicated = layout.replicated_engine(engine["family"], engine["args"] or "")
    local = f"{name}{LOCAL_SUFFIX}"
    cluster = _quoted(layout.cluster)
    return [
        f"CREATE TABLE {ine}{db}.{local} {layout.on_cluster}"
        + body[: engine.start()]
        + f"ENGINE = {replicated}"
        + body[engine.end() :],
        f"CREATE TABLE {ine}{db}.{name} {layout.on_cluster} AS {db}.{local}\n"
        f"ENGINE = Distributed({cluster}, {db}, {local}, {key})",
    ]


def _alter_table(match: re.Match[str], layout: ClusterLayout) -> list[str]:
    db, name, actions = match["db"], match["name"], match["actions"]
    if not _ADD_COLUMNS.fullmatch(actions) or re.search(r"\b(?:DROP|MODIFY|RENAME|UPDATE|DELETE)\b", actions):
        raise MigrationError(
            f"cluster mode: only ALTER TABLE ... ADD COLUMN has a cluster rule (it applies to {name}{LOCAL_SUFFIX} "
            f"and to the Distributed {name}): {_head(match.group(0))}"
        )
    sharding_key(name)  # a table made by the migrations, so it has a local and a Distributed table
    return [
        f"ALTER TABLE {db}.{name}{LOCAL_SUFFIX} {layout.on_cluster}{actions}",
        f"ALTER TABLE {db}.{name} {layout.on_cluster}{actions}",
    ]


def ledger_statement(database: str, layout: ClusterLayout | None) -> str:
    """The ``CREATE TABLE`` of the migrations ledger ``schema_migrations``; replicated to every node on a cluster."""
    columns = "(version UInt32, name String, checksum String, applied_at DateTime64(3, 'UTC') DEFAULT now64(3))"
    if layout is None:
        return f"CREATE TABLE IF NOT EXISTS {database}.schema_migrations {columns} ENGINE = MergeTree ORDER BY version"
    engine = layout.replicated_engine("", "", path=layout.ledger_path, replica=layout.ledger_replica)
    return (
        f"CREATE TABLE IF NOT EXISTS {database}.schema_migrations {layout.on_cluster} {columns} "
        f"ENGINE = {engine} ORDER BY version"
    )


def access_statement(statement: str, layout: ClusterLayout) -> str:
    """An access statement (role, user, grant) for the cluster: ``ON CLUSTER``, and each table insert grant
    of a sharded table extended to its ``_local`` table.

    Raises:
        MigrationError: the statement is not of a kind :func:`on_cluster` knows.
    """

    def with_local(match: re.Match[str]) -> str:
        if match["name"] not in SHARDING_KEYS:
            return match.group(0)
        return f"{match.group(0)}, INSERT ON {match['db']}.{match['name']}{LOCAL_SUFFIX}"

    return on_cluster(_INSERT_GRANT.sub(with_local, statement), layout)
