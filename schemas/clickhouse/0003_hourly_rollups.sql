-- Hourly rollups of the comparisons: per (hour, workflow, candidate, tenant), the counts and
-- aggregate-function states every summary figure is computed from. Summaries over days and weeks
-- read these instead of raw rows.
--
-- A refreshable materialized view recomputes the last ${rollup_lookback_hours} hours from
-- comparisons FINAL every ${rollup_refresh_minutes} minutes and appends them; the table keeps the
-- newest version of each hour (ReplacingMergeTree), so replays and re-scores are counted once.
-- `shadow rollup --since 30d` recomputes older hours (after a backfill or a long re-score).
CREATE TABLE IF NOT EXISTS ${database}.comparisons_hourly
(
    hour                    DateTime('UTC'),
    workflow                LowCardinality(String),
    candidate               LowCardinality(String),
    candidate_role          LowCardinality(String),
    tenant                  String,
    compared                UInt64,
    ok                      UInt64,
    candidate_errors        UInt64,
    timeouts                UInt64,
    rate_limited            UInt64,
    production_errors       UInt64,
    production_json_n       UInt64,
    production_json_valid   UInt64,
    candidate_json_n        UInt64,
    candidate_json_valid    UInt64,
    candidate_json_wrapped  UInt64,
    json_base               UInt64,
    json_broken             UInt64,
    json_changed            UInt64,
    production_schema_n     UInt64,
    production_schema_valid UInt64,
    candidate_schema_n      UInt64,
    candidate_schema_valid  UInt64,
    tool_rows               UInt64,
    tool_names_agree        UInt64,
    tool_args_agree         UInt64,
    tool_f1_sum             Float64,
    truncations             UInt64,
    finish_changes          UInt64,
    refusal_n               UInt64,
    production_refusals     UInt64,
    candidate_refusals      UInt64,
    new_refusals            UInt64,
    longer                  UInt64,
    shorter                 UInt64,
    dissimilar              UInt64,
    similarity_q            AggregateFunction(quantilesExactInclusive(0.1, 0.5, 0.9), Float64),
    length_ratio_q          AggregateFunction(quantilesExactInclusive(0.5, 0.9), Float64),
    production_latency_q    AggregateFunction(quantilesExactInclusive(0.5, 0.95, 0.99), Float64),
    candidate_latency_q     AggregateFunction(quantilesExactInclusive(0.5, 0.95, 0.99), Float64),
    production_tokens_sum   Float64,
    production_tokens_n     UInt64,
    candidate_tokens_sum    Float64,
    candidate_tokens_n      UInt64,
    production_cost_sum     Float64,
    production_cost_n       UInt64,
    candidate_cost_sum      Float64,
    candidate_cost_n        UInt64,
    last_compared_at        DateTime64(3, 'UTC'),
    version                 UInt64
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(hour)
ORDER BY (hour, workflow, candidate, tenant)
TTL hour + INTERVAL ${ttl_days} DAY;

-- The aggregation behind the rollups, as a view: the refresh below and `shadow rollup` select
-- from it with a condition on hour, which ClickHouse applies before aggregating.
CREATE VIEW IF NOT EXISTS ${database}.comparisons_hourly_source AS
SELECT
    toStartOfHour(occurred_at) AS hour,
    workflow,
    candidate,
    any(candidate_role) AS candidate_role,
    tenant,
    count() AS compared,
    countIf(status = 'ok') AS ok,
    countIf(status IN ('candidate_error', 'both_error')) AS candidate_errors,
    countIf(error_kind = 'timeout') AS timeouts,
    countIf(error_kind = 'rate_limited') AS rate_limited,
    countIf(status IN ('production_error', 'both_error')) AS production_errors,
    countIf(status = 'ok' AND (production_json_valid OR production_json_extracted OR candidate_json_valid OR candidate_json_extracted OR production_schema_valid IS NOT NULL)) AS production_json_n,
    countIf(status = 'ok' AND production_json_valid) AS production_json_valid,
    countIf(status = 'ok' AND (production_json_valid OR production_json_extracted OR candidate_json_valid OR candidate_json_extracted OR production_schema_valid IS NOT NULL)) AS candidate_json_n,
    countIf(status = 'ok' AND candidate_json_valid) AS candidate_json_valid,
    countIf(status = 'ok' AND candidate_json_extracted) AS candidate_json_wrapped,
    countIf(status = 'ok' AND production_json_valid) AS json_base,
    countIf(status = 'ok' AND production_json_valid AND NOT candidate_json_valid) AS json_broken,
    countIf(status = 'ok' AND json_equal = false) AS json_changed,
    countIf(status = 'ok' AND production_schema_valid IS NOT NULL) AS production_schema_n,
    countIf(status = 'ok' AND production_schema_valid) AS production_schema_valid,
    countIf(status = 'ok' AND candidate_schema_valid IS NOT NULL) AS candidate_schema_n,
    countIf(status = 'ok' AND candidate_schema_valid) AS candidate_schema_valid,
    countIf(status = 'ok' AND (production_tool_calls > 0 OR candidate_tool_calls > 0)) AS tool_rows,
    countIf(status = 'ok' AND (production_tool_calls > 0 OR candidate_tool_calls > 0) AND tool_names_match) AS tool_names_agree,
    countIf(status = 'ok' AND (production_tool_calls > 0 OR candidate_tool_calls > 0) AND tool_args_match) AS tool_args_agree,
    sumIf(ifNull(tool_f1, 0), status = 'ok' AND (production_tool_calls > 0 OR candidate_tool_calls > 0)) AS tool_f1_sum,
    countIf(status = 'ok' AND truncated) AS truncations,
    countIf(status = 'ok' AND finish_reason_changed) AS finish_changes,
    countIf(status = 'ok' AND production_refusal IS NOT NULL AND candidate_refusal IS NOT NULL) AS refusal_n,
    countIf(status = 'ok' AND production_refusal) AS production_refusals,
    countIf(status = 'ok' AND candidate_refusal) AS candidate_refusals,
    countIf(status = 'ok' AND new_refusal) AS new_refusals,
    countIf(status = 'ok' AND length_ratio > 1.2) AS longer,
    countIf(status = 'ok' AND length_ratio < 0.8) AS shorter,
    countIf(status = 'ok' AND similarity < 0.5) AS dissimilar,
    quantilesExactInclusiveStateIf(0.1, 0.5, 0.9)(assumeNotNull(similarity), status = 'ok' AND similarity IS NOT NULL) AS similarity_q,
    quantilesExactInclusiveStateIf(0.5, 0.9)(assumeNotNull(length_ratio), status = 'ok' AND length_ratio IS NOT NULL) AS length_ratio_q,
    quantilesExactInclusiveStateIf(0.5, 0.95, 0.99)(production_latency_ms, status = 'ok') AS production_latency_q,
    quantilesExactInclusiveStateIf(0.5, 0.95, 0.99)(candidate_latency_ms, status = 'ok') AS candidate_latency_q,
    sumIf(toFloat64(ifNull(production_output_tokens, 0)), status = 'ok' AND production_output_tokens IS NOT NULL) AS production_tokens_sum,
    countIf(status = 'ok' AND production_output_tokens IS NOT NULL) AS production_tokens_n,
    sumIf(toFloat64(ifNull(candidate_output_tokens, 0)), status = 'ok' AND candidate_output_tokens IS NOT NULL) AS candidate_tokens_sum,
    countIf(status = 'ok' AND candidate_output_tokens IS NOT NULL) AS candidate_tokens_n,
    sumIf(ifNull(production_cost_usd, 0), status = 'ok' AND production_cost_usd IS NOT NULL) AS production_cost_sum,
    countIf(status = 'ok' AND production_cost_usd IS NOT NULL) AS production_cost_n,
    sumIf(ifNull(candidate_cost_usd, 0), status = 'ok' AND candidate_cost_usd IS NOT NULL) AS candidate_cost_sum,
    countIf(status = 'ok' AND candidate_cost_usd IS NOT NULL) AS candidate_cost_n,
    max(compared_at) AS last_compared_at,
    toUInt64(toUnixTimestamp64Micro(now64(6))) AS version
FROM ${database}.comparisons FINAL
GROUP BY hour, workflow, candidate, tenant
-- Several result columns are named like the columns they count; expressions mean the columns.
SETTINGS prefer_column_name_to_alias = 1;

CREATE MATERIALIZED VIEW IF NOT EXISTS ${database}.comparisons_hourly_refresh
REFRESH EVERY ${rollup_refresh_minutes} MINUTE APPEND
TO ${database}.comparisons_hourly
AS SELECT *
FROM ${database}.comparisons_hourly_source
WHERE hour >= toStartOfHour(now() - INTERVAL ${rollup_lookback_hours} HOUR);

-- Roll up what is already stored (later hours are kept current by the view above and by shadow).
INSERT INTO ${database}.comparisons_hourly SELECT * FROM ${database}.comparisons_hourly_source
