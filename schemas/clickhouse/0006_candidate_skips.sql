-- Per candidate, why a consumed event did not reach it: every candidate not sent the event, with its
-- reason (sampled_out: outside the workflow's sample or the candidate's own sample_rate/tenant_rates;
-- out_of_scope: its workflows, apis, tenants, services or environments leave the event out;
-- disabled: enabled: false). The candidates that were sent it have a comparison row instead (skipped
-- rows there, by error_kind, are the calls the breaker or the control plane stopped), so each
-- candidate accounts for every consumed event. Rows written before this migration read as {}.
ALTER TABLE ${database}.ingest_log ADD COLUMN IF NOT EXISTS candidate_skips Map(LowCardinality(String), LowCardinality(String))
