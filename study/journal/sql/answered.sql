-- study/journal/sql/answered.sql
-- How many probes of the journal have a response (study/journal/sql/responses.sql): the
-- "answered" of status and the run log, the same probes the analysis counts as observed.
WITH
-- include: journal_sent
,
-- include: responses
SELECT count(DISTINCT probe_id) FROM responses;
