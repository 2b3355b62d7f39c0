-- candidate_coverage: per candidate × workflow × production API, how many events each candidate
-- was compared on and when it last produced a row. Beside coverage.sql's replayed counts this
-- shows a candidate that silently stopped receiving traffic.
--
-- Parameters: db Identifier; start, end DateTime64(3, 'UTC'); candidate, workflow, tenant ('' = all).
SELECT
    candidate,
    any(candidate_role) AS role,
    workflow,
    api,
    count() AS compared,
    max(compared_at) AS last_compared_at,
    max(occurred_at) AS last_event_at
FROM {db:Identifier}.comparisons FINAL
WHERE occurred_at >= {start:DateTime64(3, 'UTC')} AND occurred_at < {end:DateTime64(3, 'UTC')}
  AND ({candidate:String} = '' OR candidate = {candidate:String})
  AND ({workflow:String} = '' OR workflow = {workflow:String})
  AND ({tenant:String} = '' OR tenant = {tenant:String})
GROUP BY candidate, workflow, api
ORDER BY candidate, workflow, api
