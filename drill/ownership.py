"""Who controls what: an index of controller ownerReferences, fed by the store's listener.

Controllers ask "which ReplicaSets does this Deployment own" and "which pods does this
ReplicaSet own" in O(children) instead of listing the whole store, and read each
ReplicaSet's pod tally (active, ready, fully labeled) in O(1).
"""

from __future__ import annotations

from typing import Any

Obj = dict[str, Any]
Key = tuple[str, str]  # namespace, name


def controller_ref(obj: Obj) -> Obj | None:
    for ref in obj.get("metadata", {}).get("ownerReferences") or []:
        if ref.get("controller"):
            return ref
    return None


def owner_reference(owner: Obj) -> Obj:
    """The ownerReference a controller puts on the objects it creates."""
    meta = owner["metadata"]
    return {"apiVersion": owner["apiVersion"], "kind": owner["kind"], "name": meta["name"],
            "uid": meta["uid"], "controller": True, "blockOwnerDeletion": True}


def pod_is_active(pod: Obj) -> bool:
    """Counted by its ReplicaSet: not terminating and not finished (IsPodActive)."""
    return (not pod["metadata"].get("deletionTimestamp")
            and (pod.get("status") or {}).get("phase") not in ("Succeeded", "Failed"))


def pod_ready_condition(pod: Obj) -> Obj | None:
    for condition in (pod.get("status") or {}).get("conditions") or []:
        if condition.get("type") == "Ready":
            return condition
    return None


def pod_is_ready(pod: Obj) -> bool:
    condition = pod_ready_condition(pod)
    return condition is not None and condition.get("status") == "True"


Tally = tuple[int, int, int]  # active, ready (and active), fully labeled (and active)


class OwnerIndex:
    """Children by owner uid, and keys by uid, for the resources the controllers manage."""

    def __init__(self) -> None:
        self._children: dict[str, dict[str, set[Key]]] = {"replicasets": {}, "pods": {}}
        self._owner_of: dict[str, dict[Key, str]] = {"replicasets": {}, "pods": {}}
        self._keys: dict[str, dict[str, Key]] = {"deployments": {}, "replicasets": {}}
        self._template_labels: dict[str, dict[str, str]] = {}  # by ReplicaSet uid
        self._pod_tally: dict[Key, Tally] = {}
        self._tallies: dict[str, Tally] = {}  # by owner uid

    def observe(self, kind: str, resource: str, obj: Obj) -> None:
        meta = obj["metadata"]
        key: Key = (meta.get("namespace", ""), meta["name"])
        if resource in self._keys:
            if kind == "DELETED":
                self._keys[resource].pop(meta.get("uid", ""), None)
            else:
                self._keys[resource][meta.get("uid", "")] = key
        if resource == "replicasets":
            if kind == "DELETED":
                self._template_labels.pop(meta.get("uid", ""), None)
            else:
                template = (obj.get("spec") or {}).get("template") or {}
                labels = (template.get("metadata") or {}).get("labels") or {}
                self._template_labels[meta.get("uid", "")] = dict(labels)
        if resource not in self._children:
            return
        if resource == "pods":
            self._retally(kind, key, obj)
        children = self._children[resource]
        owners = self._owner_of[resource]
        previous = owners.pop(key, None)
        if previous is not None:
            siblings = children.get(previous)
            if siblings is not None:
                siblings.discard(key)
                if not siblings:
                    del children[previous]
        if kind == "DELETED":
            return
        ref = controller_ref(obj)
        if ref is None:
            return
        owners[key] = ref["uid"]
        children.setdefault(ref["uid"], set()).add(key)

    def _retally(self, kind: str, key: Key, pod: Obj) -> None:
        old_owner = self._owner_of["pods"].get(key)
        old = self._pod_tally.pop(key, None)
        if old_owner is not None and old is not None:
            self._add(old_owner, old, -1)
        ref = controller_ref(pod)
        if kind == "DELETED" or ref is None:
            return
        if not pod_is_active(pod):
            tally: Tally = (0, 0, 0)
        else:
            labels = pod["metadata"].get("labels") or {}
            wanted = self._template_labels.get(ref["uid"], {})
            labeled = all(labels.get(k) == v for k, v in wanted.items())
            tally = (1, int(pod_is_ready(pod)), int(labeled))
        self._pod_tally[key] = tally
        self._add(ref["uid"], tally, 1)

    def _add(self, owner: str, tally: Tally, sign: int) -> None:
        active, ready, labeled = self._tallies.get(owner, (0, 0, 0))
        total = (active + sign * tally[0], ready + sign * tally[1], labeled + sign * tally[2])
        if total == (0, 0, 0):
            self._tallies.pop(owner, None)
        else:
            self._tallies[owner] = total

    def tally(self, owner_uid: str) -> Tally:
        """(active, ready, fully labeled) pods of a ReplicaSet."""
        return self._tallies.get(owner_uid, (0, 0, 0))

    def children(self, resource: str, owner_uid: str) -> list[Key]:
        return sorted(self._children[resource].get(owner_uid, ()))

    def owner(self, resource: str, key: Key) -> str | None:
        return self._owner_of[resource].get(key)

    def key_of(self, resource: str, uid: str) -> Key | None:
        return self._keys[resource].get(uid)
