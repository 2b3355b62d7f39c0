-- timeseries: hourly rates per candidate (the report's rates-over-time charts).
--
-- Parameters: db Identifier; start, end DateTime64(3, 'UTC'); candidate, workflow, tenant ('' = all).
-- Rows skipped with the candidate's circuit open are counted in `skipped`, not in `compared` or a rate.
SELECT
    toStartOfHour(occurred_at) AS hour,
    candidate,
    countIf(status != 'skipped') AS compared,
    countIf(status = 'skipped') AS skipped,
    if(compared > 0, countIf(status IN ('candidate_error', 'both_error')) / compared, NULL) AS error_rate,
    if(countIf(status = 'ok' AND production_json_valid) > 0,
       countIf(status = 'ok' AND production_json_valid AND NOT candidate_json_valid)
         / countIf(status = 'ok' AND production_json_valid), NULL) AS json_broken_rate,
    if(countIf(status = 'ok' AND (production_tool_calls > 0 OR candidate_tool_calls > 0)) > 0,
       countIf(status = 'ok' AND (production_tool_calls > 0 OR candidate_tool_calls > 0) AND NOT tool_args_match)
         / countIf(status = 'ok' AND (production_tool_calls > 0 OR candidate_tool_calls > 0)), NULL)
       AS tool_args_mismatch_rate,
    if(countIf(status = 'ok') > 0, countIf(status = 'ok' AND candidate_refusal) / countIf(status = 'ok'), NULL)
       AS refusal_rate,
    quantileExactInclusiveIf(0.95)(candidate_latency_ms, status = 'ok') AS candidate_latency_p95_ms
FROM {db:Identifier}.comparisons FINAL
WHERE occurred_at >= {start:DateTime64(3, 'UTC')} AND occurred_at < {end:DateTime64(3, 'UTC')}
  AND ({candidate:String} = '' OR candidate = {candidate:String})
  AND ({workflow:String} = '' OR workflow = {workflow:String})
  AND ({tenant:String} = '' OR tenant = {tenant:String})
GROUP BY hour, candidate
ORDER BY hour, candidate
