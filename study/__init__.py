"""The vocabulary of a replybench study: studies, targets, scripts, slots, probes, errors.

This package imports only the standard library (and tzdata): every other package speaks it.
"""
