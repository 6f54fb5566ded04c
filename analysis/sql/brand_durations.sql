-- analysis/sql/brand_durations.sql
-- Every sent probe's duration (hours to first response, or to censoring) and whether the
-- response was observed, by brand, for the comparisons between brands (log-rank tests and
-- the bootstrap of ranks). Within a brand: by duration, responses before censorings.
-- Input: table outcomes.
SELECT brand, duration_hours, observed
FROM outcomes
ORDER BY brand, duration_hours, observed DESC, probe_id;
