"""Patches, selectors, the protobuf SSAR reader and the store's versioning rules."""

from __future__ import annotations

import asyncio

import pytest

from drill.clock import DrillClock
from drill.errors import ApiError
from drill.patch import JSON_PATCH, MERGE_PATCH, STRATEGIC_PATCH, apply_patch
from drill.protobuf import MAGIC, decode_ssar
from drill.selectors import (
    fields_match,
    labels_match,
    parse_field_selector,
    parse_label_selector,
)
from drill.store import Store

DEPLOY = {
    "metadata": {"name": "api", "namespace": "shop", "annotations": {"a": "1"}},
    "spec": {"replicas": 2, "template": {"spec": {"containers": [
        {"name": "api", "image": "api:1", "env": [{"name": "A", "value": "1"}]},
        {"name": "sidecar", "image": "proxy:1"},
    ]}}},
}


def test_strategic_merge_merges_containers_by_name() -> None:
    patched = apply_patch(DEPLOY, {"spec": {"template": {"spec": {"containers": [
        {"name": "api", "image": "api:2", "env": [{"name": "B", "value": "2"}]}]}}}},
        STRATEGIC_PATCH)
    containers = patched["spec"]["template"]["spec"]["containers"]
    assert [c["name"] for c in containers] == ["api", "sidecar"]
    assert containers[0]["image"] == "api:2"
    assert containers[0]["env"] == [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]
    assert DEPLOY["spec"]["template"]["spec"]["containers"][0]["image"] == "api:1"  # untouched


def test_strategic_merge_delete_directive_and_null() -> None:
    patched = apply_patch(DEPLOY, {"metadata": {"annotations": {"a": None}},
                                   "spec": {"template": {"spec": {"containers": [
                                       {"name": "sidecar", "$patch": "delete"}]}}}},
                          STRATEGIC_PATCH)
    assert patched["metadata"]["annotations"] == {}
    assert [c["name"] for c in patched["spec"]["template"]["spec"]["containers"]] == ["api"]


def test_merge_patch_replaces_lists() -> None:
    patched = apply_patch(DEPLOY, {"spec": {"template": {"spec": {"containers": [
        {"name": "only"}]}}}}, MERGE_PATCH)
    assert patched["spec"]["template"]["spec"]["containers"] == [{"name": "only"}]


def test_json_patch_and_failed_test_op() -> None:
    patched = apply_patch(DEPLOY, [{"op": "replace", "path": "/spec/replicas", "value": 5}],
                          JSON_PATCH)
    assert patched["spec"]["replicas"] == 5
    with pytest.raises(ApiError) as err:
        apply_patch(DEPLOY, [{"op": "test", "path": "/spec/replicas", "value": 9}], JSON_PATCH)
    assert err.value.code == 422
    with pytest.raises(ApiError) as unsupported:
        apply_patch(DEPLOY, {}, "application/apply-patch+yaml")
    assert unsupported.value.code == 415


@pytest.mark.parametrize(("selector", "labels", "expected"), [
    ("app=api", {"app": "api"}, True),
    ("app==api", {"app": "web"}, False),
    ("app!=api", {}, True),
    ("app in (api, web),tier", {"app": "web", "tier": "x"}, True),
    ("app notin (api)", {"app": "api"}, False),
    ("!canary", {"canary": "1"}, False),
    ("", {"anything": "1"}, True),
])
def test_label_selectors(selector: str, labels: dict[str, str], expected: bool) -> None:
    assert labels_match(parse_label_selector(selector), labels) is expected


def test_bad_selectors_are_400() -> None:
    with pytest.raises(ApiError) as label:
        parse_label_selector("app in (")
    assert label.value.code == 400
    with pytest.raises(ApiError) as field:
        parse_field_selector("spec.whatever=1")
    assert field.value.code == 400


def test_field_selectors() -> None:
    event = {"metadata": {"name": "e1", "namespace": "shop"},
             "involvedObject": {"kind": "Deployment", "name": "api"}}
    assert fields_match(parse_field_selector(
        "involvedObject.kind=Deployment,involvedObject.name=api"), event)
    assert not fields_match(parse_field_selector("metadata.name!=e1"), event)


def _field(number: int, payload: bytes) -> bytes:
    key = (number << 3) | 2
    out = bytearray([key])
    length = len(payload)
    while True:
        byte = length & 0x7F
        length >>= 7
        out.append(byte | (0x80 if length else 0))
        if not length:
            break
    return bytes(out) + payload


def test_protobuf_ssar_decodes() -> None:
    attrs = (_field(1, b"shop") + _field(2, b"patch") + _field(3, b"apps")
             + _field(5, b"deployments") + _field(6, b"scale"))
    ssar = _field(1, b"") + _field(2, _field(1, attrs))
    body = MAGIC + _field(1, _field(1, b"authorization.k8s.io/v1")
                          + _field(2, b"SelfSubjectAccessReview")) + _field(2, ssar)
    decoded = decode_ssar(body)
    assert decoded["spec"]["resourceAttributes"] == {
        "namespace": "shop", "verb": "patch", "group": "apps", "resource": "deployments",
        "subresource": "scale"}
    with pytest.raises(ValueError):
        decode_ssar(b"not protobuf")


def _store() -> Store:
    store = Store(DrillClock(speed=0), history_size=5)
    store.create("namespaces", {"metadata": {"name": "shop"}})
    return store


def test_store_versions_generations_and_conflicts() -> None:
    store = _store()
    created = store.create("deployments", DEPLOY)
    rv1 = int(created["metadata"]["resourceVersion"])
    assert created["metadata"]["generation"] == 1 and created["kind"] == "Deployment"
    relabelled = store.mutate("deployments", "shop", "api",
                              lambda o: o["metadata"]["labels"].update(x="1"))
    assert relabelled["metadata"]["generation"] == 1  # metadata change: no new generation
    assert int(relabelled["metadata"]["resourceVersion"]) > rv1
    respec = dict(relabelled, spec={**relabelled["spec"], "replicas": 3})
    updated = store.update("deployments", respec)
    assert updated["metadata"]["generation"] == 2
    with pytest.raises(ApiError) as stale:
        store.update("deployments", created)
    assert stale.value.code == 409
    with pytest.raises(ApiError) as dup:
        store.create("deployments", DEPLOY)
    assert dup.value.code == 409 and dup.value.reason == "AlreadyExists"
    same = store.update("deployments", updated)
    assert same["metadata"]["resourceVersion"] == updated["metadata"]["resourceVersion"]


def test_store_watch_replays_history_then_expires() -> None:
    async def scenario() -> None:
        store = _store()
        start = store.rv
        store.create("deployments", DEPLOY)
        watch = store.watch("deployments", "shop", start)
        event = watch.queue.get_nowait()
        assert event is not None and event.type == "ADDED"
        for i in range(10):  # overflow the 5-event history
            store.mutate("deployments", "shop", "api",
                         lambda o, i=i: o["metadata"]["labels"].update(n=str(i)))
        with pytest.raises(ApiError) as gone:
            store.watch("deployments", "shop", start)
        assert gone.value.code == 410 and "too old resource version" in gone.value.message
        assert watch.queue.qsize() == 10  # a live watch still got every event

    asyncio.run(scenario())


def test_clock_speed_pause_advance() -> None:
    clock = DrillClock(speed=0)
    assert clock.elapsed() == 0
    clock.advance(90)
    assert clock.elapsed() == 90
    clock.set_speed(1000)
    clock.pause()
    frozen = clock.elapsed()
    assert clock.elapsed() == frozen
    clock.resume()
    assert clock.stamp().endswith("Z")
