"""Models of parking."""
