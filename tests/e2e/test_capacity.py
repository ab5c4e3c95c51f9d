"""End to end: capacity changes, bad power, disabling, drift, deletion and operator restarts."""

from __future__ import annotations

import json
import threading
from typing import Any

import kubernetes
import pytest
from tests.e2e.support import (
    AvailabilitySampler,
    Berth,
    apply,
    labelled_and_reconciled,
    service_manifest,
    version_manifest,
    wait_for,
    wait_until_quiet,
    web_content,
)

from berth.api.foreign import MANAGED_BY_LABEL
from devcluster import KubeCluster
from devcluster.operator_process import OperatorProcess

pytestmark = pytest.mark.e2e


def start(cluster: KubeCluster, berth: Berth, name: str, scale: int = 2, **spec: object) -> None:
    apply(
        cluster,
        berth.namespace,
        service_manifest(name, scale=scale, deployment=web_content(), **spec),
    )
    berth.wait_state(name, "RUNNING")


class StateRecorder:
    """Every `status.state` a service is written with, from a watch: a state that lasts less
    than a poll is seen too (only RUNNING and errors are told as Events)."""

    def __init__(self, berth: Berth, name: str) -> None:
        self.berth, self.name = berth, name
        self.states: list[str] = []
        self.deleted = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._version = berth.service(name)["metadata"]["resourceVersion"]

    def _run(self) -> None:
        while not self._stop.is_set() and not self.deleted.is_set():
            stream = kubernetes.watch.Watch().stream(
                self.berth.custom.list_namespaced_custom_object,
                "berth.dev",
                "v1alpha1",
                self.berth.namespace,
                "containerservices",
                field_selector=f"metadata.name={self.name}",
                resource_version=self._version,
                timeout_seconds=2,
            )
            for event in stream:
                body = event["object"]
                self._version = body["metadata"]["resourceVersion"]
                self.states.append((body.get("status") or {}).get("state", ""))
                if event["type"] == "DELETED":
                    self.deleted.set()
                    return

    def __enter__(self) -> StateRecorder:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(5)


def patch(cluster: KubeCluster, berth: Berth, name: str, spec: dict[str, object]) -> None:
    cluster.kubectl(
        "patch",
        "-n",
        berth.namespace,
        "csvc",
        name,
        "--type=merge",
        "-p",
        json.dumps({"spec": spec}),
    )


def test_kubectl_scale_changes_replicas_through_the_scale_subresource_without_downtime(
    cluster: KubeCluster, berth: Berth
) -> None:
    start(cluster, berth, "grow", scale=2)

    with AvailabilitySampler(berth, "grow") as sampler:
        cluster.kubectl("scale", "-n", berth.namespace, "csvc/grow", "--replicas=4")
        wait_for(lambda: berth.deployment("grow").spec.replicas == 4, what="4 replicas")
        status = wait_for(
            lambda: (
                (s := berth.status("grow"))["state"] == "RUNNING" and s["readyReplicas"] == 4 and s
            ),
            what="RUNNING with 4 ready",
        )

    assert status["monthlyPrice"] == 28
    assert min(sampler.samples) >= 2
    scale = berth.custom.get_namespaced_custom_object_scale(
        "berth.dev", "v1alpha1", berth.namespace, "containerservices", "grow"
    )
    assert scale["spec"]["replicas"] == 4
    assert scale["status"]["selector"] == "berth.dev/service=grow"


def test_power_change_is_updating_then_running_with_no_drop_in_available_replicas(
    cluster: KubeCluster, berth: Berth
) -> None:
    start(cluster, berth, "power", scale=3)

    with AvailabilitySampler(berth, "power") as sampler, StateRecorder(berth, "power") as seen:
        patch(cluster, berth, "power", {"power": "medium"})
        # A short UPDATING can fall between two polls; the watch sees every status written.
        wait_for(lambda: "UPDATING" in seen.states, what="UPDATING")
        wait_for(
            lambda: (s := berth.status("power"))["state"] == "RUNNING" and s["power"] == "medium",
            what="RUNNING on medium",
        )

    assert min(sampler.samples) >= 3
    resources = berth.deployment("power").spec.template.spec.resources
    assert resources.limits == {"cpu": "1", "memory": "2Gi"}
    assert berth.status("power")["monthlyPrice"] == 120
    assert berth.version_states("power") == {1: "ACTIVE"}


def test_an_unknown_power_is_a_condition_and_a_warning_and_pods_are_untouched(
    cluster: KubeCluster, berth: Berth
) -> None:
    start(cluster, berth, "typo")
    before = berth.deployment("typo")

    patch(cluster, berth, "typo", {"power": "huge"})

    status = wait_for(
        lambda: (
            (s := berth.status("typo")).get("stateDetail", {}).get("code") == "UNKNOWN_ERROR" and s
        ),
        what="unknown power reported",
    )
    conditions = {c["type"]: c for c in status["conditions"]}
    assert conditions["PowerResolved"]["status"] == "False"
    assert conditions["Stalled"]["reason"] == "PowerNotFound"
    assert "huge" in status["stateDetail"]["message"]
    # The Warning follows the status write that carries the condition.
    wait_for(lambda: any(e.type == "Warning" for e in berth.events("typo")), what="a Warning")
    after = berth.deployment("typo")
    assert after.metadata.generation == before.metadata.generation
    assert after.status.available_replicas == 2


def test_a_disabled_service_scales_to_zero_keeps_its_versions_and_comes_back(
    cluster: KubeCluster, berth: Berth
) -> None:
    start(cluster, berth, "nap")

    patch(cluster, berth, "nap", {"isDisabled": True})
    berth.wait_state("nap", "DISABLED")
    wait_for(lambda: berth.deployment("nap").status.replicas in (0, None), what="no pods")
    assert berth.deployment("nap").spec.replicas == 0
    assert berth.version_states("nap") == {1: "ACTIVE"}

    patch(cluster, berth, "nap", {"isDisabled": False})
    status = berth.wait_state("nap", "RUNNING")
    assert status["readyReplicas"] == 2


@pytest.mark.parametrize("kind", ["deployment", "service"])
def test_a_deleted_owned_object_is_restored(cluster: KubeCluster, berth: Berth, kind: str) -> None:
    start(cluster, berth, "heal")
    uid = (berth.deployment if kind == "deployment" else berth.kube_service)("heal").metadata.uid

    cluster.kubectl("delete", "-n", berth.namespace, kind, "heal")

    read = berth.deployment if kind == "deployment" else berth.kube_service
    wait_for(lambda: (o := read("heal")) is not None and o.metadata.uid != uid, what="restored")


def test_a_hand_edited_deployment_is_put_back(cluster: KubeCluster, berth: Berth) -> None:
    start(cluster, berth, "edit")

    cluster.kubectl("scale", "-n", berth.namespace, "deployment/edit", "--replicas=7")
    cluster.kubectl(
        "set", "image", "-n", berth.namespace, "deployment/edit", "web=evil/image:latest"
    )

    wait_for(
        lambda: (
            (d := berth.deployment("edit")).spec.replicas == 2
            and d.spec.template.spec.containers[0].image == "nginx:1.27"
        ),
        what="spec restored",
    )


def test_a_deployment_whose_managed_by_label_is_taken_off_gets_it_back_then_rests(
    cluster: KubeCluster, berth: Berth, operator: OperatorProcess
) -> None:
    """Off the label, the Deployment leaves the operator's watch (DELETED) though it lives on;
    the apply that puts the label back must be stored, or every reconcile would apply again."""
    start(cluster, berth, "unlabelled")
    uid = berth.deployment("unlabelled").metadata.uid

    cluster.kubectl("label", "-n", berth.namespace, "deployment/unlabelled", f"{MANAGED_BY_LABEL}-")

    wait_for(
        lambda: (berth.deployment("unlabelled").metadata.labels or {}).get(MANAGED_BY_LABEL),
        what="the label back",
    )
    assert berth.deployment("unlabelled").metadata.uid == uid
    before = wait_until_quiet(operator)
    labelled_and_reconciled(berth, operator, "unlabelled")
    assert operator.writes() == before


def test_deleting_a_service_removes_everything_it_owns(cluster: KubeCluster, berth: Berth) -> None:
    start(cluster, berth, "bye")
    apply(cluster, berth.namespace, version_manifest("bye-hand", "bye", web_content(V="2")))
    wait_for(lambda: berth.version_states("bye").get(2) == "ACTIVE", what="v2")

    # kubectl's default, a background deletion: the service goes at once, with no finalizer of
    # Berth's; its ACTIVE version's finalizer is let go once the service is gone.
    cluster.kubectl("delete", "-n", berth.namespace, "csvc", "bye", "--wait=false")

    wait_for(lambda: not berth.versions("bye"), what="versions gone")
    wait_for(lambda: berth.deployment("bye") is None, what="deployment gone")
    wait_for(lambda: berth.kube_service("bye") is None, what="service gone")
    assert "StateDeleting" not in {e.reason for e in berth.events("bye")}


def test_a_deletion_that_waits_for_what_the_service_owns_says_deleting(
    cluster: KubeCluster, berth: Berth
) -> None:
    start(cluster, berth, "fore")

    # A foreground deletion (the CLI's and the Lightsail API's) keeps the service until its
    # owned objects are gone; the ACTIVE version's finalizer holds it until Berth lets go.
    with StateRecorder(berth, "fore") as seen:
        cluster.kubectl(
            "delete", "-n", berth.namespace, "csvc", "fore", "--cascade=foreground", "--wait=false"
        )
        wait_for(seen.deleted.is_set, what="the service gone")

    assert "DELETING" in seen.states
    assert not berth.versions("fore")
    assert berth.deployment("fore") is None


def test_transitions_a_user_acts_on_are_events_and_the_rest_only_status(
    cluster: KubeCluster, berth: Berth
) -> None:
    start(cluster, berth, "story")

    def told() -> set[str]:
        """Reasons of the events about the service itself (not its Deployment's)."""
        return {
            e.reason for e in berth.events("story") if e.involved_object.kind == "ContainerService"
        }

    reasons = wait_for(lambda: (r := told()) >= {"StateRunning"} and r, what="events")
    assert reasons == {"VersionActive", "StateRunning"}


def test_operator_killed_mid_rollout_converges_without_duplicate_or_skipped_numbers(
    cluster: KubeCluster, berth: Berth, operator: OperatorProcess
) -> None:
    start(cluster, berth, "crash")
    manifests = [version_manifest(f"crash-{i}", "crash", web_content(N=str(i))) for i in range(5)]

    apply(cluster, berth.namespace, *manifests[:3])
    operator.kill()
    apply(cluster, berth.namespace, *manifests[3:])
    operator.restart()

    expected = {1: "INACTIVE", 2: "INACTIVE", 3: "INACTIVE", 4: "INACTIVE", 5: "INACTIVE"}
    wait_for(
        lambda: berth.version_states("crash") == {**expected, 6: "ACTIVE"},
        timeout=90,
        what="numbers 1-6, only v6 ACTIVE",
    )
    assert berth.wait_state("crash", "RUNNING")["currentDeployment"]["version"] == 6


def test_a_service_no_node_has_room_for_says_so_instead_of_waiting_for_health_checks(
    cluster: KubeCluster, berth: Berth
) -> None:
    # More CPUs than the kwok node has (1000): the scheduler finds no node for its pods.
    power = f"giant-{berth.namespace}"
    giant = {
        "apiVersion": "berth.dev/v1alpha1",
        "kind": "ContainerServicePower",
        "metadata": {"name": power},
        "spec": {"cpuCount": 1024, "ramSizeInGb": 1, "price": 9999},
    }
    cluster.kubectl("apply", "-f", "-", input=json.dumps(giant))
    try:
        apply(
            cluster,
            berth.namespace,
            service_manifest("giant", scale=1, power=power, deployment=web_content()),
        )

        def deploying_unschedulable() -> dict[str, Any] | None:
            status = berth.status("giant")
            message = (status.get("stateDetail") or {}).get("message") or ""
            deploying = status.get("state") == "DEPLOYING"
            return status if deploying and "cannot be scheduled" in message else None

        status = wait_for(
            deploying_unschedulable, what="the service to say its pod cannot be scheduled"
        )
        detail = status["stateDetail"]
        assert status["state"] == "DEPLOYING"
        assert detail["code"] == "CREATING_DEPLOYMENT"
        assert detail["message"].startswith("version 1: 1 pod cannot be scheduled: 0/1 nodes")
        assert "Insufficient cpu" in detail["message"]
        conditions = {c["type"]: c for c in status["conditions"]}
        assert conditions["PodsScheduled"]["status"] == "False"
        assert conditions["PodsScheduled"]["reason"] == "Unschedulable"
        version = berth.versions("giant")["giant-v1"]["status"]
        assert version["state"] == "ACTIVATING"
        assert "Insufficient cpu" in version["message"]
        wait_for(
            lambda: any(
                e.type == "Warning" and e.reason == "Unschedulable" for e in berth.events("giant")
            ),
            what="a Warning that the pod fits no node",
        )
        # Past the progress deadline the version fails, and says what held it back.
        wait_for(lambda: berth.version_states("giant") == {1: "FAILED"}, what="version 1 FAILED")
        failed = berth.versions("giant")["giant-v1"]["status"]["message"]
        assert failed.startswith("the rollout did not complete within the progress deadline: ")
        assert "cannot be scheduled" in failed and "Insufficient cpu" in failed
    finally:
        cluster.kubectl("delete", "cspower", power, "--wait=false", check=False)
