"""Cluster action steps: ``scale``, ``restart`` and ``undo`` of a deployment.

Kept apart from the other step models on purpose: the action step types (scale, restart, undo,
and later delete-pod, ...) are to be derived from the central action registry
(``console.domain.actions``). Everything that knows the set of cluster actions is here:
``ACTION_TYPES``, the step and compensation models, ``ActionStep`` / ``ActionCompensation`` (the
unions) and ``action_request`` (the one mapping from a step to the ``ActionRequest`` it runs).
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from adapters.kube_views import DeploymentView
from console.domain.actions import ActionRequest
from console.runbook.errors import BindError, Problem
from console.runbook.field_types import MAX_REPLICAS, Text, int_ref, k8s_name
from console.runbook.schema_checks import StrictModel, TaggedModel, Verification
from console.runbook.schema_steps import BaseStep, ManualAction, ShellAction

ACTION_TYPES = ("scale", "restart", "undo")  # the step types that run an ActionRequest


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

    def describe(self) -> str:
        change = f"to {self.replicas}" if self.replicas is not None else (
            f"by {self.by:+d}" if isinstance(self.by, int) else f"by {self.by}")
        return f"scale {self.target} {change}"


class RestartFields(DeploymentTarget):
    def describe(self) -> str:
        return f"restart {self.target}"


class UndoFields(DeploymentTarget):
    to_revision: Annotated[int | str, int_ref(1, 2**31 - 1)] | None = None

    def describe(self) -> str:
        to = f" to revision {self.to_revision}" if self.to_revision is not None else ""
        return f"roll back {self.target}{to}"


# -- compensations: the ``undo:`` of an action step -------------------------------------------


class ScaleAction(TaggedModel, ScaleFields):
    type: Literal["scale"]
    title: Text | None = None


class RestartAction(TaggedModel, RestartFields):
    type: Literal["restart"]
    title: Text | None = None


class UndoAction(TaggedModel, UndoFields):
    type: Literal["undo"]
    title: Text | None = None


Compensation = Annotated[
    ScaleAction | RestartAction | UndoAction | ShellAction | ManualAction,
    Field(discriminator="type")]

# -- steps -----------------------------------------------------------------------------------


class ActionStepBase(BaseStep):
    """A step that changes things: it may be verified afterwards and have a compensation."""

    MUTATING: ClassVar[bool] = True

    verify: Verification | None = None
    undo: Compensation | None = None


class ScaleStep(ActionStepBase, ScaleFields):
    type: Literal["scale"]

    def describe(self) -> str:
        return ScaleFields.describe(self)


class RestartStep(ActionStepBase, RestartFields):
    type: Literal["restart"]

    def describe(self) -> str:
        return RestartFields.describe(self)


class UndoStep(ActionStepBase, UndoFields):
    type: Literal["undo"]

    def describe(self) -> str:
        return UndoFields.describe(self)


ActionStep = ScaleStep | RestartStep | UndoStep
ActionCompensation = ScaleAction | RestartAction | UndoAction
ClusterAction = ActionStep | ActionCompensation


def action_request(action: ClusterAction, view: DeploymentView, context: str) -> ActionRequest:
    """The ``ActionRequest`` a scale/restart/undo (step or compensation) runs, given the
    deployment as it is now (``by:`` scales from its replicas; its generation guards the
    request against a change made in between)."""
    params: dict[str, int | str | None] = {}
    if isinstance(action, ScaleFields):
        params["replicas"] = action.target_replicas(view.desired)
    elif isinstance(action, UndoFields):
        params["to_revision"] = action.to_revision
    return ActionRequest(kind=action.type, context=context, namespace=action.namespace,
                         target=action.deployment, params=params,
                         seen_generation=view.generation)
