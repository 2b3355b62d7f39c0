"""Recompute hourly rollups for chosen hours (backfills, re-scores, writes to old hours).

ClickHouse refreshes the recent hours itself (the refreshable materialized view of migration
0003); this covers hours older than its look-back.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from shadow.storage.store import ClickHouseStore


def _hour(value: datetime) -> datetime:
    return value.astimezone(UTC).replace(minute=0, second=0, microsecond=0, tzinfo=None)


def refresh_statement(store: ClickHouseStore) -> str:
    return (
        f"INSERT INTO {store.database}.comparisons_hourly "
        f"SELECT * FROM {store.database}.comparisons_hourly_source WHERE hour = {{hour:DateTime('UTC')}}"
    )


def refresh_hours(store: ClickHouseStore, hours: Iterable[datetime]) -> int:
    """Recompute the rollups of the given hours; returns how many hours were recomputed."""
    wanted = sorted({_hour(h) for h in hours})
    for hour in wanted:
        store.command(refresh_statement(store), {"hour": hour})
    return len(wanted)


def settled_hours(occurred: Iterable[datetime], now: datetime) -> set[datetime]:
    """The hours among ``occurred`` that summaries read from rollups (ended over an hour ago)."""
    cutoff = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
    return {_hour(at) for at in occurred if at < cutoff}


def refresh_rollups(store: ClickHouseStore, start: datetime, end: datetime) -> int:
    """Recompute every hour of [start, end) that has comparisons."""
    rows = store.query_rows(
        f"SELECT DISTINCT toStartOfHour(occurred_at) FROM {store.database}.comparisons "
        "WHERE occurred_at >= {start:DateTime64(3, 'UTC')} AND occurred_at < {end:DateTime64(3, 'UTC')}",
        {"start": _hour(start), "end": end.astimezone(UTC).replace(tzinfo=None) + timedelta(0)},
    )
    return refresh_hours(store, [r[0] for r in rows])
