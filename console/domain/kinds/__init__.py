"""The built-in action kinds, one module each; importing this package registers them in the
order the footer shows them."""

from console.domain.kinds import (  # noqa: F401
    delete_pod,
    pause_resume,
    restart,
    rollout_abort,
    rollout_pause,
    rollout_promote,
    rollout_promote_full,
    rollout_resume,
    rollout_retry,
    rollout_undo,
    scale,
    undo,
    verify,
)
