-- analysis/sql/km_summary.sql
-- What each group's statistics need from its Kaplan-Meier curve, one row per group that has
-- responses: the median and its 95% interval, the survival at 1, 12 and 24 hours and at the
-- last response, and the area under the curve's drops (group_metrics.sql finishes them).
--
-- median_hours: the first response time at which S(t) <= 0.5 + $tolerance (null when the
-- curve never gets there). The tolerance (1e-9) is there because with few probes the curve
-- often sits at exactly 0.5, and rounding in the product could put it a hair either side.
-- median_hours_low / median_hours_high: the same for the lower and the upper pointwise 95%
-- band of S on the log(-log) scale with Greenwood's variance (the band lifelines and R's
-- survfit(conf.type = "log-log") draw; inverting it gives Brookmeyer & Crowley's 1982
-- interval for the median, transformed); where S reaches 0 both bands are 0. The lower band
-- never lies above S and the upper never below, so the lower band is only worked out where
-- S is still above 0.5 (it has reached 0.5 by the median at the latest) and the upper band
-- only where S is at or below it: the same first times, at half the cost.
-- s_1h, s_12h, s_24h: S at those times (the curve stays flat after its last step); s_end:
-- S after the last response; mean_part: the sum of time x drop (restricted_mean_hours is
-- mean_part + s_end x window).
-- Input: relation `steps` (km_steps.sql's columns). Parameters: $z (DOUBLE, the normal
-- quantile of the 95% intervals), $tolerance (DOUBLE).
SELECT group_id,
       min(time_hours) FILTER (WHERE reached) AS median_hours,
       least(min(time_hours) FILTER (WHERE lower <= 0.5 + $tolerance),
             min(time_hours) FILTER (WHERE reached)) AS median_hours_low,
       min(time_hours) FILTER (WHERE upper <= 0.5 + $tolerance) AS median_hours_high,
       min(survival) FILTER (WHERE time_hours <= 1) AS s_1h,
       min(survival) FILTER (WHERE time_hours <= 12) AS s_12h,
       min(survival) FILTER (WHERE time_hours <= 24) AS s_24h,
       min(survival) AS s_end,
       sum(time_hours * drop) AS mean_part
FROM (
    SELECT group_id, time_hours, survival, drop,
           survival <= 0.5 + $tolerance AS reached,
           CASE WHEN survival <= 0.5 + $tolerance THEN NULL
                ELSE exp(-exp(ln(-ln(survival))
                     - $z * sqrt(greatest(greenwood, 0)) / ln(survival))) END AS lower,
           CASE WHEN survival > 0.5 + $tolerance THEN NULL
                WHEN survival > 0 THEN exp(-exp(ln(-ln(survival))
                     + $z * sqrt(greatest(greenwood, 0)) / ln(survival)))
                ELSE 0 END AS upper
    FROM steps
) AS bands
GROUP BY group_id
