-- stale_rollup_hours: hours whose rollup is missing or older than their newest comparison row.
--
-- Parameters: db Identifier; start, end DateTime('UTC') (whole hours).
-- `shadow summary` recomputes these hours before reading the rollups, so rows written to old hours
-- by any writer (a backfill, another tool) are never missed.
SELECT raw.hour AS hour
FROM
(
    SELECT toStartOfHour(occurred_at) AS hour, max(compared_at) AS newest
    FROM {db:Identifier}.comparisons
    WHERE occurred_at >= {start:DateTime('UTC')} AND occurred_at < {end:DateTime('UTC')}
    GROUP BY hour
) AS raw
LEFT JOIN
(
    SELECT hour, max(last_compared_at) AS rolled
    FROM {db:Identifier}.comparisons_hourly FINAL
    WHERE hour >= {start:DateTime('UTC')} AND hour < {end:DateTime('UTC')}
    GROUP BY hour
) AS rollup ON raw.hour = rollup.hour
WHERE rollup.rolled < raw.newest
ORDER BY hour
