"""Models of demands."""
