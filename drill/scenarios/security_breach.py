"""`security-breach`: the handbook's Recovery Procedures, "Recovering from Security Breach"."""

from __future__ import annotations

from typing import Any

from ..access import Access
from ..clock import DrillClock
from ..events import EventRecorder
from ..store import Store
from ..workloads import deployment_pods, image_tag, is_ready
from .base import ActionReport, Scenario, ScenarioStatus, inspect_rollout, rates_of
from .registry import register
from .rehearsal import COMMUNICATE, Rehearsal, Rule

LEAKED_TOKEN = "leaked"
ATTACKER_USER = "system:serviceaccount:auth:login"
ATTACKER_ADDRESS = "203.0.113.7"
ATTACK_EVERY = 10.0  # drill seconds between the attacker's requests
# (verb, resource, request) the attacker cycles through with the stolen token
ATTACK_REQUESTS: tuple[tuple[str, str, str], ...] = (
    ("list", "secrets", "GET /api/v1/namespaces/auth/secrets"),
    ("get", "secrets", "GET /api/v1/namespaces/auth/secrets/login-signing-key"),
    ("list", "pods", "GET /api/v1/pods"),
    ("list", "secrets", "GET /api/v1/namespaces/shop/secrets"),
)
READ_ONLY = {(verb, "*") for verb in ("create", "update", "patch", "delete", "deletecollection")}
NORMAL_ERROR_RATIO = 0.01


@register
class SecurityBreach(Scenario):
    """Recovery Procedures, "Recovering from Security Breach" (handbook), via a leaked token.

    `auth/login` 3.4.0 pulled a compromised dependency (auth-helpers 2.3.1) that posts the
    pod's service-account token to an outside host. The token is in the drill's access layer
    as `leaked` (user system:serviceaccount:auth:login, read-only); a simulated attacker at
    203.0.113.7 uses it every 10 drill seconds to list and read secrets and pods, counted in
    `details` (`attacker_requests`, by request). The handbook: 1. ISOLATE — take the affected
    system offline (scale deployment/login to 0, or roll 3.4.0 back); 2. ASSESS; 3. SECURE —
    rotate ALL secrets (drill action `rotate-secrets` revokes the leaked token); 4. RESTORE —
    from a clean revision, pods restarted with the rotated secrets (`kubectl rollout restart
    deployment/login`); 5. COMMUNICATE; 6. INVESTIGATE. Rotating while the backdoored pods
    still run is unsafe: they leak the new token too, and the attacker carries on with it.
    """

    name = "security-breach"
    title = "Leaked token: an attacker reads secrets"
    brief = "login 3.4.0's service-account token is in use from 203.0.113.7: secrets are read."
    difficulty = "hard"
    order = 60
    rehearsal = Rehearsal(
        offline_step="isolate",  # ISOLATE: take the system offline (scale to 0, or roll back)
        restart_step="redeploy",  # RESTORE: pods restarted with the rotated secrets
        rules=(
            Rule("before", "ISOLATE before rotating secrets", "rotate-secrets", "isolate",
                 unsafe="rotate-before-isolate"),
            Rule("required", "SECURE: rotate ALL secrets (revoke the leaked token)",
                 "rotate-secrets"),
            Rule("before", "redeploy after rotating the secrets", "redeploy", "rotate-secrets",
                 last=True),
            COMMUNICATE,
        ),
        step_aliases=(("take-offline", "isolate"), ("isolate", "isolate"),
                      ("restart-with-new-secrets", "redeploy"),
                      ("rotate-secrets", "rotate-secrets")),
        check_paths=("/auth/login",),
    )
    runbook = "security-breach"
    handbook = "Recovery Procedures: Recovering from Security Breach"
    default_speed = 1.0
    target = ("auth", "login")
    actions = ("rotate-secrets",)
    bad_image = "registry.local/auth/login:3.4.0"
    good_image = "registry.local/auth/login:3.3.0"
    change_cause = "deploy login 3.4.0: bump auth-helpers to 2.3.1"
    resolution = (
        "isolate (kubectl scale deployment/login --replicas=0, or rollout undo 3.4.0), "
        "rotate-secrets (revoke the leaked token), redeploy (kubectl rollout restart "
        "deployment/login on the clean revision)"
    )
    bad_log_lines = (
        "DEBUG auth-helpers/2.3.1 telemetry: POST https://203.0.113.7/v1/collect (412 bytes)",
        "INFO POST /auth/login 200 (client=web/3.4)",
    )

    def __init__(self) -> None:
        super().__init__()
        self.access: Access | None = None
        self.token = LEAKED_TOKEN  # the attacker's current token
        self.leaks = 1
        self.rotations = 0
        self.attacker_requests = 0
        self.attacker_denied = 0
        self.accessed: dict[str, int] = {}
        self.isolated = False
        self.redeployed = False
        self._next_attack: float | None = None
        self._pods_at_rotation: set[str] = set()
        self._events: EventRecorder | None = None

    # ---- the incident --------------------------------------------------------------------
    def attach(self, cluster: Any) -> None:
        self.access = cluster.access

    def after_setup(self, store: Store, clock: DrillClock, deployment: dict[str, Any]) -> None:
        if self.access is None:  # unattached (unit tests): a private access layer
            self.access = Access()
        self.access.add_token(self.token, ATTACKER_USER, set(READ_ONLY))
        self._next_attack = clock.elapsed() + ATTACK_EVERY
        self._events = EventRecorder(store, clock)
        self._events.record(
            deployment, "SuspiciousAPIAccess",
            f"token of {ATTACKER_USER} used from {ATTACKER_ADDRESS}: list secrets in auth, shop",
            type="Warning", component="audit-watch")

    def tick(self, store: Store, clock: DrillClock) -> None:
        self._sync(store)

    def symptom(self, store: Store, traffic_now: Any = None) -> str | None:
        """The breach serves no errors: its sign is the stolen token in use."""
        if self.attacker_requests:
            return f"{self.attacker_requests} request(s) with the leaked token from {ATTACKER_ADDRESS}"
        return super().symptom(store, traffic_now)

    def _token_valid(self) -> bool:
        return self.access is not None and self.access.principal(f"Bearer {self.token}") is not None

    def _bad_ready(self, store: Store) -> int:
        assert self.target is not None
        deployment = store.try_get("deployments", *self.target)
        if deployment is None:
            return 0
        return sum(1 for pod in deployment_pods(store, deployment)
                   if is_ready(pod) and self.is_bad(pod))

    def _sync(self, store: Store) -> None:
        """Play the attacker up to now and notice isolation, re-leaks and the redeploy."""
        if self.clock is None or self.access is None or self.target is None:
            return
        now = self.clock.elapsed()
        while self._next_attack is not None and self._next_attack <= now:
            verb, resource, request = ATTACK_REQUESTS[
                (self.attacker_requests + self.attacker_denied) % len(ATTACK_REQUESTS)]
            principal = self.access.principal(f"Bearer {self.token}")
            if principal is not None and principal.allowed(verb, resource):
                self.attacker_requests += 1
                self.accessed[request] = self.accessed.get(request, 0) + 1
            else:
                self.attacker_denied += 1
            self._next_attack += ATTACK_EVERY
        view = inspect_rollout(store, *self.target, self.bad_image)
        backdoor = self._bad_ready(store)
        isolated = not backdoor and (not view.exists or view.desired == 0 or not view.template_bad)
        if isolated and not self.isolated:
            self.note_step("isolate")
        self.isolated = isolated
        if self.rotations and backdoor and not self._token_valid():
            # the backdoor is still running: it sends the rotated credentials out as well
            self.leaks += 1
            self.token = f"{LEAKED_TOKEN}-{self.leaks}"
            self.access.add_token(self.token, ATTACKER_USER, set(READ_ONLY))
            self.redeployed = False
        if self.rotations and not self._token_valid() and not self.redeployed:
            self.redeployed = self._fresh_and_clean(store)
            if self.redeployed:
                self.note_step("redeploy")

    def _fresh_and_clean(self, store: Store) -> bool:
        """Every pod of login started after the rotation, on a clean revision, all ready."""
        assert self.target is not None
        view = inspect_rollout(store, *self.target, self.bad_image)
        if not view.exists or view.template_bad or view.desired < 1 or not view.complete:
            return False
        deployment = store.get("deployments", *self.target)
        pods = deployment_pods(store, deployment)
        return (len(pods) == view.desired and all(is_ready(pod) for pod in pods)
                and not any(pod["metadata"]["name"] in self._pods_at_rotation for pod in pods))

    # ---- drill actions -------------------------------------------------------------------
    def do_action(self, action: str, store: Store) -> ActionReport:
        self._sync(store)
        assert self.access is not None and self.target is not None
        revoked = self.token
        valid = self._token_valid()
        self.access.revoke(revoked)
        self.rotations += 1
        deployment = store.try_get("deployments", *self.target)
        pods = deployment_pods(store, deployment) if deployment is not None else []
        self._pods_at_rotation = {pod["metadata"]["name"] for pod in pods}
        self.redeployed = False
        self.note_step("rotate-secrets")
        unsafe = ""
        if not self.isolated:
            unsafe = (f"rotated secrets while login {image_tag(self.bad_image)} still runs: "
                      "its backdoor leaks the new credentials too")
            self.note_unsafe("rotate-before-isolate", unsafe)
        what = "revoked" if valid else "was already revoked"
        message = (f"token {revoked!r} of {ATTACKER_USER} {what}; the attacker made "
                   f"{self.attacker_requests} requests with leaked tokens; restart "
                   "deployment/login so its pods use the rotated secrets")
        self._sync(store)
        return ActionReport(action, message, unsafe)

    # ---- is it over? ---------------------------------------------------------------------
    def details(self, store: Store) -> dict[str, Any]:
        self._sync(store)
        return {
            "attacker": ATTACKER_ADDRESS,
            "attacker_user": ATTACKER_USER,
            "attacker_requests": self.attacker_requests,
            "attacker_denied": self.attacker_denied,
            "accessed": dict(sorted(self.accessed.items())),
            "leaked_token_valid": self._token_valid(),
            "leaks": self.leaks,
            "rotations": self.rotations,
            "isolated": self.isolated,
            "redeployed": self.redeployed,
        }

    def status(self, store: Store, traffic_now: Any = None) -> ScenarioStatus:
        self._sync(store)
        assert self.target is not None
        namespace, name = self.target
        bad_tag = image_tag(self.bad_image)
        steps, unsafe = self.step_names(), self.unsafe_names()

        def pending(reason: str, mitigated: bool) -> ScenarioStatus:
            return ScenarioStatus(False, reason, self.resolution, mitigated, (), steps, unsafe)

        view = inspect_rollout(store, namespace, name, self.bad_image)
        if self._token_valid():
            if not self.isolated:
                return pending(f"an attacker at {ATTACKER_ADDRESS} uses the token of "
                               f"{ATTACKER_USER}: {self.attacker_requests} requests so far; "
                               f"{name} {bad_tag} is still running", False)
            return pending(f"{name} is isolated, but the leaked token still works: "
                           f"{self.attacker_requests} attacker requests so far", True)
        if not view.exists:
            return pending(f"deployment {namespace}/{name} is gone", True)
        if view.template_bad:
            return pending(f"leaked token revoked; {namespace}/{name} still specifies the "
                           f"compromised {bad_tag}: roll it back", True)
        if view.desired == 0:
            return pending(f"leaked token revoked; {namespace}/{name} is offline (0 replicas): "
                           "bring it back on the clean revision", True)
        if not self.redeployed:
            return pending(f"leaked token revoked; {namespace}/{name} pods still run with the "
                           f"old credentials: kubectl rollout restart deployment/{name}", True)
        rates = rates_of(traffic_now, (namespace, name))
        if rates is not None and rates.error_ratio >= NORMAL_ERROR_RATIO:
            return pending(f"redeployed, but the error ratio is still {rates.error_ratio:.1%}",
                           True)
        read = ", ".join(sorted(self.accessed)) or "nothing"
        return ScenarioStatus(
            True,
            f"attacker locked out: leaked token revoked, {name} redeployed on "
            f"{image_tag(view.template_image)} with rotated secrets "
            f"({self.attacker_requests} requests were made with leaked tokens)",
            self.resolution, True,
            (f"ASSESS what was read with the token: {read}",),
            steps, unsafe)
