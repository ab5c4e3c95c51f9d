"""status/pods.py and the pod readings of status/rollout.py: scheduling, readiness gates."""

from __future__ import annotations

from typing import Any

from tests.unit import builders

from berth.handlers.events import slim_pod
from berth.render import names
from berth.status import pods
from berth.status.rollout import observe

GATE = names.HEALTH_GATE
INSUFFICIENT = "0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available"


def with_conditions(version: str, *conditions: dict[str, Any], ready: bool = True) -> Any:
    pod = builders.pod(version)
    pod["status"]["containerStatuses"] = [{"name": "app", "ready": ready, "state": {}}]
    pod["status"]["conditions"] = list(conditions)
    return pod


def unschedulable(version: str) -> Any:
    pod = builders.pod(version)
    pod["status"]["phase"] = "Pending"
    pod["status"]["conditions"] = [
        {
            "type": "PodScheduled",
            "status": "False",
            "reason": "Unschedulable",
            "message": INSUFFICIENT,
        }
    ]
    return pod


def test_the_schedulers_message_is_read_from_an_unschedulable_pod() -> None:
    assert pods.unschedulable(unschedulable("2")) == INSUFFICIENT


def test_a_pod_not_scheduled_yet_for_another_reason_is_not_unschedulable() -> None:
    pending = with_conditions("2", {"type": "PodScheduled", "status": "False", "reason": "X"})
    assert pods.unschedulable(pending) is None
    assert pods.unschedulable(builders.pod("2")) is None


def test_rollout_counts_unschedulable_pods_per_version_with_the_first_message() -> None:
    found = observe(
        builders.kube_deployment(2),
        [unschedulable("2"), unschedulable("2"), with_conditions("1")],
        names.VERSION_LABEL,
    )
    assert found.unschedulable == {2: (2, INSUFFICIENT)}
    assert found.waiting(2) == f"2 pods cannot be scheduled: {INSUFFICIENT}"
    assert found.waiting(1) is None


def test_a_pod_is_ready_only_when_its_ready_condition_says_so_whatever_its_containers() -> None:
    gate_false = {"type": GATE, "status": "False", "message": "GET / answered 404"}
    not_ready = with_conditions("2", {"type": "Ready", "status": "False"}, gate_false)
    found = observe(builders.kube_deployment(2), [not_ready], names.VERSION_LABEL, GATE)
    assert found.ready_by_version == {}
    assert found.unhealthy == {2: "GET / answered 404"}
    assert found.waiting(2) == "health check failing: GET / answered 404"


def test_without_a_ready_condition_the_containers_say_whether_a_pod_is_ready() -> None:
    assert pods.ready(with_conditions("1"))
    assert not pods.ready(with_conditions("1", ready=False))


def test_the_deadline_failure_says_what_held_the_version_back() -> None:
    deployment = builders.kube_deployment(
        2, conditions=[{"type": "Progressing", "reason": "ProgressDeadlineExceeded"}]
    )
    found = observe(deployment, [unschedulable("2")], names.VERSION_LABEL)
    assert found.failure(2) == (
        "the rollout did not complete within the progress deadline: "
        f"1 pod cannot be scheduled: {INSUFFICIENT}"
    )


def test_the_store_keeps_what_the_checker_and_rollouts_read_of_a_pod() -> None:
    full = {
        "metadata": {
            "name": "web-1",
            "namespace": "shop",
            "labels": {"a": "b"},
            "resourceVersion": "7",
            "deletionTimestamp": "2025-01-01T00:00:00Z",
            "annotations": {names.HEALTH_TARGET_ANNOTATION: "{}", "other": "x" * 1000},
            "managedFields": [{"manager": "kubelet"}],
        },
        "spec": {"containers": [{"name": "app", "image": "x"}]},
        "status": {
            "phase": "Running",
            "podIP": "10.0.0.7",
            "conditions": [
                {"type": "Initialized", "status": "True"},
                {"type": "Ready", "status": "False", "lastTransitionTime": "t"},
                {"type": GATE, "status": "False", "reason": "HealthCheckFailed", "message": "m"},
            ],
            "containerStatuses": [{"name": "app", "ready": True, "state": {}, "image": "x"}],
        },
    }
    slim = slim_pod(full)
    assert slim["metadata"]["annotations"] == {names.HEALTH_TARGET_ANNOTATION: "{}"}
    assert slim["metadata"]["deletionTimestamp"] == "2025-01-01T00:00:00Z"
    assert slim["status"]["podIP"] == "10.0.0.7"
    assert slim["status"]["conditions"] == [
        {"type": "Ready", "status": "False"},
        {"type": GATE, "status": "False", "reason": "HealthCheckFailed", "message": "m"},
    ]
    assert "spec" not in slim
