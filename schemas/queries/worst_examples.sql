-- worst_examples: the comparisons most worth reading, per candidate: broken JSON first, then
-- changed tool arguments, new refusals, truncations, then the lowest similarity.
--
-- Parameters: db Identifier; start, end DateTime64(3, 'UTC'); candidate, workflow, tenant ('' = all);
--             per_candidate UInt32.
SELECT
    candidate,
    workflow,
    event_id,
    multiIf(
        production_json_valid AND NOT candidate_json_valid, 'json_broken',
        tool_args_match = false, 'tool_arguments',
        new_refusal, 'new_refusal',
        truncated, 'truncated',
        'low_similarity'
    ) AS reason,
    similarity,
    production_text,
    candidate_text,
    json_diff_paths,
    tool_diff_paths,
    JSONExtractRaw(production_output, 'tool_calls') AS production_tool_calls,
    JSONExtractRaw(candidate_output, 'tool_calls') AS candidate_tool_calls
FROM {db:Identifier}.comparisons FINAL
WHERE status = 'ok' AND candidate_role = 'candidate'
  AND occurred_at >= {start:DateTime64(3, 'UTC')} AND occurred_at < {end:DateTime64(3, 'UTC')}
  AND ({candidate:String} = '' OR candidate = {candidate:String})
  AND ({workflow:String} = '' OR workflow = {workflow:String})
  AND ({tenant:String} = '' OR tenant = {tenant:String})
ORDER BY
    candidate,
    (production_json_valid AND NOT candidate_json_valid) DESC,
    (tool_args_match = false) DESC,
    new_refusal DESC,
    truncated DESC,
    ifNull(similarity, 1) ASC,
    event_id
LIMIT {per_candidate:UInt32} BY candidate
