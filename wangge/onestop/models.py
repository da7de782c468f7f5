"""Models of onestop."""
