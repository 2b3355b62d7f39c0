-- Streamed calls: time to first token and generation speed.
--
-- production_ttft_ms: production's time to first token as its caller saw it (the event's ttft_ms, set
-- by emitters for streamed calls); candidate_ttft_ms: the candidate's, as the worker measured it
-- (candidates with stream: true; the last attempt's, like candidate_latency_ms). NULL when that side
-- was not streamed, sent no token, or the row was written before this migration.
ALTER TABLE ${database}.comparisons ADD COLUMN IF NOT EXISTS production_ttft_ms Nullable(Float32);
ALTER TABLE ${database}.comparisons ADD COLUMN IF NOT EXISTS candidate_ttft_ms Nullable(Float32);

-- The hourly rollups keep TTFT quantile states beside the latency ones, and for tokens per second the
-- output tokens and generation seconds (latency minus TTFT) of the streamed rows. The view and the
-- table are read by position (SELECT *), so the view lists the new columns at the same place, and the
-- refreshable view is created again, as in 0005. Hours rolled up before hold no streamed rows.
ALTER TABLE ${database}.comparisons_hourly
    ADD COLUMN IF NOT EXISTS production_ttft_q AggregateFunction(quantilesExactInclusive(0.5, 0.95, 0.99), Float64)
    AFTER candidate_latency_q;
ALTER TABLE ${database}.comparisons_hourly
    ADD COLUMN IF NOT EXISTS candidate_ttft_q AggregateFunction(quantilesExactInclusive(0.5, 0.95, 0.99), Float64)
    AFTER production_ttft_q;
ALTER TABLE ${database}.comparisons_hourly ADD COLUMN IF NOT EXISTS production_stream_tokens_sum Float64 AFTER candidate_ttft_q;
ALTER TABLE ${database}.comparisons_hourly ADD COLUMN IF NOT EXISTS production_stream_seconds_sum Float64 AFTER production_stream_tokens_sum;
ALTER TABLE ${database}.comparisons_hourly ADD COLUMN IF NOT EXISTS candidate_stream_tokens_sum Float64 AFTER production_stream_seconds_sum;
ALTER TABLE ${database}.comparisons_hourly ADD COLUMN IF NOT EXISTS candidate_stream_seconds_sum Float64 AFTER candidate_stream_tokens_sum;

CREATE OR REPLACE VIEW ${database}.comparisons_hourly_source AS
SELECT
    toStartOfHour(occurred_at) AS hour,
    workflow,
    candidate,
    any(candidate_role) AS candidate_role,
    tenant,
    countIf(status != 'skipped') AS compared,
    countIf(status = 'skipped') AS skipped,
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
    quantilesExactInclusiveStateIf(0.5, 0.95, 0.99)(toFloat64(assumeNotNull(production_ttft_ms)), status = 'ok' AND production_ttft_ms IS NOT NULL) AS production_ttft_q,
    quantilesExactInclusiveStateIf(0.5, 0.95, 0.99)(toFloat64(assumeNotNull(candidate_ttft_ms)), status = 'ok' AND candidate_ttft_ms IS NOT NULL) AS candidate_ttft_q,
    sumIf(toFloat64(ifNull(production_output_tokens, 0)), status = 'ok' AND production_ttft_ms IS NOT NULL AND production_output_tokens IS NOT NULL AND production_latency_ms > production_ttft_ms) AS production_stream_tokens_sum,
    sumIf((production_latency_ms - ifNull(production_ttft_ms, 0)) / 1000, status = 'ok' AND production_ttft_ms IS NOT NULL AND production_output_tokens IS NOT NULL AND production_latency_ms > production_ttft_ms) AS production_stream_seconds_sum,
    sumIf(toFloat64(ifNull(candidate_output_tokens, 0)), status = 'ok' AND candidate_ttft_ms IS NOT NULL AND candidate_output_tokens IS NOT NULL AND candidate_latency_ms > candidate_ttft_ms) AS candidate_stream_tokens_sum,
    sumIf((candidate_latency_ms - ifNull(candidate_ttft_ms, 0)) / 1000, status = 'ok' AND candidate_ttft_ms IS NOT NULL AND candidate_output_tokens IS NOT NULL AND candidate_latency_ms > candidate_ttft_ms) AS candidate_stream_seconds_sum,
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

DROP VIEW IF EXISTS ${database}.comparisons_hourly_refresh;

CREATE MATERIALIZED VIEW IF NOT EXISTS ${database}.comparisons_hourly_refresh
REFRESH EVERY ${rollup_refresh_minutes} MINUTE APPEND
TO ${database}.comparisons_hourly
AS SELECT *
FROM ${database}.comparisons_hourly_source
WHERE hour >= toStartOfHour(now() - INTERVAL ${rollup_lookback_hours} HOUR)
