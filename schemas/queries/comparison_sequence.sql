-- comparison_sequence: per-comparison values of one candidate in the order they arrived, for the
-- gate's confidence sequences. Read with FINAL: each (event, candidate) once. Rows skipped while the
-- candidate's circuit breaker was open are not comparisons: they are left out.
--
-- The gate's bounds hold over every poll only if each poll sees the same sequence, extended: so the
-- rows come in arrival order (occurred_at, then event_id) from the window's start, and the limit keeps
-- the first ones (a rollout polled from a fixed start sees its first `limit` comparisons; a later
-- comparison past the limit is not judged). comparison_values.sql is the same values as a
-- deterministic sample of the whole window, for distributions.
--
-- Parameters: db Identifier; start, end DateTime64(3, 'UTC'); candidate String (required);
--             workflow, tenant ('' = all); limit UInt64 (0 = no limit).
-- candidate_loop_lag_ms: how late the worker's event loop was during the candidate's call; a high one
-- means the worker's own saturation inflated candidate_latency_ms (the gate's max_loop_lag_ms).
-- production_ttft_ms, candidate_ttft_ms: time to first token of streamed calls (NULL: not streamed).
SELECT
    event_id,
    occurred_at,
    workflow,
    api,
    status,
    error_kind,
    production_json_valid,
    candidate_json_valid,
    production_json_extracted,
    candidate_json_extracted,
    production_schema_valid,
    candidate_schema_valid,
    production_tool_calls,
    candidate_tool_calls,
    tool_names_match,
    tool_args_match,
    tool_f1,
    production_refusal,
    candidate_refusal,
    truncated,
    similarity,
    length_ratio,
    production_latency_ms,
    candidate_latency_ms,
    candidate_loop_lag_ms,
    production_ttft_ms,
    candidate_ttft_ms,
    production_output_tokens,
    candidate_output_tokens,
    production_cost_usd,
    candidate_cost_usd
FROM {db:Identifier}.comparisons FINAL
WHERE candidate = {candidate:String} AND status != 'skipped'
  AND occurred_at >= {start:DateTime64(3, 'UTC')} AND occurred_at < {end:DateTime64(3, 'UTC')}
  AND ({workflow:String} = '' OR workflow = {workflow:String})
  AND ({tenant:String} = '' OR tenant = {tenant:String})
ORDER BY occurred_at, event_id
LIMIT if({limit:UInt64} = 0, 18446744073709551615, {limit:UInt64})
