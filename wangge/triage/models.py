"""Models of triage."""
