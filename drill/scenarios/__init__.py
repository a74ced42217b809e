"""drill/scenarios."""
