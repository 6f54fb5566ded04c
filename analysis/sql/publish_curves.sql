-- analysis/sql/publish_curves.sql
-- The Kaplan-Meier step curves the published site draws: the whole field's (grouping
-- 'overall', brand '') and each brand's. Each starts with a point at 0 hours (survival 1,
-- every probe at risk), then one point per response time with the survival just after it;
-- a curve stays flat from its last point to the window's end.
-- Input: tables outcomes and km_steps (holding the overall and brand groupings).
WITH starts AS (
    SELECT 'overall' AS grouping, '' AS brand, 0.0 AS time_hours, 1.0 AS survival,
           count(*) AS at_risk, 0 AS responses
    FROM outcomes
    HAVING count(*) > 0
    UNION ALL
    SELECT 'brand', brand, 0.0, 1.0, count(*), 0
    FROM outcomes
    GROUP BY brand
),
steps AS (
    SELECT grouping, key AS brand, time_hours, survival, at_risk, responses
    FROM km_steps
    WHERE grouping IN ('overall', 'brand')
)
SELECT grouping, brand, time_hours, survival, at_risk, responses
FROM (SELECT * FROM starts UNION ALL SELECT * FROM steps)
ORDER BY grouping DESC, brand, time_hours, survival DESC;
