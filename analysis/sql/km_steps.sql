-- analysis/sql/km_steps.sql
-- The Kaplan-Meier curve of time to first response in every group of one grouping: one row
-- per distinct response time with the probes at risk, the responses, the survival S(t) (the
-- share of probes still unanswered just after t), its drop at t and Greenwood's sum.
--
-- Exact, with one sort per grouping however many probes there are (km_steps_cells.sql
-- computes the same rows from aggregated cells, for durations that tie a lot). Order a
-- group's N probes by duration, responses before censorings at the same time (lifelines'
-- convention for ties); rows of equal (duration, observed) form a tie at positions first..pos. The per-row
-- factors (1 - 1/r), with r = N - position + 1 the rows not yet passed, multiply over all
-- rows up to pos to (N - pos) / N = S(t) G(t), where G is the Kaplan-Meier curve of the
-- censorings (the identity behind Satten & Datta 2001, Am. Stat. 55:207). So S at a response
-- time t is (N - pos) / (N G(t-)), and G only moves at censorings before the longest
-- duration (probes still open at as_of): its running product is a window over those rows
-- alone, joined to each response time by an ASOF join. Greenwood's sum of d / (n (n - d))
-- telescopes the same way, to 1/(N - pos) - 1/N minus the censorings' terms; it is null
-- where S reaches 0. Probes censored at the longest duration come last in every group and
-- are only counted in N.
--
-- A group is named by its `key`: its key columns' values joined by chr(31), as
-- concat_ws(chr(31), brand, country, channel, slot, scope) joins those that are not null
-- ('' for overall). One key column instead of five nullable ones halves the sort's cost.
-- Input: tables outcomes and group_counts (for N). Parameters: $grouping (VARCHAR, the name written in each row) and
-- $by_brand, $by_country, $by_channel, $by_slot, $by_scope (BOOLEAN: its key columns; at
-- most brand and country together).
WITH sample AS (
    SELECT CASE WHEN $by_brand AND $by_country THEN brand || chr(31) || country
                WHEN $by_brand THEN brand
                WHEN $by_country THEN country
                WHEN $by_channel THEN channel
                WHEN $by_slot THEN slot
                WHEN $by_scope THEN scope
                ELSE '' END AS key,
           duration_hours AS t, observed
    FROM outcomes
),
ties AS (
    SELECT key, t, observed, rank() OVER w AS first, count(*) OVER w AS pos
    FROM sample
    WHERE observed OR t < (SELECT max(duration_hours) FROM outcomes)
    WINDOW w AS (PARTITION BY key ORDER BY t, observed DESC)
    QUALIFY row_number() OVER w = count(*) OVER w
),
sized AS (
    SELECT ties.*, g.probes AS n
    FROM ties
    JOIN group_counts AS g ON g.grouping = $grouping AND g.key = ties.key
),
censorings AS (
    SELECT key, t,
           sum(ln((n - pos) / (n - first + 1))) OVER c AS log_g,
           sum(1 / (n - pos) - 1 / (n - first + 1)) OVER c AS greenwood_g
    FROM sized
    WHERE NOT observed AND pos < n
    WINDOW c AS (PARTITION BY key ORDER BY t)
),
responses AS (
    SELECT * FROM sized WHERE observed
)
SELECT $grouping AS grouping, r.key,
       r.t AS time_hours,
       r.n - r.first + 1 AS at_risk,
       r.pos - r.first + 1 AS responses,
       (r.n - r.pos) / r.n / exp(coalesce(c.log_g, 0)) AS survival,
       (r.pos - r.first + 1) / r.n / exp(coalesce(c.log_g, 0)) AS drop,
       CASE WHEN r.pos < r.n
            THEN 1 / (r.n - r.pos) - 1 / r.n - coalesce(c.greenwood_g, 0) END AS greenwood
FROM responses AS r
ASOF LEFT JOIN censorings AS c ON c.key = r.key AND r.t > c.t
