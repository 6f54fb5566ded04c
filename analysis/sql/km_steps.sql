-- analysis/sql/km_steps.sql
-- The Kaplan-Meier curve of time to first response in every group of one grouping: one row
-- per distinct response time with the probes at risk, the responses, the survival S(t) (the
-- share of probes still unanswered just after t), its drop at t and Greenwood's sum.
--
-- Exact, with one sort per grouping however many probes there are (km_steps_cells.sql
-- computes the same rows from aggregated cells, for durations that tie a lot). Order a
-- group's N probes by duration, responses before censorings at the same time (lifelines'
-- convention for ties); rows of equal (duration, observed) form a tie at positions
-- first..pos, kept as its last row (the next row differs; cheaper than counting peers). The
-- per-row factors (1 - 1/r), with r = N - position + 1 the rows not yet passed, multiply
-- over all rows up to pos to (N - pos) / N = S(t) G(t), where G is the Kaplan-Meier curve
-- of the censorings (the identity behind Satten & Datta 2001, Am. Stat. 55:207). So S at a
-- response time t is (N - pos) / (N G(t-)), and G only moves at censorings before the
-- longest duration (probes still open at as_of): its running product is a window over those
-- rows alone, joined to each response time by an ASOF join on the positions. Greenwood's
-- sum of d / (n (n - d)) telescopes the same way, to 1/(N - pos) - 1/N minus the
-- censorings' terms; it is null where S reaches 0. Probes censored at the longest duration
-- come last in every group and are only counted in N (and are not in km_sample).
--
-- Input: the macros km_grouped and km_sizes (km_grouped.sql). Parameter: $grouping (VARCHAR,
-- the grouping's name). Output: group_id, time_hours, at_risk, responses, survival, drop,
-- greenwood.
WITH ties AS (
    SELECT id, t, observed, rank() OVER w AS first, row_number() OVER w AS pos
    FROM km_grouped($grouping)
    WINDOW w AS (PARTITION BY id ORDER BY t, observed DESC)
    QUALIFY lead(t) OVER w IS DISTINCT FROM t
         OR lead(observed) OVER w IS DISTINCT FROM observed
),
censorings AS (
    SELECT id, pos,
           sum(ln((n - pos) / (n - first + 1))) OVER c AS log_g,
           sum(1 / (n - pos) - 1 / (n - first + 1)) OVER c AS greenwood_g
    FROM ties
    JOIN km_sizes($grouping) USING (id)
    WHERE NOT observed AND pos < n
    WINDOW c AS (PARTITION BY id ORDER BY t ROWS UNBOUNDED PRECEDING)
)
SELECT r.id AS group_id,
       r.t AS time_hours,
       (g.n - r.first + 1)::BIGINT AS at_risk,
       (r.pos - r.first + 1)::BIGINT AS responses,
       (g.n - r.pos) / g.n / exp(coalesce(c.log_g, 0)) AS survival,
       (r.pos - r.first + 1) / g.n / exp(coalesce(c.log_g, 0)) AS drop,
       CASE WHEN r.pos < g.n
            THEN 1 / (g.n - r.pos) - 1 / g.n - coalesce(c.greenwood_g, 0) END AS greenwood
FROM (SELECT * FROM ties WHERE observed) AS r
JOIN km_sizes($grouping) AS g ON g.id = r.id
ASOF LEFT JOIN censorings AS c ON c.id = r.id AND r.first > c.pos
