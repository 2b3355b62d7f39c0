"""ClickHouse roles and users for shadow's processes, made by ``shadow migrate`` on a server.

Three kinds of process need three sets of privileges: the workers write rows, ``shadow serve`` writes its
rollout state, everything else only reads. Their roles are ``schemas/access/roles.sql`` (no secret),
applied at every ``shadow migrate`` on a ClickHouse server by the administrator it connects as. Each
role's user is created, or its password changed, when its password is in the environment of that run:

====================================  ======================  ==========================
password (or ``<name>_FILE``)         user                    role
====================================  ======================  ==========================
``SHADOW_CLICKHOUSE_WRITER_PASSWORD``  ``<database>_writer``  ``<database>_writer_role``
``SHADOW_CLICKHOUSE_GATE_PASSWORD``    ``<database>_gate``    ``<database>_gate_role``
``SHADOW_CLICKHOUSE_READER_PASSWORD``  ``<database>_reader``  ``<database>_reader_role``
====================================  ======================  ==========================

A missing password leaves that user as it is (``shadow migrate`` says so). The password never leaves
this process: the server receives its salted SHA-256 (``IDENTIFIED WITH sha256_hash BY ... SALT ...``),
so it never shows in a query log, and shorter than 16 characters it is refused, since the server cannot
apply its own password rules to a hash. ``SHADOW_CLICKHOUSE_MANAGE_ACCESS=0`` leaves roles and users to
an administrator. With ``clickhouse.cluster`` set, every statement runs ``ON CLUSTER`` (roles and users are
made on every node; the user statements carry only the password's salted hash through Keeper's DDL queue),
and the writer and gate roles may also insert into the ``_local`` tables under the Distributed ones
(``shadow.storage.cluster``). The embedded chDB store has no SQL access control at all (no writable user directory:
``CREATE ROLE`` and ``CREATE USER`` are refused), so nothing is done there and ``shadow migrate`` says why.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from string import Template

from shadow.errors import ConfigError, MigrationError, StoreError
from shadow.storage.cluster import ClusterLayout, access_statement
from shadow.storage.migrate import schemas_dir, split_statements
from shadow.storage.store import ClickHouseStore

log = logging.getLogger(__name__)

MANAGE_ACCESS_ENV = "SHADOW_CLICKHOUSE_MANAGE_ACCESS"
MIN_PASSWORD_CHARS = 16
_HASH = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True, slots=True)
class Principal:
    """One kind of shadow process: its role, its user and where that user's password comes from."""

    kind: str
    used_by: str

    def user(self, database: str) -> str:
        return f"{database}_{self.kind}"

    def role(self, database: str) -> str:
        return f"{database}_{self.kind}_role"

    @property
    def password_env(self) -> str:
        return f"SHADOW_CLICKHOUSE_{self.kind.upper()}_PASSWORD"


WRITER = Principal("writer", "the workers, shadow rollup and shadow rescore")
GATE = Principal("gate", "shadow serve")
READER = Principal("reader", "shadow summary, gate and report, Grafana, analysts")
PRINCIPALS = (WRITER, GATE, READER)


def roles_file() -> Path:
    return schemas_dir() / "access" / "roles.sql"


def role_statements(database: str, layout: ClusterLayout | None = None) -> list[str]:
    """The statements of ``schemas/access/roles.sql`` for ``database``, rendered for ``layout``'s cluster if given."""
    text = roles_file().read_text(encoding="utf-8")
    return _for_cluster(split_statements(Template(text).substitute(database=database)), layout)


def _for_cluster(statements: list[str], layout: ClusterLayout | None) -> list[str]:
    return statements if layout is None else [access_statement(s, layout) for s in statements]


def password_hash(password: str, salt: str) -> str:
    """Hex SHA-256 of the password followed by the salt: what ClickHouse's ``sha256_password`` stores."""
    return hashlib.sha256((password + salt).encode()).hexdigest()


def user_statements(
    principal: Principal, database: str, password: str, salt: str | None = None, layout: ClusterLayout | None = None
) -> list[str]:
    """Create the principal's user if missing, then set its password, its only role and nothing else.

    ClickHouse syntax relied on (docs, SQL reference, CREATE USER / ALTER USER / REVOKE / GRANT)::

        CREATE USER [IF NOT EXISTS | OR REPLACE] name ... [IDENTIFIED WITH sha256_hash BY 'hash' SALT 'salt']
            [DEFAULT ROLE role [,...]] [DEFAULT DATABASE database | NONE]
        ALTER USER name [IDENTIFIED ...] [DEFAULT ROLE role [,...]] [DEFAULT DATABASE database | NONE]
        REVOKE privilege ON {db.table|db.*|*.*|table|*} FROM {user | role} [,...]
        GRANT role [,...] TO {user | another_role | CURRENT_USER} [,...] [WITH REPLACE OPTION]

    Every statement converges when run again: the ``ALTER USER`` rotates the password (a new salt
    each run), ``REVOKE ALL`` drops privileges granted to the user directly, and ``WITH REPLACE
    OPTION`` leaves it its one role. With ``layout``, each statement runs ``ON CLUSTER``.
    """
    salt = salt or secrets.token_hex(16)
    identified = f"IDENTIFIED WITH sha256_hash BY '{password_hash(password, salt)}' SALT '{salt}'"
    user, role = principal.user(database), principal.role(database)
    statements = [
        f"CREATE USER IF NOT EXISTS {user} {identified} DEFAULT DATABASE {database}",
        f"ALTER USER {user} {identified} DEFAULT DATABASE {database}",
        f"REVOKE ALL ON *.* FROM {user}",
        f"GRANT {role} TO {user} WITH REPLACE OPTION",
        f"ALTER USER {user} DEFAULT ROLE {role}",
    ]
    return _for_cluster(statements, layout)


def password_from_env(principal: Principal, environ: Mapping[str, str]) -> tuple[str, str] | None:
    """The principal's password and where it came from, or None when neither variable is set.

    ``SHADOW_CLICKHOUSE_<KIND>_PASSWORD`` wins over ``..._PASSWORD_FILE`` (a file whose first line is
    the password, e.g. a mounted secret).

    Raises:
        ConfigError: the file cannot be read or is empty, or the password is shorter than 16 characters
            (the password itself is never shown).
    """
    name = principal.password_env
    if environ.get(name):
        password, source = environ[name], name
    elif environ.get(f"{name}_FILE"):
        path = Path(environ[f"{name}_FILE"])
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise ConfigError(f"{name}_FILE {path}: {exc.strerror or exc}") from None
        password, source = (lines[0].strip() if lines else ""), f"{name}_FILE"
        if not password:
            raise ConfigError(f"{name}_FILE {path}: the first line is empty")
    else:
        return None
    if len(password) < MIN_PASSWORD_CHARS:
        raise ConfigError(
            f"{source}: the password has {len(password)} characters, fewer than {MIN_PASSWORD_CHARS}; generate one, "
            "e.g. python -c 'import secrets; print(secrets.token_urlsafe(24))'"
        )
    return password, source


def provision_access(store: ClickHouseStore, environ: Mapping[str, str]) -> list[str]:
    """Apply the roles, then create or update each user whose password is set; returns what was done, line by line.

    Steps:
        1. On the embedded chDB store, or with ``SHADOW_CLICKHOUSE_MANAGE_ACCESS=0``, do nothing and say why.
        2. Apply ``schemas/access/roles.sql`` (every statement converges when run again).
        3. For each principal with a password: its user statements; without one: say which variable to set.

    Raises:
        ConfigError: a password variable is unusable (see :func:`password_from_env`), or a user to make
            is the one ``shadow migrate`` connects as.
        MigrationError: the server refused a statement (e.g. the connecting user may not manage access).
    """
    db = store.database
    layout = ClusterLayout.of(store.settings)
    # Step 1.
    if store.embedded:
        return [
            f"access: roles and users skipped on the embedded chDB store {store.target}: chDB has no SQL access "
            "control (CREATE ROLE and CREATE USER need a writable user directory, which chDB has not); whoever "
            "can open the directory can read and write it"
        ]
    if environ.get(MANAGE_ACCESS_ENV, "").strip().lower() in {"0", "false", "no", "off"}:
        return [
            f"access: roles and users skipped ({MANAGE_ACCESS_ENV}={environ[MANAGE_ACCESS_ENV]}): an administrator "
            f"makes them, see {roles_file().name}"
        ]
    # Step 2.
    for statement in role_statements(db, layout):
        _apply(store, statement, "applying schemas/access/roles.sql")
    where = f" on cluster {layout.cluster}" if layout else ""
    lines = [f"access: roles {', '.join(p.role(db) for p in PRINCIPALS)} set from schemas/access/roles.sql{where}"]
    # Step 3.
    for principal in PRINCIPALS:
        user, role = principal.user(db), principal.role(db)
        found = password_from_env(principal, environ)
        if found is None:
            lines.append(
                f"access: user {user} not created or changed: set {principal.password_env} "
                f"(or {principal.password_env}_FILE) to make it"
            )
            continue
        if user == store.settings.username:
            raise ConfigError(
                f"shadow migrate connects as {user}, the {principal.kind} user it would make: "
                "connect as an administrator"
            )
        password, source = found
        for statement in user_statements(principal, db, password, layout=layout):
            _apply(store, statement, f"making user {user}")
        lines.append(f"access: user {user} has the password of {source} and only role {role} ({principal.used_by})")
    for line in lines:
        log.info("%s", line)
    return lines


def _apply(store: ClickHouseStore, statement: str, action: str) -> None:
    try:
        store.command(statement)
    except StoreError as exc:
        # The server's text may quote the statement: keep the password's hash out of the message.
        raise MigrationError(f"{action} failed: {_HASH.sub('<hash>', str(exc))}") from exc
