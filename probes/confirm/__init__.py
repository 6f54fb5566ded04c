"""A person in the loop: each due inquiry sent only when a person confirms it."""
