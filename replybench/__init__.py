"""The command line: the one place that wires `study`, `probes`, `analysis` and `reports`."""
