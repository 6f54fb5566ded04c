"""probes/channels/mastodon."""
