-- analysis/sql/group_metrics.sql
-- Each group's response statistics, for every grouping at once: the counts from
-- group_counts with the response rate and its Wilson 95% interval, and the Kaplan-Meier
-- statistics from each group's curve, summed up in km_summary (km_summary.sql says how).
--
-- response_rate: answered / probes, answered = responses within the window (and by as_of);
-- open probes (no response yet, window not ended) count as unanswered so far, where the
-- Kaplan-Meier shares count them only for as long as they were watched.
-- answered_within_1h/12h/24h: 1 - S(t) at 1, 12 and 24 hours. restricted_mean_hours: the
-- area under S from 0 to the window, i.e. the mean of min(time to response, window): lower
-- is better. A group without responses has S = 1 throughout and no median.
--
-- Input: tables group_counts and km_summary. Parameters: $window_hours (DOUBLE), $z
-- (DOUBLE, the normal quantile of the 95% intervals).
WITH rates AS (
    SELECT *,
           answered / probes AS p,
           1 + $z * $z / probes AS denom
    FROM group_counts
    WHERE probes > 0
)
SELECT c.grouping, c.brand, c.country, c.channel, c.slot, c.scope,
       c.probes, c.answered, c.auto_acks, c.open,
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
LEFT JOIN rates AS r ON r.group_id = c.group_id
LEFT JOIN km_summary AS k ON k.group_id = c.group_id
ORDER BY list_position(['overall', 'brand', 'country', 'brand_country', 'channel', 'slot',
                        'scope'], c.grouping),
         c.brand, c.country, c.channel, c.slot, c.scope;
