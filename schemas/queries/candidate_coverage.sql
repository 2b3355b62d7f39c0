-- candidate_coverage: per candidate × workflow × production API, how many events each candidate
-- was compared on and when it last produced a row. Beside coverage.sql's replayed counts this
-- shows a candidate that silently stopped receiving traffic. Rows skipped while its circuit breaker
-- was open are not comparisons: `skipped` counts them (`circuit_open`: skipped for that reason), and
-- last_compared_at is the newest real comparison (NULL when there is none).
--
-- Parameters: db Identifier; start, end DateTime64(3, 'UTC'); candidate, workflow, tenant ('' = all).
SELECT
    candidate,
    any(candidate_role) AS role,
    workflow,
    api,
    countIf(status != 'skipped') AS compared,
    countIf(status = 'skipped') AS skipped,
    countIf(status = 'skipped' AND error_kind = 'circuit_open') AS circuit_open,
    if(compared > 0, maxIf(compared_at, status != 'skipped'), NULL) AS last_compared_at,
    max(occurred_at) AS last_event_at
FROM {db:Identifier}.comparisons FINAL
WHERE occurred_at >= {start:DateTime64(3, 'UTC')} AND occurred_at < {end:DateTime64(3, 'UTC')}
  AND ({candidate:String} = '' OR candidate = {candidate:String})
  AND ({workflow:String} = '' OR workflow = {workflow:String})
  AND ({tenant:String} = '' OR tenant = {tenant:String})
GROUP BY candidate, workflow, api
ORDER BY candidate, workflow, api
