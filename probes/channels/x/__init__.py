"""probes/channels/x."""
