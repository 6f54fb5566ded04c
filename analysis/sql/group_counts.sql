-- analysis/sql/group_counts.sql
-- Every group of every grouping with its probes, answered probes, auto-acknowledged
-- probes and probes still open (outcomes.sql's still_open): one pass over the outcomes into the finest cells (km_cells: one per combination
-- of the five key columns), then GROUPING SETS over those few cells.
--
-- `key` names the group within its grouping: the key columns' values joined by chr(31)
-- ('' for overall). `group_id` numbers the groups of all groupings in that order (INTEGER:
-- the sorts of km_steps.sql partition by it, and a 4-byte key sorts faster than text or a
-- BIGINT: 0.43 s against 0.58 s for 5.6 million probes).
-- km_cells also keeps each cell's longest duration (km_sample.sql leaves out the probes
-- censored at the longest duration of all), and km_map gives each cell its group in every
-- grouping. With no outcomes the overall row is still there, with zeros.
-- Input: table outcomes.
CREATE OR REPLACE TEMP TABLE km_cells AS
SELECT brand, country, channel, slot, scope,
       count(*) AS probes,
       count(*) FILTER (WHERE observed) AS answered,
       count(auto_ack_at) AS auto_acks,
       count(*) FILTER (WHERE still_open) AS open,
       max(duration_hours) AS longest
FROM outcomes
GROUP BY ALL;

CREATE OR REPLACE TEMP TABLE group_counts AS
SELECT (row_number() OVER (ORDER BY grouping, key, brand, country, channel, slot, scope))::INTEGER
           AS group_id,
       *
FROM (
    SELECT CASE grouping(brand, country, channel, slot, scope)
               WHEN 31 THEN 'overall' WHEN 15 THEN 'brand' WHEN 23 THEN 'country'
               WHEN 7 THEN 'brand_country' WHEN 27 THEN 'channel' WHEN 29 THEN 'slot'
               WHEN 30 THEN 'scope' END AS grouping,
           concat_ws(chr(31), brand, country, channel, slot, scope) AS key,
           brand, country, channel, slot, scope,
           coalesce(sum(probes), 0)::BIGINT AS probes,
           coalesce(sum(answered), 0)::BIGINT AS answered,
           coalesce(sum(auto_acks), 0)::BIGINT AS auto_acks,
           coalesce(sum(open), 0)::BIGINT AS open
    FROM km_cells
    GROUP BY GROUPING SETS ((), (brand), (country), (brand, country), (channel), (slot),
                            (scope))
);

CREATE OR REPLACE TEMP TABLE km_map AS
SELECT c.brand, c.country, c.channel, c.slot, c.scope,
       o.group_id AS g_overall, b.group_id AS g_brand, n.group_id AS g_country,
       bn.group_id AS g_brand_country, ch.group_id AS g_channel, sl.group_id AS g_slot,
       sc.group_id AS g_scope
FROM km_cells AS c
JOIN group_counts AS o ON o.grouping = 'overall'
JOIN group_counts AS b ON b.grouping = 'brand' AND b.brand IS NOT DISTINCT FROM c.brand
JOIN group_counts AS n
  ON n.grouping = 'country' AND n.country IS NOT DISTINCT FROM c.country
JOIN group_counts AS bn
  ON bn.grouping = 'brand_country' AND bn.brand IS NOT DISTINCT FROM c.brand
 AND bn.country IS NOT DISTINCT FROM c.country
JOIN group_counts AS ch
  ON ch.grouping = 'channel' AND ch.channel IS NOT DISTINCT FROM c.channel
JOIN group_counts AS sl ON sl.grouping = 'slot' AND sl.slot IS NOT DISTINCT FROM c.slot
JOIN group_counts AS sc ON sc.grouping = 'scope' AND sc.scope IS NOT DISTINCT FROM c.scope;

-- km_timed(substantive, longest): what the curves are computed from (km_sample.sql): each
-- probe's duration t and event, to the first response or, with substantive = true, to the
-- first substantive answer (answer_hours, answer_observed), with its group in every
-- grouping; without the probes censored at `longest` (the longest t of all: they come last
-- in every group's order, so they are only counted in the group's size, never sorted). Each
-- probe meets its finest cell (km_map) once; the cell already knows its seven groups.
-- `substantive` is a literal where the macro is used, so the choice costs nothing per row.
CREATE OR REPLACE TEMP MACRO km_timed(substantive, longest) AS TABLE
SELECT t, observed,
       c.g_overall, c.g_brand, c.g_country, c.g_brand_country, c.g_channel, c.g_slot, c.g_scope
FROM (
    SELECT brand, country, channel, slot, scope,
           CASE WHEN substantive THEN answer_hours ELSE duration_hours END AS t,
           CASE WHEN substantive THEN answer_observed ELSE observed END AS observed
    FROM outcomes
) AS p
JOIN km_map AS c
  ON p.brand IS NOT DISTINCT FROM c.brand AND p.country IS NOT DISTINCT FROM c.country
 AND p.channel IS NOT DISTINCT FROM c.channel AND p.slot IS NOT DISTINCT FROM c.slot
 AND p.scope IS NOT DISTINCT FROM c.scope
WHERE p.observed OR p.t < longest;
