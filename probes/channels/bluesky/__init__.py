"""probes/channels/bluesky."""
