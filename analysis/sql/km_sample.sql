-- analysis/sql/km_sample.sql
-- What the Kaplan-Meier curves of every grouping are computed from: one row per probe that
-- was answered or censored before the longest duration of all (probes still open at the
-- as-of time), with its duration t, whether it was answered, and the group_id of its group
-- in each of the seven groupings. The probes censored at the longest duration (not answered
-- when their window closed) come last in every group's order, so they are only counted in
-- the group's size (group_counts.probes), never sorted.
--
-- Each probe meets its finest cell (km_map) once; the cell already knows its seven groups,
-- so the sorts that follow partition by small integers instead of text.
-- Input: tables outcomes and km_map (group_counts.sql).
-- Parameter: $longest (DOUBLE, the longest duration of all; null when there are no probes).
CREATE OR REPLACE TEMP TABLE km_sample AS
SELECT p.duration_hours AS t, p.observed,
       c.g_overall, c.g_brand, c.g_country, c.g_brand_country, c.g_channel, c.g_slot, c.g_scope
FROM outcomes AS p
JOIN km_map AS c
  ON p.brand IS NOT DISTINCT FROM c.brand AND p.country IS NOT DISTINCT FROM c.country
 AND p.channel IS NOT DISTINCT FROM c.channel AND p.slot IS NOT DISTINCT FROM c.slot
 AND p.scope IS NOT DISTINCT FROM c.scope
WHERE p.observed OR p.duration_hours < $longest;
