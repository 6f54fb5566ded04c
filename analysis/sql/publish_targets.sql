-- analysis/sql/publish_targets.sql
-- The targets a journal shows when the study has no study.toml (an imported CSV or a
-- TWCS corpus): each distinct brand, country, channel, handle and scope among its probes,
-- sent or not, with how many probes each got planned.
-- Input: table probes (analysis.outcomes).
SELECT brand, country, channel, handle, scope, count(*) AS probes
FROM probes
GROUP BY ALL
ORDER BY brand, country, channel, handle, scope;
