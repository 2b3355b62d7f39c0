"""``shadow`` with a fault at the clickhouse-connect boundary: ``python -m tests.faults.inject run --config …``.

The launcher replaces ``clickhouse_connect.driver.client.Client.insert`` (the method the store calls,
``ClickHouseStore._insert_with``; ``ChdbClient`` for ``chdb:`` DSNs and ``HttpClient`` for servers both
inherit it, so the patch sits below every line of shadow's code), then runs shadow's own entry point
(``shadow.cli.main``) with the arguments it was given. Queries, commands and the DESCRIBE behind an
insert context (migrations, rollups, the type lookup) are not touched.

``SHADOW_FAULT_INSERT_FAIL_FILE``: while this file exists, every insert raises the ``DatabaseError``
clickhouse-connect's chDB backend raises when the engine refuses an insert (here a full disk,
``NOT_ENOUGH_SPACE``), before any byte reaches the engine.

``SHADOW_FAULT_INSERT_LEDGER``: one JSON line appended per insert once it returned or raised —
``t0`` (``time.monotonic()`` at the call: one clock for every process of the machine), ``table``,
``ok``, and the ``event_id`` and ``candidate`` columns of its rows. A test reads it while the worker
runs, since a chDB store cannot be read by a second process: a line with ``ok`` is written before the
insert returns, so before the worker can commit anything that insert stored.
"""

from __future__ import annotations

import functools
import json
import os
import sys
import time
from typing import Any

from clickhouse_connect.driver.client import Client
from clickhouse_connect.driver.exceptions import DatabaseError

FAIL_FILE_ENV = "SHADOW_FAULT_INSERT_FAIL_FILE"
LEDGER_ENV = "SHADOW_FAULT_INSERT_LEDGER"

REFUSAL = (
    "Code: 243. DB::Exception: Cannot reserve 1.00 MiB, not enough space. (NOT_ENOUGH_SPACE) "
    "[injected by tests.faults.inject]"
)


def _column(context: Any, data: Any, name: str) -> list[Any] | None:
    names = list(context.column_names) if context is not None else []
    if name not in names or data is None:
        return None
    index = names.index(name)
    return [row[index] for row in data]


def install() -> None:
    """Patch ``Client.insert`` for this process, as the environment asks."""
    fail_file = os.environ.get(FAIL_FILE_ENV)
    ledger_path = os.environ.get(LEDGER_ENV)
    original = Client.insert

    @functools.wraps(original)
    def insert(self: Client, *args: Any, **kwargs: Any) -> Any:
        t0 = time.monotonic()
        context, data = kwargs.get("context"), kwargs.get("data")
        ok = False
        try:
            if fail_file and os.path.exists(fail_file):
                raise DatabaseError(REFUSAL, code=243, name="NOT_ENOUGH_SPACE")
            result = original(self, *args, **kwargs)
            ok = True
            return result
        finally:
            if ledger_path:
                line = {
                    "t0": t0,
                    "table": str(getattr(context, "table", kwargs.get("table") or (args[0] if args else ""))),
                    "ok": ok,
                    "event_ids": _column(context, data, "event_id"),
                    "candidates": _column(context, data, "candidate"),
                }
                fd = os.open(ledger_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
                try:
                    os.write(fd, (json.dumps(line) + "\n").encode())  # one write: lines never interleave
                finally:
                    os.close(fd)

    Client.insert = insert  # type: ignore[method-assign]


if __name__ == "__main__":  # not when a spawned diff process imports its parent's main module
    install()
    from shadow.cli import main

    sys.exit(main(sys.argv[1:]))
