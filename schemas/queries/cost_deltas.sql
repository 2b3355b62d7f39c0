-- cost_deltas: cost per request on both sides and the relative change, per candidate × workflow × day.
--
-- Parameters: db Identifier; start, end DateTime64(3, 'UTC'); candidate, workflow, tenant ('' = all).
-- Only comparisons where both costs are known (both answered, both models priced) count.
SELECT
    candidate,
    workflow,
    toDate(occurred_at) AS day,
    count() AS priced,
    avg(production_cost_usd) AS production_cost_per_request_usd,
    avg(candidate_cost_usd) AS candidate_cost_per_request_usd,
    sum(candidate_cost_usd) - sum(production_cost_usd) AS cost_delta_usd,
    if(sum(production_cost_usd) > 0, sum(candidate_cost_usd) / sum(production_cost_usd) - 1, NULL) AS relative_change
FROM {db:Identifier}.comparisons FINAL
WHERE status = 'ok' AND production_cost_usd IS NOT NULL AND candidate_cost_usd IS NOT NULL
  AND occurred_at >= {start:DateTime64(3, 'UTC')} AND occurred_at < {end:DateTime64(3, 'UTC')}
  AND ({candidate:String} = '' OR candidate = {candidate:String})
  AND ({workflow:String} = '' OR workflow = {workflow:String})
  AND ({tenant:String} = '' OR tenant = {tenant:String})
GROUP BY candidate, workflow, day
ORDER BY candidate, workflow, day
