"""``shadow rescore``: recompute the diff columns of stored rows with the current comparator.

No model is called: the outputs stored in each row (redacted, size-capped) and its
request context are compared again, and the row is written back whole with a newer
``row_version``, so the replacing engine keeps the re-scored version.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from shadow.diff.behaviour import RefusalDetector
from shadow.diff.compare import COMPARATOR_VERSION, DiffContext, compare
from shadow.diff.cost import Price
from shadow.diff.jsontext import schema_key
from shadow.diff.limits import DEFAULT_LIMITS, DiffLimits
from shadow.redaction import NO_REDACTION, Redactor
from shadow.sink.rows import (
    COMPARISON_COLUMNS,
    TEXT_NOT_STORED,
    as_values,
    restore_output,
    row_version,
    stored_diff_columns,
)
from shadow.storage.store import ClickHouseStore

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RescoreResult:
    rows: int
    outdated: int
    comparator_version: int


def stored_context(
    request_context: str, refusal: RefusalDetector, prices: Mapping[str, Price], limits: DiffLimits = DEFAULT_LIMITS
) -> DiffContext:
    """The diff context a row was scored with, from its ``request_context`` column."""
    data = orjson.loads(request_context) if request_context else {}
    schema = data.get("response_schema")
    return DiffContext(
        response_schema=schema_key(schema) if isinstance(schema, dict) else None,
        tool_schemas={name: schema_key(s) for name, s in (data.get("tool_schemas") or {}).items()},
        refusal=refusal,
        prices=prices,
        limits=limits,
    )


def rescore_row(
    row: dict[str, Any],
    refusal: RefusalDetector,
    prices: Mapping[str, Price],
    now: datetime,
    redactor: Redactor = NO_REDACTION,
    limits: DiffLimits = DEFAULT_LIMITS,
) -> None:
    """Recompute ``row``'s diff columns in place from its stored outputs (paths redacted as the worker does)."""
    production = restore_output(row["production_text"], row["production_output"])
    candidate = restore_output(row["candidate_text"], row["candidate_output"])
    context = stored_context(row["request_context"], refusal, prices, limits)
    comparison = compare(
        production,
        candidate,
        context,
        production_latency_ms=row["production_latency_ms"],
        candidate_latency_ms=row["candidate_latency_ms"] if candidate is not None else None,
    )
    row.update(stored_diff_columns(comparison, redactor))
    row["row_version"] = max(row_version(now), int(row["row_version"]) + 1)
    for column in ("occurred_at", "compared_at"):
        value = row[column]
        if isinstance(value, datetime) and value.tzinfo is None:
            row[column] = value.replace(tzinfo=UTC)


def _pages(
    store: ClickHouseStore, where: str, params: dict[str, Any], page_rows: int
) -> Iterator[list[dict[str, Any]]]:
    # Keyset pagination over the sorting columns: stable under concurrent inserts, no OFFSET scans.
    columns = ", ".join(COMPARISON_COLUMNS)
    last: tuple[Any, ...] | None = None
    while True:
        clause, page_params = where, dict(params)
        if last is not None:
            clause += (
                " AND (occurred_at, event_id, candidate) > "
                "({last_at:DateTime64(3, 'UTC')}, {last_event:String}, {last_candidate:String})"
            )
            page_params.update(last_at=last[0], last_event=last[1], last_candidate=last[2])
        rows = store.query_dicts(
            f"SELECT {columns} FROM {store.database}.comparisons FINAL WHERE {clause} "
            f"ORDER BY occurred_at, event_id, candidate LIMIT {int(page_rows)}",
            page_params,
        )
        if not rows:
            return
        yield rows
        tail = rows[-1]
        occurred = tail["occurred_at"]
        last = (
            occurred.replace(tzinfo=None) if isinstance(occurred, datetime) else occurred,
            tail["event_id"],
            tail["candidate"],
        )
        if len(rows) < page_rows:
            return


def window_clause(
    start: datetime, end: datetime, candidate: str | None, workflow: str | None, tenant: str | None
) -> tuple[str, dict[str, Any]]:
    """A WHERE clause over ``comparisons`` for a window and optional filters, with its parameters."""
    clauses = [
        "occurred_at >= {start:DateTime64(3, 'UTC')}",
        "occurred_at < {end:DateTime64(3, 'UTC')}",
    ]
    params: dict[str, Any] = {
        "start": start.astimezone(UTC).replace(tzinfo=None),
        "end": end.astimezone(UTC).replace(tzinfo=None),
    }
    for column, value in (("candidate", candidate), ("workflow", workflow), ("tenant", tenant)):
        if value is not None:
            clauses.append(f"{column} = {{{column}:String}}")
            params[column] = value
    return " AND ".join(clauses), params


def rescore(
    store: ClickHouseStore,
    where: str,
    params: dict[str, Any],
    *,
    refusal: RefusalDetector,
    prices: Mapping[str, Price],
    outdated_only: bool = False,
    redactor: Redactor = NO_REDACTION,
    limits: DiffLimits = DEFAULT_LIMITS,
    page_rows: int = 2000,
    progress: Callable[[int], None] | None = None,
) -> RescoreResult:
    """Re-score every row matching ``where`` (a clause over ``comparisons`` with its parameters).

    Steps:
        1. Read a page of rows (``FINAL``, keyset-paginated).
        2. Recompute each row's diff columns from its stored outputs and request context.
        3. Insert the page back with newer ``row_version`` values.
    """
    # Rows written with redaction.store_text false keep no text: nothing to re-score them from.
    where = f"({where}) AND NOT has(caps, {{text_not_stored:String}})"
    params = {**params, "text_not_stored": TEXT_NOT_STORED}
    if outdated_only:
        where = f"({where}) AND comparator_version < {{current_version:UInt16}}"
        params = {**params, "current_version": COMPARATOR_VERSION}
    done = outdated = 0
    for page in _pages(store, where, params, page_rows):  # Step 1.
        now = datetime.now(UTC)
        for row in page:  # Step 2.
            if int(row["comparator_version"]) < COMPARATOR_VERSION:
                outdated += 1
            rescore_row(row, refusal, prices, now, redactor, limits)
        store.insert("comparisons", [as_values(r, COMPARISON_COLUMNS) for r in page], COMPARISON_COLUMNS)  # Step 3.
        done += len(page)
        if progress is not None:
            progress(done)
    return RescoreResult(done, outdated, COMPARATOR_VERSION)
