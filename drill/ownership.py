"""Who controls what: an index of controller ownerReferences, fed by the store's listener.

Controllers ask "which ReplicaSets does this Deployment own" and "which pods does this
ReplicaSet own" in O(children) instead of listing the whole store.
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


class OwnerIndex:
    """Children by owner uid, and keys by uid, for the resources the controllers manage."""

    def __init__(self) -> None:
        self._children: dict[str, dict[str, set[Key]]] = {"replicasets": {}, "pods": {}}
        self._owner_of: dict[str, dict[Key, str]] = {"replicasets": {}, "pods": {}}
        self._keys: dict[str, dict[str, Key]] = {"deployments": {}, "replicasets": {}}

    def observe(self, kind: str, resource: str, obj: Obj) -> None:
        meta = obj["metadata"]
        key: Key = (meta.get("namespace", ""), meta["name"])
        if resource in self._keys:
            if kind == "DELETED":
                self._keys[resource].pop(meta.get("uid", ""), None)
            else:
                self._keys[resource][meta.get("uid", "")] = key
        if resource not in self._children:
            return
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

    def children(self, resource: str, owner_uid: str) -> list[Key]:
        return sorted(self._children[resource].get(owner_uid, ()))

    def owner(self, resource: str, key: Key) -> str | None:
        return self._owner_of[resource].get(key)

    def key_of(self, resource: str, uid: str) -> Key | None:
        return self._keys[resource].get(uid)
