-- candidate_coverage: per candidate × workflow × production API, how many events each candidate
-- was compared on and when it last produced a row. Beside coverage.sql's replayed counts this
-- shows a candidate that silently stopped receiving traffic. Rows skipped (the call not made, or
-- cancelled) are not comparisons: `skipped` counts them, `skipped_by_kind` by error_kind (circuit_open:
-- its breaker was open; killed, paused: the control plane stopped it; model_not_allowed, …), and
-- `circuit_open` is that kind's count alone; last_compared_at is the newest real comparison (NULL when
-- there is none). The events a candidate was not sent at all are in candidate_skips.sql.
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
    CAST(sumMapIf(map(toString(error_kind), toUInt64(1)), status = 'skipped') AS Map(String, UInt64)) AS skipped_by_kind,
    if(compared > 0, maxIf(compared_at, status != 'skipped'), NULL) AS last_compared_at,
    max(occurred_at) AS last_event_at
FROM {db:Identifier}.comparisons FINAL
WHERE occurred_at >= {start:DateTime64(3, 'UTC')} AND occurred_at < {end:DateTime64(3, 'UTC')}
  AND ({candidate:String} = '' OR candidate = {candidate:String})
  AND ({workflow:String} = '' OR workflow = {workflow:String})
  AND ({tenant:String} = '' OR tenant = {tenant:String})
GROUP BY candidate, workflow, api
ORDER BY candidate, workflow, api
