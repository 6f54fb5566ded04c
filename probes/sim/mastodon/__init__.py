"""probes/sim/mastodon."""
