"""The embedded control plane behaves like a real cluster, kwok failure hooks included."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any, TypeVar

import kubernetes
import pytest

from devcluster import Cluster, ExternalCluster, KubeCluster
from devcluster.processes import wait_gone

pytestmark = pytest.mark.e2e

T = TypeVar("T")


def eventually(probe: Callable[[], T | None], timeout: float = 30.0, what: str = "it") -> T:
    """The first truthy result of `probe`, polled until `timeout` seconds have passed."""
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.2)


def apply(cluster: KubeCluster, namespace: str, manifest: dict[str, Any]) -> None:
    cluster.kubectl("apply", "-n", namespace, "-f", "-", input=json.dumps(manifest))


def deployment(name: str, image: str, replicas: int = 1) -> dict[str, Any]:
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "app", "image": image}]},
            },
        },
    }


def pods_of(kube_api: kubernetes.client.ApiClient, namespace: str, app: str) -> list[Any]:
    core = kubernetes.client.CoreV1Api(kube_api)
    return list(core.list_namespaced_pod(namespace, label_selector=f"app={app}").items)


def condition(obj: Any, kind: str) -> str | None:
    for cond in obj.status.conditions or []:
        if cond.type == kind:
            return str(cond.status)
    return None


@pytest.mark.timeout(60)
def test_version_endpoint_reports_the_pinned_kubernetes(
    cluster: KubeCluster, kube_api: kubernetes.client.ApiClient
) -> None:
    if isinstance(cluster, ExternalCluster):
        pytest.skip("an external cluster runs whatever version it runs")
    info = kubernetes.client.VersionApi(kube_api).get_code()
    assert info.git_version == "v1.36.3"


@pytest.mark.timeout(60)
def test_kwok_node_is_ready_and_schedulable(kube_api: kubernetes.client.ApiClient) -> None:
    nodes = kubernetes.client.CoreV1Api(kube_api).list_node(label_selector="type=kwok").items
    assert nodes
    for node in nodes:
        assert condition(node, "Ready") == "True"
        assert not node.spec.taints
        assert node.status.allocatable["pods"] == "10k"


@pytest.mark.timeout(60)
def test_deployment_of_three_replicas_becomes_available(
    cluster: KubeCluster, kube_api: kubernetes.client.ApiClient, namespace: str
) -> None:
    apply(cluster, namespace, deployment("web", "nginx:1.27", replicas=3))
    apps = kubernetes.client.AppsV1Api(kube_api)

    def available() -> bool:
        status = apps.read_namespaced_deployment("web", namespace).status
        return status.available_replicas == 3 and status.ready_replicas == 3

    eventually(available, what="3/3 available replicas")
    pods = pods_of(kube_api, namespace, "web")
    assert len(pods) == 3
    assert all(pod.status.phase == "Running" and pod.status.pod_ip for pod in pods)


@pytest.mark.timeout(60)
def test_deleting_an_owner_deletes_its_dependents(
    cluster: KubeCluster, kube_api: kubernetes.client.ApiClient, namespace: str
) -> None:
    core = kubernetes.client.CoreV1Api(kube_api)
    owner = core.create_namespaced_config_map(
        namespace, {"metadata": {"name": "owner"}, "data": {"role": "owner"}}
    )
    reference = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "name": "owner",
        "uid": owner.metadata.uid,
    }
    core.create_namespaced_config_map(
        namespace, {"metadata": {"name": "dependent", "ownerReferences": [reference]}}
    )

    cluster.kubectl("delete", "configmap", "owner", "-n", namespace, "--cascade=background")

    def dependent_gone() -> bool:
        names = [cm.metadata.name for cm in core.list_namespaced_config_map(namespace).items]
        return "dependent" not in names

    eventually(dependent_gone, what="the garbage collector to delete the dependent")


@pytest.mark.timeout(60)
def test_never_ready_image_runs_pods_that_never_become_ready(
    cluster: KubeCluster, kube_api: kubernetes.client.ApiClient, namespace: str
) -> None:
    apply(cluster, namespace, deployment("stuck", "example.invalid/never-ready:1"))

    def started_container() -> bool:
        pods = pods_of(kube_api, namespace, "stuck")
        return any(pod.status.container_statuses for pod in pods)

    eventually(started_container, what="a pod with container statuses")
    time.sleep(2)  # Give a wrong stage the chance to make it Ready after all.
    (pod,) = pods_of(kube_api, namespace, "stuck")
    assert pod.status.phase == "Running"
    assert condition(pod, "Ready") == "False"
    (container,) = pod.status.container_statuses
    assert container.started is True
    assert container.ready is False
    assert container.state.running is not None
    status = kubernetes.client.AppsV1Api(kube_api).read_namespaced_deployment("stuck", namespace)
    assert not status.status.available_replicas


@pytest.mark.timeout(60)
def test_crashloop_image_reports_crash_loop_back_off(
    cluster: KubeCluster, kube_api: kubernetes.client.ApiClient, namespace: str
) -> None:
    apply(cluster, namespace, deployment("crashy", "example.invalid/crashloop:1"))

    def waiting_container() -> Any:
        for pod in pods_of(kube_api, namespace, "crashy"):
            for container in pod.status.container_statuses or []:
                if container.state.waiting is not None:
                    return pod, container
        return None

    pod, container = eventually(waiting_container, what="a waiting container")
    assert container.state.waiting.reason == "CrashLoopBackOff"
    assert container.restart_count > 0
    assert container.last_state.terminated.exit_code != 0
    assert condition(pod, "Ready") == "False"


@pytest.mark.timeout(60)
def test_missing_image_reports_image_pull_back_off(
    cluster: KubeCluster, kube_api: kubernetes.client.ApiClient, namespace: str
) -> None:
    apply(cluster, namespace, deployment("pull", "registry.invalid/no-such-image:1"))

    def waiting_reason() -> str | None:
        for pod in pods_of(kube_api, namespace, "pull"):
            for container in pod.status.container_statuses or []:
                if container.state.waiting is not None:
                    return str(container.state.waiting.reason)
        return None

    assert eventually(waiting_reason, what="a waiting container") == "ImagePullBackOff"
    (pod,) = pods_of(kube_api, namespace, "pull")
    assert pod.status.phase == "Pending"
    assert condition(pod, "Ready") == "False"


@pytest.mark.timeout(120)
def test_stopped_cluster_leaves_no_process_behind() -> None:
    separate = Cluster(timeout=90)
    with separate:
        pids = list(separate.pids.values())
        data_dir = separate.data_dir
        assert len(pids) == 5
        assert separate.kubectl("get", "nodes").returncode == 0
    assert wait_gone(pids, timeout=5) == []
    assert not data_dir.exists()
