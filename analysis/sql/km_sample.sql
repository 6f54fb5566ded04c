-- analysis/sql/km_sample.sql
-- What the Kaplan-Meier curves of every grouping are computed from: one row per probe that
-- was answered or censored before the longest duration of all (probes still open at the
-- as-of time), with its duration t to the first response, whether it was answered, and the
-- group_id of its group in each of the seven groupings (the macro km_timed, group_counts.sql).
-- The probes censored at the longest duration (not answered when their window closed) come
-- last in every group's order, so they are only counted in the group's size
-- (group_counts.probes), never sorted.
-- Input: the macro km_timed (group_counts.sql).
-- Parameter: $longest (DOUBLE, the longest duration of all; null when there are no probes).
CREATE OR REPLACE TEMP TABLE km_sample AS
SELECT * FROM km_timed(false, $longest);
