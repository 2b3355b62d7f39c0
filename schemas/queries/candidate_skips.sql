-- candidate_skips: per candidate × workflow × production API, the consumed events a candidate was not
-- sent, by reason, from ingest_log.candidate_skips: `sampled_out` (outside the workflow's sample or
-- the candidate's own sample_rate / tenant_rates), `out_of_scope` (its workflows, apis, tenants,
-- services or environments leave the event out), `disabled` (enabled: false). Such an event has no
-- comparison row for that candidate; with candidate_coverage.sql (compared and skipped rows) every
-- consumed event is accounted for per candidate. `of_replayed` counts those of the events replayed
-- to other candidates (coverage.sql's `replayed`): a candidate should be compared on
-- `replayed - of_replayed` events. Read with FINAL: a record consumed twice counts once.
--
-- Parameters: db Identifier; start, end DateTime64(3, 'UTC'); candidate, workflow, tenant String ('' = all).
SELECT
    candidate,
    workflow,
    api,
    count() AS skipped,
    countIf(skip_reason = 'sampled_out') AS sampled_out,
    countIf(skip_reason = 'out_of_scope') AS out_of_scope,
    countIf(skip_reason = 'disabled') AS disabled,
    countIf(outcome = 'replayed') AS of_replayed
FROM {db:Identifier}.ingest_log FINAL
ARRAY JOIN mapKeys(candidate_skips) AS candidate, mapValues(candidate_skips) AS skip_reason
WHERE occurred_at >= {start:DateTime64(3, 'UTC')} AND occurred_at < {end:DateTime64(3, 'UTC')}
  AND ({candidate:String} = '' OR candidate = {candidate:String})
  AND ({workflow:String} = '' OR workflow = {workflow:String})
  AND ({tenant:String} = '' OR tenant = {tenant:String})
GROUP BY candidate, workflow, api
ORDER BY candidate, workflow, api
