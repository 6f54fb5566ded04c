"""probes/sim/x."""
