-- analysis/sql/outcomes_frame.sql
-- The outcomes table for reading: every column, in sending order.
-- Input: table outcomes.
SELECT * FROM outcomes ORDER BY sent_at, probe_id;
