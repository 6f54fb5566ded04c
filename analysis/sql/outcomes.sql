-- analysis/sql/outcomes.sql
-- One row per probe sent by the as-of time: its first response from the brand within the
-- observation window or, when it has none, the instant its observation was censored at.
--
-- A probe's first response is its earliest response (study/journal/sql/responses.sql: a
-- public reply, direct message or redirect by an official account of the probe's brand,
-- never a stranger, within the probe's observation), ties going to the kind first by name. An
-- auto_ack is not a response: the first one from an official account is kept as
-- auto_ack_at. first_answer_at is the first substantive answer: a public reply or direct
-- message (neither a redirect nor an auto-acknowledgement); answer_hours and answer_observed
-- are its duration and event, censored like the response. still_open: no response yet and
-- censored before its window ended (the as-of time or its channel's last read came first):
-- the response rate counts it as unanswered so far, the Kaplan-Meier shares only for as
-- long as it was watched.
-- A probe is observed until min(sent_at + window, as_of, the last completed read
-- of its inbox: its persona's, else its channel's): a reply after that is ignored and the
-- probe is censored there (one read by another persona's inbox included). The
-- channel's own read matters in a study of several channels: one whose inbox could not be
-- read for a while (or, by hand, whose worksheet came in earlier) is not taken as watched
-- until as_of; a probe sent after its channel's last read is censored at once. A channel
-- without any recorded read (imported studies) is observed until as_of. A reply time-stamped
-- before its probe (clock skew) counts as an immediate response. Probes sent after as_of are
-- left out. (study/journal/sql/journal_sent.sql observes the journal's probes the same way in
-- SQLite, for status and the run log.)
--
-- Input: tables probes and replies with UTC TIMESTAMP columns and observations(channel,
-- observed_until), channel naming the inbox (analysis.outcomes loads them).
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
    -- inbox reads are keyed by the sending persona (a channel's name for its one account)
    LEFT JOIN observations AS o ON o.channel = coalesce(p.persona, p.channel)
    WHERE p.sent_at IS NOT NULL AND p.sent_at <= $as_of
),
-- include: responses
,
firsts AS (
    SELECT probe_id,
           min(responded_at) FILTER (WHERE response) AS first_response_at,
           -- ties at the same instant go to the alphabetically first kind, for determinism
           arg_min(kind, {'at': responded_at, 'kind': kind}) FILTER (WHERE response)
               AS first_response_kind,
           min(responded_at) FILTER (WHERE substantive) AS first_answer_at,
           min(responded_at) FILTER (WHERE kind = 'auto_ack') AS auto_ack_at
    FROM matched
    WHERE official AND in_window
    GROUP BY probe_id
)
SELECT s.probe_id, s.brand, s.country, s.channel, s.handle, s.scope, s.script, s.slot,
       s.round, s.sent_at, f.first_response_at, f.first_response_kind, f.auto_ack_at,
       (epoch_us(coalesce(f.first_response_at, s.observed_until)) - epoch_us(s.sent_at))
           / 3600e6 AS duration_hours,
       f.first_response_at IS NOT NULL AS observed,
       CASE WHEN f.first_response_at IS NULL THEN s.observed_until END AS censored_at,
       f.first_answer_at,
       (epoch_us(coalesce(f.first_answer_at, s.observed_until)) - epoch_us(s.sent_at))
           / 3600e6 AS answer_hours,
       f.first_answer_at IS NOT NULL AS answer_observed,
       f.first_response_at IS NULL
           AND s.observed_until < s.sent_at + to_microseconds($window_us) AS still_open
FROM sent AS s
LEFT JOIN firsts AS f ON f.probe_id = s.probe_id;
