-- analysis/sql/wave_durations.sql
-- Every sent probe's brand, country, duration (hours to first response, or to censoring)
-- and whether the response was observed, for comparing two waves (analysis/waves.py): any
-- group cut out of these rows keeps their order, by duration, responses before censorings,
-- as the Kaplan-Meier counting in analysis/compare.py needs.
-- Input: table outcomes.
SELECT brand, country, duration_hours, observed
FROM outcomes
ORDER BY duration_hours, observed DESC, brand, country, probe_id;
