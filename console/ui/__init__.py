"""The Textual room: the app shell, its screens and controllers, and the view models."""
