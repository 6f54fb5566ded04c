"""Benchmarks: they print numbers and write them to benchmarks/RESULTS.md (not timed tests)."""
