"""Small helpers for end-to-end tests: apply manifests, read Berth objects, wait, sample."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import kubernetes
import yaml
from prometheus_client.parser import text_string_to_metric_families

from devcluster import KubeCluster
from devcluster.operator_process import OperatorProcess

T = TypeVar("T")
GROUP, VERSION = "berth.dev", "v1alpha1"


def wait_for(probe: Callable[[], T | None], timeout: float = 60.0, what: str = "") -> T:
    """Poll until `probe` returns something truthy; fail with the last value otherwise."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(0.25)
    raise AssertionError(f"timed out after {timeout}s waiting for {what or probe}: last={last!r}")


def service_reconciles(operator: OperatorProcess) -> float:
    """ContainerService reconciles the operator finished so far, whatever their result: a
    positive sign that it looked, before a check that it did nothing."""
    return sum(
        sample.value
        for family in text_string_to_metric_families(operator.metrics())
        for sample in family.samples
        if sample.name == "berth_reconcile_total"
        and sample.labels.get("kind") == "ContainerService"
    )


def wait_until_quiet(operator: OperatorProcess, quiet: float = 3.0) -> dict[tuple[str, str], float]:
    """Writes once they stopped changing for `quiet` seconds (the operator has converged)."""
    last = operator.writes()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        time.sleep(quiet)
        now = operator.writes()
        if now == last:
            return now
        last = now
    raise AssertionError("the operator kept writing for 60 s")


def labelled_and_reconciled(berth: Berth, operator: OperatorProcess, name: str) -> dict[str, Any]:
    """Service `name` with a label the operator does not read: an event it must reconcile, and
    find nothing to do in. The labelled body, once that reconcile is done."""
    reconciled = service_reconciles(operator)
    labelled: dict[str, Any] = berth.custom.patch_namespaced_custom_object(
        GROUP, VERSION, berth.namespace, "containerservices", name,
        {"metadata": {"labels": {"team": "blue"}}},
    )  # fmt: skip
    wait_for(lambda: service_reconciles(operator) > reconciled, what="a reconcile of the label")
    return labelled


def apply(cluster: KubeCluster, namespace: str, *manifests: dict[str, Any]) -> None:
    text = yaml.safe_dump_all(manifests)
    cluster.kubectl("apply", "-n", namespace, "-f", "-", input=text)


def service_manifest(name: str, scale: int = 2, power: str = "nano", **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "ContainerService",
        "metadata": {"name": name},
        "spec": {"power": power, "scale": scale, **spec},
    }


def web_content(image: str = "nginx:1.27", port: int = 80, **env: str) -> dict[str, Any]:
    container: dict[str, Any] = {"image": image, "ports": {str(port): "HTTP"}}
    if env:
        container["environment"] = env
    return {
        "containers": {"web": container},
        "publicEndpoint": {"containerName": "web", "containerPort": port},
    }


def version_manifest(name: str, service: str, content: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "ContainerServiceDeployment",
        "metadata": {"name": name},
        "spec": {"serviceName": service, **content},
    }


class Berth:
    """Reads of Berth's kinds and the objects it owns, through the real API server."""

    def __init__(self, api: kubernetes.client.ApiClient, namespace: str) -> None:
        self.custom = kubernetes.client.CustomObjectsApi(api)
        self.apps = kubernetes.client.AppsV1Api(api)
        self.core = kubernetes.client.CoreV1Api(api)
        self.namespace = namespace

    def service(self, name: str) -> dict[str, Any]:
        found: dict[str, Any] = self.custom.get_namespaced_custom_object(
            GROUP, VERSION, self.namespace, "containerservices", name
        )
        return found

    def status(self, name: str) -> dict[str, Any]:
        return self.service(name).get("status") or {}

    def versions(self, service: str) -> dict[str, dict[str, Any]]:
        """Name → CSD, for one service."""
        items = self.custom.list_namespaced_custom_object(
            GROUP, VERSION, self.namespace, "containerservicedeployments"
        )["items"]
        return {i["metadata"]["name"]: i for i in items if i["spec"]["serviceName"] == service}

    def version_states(self, service: str) -> dict[int, str]:
        """Version number → state, numbered versions only."""
        return {
            v["status"]["version"]: v["status"].get("state", "")
            for v in self.versions(service).values()
            if (v.get("status") or {}).get("version")
        }

    def deployment(self, name: str) -> Any:
        try:
            return self.apps.read_namespaced_deployment(name, self.namespace)
        except kubernetes.client.ApiException as error:
            if error.status == 404:
                return None
            raise

    def kube_service(self, name: str) -> Any:
        try:
            return self.core.read_namespaced_service(name, self.namespace)
        except kubernetes.client.ApiException as error:
            if error.status == 404:
                return None
            raise

    def events(self, name: str) -> list[Any]:
        listed = self.core.list_namespaced_event(
            self.namespace, field_selector=f"involvedObject.name={name}"
        )
        return list(listed.items)

    def wait_state(self, name: str, state: str, timeout: float = 60.0) -> dict[str, Any]:
        return wait_for(
            lambda: (s := self.status(name)).get("state") == state and s,
            timeout,
            f"{name} to be {state}",
        )


class AvailabilitySampler:
    """Samples a Deployment's available replicas in the background, to catch any dip."""

    def __init__(self, berth: Berth, name: str, interval: float = 0.1) -> None:
        self.berth, self.name, self.interval = berth, name, interval
        self.samples: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            deployment = self.berth.deployment(self.name)
            if deployment is not None:
                self.samples.append(deployment.status.available_replicas or 0)
            time.sleep(self.interval)

    def __enter__(self) -> AvailabilitySampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(5)
