"""The configuration file (TOML) and where each setting comes from: flag > environment >
file (the context's table, then the global keys) > built-in default. No Textual."""
