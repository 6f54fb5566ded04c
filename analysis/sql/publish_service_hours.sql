-- analysis/sql/publish_service_hours.sql
-- The outcomes of the probes whose target states service hours, with the country column
-- holding 'inside' or 'outside' (when the probe was sent), so that group_metrics'
-- brand_country groups become brand x side groups with exactly the same statistics.
-- publish_regroup.sql with $by = 'country' puts the outcomes back.
-- Input: tables published_outcomes (a copy of outcomes) and probe_sides(probe_id, side).
CREATE OR REPLACE TEMP TABLE outcomes AS
SELECT o.* REPLACE (s.side AS country)
FROM published_outcomes AS o
JOIN probe_sides AS s ON s.probe_id = o.probe_id;
