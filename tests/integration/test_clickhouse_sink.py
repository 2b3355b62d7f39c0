"""The production sink: rows as the pipeline hands them over, read back from ClickHouse."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shadow.errors import StoreError
from shadow.sink.clickhouse import ClickHouseSink
from shadow.sink.rows import COMPARISON_COLUMNS, INGEST_COLUMNS
from shadow.storage.store import ClickHouseStore
from tests.seeding import comparison_row, ingest_row

pytestmark = pytest.mark.clickhouse

NOW = datetime.now(UTC).replace(microsecond=123000)


def rows(count: int, start: int = 0) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Two candidates' comparison rows and one ingest row per event, as the pipeline hands them over."""
    comparisons, ingest = [], []
    for i in range(start, start + count):
        for name in ("a", "b"):
            comparisons.append(
                comparison_row(
                    f"e{i}",
                    candidate=name,
                    occurred_at=NOW,
                    compared_at=NOW + timedelta(seconds=1),
                    tags={"prompt_version": "v7"},
                    candidate_text=f"answer {i} from {name} ✓",
                    similarity=0.5,
                    json_diff_paths=["$.total"],
                    production_json_valid=True,
                    candidate_output_tokens=None,
                    http_status=200,
                )
            )
        ingest.append(ingest_row(i, event_id=f"e{i}", occurred_at=NOW, candidate_skips={"c": "sampled_out"}))
    return comparisons, ingest


def count(store: ClickHouseStore, table: str) -> int:
    return int(store.query_rows(f"SELECT count() FROM {store.database}.{table}")[0][0])


async def test_rows_are_stored_as_handed_over(store: ClickHouseStore) -> None:
    sink = ClickHouseSink(store)
    comparisons, ingest = rows(3)
    await sink.write(comparisons, ingest)
    await sink.write([], [ingest_row(10, outcome="skipped", reason="sampling")])  # an event without comparisons
    await sink.close()

    stored = store.query_dicts(
        f"SELECT {', '.join(COMPARISON_COLUMNS)} FROM {store.database}.comparisons FINAL ORDER BY event_id, candidate"
    )
    assert len(stored) == 6
    for got, sent in zip(stored, comparisons, strict=True):
        assert got["event_id"] == sent["event_id"] and got["candidate"] == sent["candidate"]
        assert got["occurred_at"].replace(tzinfo=None) == NOW.replace(tzinfo=None)  # milliseconds kept
        assert got["tags"] == {"prompt_version": "v7"}
        assert got["candidate_text"] == sent["candidate_text"]
        assert got["similarity"] == 0.5 and got["json_diff_paths"] == ["$.total"]
        assert got["production_json_valid"] is True and got["candidate_output_tokens"] is None
        assert got["http_status"] == 200
    logged = store.query_dicts(
        f"SELECT {', '.join(INGEST_COLUMNS)} FROM {store.database}.ingest_log FINAL ORDER BY offset"
    )
    assert [(r["offset"], r["outcome"], r["reason"]) for r in logged] == [
        (0, "replayed", ""),
        (1, "replayed", ""),
        (2, "replayed", ""),
        (10, "skipped", "sampling"),
    ]
    assert logged[0]["candidate_skips"] == {"c": "sampled_out"}


async def test_ingest_rows_are_not_written_when_the_comparison_rows_fail(store: ClickHouseStore) -> None:
    sink = ClickHouseSink(store)
    comparisons, ingest = rows(2)
    store.command(f"DROP TABLE {store.database}.comparisons")
    with pytest.raises(StoreError, match="insert into"):
        await sink.write(comparisons, ingest)
    assert count(store, "ingest_log") == 0  # no ingest row may claim "replayed" before its rows are stored


async def test_the_column_types_are_read_once_per_table_and_again_after_a_failure(
    store: ClickHouseStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = store._on_thread(store._connect)
    contexts: list[str] = []
    build = client.create_insert_context

    def counting(table: str, *args: Any, **kwargs: Any) -> Any:
        contexts.append(table.rsplit(".", 1)[-1])
        return build(table, *args, **kwargs)

    monkeypatch.setattr(client, "create_insert_context", counting)
    sink = ClickHouseSink(store)
    for start in (0, 10, 20):
        await sink.write(*rows(2, start))
    assert contexts == ["comparisons", "ingest_log"]  # one DESCRIBE per table, not one per batch

    # The table changes under the worker: the write fails (the batcher retries it) and the next one
    # reads the table's columns again.
    db = store.database
    store.command(f"CREATE TABLE {db}.comparisons_copy AS {db}.comparisons")
    store.command(f"DROP TABLE {db}.comparisons")
    with pytest.raises(StoreError):
        await sink.write(*rows(2, 30))
    store.command(f"RENAME TABLE {db}.comparisons_copy TO {db}.comparisons")
    await sink.write(*rows(2, 40))
    assert contexts == ["comparisons", "ingest_log", "comparisons"]
    assert count(store, "comparisons") == 4


def test_the_sync_insert_takes_any_subset_of_columns(store: ClickHouseStore) -> None:
    at = datetime(2026, 11, 23, 10, tzinfo=UTC)
    store.insert("comparisons", [["e1", "c", "w", at, at]], ["event_id", "candidate", "workflow", "occurred_at",
                                                               "compared_at"])  # fmt: skip
    store.insert("comparisons", [["e2", "c", "w", at, at, "ok"]], ["event_id", "candidate", "workflow", "occurred_at",
                                                                     "compared_at", "status"])  # fmt: skip
    assert store.query_rows(f"SELECT event_id, status FROM {store.database}.comparisons ORDER BY event_id") == [
        ("e1", ""),
        ("e2", "ok"),
    ]


async def test_a_batch_may_span_more_months_than_clickhouse_allows_by_default(store: ClickHouseStore) -> None:
    # 120 months in one batch (ClickHouse refuses 100+ partitions per insert unless told otherwise), from this
    # month on so that the TTL (ttl_days) keeps them all.
    comparisons = []
    for month in range(120):
        years, month_index = divmod(NOW.month - 1 + month, 12)
        at = datetime(NOW.year + years, month_index + 1, 1, tzinfo=UTC)
        comparisons.append(comparison_row(f"e{month}", occurred_at=at))
    sink = ClickHouseSink(store, rollup_debounce_s=3600.0)
    await sink.write(comparisons, [])
    assert count(store, "comparisons") == 120
