"""The ClickHouse roles and users ``shadow migrate`` makes (issue 12): what each role may do, that the
users' statements never carry a password, and what happens without one. The same statements on the
real engine: tests/integration/test_clickhouse_access.py."""

from __future__ import annotations

import asyncio
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from shadow.config import ClickHouseSettings
from shadow.errors import ConfigError, MigrationError, StoreError
from shadow.report import rollouts
from shadow.sink.clickhouse import ClickHouseSink
from shadow.storage.access import (
    GATE,
    MANAGE_ACCESS_ENV,
    PRINCIPALS,
    READER,
    WRITER,
    password_from_env,
    provision_access,
    role_statements,
    user_statements,
)
from tests.seeding import T0, comparison_row, ingest_row

DB = "shadow"
PASSWORDS = {p.password_env: f"{p.kind}-pw-0123456789abcdef" for p in PRINCIPALS}


def granted(database: str = DB) -> dict[str, set[tuple[str, str]]]:
    """role -> {(privilege, target)}, read from its one GRANT ... TO role WITH REPLACE OPTION."""
    found: dict[str, set[tuple[str, str]]] = {}
    for statement in role_statements(database):
        text = " ".join(statement.split())
        match = re.fullmatch(r"GRANT (.+) TO (\w+) WITH REPLACE OPTION", text)
        if text.startswith("GRANT"):
            assert match, text
            assert match.group(2) not in found, f"{match.group(2)} is granted twice: the second would replace the first"
            found[match.group(2)] = set(re.findall(r"([A-Z][A-Z ]*?) ON ([\w.*]+)", match.group(1)))
    return found


def test_each_role_is_granted_exactly_what_its_processes_do() -> None:
    assert granted() == {
        "shadow_reader_role": {("SELECT", "shadow.*")},
        "shadow_gate_role": {("SELECT", "shadow.*"), ("INSERT", "shadow.gate_rollouts")},
        "shadow_writer_role": {
            ("SELECT", "shadow.*"),
            ("INSERT", "shadow.comparisons"),
            ("INSERT", "shadow.ingest_log"),
            ("INSERT", "shadow.comparisons_hourly"),
        },
    }
    assert set(granted("staging")) == {"staging_reader_role", "staging_gate_role", "staging_writer_role"}


def test_no_role_gets_admin_rights_another_database_or_system_tables() -> None:
    text = "\n".join(role_statements(DB))
    for forbidden in ("GRANT OPTION", "ADMIN OPTION", " ALL", "*.*", "system.", "ACCESS MANAGEMENT", "CREATE USER"):
        assert forbidden not in text, forbidden
    targets = {target for privileges in granted().values() for _, target in privileges}
    assert all(target.startswith("shadow.") for target in targets)


def test_the_reader_role_is_read_only_and_the_others_carry_no_settings() -> None:
    statements = [" ".join(s.split()) for s in role_statements(DB)]
    assert "CREATE ROLE IF NOT EXISTS shadow_reader_role SETTINGS readonly = 2" in statements
    assert "ALTER ROLE shadow_reader_role SETTINGS readonly = 2" in statements  # a rerun puts it back
    assert "CREATE ROLE IF NOT EXISTS shadow_writer_role" in statements
    assert "CREATE ROLE IF NOT EXISTS shadow_gate_role" in statements


@dataclass
class RecordingStore:
    """Stands in for ClickHouseStore: records statements and inserts, or refuses them."""

    embedded: bool = False
    database: str = DB
    settings: ClickHouseSettings = field(
        default_factory=lambda: ClickHouseSettings(dsn="http://ch:8123", database=DB, username="admin")
    )
    refuse: str | None = None
    commands: list[str] = field(default_factory=list)
    inserted: list[str] = field(default_factory=list)

    @property
    def target(self) -> str:
        return "chdb:/data" if self.embedded else "http://ch:8123"

    def command(self, sql: str, parameters: dict[str, Any] | None = None) -> None:
        if self.refuse and self.refuse in sql:
            raise StoreError(f"ClickHouse command failed: Code: 497. ACCESS_DENIED in {sql}")
        self.commands.append(sql)

    async def acommand(self, sql: str, parameters: dict[str, Any] | None = None) -> None:
        self.command(sql, parameters)

    async def ainsert_rows(self, inserts: Any) -> None:
        self.inserted += [table for table, rows, _ in inserts if rows]


def test_the_writer_may_insert_into_every_table_the_worker_writes_and_the_gate_into_its_own() -> None:
    store = RecordingStore()

    async def work() -> None:
        # The worker's sink: rows of an hour long settled, so their rollup is recomputed at close.
        sink = ClickHouseSink(store, rollup_debounce_s=3600)  # type: ignore[arg-type]
        await sink.write([comparison_row("e1", occurred_at=T0)], [ingest_row(1)])
        await sink.close()

    asyncio.run(work())
    written = {f"{DB}.{table}" for table in store.inserted}
    written |= {m for sql in store.commands for m in re.findall(rf"INSERT INTO ({DB}\.\w+)", sql)}
    assert written == {"shadow.comparisons", "shadow.ingest_log", "shadow.comparisons_hourly"}
    inserts = {role: {t for p, t in privileges if p == "INSERT"} for role, privileges in granted().items()}
    assert inserts[WRITER.role(DB)] == written
    assert inserts[GATE.role(DB)] == {f"{DB}.{rollouts.TABLE}"}
    assert inserts[READER.role(DB)] == set()


def test_user_statements_carry_a_salted_hash_never_the_password() -> None:
    password = "s3cret-Pa55word-xyz"
    statements = user_statements(READER, DB, password, salt="00ff")
    digest = hashlib.sha256(b"s3cret-Pa55word-xyz00ff").hexdigest()
    identified = f"IDENTIFIED WITH sha256_hash BY '{digest}' SALT '00ff'"
    assert statements == [
        f"CREATE USER IF NOT EXISTS shadow_reader {identified} DEFAULT DATABASE shadow",
        f"ALTER USER shadow_reader {identified} DEFAULT DATABASE shadow",
        "REVOKE ALL ON *.* FROM shadow_reader",
        "GRANT shadow_reader_role TO shadow_reader WITH REPLACE OPTION",
        "ALTER USER shadow_reader DEFAULT ROLE shadow_reader_role",
    ]
    first, second = user_statements(WRITER, DB, password), user_statements(WRITER, DB, password)
    assert first[0] != second[0]  # a new salt each run
    assert not any(password in s for s in first + second)


def test_a_password_comes_from_the_environment_or_its_file(tmp_path: Path) -> None:
    secret = tmp_path / "reader"
    secret.write_text("from-the-file-0123456789\nignored\n")
    assert password_from_env(READER, {}) is None
    assert password_from_env(READER, {"SHADOW_CLICKHOUSE_READER_PASSWORD": ""}) is None
    assert password_from_env(READER, {"SHADOW_CLICKHOUSE_READER_PASSWORD_FILE": str(secret)}) == (
        "from-the-file-0123456789",
        "SHADOW_CLICKHOUSE_READER_PASSWORD_FILE",
    )
    both = {
        "SHADOW_CLICKHOUSE_READER_PASSWORD": "from-the-env-0123456789",
        "SHADOW_CLICKHOUSE_READER_PASSWORD_FILE": "x",
    }
    assert password_from_env(READER, both) == ("from-the-env-0123456789", "SHADOW_CLICKHOUSE_READER_PASSWORD")


def test_an_unusable_password_is_refused_without_showing_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="SHADOW_CLICKHOUSE_GATE_PASSWORD: the password has 9 characters") as short:
        password_from_env(GATE, {"SHADOW_CLICKHOUSE_GATE_PASSWORD": "change-me"})
    assert "change-me" not in str(short.value)
    with pytest.raises(ConfigError, match=r"SHADOW_CLICKHOUSE_GATE_PASSWORD_FILE .*missing"):
        password_from_env(GATE, {"SHADOW_CLICKHOUSE_GATE_PASSWORD_FILE": str(tmp_path / "missing")})
    (tmp_path / "empty").write_text("\n")
    with pytest.raises(ConfigError, match="the first line is empty"):
        password_from_env(GATE, {"SHADOW_CLICKHOUSE_GATE_PASSWORD_FILE": str(tmp_path / "empty")})


def test_provisioning_sets_the_roles_then_each_user_with_a_password() -> None:
    store = RecordingStore()
    lines = provision_access(store, PASSWORDS)  # type: ignore[arg-type]
    roles = role_statements(DB)
    assert store.commands[: len(roles)] == roles
    made = [re.match(r"CREATE USER IF NOT EXISTS (\w+)", s) for s in store.commands]
    assert [m.group(1) for m in made if m] == ["shadow_writer", "shadow_gate", "shadow_reader"]
    assert len(store.commands) == len(roles) + 3 * 5
    assert not any(password in s for s in store.commands for password in PASSWORDS.values())
    assert lines[1:] == [
        "access: user shadow_writer has the password of SHADOW_CLICKHOUSE_WRITER_PASSWORD and only role "
        "shadow_writer_role (the workers, shadow rollup and shadow rescore)",
        "access: user shadow_gate has the password of SHADOW_CLICKHOUSE_GATE_PASSWORD and only role "
        "shadow_gate_role (shadow serve)",
        "access: user shadow_reader has the password of SHADOW_CLICKHOUSE_READER_PASSWORD and only role "
        "shadow_reader_role (shadow summary, gate and report, Grafana, analysts)",
    ]


def test_a_missing_password_leaves_that_user_alone_and_says_so() -> None:
    store = RecordingStore()
    environ = {k: v for k, v in PASSWORDS.items() if k != "SHADOW_CLICKHOUSE_READER_PASSWORD"}
    lines = provision_access(store, environ)  # type: ignore[arg-type]
    assert not any("shadow_reader " in s or s.endswith("shadow_reader") for s in store.commands)
    assert len(store.commands) == len(role_statements(DB)) + 2 * 5
    assert lines[-1] == (
        "access: user shadow_reader not created or changed: set SHADOW_CLICKHOUSE_READER_PASSWORD "
        "(or SHADOW_CLICKHOUSE_READER_PASSWORD_FILE) to make it"
    )


def test_nothing_is_done_on_the_embedded_store_or_when_told_not_to() -> None:
    embedded = RecordingStore(embedded=True)
    (line,) = provision_access(embedded, PASSWORDS)  # type: ignore[arg-type]
    assert embedded.commands == []
    assert "skipped on the embedded chDB store" in line and "no SQL access control" in line
    server = RecordingStore()
    (line,) = provision_access(server, {**PASSWORDS, MANAGE_ACCESS_ENV: "0"})  # type: ignore[arg-type]
    assert server.commands == []
    assert f"{MANAGE_ACCESS_ENV}=0" in line


def test_a_user_is_never_the_administrator_migrate_connects_as() -> None:
    store = RecordingStore(settings=ClickHouseSettings(dsn="http://ch:8123", database=DB, username="shadow_writer"))
    with pytest.raises(ConfigError, match="connects as shadow_writer, the writer user it would make"):
        provision_access(store, PASSWORDS)  # type: ignore[arg-type]


def test_a_refused_statement_fails_the_migration_without_the_hash() -> None:
    store = RecordingStore(refuse="ALTER USER shadow_gate IDENTIFIED")
    with pytest.raises(MigrationError, match="making user shadow_gate failed") as refused:
        provision_access(store, PASSWORDS)  # type: ignore[arg-type]
    assert "<hash>" in str(refused.value)
    assert not re.search(r"[0-9a-f]{64}", str(refused.value))
    with pytest.raises(MigrationError, match=r"applying schemas/access/roles\.sql failed"):
        provision_access(RecordingStore(refuse="CREATE ROLE"), PASSWORDS)  # type: ignore[arg-type]
