-- scorecard_rollup: the scorecard from the hourly rollups, for long windows.
--
-- Same columns and figures as scorecard.sql over the same whole hours: hours before `boundary`
-- come from comparisons_hourly (refreshed by ClickHouse), later hours are aggregated from raw
-- rows on the fly through comparisons_hourly_source, so the newest data is never stale. Skipped
-- rows (an open circuit breaker) are counted in `skipped` only, as in scorecard.sql.
--
-- Parameters:
--   db                   Identifier
--   start, boundary, end DateTime('UTC')   whole hours: [start, boundary) from rollups, [boundary, end) raw
--   candidate, workflow, tenant  String    filters; '' means all
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
        sum(compared) AS compared,
        sum(skipped) AS skipped,
        sum(ok) AS ok,
        sum(candidate_errors) AS candidate_errors,
        sum(timeouts) AS timeouts,
        sum(rate_limited) AS rate_limited,
        sum(production_errors) AS production_errors,
        sum(production_json_n) AS production_json_n,
        sum(production_json_valid) AS production_json_valid_count,
        sum(candidate_json_n) AS candidate_json_n,
        sum(candidate_json_valid) AS candidate_json_valid_count,
        sum(candidate_json_wrapped) AS candidate_json_wrapped,
        sum(json_base) AS json_base,
        sum(json_broken) AS json_broken,
        sum(json_changed) AS json_changed,
        sum(production_schema_n) AS production_schema_n,
        sum(production_schema_valid) AS production_schema_valid_count,
        sum(candidate_schema_n) AS candidate_schema_n,
        sum(candidate_schema_valid) AS candidate_schema_valid_count,
        sum(tool_rows) AS tool_rows,
        sum(tool_names_agree) AS tool_names_agree,
        sum(tool_args_agree) AS tool_args_agree,
        sum(tool_f1_sum) AS tool_f1_sum,
        sum(truncations) AS truncations,
        sum(finish_changes) AS finish_changes,
        sum(refusal_n) AS refusal_n,
        sum(production_refusals) AS production_refusals,
        sum(candidate_refusals) AS candidate_refusals,
        sum(new_refusals) AS new_refusals,
        sum(longer) AS longer,
        sum(shorter) AS shorter,
        sum(dissimilar) AS dissimilar,
        quantilesExactInclusiveMerge(0.1, 0.5, 0.9)(similarity_q) AS similarity_q,
        quantilesExactInclusiveMerge(0.5, 0.9)(length_ratio_q) AS length_ratio_q,
        quantilesExactInclusiveMerge(0.5, 0.95, 0.99)(production_latency_q) AS production_latency_q,
        quantilesExactInclusiveMerge(0.5, 0.95, 0.99)(candidate_latency_q) AS candidate_latency_q,
        quantilesExactInclusiveMerge(0.5, 0.95, 0.99)(production_ttft_q) AS production_ttft_q,
        quantilesExactInclusiveMerge(0.5, 0.95, 0.99)(candidate_ttft_q) AS candidate_ttft_q,
        sum(production_stream_tokens_sum) AS production_stream_tokens_sum,
        sum(production_stream_seconds_sum) AS production_stream_seconds_sum,
        sum(candidate_stream_tokens_sum) AS candidate_stream_tokens_sum,
        sum(candidate_stream_seconds_sum) AS candidate_stream_seconds_sum,
        sum(production_tokens_sum) AS production_tokens_sum,
        sum(production_tokens_n) AS production_tokens_n,
        sum(candidate_tokens_sum) AS candidate_tokens_sum,
        sum(candidate_tokens_n) AS candidate_tokens_n,
        sum(production_cost_sum) AS production_cost_sum,
        sum(production_cost_n) AS production_cost_n,
        sum(candidate_cost_sum) AS candidate_cost_sum,
        sum(candidate_cost_n) AS candidate_cost_n,
        max(last_compared_at) AS last_compared_at
    FROM
    (
        SELECT * FROM {db:Identifier}.comparisons_hourly FINAL
        WHERE hour >= {start:DateTime('UTC')} AND hour < {boundary:DateTime('UTC')}
        UNION ALL
        SELECT * FROM {db:Identifier}.comparisons_hourly_source
        WHERE hour >= {boundary:DateTime('UTC')} AND hour < {end:DateTime('UTC')}
    )
    WHERE ({candidate:String} = '' OR candidate = {candidate:String})
      AND ({workflow:String} = '' OR workflow = {workflow:String})
      AND ({tenant:String} = '' OR tenant = {tenant:String})
    GROUP BY GROUPING SETS ((candidate), (candidate, workflow))
    SETTINGS prefer_column_name_to_alias = 1
)
ORDER BY role DESC, candidate, workflow
