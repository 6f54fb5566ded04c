-- analysis/sql/answer_metrics.sql
-- The time to the first substantive answer (a public reply or DM; outcomes.sql's
-- answer_hours) in the overall and brand groupings (analysis.metrics.ANSWER_GROUPINGS): the
-- Kaplan-Meier median with its 95% interval and the restricted mean up to the window, as
-- group_metrics.sql computes them for the first response, from answer_summary. A group
-- without substantive answers has S = 1 throughout: no median, the whole window as mean.
-- Input: tables group_counts and answer_summary. Parameter: $window_hours (DOUBLE).
SELECT c.grouping, c.brand,
       a.median_hours AS answer_median_hours,
       a.median_hours_low AS answer_median_hours_low,
       a.median_hours_high AS answer_median_hours_high,
       CASE WHEN c.probes > 0
            THEN coalesce(a.mean_part, 0) + coalesce(a.s_end, 1) * $window_hours
       END AS answer_restricted_mean_hours
FROM group_counts AS c
LEFT JOIN answer_summary AS a ON a.group_id = c.group_id
WHERE c.grouping IN ('overall', 'brand');
