-- study/journal/sql/journal_replies.sql
-- Every reply of the journal matched to a sent probe, with the probe's brand, handle and
-- text, whether an official account of the brand wrote it (official) and whether it is the
-- probe's first response, the one the analysis times (first_response; see
-- study/journal/sql/responses.sql for both). For the replies export and the rating sheets.
WITH
-- include: journal_sent
,
-- include: responses
,
ranked AS (
    SELECT channel, reply_id, row_number() OVER (
        PARTITION BY probe_id ORDER BY responded_at, kind, reply_id) AS k
    FROM responses
)
SELECT m.channel, m.reply_id, m.probe_id, p.brand, p.handle, p.text AS inquiry_text,
       m.author, m.author_id, m.text AS reply_text, m.kind, m.official,
       coalesce(f.k = 1, 0) AS first_response
FROM matched AS m
JOIN probes AS p ON p.probe_id = m.probe_id
LEFT JOIN ranked AS f ON f.channel = m.channel AND f.reply_id = m.reply_id
ORDER BY m.created_at, m.channel, m.reply_id;
