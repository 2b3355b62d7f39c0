-- coverage: what became of every consumed record, per workflow and production API, in a window.
--
-- Parameters: db Identifier; start, end DateTime64(3, 'UTC'); workflow, tenant String ('' = all).
-- consumed = replayed + skipped + dead_letter. Dead letters have no workflow (they could not be
-- decoded) and appear under workflow ''. Read with FINAL: a record consumed twice counts once.
SELECT
    workflow,
    api,
    count() AS consumed,
    countIf(outcome = 'replayed') AS replayed,
    countIf(outcome = 'skipped') AS skipped,
    countIf(outcome = 'skipped' AND reason = 'sampling') AS skipped_by_sampling,
    countIf(outcome = 'skipped' AND reason = 'no_candidate') AS skipped_no_candidate,
    countIf(outcome = 'dead_letter') AS dead_lettered,
    max(ingested_at) AS last_ingested_at
FROM {db:Identifier}.ingest_log FINAL
WHERE occurred_at >= {start:DateTime64(3, 'UTC')} AND occurred_at < {end:DateTime64(3, 'UTC')}
  AND ({workflow:String} = '' OR workflow = {workflow:String})
  AND ({tenant:String} = '' OR tenant = {tenant:String})
GROUP BY workflow, api
ORDER BY workflow, api
