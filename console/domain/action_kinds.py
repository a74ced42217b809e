"""The registry of action kinds: one `ActionKind` declaration per action the operator can take.

Everything that varies by action is read from here and nowhere else: the key and footer label
(console/ui/main_screen.py), the command palette and help (console/ui/app.py), the RBAC probe
at connect and the pre-check before the confirm modal (console/domain/actions.py), how the
action is described and run and whether the runner follows the rollout afterwards, which
runbook step type runs it (console/runbook/), and how a drill's score counts it
(console/rehearsal/). The declarations themselves live in console/domain/kinds/, one module
per action; `register` adds one (tests add their own the same way).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from console.domain.actions import ActionRequest, ActionTools

Target = Literal["deployment", "pod", "checks", "rollout"]  # rollout: an Argo Rollout
# what the console asks the operator before it can build the request
Asks = Literal["nothing", "replicas", "revision"]


@dataclass(frozen=True)
class Nudge:
    """A second key for an action with a preset parameter (scale +1 / -1)."""

    key: str
    label: str  # in help
    step: int  # times the console's scale step
    title: str  # command palette title
    help: str  # command palette help line


@dataclass(frozen=True)
class ActionKind:
    name: str  # the audit log's `action` field: scale | restart | undo | pause | resume | ...
    key: str  # the key that starts it on the main screen
    label: str  # footer label
    title: str  # command palette title
    help: str  # command palette help line (starts with the key)
    target: Target  # what it acts on (the selected deployment or pod, or the HTTP checks)
    describe: Callable[[ActionRequest], str]  # one line for the modal, status bar and audit
    run: Callable[[ActionTools, ActionRequest], Any]  # does it: returns an ActionResult
    permission: tuple[str, str] | None = None  # verb, resource (`kubectl auth can-i`)
    mutating: bool = True  # changes the cluster: refused in read-only mode, confirmed first
    follows_rollout: bool = False  # the runner follows rollout status after it
    asks: Asks = "nothing"
    confirm: bool = True  # shown in the confirm modal before it runs
    show: bool = True  # shown in the footer (hidden keys still work and are in help)
    nudges: tuple[Nudge, ...] = ()
    step_type: str | None = None  # the runbook step type that runs it, if any
    scoring: str = "other"  # how a drill's score classifies it (console/rehearsal/)
    # the confirm modal's "change" line and warnings, from the request and the view of its
    # target as the operator saw it (a DeploymentView or PodView, or None)
    order: int = 100  # position among the actions (footer, help, palette)
    change: Callable[[ActionRequest, Any], str] | None = None
    warnings: Callable[[ActionRequest, Any], list[str]] = field(default=lambda _r, _v: [])
    # why it cannot run on the deployment as it is now (a DeploymentView read at the pre-check),
    # in kubectl's words ("is already paused"), or None
    precondition: Callable[[ActionRequest, Any], str | None] | None = None
    # kubectl refuses it on a paused deployment: the console offers to resume first, as one
    # audited sequence (`first: resume` in the request's params)
    resume_when_paused: bool = False

    @property
    def action(self) -> str:
        """The Textual action name of the key: `act('scale')`."""
        return f"act({self.name!r})"

    def target_ref(self, target: str) -> str:
        return "http" if self.target == "checks" else f"{self.target}/{target}"


_KINDS: dict[str, ActionKind] = {}


def register(kind: ActionKind) -> ActionKind:
    """Add an action kind (replacing one of the same name)."""
    _load_builtin()
    _KINDS[kind.name] = kind
    return kind


def unregister(name: str) -> None:
    _KINDS.pop(name, None)


def get(name: str) -> ActionKind | None:
    _load_builtin()
    return _KINDS.get(name)


def kinds() -> Iterator[ActionKind]:
    """Every registered kind, by ``order`` (then registration): the footer's order."""
    _load_builtin()
    return iter(sorted(_KINDS.values(), key=lambda kind: kind.order))


def step_types() -> dict[str, ActionKind]:
    """The runbook step types that run an action, by step type."""
    return {k.step_type: k for k in kinds() if k.step_type}


_loaded = False


def _load_builtin() -> None:
    global _loaded
    if not _loaded:
        _loaded = True
        from console.domain import kinds as _builtin  # noqa: F401 - registers on import
