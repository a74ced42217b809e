"""Cluster action steps: the runbook step types that run a registered action kind.

The set of them comes from the action registry (console/domain/action_kinds.py): every kind
with a ``step_type`` gets a step model and a compensation model (the ``undo:`` of another
step), built here from the fields that step type takes in a runbook (``STEP_FIELDS``: the
target deployment and the parameters, with ``{variable}`` templates). ``action_request`` is the
one mapping from a step (or compensation) to the ``ActionRequest`` it runs. Kinds registered
after this module is imported (tests) do not become step types.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal, Union

from pydantic import Field, ValidationInfo, field_validator, model_validator

from adapters.kube_views import DeploymentView
from console.domain import action_kinds
from console.domain.actions import ActionRequest
from console.runbook.errors import BindError, Problem
from console.runbook.field_types import MAX_REPLICAS, Text, int_ref, k8s_name
from console.runbook.schema_checks import StrictModel, TaggedModel, Verification
from console.runbook.schema_steps import BaseStep, ManualAction, ShellAction

# -- the fields of each action: target deployment and parameters ------------------------------


class DeploymentTarget(StrictModel):
    deployment: Text = "{deployment}"
    namespace: Text = "{namespace}"

    @model_validator(mode="before")
    @classmethod
    def _explicit_defaults(cls, data: object) -> object:
        # Templates in defaults must survive model_dump(exclude_unset=True) to get bound.
        if isinstance(data, dict) and not {"deployment", "namespace"} <= data.keys():
            return {"deployment": "{deployment}", "namespace": "{namespace}", **data}
        return data

    @field_validator("deployment")
    @classmethod
    def _deployment(cls, value: str, info: ValidationInfo) -> str:
        return k8s_name(value, info)

    @field_validator("namespace")
    @classmethod
    def _namespace(cls, value: str, info: ValidationInfo) -> str:
        return k8s_name(value, info, namespace=True)

    @property
    def target(self) -> str:
        return f"{self.namespace}/{self.deployment}"


class ScaleFields(DeploymentTarget):
    replicas: Annotated[int | str, int_ref(0, MAX_REPLICAS)] | None = None
    by: Annotated[int | str, int_ref(-MAX_REPLICAS, MAX_REPLICAS, nonzero=True)] | None = None

    @model_validator(mode="after")
    def _one_of(self) -> ScaleFields:
        if (self.replicas is None) == (self.by is None):
            raise ValueError("give either replicas: (a count) or by: (a change, like 2 or -1)")
        return self

    def target_replicas(self, current: int) -> int:
        """The replica count to set, given the current one (``by`` never goes below 0)."""
        if isinstance(self.replicas, int):
            return self.replicas
        if isinstance(self.by, int):
            return max(0, current + self.by)
        raise BindError([Problem("<runbook>", None, "scale step is not bound yet")])

    def action_params(self, view: DeploymentView) -> dict[str, Any]:
        return {"replicas": self.target_replicas(view.desired)}

    def describe(self) -> str:
        change = f"to {self.replicas}" if self.replicas is not None else (
            f"by {self.by:+d}" if isinstance(self.by, int) else f"by {self.by}")
        return f"scale {self.target} {change}"


class ResumeFirst(DeploymentTarget):
    """``resume_first: true``: when the deployment is paused (kubectl refuses to restart or
    roll back a paused one), resume it and then act, as one audited sequence."""

    resume_first: bool = False

    def first(self, view: DeploymentView) -> dict[str, Any]:
        return {"first": "resume"} if self.resume_first and view.paused else {}


class RestartFields(ResumeFirst):
    def action_params(self, view: DeploymentView) -> dict[str, Any]:
        return self.first(view)

    def describe(self) -> str:
        return f"restart {self.target}"


class UndoFields(ResumeFirst):
    to_revision: Annotated[int | str, int_ref(1, 2**31 - 1)] | None = None

    def action_params(self, view: DeploymentView) -> dict[str, Any]:
        return {"to_revision": self.to_revision, **self.first(view)}

    def describe(self) -> str:
        to = f" to revision {self.to_revision}" if self.to_revision is not None else ""
        return f"roll back {self.target}{to}"


class PauseFields(DeploymentTarget):
    def action_params(self, view: DeploymentView) -> dict[str, Any]:
        return {}

    def describe(self) -> str:
        return f"pause the rollout of {self.target}"


class ResumeFields(DeploymentTarget):
    def action_params(self, view: DeploymentView) -> dict[str, Any]:
        return {}

    def describe(self) -> str:
        return f"resume the rollout of {self.target}"


# the fields each step type takes in a runbook; the registry says which kind each one runs
STEP_FIELDS: dict[str, type[DeploymentTarget]] = {
    "scale": ScaleFields, "restart": RestartFields, "undo": UndoFields,
    "pause": PauseFields, "resume": ResumeFields}


def _step_types() -> tuple[str, ...]:
    types = tuple(action_kinds.step_types())
    missing = set(types) - set(STEP_FIELDS)
    if missing:
        raise RuntimeError(f"action kinds with runbook step types but no step fields: {missing}")
    return types


def _model(step_type: str, base: type, suffix: str, **fields: Any) -> Any:
    """A model of ``step_type`` on ``base`` with its ``STEP_FIELDS``; ``fields`` are extra
    annotated fields as (type, default) pairs."""
    params = STEP_FIELDS[step_type]
    annotations = {"type": Literal[step_type], **{k: t for k, (t, _) in fields.items()}}
    return type(f"{params.__name__.removesuffix('Fields')}{suffix}", (base, params), {
        "__module__": __name__, "describe": params.describe, "__annotations__": annotations,
        **{k: default for k, (_, default) in fields.items()}})


ACTION_TYPES = _step_types()  # the step types that run an ActionRequest

# -- compensations: the ``undo:`` of an action step -------------------------------------------
COMPENSATION_MODELS = {t: _model(t, TaggedModel, "Action", title=(Text | None, None))
                       for t in ACTION_TYPES}
ActionCompensation: Any = Union[tuple(COMPENSATION_MODELS.values())]  # noqa: UP007
Compensation = Annotated[
    Union[ActionCompensation, ShellAction, ManualAction],  # noqa: UP007
    Field(discriminator="type")]

# -- steps -----------------------------------------------------------------------------------


class ActionStepBase(BaseStep):
    """A step that changes things: it may be verified afterwards and have a compensation."""

    MUTATING: ClassVar[bool] = True

    verify: Verification | None = None
    undo: Compensation | None = None


STEP_MODELS = {t: _model(t, ActionStepBase, "Step") for t in ACTION_TYPES}
ActionStep: Any = Union[tuple(STEP_MODELS.values())]  # noqa: UP007
ClusterAction: Any = Union[ActionStep, ActionCompensation]  # noqa: UP007

# the built-in ones by name, for code and tests that ask for one in particular
ScaleStep, RestartStep, UndoStep, PauseStep, ResumeStep = (
    STEP_MODELS[t] for t in ("scale", "restart", "undo", "pause", "resume"))
ScaleAction, RestartAction, UndoAction, PauseAction, ResumeAction = (
    COMPENSATION_MODELS[t] for t in ("scale", "restart", "undo", "pause", "resume"))


def action_request(action: Any, view: DeploymentView, context: str) -> ActionRequest:
    """The ``ActionRequest`` a step or compensation of an action step type runs, given the
    deployment as it is now (``by:`` scales from its replicas; its generation guards the
    request against a change made in between)."""
    kind = action_kinds.step_types()[action.type]
    return ActionRequest(kind=kind.name, context=context, namespace=action.namespace,
                         target=action.deployment, params=action.action_params(view),
                         seen_generation=view.generation)
