"""The domain room: actions, audit, incident, actor, advisor, settings. No Textual, no widgets."""
