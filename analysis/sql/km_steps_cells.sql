-- analysis/sql/km_steps_cells.sql
-- The same rows as km_steps.sql, every group's Kaplan-Meier curve for one grouping (one row
-- per distinct response time: probes at risk, responses, survival, drop, Greenwood's sum),
-- computed another way, for groupings whose durations tie a lot (analysis.metrics chooses).
--
-- Exact, and aggregated before anything is sorted: platform times are whole seconds or
-- milliseconds, so durations tie a lot. One hash aggregation turns the group's probes into
-- `cells`, one row per distinct duration t with its responses d and censorings c; only these
-- are sorted, once, by one window that counts the probes at risk n (the group's N minus the
-- probes of earlier cells) and numbers the cells holding censorings (k: how many come
-- before). Ties: responses before censorings at the same time (lifelines' convention), so
-- a cell's censorings leave the risk set after its responses. S and the censorings'
-- Kaplan-Meier curve G multiply to (N - probes up to t) / N (the identity behind Satten &
-- Datta 2001, Am. Stat. 55:207), so S at a response time t is (n - d) / (N G(t-)), and G only
-- moves at censorings: its running product is a window over the censoring cells alone, met by
-- each response time on its group and ordinal (k - 1: the last censoring cell before t, an
-- equi-join where an ASOF join would sort the responses again). Greenwood's sum of
-- d / (n (n - d)) telescopes the same way, to 1/(n - d) - 1/N minus the censorings' terms;
-- it is null where S reaches 0. Probes censored at the longest duration (not yet answered
-- when their window closed) come last in every group and are only counted in N.
--
-- Counts are DOUBLE in the windows (exact up to 2^53; a BIGINT sum would be a HUGEINT and
-- sums several times slower).
-- Input: the macros km_grouped and km_sizes (km_grouped.sql). Parameter: $grouping (VARCHAR,
-- the grouping's name). Output: as km_steps.sql.
WITH cells AS (
    SELECT id, t,
           count(*) FILTER (WHERE observed)::DOUBLE AS d,
           count(*) FILTER (WHERE NOT observed)::DOUBLE AS c
    FROM km_grouped($grouping)
    GROUP BY ALL
),
sized AS (
    SELECT cells.id, cells.t, cells.d, cells.c, g.n AS n_probes,
           g.n - coalesce(sum(cells.d + cells.c) OVER earlier, 0) AS n,
           coalesce(sum((cells.c > 0)::DOUBLE) OVER earlier, 0) AS k
    FROM cells
    JOIN km_sizes($grouping) AS g ON g.id = cells.id
    WINDOW earlier AS (PARTITION BY cells.id ORDER BY cells.t
                       ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
),
censorings AS (
    SELECT id, k,
           sum(ln((n - d - c) / (n - d))) OVER w AS log_g,
           sum(1 / (n - d - c) - 1 / (n - d)) OVER w AS greenwood_g
    FROM sized
    WHERE c > 0 AND n - d - c > 0
    WINDOW w AS (PARTITION BY id ORDER BY t ROWS UNBOUNDED PRECEDING)
)
SELECT r.id AS group_id,
       r.t AS time_hours,
       r.n::BIGINT AS at_risk,
       r.d::BIGINT AS responses,
       (r.n - r.d) / r.n_probes / exp(coalesce(c.log_g, 0)) AS survival,
       r.d / r.n_probes / exp(coalesce(c.log_g, 0)) AS drop,
       CASE WHEN r.n > r.d
            THEN 1 / (r.n - r.d) - 1 / r.n_probes - coalesce(c.greenwood_g, 0) END AS greenwood
FROM sized AS r
LEFT JOIN censorings AS c ON c.id = r.id AND c.k = r.k - 1
WHERE r.d > 0
