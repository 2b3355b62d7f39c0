-- How late the worker's event loop was at worst while the candidate's call was on the wire, in ms
-- (the last attempt's, like candidate_latency_ms). An answer that arrives while the loop is busy waits
-- in its socket until the loop gets to it, so a high value means candidate_latency_ms holds that much
-- of the worker's own saturation, not the candidate's: the gate leaves such latencies out
-- (max_loop_lag_ms). NULL when no call was made (skipped rows, translation errors), when no loop watch
-- ran (a client used outside the worker), and for rows written before this migration.
ALTER TABLE ${database}.comparisons ADD COLUMN IF NOT EXISTS candidate_loop_lag_ms Nullable(Float32)
