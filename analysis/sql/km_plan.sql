-- analysis/sql/km_plan.sql
-- For each grouping, whether km_steps_cells.sql (aggregate, then sort the cells) should
-- replace km_steps.sql (sort the probes): when its groups times the distinct durations (at
-- most the cells) come to at most a quarter of the probes it would sort. Either gives the
-- same rows; measured on 10 million probes, aggregating is 2-3 times faster where that
-- bound holds and up to a third slower where durations hardly tie (benchmarks/RESULTS.md).
-- approx_count_distinct is enough: the choice only decides the speed.
-- Input: tables km_sample and group_counts. Parameter: $share (DOUBLE, the quarter).
WITH shape AS (
    SELECT approx_count_distinct(t) AS durations, count(*) AS sorted
    FROM km_sample
)
SELECT g.grouping, count(*) * any_value(s.durations) <= $share * any_value(s.sorted)
    AS aggregate
FROM group_counts AS g, shape AS s
GROUP BY g.grouping;
