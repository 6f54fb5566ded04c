-- analysis/sql/publish_exchanges.sql
-- A few example exchanges per brand for its published page: for each kind of first
-- response (public_reply, direct_message, redirect) and for automatic acknowledgements,
-- the probe whose time to that reply is closest to the brand's median for the kind (ties:
-- the smaller probe_id), with the inquiry's text and the reply's.
--
-- The reply shown is the earliest reply of that kind to the probe from an official
-- account of the brand (study/journal/sql/official.sql: any handle of the brand in the
-- journal or in its `answers_from`, compared without case and '@'; on e-mail and manual any
-- reply matched to the probe, as in outcomes.sql):
-- exactly the reply outcomes.sql took as the first response (or the first auto_ack). Its
-- author is shown, so a page says which account answered. Times in created_at are ISO 8601
-- UTC text, which sorts as time.
-- Input: tables outcomes, probes and answers_from (analysis.outcomes), probe_texts(probe_id,
-- text) and reply_texts(probe_id, reply_id, author, kind, created_at, text) from the journal.
WITH
-- include: official
,
answers AS (
    SELECT probe_id, brand, country, channel, handle, scope, slot, sent_at,
           first_response_kind AS kind, first_response_at AS replied_at
    FROM outcomes
    WHERE observed
    UNION ALL
    SELECT probe_id, brand, country, channel, handle, scope, slot, sent_at,
           'auto_ack', auto_ack_at
    FROM outcomes
    WHERE auto_ack_at IS NOT NULL
),
timed AS (
    SELECT *, (epoch_us(replied_at) - epoch_us(sent_at)) / 3600e6 AS hours
    FROM answers
),
centred AS (
    SELECT *, abs(hours - quantile_disc(hours, 0.5) OVER (PARTITION BY brand, kind)) AS off
    FROM timed
),
picked AS (
    SELECT *
    FROM centred
    QUALIFY row_number() OVER (PARTITION BY brand, kind ORDER BY off, probe_id) = 1
),
first_replies AS (
    SELECT r.probe_id, r.kind,
           arg_min(r.author, (r.created_at, r.reply_id)) AS author,
           arg_min(r.text, (r.created_at, r.reply_id)) AS reply_text
    FROM reply_texts AS r
    JOIN picked AS p ON p.probe_id = r.probe_id AND p.kind = r.kind
    LEFT JOIN official AS o
        ON o.brand = p.brand AND o.account = lower(ltrim(r.author, '@'))
    -- as in responses.sql: on private channels any reply matched to the probe is the brand's
    WHERE o.account IS NOT NULL OR p.channel IN ('email', 'manual')
    GROUP BY r.probe_id, r.kind
)
SELECT p.brand, p.kind, p.probe_id, p.country, p.channel, p.handle, p.scope, p.slot,
       p.sent_at, p.replied_at, p.hours, coalesce(t.text, '') AS inquiry_text,
       coalesce(f.author, '') AS author, coalesce(f.reply_text, '') AS reply_text
FROM picked AS p
LEFT JOIN probe_texts AS t ON t.probe_id = p.probe_id
LEFT JOIN first_replies AS f ON f.probe_id = p.probe_id AND f.kind = p.kind
ORDER BY p.brand,
         list_position(['public_reply', 'direct_message', 'redirect', 'auto_ack'], p.kind);
