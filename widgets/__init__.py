"""widgets: the war room's views.

They receive immutable rows (``widgets.rows``) and post intent messages upward; they never
import adapters/ or console/ and do no I/O. Looks live in themes/; the layout the console
composes is described in ``widgets/layout_hint.md``.
"""
