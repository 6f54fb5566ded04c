-- analysis/sql/group_metrics.sql
-- Each group's response statistics, for every grouping at once: the counts from
-- group_counts with the response rate and its Wilson 95% interval, and the Kaplan-Meier
-- statistics from the curves in km_steps.
--
-- response_rate: answered / probes, answered = responses within the window (and by as_of).
-- median_hours: the first response time at which S(t) <= 0.5 + $tolerance; null when the
-- curve never gets there. The tolerance (1e-9) is there because with few probes the curve
-- often sits at exactly 0.5, and rounding in the product could put it a hair either side.
-- median_hours_low / median_hours_high: the same for the lower and the upper pointwise 95%
-- band of S on the log(-log) scale with Greenwood's variance (the band lifelines and R's
-- survfit(conf.type = "log-log") draw; inverting it gives Brookmeyer & Crowley's 1982
-- interval for the median, transformed); where S reaches 0 both bands are 0.
-- answered_within_1h/12h/24h: 1 - S(t) at 1, 12 and 24 hours (S stays flat after its last
-- step). restricted_mean_hours: the area under S from 0 to the window, i.e. the mean of
-- min(time to response, window): lower is better.
--
-- Groups meet km_steps on (grouping, key).
-- Input: tables group_counts and km_steps. Parameters: $window_hours (DOUBLE), $z (DOUBLE,
-- the normal quantile of the 95% intervals), $tolerance (DOUBLE).
WITH bands AS (
    SELECT *,
           CASE WHEN survival > 0 THEN exp(-exp(ln(-ln(survival))
               - $z * sqrt(greatest(greenwood, 0)) / ln(survival))) ELSE 0 END AS lower,
           CASE WHEN survival > 0 THEN exp(-exp(ln(-ln(survival))
               + $z * sqrt(greatest(greenwood, 0)) / ln(survival))) ELSE 0 END AS upper
    FROM km_steps
),
curves AS (
    SELECT grouping, key,
           min(time_hours) FILTER (WHERE survival <= 0.5 + $tolerance) AS median_hours,
           min(time_hours) FILTER (WHERE lower <= 0.5 + $tolerance) AS median_hours_low,
           min(time_hours) FILTER (WHERE upper <= 0.5 + $tolerance) AS median_hours_high,
           min(survival) FILTER (WHERE time_hours <= 1) AS s_1h,
           min(survival) FILTER (WHERE time_hours <= 12) AS s_12h,
           min(survival) FILTER (WHERE time_hours <= 24) AS s_24h,
           min(survival) AS s_end,
           sum(time_hours * drop) AS mean_part
    FROM bands
    GROUP BY ALL
),
rates AS (
    SELECT *,
           answered / probes AS p,
           1 + $z * $z / probes AS denom
    FROM group_counts
    WHERE probes > 0
)
SELECT c.grouping, c.brand, c.country, c.channel, c.slot, c.scope,
       c.probes, c.answered, c.auto_acks,
       r.p AS response_rate,
       greatest(0, ((r.p + $z * $z / (2 * r.probes))
           - $z * sqrt(r.p * (1 - r.p) / r.probes + $z * $z / (4 * r.probes * r.probes)))
           / r.denom) AS response_rate_low,
       least(1, ((r.p + $z * $z / (2 * r.probes))
           + $z * sqrt(r.p * (1 - r.p) / r.probes + $z * $z / (4 * r.probes * r.probes)))
           / r.denom) AS response_rate_high,
       k.median_hours, k.median_hours_low, k.median_hours_high,
       CASE WHEN c.probes > 0 THEN 1 - coalesce(k.s_1h, 1) END AS answered_within_1h,
       CASE WHEN c.probes > 0 THEN 1 - coalesce(k.s_12h, 1) END AS answered_within_12h,
       CASE WHEN c.probes > 0 THEN 1 - coalesce(k.s_24h, 1) END AS answered_within_24h,
       CASE WHEN c.probes > 0
            THEN coalesce(k.mean_part, 0) + coalesce(k.s_end, 1) * $window_hours
       END AS restricted_mean_hours
FROM group_counts AS c
LEFT JOIN rates AS r
  ON r.grouping = c.grouping AND r.key = c.key
LEFT JOIN curves AS k
  ON k.grouping = c.grouping AND k.key = c.key
ORDER BY list_position(['overall', 'brand', 'country', 'brand_country', 'channel', 'slot',
                        'scope'], c.grouping),
         c.brand, c.country, c.channel, c.slot, c.scope;
