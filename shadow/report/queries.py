"""The SQL pack in ``schemas/queries/``: loading and running its parameterized queries.

``shadow summary``, ``shadow report`` and ``shadow gate`` read ClickHouse only through these
files, so what they show is what an analyst running the same SQL gets.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from functools import cache
from typing import Any

from shadow.errors import ConfigError
from shadow.storage.migrate import schemas_dir
from shadow.storage.store import ClickHouseStore


@cache
def load_query(name: str) -> str:
    """The text of ``schemas/queries/<name>.sql``."""
    path = schemas_dir() / "queries" / f"{name}.sql"
    if not path.is_file():
        raise ConfigError(f"no query named {name!r} in {path.parent}")
    return path.read_text(encoding="utf-8")


def query_names() -> list[str]:
    return sorted(p.stem for p in (schemas_dir() / "queries").glob("*.sql"))


def _param(value: Any) -> Any:
    # The queries take UTC times; the driver wants naive datetimes for DateTime parameters.
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None)
    return "" if value is None else value


def clean(row: dict[str, Any]) -> dict[str, Any]:
    """NaN (an empty average or quantile) becomes None; UTC datetimes get their zone back."""
    out: dict[str, Any] = {}
    for key, value in row.items():
        if isinstance(value, float) and math.isnan(value):
            out[key] = None
        elif isinstance(value, datetime) and value.tzinfo is None:
            out[key] = value.replace(tzinfo=UTC)
        else:
            out[key] = value
    return out


def run_query(store: ClickHouseStore, name: str, **params: Any) -> list[dict[str, Any]]:
    """Run a pack query against ``store``'s database; ``None`` filters mean "all"."""
    bound = {key: _param(value) for key, value in params.items()}
    bound["db"] = store.database
    return [clean(row) for row in store.query_dicts(load_query(name), bound)]
