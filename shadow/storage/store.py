"""One ClickHouse connection, server or embedded chDB, behind a small seam.

``clickhouse.dsn`` picks the engine: ``http(s)://host:port`` for a ClickHouse
server (or cluster), ``chdb:///abs/path`` or ``chdb:relative/path`` for the
embedded chDB engine through clickhouse-connect's chdb backend. chDB runs one
data directory per process and one process per directory; shadow holds a lock
file in the directory so a second process gets a clear :class:`StoreBusyError`
instead of an engine error.

clickhouse-connect's client is synchronous: every call runs on one dedicated
thread so the event loop never blocks and the client is never shared across threads.
Inserts reuse one insert context per (table, columns): the column types are read from
the table (``DESCRIBE``) at the first insert only, not before every batch.

With ``clickhouse.cluster`` set the tables written are ``Distributed`` ones, and every query of the
session runs with ``distributed_foreground_insert = 1`` (``insert_distributed_sync`` before ClickHouse
23.x, still its alias): an insert returns only once each row is stored on its shard, not queued on the
node that received it, so the worker commits Kafka offsets only for rows that are on their shard.
Reads need nothing: ``FINAL`` on a ``Distributed`` table collapses each shard's rows on that shard,
which is correct because every version of a row lands on the same shard (see ``shadow.storage.cluster``).
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from operator import itemgetter
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import clickhouse_connect
from clickhouse_connect.driver.client import Client
from clickhouse_connect.driver.exceptions import ClickHouseError
from clickhouse_connect.driver.insert import InsertContext

from shadow.config import ClickHouseSettings
from shadow.errors import ConfigError, StoreBusyError, StoreError
from shadow.secrets import scrub_url_credentials

T = TypeVar("T")

_LOCK_NAME = ".shadow.lock"

# A batch may span many months of occurred_at; never refuse it for that.
_INSERT_SETTINGS = {"max_partitions_per_insert_block": 0}

# Cluster mode: inserts into Distributed tables return once the rows are on their shards.
CLUSTER_SESSION_SETTINGS = {"distributed_foreground_insert": 1}

RowInsert = tuple[str, Sequence[Mapping[str, Any]], Sequence[str]]
"""(table, rows as mappings from column name to value, the columns to write in order)."""


@lru_cache(maxsize=64)
def _values_of(columns: tuple[str, ...]) -> Callable[[Mapping[str, Any]], tuple[Any, ...]]:
    """A function row -> its values in ``columns`` order (one C-level lookup per row)."""
    if len(columns) == 1:
        (name,) = columns
        return lambda row: (row[name],)
    return itemgetter(*columns)


@dataclass(frozen=True, slots=True)
class Target:
    """Where a DSN points: an embedded chDB directory or a server URL."""

    embedded_path: Path | None
    url: str | None

    def __str__(self) -> str:
        return f"chdb:{self.embedded_path}" if self.embedded_path is not None else scrub_url_credentials(self.url or "")


def parse_dsn(dsn: str) -> Target:
    """Resolve ``clickhouse.dsn``.

    Raises:
        ConfigError: for an unknown scheme or a chDB DSN without a path.
    """
    if dsn.startswith("chdb:"):
        rest = dsn[len("chdb:") :]
        if rest.startswith("///"):
            path = Path(rest[2:])
        elif rest.startswith("//"):
            raise ConfigError(f"clickhouse.dsn {dsn!r}: use chdb:///absolute/path or chdb:relative/path")
        else:
            path = Path(rest)
        if not str(path).strip():
            raise ConfigError(f"clickhouse.dsn {dsn!r} names no directory")
        return Target(path.resolve(), None)
    if dsn.startswith(("http://", "https://", "clickhouse://", "clickhouses://")):
        return Target(None, dsn)
    raise ConfigError(f"clickhouse.dsn {dsn!r} must start with http://, https:// or chdb:")


class _EmbeddedLock:
    """Process-wide ownership of one chDB directory (an flock held while clients are open)."""

    _guard = threading.Lock()
    _held: ClassVar[dict[Path, tuple[int, int]]] = {}  # path -> (fd, refcount)

    @classmethod
    def acquire(cls, path: Path) -> None:
        with cls._guard:
            for other in cls._held:
                if other != path:
                    raise StoreBusyError(
                        f"this process already uses the embedded ClickHouse store {other}; "
                        f"chDB allows one directory per process, so {path} cannot be opened too"
                    )
            if path in cls._held:
                fd, count = cls._held[path]
                cls._held[path] = (fd, count + 1)
                return
            path.mkdir(parents=True, exist_ok=True)
            fd = os.open(path / _LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.read(fd, 64).decode(errors="replace").strip() or "unknown"
                os.close(fd)
                raise StoreBusyError(
                    f"the embedded ClickHouse store {path} is in use by another process (pid {holder}); "
                    "chDB allows one process per directory: stop that process, or point "
                    "clickhouse.dsn (SHADOW_CLICKHOUSE__DSN) at another directory or a ClickHouse server"
                ) from None
            os.ftruncate(fd, 0)
            os.write(fd, str(os.getpid()).encode())
            cls._held[path] = (fd, 1)

    @classmethod
    def release(cls, path: Path) -> None:
        with cls._guard:
            if path not in cls._held:
                return
            fd, count = cls._held[path]
            if count > 1:
                cls._held[path] = (fd, count - 1)
                return
            del cls._held[path]
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)


@contextmanager
def map_clickhouse_errors(action: str) -> Iterator[None]:
    """Translate clickhouse-connect and chDB errors into :class:`StoreError`."""
    try:
        yield
    except StoreError:
        raise
    except ClickHouseError as exc:
        raise StoreError(f"ClickHouse {action} failed: {str(exc).strip()[:500]}") from exc
    except OSError as exc:
        raise StoreError(f"ClickHouse {action} failed: {exc}") from exc


class ClickHouseStore:
    """A clickhouse-connect client for the configured DSN, used from one thread."""

    def __init__(self, settings: ClickHouseSettings) -> None:
        """Resolve the DSN; nothing connects before the first call.

        Raises:
            ConfigError: the DSN is malformed, or ``clickhouse.cluster`` is set with an embedded chDB DSN.
        """
        self.settings = settings
        self.database = settings.database
        self.target = parse_dsn(settings.dsn)
        if settings.cluster is not None and self.target.embedded_path is not None:
            raise ConfigError(
                f"clickhouse.cluster {settings.cluster!r} needs ClickHouse servers: the embedded chDB store "
                f"{self.target} is one process on one directory; set clickhouse.dsn to a server's http(s):// URL"
            )
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="shadow-clickhouse")
        self._client: Client | None = None
        self._insert_contexts: dict[tuple[str, tuple[str, ...]], InsertContext] = {}
        self._closed = False

    @property
    def embedded(self) -> bool:
        return self.target.embedded_path is not None

    def _connect(self) -> Client:
        if self._client is not None:
            return self._client
        session_settings = dict(self.settings.settings)
        if self.settings.cluster is not None:
            session_settings.update(CLUSTER_SESSION_SETTINGS)
        if self.target.embedded_path is not None:
            path = self.target.embedded_path
            # chDB has no read-only users: the insert settings go on the session once, sparing every
            # insert a SETTINGS clause (about a millisecond each). A server gets them per insert.
            session_settings.update(_INSERT_SETTINGS)
            _EmbeddedLock.acquire(path)
            try:
                with map_clickhouse_errors(f"opening the embedded store {path}"):
                    self._client = clickhouse_connect.get_client(
                        interface="chdb", path=str(path), settings=session_settings
                    )
            except StoreError as exc:
                _EmbeddedLock.release(path)
                if "already initialized with path" in str(exc):
                    raise StoreBusyError(
                        f"this process already runs chDB on another directory; cannot open {path}"
                    ) from exc
                raise
        else:
            password = self.settings.password_value()
            with map_clickhouse_errors(f"connecting to {self.target}"):
                self._client = clickhouse_connect.get_client(
                    dsn=self.target.url,
                    username=self.settings.username,
                    password=password,
                    settings=session_settings,
                    autogenerate_session_id=False,
                )
        return self._client

    def _run(self, action: str, fn: Any) -> Any:
        # Runs on the store's thread only.
        if self._closed:
            raise StoreError("the ClickHouse store is closed")
        client = self._connect()
        with map_clickhouse_errors(action):
            return fn(client)

    def _command(self, sql: str, parameters: dict[str, Any] | None) -> Any:
        return self._run("command", lambda c: c.command(sql, parameters=parameters))

    def _query_dicts(self, sql: str, parameters: dict[str, Any] | None) -> list[dict[str, Any]]:
        def run(client: Client) -> list[dict[str, Any]]:
            result = client.query(sql, parameters=parameters)
            names = result.column_names
            return [dict(zip(names, row, strict=True)) for row in result.result_rows]

        return self._run("query", run)  # type: ignore[no-any-return]

    def _query_rows(self, sql: str, parameters: dict[str, Any] | None) -> list[tuple[Any, ...]]:
        return self._run("query", lambda c: list(c.query(sql, parameters=parameters).result_rows))  # type: ignore[no-any-return]

    def _insert(self, table: str, rows: Sequence[Sequence[Any]], columns: Sequence[str]) -> None:
        if rows:
            self._run(f"insert into {self.database}.{table}", lambda c: self._insert_with(c, table, rows, columns))

    def _insert_with(self, client: Client, table: str, rows: Sequence[Sequence[Any]], columns: Sequence[str]) -> None:
        key = (table, tuple(columns))
        context = self._insert_contexts.get(key)
        if context is None:
            # Reads the column types once (DESCRIBE); later batches reuse them.
            settings = {} if self.embedded else dict(_INSERT_SETTINGS)
            context = client.create_insert_context(f"{self.database}.{table}", list(columns), settings=settings)
            self._insert_contexts[key] = context
        try:
            client.insert(data=rows if isinstance(rows, list) else list(rows), context=context)
        except BaseException:
            # The table may have changed under us (or the context kept a half-written batch):
            # the next insert reads the types again.
            self._insert_contexts.pop(key, None)
            raise

    def _insert_rows(self, inserts: Sequence[RowInsert]) -> None:
        for table, rows, columns in inserts:
            if rows:
                values = _values_of(tuple(columns))
                self._insert(table, list(map(values, rows)), columns)

    def _on_thread(self, fn: Callable[..., T], *args: Any) -> T:
        return self._executor.submit(fn, *args).result()

    async def _off_loop(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    # --- synchronous API (the CLI and other sync callers) ---

    def command(self, sql: str, parameters: dict[str, Any] | None = None) -> Any:
        return self._on_thread(self._command, sql, parameters)

    def query_rows(self, sql: str, parameters: dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
        return self._on_thread(self._query_rows, sql, parameters)

    def query_dicts(self, sql: str, parameters: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        return self._on_thread(self._query_dicts, sql, parameters)

    def insert(self, table: str, rows: Sequence[Sequence[Any]], columns: Sequence[str]) -> None:
        self._on_thread(self._insert, table, rows, columns)

    # --- asynchronous API (the pipeline): same calls, awaited off the event loop ---

    async def acommand(self, sql: str, parameters: dict[str, Any] | None = None) -> Any:
        return await self._off_loop(self._command, sql, parameters)

    async def aquery_dicts(self, sql: str, parameters: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        return await self._off_loop(self._query_dicts, sql, parameters)

    async def ainsert(self, table: str, rows: Sequence[Sequence[Any]], columns: Sequence[str]) -> None:
        await self._off_loop(self._insert, table, rows, columns)

    async def ainsert_rows(self, inserts: Sequence[RowInsert]) -> None:
        """Insert rows given as mappings (column name -> value), table after table, in one trip to the store's thread.

        The rows are put in column order on that thread, off the event loop. Each table's rows are stored
        before the next table's insert starts; the first failure raises and leaves the rest unwritten.
        Tables with no rows are skipped.

        Raises:
            StoreError: when ClickHouse refuses an insert or cannot be reached.
        """
        await self._off_loop(self._insert_rows, inserts)

    def close(self) -> None:
        if self._closed:
            return

        def shutdown() -> None:
            self._closed = True
            self._insert_contexts.clear()
            if self._client is not None:
                try:
                    self._client.close()
                finally:
                    self._client = None
                    if self.target.embedded_path is not None:
                        _EmbeddedLock.release(self.target.embedded_path)

        self._executor.submit(shutdown).result()
        self._executor.shutdown(wait=True)

    def __enter__(self) -> ClickHouseStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
