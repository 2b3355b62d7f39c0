-- difference_paths: the JSON paths and tool-argument paths that differ most, per candidate
-- (Diffy-style per-path counts), with example event ids. Array indices are folded into [*]
-- so items of one list count together.
--
-- Parameters: db Identifier; start, end DateTime64(3, 'UTC'); candidate, workflow, tenant ('' = all);
--             top UInt32 (paths per candidate and family).
-- rows: comparisons where the path differs; eligible: the candidate's comparisons with both answers.
-- Compare a candidate's rate (rows / eligible) with its control lane's for the same path: what the
-- control also shows is noise, not the candidate.
SELECT
    candidate,
    role,
    family,
    path,
    rows,
    eligible,
    rows / eligible AS rate,
    kinds,
    examples
FROM
(
    SELECT
        candidate,
        any(candidate_role) AS role,
        family,
        replaceRegexpAll(path, '\\[\\d+\\]', '[*]') AS path,
        uniqExact(event_id) AS rows,
        groupUniqArray(4)(kind) AS kinds,
        arraySlice(groupUniqArray(10)(event_id), 1, 3) AS examples
    FROM
    (
        SELECT candidate, candidate_role, event_id, 'json' AS family, path, kind
        FROM {db:Identifier}.comparisons FINAL
        ARRAY JOIN json_diff_paths AS path, json_diff_kinds AS kind
        WHERE status = 'ok'
          AND occurred_at >= {start:DateTime64(3, 'UTC')} AND occurred_at < {end:DateTime64(3, 'UTC')}
          AND ({candidate:String} = '' OR candidate = {candidate:String})
          AND ({workflow:String} = '' OR workflow = {workflow:String})
          AND ({tenant:String} = '' OR tenant = {tenant:String})
        UNION ALL
        SELECT candidate, candidate_role, event_id, 'tool' AS family, path, kind
        FROM {db:Identifier}.comparisons FINAL
        ARRAY JOIN tool_diff_paths AS path, tool_diff_kinds AS kind
        WHERE status = 'ok'
          AND occurred_at >= {start:DateTime64(3, 'UTC')} AND occurred_at < {end:DateTime64(3, 'UTC')}
          AND ({candidate:String} = '' OR candidate = {candidate:String})
          AND ({workflow:String} = '' OR workflow = {workflow:String})
          AND ({tenant:String} = '' OR tenant = {tenant:String})
    )
    GROUP BY candidate, family, path
) AS paths
INNER JOIN
(
    SELECT candidate AS c, count() AS eligible
    FROM {db:Identifier}.comparisons FINAL
    WHERE status = 'ok'
      AND occurred_at >= {start:DateTime64(3, 'UTC')} AND occurred_at < {end:DateTime64(3, 'UTC')}
      AND ({candidate:String} = '' OR candidate = {candidate:String})
      AND ({workflow:String} = '' OR workflow = {workflow:String})
      AND ({tenant:String} = '' OR tenant = {tenant:String})
    GROUP BY candidate
) AS totals ON paths.candidate = totals.c
ORDER BY candidate, family, rows DESC, path
LIMIT {top:UInt32} BY candidate, family
