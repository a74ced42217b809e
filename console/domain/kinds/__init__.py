"""The built-in action kinds, one module each; importing this package registers them in the
order the footer shows them."""

# Argo Rollouts (target "rollout"): the kubectl-argo-rollouts plugin's commands
from console.domain.kinds import (  # noqa: F401  # noqa: F401, E402
    delete_pod,
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
