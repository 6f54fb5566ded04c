-- analysis/sql/answer_sample.sql
-- km_sample (km_sample.sql) again, for the time to the first substantive answer (a public
-- reply or DM, neither a redirect nor an auto-acknowledgement; outcomes.sql): each probe's
-- answer_hours and answer_observed, with its groups. Run after the curves of the first
-- response are summed up; km_grouped.sql then binds its macros to this sample.
-- Input: the macro km_timed (group_counts.sql).
-- Parameter: $longest (DOUBLE, the longest answer_hours of all; null when there are none).
CREATE OR REPLACE TEMP TABLE km_sample AS
SELECT * FROM km_timed(true, $longest);
