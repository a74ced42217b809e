"""The rehearsal room: drill mode, scoring, post-mortems and replay."""
