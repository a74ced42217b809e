"""The built-in action kinds, one module each; importing this package registers them in the
order the footer shows them."""

from console.domain.kinds import delete_pod, restart, scale, undo, verify  # noqa: F401
