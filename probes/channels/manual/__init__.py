"""probes/channels/manual."""
