"""The ClickHouse roles of ``schemas/access/roles.sql`` on the real engine (issue 12).

chDB has no SQL access control (``CREATE ROLE`` and ``CREATE USER`` are refused: no writable user
directory), so ``shadow migrate`` skips roles and users there. What the engine still checks:

- every statement ``shadow migrate`` would send to a server parses with ClickHouse's own parser;
- each role's privileges, given to chDB's one user as a users.xml ``grants`` list (the role's GRANT
  without its ``TO``) with the role's settings as its profile, let that kind of process do its work
  with shadow's own code and refuse everything else. One process per role (chdb_role.py): chDB reads
  its users at start and runs one data directory per process.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from shadow.cli import main
from shadow.config import ClickHouseSettings
from shadow.storage.access import PRINCIPALS, role_statements, user_statements
from shadow.storage.migrate import load_migrations
from shadow.storage.store import ClickHouseStore

pytestmark = pytest.mark.clickhouse

ROOT = Path(__file__).resolve().parents[2]
DENIED = "ACCESS_DENIED"
REFUSED_TO_EVERY_ROLE = {
    "insert into schema_migrations": DENIED,
    "create a table": DENIED,
    "delete comparisons": DENIED,
    "drop comparisons": DENIED,
}


def test_every_statement_migrate_sends_parses_with_the_engines_parser(store: ClickHouseStore) -> None:
    statements = role_statements(store.database)
    statements += [s for p in PRINCIPALS for s in user_statements(p, store.database, "a-password-of-24-chars!!")]
    for statement in statements:
        (formatted,) = store.query_rows("SELECT formatQuery({q:String})", {"q": statement})[0]
        assert formatted.split()[:2] == statement.split()[:2]
    reader_grant = next(s for s in statements if s.startswith("GRANT") and "_reader_role WITH" in s)
    (formatted,) = store.query_rows("SELECT formatQuery({q:String})", {"q": reader_grant})[0]
    assert formatted == f"GRANT SELECT ON {store.database}.* TO {store.database}_reader_role WITH REPLACE OPTION"


def _chdb_config(directory: Path, kind: str) -> Path:
    """A chDB server configuration whose one user holds the role of ``kind`` (database ``shadow``)."""
    role = f"shadow_{kind}_role"
    statements = [" ".join(s.split()) for s in role_statements("shadow")]
    grant = next(s for s in statements if s.startswith("GRANT") and s.endswith(f" TO {role} WITH REPLACE OPTION"))
    privileges = grant.removesuffix(f" TO {role} WITH REPLACE OPTION")
    created = next(s for s in statements if s.startswith(f"CREATE ROLE IF NOT EXISTS {role}"))
    profile = "".join(f"<{k}>{v}</{k}>" for k, v in re.findall(r"(\w+) = (\w+)", created.partition(" SETTINGS ")[2]))
    users = directory / f"{kind}_users.xml"
    users.write_text(
        f"<clickhouse><profiles><default>{profile}</default></profiles><quotas><default/></quotas>"
        "<users><default><password></password><profile>default</profile><quota>default</quota>"
        f"<grants><query>{privileges}</query></grants></default></users></clickhouse>",
        encoding="utf-8",
    )
    config = directory / f"{kind}.xml"
    config.write_text(f"<clickhouse><users_config>{users}</users_config></clickhouse>", encoding="utf-8")
    return config


def _as(kind: str, data: Path, config: Path | None) -> dict[str, str]:
    done = subprocess.run(
        [sys.executable, "-m", "tests.integration.chdb_role", str(data), str(config or "-"), kind],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=150,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.timeout(600)
def test_each_role_does_its_work_with_shadows_code_and_nothing_else(tmp_path: Path) -> None:
    data = tmp_path / "chdb"
    assert _as("admin", data, None) == {
        "migrate": "ok",
        # Why the reader has readonly = 2: with 1, the view's own SETTINGS clause is not applied.
        "read comparisons_hourly_source with readonly = 1": "ILLEGAL_AGGREGATION",
        "read comparisons_hourly_source with readonly = 2": "ok",
    }
    assert _as("writer", data, _chdb_config(tmp_path, "writer")) == {
        "migrate, schema up to date": "ok",  # no DDL when nothing is pending
        "write comparisons and ingest rows, refresh their rollup": "ok",
        "shadow rollup": "ok",
        "insert into comparisons": "ok",
        "insert into gate_rollouts": DENIED,
        **REFUSED_TO_EVERY_ROLE,
    }
    assert _as("gate", data, _chdb_config(tmp_path, "gate")) == {
        "pin a rollout": "ok",
        "shadow summary": "exit 0",
        "shadow gate": "exit 2",  # hold: three comparisons are too few for the policy, but it was judged
        "insert into comparisons": DENIED,
        "insert into gate_rollouts": "ok",
        **REFUSED_TO_EVERY_ROLE,
    }
    assert _as("reader", data, _chdb_config(tmp_path, "reader")) == {
        "shadow summary": "exit 0",
        "shadow gate": "exit 2",
        "pin a rollout": DENIED,  # so the gate cannot run as the reader
        "insert into comparisons": DENIED,
        "insert into gate_rollouts": DENIED,
        **REFUSED_TO_EVERY_ROLE,
    }


def test_shadow_migrate_twice_on_the_embedded_store_skips_access_and_says_why(
    clickhouse_settings: ClickHouseSettings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    if not clickhouse_settings.dsn.startswith("chdb:"):
        pytest.skip("needs the embedded chDB store; on a server `shadow migrate` makes the roles")
    monkeypatch.delenv("SHADOW_CONFIG", raising=False)
    monkeypatch.setenv("SHADOW_CLICKHOUSE__DSN", clickhouse_settings.dsn)
    monkeypatch.setenv("SHADOW_CLICKHOUSE__DATABASE", clickhouse_settings.database)
    monkeypatch.setenv("SHADOW_CLICKHOUSE_READER_PASSWORD", "a-reader-password-0123456789")

    assert main(["migrate"]) == 0
    first = capsys.readouterr().out
    assert main(["migrate"]) == 0
    second = capsys.readouterr().out

    versions = [m.version for m in load_migrations()]
    assert first.count("\napplied ") + first.startswith("applied ") == len(versions)
    assert "applied" not in second
    for out in (first, second):
        assert f"schema at version {max(versions)} (up to date)" in out
        assert "access: roles and users skipped on the embedded chDB store" in out
        assert "chDB has no SQL access control" in out
        assert "a-reader-password" not in out
    with ClickHouseStore(clickhouse_settings) as store:
        rows = store.query_rows(f"SELECT version FROM {store.database}.schema_migrations ORDER BY version")
    assert [r[0] for r in rows] == versions  # the ledger holds the numbered migrations, once each
