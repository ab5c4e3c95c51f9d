"""kube/compare.py: compare before writing, so that a quiet reconcile writes nothing."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from tests.unit import builders

from berth.api.power import DEFAULT_POWERS
from berth.kube.compare import (
    APPLIED_HASH_ANNOTATION,
    contains,
    fingerprint,
    merge_patch,
    stamped,
    up_to_date,
)
from berth.render import workload


def desired() -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "web", "namespace": "shop", "labels": {"a": "1"}},
        "spec": {"type": "ClusterIP", "ports": [{"name": "app-80", "port": 80}]},
    }


def served(manifest: dict[str, Any]) -> dict[str, Any]:
    """What the API server returns: our fields plus its defaults and bookkeeping."""
    live = copy.deepcopy(manifest)
    live["metadata"].update({"uid": "u1", "resourceVersion": "42", "generation": 1})
    live["metadata"].setdefault("annotations", {})["other.io/note"] = "kept"
    live["spec"]["clusterIP"] = "10.96.0.10"
    live["spec"]["ports"][0]["protocol"] = "TCP"
    live["status"] = {"loadBalancer": {}}
    return live


# --- contains -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("live", "want", "result"),
    [
        ({"a": 1, "b": 2}, {"a": 1}, True),  # server defaults aside
        ({"a": 1}, {"a": 1, "b": 2}, False),  # a field is missing
        ({"a": 1}, {"a": 2}, False),
        ({"a": {"b": 1, "c": 2}}, {"a": {"b": 1}}, True),
        ({"a": {"b": 1}}, {"a": {"b": 2}}, False),
        ({"a": [1, 2]}, {"a": [1, 2]}, True),
        ({"a": [1, 2, 3]}, {"a": [1, 2]}, False),  # lists are compared whole
        ({"a": [2, 1]}, {"a": [1, 2]}, False),  # and in order
        ({"a": [{"x": 1, "y": 2}]}, {"a": [{"x": 1}]}, True),  # items may carry defaults
        ({"a": "1"}, {"a": 1}, False),
        ({"a": None}, {"a": {}}, False),
        ("x", "x", True),
        ({}, {}, True),
    ],
)
def test_contains_means_live_has_every_desired_field_with_the_same_value(
    live: Any, want: Any, result: bool
) -> None:
    assert contains(live, want) is result


def test_a_served_object_contains_what_was_applied() -> None:
    assert contains(served(desired()), desired())


# --- stamped / up_to_date -----------------------------------------------------------------------


def test_stamped_adds_the_hash_annotation_and_keeps_the_manifest() -> None:
    original = desired()
    result = stamped(original)
    assert result["metadata"]["annotations"] == {APPLIED_HASH_ANNOTATION: fingerprint(original)}
    assert original == desired()  # not modified in place
    assert {k: v for k, v in result.items() if k != "metadata"} == {
        k: v for k, v in original.items() if k != "metadata"
    }


def test_stamped_keeps_existing_annotations() -> None:
    manifest = desired()
    manifest["metadata"]["annotations"] = {"berth.dev/tags": "[]"}
    annotations = stamped(manifest)["metadata"]["annotations"]
    assert annotations["berth.dev/tags"] == "[]"
    assert APPLIED_HASH_ANNOTATION in annotations


def test_fingerprint_ignores_key_order() -> None:
    a = {"x": 1, "y": {"p": 1, "q": 2}}
    b = {"y": {"q": 2, "p": 1}, "x": 1}
    assert fingerprint(a) == fingerprint(b)


def test_an_applied_object_is_up_to_date() -> None:
    want = stamped(desired())
    assert up_to_date(served(want), want)


def test_a_missing_object_is_not_up_to_date() -> None:
    assert not up_to_date(None, stamped(desired()))


def test_an_object_edited_by_hand_is_not_up_to_date() -> None:
    want = stamped(desired())
    live = served(want)
    live["spec"]["ports"][0]["port"] = 81
    assert not up_to_date(live, want)


def test_a_field_removed_from_the_desired_manifest_is_noticed_through_the_hash() -> None:
    before = desired()
    before["metadata"]["labels"]["team"] = "pay"
    live = served(stamped(before))
    after = desired()  # the team label is no longer wanted
    assert contains(live, after)  # a plain comparison would not see it
    assert fingerprint(after) != fingerprint(before)
    assert not up_to_date(live, stamped(after))


def test_a_rendered_deployment_applied_unchanged_is_up_to_date() -> None:
    manifest = workload.deployment(
        builders.service(),
        1,
        builders.content(endpoint=builders.WEB_ENDPOINT),
        DEFAULT_POWERS["medium"],
        builders.settings(),
    )
    want = stamped(manifest)
    live = copy.deepcopy(want)
    live["spec"]["revisionHistoryLimit"] = 10
    live["spec"]["template"]["spec"]["containers"][0]["terminationMessagePath"] = "/dev/x"
    assert up_to_date(live, want)


# --- merge_patch --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "patch"),
    [
        ({"a": 1}, {"a": 1}, {}),
        ({"a": 1}, {"a": 2}, {"a": 2}),
        ({}, {"a": 1}, {"a": 1}),
        ({"a": 1, "b": 2}, {"a": 1}, {"b": None}),  # a removed key becomes null
        ({"m": {"x": 1, "y": 2}}, {"m": {"x": 1}}, {"m": {"y": None}}),
        ({"m": {"x": 1}}, {"m": {"x": 1, "z": 3}}, {"m": {"z": 3}}),
        ({"m": {"n": {"x": 1}}}, {"m": {"n": {"x": 2}}}, {"m": {"n": {"x": 2}}}),
        ({"m": {"x": 1}}, {"m": {}}, {"m": {"x": None}}),
        ({"m": {"x": 1}}, {"m": {"x": 1}}, {}),  # an unchanged dict is left out
        ({"m": {"x": 1}}, {"m": 5}, {"m": 5}),  # a dict replaced by a scalar
        ({"m": 5}, {"m": {"x": 1}}, {"m": {"x": 1}}),
        ({"l": [1, 2]}, {"l": [1]}, {"l": [1]}),  # lists are replaced whole
        ({"l": [{"a": 1}]}, {"l": [{"a": 1}]}, {}),
    ],
)
def test_merge_patch_is_rfc_7386(
    old: dict[str, Any], new: dict[str, Any], patch: dict[str, Any]
) -> None:
    assert merge_patch(old, new) == patch


def apply_merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386's reference algorithm, to check that a patch turns old into new."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = apply_merge_patch(result.get(key), value)
    return result


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (
            {"status": {"state": "DEPLOYING", "conditions": [1], "url": "u", "guid": "g"}},
            {"status": {"state": "RUNNING", "conditions": [1, 2], "guid": "g"}},
        ),
        ({"a": {"b": {"c": 1, "d": 2}}, "e": 3}, {"a": {"b": {"c": 1}, "f": {}}}),
        ({}, {"a": {"b": 1}}),
        ({"a": {"b": 1}}, {}),
    ],
)
def test_merge_patch_turns_old_into_new(old: dict[str, Any], new: dict[str, Any]) -> None:
    assert apply_merge_patch(old, merge_patch(old, new)) == new
