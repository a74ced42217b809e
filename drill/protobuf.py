"""Just enough protobuf to read the SelfSubjectAccessReview that kubectl >= 1.32 posts.

The body is `k8s\\x00` + runtime.Unknown{1: typeMeta, 2: raw, ...}; raw is the SSAR message
whose spec carries resourceAttributes (see K8S_API.md section 3.6).
"""

from __future__ import annotations

from typing import Any

MAGIC = b"k8s\x00"

_RESOURCE_FIELDS = {1: "namespace", 2: "verb", 3: "group", 4: "version", 5: "resource",
                    6: "subresource", 7: "name"}
_NON_RESOURCE_FIELDS = {1: "path", 2: "verb"}


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    shift = 0
    value = 0
    while True:
        if pos >= len(data):
            raise ValueError("truncated varint")
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7


def fields(data: bytes) -> dict[int, list[Any]]:
    """Top-level fields of a message: number -> values (bytes for length-delimited)."""
    out: dict[int, list[Any]] = {}
    pos = 0
    while pos < len(data):
        key, pos = _varint(data, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(data, pos)
        elif wire == 2:
            length, pos = _varint(data, pos)
            value = data[pos:pos + length]
            if len(value) != length:
                raise ValueError("truncated field")
            pos += length
        elif wire == 1:
            value, pos = data[pos:pos + 8], pos + 8
        elif wire == 5:
            value, pos = data[pos:pos + 4], pos + 4
        else:
            raise ValueError(f"unsupported wire type {wire}")
        out.setdefault(number, []).append(value)
    return out


def _strings(message: bytes, names: dict[int, str]) -> dict[str, str]:
    parsed = fields(message)
    return {names[n]: v[0].decode() for n, v in parsed.items() if n in names and isinstance(v[0], bytes)}


def decode_ssar(body: bytes) -> dict[str, Any]:
    """Decode a protobuf SSAR into its JSON shape (spec only)."""
    if not body.startswith(MAGIC):
        raise ValueError("not a Kubernetes protobuf body")
    unknown = fields(body[len(MAGIC):])
    raw = unknown.get(2, [b""])[0]
    ssar = fields(raw)
    spec = fields(ssar.get(2, [b""])[0])
    result: dict[str, Any] = {}
    if 1 in spec:
        result["resourceAttributes"] = _strings(spec[1][0], _RESOURCE_FIELDS)
    if 2 in spec:
        result["nonResourceAttributes"] = _strings(spec[2][0], _NON_RESOURCE_FIELDS)
    return {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
            "spec": result}
