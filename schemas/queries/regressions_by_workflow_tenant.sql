-- regressions_by_workflow_tenant: where a candidate does worse than production, per workflow and
-- tenant, worst first (by the share of comparisons with any regression).
--
-- Parameters: db Identifier; start, end DateTime64(3, 'UTC'); candidate, workflow, tenant ('' = all);
--             min_rows UInt32 (groups with fewer comparisons are left out).
-- Rows skipped while the candidate's circuit breaker was open are not comparisons and are left out.
SELECT
    candidate,
    workflow,
    tenant,
    count() AS compared,
    countIf(status IN ('candidate_error', 'both_error')) / compared AS error_rate,
    countIf(status = 'ok' AND production_json_valid AND NOT candidate_json_valid) / compared AS json_broken_rate,
    countIf(status = 'ok' AND candidate_schema_valid = false AND production_schema_valid = true) / compared AS schema_broken_rate,
    countIf(status = 'ok' AND tool_args_match = false) / compared AS tool_args_mismatch_rate,
    countIf(status = 'ok' AND new_refusal) / compared AS new_refusal_rate,
    countIf(status = 'ok' AND truncated) / compared AS truncation_rate,
    countIf(
        status IN ('candidate_error', 'both_error')
        OR (status = 'ok' AND (
            (production_json_valid AND NOT candidate_json_valid)
            OR (candidate_schema_valid = false AND production_schema_valid = true)
            OR tool_args_match = false OR new_refusal OR truncated))
    ) / compared AS regression_rate
FROM {db:Identifier}.comparisons FINAL
WHERE status != 'skipped'
  AND occurred_at >= {start:DateTime64(3, 'UTC')} AND occurred_at < {end:DateTime64(3, 'UTC')}
  AND ({candidate:String} = '' OR candidate = {candidate:String})
  AND ({workflow:String} = '' OR workflow = {workflow:String})
  AND ({tenant:String} = '' OR tenant = {tenant:String})
GROUP BY candidate, workflow, tenant
HAVING compared >= {min_rows:UInt32}
ORDER BY regression_rate DESC, compared DESC, candidate, workflow, tenant
