-- study/journal/sql/journal_sent.sql
-- The journal's sent probes (SQLite), each with the instant it is observed until: the
-- earliest of the end of its window (closes_at), the as-of time (the journal's
-- last_observation: the end of the last completed inbox read of any channel) and the last
-- read of its own inbox (cursors, by persona: a channel's name for its one account), and
-- never before it was sent. The analysis
-- does the same in DuckDB (analysis/sql/outcomes.sql, whose as-of time may be earlier).
-- Probes sent after the as-of time are left out. Times are ISO 8601 UTC text
-- (study.timeutil.iso), so they compare as text.
-- A CTE for a WITH list (`-- include: journal_sent`), before study/journal/sql/responses.sql.
sent AS (
    SELECT p.probe_id, p.brand, p.channel, p.handle, p.sent_at,
           max(p.sent_at, min(p.closes_at, m.as_of, coalesce(c.polled_at, m.as_of)))
               AS observed_until
    FROM probes AS p
    CROSS JOIN (
        SELECT coalesce(max(value), '9999') AS as_of FROM meta WHERE key = 'last_observation'
    ) AS m
    LEFT JOIN cursors AS c ON c.channel = coalesce(p.persona, p.channel)
    WHERE p.sent_at IS NOT NULL AND p.sent_at <= m.as_of
)
