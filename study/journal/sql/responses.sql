-- study/journal/sql/responses.sql
-- What counts as a brand's response to a probe: the one definition behind every "answered"
-- (status, the run log, exports, rating sheets, the analysis and the site). SQLite runs it
-- on the journal (study/journal/sql/journal_sent.sql before it), DuckDB in the analysis
-- (analysis/sql/outcomes.sql), so it keeps to SQL both speak.
--
-- official: the accounts that speak for a brand (study/journal/sql/official.sql: the
-- handles of its probes and targets.csv's `answers_from`). On private channels (email,
-- manual) only the recipient can answer a probe, so any reply matched to it is the brand's,
-- whatever its address (help desks answer from their own).
-- matched: every reply matched to a sent probe, with
--   official     written by an official account of the probe's brand (never a stranger);
--   in_window    created by the probe's observed_until (the end of its window, the as-of
--                time, or its channel's last inbox read, whichever came first);
--   response     a public reply, direct message or redirect (an auto_ack is not one);
--   substantive  a public reply or direct message (neither a redirect nor an auto_ack);
--   responded_at created_at, or sent_at for a reply time-stamped before its probe (clock
--                skew: an immediate response).
-- responses: the replies that answer their probe: official, in_window and response. A
-- probe's first response is the earliest by responded_at, ties going to the kind first by
-- name (then reply_id, where there is one).
--
-- Input: relations sent(probe_id, brand, channel, sent_at, observed_until), replies
-- (probe_id, author, kind, created_at, ...), probes(brand, handle) and answers_from(brand,
-- account) (the journal's table of targets.csv's `answers_from`). Included in a WITH
-- list (`-- include: responses`), after `sent`.
-- include: official
,
matched AS (
    SELECT r.*,
           (o.account IS NOT NULL OR s.channel IN ('email', 'manual')) AS official,
           r.created_at <= s.observed_until AS in_window,
           r.kind IN ('public_reply', 'direct_message', 'redirect') AS response,
           r.kind IN ('public_reply', 'direct_message') AS substantive,
           CASE WHEN r.created_at < s.sent_at THEN s.sent_at ELSE r.created_at END
               AS responded_at
    FROM replies AS r
    JOIN sent AS s ON s.probe_id = r.probe_id
    LEFT JOIN official AS o ON o.brand = s.brand AND o.account = lower(ltrim(r.author, '@'))
),
responses AS (
    SELECT * FROM matched WHERE official AND in_window AND response
)
