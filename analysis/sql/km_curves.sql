-- analysis/sql/km_curves.sql
-- Each brand's Kaplan-Meier step curve of time to first response, for charts: a point at
-- 0 hours (survival 1, every probe at risk), then one point per response time with the
-- survival just after it. The curve stays flat from its last point to the window's end.
-- Input: tables outcomes and km_steps (holding the brand grouping).
SELECT brand, 0.0 AS time_hours, 1.0 AS survival, count(*) AS at_risk, 0 AS responses
FROM outcomes
GROUP BY brand
UNION ALL
SELECT key AS brand, time_hours, survival, at_risk, responses
FROM km_steps
WHERE grouping = 'brand'
ORDER BY brand, time_hours, survival DESC;
