"""probes/channels/email."""
