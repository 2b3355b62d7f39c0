-- The roles of shadow's ClickHouse users, one per kind of process. `shadow migrate` applies this file
-- on a ClickHouse server at every run, as the administrator it connects as (shadow/storage/access.py;
-- the users, whose passwords come from the environment, are made there too). It holds no secret.
-- It is not a numbered migration: chDB has no SQL access control, and every statement below
-- converges when run again, so there is nothing to record in schema_migrations.
--
--   ${database}_writer_role  the workers, `shadow rollup`, `shadow rescore`: read the database, insert
--                            comparisons, ingest-log rows and recomputed hourly rollups; no DDL, no
--                            gate state
--   ${database}_gate_role    `shadow serve`: read the database, insert its rollout state (gate_rollouts)
--   ${database}_reader_role  `shadow summary`, `gate`, `report`, Grafana, analysts: read only
--
-- None of them is granted anything on system.* or another database: a server with the default
-- access_control_improvements.select_from_system_db_requires_grant = true lets them read only the
-- system tables everyone may read (settings, one, databases, tables and columns filtered to what
-- they can see, ...), which is all clickhouse-connect reads when it connects.
--
-- ClickHouse syntax relied on (docs, SQL reference, CREATE ROLE / ALTER ROLE / GRANT):
--   CREATE ROLE [IF NOT EXISTS | OR REPLACE] name1 [, name2 ...] [ON CLUSTER cluster_name]
--       [SETTINGS variable [= value] [MIN [=] min_value] [MAX [=] max_value]
--        [CONST|READONLY|WRITABLE|CHANGEABLE_IN_READONLY] | PROFILE 'profile_name'] [,...]
--   ALTER ROLE name ... [SETTINGS ...]   (replaces the role's settings: DROP ALL SETTINGS, ADD SETTINGS ...)
--   GRANT [ON CLUSTER cluster_name] privilege[(column_name [,...])] [,...] ON {db.table|db.*|*.*|table|*}
--       TO {user | role | CURRENT_USER} [,...] [WITH GRANT OPTION] [WITH REPLACE OPTION]
--   "The WITH REPLACE OPTION clause replace old privileges by new privileges for the user or role."
-- The statements below list several `privilege ON target` elements before TO: ClickHouse's GRANT
-- parser reads a comma-separated list of them (ParserGrantQuery), and a test parses every statement
-- of this file with the engine's own parser (formatQuery). One statement per role, WITH REPLACE
-- OPTION, makes it the role's whole set of privileges at once: a privilege dropped from this file is
-- revoked at the next `shadow migrate`, one added is granted, and a running worker never sees its
-- role half-granted.
--
-- The reader runs with readonly = 2: reading queries and SET, no INSERT, no DDL, and `readonly` itself
-- cannot be lowered. Not readonly = 1, which also refuses every setting a query or a view carries:
-- measured on the ClickHouse engine, reading comparisons_hourly_source (migration 0003, which `shadow
-- summary` reads for the newest hours) then fails with ILLEGAL_AGGREGATION, its view's
-- `SETTINGS prefer_column_name_to_alias = 1` not applied; and Grafana's data source sets
-- max_execution_time on every query. Writes stay impossible twice over:
-- the role is granted SELECT only.

CREATE ROLE IF NOT EXISTS ${database}_writer_role;
GRANT SELECT ON ${database}.*,
      INSERT ON ${database}.comparisons,
      INSERT ON ${database}.ingest_log,
      INSERT ON ${database}.comparisons_hourly
   TO ${database}_writer_role WITH REPLACE OPTION;

CREATE ROLE IF NOT EXISTS ${database}_gate_role;
GRANT SELECT ON ${database}.*,
      INSERT ON ${database}.gate_rollouts
   TO ${database}_gate_role WITH REPLACE OPTION;

CREATE ROLE IF NOT EXISTS ${database}_reader_role SETTINGS readonly = 2;
ALTER ROLE ${database}_reader_role SETTINGS readonly = 2;
GRANT SELECT ON ${database}.* TO ${database}_reader_role WITH REPLACE OPTION
