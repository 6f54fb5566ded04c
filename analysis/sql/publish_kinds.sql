-- analysis/sql/publish_kinds.sql
-- What kind of first response each brand gave, and the field's: probes, responses by kind
-- (public_reply, direct_message, redirect: a "please DM us" reply), auto_acks (probes that
-- got an automatic acknowledgement, which is not a response) and auto_ack_only (of those,
-- the probes that got nothing else within the window). The field's row has brand NULL.
-- Input: table outcomes.
SELECT brand,
       count(*) AS probes,
       count(*) FILTER (WHERE observed) AS responses,
       count(*) FILTER (WHERE first_response_kind = 'public_reply') AS public_reply,
       count(*) FILTER (WHERE first_response_kind = 'direct_message') AS direct_message,
       count(*) FILTER (WHERE first_response_kind = 'redirect') AS redirect,
       count(auto_ack_at) AS auto_acks,
       count(auto_ack_at) FILTER (WHERE NOT observed) AS auto_ack_only
FROM outcomes
GROUP BY GROUPING SETS ((brand), ())
ORDER BY brand NULLS FIRST;
