"""Analysis of a study's journal in DuckDB: outcomes, censored response statistics, exports."""
