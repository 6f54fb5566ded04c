-- analysis/sql/km_grouped.sql
-- Two table macros that km_steps.sql and km_steps_cells.sql read one grouping through:
-- km_grouped(name) gives km_sample's probes (t, observed) with `id`, the group_id of their
-- group in that grouping; km_sizes(name) gives that grouping's groups (`id`) with their
-- sizes N (`n`, DOUBLE). Macros bind when they are made, so this runs after km_sample.sql.
-- Input: tables km_sample and group_counts.
CREATE OR REPLACE TEMP MACRO km_grouped(name) AS TABLE
SELECT CASE name WHEN 'overall' THEN g_overall WHEN 'brand' THEN g_brand
                 WHEN 'country' THEN g_country WHEN 'brand_country' THEN g_brand_country
                 WHEN 'channel' THEN g_channel WHEN 'slot' THEN g_slot
                 WHEN 'scope' THEN g_scope END AS id,
       t, observed
FROM km_sample;

CREATE OR REPLACE TEMP MACRO km_sizes(name) AS TABLE
SELECT group_id AS id, probes::DOUBLE AS n
FROM group_counts
WHERE grouping = name;
