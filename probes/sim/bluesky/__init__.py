"""probes/sim/bluesky."""
