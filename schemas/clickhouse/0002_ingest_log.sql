-- One row per consumed record: replayed, skipped (with reason) or dead-lettered.
-- Keyed by source position, so a record consumed twice after a crash counts once (read with FINAL).
CREATE TABLE IF NOT EXISTS ${database}.ingest_log
(
    source          String,
    partition       Int32,
    offset          Int64,
    position        String,
    event_id        String,
    workflow        LowCardinality(String),
    api             LowCardinality(String),
    tenant          String,
    occurred_at     DateTime64(3, 'UTC'),
    ingested_at     DateTime64(3, 'UTC'),
    -- replayed | skipped | dead_letter
    outcome         LowCardinality(String),
    -- skipped: sampling | no_candidate; dead_letter: invalid_json | invalid_event | oversized | internal_error
    reason          LowCardinality(String),
    detail          String,
    candidates      UInt16,
    row_version     UInt64
)
ENGINE = ReplacingMergeTree(row_version)
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (source, partition, offset)
TTL toDateTime(occurred_at) + INTERVAL ${ttl_days} DAY
