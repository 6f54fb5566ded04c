-- analysis/sql/publish_labels.sql
-- The slots and scripts a journal's probes name, with how many probes each, for the design
-- section of a study that has no study.toml (an imported CSV or a TWCS corpus).
-- Input: table probes (analysis.outcomes).
SELECT 'slot' AS label, slot AS name, count(*) AS probes
FROM probes
GROUP BY slot
UNION ALL
SELECT 'script', script, count(*)
FROM probes
GROUP BY script
ORDER BY label, name;
