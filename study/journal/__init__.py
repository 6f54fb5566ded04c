"""study/journal."""
