-- analysis/sql/outcomes.sql
-- One row per probe sent by the as-of time: its first response from the brand within the
-- observation window or, when it has none, the instant its observation was censored at.
--
-- A probe's first response is its earliest matched reply of kind public_reply,
-- direct_message or redirect whose author is an official account of the probe's brand: any
-- handle of any probe of that brand in the journal, compared case-insensitively and without
-- a leading '@' (so the global account answering a local probe counts; a stranger never
-- does). On private channels (email, manual) only the recipient can answer a probe, so any
-- reply matched to it is the brand's, whatever its address (help desks answer from their
-- own). An auto_ack is not a response: the first one from an official account is kept as
-- auto_ack_at. A probe is observed until min(sent_at + window, as_of, the last completed read
-- of its channel's inbox): a reply after that is ignored and the probe is censored there. The
-- channel's own read matters in a study of several channels: one whose inbox could not be
-- read for a while (or, by hand, whose worksheet came in earlier) is not taken as watched
-- until as_of; a probe sent after its channel's last read is censored at once. A channel
-- without any recorded read (imported studies) is observed until as_of. A reply time-stamped
-- before its probe (clock skew) counts as an immediate response. Probes sent after as_of are
-- left out.
--
-- Input: tables probes and replies with UTC TIMESTAMP columns and observations(channel,
-- observed_until) (analysis.outcomes loads them).
-- The table is left unordered (sorting 10 million wide rows costs more than the rest);
-- outcomes_frame.sql orders it for reading.
-- Parameters: $as_of (TIMESTAMP, UTC), $window_us (BIGINT, the window in microseconds).
CREATE OR REPLACE TEMP TABLE outcomes AS
WITH sent AS (
    SELECT p.probe_id, p.brand, p.country, p.channel, p.handle, p.scope, p.script, p.slot,
           p.round, p.sent_at,
           greatest(p.sent_at, least(p.sent_at + to_microseconds($window_us), $as_of,
                                     coalesce(o.observed_until, $as_of))) AS observed_until
    FROM probes AS p
    LEFT JOIN observations AS o ON o.channel = p.channel
    WHERE p.sent_at IS NOT NULL AND p.sent_at <= $as_of
),
official AS (
    SELECT DISTINCT brand, lower(ltrim(handle, '@')) AS account
    FROM probes
    WHERE handle <> ''
),
answers AS (
    SELECT r.probe_id, r.kind, greatest(r.created_at, s.sent_at) AS replied_at
    FROM replies AS r
    JOIN sent AS s ON s.probe_id = r.probe_id
    LEFT JOIN official AS o ON o.brand = s.brand AND o.account = lower(ltrim(r.author, '@'))
    WHERE r.created_at <= s.observed_until
      AND (o.account IS NOT NULL OR s.channel IN ('email', 'manual'))
      AND r.kind IN ('public_reply', 'direct_message', 'redirect', 'auto_ack')
),
firsts AS (
    SELECT probe_id,
           min(replied_at) FILTER (WHERE kind <> 'auto_ack') AS first_response_at,
           -- ties at the same instant go to the alphabetically first kind, for determinism
           arg_min(kind, {'at': replied_at, 'kind': kind}) FILTER (WHERE kind <> 'auto_ack')
               AS first_response_kind,
           min(replied_at) FILTER (WHERE kind = 'auto_ack') AS auto_ack_at
    FROM answers
    GROUP BY probe_id
)
SELECT s.probe_id, s.brand, s.country, s.channel, s.handle, s.scope, s.script, s.slot,
       s.round, s.sent_at, f.first_response_at, f.first_response_kind, f.auto_ack_at,
       (epoch_us(coalesce(f.first_response_at, s.observed_until)) - epoch_us(s.sent_at))
           / 3600e6 AS duration_hours,
       f.first_response_at IS NOT NULL AS observed,
       CASE WHEN f.first_response_at IS NULL THEN s.observed_until END AS censored_at
FROM sent AS s
LEFT JOIN firsts AS f ON f.probe_id = s.probe_id;
