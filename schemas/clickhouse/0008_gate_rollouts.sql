-- What `shadow serve` remembers per rollout key (rollout, candidate, workflow, tenant), so that a
-- restarted gate or a second replica judges the same sequence and keeps the same decision:
--   pinned:  the start of the window, fixed at the key's first poll (every later poll judges
--            [window_start, now));
--   latched: the first promote or rollback reached; `result` is that gate result as JSON, returned
--            as is to every later poll;
--   reset:   the key was cleared (DELETE /gate); the next poll pins a new start.
-- Read with FINAL: the row with the highest `version` is the key's state. `version` is
-- epoch·2^43 + phase·2^41 + (2^41 - 1 - ms since 2020-01-01): a reset opens a new epoch, so it
-- outranks everything written before it; within an epoch a latch outranks the pin (phase 2 > 1 > 0
-- for reset); and of two rows of one phase the earlier one wins, so when two replicas decide at once
-- both answer the first decision. Rows expire ${ttl_days} days after they were written, as the
-- comparisons they judged do.
CREATE TABLE IF NOT EXISTS ${database}.gate_rollouts
(
    rollout         String,
    candidate       LowCardinality(String),
    workflow        LowCardinality(String),
    tenant          String,
    -- pinned | latched | reset
    phase           LowCardinality(String),
    epoch           UInt32,
    window_start    DateTime64(3, 'UTC'),
    -- promote | rollback when latched, '' otherwise
    verdict         LowCardinality(String),
    result          String CODEC(ZSTD(3)),
    written_at      DateTime64(3, 'UTC'),
    version         UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (rollout, candidate, workflow, tenant)
TTL toDateTime(written_at) + INTERVAL ${ttl_days} DAY
