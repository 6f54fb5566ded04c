-- analysis/sql/study_counts.sql
-- How many probes the journal plans and what became of them by the as-of time.
--
-- sent: sent_at is set and not after as_of (these, and only these, enter the statistics);
-- missed and failed: the probe's state, when it was not sent; planned: all the others (not
-- yet sent, being sent, or sent after as_of), so planned + sent + missed + failed = probes.
-- Parameters: $as_of (TIMESTAMP, UTC).
WITH p AS (
    SELECT state, sent_at IS NOT NULL AND sent_at <= $as_of AS is_sent, sent_at
    FROM probes
)
SELECT count(*) AS probes,
       count(*) FILTER (WHERE NOT is_sent AND state NOT IN ('missed', 'failed')) AS planned,
       count(*) FILTER (WHERE is_sent) AS sent,
       count(*) FILTER (WHERE NOT is_sent AND state = 'missed') AS missed,
       count(*) FILTER (WHERE NOT is_sent AND state = 'failed') AS failed,
       min(sent_at) FILTER (WHERE is_sent) AS first_sent_at,
       max(sent_at) FILTER (WHERE is_sent) AS last_sent_at
FROM p;
