"""The runbook room: schema, loading, templates, the engine and the incident session."""
