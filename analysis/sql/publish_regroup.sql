-- analysis/sql/publish_regroup.sql
-- The outcomes again, with the country column holding the probe's slot, scope or channel
-- instead, so that group_metrics' brand_country groups become brand x slot (or scope, or
-- channel) groups with exactly the same statistics (the only grouping of two key columns
-- is brand x country).
-- Input: table published_outcomes (a copy of outcomes). Parameter: $by (VARCHAR: 'slot',
-- 'scope' or 'channel'; 'country' puts the outcomes back as they were).
CREATE OR REPLACE TEMP TABLE outcomes AS
SELECT * REPLACE (
    CASE $by WHEN 'country' THEN country WHEN 'slot' THEN slot
             WHEN 'scope' THEN scope WHEN 'channel' THEN channel END AS country
)
FROM published_outcomes;
