-- analysis/sql/group_counts.sql
-- Every group of every grouping with its probes, answered probes and auto-acknowledged
-- probes: one pass over the outcomes into the finest cells (one per combination of the five
-- key columns), then GROUPING SETS over those few cells.
--
-- `key` names the group within its grouping: the key columns' values joined by chr(31)
-- ('' for overall); km_steps.sql builds the same key. With no outcomes the overall row is
-- still there, with zeros.
-- Input: table outcomes.
CREATE OR REPLACE TEMP TABLE group_counts AS
WITH cells AS (
    SELECT brand, country, channel, slot, scope,
           count(*) AS probes,
           count(*) FILTER (WHERE observed) AS answered,
           count(auto_ack_at) AS auto_acks
    FROM outcomes
    GROUP BY ALL
)
SELECT CASE grouping(brand, country, channel, slot, scope)
           WHEN 31 THEN 'overall' WHEN 15 THEN 'brand' WHEN 23 THEN 'country'
           WHEN 7 THEN 'brand_country' WHEN 27 THEN 'channel' WHEN 29 THEN 'slot'
           WHEN 30 THEN 'scope' END AS grouping,
       concat_ws(chr(31), brand, country, channel, slot, scope) AS key,
       brand, country, channel, slot, scope,
       coalesce(sum(probes), 0)::BIGINT AS probes,
       coalesce(sum(answered), 0)::BIGINT AS answered,
       coalesce(sum(auto_acks), 0)::BIGINT AS auto_acks
FROM cells
GROUP BY GROUPING SETS ((), (brand), (country), (brand, country), (channel), (slot), (scope));
