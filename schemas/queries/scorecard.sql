-- scorecard: every summary figure per candidate, and per candidate × workflow, for a window.
--
-- Parameters:
--   db         Identifier                 database holding the shadow tables
--   start, end DateTime64(3, 'UTC')       window over occurred_at, [start, end)
--   candidate, workflow, tenant  String   filters; '' means all
-- One row per candidate with workflow = '' (all its workflows), then one per candidate × workflow.
-- Rates are fractions; *_rate columns are NULL when nothing was eligible. JSON validity rates count
-- the answers where JSON is in play: either side answered JSON (valid or wrapped) or a schema was asked for. `shadow summary` and
-- `shadow report` run this query (or scorecard_rollup.sql, which gives the same figures).
-- Rows skipped while a candidate's circuit breaker was open (status 'skipped') are not comparisons:
-- they are counted in `skipped` only, never in `compared` or any rate; last_compared_at is the
-- newest row of either kind (what the rollups' staleness check compares).
-- Streamed calls: *_ttft_p50/p95/p99_ms are time-to-first-token quantiles over the rows where that side
-- was streamed (NULL when none was); *_tokens_per_s is output tokens over generation time (latency less
-- TTFT) of those rows.
SELECT
    candidate,
    workflow,
    role,
    compared,
    skipped,
    ok,
    candidate_errors,
    timeouts,
    rate_limited,
    production_errors,
    if(compared > 0, candidate_errors / compared, NULL) AS error_rate,
    if(compared > 0, timeouts / compared, NULL) AS timeout_rate,
    if(production_json_n > 0, production_json_valid_count / production_json_n, NULL) AS production_json_valid_rate,
    if(candidate_json_n > 0, candidate_json_valid_count / candidate_json_n, NULL) AS candidate_json_valid_rate,
    candidate_json_wrapped,
    json_broken,
    if(json_base > 0, json_broken / json_base, NULL) AS json_broken_rate,
    json_changed,
    if(production_schema_n > 0, production_schema_valid_count / production_schema_n, NULL) AS production_schema_valid_rate,
    if(candidate_schema_n > 0, candidate_schema_valid_count / candidate_schema_n, NULL) AS candidate_schema_valid_rate,
    candidate_schema_n - candidate_schema_valid_count AS candidate_schema_failures,
    tool_rows,
    if(tool_rows > 0, tool_names_agree / tool_rows, NULL) AS tool_name_agreement,
    if(tool_rows > 0, tool_args_agree / tool_rows, NULL) AS tool_args_agreement,
    tool_rows - tool_names_agree AS tool_name_mismatches,
    tool_rows - tool_args_agree AS tool_argument_mismatches,
    if(tool_rows > 0, tool_f1_sum / tool_rows, NULL) AS tool_f1,
    if(length(similarity_q) = 3, similarity_q[1], NULL) AS similarity_p10,
    if(length(similarity_q) = 3, similarity_q[2], NULL) AS similarity_p50,
    if(length(length_ratio_q) = 2, length_ratio_q[1], NULL) AS length_ratio_p50,
    if(length(length_ratio_q) = 2, length_ratio_q[2], NULL) AS length_ratio_p90,
    longer,
    shorter,
    dissimilar,
    truncations,
    finish_changes,
    if(refusal_n > 0, production_refusals / refusal_n, NULL) AS production_refusal_rate,
    if(refusal_n > 0, candidate_refusals / refusal_n, NULL) AS candidate_refusal_rate,
    production_refusals,
    candidate_refusals,
    new_refusals,
    if(length(production_latency_q) = 3, production_latency_q[1], NULL) AS production_latency_p50_ms,
    if(length(production_latency_q) = 3, production_latency_q[2], NULL) AS production_latency_p95_ms,
    if(length(production_latency_q) = 3, production_latency_q[3], NULL) AS production_latency_p99_ms,
    if(length(candidate_latency_q) = 3, candidate_latency_q[1], NULL) AS candidate_latency_p50_ms,
    if(length(candidate_latency_q) = 3, candidate_latency_q[2], NULL) AS candidate_latency_p95_ms,
    if(length(candidate_latency_q) = 3, candidate_latency_q[3], NULL) AS candidate_latency_p99_ms,
    if(length(production_ttft_q) = 3 AND NOT isNaN(production_ttft_q[1]), production_ttft_q[1], NULL) AS production_ttft_p50_ms,
    if(length(production_ttft_q) = 3 AND NOT isNaN(production_ttft_q[2]), production_ttft_q[2], NULL) AS production_ttft_p95_ms,
    if(length(production_ttft_q) = 3 AND NOT isNaN(production_ttft_q[3]), production_ttft_q[3], NULL) AS production_ttft_p99_ms,
    if(length(candidate_ttft_q) = 3 AND NOT isNaN(candidate_ttft_q[1]), candidate_ttft_q[1], NULL) AS candidate_ttft_p50_ms,
    if(length(candidate_ttft_q) = 3 AND NOT isNaN(candidate_ttft_q[2]), candidate_ttft_q[2], NULL) AS candidate_ttft_p95_ms,
    if(length(candidate_ttft_q) = 3 AND NOT isNaN(candidate_ttft_q[3]), candidate_ttft_q[3], NULL) AS candidate_ttft_p99_ms,
    if(production_stream_seconds_sum > 0, production_stream_tokens_sum / production_stream_seconds_sum, NULL) AS production_tokens_per_s,
    if(candidate_stream_seconds_sum > 0, candidate_stream_tokens_sum / candidate_stream_seconds_sum, NULL) AS candidate_tokens_per_s,
    if(production_tokens_n > 0, production_tokens_sum / production_tokens_n, NULL) AS production_output_tokens_per_request,
    if(candidate_tokens_n > 0, candidate_tokens_sum / candidate_tokens_n, NULL) AS candidate_output_tokens_per_request,
    if(production_cost_n > 0, production_cost_sum / production_cost_n, NULL) AS production_cost_per_request_usd,
    if(candidate_cost_n > 0, candidate_cost_sum / candidate_cost_n, NULL) AS candidate_cost_per_request_usd,
    last_compared_at
FROM
(
    SELECT
        candidate,
        workflow,
        any(candidate_role) AS role,
        countIf(status != 'skipped') AS compared,
        countIf(status = 'skipped') AS skipped,
        countIf(status = 'ok') AS ok,
        countIf(status IN ('candidate_error', 'both_error')) AS candidate_errors,
        countIf(error_kind = 'timeout') AS timeouts,
        countIf(error_kind = 'rate_limited') AS rate_limited,
        countIf(status IN ('production_error', 'both_error')) AS production_errors,
        countIf(status = 'ok' AND (production_json_valid OR production_json_extracted OR candidate_json_valid OR candidate_json_extracted OR production_schema_valid IS NOT NULL)) AS production_json_n,
        countIf(status = 'ok' AND production_json_valid) AS production_json_valid_count,
        countIf(status = 'ok' AND (production_json_valid OR production_json_extracted OR candidate_json_valid OR candidate_json_extracted OR production_schema_valid IS NOT NULL)) AS candidate_json_n,
        countIf(status = 'ok' AND candidate_json_valid) AS candidate_json_valid_count,
        countIf(status = 'ok' AND candidate_json_extracted) AS candidate_json_wrapped,
        countIf(status = 'ok' AND production_json_valid) AS json_base,
        countIf(status = 'ok' AND production_json_valid AND NOT candidate_json_valid) AS json_broken,
        countIf(status = 'ok' AND json_equal = false) AS json_changed,
        countIf(status = 'ok' AND production_schema_valid IS NOT NULL) AS production_schema_n,
        countIf(status = 'ok' AND production_schema_valid) AS production_schema_valid_count,
        countIf(status = 'ok' AND candidate_schema_valid IS NOT NULL) AS candidate_schema_n,
        countIf(status = 'ok' AND candidate_schema_valid) AS candidate_schema_valid_count,
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
        quantilesExactInclusiveIf(0.1, 0.5, 0.9)(assumeNotNull(similarity), status = 'ok' AND similarity IS NOT NULL) AS similarity_q,
        quantilesExactInclusiveIf(0.5, 0.9)(assumeNotNull(length_ratio), status = 'ok' AND length_ratio IS NOT NULL) AS length_ratio_q,
        quantilesExactInclusiveIf(0.5, 0.95, 0.99)(production_latency_ms, status = 'ok') AS production_latency_q,
        quantilesExactInclusiveIf(0.5, 0.95, 0.99)(candidate_latency_ms, status = 'ok') AS candidate_latency_q,
        quantilesExactInclusiveIf(0.5, 0.95, 0.99)(toFloat64(assumeNotNull(production_ttft_ms)), status = 'ok' AND production_ttft_ms IS NOT NULL) AS production_ttft_q,
        quantilesExactInclusiveIf(0.5, 0.95, 0.99)(toFloat64(assumeNotNull(candidate_ttft_ms)), status = 'ok' AND candidate_ttft_ms IS NOT NULL) AS candidate_ttft_q,
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
        max(compared_at) AS last_compared_at
    FROM {db:Identifier}.comparisons FINAL
    WHERE occurred_at >= {start:DateTime64(3, 'UTC')} AND occurred_at < {end:DateTime64(3, 'UTC')}
      AND ({candidate:String} = '' OR candidate = {candidate:String})
      AND ({workflow:String} = '' OR workflow = {workflow:String})
      AND ({tenant:String} = '' OR tenant = {tenant:String})
    GROUP BY GROUPING SETS ((candidate), (candidate, workflow))
    SETTINGS prefer_column_name_to_alias = 1
)
ORDER BY role DESC, candidate, workflow
