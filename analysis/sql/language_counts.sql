-- analysis/sql/language_counts.sql
-- Answers in the inquiry's language, as group counts that group_metrics.sql turns into a
-- share with its Wilson 95% interval (its response_rate columns): per brand, per country
-- and per brand and country, `probes` = first responses whose language was determined,
-- `answered` = those in the inquiry's language. Undetermined ones ('und') are left out of
-- the share (and counted apart by the caller). km_summary is left empty: no curve here.
-- The columns are group_counts.sql's (tests/reports/test_answer_language.py notices a change).
-- Input: table answer_languages(probe_id, brand, country, expected, language).
CREATE OR REPLACE TEMP TABLE group_counts AS
SELECT (row_number() OVER (ORDER BY grouping, brand, country))::INTEGER AS group_id, *
FROM (
    SELECT CASE grouping(brand, country)
               WHEN 1 THEN 'brand' WHEN 2 THEN 'country' WHEN 0 THEN 'brand_country'
           END AS grouping,
           brand, country,
           NULL::VARCHAR AS channel, NULL::VARCHAR AS slot, NULL::VARCHAR AS scope,
           count(*) FILTER (WHERE language <> 'und')::BIGINT AS probes,
           count(*) FILTER (WHERE language = expected)::BIGINT AS answered,
           0::BIGINT AS auto_acks, 0::BIGINT AS open
    FROM answer_languages
    GROUP BY GROUPING SETS ((brand), (country), (brand, country))
);
CREATE OR REPLACE TEMP TABLE km_summary (group_id INTEGER, median_hours DOUBLE,
    median_hours_low DOUBLE, median_hours_high DOUBLE, s_1h DOUBLE, s_12h DOUBLE,
    s_24h DOUBLE, s_end DOUBLE, mean_part DOUBLE);
